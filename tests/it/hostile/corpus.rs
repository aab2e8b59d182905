//! The hostile corpus: (target, input, expected SQLSTATE). `{dir}` in an input is the
//! test's private directory, where no file may ever appear.
//!
//! Targets: `pg`, `my`, `lite`, `duck`, `mongo` run the input as plain SQL on that
//! read-only connection; `pgrw`, `myrw` on a connection that allows writes, in a session
//! with `dbguru.allow_write = on` (files, locks and settings stay refused there);
//! `ask:<target>` has the scripted LLM answer `ASK … ON <target>` with the input inside
//! a `DATABASE:` block. `ok` expects success.

/// One hostile input.
pub struct Case {
    /// Where it goes (see the module docs).
    pub target: &'static str,
    /// The statement (`{dir}` replaced).
    pub input: String,
    /// Expected SQLSTATE, or `ok`.
    pub expect: &'static str,
}

fn huge(op: &str, term: &str, n: usize) -> String {
    let mut s = String::from("SELECT ");
    s.push_str(term);
    for _ in 0..n {
        s.push_str(op);
        s.push_str(term);
    }
    s
}

/// Every case, with `{dir}` replaced by `dir`.
pub fn corpus(dir: &str) -> Vec<Case> {
    let plus = huge("+", "1", 100_000);
    let concat = huge(" || ", "'x'", 100_000);
    let parens = |n: usize| format!("SELECT {}1{}", "(".repeat(n), ")".repeat(n));
    let ors = format!(
        "SELECT count(*) FROM customers WHERE id = 1{}",
        " OR id = 1".repeat(20_000)
    );
    let unions = format!("SELECT 1, 2{}", " UNION SELECT 1, 2".repeat(20_000));
    let casts = format!("SELECT 1{}", "::int".repeat(20_000));
    let arrays = format!("SELECT {}1{}", "ARRAY[".repeat(500), "]".repeat(500));
    let minuses = format!("SELECT {}1", "- ".repeat(80));
    let long_comment = format!("SELECT 1 /* {} */", "x".repeat(5 << 20));
    let long_string = format!("SELECT '{}'", "x".repeat(5 << 20));
    let in_list = format!(
        "SELECT count(*) FROM customers WHERE id IN ({})",
        (0..10_000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let commented_terms = format!("SELECT 1 -- {}\n", "+1".repeat(100_000));
    let mongo_ors = format!(
        "SELECT kind FROM events WHERE n = 1{}",
        " OR n = 1".repeat(500)
    );
    let q2x = "SELECT query_to_xml(E'select s\\x65t_config(''default_transaction_r\\x65ad_only'', ''off'', false)', true, true, '')";

    let mut v: Vec<(&'static str, String, &'static str)> = Vec::new();
    let mut add = |t: &'static str, s: &str, e: &'static str| v.push((t, s.to_string(), e));

    // --- Size and depth: bounded before parsing (54001 / 54000) -------------------------
    for t in [
        "pg",
        "my",
        "lite",
        "duck",
        "mongo",
        "ask:pg",
        "ask:my",
        "ask:lite",
        "ask:duck",
        "ask:mongo",
    ] {
        add(t, &plus, "54001");
    }
    for t in ["pg", "lite", "ask:pg"] {
        add(t, &concat, "54001");
    }
    for t in ["pg", "my", "duck", "ask:duck"] {
        add(t, &parens(1000), "54001");
    }
    add("pg", &parens(60), "54001"); // past sqlparser's own recursion bound
    add("lite", &parens(60), "54001");
    add("pg", &ors, "54001");
    add("duck", &unions, "54001");
    add("pg", &casts, "54001");
    add("pg", &arrays, "54001");
    add("pg", &minuses, "54001"); // past sqlparser's own recursion bound
    let joins = format!(
        "SELECT 1 FROM customers{}{}",
        " JOIN customers".repeat(2000),
        " ON TRUE".repeat(2000)
    );
    add("pg", &joins, "54001");
    add("ask:my", &joins, "54001");
    add(
        "pg",
        &format!("SELECT id{} FROM customers", "[1]".repeat(100_000)),
        "54001",
    );
    add("pg", &long_comment, "54000");
    add("my", &long_string, "54000");
    add("mongo", &mongo_ors, "54001"); // the MongoDB translator's tighter bound
    add("pg", &in_list, "ok");
    add("lite", &in_list, "ok");
    add("my", &commented_terms, "ok");
    add(
        "pg",
        &format!("SELECT 1 /* {} */", "+1".repeat(100_000)),
        "ok",
    );

    // --- Executable comments (42501 in every dialect) ------------------------------------
    for t in ["my", "myrw", "ask:my"] {
        add(
            t,
            "SELECT 1 /*M!100000 , LOAD_FILE('/etc/passwd') */",
            "42501",
        );
        add(t, "SELECT 1 /*M! INTO\tOUTFILE '{dir}/m1.txt' */", "42501");
    }
    add(
        "my",
        "SELECT 1 /*!50000 , LOAD_FILE('/etc/passwd') */",
        "42501",
    );
    add("my", "SELECT 1 /*! , LOAD_FILE('/etc/passwd') */", "42501");
    add("my", "SELECT 1 /*!INTO OUTFILE '{dir}/m2.txt'*/", "42501");
    add("my", "SELECT 1 /*!; DELETE FROM customers */", "42501");
    add("my", "SELECT 1 /*m!, 2 */", "42501");
    add("pg", "SELECT 1 /*!, 2 */", "42501");
    add("lite", "SELECT 1 /*M!, 2 */", "42501");
    add("duck", "SELECT 1 /*!50000 , 2 */", "42501");
    add("mongo", "SELECT kind FROM events /*!, 2 */", "42501");
    add(
        "my",
        "SELECT /*+ MAX_EXECUTION_TIME(1000) */ count(*) FROM customers",
        "ok",
    );
    add(
        "my",
        "SELECT count(*) FROM customers /* ! not executable */",
        "ok",
    );

    // --- INTO OUTFILE / DUMPFILE however it is spelled (42501) ---------------------------
    for (i, sep) in ["\t", "\n", "/**/", " -- c\n ", " # c\n ", "  \r\n\t "]
        .iter()
        .enumerate()
    {
        add(
            "my",
            &format!("SELECT * FROM customers INTO{sep}OUTFILE '{{dir}}/o{i}.txt'"),
            "42501",
        );
    }
    add(
        "my",
        "select * from customers into outfile '{dir}/o10.txt'",
        "42501",
    );
    add(
        "my",
        "SELECT name FROM customers LIMIT 1 INTO DUMPFILE '{dir}/d1.bin'",
        "42501",
    );
    add(
        "my",
        "SELECT * INTO OUTFILE '{dir}/o11.txt' FROM customers",
        "42501",
    );
    add(
        "myrw",
        "SELECT * FROM customers INTO OUTFILE '{dir}/o12.txt'",
        "42501",
    );
    add(
        "ask:my",
        "SELECT * FROM customers INTO\tOUTFILE '{dir}/o13.txt'",
        "42501",
    );
    add("my", "SELECT 'into outfile' AS x", "ok");

    // --- File, program and extension access ----------------------------------------------
    add("my", "SELECT LOAD_FILE('/etc/passwd')", "42501");
    add("my", "SELECT load_file/**/('/etc/passwd')", "42501");
    add("my", "SELECT `load_file`('/etc/passwd')", "42501");
    add("ask:my", "SELECT LOAD_FILE('/etc/passwd') AS f", "42501");
    add("pg", "SELECT pg_read_file('/etc/passwd')", "42501");
    add(
        "pg",
        "SELECT pg_catalog.pg_read_file('/etc/passwd')",
        "42501",
    );
    add("pg", "SELECT \"pg_read_file\"('/etc/passwd')", "42501");
    add("pg", "SELECT pg_read_binary_file('/etc/passwd')", "42501");
    add("pg", "SELECT * FROM pg_ls_dir('.')", "42501");
    add("pg", "SELECT lo_import('/etc/passwd')", "42501");
    add("pg", "SELECT lo_export(1, '{dir}/lo.txt')", "42501");
    add("pg", "COPY customers TO '{dir}/c.csv'", "42501");
    add("pg", "COPY customers TO PROGRAM 'touch {dir}/p1'", "42501");
    add("pg", "COPY customers TO\tPROGRAM 'touch {dir}/p2'", "42501");
    add("pg", "COPY (SELECT 1) TO program 'touch {dir}/p3'", "42501");
    add("pg", "COPY customers FROM PROGRAM 'id'", "42501");
    add(
        "pgrw",
        "COPY customers TO PROGRAM 'touch {dir}/p4'",
        "42501",
    );
    add("pgrw", "COPY customers FROM '/etc/passwd'", "42501");
    add(
        "ask:pg",
        "COPY customers TO PROGRAM 'touch {dir}/p5'",
        "42501",
    );
    add("duck", "SELECT * FROM '/etc/passwd'", "42501");
    add("duck", "SELECT * FROM read_csv('/etc/passwd')", "42501");
    add(
        "duck",
        "SELECT * FROM READ_CSV_AUTO('/etc/passwd')",
        "42501",
    );
    add("duck", "SELECT * FROM read_text('/etc/passwd')", "42501");
    add("duck", "SELECT * FROM read_blob('/etc/passwd')", "42501");
    add(
        "duck",
        "SELECT * FROM main.read_csv('/etc/passwd')",
        "42501",
    );
    add("duck", "SELECT * FROM \"/etc/passwd\"", "42501");
    add("duck", "SELECT * FROM glob('/etc/*')", "42501");
    add(
        "duck",
        "SELECT * FROM read_parquet('{dir}/x.parquet')",
        "42501",
    );
    add("duck", "SELECT getenv('HOME')", "42501");
    add("duck", "COPY customers TO '{dir}/d.csv'", "42501");
    add("duck", "COPY (SELECT 1) TO '{dir}/e.csv'", "42501");
    add("duck", "ATTACH '{dir}/x.db' AS x", "42501");
    add("duck", "INSTALL httpfs", "42501");
    add("duck", "LOAD httpfs", "42501");
    add("ask:duck", "SELECT * FROM '/etc/passwd'", "42501");
    add("ask:duck", "SELECT * FROM read_csv('/etc/passwd')", "42501");
    add("lite", "ATTACH DATABASE '{dir}/a.db' AS a", "42501");
    add("lite", "SELECT load_extension('/tmp/x')", "42501");
    add("lite", "SELECT readfile('/etc/passwd')", "42501");
    add("lite", "SELECT writefile('{dir}/w.txt', 'x')", "42501");
    add("lite", "PRAGMA writable_schema = 1", "42501");
    add("ask:lite", "ATTACH DATABASE '{dir}/b.db' AS b", "42501");

    // --- Functions that run SQL from a string, change settings, or act on the server ---
    for t in ["pg", "pgrw", "ask:pg"] {
        add(t, q2x, "42501");
        add(
            t,
            "SELECT set_config('default_transaction_read_only', 'off', false)",
            "42501",
        );
    }
    add(
        "pg",
        "SELECT query_to_xml('select 1', true, true, '')",
        "42501",
    );
    add(
        "pg",
        "SELECT query_to_xmlschema('select 1', true, true, '')",
        "42501",
    );
    add(
        "pg",
        "SELECT query_to_xml_and_xmlschema('select 1', true, true, '')",
        "42501",
    );
    add(
        "pg",
        "SELECT cursor_to_xml('c', 1, true, true, '')",
        "42501",
    );
    add(
        "pg",
        "SELECT table_to_xml('customers', true, true, '')",
        "42501",
    );
    add(
        "pg",
        "SELECT schema_to_xml('public', true, true, '')",
        "42501",
    );
    add("pg", "SELECT database_to_xml(true, true, '')", "42501");
    add(
        "pg",
        "SELECT pg_catalog.set_config('default_transaction_read_only', 'off', false)",
        "42501",
    );
    add(
        "pg",
        "SELECT \"set_config\"('default_transaction_read_only', 'off', false)",
        "42501",
    );
    add(
        "pg",
        "SELECT SET_CONFIG('default_transaction_read_only', 'off', false)",
        "42501",
    );
    add(
        "pg",
        "SELECT pg_catalog . set_config ('a.b', 'c', false)",
        "42501",
    );
    add("pg", "SELECT set_config/**/('a.b', 'c', false)", "42501");
    add(
        "pg",
        "SELECT U&\"\\0073et_config\"('a.b', 'c', false)",
        "42501",
    );
    add(
        "pg",
        "SELECT * FROM dblink('dbname=postgres', 'select 1') AS t(a int)",
        "42501",
    );
    add(
        "pg",
        "SELECT dblink_exec('dbname=postgres', 'delete from customers')",
        "42501",
    );
    add("pg", "SELECT ts_stat('select 1')", "42501");
    add("pg", "SELECT pg_reload_conf()", "42501");
    add(
        "pg",
        "SELECT pg_terminate_backend(pg_backend_pid())",
        "42501",
    );
    add("pg", "SELECT pg_cancel_backend(1)", "42501");
    add("pg", "SELECT pg_stat_reset()", "42501");
    add("pg", "SELECT pg_stat_reset_shared('bgwriter')", "42501");
    add("pg", "SELECT pg_notify('c', 'x')", "42501");
    add(
        "pg",
        "SELECT pg_logical_emit_message(true, 'p', 'x')",
        "42501",
    );
    add("pg", "SELECT pg_replication_origin_create('o')", "42501");
    add("pg", "SELECT txid_current()", "25006");
    add("pg", "SELECT pg_current_xact_id()", "25006");
    add("pg", "SELECT nextval('customers_id_seq')", "25006");
    add("pg", "SELECT setval('customers_id_seq', 100)", "25006");
    add("pg", "SELECT pg_sleep(0.01)", "ok");
    add("my", "SELECT BENCHMARK(1000000, MD5('x'))", "42501");
    add("my", "SELECT SLEEP(0)", "ok");

    // --- Advisory and named locks (42501) --------------------------------------------------
    for f in [
        "pg_advisory_lock(42)",
        "pg_try_advisory_lock(42)",
        "pg_advisory_xact_lock(42)",
        "pg_try_advisory_xact_lock_shared(42)",
        "pg_advisory_lock_shared(42)",
        "PG_CATALOG.PG_TRY_ADVISORY_LOCK(42)",
        "pg_advisory_unlock_all()",
    ] {
        add("pg", &format!("SELECT {f}"), "42501");
    }
    add("pgrw", "SELECT pg_try_advisory_lock(42)", "42501");
    add("ask:pg", "SELECT pg_try_advisory_lock(42)", "42501");
    for f in [
        "GET_LOCK('hostile', 10)",
        "get_lock ('hostile', 10)",
        "RELEASE_LOCK('hostile')",
        "RELEASE_ALL_LOCKS()",
        "IS_FREE_LOCK('hostile')",
        "IS_USED_LOCK('hostile')",
    ] {
        add("my", &format!("SELECT {f}"), "42501");
    }
    add("myrw", "SELECT GET_LOCK('hostile', 10)", "42501");
    add("ask:my", "SELECT GET_LOCK('hostile', 10)", "42501");

    // --- Writes in read-only sessions (25006) ---------------------------------------------
    for s in [
        "DELETE FROM customers",
        "UPDATE customers SET name = 'x'",
        "INSERT INTO customers VALUES (9, 'x', 'x', 1)",
        "WITH d AS (DELETE FROM customers RETURNING *) SELECT * FROM d",
        "SELECT * FROM customers FOR UPDATE",
        "SELECT * INTO t2 FROM customers",
        "CREATE TABLE t3 (a int)",
        "DROP TABLE customers",
        "TRUNCATE customers",
        "EXPLAIN ANALYZE DELETE FROM customers",
    ] {
        add("pg", s, "25006");
    }
    add("my", "DELETE FROM customers", "25006");
    add(
        "my",
        "UPDATE customers SET name = 'x' WHERE id = 1",
        "25006",
    );
    add("lite", "DELETE FROM customers", "25006");
    add(
        "lite",
        "INSERT OR REPLACE INTO customers VALUES (9, 'x', 'x', 1)",
        "25006",
    );
    add("duck", "DELETE FROM customers", "25006");
    add("duck", "CREATE TABLE x AS SELECT 1", "25006");
    add("mongo", "DELETE FROM events", "25006");
    add("ask:pg", "DELETE FROM customers", "25006");
    add("ask:lite", "UPDATE customers SET name = 'x'", "25006");
    add(
        "ask:duck",
        "INSERT INTO customers VALUES (9, 'x', 'x', 1)",
        "25006",
    );
    add("ask:my", "DROP TABLE customers", "25006");

    // --- Statement kinds never allowed (42501) ---------------------------------------------
    add("pg", "PREPARE p AS DELETE FROM customers", "42501");
    add("pg", "EXECUTE p", "42501");
    add("pg", "LISTEN x", "42501");
    add("pg", "LOCK TABLE customers", "42501");
    add("pg", "CALL p()", "42501");
    add("pg", "ALTER SYSTEM SET work_mem = '1MB'", "42501");
    add("pg", "CREATE EXTENSION dblink", "42501");
    add("pgrw", "GRANT ALL ON customers TO PUBLIC", "42501");
    add(
        "pg",
        "DO $$ BEGIN PERFORM set_config('a.b', 'c', false); END $$",
        "42501",
    );
    add(
        "my",
        "LOAD DATA INFILE '/etc/passwd' INTO TABLE customers",
        "42501",
    );
    add(
        "myrw",
        "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE customers",
        "42501",
    );
    add("duck", "EXPORT DATABASE '{dir}/export'", "42501");
    add(
        "pgrw",
        "CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql",
        "42501",
    );

    // --- Multi-statement smuggling ---------------------------------------------------------
    add("pg", "SELECT 1; DELETE FROM customers", "25006");
    add("pg", "SELECT 1;;; DELETE FROM customers", "25006");
    add("pg", "SELECT 'a\\'; DELETE FROM customers; --'", "25006");
    add("my", "SELECT 1 #; DELETE FROM customers", "25006");
    add(
        "lite",
        "SELECT 1; ATTACH DATABASE '{dir}/s.db' AS s",
        "42501",
    );
    add("ask:pg", "SELECT 1; DELETE FROM customers", "42601");
    add("ask:pg", "SELECT $$;$$; DELETE FROM customers", "42601");
    add(
        "ask:my",
        "SELECT 'a\\'; DELETE FROM customers; -- '",
        "42601",
    );
    add(
        "ask:my",
        "SELECT \"a\\\"; DELETE FROM customers; -- \"",
        "42601",
    );
    add("ask:lite", "SELECT 1; DROP TABLE customers", "42601");
    add("ask:duck", "SELECT 1;\nDELETE FROM customers", "42601");
    add(
        "ask:pg",
        "SELECT 1 /* x */; DELETE FROM customers -- y",
        "42601",
    );

    // --- Comment, quote and dollar-quote tricks that are plain reads (ok) ----------------
    add("pg", "SELECT $$; DELETE FROM customers; $$ AS x", "ok");
    add("pg", "SELECT $a$ $$; DELETE FROM customers $a$ AS x", "ok");
    add("pg", "SELECT 1 /* ; DELETE FROM customers */", "ok");
    add(
        "pg",
        "SELECT 'set_config(1)' AS s, 'into outfile' AS t",
        "ok",
    );
    add("pg", "SELECT 1 AS \"pg_read_file\"", "ok");
    add(
        "pg",
        "SELECT count(*) FROM customers -- set_config('a','b',false)",
        "ok",
    );
    add("pg", "/* leading */ SELECT count(*) FROM customers", "ok");
    add("my", "SELECT 1 -- ; DELETE FROM customers", "ok");
    add("my", "SELECT 1--1", "ok");
    add("my", "SELECT 'a;b', \"c;d\" -- e;f", "ok");

    // --- Valid read-only forms (ok) -------------------------------------------------------
    for t in [
        "pg", "my", "lite", "duck", "ask:pg", "ask:lite", "ask:my", "ask:duck",
    ] {
        add(t, "TABLE customers", "ok");
    }
    add("pg", "table public.customers", "ok");
    add("pg", "VALUES (1), (2)", "ok");
    add("lite", "VALUES (1)", "ok");
    for t in ["pg", "my", "duck", "lite"] {
        add(
            t,
            "WITH c AS (SELECT * FROM customers) SELECT count(*) FROM c",
            "ok",
        );
    }
    add("pg", "EXPLAIN SELECT * FROM customers", "ok");
    add("my", "EXPLAIN SELECT * FROM customers", "ok");
    add("mongo", "SELECT count(*) FROM events", "ok");

    // --- MongoDB pipelines ------------------------------------------------------------------
    for t in ["mongo", "ask:mongo"] {
        add(
            t,
            r#"{"collection": "events", "pipeline": [{"$out": "copy"}]}"#,
            "42501",
        );
    }
    add(
        "mongo",
        r#"{"collection": "events", "pipeline": [{"$merge": {"into": "x"}}]}"#,
        "42501",
    );
    add(
        "mongo",
        r#"{"collection": "events", "pipeline": [{"$match": {"$where": "sleep(100)"}}]}"#,
        "42501",
    );
    add(
        "mongo",
        r#"{"collection": "events", "pipeline": [{"$lookup": {"from": "x", "pipeline": [{"$out": "y"}], "as": "z"}}]}"#,
        "42501",
    );

    v.into_iter()
        .map(|(target, input, expect)| Case {
            target,
            input: input.replace("{dir}", dir),
            expect,
        })
        .collect()
}
