//! Work stops when its client goes: a client whose socket closes while its statement
//! runs gets that statement stopped on the database within 2 s, for every kind; an ASK
//! whose client left while the LLM was thinking never starts its SQL; a CancelRequest
//! while rows are streaming stops the statement on the server.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use futures::StreamExt;
use tokio_postgres::{NoTls, SimpleQueryMessage};

/// How fast work must stop once the client is gone.
const PROMPT: Duration = Duration::from_secs(2);

/// The tests measure the proxy process (CPU time) and share the database servers: one
/// at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A client whose connection (socket) can be closed at will by aborting the returned task.
async fn abortable_client(proxy: &Proxy) -> (tokio_postgres::Client, tokio::task::JoinHandle<()>) {
    let (client, connection) = proxy
        .pg_config("guru")
        .connect(NoTls)
        .await
        .expect("connect to the proxy");
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    (client, task)
}

/// Starts `sql` on a fresh client of `proxy` and returns the task that owns the socket.
async fn start_statement(proxy: &Proxy, sql: &str) -> tokio::task::JoinHandle<()> {
    let (client, socket) = abortable_client(proxy).await;
    let sql = sql.to_string();
    tokio::spawn(async move {
        let _ = client.simple_query(&sql).await;
    });
    socket
}

/// Polls `check` until it is true (panics after `timeout`); returns how long it took.
async fn until(timeout: Duration, what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    started.elapsed()
}

