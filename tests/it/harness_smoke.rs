//! The test harness itself works (no proxy involved): real PostgreSQL and MariaDB start and
//! answer, the scripted LLM serves what it was told and records what it got, file databases
//! are created from scripts.

use crate::common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn postgres_starts_answers_and_logs_statements() {
    let (a, b) = tokio::join!(postgres(), postgres());
    assert_eq!(a.port, b.port, "one server per test binary");
    let pg = a;

    let client = pg.client().await;
    let one: i32 = client
        .query_one("SELECT 1", &[])
        .await
        .expect("SELECT 1")
        .get(0);
    assert_eq!(one, 1);

    let mark = pg.log_mark();
    let r = simple(
        &client,
        "SELECT 'smoke-marker-7f3a' AS tag, NULL::text AS nothing",
    )
    .await
    .expect("simple query");
    assert_eq!(r.columns, ["tag", "nothing"]);
    assert_eq!(
        r.rows,
        vec![vec![Some("smoke-marker-7f3a".to_string()), None]]
    );
    assert_eq!(r.get(0, "tag").as_deref(), Some("smoke-marker-7f3a"));
    let log = pg
        .wait_for_log(mark, "smoke-marker-7f3a", Duration::from_secs(5))
        .await;
    assert!(
        log.contains("statement: SELECT 'smoke-marker-7f3a'"),
        "{log}"
    );

    // Columns are known even without rows.
    let empty = simple(&client, "SELECT 1 AS a, 2 AS b WHERE false")
        .await
        .expect("empty select");
    assert_eq!(empty.columns, ["a", "b"]);
    assert!(empty.rows.is_empty());
    assert_eq!(empty.counts, [0]);

    let (name, url) = pg.fresh_database("smoke").await;
    assert!(url.ends_with(&format!("/{name}")), "{url}");
    pg.exec_in(
        &name,
        "CREATE TABLE t (id int primary key, v text); INSERT INTO t VALUES (1, 'x'), (2, NULL)",
    )
    .await;
    let c2 = pg.client_for(&name).await;
    let n: i64 = c2
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(n, 2);
}

#[tokio::test]
async fn postgres_errors_and_notices_are_captured() {
    let pg = postgres().await;
    let mut cfg: tokio_postgres::Config = pg.url().parse().expect("parse PG url");
    cfg.connect_timeout(Duration::from_secs(10));
    let (client, notices) = connect_config_with_notices(&cfg)
        .await
        .expect("connect with notices");

    client
        .batch_execute(
            "DO $$ BEGIN RAISE NOTICE 'harness notice %', 42; RAISE WARNING 'careful'; END $$",
        )
        .await
        .expect("DO block");
    let lines = notices.lines();
    assert_eq!(
        lines,
        ["NOTICE 00000: harness notice 42", "WARNING 01000: careful"],
        "{lines:?}"
    );
    assert_eq!(notices.take().len(), 2);
    assert!(notices.is_empty());

    let err = simple(&client, "SELECT 1/0")
        .await
        .expect_err("division by zero fails");
    assert_eq!(sqlstate(&err).as_deref(), Some("22012"));
    assert!(error_message(&err).contains("division by zero"), "{err}");
    // The session stays usable.
    assert_eq!(
        simple(&client, "SELECT 2")
            .await
            .expect("after error")
            .scalar()
            .as_deref(),
        Some("2")
    );
}

#[tokio::test]
async fn mariadb_starts_answers_and_logs_statements() {
    let my = mariadb().await;
    let (db, url) = my.fresh_database("smoke").await;
    assert_eq!(
        url,
        format!("mysql://dbguru:{}@127.0.0.1:{}/{db}", my.password, my.port)
    );

    let mark = my.log_mark();
    my.exec_in(&db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20), d DATE); INSERT INTO t VALUES (1, 'smoke-my-91c2', '2024-02-29'), (2, NULL, NULL)")
        .await;
    let rows = my.query(&db, "SELECT id, v, d FROM t ORDER BY id").await;
    assert_eq!(
        rows,
        vec![
            vec![
                Some("1".into()),
                Some("smoke-my-91c2".into()),
                Some("2024-02-29".into())
            ],
            vec![Some("2".into()), None, None],
        ]
    );
    assert!(
        my.general_log_since(mark).contains("smoke-my-91c2"),
        "{}",
        my.general_log_since(mark)
    );

    // The URL works as given (the anonymous users that would shadow dbguru@% are gone).
    use mysql_async::prelude::Queryable;
    let mut conn = mysql_async::Conn::from_url(&url)
        .await
        .expect("connect with url()");
    let user: Option<String> = conn
        .query_first("SELECT CURRENT_USER()")
        .await
        .expect("current_user");
    assert_eq!(user.as_deref(), Some("dbguru@%"));
    conn.disconnect().await.expect("disconnect");
}

async fn post(llm: &ScriptedLlm, body: &Value) -> (u16, String) {
    let resp = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
        .post(format!("{}/chat/completions", llm.base_url()))
        .header("Authorization", "Bearer sk-smoke")
        .json(body)
        .send()
        .await
        .expect("POST to ScriptedLlm");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("response body"))
}

