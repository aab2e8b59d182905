//! ASK benchmark (not a test): `cargo run --release --example bench_ask`.
//!
//! 1. 4 databases (PostgreSQL, MariaDB, SQLite, DuckDB) × 1 row, scripted LLM at zero
//!    latency: ASK latency p50/p99 vs the same 4 queries run directly in parallel.
//! 2. 8 databases each taking 100 ms (pg_sleep / SLEEP): ASK wall time (goal ≤ 130 ms).
//!
//! Uses the test harness (throwaway PostgreSQL and MariaDB, scripted LLM).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let iterations: usize = std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let pg = postgres().await;
    let my = mariadb().await;
    let (pg_db, pg_url) = pg.fresh_database("bench").await;
    pg.exec_in(&pg_db, "CREATE TABLE t (v int); INSERT INTO t VALUES (1);")
        .await;
    let (my_db, my_url) = my.fresh_database("bench").await;
    my.exec_in(&my_db, "CREATE TABLE t (v int); INSERT INTO t VALUES (1);")
        .await;
    let dir = temp_dir();
    let lite = sqlite_file(
        dir.path(),
        "b.sqlite",
        "CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1);",
    );
    let duck = duckdb_file(
        dir.path(),
        "b.duckdb",
        "CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1);",
    );
    let llm = ScriptedLlm::start().await;
    llm.set_default(Reply::text(
        "DATABASE: pg\nSELECT v FROM t;\nDATABASE: my\nSELECT v FROM t;\nDATABASE: lite\nSELECT v FROM t;\nDATABASE: duck\nSELECT v FROM t;",
    ));
    let toml = base_config(&format!(
        "{}{}{}{}{}",
        llm.llm_toml("10s", 0),
        url_connection_toml("pg", "postgres", &pg_url),
        url_connection_toml("my", "mysql", &my_url),
        file_connection_toml("lite", "sqlite", &lite),
        file_connection_toml("duck", "duckdb", &duck),
    ));
    let proxy = start_proxy(&toml).await;
    let c = proxy.connect().await;
    // Measure real work: no plan or result cache.
    simple(&c, "SET dbguru.use_cache = off")
        .await
        .expect("cache off");

    // Direct clients for the baseline.
    let pgc = pg.client_for(&pg_db).await;
    let my_pool = mysql_async::Pool::new(my_url.as_str());
    let lite_conn = std::sync::Arc::new(std::sync::Mutex::new(
        rusqlite::Connection::open(&lite).expect("sqlite"),
    ));
    let duck_conn = std::sync::Arc::new(std::sync::Mutex::new(
        duckdb::Connection::open_with_flags(
            &duck,
            duckdb::Config::default()
                .access_mode(duckdb::AccessMode::ReadOnly)
                .expect("cfg"),
        )
        .expect("duckdb"),
    ));

    for _ in 0..20 {
        simple(&c, "ASK 'v?'").await.expect("warm-up ask");
    }
    let mut ask = Vec::with_capacity(iterations);
    let mut direct = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        let r = simple(&c, "ASK 'v?'").await.expect("ask");
        assert_eq!(r.rows.len(), 4);
        ask.push(t.elapsed());

        let t = Instant::now();
        let (lc, dc) = (lite_conn.clone(), duck_conn.clone());
        let (a, b, x, y) = tokio::join!(
            pgc.query("SELECT v FROM t", &[]),
            async {
                use mysql_async::prelude::Queryable;
                let mut conn = my_pool.get_conn().await.expect("my conn");
                conn.query::<i32, _>("SELECT v FROM t").await
            },
            tokio::task::spawn_blocking(move || lc.lock().expect("lock").query_row(
                "SELECT v FROM t",
                [],
                |r| r.get::<_, i64>(0)
            )),
            tokio::task::spawn_blocking(move || dc.lock().expect("lock").query_row(
                "SELECT v FROM t",
                [],
                |r| r.get::<_, i64>(0)
            )),
        );
        a.expect("pg");
        b.expect("my");
        x.expect("join").expect("sqlite");
        y.expect("join").expect("duck");
        direct.push(t.elapsed());
    }
    let (a50, a99) = (pct(&mut ask, 0.5), pct(&mut ask, 0.99));
    let (d50, d99) = (pct(&mut direct, 0.5), pct(&mut direct, 0.99));
    println!(
        "ASK over 4 databases x 1 row, {iterations} iterations, scripted LLM at zero latency:"
    );
    println!(
        "  ASK end-to-end        p50 {:7.2} ms   p99 {:7.2} ms",
        ms(a50),
        ms(a99)
    );
    println!(
        "  direct, 4 in parallel p50 {:7.2} ms   p99 {:7.2} ms",
        ms(d50),
        ms(d99)
    );
    println!(
        "  proxy overhead        p50 {:7.2} ms   p99 {:7.2} ms",
        ms(a50) - ms(d50),
        ms(a99) - ms(d99)
    );

    // 8 databases, each statement taking 100 ms.
    let mut conns = String::new();
    let mut reply = String::new();
    for i in 0..4 {
        let (_, url) = pg.fresh_database("slowpg").await;
        conns.push_str(&url_connection_toml(&format!("pg{i}"), "postgres", &url));
        reply.push_str(&format!(
            "DATABASE: pg{i}\nSELECT 1 AS v FROM pg_sleep(0.1);\n"
        ));
        let (_, url) = my.fresh_database("slowmy").await;
        conns.push_str(&url_connection_toml(&format!("my{i}"), "mysql", &url));
        reply.push_str(&format!("DATABASE: my{i}\nSELECT SLEEP(0.1) AS v;\n"));
    }
    llm.set_default(Reply::text(reply));
    let proxy8 = start_proxy(&base_config(&format!(
        "{}{}",
        llm.llm_toml("10s", 0),
        conns
    )))
    .await;
    let c8 = proxy8.connect().await;
    simple(&c8, "SET dbguru.use_cache = off")
        .await
        .expect("cache off");
    simple(&c8, "ASK 'slow?'").await.expect("warm-up");
    let mut walls = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let r = simple(&c8, "ASK 'slow?'").await.expect("ask 8");
        assert_eq!(r.rows.len(), 8);
        walls.push(t.elapsed());
    }
    let (w50, wmax) = (pct(&mut walls, 0.5), pct(&mut walls, 1.0));
    println!("ASK over 8 databases each taking 100 ms, 20 iterations:");
    println!(
        "  wall p50 {:7.2} ms   max {:7.2} ms   (goal <= 130 ms; serial would be >= 800 ms)",
        ms(w50),
        ms(wmax)
    );
}
