//! The walking skeleton over real databases: one ASK across PostgreSQL, MariaDB,
//! SQLite and DuckDB driven by the scripted LLM; EXPLAIN, follow-ups, safety, partial
//! answers, LLM failures, limits and bad input.

use crate::common;

use std::time::Duration;

use common::*;
use tokio_postgres::types::Type;

/// Four databases, each with a `customers` table of known content.
struct Fixture {
    proxy: Proxy,
    llm: ScriptedLlm,
    pg_db: String,
    my_db: String,
    _dir: tempfile::TempDir,
    lite: std::path::PathBuf,
    duck: std::path::PathBuf,
}

const PLAN: &str =
    "DATABASE: pg\nSELECT count(*) AS customers, sum(balance) AS total FROM customers;\n\n\
DATABASE: my\nSELECT count(*) AS customers, sum(balance) AS total FROM customers;\n\n\
DATABASE: lite\nSELECT count(*) AS customers, sum(balance) AS total FROM customers;\n\n\
DATABASE: duck\nSELECT count(*) AS customers, sum(balance) AS total FROM customers;\n";

async fn fixture(extra_toml: &str) -> Fixture {
    let pg = postgres().await;
    let (pg_db, pg_url) = pg.fresh_database("ask").await;
    pg.exec_in(
        &pg_db,
        "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, country text, balance numeric(10,2));
         INSERT INTO customers VALUES (1,'Ada','DE',10.50),(2,'Bo','FR',20.25),(3,'Cy','DE',5.00);",
    )
    .await;
    let my = mariadb().await;
    let (my_db, my_url) = my.fresh_database("ask").await;
    my.exec_in(
        &my_db,
        "CREATE TABLE customers (id int PRIMARY KEY, name varchar(50) NOT NULL, country varchar(20), balance decimal(10,2));
         INSERT INTO customers VALUES (1,'Di','ES',100.00),(2,'Ed','IT',1.10);",
    )
    .await;
    let dir = temp_dir();
    let lite = sqlite_file(
        dir.path(),
        "lite.sqlite",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT, balance REAL);
         INSERT INTO customers VALUES (1,'Fa','DE',1.5),(2,'Gu','NL',2.5),(3,'Ha','NL',3.0),(4,'Io','DE',4.0);",
    );
    let duck = duckdb_file(
        dir.path(),
        "duck.duckdb",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, country VARCHAR, balance DECIMAL(10,2));
         INSERT INTO customers VALUES (1,'Jo','US',7.77);",
    );
    let llm = ScriptedLlm::start().await;
    let toml = base_config(&format!(
        "{}\n[limits]\nmax_rows = 100\ntimeout = \"20s\"\n\n{}{}{}{}{}",
        llm.llm_toml("5s", 0),
        url_connection_toml("pg", "postgres", &pg_url),
        url_connection_toml("my", "mysql", &my_url),
        file_connection_toml("lite", "sqlite", &lite),
        file_connection_toml("duck", "duckdb", &duck),
        extra_toml,
    ));
    let proxy = start_proxy(&toml).await;
    Fixture {
        proxy,
        llm,
        pg_db,
        my_db,
        _dir: dir,
        lite,
        duck,
    }
}