fn chat(question: &str) -> Value {
    json!({
        "model": "scripted",
        "messages": [
            {"role": "system", "content": "You are a SQL planner."},
            {"role": "user", "content": question}
        ]
    })
}

#[tokio::test]
async fn scripted_llm_serves_replies_in_order_and_records_requests() {
    let llm = ScriptedLlm::start().await;
    assert!(llm.base_url().starts_with("http://127.0.0.1:") && llm.base_url().ends_with("/v1"));
    llm.push_text("DATABASE: shop\nSELECT 1;");
    llm.push_reply(Reply::Status(500, "upstream exploded".into()));
    llm.push_reply(Reply::Garbage);

    let (status, body) = post(&llm, &chat("how many customers?")).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).expect("a text reply is JSON");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "DATABASE: shop\nSELECT 1;"
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(llm.request_count(), 1);
    assert_eq!(
        llm.requests()[0]["messages"][1]["content"],
        "how many customers?"
    );
    assert_eq!(
        llm.last_prompt_text(),
        "You are a SQL planner.\n\nhow many customers?"
    );
    assert_eq!(
        llm.recorded()[0].header("authorization"),
        Some("Bearer sk-smoke")
    );

    let (status, body) = post(&llm, &chat("second")).await;
    assert_eq!((status, body.as_str()), (500, "upstream exploded"));

    let (status, body) = post(&llm, &chat("third")).await;
    assert_eq!(status, 200);
    assert!(
        serde_json::from_str::<Value>(&body).is_err(),
        "garbage must not be JSON: {body}"
    );

    // Queue empty, no responder: the default is a loud 500.
    let (status, body) = post(&llm, &chat("fourth")).await;
    assert_eq!(status, 500);
    assert!(body.contains("no reply scripted"), "{body}");
    assert_eq!(llm.request_count(), 4);
    assert_eq!(llm.pending_replies(), 0);
}

#[tokio::test]
async fn scripted_llm_responder_delay_hang_and_stream() {
    let llm = ScriptedLlm::start().await;
    llm.set_responder(|body| {
        let text = prompt_text(body);
        if text.contains("slow") {
            Reply::delayed(Duration::from_millis(300), Reply::text("late answer"))
        } else if text.contains("hang") {
            Reply::Hang
        } else {
            Reply::text(format!("echo: {}", text.len()))
        }
    });

    let (_, body) = post(&llm, &chat("abc")).await;
    let v: Value = serde_json::from_str(&body).expect("JSON");
    let expected_len = "You are a SQL planner.\n\nabc".len();
    assert_eq!(
        v["choices"][0]["message"]["content"],
        format!("echo: {expected_len}")
    );

    let started = std::time::Instant::now();
    let (_, body) = post(&llm, &chat("slow please")).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(body.contains("late answer"));

    let hanging = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .expect("reqwest client")
        .post(format!("{}/chat/completions", llm.base_url()))
        .json(&chat("hang forever"))
        .send()
        .await;
    let err = hanging.expect_err("a hung reply times out on the client");
    assert!(err.is_timeout(), "{err}");

    // Streaming requests get server-sent events.
    let mut req = chat("stream me");
    req["stream"] = json!(true);
    let (status, body) = post(&llm, &req).await;
    assert_eq!(status, 200);
    assert!(
        body.starts_with("data: ") && body.trim_end().ends_with("data: [DONE]"),
        "{body}"
    );
    assert!(body.contains("echo: "), "{body}");

    llm.wait_for_requests(4, Duration::from_secs(5)).await;
    assert_eq!(llm.request_count(), 4);
}

#[tokio::test]
async fn file_databases_from_scripts() {
    let dir = temp_dir();
    let s = sqlite_file(dir.path(), "shop.sqlite", "CREATE TABLE c (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO c VALUES (1,'ann'),(2,'bob');");
    let n: i64 = rusqlite::Connection::open(&s)
        .expect("open sqlite")
        .query_row("SELECT count(*) FROM c", [], |r| r.get(0))
        .expect("count sqlite");
    assert_eq!(n, 2);

    let d = duckdb_file(
        dir.path(),
        "wh.duckdb",
        "CREATE TABLE f (id INTEGER, amount DOUBLE); INSERT INTO f VALUES (1, 2.5), (2, 4.0);",
    );
    let total: f64 = duckdb::Connection::open(&d)
        .expect("open duckdb")
        .query_row("SELECT sum(amount) FROM f", [], |r| r.get(0))
        .expect("sum duckdb");
    assert_eq!(total, 6.5);
}

#[test]
fn toml_helpers_quote_and_build_configs() {
    assert_eq!(toml_str(r#"a"b\c"#), r#""a\"b\\c""#);
    let cfg = base_config(&url_connection_toml(
        "pg",
        "postgres",
        "postgres://postgres@127.0.0.1:1/x",
    ));
    let parsed = dbguru::config::Config::from_toml(&cfg, std::path::Path::new("."))
        .expect("base_config parses");
    assert_eq!(parsed.connections.len(), 1);
    assert_eq!(parsed.server.listen, "127.0.0.1:0");
}
