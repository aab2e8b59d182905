//! HTTP API benchmark (not a test): `cargo run --release --example bench_http`.
//!
//! 4 databases (PostgreSQL, MariaDB, SQLite, DuckDB) × 1 row, scripted LLM at zero
//! latency, caches off: `POST /api/multi-query/` latency p50/p99 against the same ASK
//! over the wire (interleaved), then requests per second with 64 concurrent clients.
//! `BENCH_ITERATIONS` (default 300), `BENCH_CONCURRENT_SECONDS` (default 10).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let iterations = env("BENCH_ITERATIONS", 300) as usize;
    let seconds = env("BENCH_CONCURRENT_SECONDS", 10);
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
        "[http]\nlisten = \"127.0.0.1:0\"\n\n[limits]\nmax_concurrency = 256\n\n{}{}{}{}{}",
        llm.llm_toml("10s", 0),
        url_connection_toml("pg", "postgres", &pg_url),
        url_connection_toml("my", "mysql", &my_url),
        file_connection_toml("lite", "sqlite", &lite),
        file_connection_toml("duck", "duckdb", &duck),
    ));
    let proxy = start_proxy(&toml).await;
    let c = proxy.connect().await;
    simple(&c, "SET dbguru.use_cache = off")
        .await
        .expect("cache off");
    let http = reqwest::Client::new();
    let url = format!("{}/api/multi-query/", proxy.http_url());
    let body = serde_json::json!({"question": "v?", "use_cache": false});
    let post = |http: reqwest::Client, url: String, body: serde_json::Value| async move {
        let r = http.post(&url).json(&body).send().await.expect("post");
        assert!(r.status().is_success(), "HTTP {}", r.status());
        let v: serde_json::Value = r.json().await.expect("json");
        assert_eq!(v["total_rows"], 4);
    };
    for _ in 0..20 {
        simple(&c, "ASK 'v?'").await.expect("warm-up ask");
        post(http.clone(), url.clone(), body.clone()).await;
    }
    let mut wire = Vec::with_capacity(iterations);
    let mut api = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        let r = simple(&c, "ASK 'v?'").await.expect("ask");
        assert_eq!(r.rows.len(), 4);
        wire.push(t.elapsed());
        let t = Instant::now();
        post(http.clone(), url.clone(), body.clone()).await;
        api.push(t.elapsed());
    }
    let (w50, w99) = (pct(&mut wire, 0.5), pct(&mut wire, 0.99));
    let (h50, h99) = (pct(&mut api, 0.5), pct(&mut api, 0.99));
    println!("ASK over 4 databases x 1 row, {iterations} iterations each, interleaved, scripted LLM at zero latency, caches off:");
    println!(
        "  wire ASK               p50 {:7.2} ms   p99 {:7.2} ms",
        ms(w50),
        ms(w99)
    );
    println!(
        "  POST /api/multi-query/ p50 {:7.2} ms   p99 {:7.2} ms",
        ms(h50),
        ms(h99)
    );
    println!(
        "  HTTP - wire            p50 {:7.2} ms   p99 {:7.2} ms",
        ms(h50) - ms(w50),
        ms(h99) - ms(w99)
    );

    let done = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (http, url, body, done) = (http.clone(), url.clone(), body.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                post(http.clone(), url.clone(), body.clone()).await;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
    let n = done.load(Ordering::Relaxed);
    println!(
        "64 concurrent HTTP clients for {seconds}s: {n} answers, {:.0} requests/s",
        n as f64 / started.elapsed().as_secs_f64()
    );
    proxy.shutdown().await;
}
