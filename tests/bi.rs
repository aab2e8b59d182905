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

mod common;

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
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("clients")
        .join(name)
}

/// Runs a client; panics with its output unless it exits 0. Returns its `step|value`
/// lines as a map.
async fn run_client(what: &str, mut cmd: tokio::process::Command) -> BTreeMap<String, String> {
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
        stderr.chars().rev().take(6000).collect::<String>().chars().rev().collect::<String>()
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
    run_client(what, cmd).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlalchemy_2_reflection_with_both_drivers() {
    let f = fixture().await;
    let python = client_python();
    for driver in ["psycopg2", "psycopg"] {
        for (schema, table, parent, pk, index) in [
            ("shop", "orders", "customers", "id", "orders_status_idx"),
            ("warehouse", "fact_sales", "dim_customer", "sale_id", "fact_sales_region_idx"),
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
            assert!(got["fks"].contains(&format!("'{schema}', '{parent}'")), "{what}: foreign key {}", got["fks"]);
            assert!(got["indexes"].contains(index), "{what}: index {}", got["indexes"]);
            assert!(got["reflect"].contains(&format!("{schema}.{table}")), "{what}: reflect");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgjdbc_database_metadata() {
    let f = fixture().await;
    let jar = PathBuf::from(
        std::env::var("DBGURU_JDBC_JAR").unwrap_or_else(|_| "/usr/share/java/postgresql.jar".into()),
    );
    assert!(jar.is_file(), "{} missing: install the Debian package libpostgresql-jdbc-java", jar.display());
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
        .unwrap_or_else(|e| panic!("javac not found ({e}): install the Debian package default-jdk-headless"));
    assert!(javac.status.success(), "javac: {}", String::from_utf8_lossy(&javac.stderr));
    let cp = std::env::join_paths([classes.as_path(), jar.as_path()]).expect("classpath");
    for (schema, table, parent, pk, index) in [
        ("shop", "orders", "customers", "id:1", "orders_status_idx:status:nonunique"),
        ("warehouse", "fact_sales", "dim_customer", "sale_id:1", "fact_sales_region_idx:region:nonunique"),
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
            run_client(&format!("pgJDBC metadata on {schema} ({who})"), cmd)
        };
        let control = run(f.control_port, "PostgreSQL").await;
        let got = run(f.proxy.addr.port(), "dbguru").await;
        let what = format!("pgJDBC DatabaseMetaData on {schema}.{table}");
        same(&what, &got, &control);
        assert_eq!(got["primary_keys"], pk, "{what}");
        assert!(got["imported_keys"].contains(&format!("{schema}.{parent}")), "{what}: {}", got["imported_keys"]);
        assert!(got["exported_keys"].contains(table), "{what}: {}", got["exported_keys"]);
        assert!(got["index_info"].contains(index), "{what}: {}", got["index_info"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgcli_completion_refresh_and_dt() {
    let f = fixture().await;
    let python = client_python();
    for (schema, table) in [("shop", "orders"), ("warehouse", "fact_sales")] {
        let args = |port: u16| vec![port.to_string(), schema.to_string(), table.to_string()];
        let what = format!("pgcli on {schema}");
        let control = python_client(&python, "bi_pgcli.py", &args(f.control_port), &format!("{what} (PostgreSQL)")).await;
        let got = python_client(&python, "bi_pgcli.py", &args(f.proxy.addr.port()), &format!("{what} (dbguru)")).await;
        same(&what, &got, &control);
        assert!(got["dt"].contains(table), "{what}: \\dt {}", got["dt"]);
        assert!(got["foreignkeys"].contains(table), "{what}: foreign keys {}", got["foreignkeys"]);
    }
}
