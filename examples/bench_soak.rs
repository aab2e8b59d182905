//! Soak benchmark (not a test): many sessions over time, mixed ASK and plain SQL, with the
//! proxy's memory sampled as it runs.
//!
//! ```text
//! cargo run --release --example bench_soak                 # 1,000 sessions over 10 minutes
//! cargo run --release --example bench_soak -- --secs 180   # the same sessions over 3 minutes
//! ```
//!
//! The embedded default's shape: the demo SQLite `shop` and DuckDB `warehouse` created in a
//! temporary directory, a SQLite store, the proxy in-process, and a scripted
//! OpenAI-compatible LLM answering at zero latency. Sessions (connections) arrive at an
//! even rate; each sets its target, runs `--stmts` statements (`--ask-pct` of them ASKs, the
//! rest plain SQL, some over the extended protocol) with `--think-ms` between them, and
//! disconnects. Half of the ASKs repeat a small set of questions (cache hits); the other
//! half are new questions, so the plan and result caches fill up to their bounds.
//! `--resident` sessions stay for the whole run and keep asking, so their chat history
//! grows for thousands of turns.
//!
//! Every `--sample-secs` it prints the process's RSS (`VmRSS` of /proc/self/status: the
//! proxy, plus this load generator and the scripted LLM, which keep constant-size state),
//! the statements done and the window's latency; at the end the RSS curve, the latency
//! percentiles per kind, and the RSS after 10 s idle.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tokio_postgres::NoTls;

/// Command-line options.
#[derive(Debug, Clone)]
struct Opts {
    secs: u64,
    sessions: usize,
    stmts: usize,
    think_ms: u64,
    ask_pct: u32,
    sample_secs: u64,
    resident: usize,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        secs: 600,
        sessions: 1000,
        stmts: 20,
        think_ms: 100,
        ask_pct: 30,
        sample_secs: 5,
        resident: 4,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let val = |i: usize| -> u64 {
            args.get(i + 1)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| {
                    eprintln!("{} needs a number", args[i]);
                    std::process::exit(2)
                })
        };
        match args[i].as_str() {
            "--secs" => o.secs = val(i).max(10),
            "--sessions" => o.sessions = val(i) as usize,
            "--stmts" => o.stmts = val(i).max(1) as usize,
            "--think-ms" => o.think_ms = val(i),
            "--ask-pct" => o.ask_pct = val(i).min(100) as u32,
            "--sample-secs" => o.sample_secs = val(i).max(1),
            "--resident" => o.resident = val(i) as usize,
            other => {
                eprintln!(
                    "unknown option {other}; options: --secs N (600) --sessions N (1000) --stmts N (20) \
                     --think-ms N (100) --ask-pct N (30) --sample-secs N (5) --resident N (4)"
                );
                std::process::exit(2)
            }
        }
        i += 2;
    }
    o
}

/// A fixed-size latency histogram: 10 µs buckets up to 1 s, then 1 ms buckets up to 61 s.
struct Hist {
    buckets: Vec<AtomicU64>,
}

const FINE: usize = 100_000;
const COARSE: usize = 60_000;

impl Hist {
    fn new() -> Hist {
        Hist {
            buckets: (0..FINE + COARSE).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn record(&self, d: Duration) {
        let us = d.as_micros() as u64;
        let i = if us < 1_000_000 {
            (us / 10) as usize
        } else {
            FINE + (((us - 1_000_000) / 1000) as usize).min(COARSE - 1)
        };
        self.buckets[i].fetch_add(1, Relaxed);
    }

    fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Relaxed)).sum()
    }

    /// Upper edge of the bucket holding the `p` quantile.
    fn pct(&self, p: f64) -> Duration {
        let n = self.count();
        if n == 0 {
            return Duration::ZERO;
        }
        let want = ((n as f64) * p).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Relaxed);
            if seen >= want {
                return if i < FINE {
                    Duration::from_micros(i as u64 * 10 + 10)
                } else {
                    Duration::from_millis(1000 + (i - FINE) as u64 + 1)
                };
            }
        }
        Duration::from_secs(61)
    }

    fn reset(&self) {
        for b in &self.buckets {
            b.store(0, Relaxed);
        }
    }
}

/// Everything the sessions record.
struct Stats {
    ask: Hist,
    sql: Hist,
    connect: Hist,
    window: Hist,
    started: AtomicUsize,
    finished: AtomicUsize,
    errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
    question: AtomicU64,
}

