//! The federated schema as a PostgreSQL catalog (issue 3, item 2): every connection a user
//! may use is a schema; real clients browse it.
//!
//! Fixture: a SQLite connection `shop` (customers, orders) and a DuckDB connection
//! `warehouse` (dim_customer, fact_sales) behind the proxy started in-process; the trusted
//! user `guru` may use both, `clerk` only `shop`.
//!
//! - psql 15 (`common::pg_bin_dir()`): `\dn`, `\dt shop.*`, `\d shop.orders`, `\dt`, `\d+`,
//!   `\di`, `\l`, run for real and their output checked.
//! - The exact SQL psql 15 and pgJDBC 42.5 send for those (captured with `psql -E` and
//!   `log_statement=all` against PostgreSQL 15), run with tokio-postgres.
//! - pgJDBC `DatabaseMetaData.getSchemas/getTables/getColumns`, a Java program compiled with
//!   javac at test time.
//! - `information_schema.schemata/tables/columns`, SQLAlchemy's has-table check (psycopg2's
//!   inlined form and psycopg 3's bound-parameter form), errors (0A000, session usable).
//! - Unit checks of the type mapping and the translation, without a proxy.

use crate::common;

use std::path::PathBuf;
use std::process::Stdio;

use common::*;
use dbguru::backends::{ColumnInfo, SchemaInfo, TableInfo};
use dbguru::pgtypes::PgType;
use dbguru::wire::catalog::{self, CatalogSchema};

const SHOP_SQL: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, country VARCHAR(50), created_at TIMESTAMP);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
  amount DECIMAL(10,2), ordered_on DATE, status TEXT, paid BOOLEAN);
INSERT INTO customers VALUES (1, 'ann', 'DE', '2024-01-01 10:00:00'), (2, 'bob', 'FR', '2024-02-01 11:00:00');
INSERT INTO orders VALUES (1, 1, 10.50, '2024-03-01', 'shipped', 1), (2, 2, 20.25, '2024-03-02', 'open', 0);
";

const WAREHOUSE_SQL: &str = "
CREATE TABLE dim_customer (customer_id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, country VARCHAR);
CREATE TABLE fact_sales (sale_id BIGINT PRIMARY KEY, customer_id INTEGER, total DOUBLE, day DATE, qty SMALLINT);
INSERT INTO dim_customer VALUES (1, 'ann', 'DE');
INSERT INTO fact_sales VALUES (1, 1, 99.5, DATE '2024-03-01', 2);
";

struct Fixture {
    proxy: Proxy,
    dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = temp_dir();
    let shop = sqlite_file(dir.path(), "shop.sqlite", SHOP_SQL);
    let warehouse = duckdb_file(dir.path(), "warehouse.duckdb", WAREHOUSE_SQL);
    let extra = format!(
        "{}{}[[users]]\nname = \"clerk\"\nauth = \"trust\"\nconnections = [\"shop\"]\n\n",
        file_connection_toml("shop", "sqlite", &shop),
        file_connection_toml("warehouse", "duckdb", &warehouse),
    );
    let proxy = start_proxy(&base_config(&extra)).await;
    Fixture { proxy, dir }
}

impl Fixture {
    /// Runs psql (`-X -A -F |`, headers on) as `user` with `args`; panics on failure.
    fn psql(&self, user: &str, args: &[&str]) -> String {
        self.psql_with_input(user, args, None)
    }

    /// Like [`Fixture::psql`], with `input` on stdin.
    fn psql_with_input(&self, user: &str, args: &[&str], input: Option<&str>) -> String {
        let bin = pg_bin_dir().unwrap_or_else(|e| panic!("{e}")).join("psql");
        assert!(
            bin.is_file(),
            "{} missing: install the Debian package postgresql-client-15",
            bin.display()
        );
        let conninfo = format!(
            "host=127.0.0.1 port={} user={user} dbname=dbguru sslmode=disable",
            self.proxy.addr.port()
        );
        let out = std::process::Command::new(&bin)
            .arg("-X")
            .arg("-A")
            .arg("-F")
            .arg("|")
            .arg("-v")
            .arg("ON_ERROR_STOP=1")
            .arg("-d")
            .arg(&conninfo)
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
                    use std::io::Write;
                    stdin.write_all(text.as_bytes())?;
                }
                child.wait_with_output()
            })
            .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            out.status.success() && !stderr.contains("ERROR"),
            "psql {args:?} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            out.status
        );
        stdout
    }
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

