//! BI tools and ORMs against dbguru, each with a control (issue 11).
//!
//! Fixture: a SQLite connection `shop` (customers, orders: primary keys, a foreign key,
//! a secondary index) and a DuckDB connection `warehouse` (dim_customer, fact_sales: the
//! same shapes) behind the proxy started in-process; the control is a real PostgreSQL
//! (the harness's throwaway server) holding the same tables in schemas `shop` and
//! `warehouse` of a database `dbguru`, reached by the same user `guru`.
//!
//! Every client runs as a subprocess and prints one `step|value` line per fact it saw
//! (`tests/clients/bi_*.py`, `BiJdbcMeta.java`); each step must print the same on dbguru
//! as on PostgreSQL, and the key facts are asserted (the primary key is `id`, the foreign
//! key points at `customers`, the index `orders_status_idx` exists).
//!
//! - SQLAlchemy 2 reflection with psycopg2 and psycopg 3 (every Inspector method,
//!   `MetaData.reflect`, pandas `read_sql_table`);
//! - pgJDBC `DatabaseMetaData` (schemas, tables, columns, primary/imported/exported
//!   keys, index info, type info, functions, table types, ResultSetMetaData);
//! - pgcli's completion refresh (`PGExecute` generators) and `\dt shop.*`;
//! - psql `\d`, `\di`, `\df` on dbguru;
//! - the functions clients call (`pg_backend_pid()`, `current_schemas`, …);
//! - Apache Superset 6.1 (its own venv, `$DBGURU_SUPERSET_VENV` or
//!   `$HOME/.cache/dbguru-superset-venv`, installed by scripts/test).
//!
//! A missing client fails its test, naming what to install.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::*;

const SHOP_SQL: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
  amount DECIMAL(10,2), status TEXT);
CREATE INDEX orders_status_idx ON orders(status);
INSERT INTO customers VALUES (1, 'ann', 'DE'), (2, 'bob', 'FR'), (3, 'cy', 'DE');
INSERT INTO orders VALUES (1, 1, 10.50, 'open'), (2, 2, 20.25, 'open'), (3, 1, 5.00, 'shipped'),
  (4, 3, 7.00, 'cancelled');
";

const WAREHOUSE_SQL: &str = "
CREATE TABLE dim_customer (customer_id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT);
CREATE TABLE fact_sales (sale_id BIGINT PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES dim_customer(customer_id),
  total DOUBLE PRECISION, region TEXT);
CREATE INDEX fact_sales_region_idx ON fact_sales(region);
INSERT INTO dim_customer VALUES (1, 'ann', 'DE'), (2, 'bob', 'FR');
INSERT INTO fact_sales VALUES (1, 1, 99.5, 'north'), (2, 2, 10.0, 'south'), (3, 1, 1.5, 'north');
";

/// How long one client may run.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(300);

struct Fixture {
    proxy: Proxy,
    /// The control PostgreSQL's port.
    control_port: u16,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = temp_dir();
    let shop = sqlite_file(dir.path(), "shop.sqlite", SHOP_SQL);
    let warehouse = duckdb_file(dir.path(), "warehouse.duckdb", WAREHOUSE_SQL);
    let extra = format!(
        "{}{}",
        file_connection_toml("shop", "sqlite", &shop),
        file_connection_toml("warehouse", "duckdb", &warehouse),
    );
    let proxy = start_proxy(&base_config(&extra)).await;
    let pg = postgres().await;
    let control_port = control(pg).await;
    Fixture {
        proxy,
        control_port,
        _dir: dir,
    }
}

/// The control database `dbguru` (same tables, schemas `shop` and `warehouse`) and the
/// trusted role `guru`; created once per test binary.
async fn control(pg: &'static PgServer) -> u16 {
    static ONCE: tokio::sync::OnceCell<u16> = tokio::sync::OnceCell::const_new();
    *ONCE
        .get_or_init(|| async {
            let c = pg.client().await;
            c.batch_execute(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'guru') THEN \
                 CREATE ROLE guru LOGIN SUPERUSER; END IF; END $$",
            )
            .await
            .expect("create role guru");
            pg.create_database("dbguru").await;
            let script = format!(
                "CREATE SCHEMA shop; SET search_path = shop; {SHOP_SQL} \
                 CREATE SCHEMA warehouse; SET search_path = warehouse; {WAREHOUSE_SQL}"
            );
            pg.exec_in("dbguru", &script).await;
            pg.port
        })
        .await
}

