//! Passthrough benchmark (not a test): `cargo run --release --example bench_passthrough`.
//!
//! 1. pgbench select-only (`-S`) against the same PostgreSQL directly and through dbguru,
//!    in simple, extended and prepared mode with 1, 8 and 32 clients: the ratio.
//!    When `pgbouncer` is installed (Debian package `pgbouncer`), the same runs go
//!    through it too, session pooling, as the yardstick of a proxy that does no SQL
//!    work at all.
//! 2. A 1,000,000-row × 4-column SELECT read by psql (simple protocol) and by
//!    tokio-postgres (extended protocol): rate direct vs through dbguru, and the
//!    proxy's peak RSS (the proxy runs in this process; VmHWM of the process).

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::TryStreamExt;

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

/// A pgbouncer in session-pooling mode in front of `pg`/`db`, when it is installed.
struct Bouncer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_pgbouncer(pg: &PgServer, db: &str) -> Option<Bouncer> {
    let bin = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let d = dir.path().display();
    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        format!(
            "[databases]\n{db} = host=127.0.0.1 port={} dbname={db} user=postgres\n\n\
             [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nauth_type = trust\n\
             auth_file = {d}/users.txt\npool_mode = session\nmax_client_conn = 200\n\
             default_pool_size = 40\nunix_socket_dir =\nlogfile = {d}/pgbouncer.log\n",
            pg.port
        ),
    )
    .expect("write pgbouncer.ini");
    std::fs::write(dir.path().join("users.txt"), "\"postgres\" \"\"\n").expect("users.txt");
    // pgbouncer refuses to run as root: run it as `postgres`, like the test servers.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let ini = dir.path().join("pgbouncer.ini");
    let mut cmd = if root {
        let _ = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir.path())
            .status();
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", bin]);
        c
    } else {
        Command::new(bin)
    };
    let child = cmd
        .arg(&ini)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            eprintln!("pgbouncer did not start; see {d}/pgbouncer.log");
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Bouncer {
        child,
        port,
        _dir: dir,
    })
}

/// Rows per second reading `sql` with tokio-postgres (extended protocol, binary rows).
async fn extended_rate(config: tokio_postgres::Config, sql: &str) -> f64 {
    let (client, conn) = config
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    let t = Instant::now();
    let no_params: [&(dyn tokio_postgres::types::ToSql + Sync); 0] = [];
    let rows = client.query_raw(sql, no_params).await.expect("query");
    futures::pin_mut!(rows);
    let mut n = 0u64;
    while rows.try_next().await.expect("row").is_some() {
        n += 1;
    }
    assert_eq!(n, 1_000_000);
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
    let bouncer = start_pgbouncer(pg, &db);
    match &bouncer {
        Some(_) => println!(
            "pgbench -S, {secs}s per run (tps direct / through dbguru / ratio | through pgbouncer / ratio):"
        ),
        None => println!(
            "pgbench -S, {secs}s per run (tps direct / through dbguru / ratio; install pgbouncer for a yardstick):"
        ),
    }
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
            let yardstick = bouncer.as_ref().map(|b| {
                let tps = pgbench(
                    pg,
                    "127.0.0.1",
                    b.port,
                    "postgres",
                    &db,
                    mode,
                    clients,
                    secs,
                );
                format!("  | {tps:>9.0}  {:.2}", tps / direct)
            });
            println!(
                "  {mode:<8} c={clients:<2}  {direct:>9.0}  {proxied:>9.0}  {:.2}{}",
                proxied / direct,
                yardstick.unwrap_or_default()
            );
        }
    }
    drop(bouncer);
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
    let after_psql = vm_hwm_mb();
    let mut direct_cfg = tokio_postgres::Config::new();
    direct_cfg
        .host("127.0.0.1")
        .port(pg.port)
        .user("postgres")
        .dbname(&db);
    let direct = extended_rate(direct_cfg, sql).await;
    let proxied = extended_rate(proxy.pg_config("guru"), sql).await;
    println!("1,000,000 rows x 4 columns read by tokio-postgres, extended protocol (rows/s): direct {direct:.0}, through dbguru {proxied:.0}, ratio {:.2}", proxied / direct);
    println!(
        "process peak RSS (VmHWM): {before:.0} MB before the big SELECTs, {after_psql:.0} MB after psql's, {:.0} MB after the extended-protocol one",
        vm_hwm_mb()
    );
}
