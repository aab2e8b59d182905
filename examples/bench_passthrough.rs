//! Passthrough benchmark (not a test): `cargo run --release --example bench_passthrough`.
//!
//! 1. pgbench select-only (`-S`) against the same PostgreSQL directly and through dbguru,
//!    in simple, extended and prepared mode with 1, 8 and 32 clients: the ratio.
//! 2. A 1,000,000-row × 4-column SELECT read by psql: rate direct vs through dbguru, and
//!    the proxy's peak RSS (the proxy runs in this process; VmHWM of the process).

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::time::Instant;

use common::*;

fn vm_hwm_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.to_string())
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

#[allow(clippy::too_many_arguments)] // a pgbench command line, spelled out
fn pgbench(
    pg: &PgServer,
    host: &str,
    port: u16,
    user: &str,
    db: &str,
    mode: &str,
    clients: u32,
    secs: u32,
) -> f64 {
    let out = Command::new(pg.tool("pgbench"))
        .args([
            "-n",
            "-S",
            "-M",
            mode,
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &secs.to_string(),
            "-h",
            host,
            "-p",
            &port.to_string(),
            "-U",
            user,
            db,
        ])
        .output()
        .expect("run pgbench");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with("tps ="))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "pgbench failed: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

fn psql_rate(pg: &PgServer, conninfo: &str, sql: &str) -> f64 {
    let t = Instant::now();
    let out = Command::new(pg.tool("psql"))
        .args([conninfo, "-X", "-A", "-t", "-o", "/dev/null", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    1_000_000.0 / t.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let secs: u32 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let pg = postgres().await;
    let (db, url) = pg.fresh_database("pgbench").await;
    let init = Command::new(pg.tool("pgbench"))
        .args([
            "-i",
            "-s",
            "1",
            "-q",
            "-h",
            "127.0.0.1",
            "-p",
            &pg.port.to_string(),
            "-U",
            "postgres",
            &db,
        ])
        .output()
        .expect("pgbench -i");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let proxy = start_proxy(&base_config(&format!(
        "[limits]\nmax_concurrency = 64\n\n[[connections]]\nname = \"pg\"\nkind = \"postgres\"\nurl = {}\npool_size = 32\n",
        toml_str(&url)
    )))
    .await;
    println!("pgbench -S, {secs}s per run (tps direct / through dbguru / ratio):");
    for mode in ["simple", "extended", "prepared"] {
        for clients in [1u32, 8, 32] {
            let direct = pgbench(
                pg,
                "127.0.0.1",
                pg.port,
                "postgres",
                &db,
                mode,
                clients,
                secs,
            );
            let proxied = pgbench(
                pg,
                "127.0.0.1",
                proxy.addr.port(),
                "guru",
                "dbguru",
                mode,
                clients,
                secs,
            );
            println!(
                "  {mode:<8} c={clients:<2}  {direct:>9.0}  {proxied:>9.0}  {:.2}",
                proxied / direct
            );
        }
    }
    let sql = "SELECT g AS id, g * 2 AS twice, md5(g::text) AS hash, now() AS at FROM generate_series(1, 1000000) g";
    let before = vm_hwm_mb();
    let direct = psql_rate(
        pg,
        &format!("host=127.0.0.1 port={} user=postgres dbname={db}", pg.port),
        sql,
    );
    let proxied = psql_rate(
        pg,
        &format!(
            "host=127.0.0.1 port={} user=guru dbname=dbguru",
            proxy.addr.port()
        ),
        sql,
    );
    println!("1,000,000 rows x 4 columns read by psql (rows/s): direct {direct:.0}, through dbguru {proxied:.0}, ratio {:.2}", proxied / direct);
    println!(
        "process peak RSS (VmHWM): {:.0} MB before the big SELECT, {:.0} MB after",
        before,
        vm_hwm_mb()
    );
}
