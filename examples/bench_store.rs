//! Store and cache benchmark (not a test): `cargo run --release --example bench_store`.
//!
//! 1. A cached ASK vs an uncached one, with the scripted LLM answering after 500 ms.
//! 2. Store writes do not serialize sessions: 64 concurrent sessions asking in a loop
//!    (SQLite store file, zero-latency LLM, caches off so every ASK runs and is stored)
//!    vs 1 session: throughput.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = temp_dir();
    let lite = sqlite_file(
        dir.path(),
        "s.sqlite",
        "CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2);",
    );
    let llm = ScriptedLlm::start().await;
    let store = dir.path().join("store.sqlite");
    let toml = base_config(&format!(
        "{}\n[store]\npath = {}\n\n[limits]\nmax_concurrency = 128\n\n{}",
        llm.llm_toml("10s", 0),
        toml_str(&store.display().to_string()),
        file_connection_toml("lite", "sqlite", &lite)
    ));
    let proxy = start_proxy(&toml).await;

    // 1. Cached vs uncached with a 500 ms LLM.
    llm.set_default(Reply::delayed(
        Duration::from_millis(500),
        Reply::text("DATABASE: lite\nSELECT sum(v) AS total FROM t;"),
    ));
    let c = proxy.connect().await;
    let t = Instant::now();
    simple(&c, "ASK 'what is the total?'")
        .await
        .expect("uncached ask");
    let uncached = t.elapsed();
    let mut cached = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        simple(&c, "ASK 'what is the total?'")
            .await
            .expect("cached ask");
        cached.push(t.elapsed());
    }
    cached.sort();
    println!("ASK with the LLM answering after 500 ms:");
    println!("  uncached {:8.2} ms", uncached.as_secs_f64() * 1000.0);
    println!(
        "  cached   {:8.2} ms p50, {:8.2} ms max (50 runs; LLM requests: {})",
        cached[25].as_secs_f64() * 1000.0,
        cached[49].as_secs_f64() * 1000.0,
        llm.request_count()
    );

    // 2. Throughput, 1 vs 64 sessions, every ASK stored.
    llm.set_default(Reply::text(
        "DATABASE: lite\nSELECT sum(v) AS total FROM t;",
    ));
    let run = |sessions: usize, secs: u64| {
        let proxy = &proxy;
        async move {
            let deadline = Instant::now() + Duration::from_secs(secs);
            let mut tasks = Vec::new();
            for _ in 0..sessions {
                let c = proxy.connect().await;
                tasks.push(tokio::spawn(async move {
                    simple(&c, "SET dbguru.use_cache = off")
                        .await
                        .expect("cache off");
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        simple(&c, "ASK 'what is the total?'").await.expect("ask");
                        n += 1;
                    }
                    n
                }));
            }
            let mut total = 0;
            for t in tasks {
                total += t.await.expect("join");
            }
            total as f64 / secs as f64
        }
    };
    let one = run(1, 5).await;
    let many = run(64, 5).await;
    println!("ASKs per second, every ASK written to the SQLite store (caches off):");
    println!("  1 session  {one:8.1}/s");
    println!("  64 sessions {many:7.1}/s  ({:.1}x)", many / one);
}