impl Fixture {
    /// Row counts of `customers` in all four databases, read directly.
    async fn counts(&self) -> Vec<i64> {
        let pg = postgres().await.client_for(&self.pg_db).await;
        let a: i64 = pg
            .query_one("SELECT count(*) FROM customers", &[])
            .await
            .expect("pg count")
            .get(0);
        let b: i64 = mariadb()
            .await
            .query(&self.my_db, "SELECT count(*) FROM customers")
            .await[0][0]
            .as_deref()
            .and_then(|s| s.parse().ok())
            .expect("mariadb count");
        let c: i64 = rusqlite::Connection::open(&self.lite)
            .expect("open sqlite")
            .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
            .expect("sqlite count");
        let cfg = duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .expect("duck cfg");
        let d: i64 = duckdb::Connection::open_with_flags(&self.duck, cfg)
            .expect("open duckdb")
            .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
            .expect("duck count");
        vec![a, b, c, d]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_ask_spans_four_real_databases() {
    let f = fixture("").await;
    f.llm.set_default(Reply::text(PLAN));
    let c = f.proxy.connect().await;
    let r = simple(
        &c,
        "ASK 'how many customers are there and what is their total balance?'",
    )
    .await
    .expect("ask");
    assert_eq!(r.columns, vec!["source_db", "customers", "total"]);
    let mut rows = r.rows.clone();
    rows.sort();
    let want = |s: &str, n: &str, t: &str| {
        vec![
            Some(s.to_string()),
            Some(n.to_string()),
            Some(t.to_string()),
        ]
    };
    assert_eq!(
        rows,
        vec![
            want("duck", "1", "7.77"),
            want("lite", "4", "11"),
            want("my", "2", "101.10"),
            want("pg", "3", "35.75")
        ]
    );
    // The types on the wire: count is int8 everywhere; numeric + float8 + numeric → numeric.
    let stmt = c
        .prepare("ASK 'how many customers are there and what is their total balance?'")
        .await
        .expect("prepare");
    let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(types, vec![Type::TEXT, Type::INT8, Type::NUMERIC]);
    // The prompt named every database with its dialect.
    let prompt = f.llm.last_prompt_text();
    for needle in [
        "--- Database: pg (postgresql) ---",
        "--- Database: my (mysql) ---",
        "--- Database: lite (sqlite) ---",
        "--- Database: duck (duckdb) ---",
        "Table: pg.customers",
        "how many customers",
    ] {
        assert!(
            prompt.contains(needle),
            "prompt lacks {needle:?}:\n{prompt}"
        );
    }
    // Extended protocol with the question bound as a parameter returns the same rows.
    // (query_typed: Parse/Bind/Describe portal/Execute; see README for clients that
    // describe a statement before binding its parameters.)
    let rows = c
        .query_typed(
            "ASK $1",
            &[(
                &"how many customers are there and what is their total balance?",
                Type::TEXT,
            )],
        )
        .await
        .expect("ASK $1");
    assert_eq!(rows.len(), 4);
    let mut by_source: Vec<(String, i64)> = rows
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
        .collect();
    by_source.sort();
    assert_eq!(
        by_source,
        vec![
            ("duck".into(), 1),
            ("lite".into(), 4),
            ("my".into(), 2),
            ("pg".into(), 3)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_ask_shows_sql_and_runs_nothing() {
    let f = fixture("").await;
    // A marker unique to this test: the servers' logs are shared with concurrent tests.
    let marker = format!("explain_{}", uuid::Uuid::new_v4().simple());
    f.llm.set_default(Reply::text(
        PLAN.replace("AS customers", &format!("AS {marker}")),
    ));
    let c = f.proxy.connect().await;
    let pg = postgres().await;
    let my = mariadb().await;
    let (pg_mark, my_mark) = (pg.log_mark(), my.log_mark());
    let r = simple(&c, "EXPLAIN ASK 'how many customers are there?'")
        .await
        .expect("explain");
    assert_eq!(r.columns, vec!["source_db", "dialect", "sql"]);
    let mut got: Vec<(String, String, String)> = r
        .rows
        .iter()
        .map(|row| {
            (
                row[0].clone().unwrap_or_default(),
                row[1].clone().unwrap_or_default(),
                row[2].clone().unwrap_or_default(),
            )
        })
        .collect();
    got.sort();
    let sql = format!("SELECT count(*) AS {marker}, sum(balance) AS total FROM customers");
    assert_eq!(
        got,
        vec![
            ("duck".into(), "duckdb".into(), sql.clone()),
            ("lite".into(), "sqlite".into(), sql.clone()),
            ("my".into(), "mysql".into(), sql.clone()),
            ("pg".into(), "postgresql".into(), sql.clone()),
        ]
    );
    // Give the servers' logs a moment, then prove the statement never reached them.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !pg.statement_log_since(pg_mark).contains(&marker),
        "EXPLAIN ran SQL on PostgreSQL"
    );
    assert!(
        !my.general_log_since(my_mark).contains(&marker),
        "EXPLAIN ran SQL on MariaDB"
    );
    // ... while a real ASK does reach them.
    simple(&c, "ASK 'how many customers are there?'")
        .await
        .expect("ask");
    pg.wait_for_log(pg_mark, &marker, Duration::from_secs(5))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_up_prompt_carries_previous_turn() {
    let f = fixture("").await;
    let c = f.proxy.connect().await;
    f.llm.push_text(
        "DATABASE: pg\nSELECT count(*) AS customers FROM customers WHERE country = 'DE';",
    );
    let r = simple(&c, "ASK 'how many German customers are there?'")
        .await
        .expect("first");
    assert_eq!(r.rows, vec![vec![Some("pg".into()), Some("2".into())]]);
    f.llm.push_text(
        "DATABASE: pg\nSELECT count(*) AS customers FROM customers WHERE country = 'FR';",
    );
    let r = simple(&c, "ASK 'and French ones?'")
        .await
        .expect("follow-up");
    assert_eq!(r.rows, vec![vec![Some("pg".into()), Some("1".into())]]);
    let prompt = f.llm.last_prompt_text();
    assert!(
        prompt.contains("how many German customers are there?"),
        "{prompt}"
    );
    assert!(prompt.contains("WHERE country = 'DE'"), "{prompt}");
    assert!(prompt.contains("and French ones?"), "{prompt}");
    // A new connection is a new conversation.
    let c2 = f.proxy.connect().await;
    f.llm.push_text("DATABASE: pg\nSELECT 1 AS one;");
    simple(&c2, "ASK 'fresh start'").await.expect("fresh");
    assert!(!f.llm.last_prompt_text().contains("German"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dangerous_llm_sql_is_refused_and_databases_stay_unchanged() {
    let f = fixture("").await;
    let c = f.proxy.connect().await;
    let before = f.counts().await;
    let cases = [
        ("DATABASE: pg\nDROP TABLE customers;", "25006"),
        ("DATABASE: my\nDELETE FROM customers;", "25006"),
        ("DATABASE: lite\nUPDATE customers SET balance = 0;", "25006"),
        ("DATABASE: duck\nINSERT INTO customers VALUES (9, 'x', 'y', 1);", "25006"),
        ("DATABASE: pg\nSELECT 1; DROP TABLE customers;", "42601"),
        ("DATABASE: pg\nCOPY customers TO PROGRAM 'touch /tmp/dbguru-pwned';", "42501"),
        ("DATABASE: pg\nSELECT pg_read_file('/etc/passwd');", "42501"),
        ("DATABASE: lite\nATTACH DATABASE '/tmp/dbguru-evil.db' AS evil;", "42501"),
        ("DATABASE: my\nSELECT * FROM customers INTO OUTFILE '/tmp/dbguru-out';", "42501"),
        ("DATABASE: duck\nSELECT * FROM read_csv('/etc/passwd');", "42501"),
        ("DATABASE: pg\nSELECT count(*) AS n FROM customers;\n\nDATABASE: my\nDROP TABLE customers;", "25006"),
    ];
    for (reply, code) in cases {
        f.llm.push_text(reply);
        let err = simple(&c, "ASK 'do something'").await.expect_err(reply);
        assert_eq!(
            sqlstate(&err).as_deref(),
            Some(code),
            "{reply}: {}",
            error_message(&err)
        );
        assert!(
            error_message(&err).contains("refused"),
            "{}",
            error_message(&err)
        );
    }
    assert!(!std::path::Path::new("/tmp/dbguru-pwned").exists());
    assert_eq!(f.counts().await, before, "a database changed");
    // The session still works.
    f.llm
        .push_text("DATABASE: lite\nSELECT count(*) AS n FROM customers;");
    let r = simple(&c, "ASK 'how many?'").await.expect("still usable");
    assert_eq!(r.rows, vec![vec![Some("lite".into()), Some("4".into())]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_backends_are_refused_by_the_database_itself() {
    let f = fixture("").await;
    let before = f.counts().await;
    // Bypass the guard: the backend opened read-only must refuse on its own.
    for conn in &f.proxy.config.connections {
        let mut cfg = conn.clone();
        cfg.path = cfg.path.map(|p| f.proxy.config.resolve(&p));
        assert!(cfg.read_only, "connections default to read_only");
        let backend = dbguru::backends::open(&cfg).await.expect("open backend");
        let opts = dbguru::backends::QueryOptions {
            row_limit: None,
            timeout: Duration::from_secs(10),
            allow_write: true,
            ..Default::default()
        };
        let r = backend.query("DELETE FROM customers", &opts).await;
        match r {
            Err(dbguru::backends::BackendError::ReadOnly(msg)) => assert!(!msg.is_empty()),
            other => panic!(
                "{}: expected ReadOnly from the database, got {other:?}",
                cfg.name
            ),
        }
    }
    assert_eq!(f.counts().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_backend_gives_partial_answer_with_warning() {
    let dead_port = free_port();
    let f = fixture(&url_connection_toml(
        "dead",
        "postgres",
        &format!("postgres://postgres@127.0.0.1:{dead_port}/gone"),
    ))
    .await;
    let (c, notices) = f.proxy.connect_with_notices().await;
    f.llm.set_default(Reply::text("DATABASE: pg\nSELECT count(*) AS n FROM customers;\n\nDATABASE: lite\nSELECT count(*) AS n FROM customers;"));
    let r = simple(&c, "ASK 'how many customers?' ON pg, lite, dead")
        .await
        .expect("partial answer");
    let mut rows = r.rows.clone();
    rows.sort();
    assert_eq!(
        rows,
        vec![
            vec![Some("lite".into()), Some("4".into())],
            vec![Some("pg".into()), Some("3".into())]
        ]
    );
    let warnings = notices.lines();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("WARNING") && w.contains("\"dead\"")),
        "no WARNING naming the stopped database: {warnings:?}"
    );
    // Every database failing is an error, and the session goes on.
    let err = simple(&c, "ASK 'how many customers?' ON dead")
        .await
        .expect_err("all failed");
    assert!(
        error_message(&err).contains("dead"),
        "{}",
        error_message(&err)
    );
    assert!(sqlstate(&err).is_some());
    simple(&c, "ASK 'how many customers?' ON pg, lite")
        .await
        .expect("usable after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_failures_are_clear_errors_and_the_session_survives() {
    let f = fixture("").await;
    let c = f.proxy.connect().await;
    let good = "DATABASE: lite\nSELECT count(*) AS n FROM customers;";
    // HTTP 500
    f.llm.push_reply(Reply::error(500, "model overloaded"));
    let err = simple(&c, "ASK 'q1'").await.expect_err("500");
    assert_eq!(sqlstate(&err).as_deref(), Some("58000"));
    assert!(
        error_message(&err).contains("500"),
        "{}",
        error_message(&err)
    );
    assert!(!error_message(&err).contains("sk-scripted-test-key"));
    // Garbage body
    f.llm.push_reply(Reply::Garbage);
    let err = simple(&c, "ASK 'q2'").await.expect_err("garbage");
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("58000"),
        "{}",
        error_message(&err)
    );
    // Unparseable reply, twice (the repair round fails too)
    f.llm
        .push_text("I think you should look at the customers table.");
    f.llm.push_text("Sorry, I cannot help with that.");
    let err = simple(&c, "ASK 'q3'").await.expect_err("prose");
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("42601"),
        "{}",
        error_message(&err)
    );
    // A reply that parses after one repair works.
    f.llm.push_text("Here you go:");
    f.llm.push_text(good);
    let r = simple(&c, "ASK 'q4'").await.expect("repaired");
    assert_eq!(r.rows, vec![vec![Some("lite".into()), Some("4".into())]]);
    // The session answers plain SQL and ASK afterwards.
    f.llm.push_text(good);
    simple(&c, "ASK 'q5'").await.expect("usable");
    simple(&c, "SHOW dbguru.connections").await.expect("usable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_timeout_and_unreachable_are_clear_errors() {
    let llm = ScriptedLlm::start().await;
    let dir = temp_dir();
    let lite = sqlite_file(
        dir.path(),
        "l.sqlite",
        "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);",
    );
    let toml = base_config(&format!(
        "{}{}",
        llm.llm_toml("700ms", 0),
        file_connection_toml("lite", "sqlite", &lite)
    ));
    let proxy = start_proxy(&toml).await;
    let c = proxy.connect().await;
    llm.push_reply(Reply::Hang);
    let started = std::time::Instant::now();
    let err = simple(&c, "ASK 'slow'").await.expect_err("timeout");
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("57014"),
        "{}",
        error_message(&err)
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    llm.push_text("DATABASE: lite\nSELECT a FROM t;");
    simple(&c, "ASK 'fast'")
        .await
        .expect("usable after timeout");

    // LLM down: nothing listens on its port.
    let port = free_port();
    let toml = base_config(&format!(
        "[llm]\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:{port}/v1\"\nretries = 1\ntimeout = \"2s\"\n\n{}",
        file_connection_toml("lite", "sqlite", &lite)
    ));
    let proxy = start_proxy(&toml).await;
    let c = proxy.connect().await;
    let err = simple(&c, "ASK 'anyone there?'").await.expect_err("down");
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("58000"),
        "{}",
        error_message(&err)
    );
    assert!(
        error_message(&err).contains("unreachable"),
        "{}",
        error_message(&err)
    );
    let r = simple(&c, "SELECT a FROM t")
        .await
        .expect("plain SQL still works");
    assert_eq!(r.rows, vec![vec![Some("1".into())]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_rows_truncates_with_notice() {
    let f = fixture("").await;
    let (c, notices) = f.proxy.connect_with_notices().await;
    simple(&c, "SET dbguru.max_rows = 2").await.expect("set");
    f.llm.set_default(Reply::text("DATABASE: lite\nSELECT id, name FROM customers ORDER BY id;\n\nDATABASE: pg\nSELECT id, name FROM customers ORDER BY id;"));
    let r = simple(&c, "ASK 'list customers'").await.expect("ask");
    assert_eq!(r.rows.len(), 4, "2 rows from each database: {:?}", r.rows);
    let lines = notices.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("truncated") && l.contains("lite")),
        "{lines:?}"
    );
    // The cap went into the SQL: PostgreSQL was asked for at most 3 rows.
    let log = postgres().await.statement_log();
    assert!(log.contains("LIMIT 3"), "row cap not pushed down:\n{log}");
    // Above the configured cap is refused.
    let err = simple(&c, "SET dbguru.max_rows = 100000")
        .await
        .expect_err("above cap");
    assert_eq!(sqlstate(&err).as_deref(), Some("22023"));
}

async fn pg_sleepers(db: &str) -> i64 {
    let c = postgres().await.client().await;
    c.query_one(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()",
        &[&db],
    )
    .await
    .expect("pg_stat_activity")
    .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_cancels_the_query_on_the_server() {
    let f = fixture("").await;
    let c = f.proxy.connect().await;
    simple(&c, "SET dbguru.timeout = '1s'")
        .await
        .expect("set timeout");
    f.llm
        .push_text("DATABASE: pg\nSELECT pg_sleep(30) AS slept;");
    let started = std::time::Instant::now();
    let err = simple(&c, "ASK 'sleep'").await.expect_err("timeout");
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("57014"),
        "{}",
        error_message(&err)
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let mut gone = false;
    for _ in 0..50 {
        if pg_sleepers(&f.pg_db).await == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "pg_sleep still running on PostgreSQL");

    f.llm.push_text("DATABASE: my\nSELECT SLEEP(30) AS slept;");
    let err = simple(&c, "ASK 'sleep on mariadb'")
        .await
        .expect_err("timeout");
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("57014"),
        "{}",
        error_message(&err)
    );
    let my = mariadb().await;
    let mut gone = false;
    for _ in 0..50 {
        let procs = my.query(&f.my_db, "SELECT count(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP(30)%' AND DB = DATABASE() AND ID <> CONNECTION_ID()").await;
        if procs[0][0].as_deref() == Some("0") {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "SLEEP still running on MariaDB");
    simple(&c, "SHOW dbguru.timeout").await.expect("usable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_sqlstate_and_session_survives() {
    let f = fixture("").await;
    let c = f.proxy.connect().await;
    let cases = [
        ("ASK 'unterminated", "42601", "unterminated"),
        ("ASK ''", "22023", "empty"),
        (
            "ASK 'how many?' ON shp",
            "42704",
            "known: pg, my, lite, duck",
        ),
        ("SET dbguru.max_rows = -1", "22023", "max_rows"),
        ("SET dbguru.bogus = 1", "42704", "dbguru.bogus"),
        ("SET dbguru.connections = 'nope'", "42704", "nope"),
        ("SET dbguru.timeout = 'soon'", "22023", "soon"),
    ];
    for (sql, code, needle) in cases {
        let err = simple(&c, sql).await.expect_err(sql);
        assert_eq!(
            sqlstate(&err).as_deref(),
            Some(code),
            "{sql}: {}",
            error_message(&err)
        );
        assert!(
            error_message(&err).contains(needle),
            "{sql}: {}",
            error_message(&err)
        );
        let r = simple(&c, "SHOW dbguru.max_rows").await.expect("usable");
        assert_eq!(r.scalar().as_deref(), Some("100"));
    }
    assert_eq!(f.llm.request_count(), 0, "bad input must not reach the LLM");
    // Settings round-trip.
    simple(&c, "SET dbguru.connections = 'lite, duck'")
        .await
        .expect("set");
    assert_eq!(
        simple(&c, "SHOW dbguru.connections")
            .await
            .expect("show")
            .scalar()
            .as_deref(),
        Some("lite, duck")
    );
    simple(&c, "RESET dbguru.connections").await.expect("reset");
    assert_eq!(
        simple(&c, "SHOW dbguru.connections")
            .await
            .expect("show")
            .scalar()
            .as_deref(),
        Some("pg, my, lite, duck")
    );
    simple(&c, "SET dbguru.target = 'my'")
        .await
        .expect("target");
    let r = simple(&c, "SELECT count(*) AS n FROM customers")
        .await
        .expect("passthrough to my");
    assert_eq!(r.scalar().as_deref(), Some("2"));
}
