"""Catalog engine measurement (BENCHMARKS.md): the nine client constructs of issue 11 and
two queries both engines answer, each run 20 times on one connection; prints ok/0A000 and
the median latency. Usage: measure.py PORT"""
import statistics, sys, time
import psycopg2

port = sys.argv[1]
c = psycopg2.connect(host="127.0.0.1", port=port, user="guru", dbname="dbguru", sslmode="disable")
c.autocommit = True
cur = c.cursor()
cur.execute("SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'shop' AND c.relname = 'orders'")
oid = cur.fetchone()[0]
Q = {
    "unnest(indkey)+generate_subscripts": f"SELECT ix.indexrelid, unnest(ix.indkey) AS attnum, generate_subscripts(ix.indkey, 1) AS ord FROM pg_catalog.pg_index ix WHERE ix.indrelid = {oid}",
    "= ANY(ix.indkey)": f"SELECT a.attname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_index ix ON a.attrelid = ix.indrelid AND a.attnum = ANY(ix.indkey) WHERE ix.indrelid = {oid} AND ix.indisprimary",
    "array_agg(... ORDER BY ...)": f"SELECT con.conname, array_agg(a.attname ORDER BY a.attnum) FROM pg_catalog.pg_constraint con JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = ANY(con.conkey) WHERE con.conrelid = {oid} GROUP BY con.conname",
    "(_pg_expandarray(indkey)).n": f"SELECT (information_schema._pg_expandarray(i.indkey)).n AS key_seq FROM pg_catalog.pg_index i WHERE i.indrelid = {oid} AND i.indisprimary",
    "generate_series pos(n) + confkey[pos.n]": f"SELECT pos.n, con.confkey[pos.n] FROM pg_catalog.pg_constraint con, pg_catalog.generate_series(1, 32) pos(n) WHERE con.conrelid = {oid} AND con.contype = 'f' AND con.confkey[pos.n] IS NOT NULL",
    "'array_in'::regproc": "SELECT t.typname FROM pg_catalog.pg_type t WHERE t.typinput = 'pg_catalog.array_in'::regproc LIMIT 3",
    "current_schemas(false)[s.r]": "SELECT (current_schemas(false))[s.r] AS nspname, s.r FROM generate_series(1, array_upper(current_schemas(false), 1)) AS s(r)",
    "regexp_split_to_table": "SELECT regexp_split_to_table(n.nspname, '_') AS word FROM pg_catalog.pg_namespace n",
    "relkind = ANY('{r,p,\"\"}')": "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'shop' AND c.relkind = ANY('{r,p,\"\"}')",
    "[both] psql \\dt shop.*": "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','') AND n.nspname OPERATOR(pg_catalog.~) '^(shop)$' COLLATE pg_catalog.default ORDER BY 1,2",
    "[both] information_schema.columns": "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'shop' ORDER BY table_name, ordinal_position",
}
for name, sql in Q.items():
    times, status = [], "ok"
    for _ in range(20):
        t0 = time.perf_counter()
        try:
            cur.execute(sql)
            rows = cur.fetchall()
        except psycopg2.Error as e:
            status = f"{e.pgcode}"
            break
        times.append((time.perf_counter() - t0) * 1000)
    med = f"{statistics.median(times):.1f} ms" if times else "-"
    print(f"| {name} | {status} | {med} |")
