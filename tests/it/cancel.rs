//! A CancelRequest (psql Ctrl-C, JDBC Statement.cancel) stops a running ASK: the LLM
//! call is dropped, backend queries are cancelled on their servers, the client gets 57014.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use tokio_postgres::NoTls;

async fn sleepers(db: &str) -> i64 {
    postgres()
        .await
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()",
            &[&db],
        )
        .await
        .expect("pg_stat_activity")
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_slow_ask_and_its_backend_query() {
    let pg = postgres().await;
    let (db, url) = pg.fresh_database("cancel").await;
    let llm = ScriptedLlm::start().await;
    let proxy = start_proxy(&base_config(&format!(
        "{}{}",
        llm.llm_toml("60s", 0),
        url_connection_toml("pg", "postgres", &url)
    )))
    .await;

    // 1. Cancelled while PostgreSQL works on the statement.
    let c = proxy.connect().await;
    let token = c.cancel_token();
    llm.push_text("DATABASE: pg\nSELECT 1 AS one FROM pg_sleep(30);");
    let task = tokio::spawn(async move {
        let r = simple(&c, "ASK 'sleep please'").await;
        (r, c)
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while sleepers(&db).await == 0 {
        assert!(Instant::now() < deadline, "the slow query never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cancelled_at = Instant::now();
    token.cancel_query(NoTls).await.expect("send CancelRequest");
    let (r, c) = task.await.expect("join");
    let err = r.expect_err("cancelled");
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("57014"),
        "{}",
        error_message(&err)
    );
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(1),
        "cancel took {:?}",
        cancelled_at.elapsed()
    );
    // The statement sleeps for 30 s: gone well before that means it was cancelled on
    // the server (the deadline leaves room for a loaded machine).
    let deadline = Instant::now() + Duration::from_secs(10);
    while sleepers(&db).await != 0 {
        assert!(
            Instant::now() < deadline,
            "pg_sleep still running after the cancel"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The connection is still usable.
    llm.push_text("DATABASE: pg\nSELECT 2 AS two;");
    let r = simple(&c, "ASK 'two?'").await.expect("usable after cancel");
    assert_eq!(r.rows, vec![vec![Some("pg".into()), Some("2".into())]]);

    // 2. Cancelled while the LLM is thinking.
    llm.push_reply(Reply::Hang);
    let token = c.cancel_token();
    let task = tokio::spawn(async move { simple(&c, "ASK 'think forever'").await });
    llm.wait_for_requests(3, Duration::from_secs(5)).await;
    let cancelled_at = Instant::now();
    token.cancel_query(NoTls).await.expect("send CancelRequest");
    let err = task.await.expect("join").expect_err("cancelled");
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("57014"),
        "{}",
        error_message(&err)
    );
    assert!(cancelled_at.elapsed() < Duration::from_secs(1));
}