impl Stats {
    fn error(&self, what: &str, e: &tokio_postgres::Error) {
        self.errors.fetch_add(1, Relaxed);
        if let Ok(mut v) = self.first_errors.lock() {
            let msg = format!("{what}: {}", error_message(e));
            if v.len() < 10 && !v.contains(&msg) {
                v.push(msg);
            }
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// The scripted LLM's answer to a question (the last user message of the prompt): the
/// number in the question goes into the SQL, so a new question is a new plan.
fn answer(body: &Value) -> Reply {
    let q = body
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.last())
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let n: u64 = q
        .split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let shop = format!(
        "DATABASE: shop\nSELECT country, count(*) AS customers FROM customers WHERE id > {n} GROUP BY country ORDER BY country;\n"
    );
    let warehouse = format!(
        "DATABASE: warehouse\nSELECT d.year, sum(f.revenue) AS revenue FROM fact_sales f JOIN dim_date d ON d.date_key = f.date_key WHERE f.product_key > {n} GROUP BY d.year ORDER BY d.year;\n"
    );
    Reply::text(if q.contains("revenue") {
        warehouse
    } else if q.contains("both") {
        format!("{shop}{warehouse}")
    } else {
        shop
    })
}

fn question(rng: &mut StdRng, stats: &Stats) -> String {
    // Half from a small repeated set (plan and result cache hits), half new.
    let n = if rng.gen_bool(0.5) {
        rng.gen_range(0..20)
    } else {
        1000 + stats.question.fetch_add(1, Relaxed)
    };
    match rng.gen_range(0..3) {
        0 => format!("how many customers per country have an id above {n}?"),
        1 => format!("what was the revenue per year for products above {n}?"),
        _ => format!("both customers and sales, above {n}"),
    }
}

/// Parse/Describe/Bind/Execute/Close of `sql` with one integer parameter, bound as the
/// type the proxy described.
async fn extended(
    c: &tokio_postgres::Client,
    sql: &str,
    n: i64,
) -> Result<(), tokio_postgres::Error> {
    use tokio_postgres::types::{ToSql, Type};
    let st = c.prepare(sql).await?;
    let (i2, i4, text) = (n as i16, n as i32, n.to_string());
    let p: &(dyn ToSql + Sync) = match st.params().first() {
        Some(t) if *t == Type::INT2 => &i2,
        Some(t) if *t == Type::INT4 => &i4,
        Some(t) if *t == Type::INT8 => &n,
        _ => &text,
    };
    c.query(&st, &[p]).await.map(|_| ())
}

/// One statement of a session; records its latency (errors are counted, not fatal).
async fn statement(
    c: &tokio_postgres::Client,
    rng: &mut StdRng,
    stats: &Stats,
    ask_pct: u32,
    on_warehouse: bool,
) {
    let t = Instant::now();
    let (hist, what, r) = if rng.gen_range(0..100) < ask_pct {
        let sql = format!("ASK '{}'", question(rng, stats));
        (&stats.ask, "ASK", c.simple_query(&sql).await.map(|_| ()))
    } else {
        let n: i64 = rng.gen_range(1..200);
        let pick = rng.gen_range(0..4);
        let what = match (on_warehouse, pick) {
            (false, 0) => "SQL extended (shop)",
            (true, 0) => "SQL extended (warehouse)",
            (false, _) => "SQL simple (shop)",
            (true, _) => "SQL simple (warehouse)",
        };
        let r = match (on_warehouse, pick) {
            (false, 0) => extended(c, "SELECT name, price FROM products WHERE id = $1", n).await,
            (false, 1) => c
                .simple_query("SELECT status, count(*) FROM orders GROUP BY status")
                .await
                .map(|_| ()),
            (false, _) => c
                .simple_query(&format!(
                    "SELECT id, name, email, country FROM customers WHERE id = {n}"
                ))
                .await
                .map(|_| ()),
            (true, 0) => {
                extended(
                    c,
                    "SELECT product_name, list_price FROM dim_product WHERE product_key = $1",
                    n,
                )
                .await
            }
            (true, _) => c
                .simple_query(&format!(
                    "SELECT count(*) AS n, sum(revenue) AS revenue FROM fact_sales WHERE customer_key = {n}"
                ))
                .await
                .map(|_| ()),
        };
        (&stats.sql, what, r)
    };
    let d = t.elapsed();
    match r {
        Ok(()) => {
            hist.record(d);
            stats.window.record(d);
        }
        Err(e) => stats.error(what, &e),
    }
}

/// One session: connect, pick a target, run statements, disconnect.
async fn session(
    cfg: tokio_postgres::Config,
    id: u64,
    opts: Arc<Opts>,
    stats: Arc<Stats>,
    until: Option<Instant>,
) {
    let mut rng = StdRng::seed_from_u64(id);
    stats.started.fetch_add(1, Relaxed);
    let t = Instant::now();
    let client = match cfg.connect(NoTls).await {
        Ok((client, conn)) => {
            tokio::spawn(async move {
                let _ = conn.await;
            });
            client
        }
        Err(e) => {
            stats.error("connect", &e);
            stats.finished.fetch_add(1, Relaxed);
            return;
        }
    };
    stats.connect.record(t.elapsed());
    let on_warehouse = rng.gen_bool(0.3);
    if on_warehouse {
        if let Err(e) = client.simple_query("SET dbguru.target = warehouse").await {
            stats.error("SET", &e);
        }
    }
    let mut done = 0;
    loop {
        match until {
            Some(end) if Instant::now() >= end => break,
            None if done >= opts.stmts => break,
            _ => {}
        }
        statement(&client, &mut rng, &stats, opts.ask_pct, on_warehouse).await;
        done += 1;
        let jitter = rng.gen_range(0..=opts.think_ms);
        tokio::time::sleep(Duration::from_millis(opts.think_ms / 2 + jitter)).await;
    }
    drop(client);
    stats.finished.fetch_add(1, Relaxed);
}

/// One RSS sample.
struct Sample {
    t: f64,
    rss: f64,
    open: usize,
    started: usize,
    stmts: u64,
    window_p50: Duration,
    window_p95: Duration,
}

/// The embedded default's shape, with the scripted LLM.
fn config_toml(llm: &ScriptedLlm) -> String {
    base_config(&format!(
        "{}\n[store]\npath = \"data/dbguru-store.sqlite\"\n\n\
         [[connections]]\nid = 1\nname = \"shop\"\nkind = \"sqlite\"\npath = \"data/shop.sqlite\"\ndemo = \"shop\"\n\n\
         [[connections]]\nid = 2\nname = \"warehouse\"\nkind = \"duckdb\"\npath = \"data/warehouse.duckdb\"\ndemo = \"warehouse\"\n",
        llm.llm_toml("10s", 0)
    ))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let opts = Arc::new(parse_opts());
    let rss_start = rss_mb();
    let dir = temp_dir();
    let llm = Arc::new(ScriptedLlm::start().await);
    llm.set_responder(answer);
    let proxy = start_proxy_in(&config_toml(&llm), dir.path()).await;
    let cfg = proxy.pg_config("guru");
    let rss_ready = rss_mb();
    println!(
        "bench_soak: {} sessions over {} s ({} statements each, {}% ASK, think {} ms) + {} resident sessions; \
         SQLite shop + DuckDB warehouse demo, scripted LLM at zero latency",
        opts.sessions, opts.secs, opts.stmts, opts.ask_pct, opts.think_ms, opts.resident
    );
    println!("RSS at start {rss_start:.1} MB, proxy ready {rss_ready:.1} MB");
    println!(
        "{:>7} {:>9} {:>6} {:>8} {:>9} {:>10} {:>10}",
        "t (s)", "RSS (MB)", "open", "started", "stmts", "win p50", "win p95"
    );

    let stats = Arc::new(Stats {
        ask: Hist::new(),
        sql: Hist::new(),
        connect: Hist::new(),
        window: Hist::new(),
        started: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
        errors: AtomicU64::new(0),
        first_errors: Mutex::new(Vec::new()),
        question: AtomicU64::new(0),
    });
    let start = Instant::now();
    let end = start + Duration::from_secs(opts.secs);
    let mut tasks = tokio::task::JoinSet::new();
    for r in 0..opts.resident {
        let (cfg, opts, stats) = (cfg.clone(), opts.clone(), stats.clone());
        tasks.spawn(session(cfg, 1_000_000 + r as u64, opts, stats, Some(end)));
    }
    // Arrivals: evenly over the run, leaving the last sessions time to finish.
    let lifetime = Duration::from_millis(opts.stmts as u64 * (opts.think_ms + 5));
    let span = Duration::from_secs(opts.secs).saturating_sub(lifetime);
    let arrivals = {
        let (cfg, opts, stats) = (cfg.clone(), opts.clone(), stats.clone());
        tokio::spawn(async move {
            let mut set = tokio::task::JoinSet::new();
            for i in 0..opts.sessions {
                let at = start + span.mul_f64(i as f64 / opts.sessions.max(1) as f64);
                tokio::time::sleep_until(at.into()).await;
                set.spawn(session(
                    cfg.clone(),
                    i as u64,
                    opts.clone(),
                    stats.clone(),
                    None,
                ));
                while set.try_join_next().is_some() {}
            }
            while set.join_next().await.is_some() {}
        })
    };

    let mut samples: Vec<Sample> = Vec::new();
    let mut last_total = 0;
    let sample = |samples: &mut Vec<Sample>, last_total: &mut u64| {
        llm.clear_requests(); // the scripted LLM records requests; keep its memory flat
        let total = stats.ask.count() + stats.sql.count();
        let s = Sample {
            t: start.elapsed().as_secs_f64(),
            rss: rss_mb(),
            open: stats.started.load(Relaxed) - stats.finished.load(Relaxed),
            started: stats.started.load(Relaxed),
            stmts: total - *last_total,
            window_p50: stats.window.pct(0.5),
            window_p95: stats.window.pct(0.95),
        };
        stats.window.reset();
        *last_total = total;
        println!(
            "{:7.0} {:9.1} {:6} {:8} {:9} {:8.2}ms {:8.2}ms",
            s.t,
            s.rss,
            s.open,
            s.started,
            s.stmts,
            ms(s.window_p50),
            ms(s.window_p95)
        );
        samples.push(s);
    };
    let mut tick = tokio::time::interval(Duration::from_secs(opts.sample_secs));
    tick.tick().await;
    let mut arrivals = arrivals;
    loop {
        tokio::select! {
            _ = tick.tick() => sample(&mut samples, &mut last_total),
            r = &mut arrivals => {
                if let Err(e) = r {
                    eprintln!("arrivals task failed: {e}");
                }
                break;
            }
        }
    }
    while tasks.join_next().await.is_some() {}
    let ran = start.elapsed();
    sample(&mut samples, &mut last_total);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let rss_idle = rss_mb();

    // ---------------------------------------------------------------- report
    let warm = samples
        .iter()
        .find(|s| s.t >= (ran.as_secs_f64() * 0.25).min(60.0))
        .map(|s| s.rss)
        .unwrap_or(rss_ready);
    let after_warm: Vec<f64> = samples
        .iter()
        .filter(|s| s.t >= (ran.as_secs_f64() * 0.25).min(60.0))
        .map(|s| s.rss)
        .collect();
    let peak = samples.iter().map(|s| s.rss).fold(0.0, f64::max);
    let last = samples.last().map(|s| s.rss).unwrap_or(0.0);
    let (lo, hi) = after_warm
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    println!();
    println!(
        "ran {:.0} s: {} sessions ({} resident), {} ASK + {} SQL statements, {} errors",
        ran.as_secs_f64(),
        stats.started.load(Relaxed),
        opts.resident,
        stats.ask.count(),
        stats.sql.count(),
        stats.errors.load(Relaxed)
    );
    if let Ok(errs) = stats.first_errors.lock() {
        for e in errs.iter() {
            println!("  error: {e}");
        }
    }
    println!(
        "RSS: start {rss_start:.1} MB, proxy ready {rss_ready:.1} MB, after warm-up {warm:.1} MB, \
         after warm-up min {lo:.1} / max {hi:.1} MB, peak {peak:.1} MB, end {last:.1} MB, after 10 s idle {rss_idle:.1} MB"
    );
    let per_min = if ran.as_secs_f64() > 120.0 {
        (last - warm) / ((ran.as_secs_f64() - (ran.as_secs_f64() * 0.25).min(60.0)) / 60.0)
    } else {
        0.0
    };
    println!(
        "RSS growth after warm-up: {:+.1} MB ({per_min:+.2} MB/min)",
        last - warm
    );
    let step = samples.len().div_ceil(20).max(1);
    let curve: Vec<String> = samples
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i + 1 == samples.len())
        .map(|(_, s)| format!("{:.0}s {:.0}", s.t, s.rss))
        .collect();
    println!("RSS curve (MB): {} | idle {rss_idle:.0}", curve.join(", "));
    println!("latency (ms)          count      p50      p95      p99");
    let all = Hist::new();
    for h in [&stats.ask, &stats.sql] {
        for (i, b) in h.buckets.iter().enumerate() {
            all.buckets[i].fetch_add(b.load(Relaxed), Relaxed);
        }
    }
    for (name, h) in [
        ("ASK", &stats.ask),
        ("plain SQL", &stats.sql),
        ("all statements", &all),
        ("connect", &stats.connect),
    ] {
        println!(
            "  {name:<16} {:>9} {:8.2} {:8.2} {:8.2}",
            h.count(),
            ms(h.pct(0.5)),
            ms(h.pct(0.95)),
            ms(h.pct(0.99))
        );
    }
    let p95 = all.pct(0.95);
    println!(
        "goal p95 <= 50 ms: {} ({:.2} ms)",
        if p95 <= Duration::from_millis(50) {
            "met"
        } else {
            "NOT met"
        },
        ms(p95)
    );
    proxy.shutdown().await;
}
