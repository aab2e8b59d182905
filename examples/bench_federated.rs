//! Federated join benchmark (not a test): `cargo run --release --example bench_federated`.
//!
//! A 1,000,000-row PostgreSQL table joined with a 100,000-row MariaDB table through the
//! proxy, with a selective filter (1 % of the PostgreSQL rows) and without, against the
//! same join in DuckDB over local copies (ratio); rows MariaDB sent (its `Rows_sent`
//! counter) with semi-join pushdown and without (`pushdown_keys = 0`); the proxy's peak
//! RSS (VmHWM) after the unfiltered join. `BENCH_PG_ROWS` / `BENCH_MY_ROWS` change sizes.
//!
//! Uses the test harness (throwaway PostgreSQL and MariaDB).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;

fn env(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn rows_sent(my: &MyServer, db: &str) -> i64 {
    my.query(db, "SHOW GLOBAL STATUS LIKE 'Rows_sent'")
        .await
        .first()
        .and_then(|r| r.get(1).cloned().flatten())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn timed(c: &tokio_postgres::Client, sql: &str) -> (Duration, Vec<String>) {
    let started = Instant::now();
    let r = simple(c, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {}", error_message(&e)));
    let row = r.rows.first().cloned().unwrap_or_default();
    (
        started.elapsed(),
        row.into_iter().map(|v| v.unwrap_or_default()).collect(),
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let pg_rows = env("BENCH_PG_ROWS", 1_000_000);
    let my_rows = env("BENCH_MY_ROWS", 100_000);
    let pg = postgres().await;
    let my = mariadb().await;
    let (pg_db, pg_url) = pg.fresh_database("fedbench").await;
    pg.exec_in(
        &pg_db,
        &format!(
            "CREATE TABLE big AS SELECT g::bigint AS id, (g % 100)::int AS cat, (g % 977)::float8 AS val \
             FROM generate_series(1, {pg_rows}) g; ANALYZE big;"
        ),
    )
    .await;
    let (my_db, my_url) = my.fresh_database("fedbench").await;
    my.exec_in(
        &my_db,
        &format!(
            "CREATE TABLE small (id INT PRIMARY KEY, name VARCHAR(40)); \
             INSERT INTO small SELECT seq * 10, CONCAT('n', seq) FROM seq_1_to_{my_rows};"
        ),
    )
    .await;
    let local = duckdb::Connection::open_in_memory().expect("duckdb");
    local
        .execute_batch(&format!(
            "CREATE TABLE big AS SELECT g::BIGINT AS id, (g % 100)::INTEGER AS cat, (g % 977)::DOUBLE AS val FROM range(1, {pg_rows} + 1) t(g);
             CREATE TABLE small AS SELECT (g * 10)::INTEGER AS id, 'n' || g AS name FROM range(1, {my_rows} + 1) t(g);"
        ))
        .expect("local copies");

    let filtered =
        "SELECT count(*), sum(b.val) FROM pg.big b JOIN my.small s ON s.id = b.id WHERE b.cat = 7";
    let unfiltered = "SELECT count(*), sum(b.val) FROM pg.big b JOIN my.small s ON s.id = b.id";
    let local_sql = |sql: &str| sql.replace("pg.big", "big").replace("my.small", "small");

    for (label, keys) in [
        ("semi-join pushdown on", 10_000),
        ("semi-join pushdown off", 0),
    ] {
        let toml = base_config(&format!(
            "{}{}[limits]\ntimeout = \"300s\"\n\n[federation]\npushdown_keys = {keys}\n",
            url_connection_toml("pg", "postgres", &pg_url),
            url_connection_toml("my", "mysql", &my_url),
        ));
        let proxy = start_proxy(&toml).await;
        let c = proxy.connect().await;
        println!("## {label} (pushdown_keys = {keys})");
        for (name, sql) in [("filtered (1 %)", filtered), ("unfiltered", unfiltered)] {
            // One warm-up, then the best of 3.
            let _ = timed(&c, sql).await;
            let mut best = Duration::MAX;
            let mut answer = Vec::new();
            let sent_before = rows_sent(my, &my_db).await;
            for _ in 0..3 {
                let (d, a) = timed(&c, sql).await;
                best = best.min(d);
                answer = a;
            }
            let sent = (rows_sent(my, &my_db).await - sent_before - 3) / 3;
            let lsql = local_sql(sql);
            let mut local_best = Duration::MAX;
            let mut local_answer = String::new();
            for _ in 0..3 {
                let started = Instant::now();
                local_answer = local
                    .query_row(&lsql, [], |r| Ok(format!("{}", r.get::<_, i64>(0)?)))
                    .expect("local join");
                local_best = local_best.min(started.elapsed());
            }
            println!(
                "{name}: proxy {:.1} ms, local DuckDB {:.1} ms, ratio {:.2}; count {} (local {local_answer}); MariaDB rows sent per run ≈ {sent}; proxy peak RSS {:.0} MB",
                best.as_secs_f64() * 1000.0,
                local_best.as_secs_f64() * 1000.0,
                best.as_secs_f64() / local_best.as_secs_f64().max(1e-9),
                answer.first().cloned().unwrap_or_default(),
                peak_rss_mb()
            );
        }
    }
}