// ---------------------------------------------------------------------------------------
// psql for real
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_lists_schemas() {
    let f = fixture().await;
    let out = f.psql("guru", &["-c", "\\dn"]);
    let l = lines(&out);
    assert_eq!(l[0], "List of schemas", "{out}");
    assert_eq!(l[1], "Name|Owner", "{out}");
    assert_eq!(
        &l[2..5],
        ["dbguru|dbguru", "shop|dbguru", "warehouse|dbguru"],
        "{out}"
    );
    assert_eq!(l[5], "(3 rows)", "{out}");

    // Only the connections the user may use.
    let out = f.psql("clerk", &["-c", "\\dn"]);
    assert_eq!(
        &lines(&out)[2..5],
        ["dbguru|dbguru", "shop|dbguru", "(2 rows)"],
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_lists_tables_of_a_schema_and_of_all() {
    let f = fixture().await;
    let out = f.psql("guru", &["-c", "\\dt shop.*"]);
    assert_eq!(
        lines(&out),
        [
            "List of relations",
            "Schema|Name|Type|Owner",
            "shop|customers|table|dbguru",
            "shop|orders|table|dbguru",
            "(2 rows)"
        ],
        "{out}"
    );
    let out = f.psql("guru", &["-c", "\\dt warehouse.f*"]);
    assert_eq!(
        lines(&out)[2..],
        ["warehouse|fact_sales|table|dbguru", "(1 row)"],
        "{out}"
    );

    // No pattern: every schema's tables.
    let out = f.psql("guru", &["-c", "\\dt"]);
    for t in [
        "shop|customers|table",
        "shop|orders|table",
        "warehouse|dim_customer|table",
        "warehouse|fact_sales|table",
        "dbguru|sessions|table",
    ] {
        assert!(out.contains(t), "\\dt lacks {t}:\n{out}");
    }
    let out = f.psql("clerk", &["-c", "\\dt"]);
    assert!(
        !out.contains("warehouse"),
        "clerk may not use warehouse:\n{out}"
    );

    // A pattern without schema, and one that matches nothing.
    let out = f.psql("guru", &["-c", "\\dt orders"]);
    assert_eq!(
        lines(&out)[2..],
        ["shop|orders|table|dbguru", "(1 row)"],
        "{out}"
    );
    let out = f.psql("guru", &["-c", "\\dt shop.nothing*"]);
    assert!(
        out.contains("Did not find any relation")
            || out.trim().is_empty()
            || out.contains("(0 rows)"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_describes_a_table() {
    let f = fixture().await;
    let out = f.psql("guru", &["-c", "\\d shop.orders"]);
    assert_eq!(
        lines(&out),
        [
            "Table \"shop.orders\"",
            "Column|Type|Collation|Nullable|Default",
            "id|integer||not null|",
            "customer_id|integer||not null|",
            "amount|numeric(10,2)|||",
            "ordered_on|date|||",
            "status|text|||",
            "paid|boolean|||",
            "Indexes:",
            "    \"orders_pkey\" PRIMARY KEY, btree (id)",
            // The source's foreign key, as PostgreSQL prints it.
            "Foreign-key constraints:",
            "    \"orders_customer_id_fkey\" FOREIGN KEY (customer_id) REFERENCES shop.customers(id)",
        ],
        "{out}"
    );

    // A DuckDB table, in its own PostgreSQL types.
    let out = f.psql("guru", &["-c", "\\d warehouse.fact_sales"]);
    let l = lines(&out);
    assert_eq!(l[0], "Table \"warehouse.fact_sales\"", "{out}");
    assert_eq!(
        &l[2..7],
        [
            "sale_id|bigint||not null|",
            "customer_id|integer|||",
            "total|double precision|||",
            "day|date|||",
            "qty|smallint|||"
        ],
        "{out}"
    );

    // \d+ (storage, descriptions, access method) and every relation of a schema (indexes too).
    let out = f.psql("guru", &["-c", "\\d+ shop.customers"]);
    assert!(out.contains("name|text||not null||extended|||"), "{out}");
    assert!(out.contains("Access method: heap"), "{out}");
    let out = f.psql("guru", &["-c", "\\d shop.*"]);
    assert!(out.contains("Table \"shop.customers\""), "{out}");
    assert!(out.contains("Index \"shop.orders_pkey\""), "{out}");
    assert!(
        out.contains("primary key, btree, for table \"shop.orders\""),
        "{out}"
    );

    let out = f.psql("guru", &["-c", "\\di shop.*"]);
    assert!(
        out.contains("shop|orders_pkey|index|dbguru|orders"),
        "{out}"
    );
    // \gdesc: Describe, then psql's format_type() query over VALUES.
    let out = f.psql_with_input(
        "guru",
        &["-t", "-f", "-"],
        Some("SELECT id, name, 1.5 AS x FROM customers \\gdesc\n"),
    );
    assert_eq!(
        lines(&out),
        ["id|bigint", "name|text", "x|double precision"],
        "{out}"
    );
    let out = f.psql("guru", &["-c", "\\l"]);
    assert!(out.contains("dbguru|dbguru|UTF8"), "{out}");
    let out = f.psql("guru", &["-c", "\\du"]);
    assert!(out.contains("dbguru||{}"), "{out}");
    for cmd in [
        "\\d",
        "\\dv",
        "\\df",
        "\\dT",
        "\\ds",
        "\\dt+ shop.*",
        "\\di+",
    ] {
        f.psql("guru", &["-c", cmd]);
    }
    let out = f.psql("guru", &["-c", "\\dn+"]);
    assert!(out.contains("shop|dbguru||"), "{out}");

    // An unknown table: psql's own message, no error from the proxy.
    let bin = pg_bin_dir().expect("pg bin").join("psql");
    let out = std::process::Command::new(bin)
        .args([
            "-X",
            "-d",
            &format!(
                "host=127.0.0.1 port={} user=guru dbname=dbguru sslmode=disable",
                f.proxy.addr.port()
            ),
        ])
        .args(["-c", "\\d shop.nothing"])
        .output()
        .expect("psql");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Did not find any relation named \"shop.nothing\""),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------
// The raw SQL of psql 15 and pgJDBC
// ---------------------------------------------------------------------------------------

/// psql 15 `\dn`.
const PSQL_DN: &str = "SELECT n.nspname AS \"Name\",
  pg_catalog.pg_get_userbyid(n.nspowner) AS \"Owner\"
FROM pg_catalog.pg_namespace n
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY 1;";

/// psql 15 `\dt shop.*`.
const PSQL_DT_SHOP: &str = "SELECT n.nspname as \"Schema\",
  c.relname as \"Name\",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as \"Type\",
  pg_catalog.pg_get_userbyid(c.relowner) as \"Owner\"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','t','s','')
  AND n.nspname OPERATOR(pg_catalog.~) '^(shop)$' COLLATE pg_catalog.default
ORDER BY 1,2;";

/// psql 15 `\dt` (no pattern).
const PSQL_DT: &str = "SELECT n.nspname as \"Schema\",
  c.relname as \"Name\",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as \"Type\",
  pg_catalog.pg_get_userbyid(c.relowner) as \"Owner\"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;";

/// psql 15 `\d shop.orders`, first query: the table's OID.
const PSQL_D_FIND: &str = "SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(orders)$' COLLATE pg_catalog.default
  AND n.nspname OPERATOR(pg_catalog.~) '^(shop)$' COLLATE pg_catalog.default
ORDER BY 2, 3;";

/// psql 15 `\d`, the table's flags (`{oid}` replaced).
const PSQL_D_TABLE: &str = "SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, '', c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, c.relreplident, am.amname
FROM pg_catalog.pg_class c
 LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)
LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)
WHERE c.oid = '{oid}';";

/// psql 15 `\d`, the columns.
const PSQL_D_COLUMNS: &str = "SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull,
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
  a.attidentity,
  a.attgenerated
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = '{oid}' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;";

/// psql 15 `\d`, the indexes.
const PSQL_D_INDEXES: &str = "SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),
  pg_catalog.pg_get_constraintdef(con.oid, true), contype, condeferrable, condeferred, i.indisreplident, c2.reltablespace
FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i
  LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
WHERE c.oid = '{oid}' AND c.oid = i.indrelid AND i.indexrelid = c2.oid
ORDER BY i.indisprimary DESC, c2.relname;";

/// psql 15 `\d`, row-level policies (always none here).
const PSQL_D_POLICIES: &str = "SELECT pol.polname, pol.polpermissive,
  CASE WHEN pol.polroles = '{0}' THEN NULL ELSE pg_catalog.array_to_string(array(select rolname from pg_catalog.pg_roles where oid = any (pol.polroles) order by 1),',') END,
  pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
  pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid),
  CASE pol.polcmd
    WHEN 'r' THEN 'SELECT'
    WHEN 'a' THEN 'INSERT'
    WHEN 'w' THEN 'UPDATE'
    WHEN 'd' THEN 'DELETE'
    END AS cmd
FROM pg_catalog.pg_policy pol
WHERE pol.polrelid = '{oid}' ORDER BY 1;";

/// psql 15 `\d`, extended statistics (always none here).
const PSQL_D_STATISTICS: &str = "SELECT oid, stxrelid::pg_catalog.regclass, stxnamespace::pg_catalog.regnamespace::pg_catalog.text AS nsp, stxname,
pg_catalog.pg_get_statisticsobjdef_columns(oid) AS columns,
  'd' = any(stxkind) AS ndist_enabled,
  'f' = any(stxkind) AS deps_enabled,
  'm' = any(stxkind) AS mcv_enabled,
stxstattarget
FROM pg_catalog.pg_statistic_ext
WHERE stxrelid = '{oid}'
ORDER BY nsp, stxname;";

/// psql 15 `\d`, publications (always none here).
const PSQL_D_PUBLICATIONS: &str = "SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid
     JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.pnnspid
WHERE pc.oid ='{oid}' and pg_catalog.pg_relation_is_publishable('{oid}')
UNION
SELECT pubname
     , pg_get_expr(pr.prqual, c.oid)
     , (CASE WHEN pr.prattrs IS NOT NULL THEN
         (SELECT string_agg(attname, ', ')
           FROM pg_catalog.generate_series(0, pg_catalog.array_upper(pr.prattrs::pg_catalog.int2[], 1)) s,
                pg_catalog.pg_attribute
          WHERE attrelid = pr.prrelid AND attnum = prattrs[s])
        ELSE NULL END) FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid
     JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
WHERE pr.prrelid = '{oid}'
UNION
SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
WHERE p.puballtables AND pg_catalog.pg_relation_is_publishable('{oid}')
ORDER BY 1;";

/// psql 15 `\d`, inheritance parents and children (always none here).
const PSQL_D_INHERITS: &str = "SELECT c.oid::pg_catalog.regclass
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhparent AND i.inhrelid = '{oid}'
  AND c.relkind != 'p' AND c.relkind != 'I'
ORDER BY inhseqno;";
const PSQL_D_CHILDREN: &str = "SELECT c.oid::pg_catalog.regclass, c.relkind, inhdetachpending, pg_catalog.pg_get_expr(c.relpartbound, c.oid)
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhrelid AND i.inhparent = '{oid}'
ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', c.oid::pg_catalog.regclass::pg_catalog.text;";

/// pgJDBC 42.5 `getSchemas()`.
const JDBC_SCHEMAS: &str = "SELECT nspname AS TABLE_SCHEM, NULL AS TABLE_CATALOG FROM pg_catalog.pg_namespace  WHERE nspname <> 'pg_toast' AND (nspname !~ '^pg_temp_'  OR nspname = (pg_catalog.current_schemas(true))[1]) AND (nspname !~ '^pg_toast_temp_'  OR nspname = replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_'))  ORDER BY TABLE_SCHEM";

/// pgJDBC 42.5 `getTables(null, "shop", "%", new String[]{"TABLE"})`.
const JDBC_TABLES: &str = "SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME,  CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema'  WHEN true THEN CASE  WHEN n.nspname = 'pg_catalog' OR n.nspname = 'information_schema' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TABLE'   WHEN 'v' THEN 'SYSTEM VIEW'   WHEN 'i' THEN 'SYSTEM INDEX'   ELSE NULL   END  WHEN n.nspname = 'pg_toast' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TOAST TABLE'   WHEN 'i' THEN 'SYSTEM TOAST INDEX'   ELSE NULL   END  ELSE CASE c.relkind   WHEN 'r' THEN 'TEMPORARY TABLE'   WHEN 'p' THEN 'TEMPORARY TABLE'   WHEN 'i' THEN 'TEMPORARY INDEX'   WHEN 'S' THEN 'TEMPORARY SEQUENCE'   WHEN 'v' THEN 'TEMPORARY VIEW'   ELSE NULL   END  END  WHEN false THEN CASE c.relkind  WHEN 'r' THEN 'TABLE'  WHEN 'p' THEN 'PARTITIONED TABLE'  WHEN 'i' THEN 'INDEX'  WHEN 'P' then 'PARTITIONED INDEX'  WHEN 'S' THEN 'SEQUENCE'  WHEN 'v' THEN 'VIEW'  WHEN 'c' THEN 'TYPE'  WHEN 'f' THEN 'FOREIGN TABLE'  WHEN 'm' THEN 'MATERIALIZED VIEW'  ELSE NULL  END  ELSE NULL  END  AS TABLE_TYPE, d.description AS REMARKS,  '' as TYPE_CAT, '' as TYPE_SCHEM, '' as TYPE_NAME, '' AS SELF_REFERENCING_COL_NAME, '' AS REF_GENERATION  FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c  LEFT JOIN pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0  and d.classoid = 'pg_class'::regclass)  WHERE c.relnamespace = n.oid  AND n.nspname LIKE 'shop' AND c.relname LIKE '%' AND (false  OR ( c.relkind = 'r' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' ) )  ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME ";

/// pgJDBC 42.5 `getColumns(null, "shop", "orders", "%")`.
const JDBC_COLUMNS: &str = "SELECT * FROM (SELECT n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as attidentity,nullif(a.attgenerated, '') as attgenerated,pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype  FROM pg_catalog.pg_namespace n  JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid)  JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid)  JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid)  LEFT JOIN pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = def.adnum)  LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)  LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class')  LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog')  WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped  AND n.nspname LIKE 'shop' AND c.relname LIKE 'orders') c WHERE true  AND attname LIKE '%' ORDER BY nspname,c.relname,attnum ";

/// SQLAlchemy 2.0 `has_table("orders", schema="shop")` with psycopg2 (parameters inlined).
const SA_HAS_TABLE: &str = "SELECT pg_catalog.pg_class.relname 
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relname IN ('{table}') AND pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_namespace.nspname = 'shop'";

/// pandas' has-table check of `read_sql("<sql>")` (no schema; visible tables).
const PANDAS_HAS_TABLE: &str = "SELECT pg_catalog.pg_class.relname 
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relname IN ('{table}') AND pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != 'pg_catalog'";

/// SQLAlchemy 2.0 `has_table` with psycopg 3 (server-side parameters).
const SA_HAS_TABLE_PG3: &str = "SELECT pg_catalog.pg_class.relname 
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relname IN ($1::VARCHAR) AND pg_catalog.pg_class.relkind = ANY (ARRAY[$2::VARCHAR, $3::VARCHAR, $4::VARCHAR, $5::VARCHAR, $6::VARCHAR]) AND pg_catalog.pg_namespace.nspname = $7::VARCHAR";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_queries_answer_like_postgres() {
    let f = fixture().await;
    let c = f.proxy.connect().await;

    let dn = simple(&c, PSQL_DN).await.expect("\\dn");
    assert_eq!(dn.columns, ["Name", "Owner"]);
    assert_eq!(
        dn.column("Name"),
        [
            Some("dbguru".into()),
            Some("shop".into()),
            Some("warehouse".into())
        ]
    );

    let dt = simple(&c, PSQL_DT_SHOP).await.expect("\\dt shop.*");
    assert_eq!(dt.columns, ["Schema", "Name", "Type", "Owner"]);
    assert_eq!(
        dt.column("Name"),
        [Some("customers".into()), Some("orders".into())]
    );
    assert_eq!(
        dt.column("Type"),
        [Some("table".into()), Some("table".into())]
    );

    let all = simple(&c, PSQL_DT).await.expect("\\dt");
    let names: Vec<String> = all
        .rows
        .iter()
        .map(|r| {
            format!(
                "{}.{}",
                r[0].as_deref().unwrap_or(""),
                r[1].as_deref().unwrap_or("")
            )
        })
        .collect();
    for t in [
        "shop.customers",
        "shop.orders",
        "warehouse.dim_customer",
        "warehouse.fact_sales",
    ] {
        assert!(names.iter().any(|n| n == t), "{t} not in {names:?}");
    }

    let found = simple(&c, PSQL_D_FIND).await.expect("\\d find");
    assert_eq!(found.rows.len(), 1, "{found:?}");
    assert_eq!(found.columns, ["oid", "nspname", "relname"]);
    let oid = found.get(0, "oid").expect("oid");
    assert!(oid.parse::<u32>().is_ok_and(|o| o >= 16384), "{oid}");
    // The OID is stable from one query to the next.
    assert_eq!(
        simple(&c, PSQL_D_FIND)
            .await
            .expect("again")
            .get(0, "oid")
            .as_deref(),
        Some(oid.as_str())
    );

    let with_oid = |q: &str| q.replace("{oid}", &oid);
    let t = simple(&c, &with_oid(PSQL_D_TABLE))
        .await
        .expect("\\d table");
    assert_eq!(t.rows.len(), 1);
    assert_eq!(
        t.rows[0],
        // relhastriggers: PostgreSQL enforces the source's foreign key with triggers.
        ["0", "r", "t", "f", "t", "f", "f", "f", "f", "", "0", "", "p", "d", "heap"]
            .map(|s| Some(s.to_string()))
            .to_vec()
    );
    assert_eq!(t.columns[7], "relhasoids");

    let cols = simple(&c, &with_oid(PSQL_D_COLUMNS))
        .await
        .expect("\\d columns");
    assert_eq!(
        cols.columns,
        [
            "attname",
            "format_type",
            "pg_get_expr",
            "attnotnull",
            "attcollation",
            "attidentity",
            "attgenerated"
        ]
    );
    let got: Vec<(String, String, String)> = cols
        .rows
        .iter()
        .map(|r| {
            (
                r[0].clone().unwrap_or_default(),
                r[1].clone().unwrap_or_default(),
                r[3].clone().unwrap_or_default(),
            )
        })
        .collect();
    let want = [
        ("id", "integer", "t"),
        ("customer_id", "integer", "t"),
        ("amount", "numeric(10,2)", "f"),
        ("ordered_on", "date", "f"),
        ("status", "text", "f"),
        ("paid", "boolean", "f"),
    ];
    assert_eq!(
        got,
        want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .to_vec()
    );
    assert!(cols
        .rows
        .iter()
        .all(|r| r[2].is_none() && r[4].is_none() && r[5].as_deref() == Some("")));

    let idx = simple(&c, &with_oid(PSQL_D_INDEXES))
        .await
        .expect("\\d indexes");
    assert_eq!(idx.rows.len(), 1, "{idx:?}");
    assert_eq!(idx.get(0, "relname").as_deref(), Some("orders_pkey"));
    assert_eq!(idx.get(0, "indisprimary").as_deref(), Some("t"));
    assert_eq!(
        idx.get(0, "pg_get_indexdef").as_deref(),
        Some("CREATE UNIQUE INDEX orders_pkey ON shop.orders USING btree (id)")
    );
    assert_eq!(
        idx.get(0, "pg_get_constraintdef").as_deref(),
        Some("PRIMARY KEY (id)")
    );
    assert_eq!(idx.get(0, "contype").as_deref(), Some("p"));

    for (what, q, width) in [
        ("policies", PSQL_D_POLICIES, 6),
        ("statistics", PSQL_D_STATISTICS, 9),
        ("publications", PSQL_D_PUBLICATIONS, 3),
        ("parents", PSQL_D_INHERITS, 1),
        ("children", PSQL_D_CHILDREN, 4),
    ] {
        let r = simple(&c, &with_oid(q))
            .await
            .unwrap_or_else(|e| panic!("\\d {what}: {}", error_message(&e)));
        assert!(r.rows.is_empty(), "{what}: {r:?}");
        assert_eq!(r.columns.len(), width, "{what}: {:?}", r.columns);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jdbc_metadata_queries_answer() {
    let f = fixture().await;
    let c = f.proxy.connect().await;

    let s = simple(&c, JDBC_SCHEMAS).await.expect("getSchemas");
    assert_eq!(s.columns, ["table_schem", "table_catalog"]);
    let schemas: Vec<String> = s.column("table_schem").into_iter().flatten().collect();
    assert_eq!(
        schemas,
        [
            "dbguru",
            "information_schema",
            "pg_catalog",
            "shop",
            "warehouse"
        ]
    );

    let t = simple(&c, JDBC_TABLES).await.expect("getTables");
    assert_eq!(
        t.columns[..4],
        ["table_cat", "table_schem", "table_name", "table_type"]
    );
    assert_eq!(
        t.column("table_name"),
        [Some("customers".into()), Some("orders".into())]
    );
    assert_eq!(
        t.column("table_type"),
        [Some("TABLE".into()), Some("TABLE".into())]
    );

    let cols = simple(&c, JDBC_COLUMNS).await.expect("getColumns");
    assert_eq!(
        cols.column("attname")
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
        [
            "id",
            "customer_id",
            "amount",
            "ordered_on",
            "status",
            "paid"
        ]
    );
    assert_eq!(
        cols.column("atttypid")
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
        ["23", "23", "1700", "1082", "25", "16"]
    );
    assert_eq!(
        cols.column("attnum")
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
        ["1", "2", "3", "4", "5", "6"]
    );
    assert_eq!(cols.get(2, "atttypmod").as_deref(), Some("655366"));
    // attnotnull is a boolean ("t"/"f"), whatever the expression computing it.
    assert_eq!(
        cols.column("attnotnull")
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
        ["t", "t", "f", "f", "f", "f"]
    );
}

/// A pgJDBC program: `DatabaseMetaData.getSchemas/getTables/getColumns` printed as lines.
const JDBC_PROGRAM: &str = r#"
import java.sql.*;
public class CatalogJdbc {
    static void dump(String what, ResultSet rs, String... cols) throws SQLException {
        while (rs.next()) {
            StringBuilder sb = new StringBuilder(what);
            for (String c : cols) sb.append("|").append(rs.getString(c));
            System.out.println(sb);
        }
        rs.close();
    }
    public static void main(String[] a) throws Exception {
        try (Connection c = DriverManager.getConnection(System.getenv("JDBC_URL"))) {
            DatabaseMetaData md = c.getMetaData();
            dump("schema", md.getSchemas(), "TABLE_SCHEM");
            dump("table", md.getTables(null, "shop", "%", new String[]{"TABLE"}), "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE");
            dump("column", md.getColumns(null, "shop", "orders", "%"), "TABLE_SCHEM", "TABLE_NAME", "COLUMN_NAME", "DATA_TYPE", "TYPE_NAME", "COLUMN_SIZE", "DECIMAL_DIGITS", "NULLABLE", "IS_NULLABLE", "ORDINAL_POSITION");
            dump("wcolumn", md.getColumns(null, "warehouse", "fact_sales", "%"), "COLUMN_NAME", "TYPE_NAME");
            try (Statement st = c.createStatement()) {
                try {
                    st.executeQuery("SELECT pg_catalog.pg_relation_filenode(c.oid) FROM pg_catalog.pg_class c");
                    System.out.println("error|none");
                } catch (SQLException e) {
                    System.out.println("error|" + e.getSQLState());
                }
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'shop'")) {
                    rs.next();
                    System.out.println("after|" + rs.getLong(1));
                }
            }
        }
    }
}
"#;

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

fn run_checked(what: &str, cmd: &mut std::process::Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgjdbc_database_metadata_browses_the_schema() {
    let f = fixture().await;
    let jar = std::env::var_os("DBGURU_JDBC_JAR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/java/postgresql.jar"));
    assert!(
        jar.is_file(),
        "{} missing: install the Debian package libpostgresql-jdbc-java",
        jar.display()
    );
    let javac = which("javac").unwrap_or_else(|| {
        panic!("`javac` not found: install the Debian package default-jdk-headless")
    });
    let java = which("java").unwrap_or_else(|| {
        panic!("`java` not found: install the Debian package default-jdk-headless")
    });
    let src_dir = f.dir.path().join("jdbc-catalog");
    std::fs::create_dir_all(&src_dir).expect("create the source dir");
    let src = src_dir.join("CatalogJdbc.java");
    std::fs::write(&src, JDBC_PROGRAM).expect("write CatalogJdbc.java");
    run_checked(
        "javac",
        std::process::Command::new(&javac)
            .arg("-d")
            .arg(&src_dir)
            .arg("-cp")
            .arg(&jar)
            .arg(&src),
    );
    let cp = std::env::join_paths([src_dir.as_path(), jar.as_path()]).expect("classpath");
    for mode in ["extended", "simple"] {
        let url = format!(
            "jdbc:postgresql://127.0.0.1:{}/dbguru?user=guru&sslmode=disable&preferQueryMode={mode}",
            f.proxy.addr.port()
        );
        let out = run_checked(
            &format!("java CatalogJdbc ({mode})"),
            std::process::Command::new(&java)
                .arg("-cp")
                .arg(&cp)
                .arg("CatalogJdbc")
                .env("JDBC_URL", &url),
        );
        let l = lines(&out);
        let schemas: Vec<&str> = l.iter().filter_map(|x| x.strip_prefix("schema|")).collect();
        assert_eq!(
            schemas,
            [
                "dbguru",
                "information_schema",
                "pg_catalog",
                "shop",
                "warehouse"
            ],
            "{out}"
        );
        let tables: Vec<&str> = l.iter().filter_map(|x| x.strip_prefix("table|")).collect();
        assert_eq!(
            tables,
            ["shop|customers|TABLE", "shop|orders|TABLE"],
            "{out}"
        );
        let columns: Vec<&str> = l.iter().filter_map(|x| x.strip_prefix("column|")).collect();
        assert_eq!(
            columns,
            [
                "shop|orders|id|4|int4|10|0|0|NO|1",
                "shop|orders|customer_id|4|int4|10|0|0|NO|2",
                "shop|orders|amount|2|numeric|10|2|1|YES|3",
                "shop|orders|ordered_on|91|date|13|0|1|YES|4",
                "shop|orders|status|12|text|2147483647|0|1|YES|5",
                "shop|orders|paid|-7|bool|1|0|1|YES|6",
            ],
            "{mode}:\n{out}"
        );
        let wcolumns: Vec<&str> = l
            .iter()
            .filter_map(|x| x.strip_prefix("wcolumn|"))
            .collect();
        assert_eq!(
            wcolumns,
            [
                "sale_id|int8",
                "customer_id|int4",
                "total|float8",
                "day|date",
                "qty|int2"
            ],
            "{out}"
        );
        assert!(
            l.contains(&"error|0A000"),
            "{mode}: an untranslatable catalog query is 0A000:\n{out}"
        );
        assert!(
            l.contains(&"after|2"),
            "{mode}: the connection stays usable:\n{out}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// information_schema, has-table checks, errors
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn information_schema_lists_schemas_tables_and_columns() {
    let f = fixture().await;
    let c = f.proxy.connect().await;
    let s = simple(
        &c,
        "SELECT schema_name FROM information_schema.schemata ORDER BY 1",
    )
    .await
    .expect("schemata");
    let names: Vec<String> = s.column("schema_name").into_iter().flatten().collect();
    for n in ["shop", "warehouse", "dbguru"] {
        assert!(names.iter().any(|x| x == n), "{n} not in {names:?}");
    }

    let t = simple(&c, "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = 'shop'")
        .await
        .expect("tables");
    assert_eq!(t.columns, ["table_schema", "table_name"]);
    let mut names: Vec<String> = t.column("table_name").into_iter().flatten().collect();
    names.sort();
    assert_eq!(names, ["customers", "orders"]);

    let cols = simple(
        &c,
        "SELECT column_name, data_type, is_nullable, ordinal_position, numeric_precision, numeric_scale \
         FROM information_schema.columns WHERE table_schema = 'shop' AND table_name = 'orders' ORDER BY ordinal_position",
    )
    .await
    .expect("columns");
    let got: Vec<Vec<Option<String>>> = cols.rows.clone();
    let row = |v: [&str; 6]| {
        v.iter()
            .map(|s| {
                if s.is_empty() {
                    None
                } else {
                    Some(s.to_string())
                }
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        got,
        [
            row(["id", "integer", "NO", "1", "32", "0"]),
            row(["customer_id", "integer", "NO", "2", "32", "0"]),
            row(["amount", "numeric", "YES", "3", "10", "2"]),
            row(["ordered_on", "date", "YES", "4", "", ""]),
            row(["status", "text", "YES", "5", "", ""]),
            row(["paid", "boolean", "YES", "6", "", ""]),
        ]
    );

    // Typed through the extended protocol: ordinal_position is an integer.
    let r = c
        .query(
            "SELECT column_name, ordinal_position FROM information_schema.columns WHERE table_schema = 'warehouse' AND table_name = 'fact_sales' ORDER BY 2",
            &[],
        )
        .await
        .expect("extended protocol");
    let first: (String, i32) = (r[0].get(0), r[0].get(1));
    assert_eq!(first, ("sale_id".to_string(), 1));

    // clerk sees only shop.
    let clerk = f.proxy.connect_as("clerk", "").await.expect("clerk");
    let s = simple(
        &clerk,
        "SELECT DISTINCT table_schema FROM information_schema.tables ORDER BY 1",
    )
    .await
    .expect("tables");
    assert_eq!(
        s.column("table_schema"),
        [Some("dbguru".into()), Some("shop".into())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn has_table_checks_of_sqlalchemy_and_pandas() {
    let f = fixture().await;
    let c = f.proxy.connect().await;
    let yes = simple(&c, &SA_HAS_TABLE.replace("{table}", "orders"))
        .await
        .expect("has_table orders");
    assert_eq!(yes.columns, ["relname"]);
    assert_eq!(yes.rows, [[Some("orders".to_string())]]);
    let no = simple(&c, &SA_HAS_TABLE.replace("{table}", "nope"))
        .await
        .expect("has_table nope");
    assert!(no.rows.is_empty(), "{no:?}");
    // pandas' check of a query string finds no table of that name.
    let q = "SELECT count(*) FROM orders".replace('\'', "''");
    let no = simple(&c, &PANDAS_HAS_TABLE.replace("{table}", &q))
        .await
        .expect("pandas check");
    assert!(no.rows.is_empty(), "{no:?}");
    // ...and an ASK string neither.
    let no = simple(
        &c,
        &PANDAS_HAS_TABLE.replace("{table}", "ASK ''how many orders?''"),
    )
    .await
    .expect("pandas check");
    assert!(no.rows.is_empty(), "{no:?}");

    // psycopg 3 binds the names as parameters (extended protocol).
    use tokio_postgres::types::Type;
    let params = |t: &'static str| -> Vec<(&'static str, Type)> {
        vec![
            (t, Type::VARCHAR),
            ("r", Type::VARCHAR),
            ("p", Type::VARCHAR),
            ("f", Type::VARCHAR),
            ("v", Type::VARCHAR),
            ("m", Type::VARCHAR),
            ("shop", Type::VARCHAR),
        ]
    };
    for (table, want) in [("orders", 1), ("nope", 0)] {
        let p = params(table);
        let refs: Vec<(&(dyn tokio_postgres::types::ToSql + Sync), Type)> = p
            .iter()
            .map(|(v, t)| (v as &(dyn tokio_postgres::types::ToSql + Sync), t.clone()))
            .collect();
        let rows = c
            .query_typed(SA_HAS_TABLE_PG3, &refs)
            .await
            .unwrap_or_else(|e| panic!("psycopg 3 has_table {table}: {}", error_message(&e)));
        assert_eq!(rows.len(), want, "{table}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untranslatable_catalog_queries_are_0a000_and_the_session_survives() {
    let f = fixture().await;
    let c = f.proxy.connect().await;
    // What the SQLite translation refuses runs on the virtual catalog engine (DuckDB):
    // general regular expressions, arrays.
    let re = simple(
        &c,
        "SELECT relname FROM pg_catalog.pg_class WHERE relname ~ 'ord[a-z]+_p' ORDER BY 1",
    )
    .await
    .expect("regular expression");
    assert_eq!(re.column("relname"), [Some("orders_pkey".into())]);
    let agg = simple(
        &c,
        "SELECT array_agg(c.relname ORDER BY c.relname) AS names FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'shop' AND c.relkind = 'r'",
    )
    .await
    .expect("array_agg");
    assert_eq!(agg.scalar().as_deref(), Some("{customers,orders}"));
    for q in [
        "SELECT pg_catalog.pg_relation_filenode(c.oid) FROM pg_catalog.pg_class c",
        "SELECT information_schema._pg_expandarray(indkey) FROM pg_catalog.pg_index",
        "SELECT * FROM pg_catalog.pg_class c JOIN shop.orders o ON true",
    ] {
        let err = simple(&c, q).await.expect_err(q);
        assert_eq!(
            sqlstate(&err).as_deref(),
            Some("0A000"),
            "{q}: {}",
            error_message(&err)
        );
        assert!(
            error_message(&err).contains("catalog"),
            "{q}: {}",
            error_message(&err)
        );
    }
    let ok = simple(
        &c,
        "SELECT count(*) FROM pg_catalog.pg_class WHERE relkind = 'r'",
    )
    .await
    .expect("after errors");
    // The fixture's 4 tables and the 6 dbguru.* tables (connections, sessions, messages,
    // queries, glossary, examples).
    assert_eq!(ok.scalar().as_deref(), Some("10"));
    let ok = simple(&c, "SELECT name FROM customers ORDER BY id")
        .await
        .expect("passthrough after errors");
    assert_eq!(ok.column("name"), [Some("ann".into()), Some("bob".into())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn common_handwritten_catalog_queries() {
    let f = fixture().await;
    let c = f.proxy.connect().await;
    let r = simple(&c, "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'shop.orders'::regclass AND attnum > 0 ORDER BY attnum")
        .await
        .expect("regclass literal");
    assert_eq!(r.rows.len(), 6);
    assert_eq!(r.get(2, "format_type").as_deref(), Some("numeric(10,2)"));
    let r = simple(
        &c,
        "SELECT 'shop.orders'::regclass, 'shop.orders'::regclass::oid > 16384 AS big",
    )
    .await
    .expect("regclass shown");
    assert_eq!(
        r.rows,
        [[Some("shop.orders".to_string()), Some("t".to_string())]]
    );
    let r = simple(
        &c,
        "SELECT tablename FROM pg_tables WHERE schemaname = 'warehouse' ORDER BY 1",
    )
    .await
    .expect("pg_tables");
    assert_eq!(
        r.column("tablename"),
        [Some("dim_customer".into()), Some("fact_sales".into())]
    );
    let r = simple(&c, "SELECT c.relname, count(a.attnum) AS n FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname ILIKE 'SHOP' AND c.relkind = 'r' GROUP BY c.relname ORDER BY 1")
        .await
        .expect("aggregate");
    assert_eq!(
        r.rows,
        [
            [Some("customers".to_string()), Some("4".to_string())],
            [Some("orders".to_string()), Some("6".to_string())]
        ]
    );
    // psql's \gdesc helper: format_type over VALUES with column aliases.
    let r = simple(&c, "SELECT name AS \"Column\", pg_catalog.format_type(tp, tpm) AS \"Type\" FROM (VALUES ('a', '20'::pg_catalog.oid, -1), ('b', '1700'::pg_catalog.oid, -1)) s(name, tp, tpm)")
        .await
        .expect("\\gdesc");
    assert_eq!(
        r.rows,
        [
            [Some("a".to_string()), Some("bigint".to_string())],
            [Some("b".to_string()), Some("numeric".to_string())]
        ]
    );
    // LIKE is case-sensitive, as in PostgreSQL.
    let r = simple(
        &c,
        "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname LIKE 'SHOP'",
    )
    .await
    .expect("like");
    assert_eq!(r.scalar().as_deref(), Some("0"));
}

// ---------------------------------------------------------------------------------------
// Without a proxy
// ---------------------------------------------------------------------------------------

#[test]
fn source_types_map_to_builtin_postgres_types() {
    use dbguru::wire::catalog::{pg_decl, pg_type_of_decl as t};
    assert_eq!(t("INTEGER"), PgType::Int4);
    assert_eq!(t("int"), PgType::Int4);
    assert_eq!(t("BIGINT"), PgType::Int8);
    assert_eq!(t("bigint unsigned"), PgType::Numeric);
    assert_eq!(t("int(10) unsigned"), PgType::Int8);
    assert_eq!(t("SMALLINT"), PgType::Int2);
    assert_eq!(t("tinyint(1)"), PgType::Bool);
    assert_eq!(t("TINYINT"), PgType::Int2);
    assert_eq!(t("HUGEINT"), PgType::Numeric);
    assert_eq!(t("varchar(100)"), PgType::Text);
    assert_eq!(t("character varying(50)"), PgType::Text);
    assert_eq!(t("TEXT"), PgType::Text);
    assert_eq!(t("DECIMAL(10,2)"), PgType::Numeric);
    assert_eq!(t("numeric"), PgType::Numeric);
    assert_eq!(t("DOUBLE"), PgType::Float8);
    assert_eq!(t("double precision"), PgType::Float8);
    assert_eq!(t("REAL"), PgType::Float4);
    assert_eq!(t("FLOAT"), PgType::Float4);
    assert_eq!(t("float(53)"), PgType::Float8);
    assert_eq!(t("DATE"), PgType::Date);
    assert_eq!(t("TIMESTAMP"), PgType::Timestamp);
    assert_eq!(t("DATETIME"), PgType::Timestamp);
    assert_eq!(t("timestamp(3) without time zone"), PgType::Timestamp);
    assert_eq!(t("TIMESTAMP WITH TIME ZONE"), PgType::TimestampTz);
    assert_eq!(t("timestamptz"), PgType::TimestampTz);
    assert_eq!(t("TIME"), PgType::Time);
    assert_eq!(t("BOOLEAN"), PgType::Bool);
    assert_eq!(t("json"), PgType::Json);
    assert_eq!(t("jsonb"), PgType::Json);
    assert_eq!(t("UUID"), PgType::Uuid);
    assert_eq!(t("BLOB"), PgType::Bytea);
    assert_eq!(t("bytea"), PgType::Bytea);
    assert_eq!(t("INTEGER[]"), PgType::Text);
    assert_eq!(t("STRUCT(a INTEGER)"), PgType::Text);
    assert_eq!(t("ANY"), PgType::Text);
    assert_eq!(t(""), PgType::Text);
    assert_eq!(t("UNSIGNED BIG INT"), PgType::Int8);
    assert_eq!(t("NVARCHAR(20)"), PgType::Text);
    let d = pg_decl("DECIMAL(10,2)");
    assert_eq!(
        (d.typmod, d.display.as_str()),
        ((10 << 16 | 2) + 4, "numeric(10,2)")
    );
    assert_eq!(pg_decl("numeric(5)").display, "numeric(5,0)");
    assert_eq!(pg_decl("varchar(100)").display, "text");
    assert_eq!(pg_decl("INTEGER").typmod, -1);
}

fn demo_schemas() -> Vec<CatalogSchema> {
    let col = |name: &str, ty: &str, pk: bool, nullable: bool| ColumnInfo {
        name: name.into(),
        data_type: ty.into(),
        primary_key: pk,
        nullable,
        ..Default::default()
    };
    vec![
        CatalogSchema {
            keys: Default::default(),
            name: "shop".into(),
            schema: SchemaInfo {
                database: "shop.sqlite".into(),
                tables: vec![
                    TableInfo {
                        name: "customers".into(),
                        columns: vec![
                            col("id", "INTEGER", true, false),
                            col("name", "TEXT", false, false),
                        ],
                        ..Default::default()
                    },
                    TableInfo {
                        name: "orders".into(),
                        columns: vec![
                            col("id", "INTEGER", true, false),
                            col("amount", "DECIMAL(10,2)", false, true),
                        ],
                        ..Default::default()
                    },
                ],
            },
        },
        CatalogSchema {
            keys: Default::default(),
            name: "warehouse".into(),
            schema: SchemaInfo {
                database: "warehouse.duckdb".into(),
                tables: vec![TableInfo {
                    name: "fact_sales".into(),
                    columns: vec![col("total", "DOUBLE", false, true)],
                    ..Default::default()
                }],
            },
        },
    ]
}

fn answer_rows(sql: &str) -> Vec<Vec<Option<String>>> {
    let (_, batches) =
        catalog::answer(sql, &demo_schemas()).unwrap_or_else(|e| panic!("{sql}\n{e}"));
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            out.push(
                (0..b.num_columns())
                    .map(|c| dbguru::pgtypes::text_value(b.column(c).as_ref(), r))
                    .collect(),
            );
        }
    }
    out
}

#[test]
fn translation_without_a_proxy() {
    let v = |s: &str| Some(s.to_string());
    assert_eq!(
        answer_rows(PSQL_DN),
        [[v("shop"), v("dbguru")], [v("warehouse"), v("dbguru")]]
    );
    assert_eq!(answer_rows(PSQL_DT_SHOP).len(), 2);
    // Regular expressions psql sends for name patterns.
    assert_eq!(
        answer_rows("SELECT relname FROM pg_class WHERE relname ~ '^(ord.*)$' ORDER BY 1"),
        [[v("orders")], [v("orders_pkey")]]
    );
    assert_eq!(
        answer_rows(
            "SELECT relname FROM pg_class WHERE relname ~ '^(orders|customers)$' ORDER BY 1"
        ),
        [[v("customers")], [v("orders")]]
    );
    assert_eq!(
        answer_rows("SELECT relname FROM pg_class WHERE relname ~* '^(ORD.RS)$'"),
        [[v("orders")]]
    );
    assert_eq!(
        answer_rows("SELECT relname FROM pg_class WHERE relname ~ 'sales' "),
        [[v("fact_sales")]]
    );
    assert_eq!(
        answer_rows("SELECT relname FROM pg_class WHERE relname ~ '^(orders\\_pkey)$' "),
        [[v("orders_pkey")]]
    );
    assert!(answer_rows("SELECT relname FROM pg_class WHERE relname ~ '^(o\\*)$'").is_empty());
    // Refusals name what is not supported.
    for (q, what) in [
        ("SELECT relname FROM pg_class WHERE relname = $1", "$1"),
        ("SELECT 1 FROM pg_class FOR UPDATE", "FOR UPDATE"),
        ("SELECT x::int4[] FROM pg_class", "int4[]"),
        (
            "SELECT c.relname FROM pg_class c JOIN columns ON true",
            "\"columns\" is not in the catalog",
        ),
    ] {
        let e = catalog::answer(q, &demo_schemas()).expect_err(q);
        assert!(e.contains(what), "{q}: {e}");
    }
    // What the SQLite translation refuses, the virtual catalog engine answers exactly.
    for (q, want) in [
        (
            "SELECT relname FROM pg_class WHERE relname ~ '^[a-z]+$' ORDER BY 1",
            vec!["customers", "orders"],
        ),
        ("SELECT unnest(ARRAY[1,2])::text AS x", vec!["1", "2"]),
    ] {
        let (_, batches) =
            catalog::answer(q, &demo_schemas()).unwrap_or_else(|e| panic!("{q}: {e}"));
        let got: Vec<String> = batches
            .iter()
            .flat_map(|b| {
                (0..b.num_rows())
                    .map(|r| {
                        dbguru::pgtypes::text_value(b.column(0).as_ref(), r).unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(got, want, "{q}");
    }
    assert!(catalog::is_catalog_query(PSQL_DT));
    assert!(catalog::is_catalog_query("select * from pg_class"));
    assert!(catalog::is_catalog_query(
        "SELECT pg_catalog.format_type(23, NULL)"
    ));
    assert!(!catalog::is_catalog_query(
        "SELECT * FROM orders WHERE note = 'pg_class'"
    ));
    assert!(!catalog::is_catalog_query("SELECT * FROM pg_stat_activity"));
    assert!(!catalog::is_catalog_query("SET search_path = pg_catalog"));
    assert_eq!(
        answer_rows("SELECT pg_catalog.format_type(1700, 655366), format_type(25, NULL)"),
        [[v("numeric(10,2)"), v("text")]]
    );
    assert_eq!(
        answer_rows("SELECT quote_ident('orders'), quote_ident('Orders'), quote_ident('user'), quote_ident('a\"b')"),
        [[v("orders"), v("\"Orders\""), v("\"user\""), v("\"a\"\"b\"")]]
    );
    assert_eq!(
        answer_rows("SELECT 'x'::character varying(10), '5'::int4 + 1, relname::name, 2::oid FROM pg_class WHERE relname = 'orders'"),
        [[v("x"), v("6"), v("orders"), v("2")]]
    );
    // NULLs sort as in PostgreSQL (last ascending, first descending).
    assert_eq!(
        answer_rows("SELECT x FROM (VALUES (1), (NULL), (2)) v(x) ORDER BY x"),
        [[v("1")], [v("2")], [None]]
    );
    assert_eq!(
        answer_rows("SELECT x FROM (VALUES (1), (NULL), (2)) v(x) ORDER BY x DESC"),
        [[None], [v("2")], [v("1")]]
    );
    assert_eq!(
        answer_rows(
            "SELECT x, row_number() OVER (ORDER BY x) FROM (VALUES (1), (NULL)) v(x) ORDER BY 2"
        ),
        [[v("1"), v("1")], [None, v("2")]]
    );
    assert_eq!(
        answer_rows("SELECT json_build_object('name', 'x', 'n', 1)"),
        [[v("{\"name\":\"x\",\"n\":1}")]]
    );
    // psql's tab completion of table names.
    assert_eq!(
        answer_rows("SELECT pg_catalog.quote_ident(c.relname) FROM pg_catalog.pg_class c WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND substring(pg_catalog.quote_ident(c.relname),1,3)='ord' AND pg_catalog.pg_table_is_visible(c.oid) AND c.relnamespace <> (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_catalog') LIMIT 1000"),
        [[v("orders")]]
    );
}