async fn pg_active(db: &str, marker: &str) -> i64 {
    postgres()
        .await
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state = 'active' \
             AND query LIKE '%' || $2 || '%' AND pid <> pg_backend_pid()",
            &[&db, &marker],
        )
        .await
        .expect("pg_stat_activity")
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_statement_stops_when_the_client_goes() {
    let _serial = SERIAL.lock().await;
    let pg = postgres().await;
    let (db, url) = pg.fresh_database("disc_pg").await;
    let proxy = start_proxy(&base_config(&url_connection_toml("pg", "postgres", &url))).await;
    let socket = start_statement(&proxy, "SELECT pg_sleep(30), 'disc_pg_marker' AS m").await;
    until(Duration::from_secs(10), "pg_sleep to start", async || {
        pg_active(&db, "disc_pg_marker").await == 1
    })
    .await;
    socket.abort();
    let took = until(Duration::from_secs(10), "pg_sleep to stop", async || {
        pg_active(&db, "disc_pg_marker").await == 0
    })
    .await;
    assert!(
        took < PROMPT,
        "pg_sleep ran on for {took:?} after the client left"
    );
    // The proxy serves the next client.
    let c = proxy.connect().await;
    assert_eq!(
        simple(&c, "SELECT 7 AS n")
            .await
            .expect("next")
            .scalar()
            .as_deref(),
        Some("7")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_extended_protocol_statement_stops_when_the_client_goes() {
    let _serial = SERIAL.lock().await;
    let pg = postgres().await;
    let (db, url) = pg.fresh_database("disc_pgx").await;
    let proxy = start_proxy(&base_config(&url_connection_toml("pg", "postgres", &url))).await;
    let (client, socket) = abortable_client(&proxy).await;
    tokio::spawn(async move {
        // Parse/Describe/Bind/Execute: dbguru runs the statement while describing it.
        let _ = client
            .query("SELECT pg_sleep(30), 'disc_pgx_marker'::text AS m", &[])
            .await;
    });
    until(Duration::from_secs(10), "pg_sleep to start", async || {
        pg_active(&db, "disc_pgx_marker").await == 1
    })
    .await;
    socket.abort();
    let took = until(Duration::from_secs(10), "pg_sleep to stop", async || {
        pg_active(&db, "disc_pgx_marker").await == 0
    })
    .await;
    assert!(
        took < PROMPT,
        "pg_sleep ran on for {took:?} after the client left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_statement_stops_when_the_client_goes() {
    let _serial = SERIAL.lock().await;
    let my = mariadb().await;
    let (db, url) = my.fresh_database("disc_my").await;
    let proxy = start_proxy(&base_config(&url_connection_toml("my", "mysql", &url))).await;
    let socket = start_statement(&proxy, "SELECT SLEEP(30), 'disc_my_marker' AS m").await;
    let running = async || {
        let rows = my
            .query(
                &db,
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                 WHERE INFO LIKE '%disc_my_marker%' AND ID <> CONNECTION_ID()",
            )
            .await;
        rows[0][0].as_deref() == Some("1")
    };
    until(Duration::from_secs(10), "SLEEP to start", running).await;
    socket.abort();
    let took = until(Duration::from_secs(10), "SLEEP to stop", async || {
        let rows = my
            .query(
                &db,
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                 WHERE INFO LIKE '%disc_my_marker%' AND ID <> CONNECTION_ID()",
            )
            .await;
        rows[0][0].as_deref() == Some("0")
    })
    .await;
    assert!(
        took < PROMPT,
        "SLEEP ran on for {took:?} after the client left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_statement_stops_when_the_client_goes() {
    let _serial = SERIAL.lock().await;
    let dir = temp_dir();
    let path = sqlite_file(
        dir.path(),
        "disc.sqlite",
        "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);",
    );
    let proxy = start_proxy(&base_config(&format!(
        "{}pool_size = 1\n",
        file_connection_toml("lite", "sqlite", &path)
    )))
    .await;
    // Endless, constant memory, and it reads `t`: its read lock blocks writers.
    let socket = start_statement(
        &proxy,
        "WITH RECURSIVE c(x) AS (SELECT (SELECT max(x) FROM t) UNION ALL SELECT x + 1 FROM c) \
         SELECT count(*) FROM c",
    )
    .await;
    let writer = rusqlite::Connection::open(&path).expect("open the SQLite file");
    writer.busy_timeout(Duration::ZERO).expect("busy timeout");
    // An exclusive lock is refused while any statement holds its read lock.
    let can_write = || writer.execute_batch("BEGIN EXCLUSIVE; ROLLBACK").is_ok();
    until(
        Duration::from_secs(10),
        "the statement to hold its read lock",
        async || !can_write(),
    )
    .await;
    socket.abort();
    let took = until(Duration::from_secs(10), "the read lock to go", async || {
        can_write()
    })
    .await;
    assert!(
        took < PROMPT,
        "the SQLite statement ran on for {took:?} after the client left"
    );
    let c = proxy.connect().await;
    let started = Instant::now();
    assert_eq!(
        simple(&c, "SELECT count(*) AS n FROM t")
            .await
            .expect("next")
            .scalar()
            .as_deref(),
        Some("1")
    );
    assert!(started.elapsed() < PROMPT);
}

/// CPU seconds this process has used.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 (1-based, counting pid and comm).
    let ticks: f64 =
        fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0
}

async fn cpu_over(window: Duration) -> f64 {
    let before = cpu_seconds();
    tokio::time::sleep(window).await;
    cpu_seconds() - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_statement_stops_when_the_client_goes() {
    let _serial = SERIAL.lock().await;
    let dir = temp_dir();
    let path = duckdb_file(
        dir.path(),
        "disc.duckdb",
        "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);",
    );
    let proxy = start_proxy(&base_config(&format!(
        "{}pool_size = 1\n",
        file_connection_toml("duck", "duckdb", &path)
    )))
    .await;
    let socket = start_statement(
        &proxy,
        "SELECT sum(hash(a)) AS s FROM range(100000000000) r(a)",
    )
    .await;
    // DuckDB is busy: the process burns CPU.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let busy = cpu_over(Duration::from_secs(1)).await;
    assert!(
        busy > 0.5,
        "the DuckDB statement does not seem to run ({busy:.2} s CPU in 1 s)"
    );
    socket.abort();
    let left = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = cpu_over(Duration::from_secs(1)).await;
    assert!(
        idle < 0.3,
        "DuckDB still working {:?} after the client left ({idle:.2} s CPU in 1 s)",
        left.elapsed()
    );
    let c = proxy.connect().await;
    let started = Instant::now();
    assert_eq!(
        simple(&c, "SELECT count(*) AS n FROM t")
            .await
            .expect("next")
            .scalar()
            .as_deref(),
        Some("1")
    );
    assert!(started.elapsed() < PROMPT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_never_starts_its_sql_after_the_client_left() {
    let _serial = SERIAL.lock().await;
    let pg = postgres().await;
    let (_db, url) = pg.fresh_database("disc_ask").await;
    let llm = ScriptedLlm::start().await;
    let proxy = start_proxy(&base_config(&format!(
        "{}{}",
        llm.llm_toml("60s", 0),
        url_connection_toml("pg", "postgres", &url)
    )))
    .await;
    llm.push_reply(Reply::delayed(
        Duration::from_secs(3),
        Reply::text("DATABASE: pg\nSELECT 'disc_ask_marker' AS m;"),
    ));
    let mark = pg.log_mark();
    let socket = start_statement(&proxy, "ASK 'what is the marker?'").await;
    llm.wait_for_requests(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    socket.abort();
    // Past the LLM's reply, with room to spare.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let log = pg.statement_log_since(mark);
    assert!(
        !log.contains("disc_ask_marker"),
        "the ASK's SQL ran after its client left:\n{log}"
    );
    assert_eq!(llm.request_count(), 1, "no repair or retry either");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_request_while_rows_stream_stops_the_statement() {
    let _serial = SERIAL.lock().await;
    let pg = postgres().await;
    let (db, url) = pg.fresh_database("disc_stream").await;
    let proxy = start_proxy(&base_config(&format!(
        "[limits]\nmax_rows = 1000000000\n\n{}",
        url_connection_toml("pg", "postgres", &url)
    )))
    .await;
    let (client, _socket) = abortable_client(&proxy).await;
    let token = client.cancel_token();
    let rows = client
        .simple_query_raw(
            "SELECT generate_series(1, 200000000) AS g, repeat('x', 100) AS pad, \
             'disc_stream_marker' AS m",
        )
        .await
        .expect("start streaming");
    futures::pin_mut!(rows);
    let mut seen = 0;
    while seen < 1000 {
        match rows.next().await {
            Some(Ok(SimpleQueryMessage::Row(_))) => seen += 1,
            Some(Ok(_)) => {}
            other => panic!("the stream ended early: {other:?}"),
        }
    }
    assert_eq!(pg_active(&db, "disc_stream_marker").await, 1);
    // psql's Ctrl-C: a CancelRequest on a new connection, then keep reading.
    let cancelled = Instant::now();
    token.cancel_query(NoTls).await.expect("send CancelRequest");
    let err = loop {
        match tokio::time::timeout(Duration::from_secs(10), rows.next()).await {
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => break e,
            Ok(None) => panic!("the result ended without an error"),
            Err(_) => panic!("no error 10 s after the CancelRequest"),
        }
    };
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("57014"),
        "{}",
        error_message(&err)
    );
    let took = until(
        Duration::from_secs(10),
        "the statement to stop",
        async || pg_active(&db, "disc_stream_marker").await == 0,
    )
    .await;
    assert!(
        cancelled.elapsed() < PROMPT + Duration::from_secs(1),
        "stopped {took:?} after being noticed, {:?} after the CancelRequest",
        cancelled.elapsed()
    );
    // The connection is usable afterwards.
    let r = simple(&client, "SELECT 5 AS n")
        .await
        .expect("usable after the cancel");
    assert_eq!(r.scalar().as_deref(), Some("5"));
}
