//! Large-schema benchmark (not a test): `cargo run --release --example bench_schema`.
//!
//! Loads the retrieval corpus (`tests/retrieval/`: a 2,000-table PostgreSQL ERP and a
//! 500-table MariaDB CRM) and reports: how long the schema cache takes to read both at
//! start, ASK latency over the 229 questions (scripted LLM at zero latency, plan and
//! result caches off) next to a direct `SELECT 1` on PostgreSQL, the schema tokens sent,
//! and the recall of the tables each question needs.
//!
//! Uses the test harness (throwaway PostgreSQL and MariaDB, scripted LLM).

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::*;

fn pct<T: Ord + Copy>(v: &mut [T], p: f64) -> T {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn corpus(name: &str) -> String {
    std::fs::read_to_string(manifest_dir().join("tests/retrieval").join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let pg = postgres().await;
    let my = mariadb().await;
    let (erp_db, erp_url) = pg.fresh_database("erp").await;
    let (crm_db, crm_url) = my.fresh_database("crm").await;
    pg.exec_in(&erp_db, &corpus("erp_pg.sql")).await;
    my.exec_in(&crm_db, &corpus("crm_mariadb.sql")).await;
    let llm = ScriptedLlm::start().await;
    llm.set_default(Reply::text("DATABASE: erp\nSELECT 1 AS one;"));
    let toml = base_config(&format!(
        "{}\n[cache]\nplan_entries = 0\nresult_ttl = \"0s\"\n\n{}{}",
        llm.llm_toml("10s", 0),
        url_connection_toml("erp", "postgres", &erp_url),
        url_connection_toml("crm", "mysql", &crm_url),
    ));

    let started = Instant::now();
    let proxy = start_proxy(&toml).await;
    let c = proxy.connect().await;
    // The first ASK waits for the background introspection of both connections.
    simple(&c, "EXPLAIN ASK 'warm up'").await.expect("ask");
    let introspection = started.elapsed();

    let questions: Vec<(String, Vec<String>)> = corpus("questions.tsv")
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(q, t)| (q.to_string(), t.split(',').map(str::to_string).collect()))
        .collect();
    let direct = pg.client_for(&erp_db).await;
    let (mut ask, mut plain, mut tokens) = (Vec::new(), Vec::new(), Vec::new());
    let (mut needed, mut found) = (0usize, 0usize);
    for (q, want) in &questions {
        llm.clear_requests();
        let t = Instant::now();
        simple(&c, &format!("ASK '{}'", q.replace('\'', "''")))
            .await
            .expect("ask");
        ask.push(t.elapsed());
        let t = Instant::now();
        direct
            .simple_query("SELECT 1 AS one")
            .await
            .expect("direct");
        plain.push(t.elapsed());
        let body = llm.requests().pop().expect("request");
        let system = body["messages"][0]["content"].as_str().unwrap_or("");
        let schema = &system[system.find("# Multi-Database Schema").unwrap_or(0)..];
        tokens.push(schema.chars().count().div_ceil(4));
        let sent: HashSet<&str> = schema
            .lines()
            .filter_map(|l| l.strip_prefix("Table: "))
            .filter_map(|r| r.split(' ').next())
            .collect();
        needed += want.len();
        found += want.iter().filter(|t| sent.contains(t.as_str())).count();
    }
    let mut overhead: Vec<Duration> = ask
        .iter()
        .zip(&plain)
        .map(|(a, p)| a.saturating_sub(*p))
        .collect();
    println!("| what | value |\n|---|---|");
    println!(
        "| start → first ASK answered (schema cache reads 2,000 + 500 tables) | {:.0} ms |",
        ms(introspection)
    );
    println!(
        "| ASK p50 / p95 ({} questions, LLM at zero latency, caches off) | {:.1} ms / {:.1} ms |",
        questions.len(),
        ms(pct(&mut ask.clone(), 0.5)),
        ms(pct(&mut ask, 0.95))
    );
    println!(
        "| ASK overhead above a direct `SELECT 1` p50 | {:.1} ms |",
        ms(pct(&mut overhead, 0.5))
    );
    println!(
        "| schema tokens sent p50 / p95 (budget 6000) | {} / {} |",
        pct(&mut tokens.clone(), 0.5),
        pct(&mut tokens, 0.95)
    );
    println!(
        "| recall of needed tables | {found}/{needed} = {:.3} |",
        found as f64 / needed as f64
    );
}