fn home_cache(name: &str) -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join(name))
}

/// The client venv's Python (`$DBGURU_PYTHON`, `$DBGURU_VENV/bin/python`, or
/// `$HOME/.cache/dbguru-venv/bin/python`).
fn client_python() -> PathBuf {
    if let Some(p) = std::env::var_os("DBGURU_PYTHON").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    let p = std::env::var_os("DBGURU_VENV")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home_cache("dbguru-venv"))
        .map(|v| v.join("bin").join("python"))
        .unwrap_or_else(|| PathBuf::from("python3"));
    assert!(
        p.is_file(),
        "{} not found: run scripts/test (it creates the client venv with sqlalchemy, pandas, psycopg2, psycopg, pgcli)",
        p.display()
    );
    p
}

fn script(name: &str) -> PathBuf {
    manifest_dir().join("tests").join("clients").join(name)
}

/// Runs a client; panics with its output unless it exits 0. Returns its `step|value`
/// lines as a map.
async fn run_client(what: String, mut cmd: tokio::process::Command) -> BTreeMap<String, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    let out = tokio::time::timeout(CLIENT_TIMEOUT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {CLIENT_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({})\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
        out.status,
        stderr
            .chars()
            .rev()
            .take(6000)
            .collect::<String>()
            .chars()
            .rev()
            .collect::<String>()
    );
    stdout
        .lines()
        .filter_map(|l| l.split_once('|'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Asserts dbguru printed what the control printed, step by step.
fn same(what: &str, dbguru: &BTreeMap<String, String>, control: &BTreeMap<String, String>) {
    assert!(!control.is_empty(), "{what}: the control printed nothing");
    for (step, want) in control {
        let got = dbguru.get(step);
        assert_eq!(
            got,
            Some(want),
            "{what}: step `{step}` differs from PostgreSQL\n dbguru: {got:?}\nPostgreSQL: {want}"
        );
    }
}

async fn python_client(
    python: &Path,
    file: &str,
    args: &[String],
    what: &str,
) -> BTreeMap<String, String> {
    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(script(file)).args(args);
    run_client(what.to_string(), cmd).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlalchemy_2_reflection_with_both_drivers() {
    let f = fixture().await;
    let python = client_python();
    for driver in ["psycopg2", "psycopg"] {
        for (schema, table, parent, pk, index) in [
            ("shop", "orders", "customers", "id", "orders_status_idx"),
            (
                "warehouse",
                "fact_sales",
                "dim_customer",
                "sale_id",
                "fact_sales_region_idx",
            ),
        ] {
            let args = |port: u16| {
                vec![
                    driver.to_string(),
                    port.to_string(),
                    schema.to_string(),
                    table.to_string(),
                    parent.to_string(),
                ]
            };
            let what = format!("SQLAlchemy 2 + {driver} on {schema}.{table}");
            let control = python_client(
                &python,
                "bi_sqlalchemy.py",
                &args(f.control_port),
                &format!("{what} (PostgreSQL)"),
            )
            .await;
            let got = python_client(
                &python,
                "bi_sqlalchemy.py",
                &args(f.proxy.addr.port()),
                &format!("{what} (dbguru)"),
            )
            .await;
            same(&what, &got, &control);
            assert_eq!(got["pk"], format!("['{pk}']"), "{what}: primary key");
            assert!(
                got["fks"].contains(&format!("'{schema}', '{parent}'")),
                "{what}: foreign key {}",
                got["fks"]
            );
            assert!(
                got["indexes"].contains(index),
                "{what}: index {}",
                got["indexes"]
            );
            assert!(
                got["reflect"].contains(&format!("{schema}.{table}")),
                "{what}: reflect"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgjdbc_database_metadata() {
    let f = fixture().await;
    let jar = PathBuf::from(
        std::env::var("DBGURU_JDBC_JAR")
            .unwrap_or_else(|_| "/usr/share/java/postgresql.jar".into()),
    );
    assert!(
        jar.is_file(),
        "{} missing: install the Debian package libpostgresql-jdbc-java",
        jar.display()
    );
    let classes = f._dir.path().join("jdbc-bi");
    std::fs::create_dir_all(&classes).expect("classes dir");
    let javac = tokio::process::Command::new("javac")
        .arg("-d")
        .arg(&classes)
        .arg("-cp")
        .arg(&jar)
        .arg(script("BiJdbcMeta.java"))
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!("javac not found ({e}): install the Debian package default-jdk-headless")
        });
    assert!(
        javac.status.success(),
        "javac: {}",
        String::from_utf8_lossy(&javac.stderr)
    );
    let cp = std::env::join_paths([classes.as_path(), jar.as_path()]).expect("classpath");
    for (schema, table, parent, pk, index) in [
        (
            "shop",
            "orders",
            "customers",
            "id:1",
            "orders_status_idx:status:nonunique",
        ),
        (
            "warehouse",
            "fact_sales",
            "dim_customer",
            "sale_id:1",
            "fact_sales_region_idx:region:nonunique",
        ),
    ] {
        let run = |port: u16, who: &str| {
            let mut cmd = tokio::process::Command::new("java");
            cmd.arg("-cp")
                .arg(&cp)
                .arg("BiJdbcMeta")
                .env("DBGURU_HOST", "127.0.0.1")
                .env("DBGURU_PORT", port.to_string())
                .env("DBGURU_USER", "guru")
                .env("DBGURU_DBNAME", "dbguru")
                .env("DBGURU_SCHEMA", schema)
                .env("DBGURU_TABLE", table)
                .env("DBGURU_PARENT", parent);
            run_client(format!("pgJDBC metadata on {schema} ({who})"), cmd)
        };
        let control = run(f.control_port, "PostgreSQL").await;
        let got = run(f.proxy.addr.port(), "dbguru").await;
        let what = format!("pgJDBC DatabaseMetaData on {schema}.{table}");
        same(&what, &got, &control);
        assert_eq!(got["primary_keys"], pk, "{what}");
        assert!(
            got["imported_keys"].contains(&format!("{schema}.{parent}")),
            "{what}: {}",
            got["imported_keys"]
        );
        assert!(
            got["exported_keys"].contains(table),
            "{what}: {}",
            got["exported_keys"]
        );
        assert!(
            got["index_info"].contains(index),
            "{what}: {}",
            got["index_info"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgcli_completion_refresh_and_dt() {
    let f = fixture().await;
    let python = client_python();
    for (schema, table) in [("shop", "orders"), ("warehouse", "fact_sales")] {
        let args = |port: u16| vec![port.to_string(), schema.to_string(), table.to_string()];
        let what = format!("pgcli on {schema}");
        let control = python_client(
            &python,
            "bi_pgcli.py",
            &args(f.control_port),
            &format!("{what} (PostgreSQL)"),
        )
        .await;
        let got = python_client(
            &python,
            "bi_pgcli.py",
            &args(f.proxy.addr.port()),
            &format!("{what} (dbguru)"),
        )
        .await;
        same(&what, &got, &control);
        assert!(got["dt"].contains(table), "{what}: \\dt {}", got["dt"]);
        assert!(
            got["foreignkeys"].contains(table),
            "{what}: foreign keys {}",
            got["foreignkeys"]
        );
    }
}

/// psql's `\d`, `\d+`, `\di` and `\df` on dbguru (text output, as a user reads it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_describes_keys_and_indexes() {
    let f = fixture().await;
    let psql = pg_bin_dir().unwrap_or_else(|e| panic!("{e}")).join("psql");
    let run = |cmd: &str| {
        let out = std::process::Command::new(&psql)
            .args([
                "-X",
                "-h",
                "127.0.0.1",
                "-p",
                &f.proxy.addr.port().to_string(),
                "-U",
                "guru",
                "-d",
                "dbguru",
                "-c",
                cmd,
            ])
            .env("PGSSLMODE", "disable")
            .output()
            .unwrap_or_else(|e| panic!("psql: {e}"));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "psql {cmd}: {}\n{text}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let d = run("\\d+ shop.orders");
    assert!(
        d.contains("\"orders_pkey\" PRIMARY KEY, btree (id)"),
        "\\d+ shop.orders:\n{d}"
    );
    assert!(
        d.contains("\"orders_status_idx\" btree (status)"),
        "\\d+ shop.orders:\n{d}"
    );
    assert!(
        d.contains("Foreign-key constraints:"),
        "\\d+ shop.orders:\n{d}"
    );
    assert!(
        d.contains("FOREIGN KEY (customer_id) REFERENCES shop.customers(id)"),
        "\\d+ shop.orders:\n{d}"
    );
    let parent = run("\\d shop.customers");
    assert!(
        parent.contains("Referenced by:"),
        "\\d shop.customers:\n{parent}"
    );
    assert!(
        parent.contains("TABLE \"shop.orders\""),
        "\\d shop.customers:\n{parent}"
    );
    let w = run("\\d warehouse.fact_sales");
    assert!(
        w.contains("\"fact_sales_region_idx\" btree (region)"),
        "\\d warehouse.fact_sales:\n{w}"
    );
    assert!(
        w.contains("REFERENCES warehouse.dim_customer(customer_id)"),
        "\\d warehouse.fact_sales:\n{w}"
    );
    let di = run("\\di shop.*");
    for ix in ["orders_pkey", "orders_status_idx", "customers_pkey"] {
        assert!(di.contains(ix), "\\di shop.*:\n{di}");
    }
    let df = run("\\df");
    assert!(df.contains("List of functions"), "\\df:\n{df}");
}

/// The functions clients call outside catalog tables, with real values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_functions_answer_real_values() {
    let f = fixture().await;
    let c = f.proxy.connect().await;
    let rows = simple(
        &c,
        "SELECT pg_backend_pid(), current_schemas(true), current_schemas(false), pg_is_in_recovery(), \
         has_schema_privilege('shop', 'USAGE'), has_table_privilege('shop.orders', 'SELECT'), \
         format_type(23, -1), format_type(1700, 655366), pg_encoding_to_char(6), \
         current_setting('server_version_num'), txid_current() > 0, version() LIKE 'PostgreSQL %', \
         obj_description(1, 'pg_class') IS NULL, col_description(1, 1) IS NULL",
    )
    .await.expect("query");
    let row: Vec<String> = (0..14)
        .map(|i| rows.rows[0][i].clone().unwrap_or_default())
        .collect();
    let pid: i32 = row[0].parse().expect("pg_backend_pid is a number");
    assert!(pid > 0, "pg_backend_pid {pid}");
    assert_eq!(row[1], "{pg_catalog,shop}");
    assert_eq!(row[2], "{shop}");
    assert_eq!(row[3], "f");
    assert_eq!(row[4], "t");
    assert_eq!(row[5], "t");
    assert_eq!(row[6], "integer");
    assert_eq!(row[7], "numeric(10,2)");
    assert_eq!(row[8], "UTF8");
    assert_eq!(row[9], "160006");
    assert_eq!(&row[10..], ["t", "t", "t", "t"]);
    // pgcli's first completion query.
    let schemas = simple(&c, "SELECT * FROM unnest(current_schemas(true))")
        .await
        .expect("query");
    assert_eq!(
        schemas.column("unnest"),
        vec![Some("pg_catalog".to_string()), Some("shop".to_string())]
    );
    // The session is usable afterwards.
    assert_eq!(
        simple(&c, "SELECT count(*) FROM orders")
            .await
            .expect("query")
            .scalar()
            .as_deref(),
        Some("4")
    );
}

/// `count(*)` is `count` whatever the source (SQLite names it "count(*)", DuckDB
/// "count_star()").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregate_columns_are_named_as_postgres_names_them() {
    let f = fixture().await;
    let c = f.proxy.connect().await;
    let shop = simple(&c, "SELECT count(*), sum(amount), max(status), status FROM orders GROUP BY status ORDER BY 1 DESC, 4").await.expect("query");
    assert_eq!(shop.columns, ["count", "sum", "max", "status"]);
    assert_eq!(shop.rows[0][0].as_deref(), Some("2"));
    c.batch_execute("SET dbguru.target = 'warehouse'")
        .await
        .expect("target");
    let wh = simple(
        &c,
        "SELECT count(*), avg(total), min(region) AS lowest FROM fact_sales",
    )
    .await
    .expect("query");
    assert_eq!(wh.columns, ["count", "avg", "lowest"]);
    assert_eq!(wh.rows[0][0].as_deref(), Some("3"));
}

/// `SELECT * FROM dbguru.ask(…)` is `ASK` for SQL editors that parse what they send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_as_a_table_function() {
    let f = fixture().await;
    let (c, notices) = f.proxy.connect_with_notices().await;
    let direct = simple(&c, "ASK 'how many customers are there?' ON shop")
        .await
        .expect("query");
    let table = simple(
        &c,
        "SELECT * FROM dbguru.ask('how many customers are there?', 'shop')",
    )
    .await
    .expect("query");
    assert_eq!(table.columns, direct.columns);
    assert_eq!(table.rows, direct.rows);
    assert_eq!(table.columns[0], "source_db");
    assert_eq!(table.rows[0][1].as_deref(), Some("3"), "{:?}", table.rows);
    // The second answer came from the session's caches, as a second ASK would.
    assert!(
        notices.messages().iter().any(|m| m.contains("cache")),
        "no cache NOTICE: {:?}",
        notices.messages()
    );
    let plan = simple(
        &c,
        "SELECT * FROM dbguru.explain_ask('how many customers are there?', 'shop, warehouse')",
    )
    .await
    .expect("query");
    assert_eq!(plan.columns, ["source_db", "dialect", "sql"]);
    assert!(!plan.rows.is_empty(), "{:?}", plan.rows);
    assert!(
        plan.rows.iter().all(|r| r[2]
            .as_deref()
            .is_some_and(|s| sql_without_comments(s).starts_with("select"))),
        "{:?}",
        plan.rows
    );
    let limited = simple(
        &c,
        "SELECT * FROM dbguru.ask('list the customers', 'shop') LIMIT 2",
    )
    .await
    .expect("query");
    assert_eq!(limited.rows.len(), 2, "{:?}", limited.rows);
    // History: the table-function questions are in dbguru.queries like ASK's.
    let q = simple(
        &c,
        "SELECT count(*) FROM dbguru.queries WHERE question = 'list the customers'",
    )
    .await
    .expect("query");
    assert_eq!(q.scalar().as_deref(), Some("1"));
}

fn superset_python() -> PathBuf {
    let venv = std::env::var_os("DBGURU_SUPERSET_VENV")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home_cache("dbguru-superset-venv"))
        .expect("HOME is set");
    let p = venv.join("bin").join("python");
    assert!(
        p.is_file() && venv.join("bin").join("superset").is_file(),
        "Apache Superset is not installed in {}: run scripts/test (superset_client installs apache-superset==6.1.0 with its pins)",
        venv.display()
    );
    p
}

/// A fresh Superset home: config, `superset db upgrade`, an admin, `superset init`.
async fn superset_home(python: &Path, dir: &Path) {
    std::fs::create_dir_all(dir).expect("superset home");
    std::fs::write(
        dir.join("superset_config.py"),
        format!(
            "SECRET_KEY = 'dbguru-test-secret-key-0123456789abcdef'\n\
             SQLALCHEMY_DATABASE_URI = 'sqlite:///{}'\n\
             WTF_CSRF_ENABLED = False\nTALISMAN_ENABLED = False\n\
             PREVENT_UNSAFE_DB_CONNECTIONS = False\n",
            dir.join("superset.db").display()
        ),
    )
    .expect("superset_config.py");
    let superset = python.with_file_name("superset");
    for args in [
        vec!["db", "upgrade"],
        vec![
            "fab",
            "create-admin",
            "--username",
            "admin",
            "--firstname",
            "a",
            "--lastname",
            "b",
            "--email",
            "a@b.c",
            "--password",
            "admin",
        ],
        vec!["init"],
    ] {
        let mut cmd = tokio::process::Command::new(&superset);
        cmd.args(&args)
            .env("SUPERSET_CONFIG_PATH", dir.join("superset_config.py"))
            .env("SUPERSET_HOME", dir);
        run_client(format!("superset {}", args.join(" ")), cmd).await;
    }
}

/// Apache Superset 6.1: register, browse, datasets for a shop and a warehouse table, a
/// chart query, SQL Lab (plain SQL and `dbguru.ask`), each step as on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn superset_registers_browses_charts_and_asks() {
    let f = fixture().await;
    let python = superset_python();
    let run = |home: PathBuf, port: u16, extra: Vec<String>, who: &'static str| {
        let python = python.clone();
        async move {
            superset_home(&python, &home).await;
            let mut cmd = tokio::process::Command::new(&python);
            cmd.arg(script("bi_superset.py"))
                .arg(&home)
                .arg(port.to_string())
                .args(["shop.orders.status", "warehouse.fact_sales.region"])
                .args([
                    "--sql",
                    "SELECT status, count(*) FROM shop.orders GROUP BY status",
                ])
                .args(extra)
                .env("SUPERSET_CONFIG_PATH", home.join("superset_config.py"))
                .env("SUPERSET_HOME", &home);
            run_client(format!("Superset ({who})"), cmd).await
        }
    };
    let control = run(
        f._dir.path().join("superset-pg"),
        f.control_port,
        vec![],
        "PostgreSQL",
    )
    .await;
    let got = run(
        f._dir.path().join("superset-dbguru"),
        f.proxy.addr.port(),
        vec![
            "--sql".into(),
            "SELECT * FROM dbguru.ask('how many customers are there?', 'shop')".into(),
        ],
        "dbguru",
    )
    .await;
    same("Superset", &got, &control);
    assert_eq!(got["shop:chart_groups"], "3");
    assert_eq!(got["shop:chart_total"], "4");
    assert_eq!(got["warehouse:chart_groups"], "2");
    assert!(
        got["shop:meta_indexes"].contains("orders_status_idx"),
        "{}",
        got["shop:meta_indexes"]
    );
    assert!(
        got["shop:dataset_columns"].contains("customer_id"),
        "{}",
        got["shop:dataset_columns"]
    );
    assert_eq!(got["sqllab1:rows"], "1", "dbguru.ask in SQL Lab");
    assert!(
        got["sqllab1:columns"].starts_with("['source_db'"),
        "{}",
        got["sqllab1:columns"]
    );
}

/// The same reflection with the tables on a PostgreSQL source (`shop`) and a MariaDB
/// source (`warehouse`): their foreign keys and indexes come from the sources.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_on_postgres_and_mariadb_sources() {
    let pg = postgres().await;
    let control_port = control(pg).await;
    let (pg_db, pg_url) = pg.fresh_database("bishop").await;
    pg.exec_in(&pg_db, SHOP_SQL).await;
    let my = mariadb().await;
    let (my_db, my_url) = my.fresh_database("biwh").await;
    let my_sql = WAREHOUSE_SQL.replace("region TEXT", "region VARCHAR(20)");
    for stmt in my_sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        my.exec_in(&my_db, stmt).await;
    }
    let extra = format!(
        "{}{}",
        url_connection_toml("shop", "postgres", &pg_url),
        url_connection_toml("warehouse", "mysql", &my_url),
    );
    let proxy = start_proxy(&base_config(&extra)).await;
    let python = client_python();
    for (schema, table, parent, index) in [
        ("shop", "orders", "customers", "orders_status_idx"),
        (
            "warehouse",
            "fact_sales",
            "dim_customer",
            "fact_sales_region_idx",
        ),
    ] {
        let args = |port: u16| {
            ["psycopg2", &port.to_string(), schema, table, parent]
                .map(String::from)
                .to_vec()
        };
        let what = format!("SQLAlchemy 2 on {schema}.{table} (PostgreSQL/MariaDB sources)");
        let control = python_client(
            &python,
            "bi_sqlalchemy.py",
            &args(control_port),
            &format!("{what} (control)"),
        )
        .await;
        let got = python_client(
            &python,
            "bi_sqlalchemy.py",
            &args(proxy.addr.port()),
            &format!("{what} (dbguru)"),
        )
        .await;
        // MariaDB names a column's type by its own declaration, and InnoDB backs every
        // foreign key with an index of its own (a real index, which dbguru shows): the
        // keys must match, and the indexes too where the source is PostgreSQL.
        if schema == "shop" {
            assert_eq!(
                got.get("indexes"),
                control.get("indexes"),
                "{what}: indexes"
            );
        }
        for step in [
            "pk",
            "fks",
            "reflect",
            "reflect_pk",
            "reflect_fk",
            "read_sql_table",
            "tables",
        ] {
            assert_eq!(got.get(step), control.get(step), "{what}: step {step}");
        }
        assert!(got["indexes"].contains(index), "{what}: {}", got["indexes"]);
    }
}

/// The statement of an `explain_ask` row without its leading `-- interpreted as …` lines.
fn sql_without_comments(sql: &str) -> String {
    sql.lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_start()
        .to_ascii_lowercase()
}
