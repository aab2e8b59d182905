//! README command 1: `dbguru serve` on the embedded default answers psql with no LLM key.

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn psql() -> std::path::PathBuf {
    pg_bin_dir().map(|d| d.join("psql")).unwrap_or_else(|e| {
        panic!("psql not found ({e}); install the Debian package postgresql-client")
    })
}

#[test]
fn embedded_default_answers_psql_without_a_key() {
    let dir = temp_dir();
    let port = free_port();
    let child = Child(
        Command::new(env!("CARGO_BIN_EXE_dbguru"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--http-listen",
                "127.0.0.1:0",
            ])
            .current_dir(dir.path())
            .env_remove("OPENAI_API_KEY")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start dbguru serve"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "dbguru did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = Command::new(psql())
        .args([
            &format!("host=127.0.0.1 port={port} user=guru dbname=dbguru"),
            "-X",
            "-A",
            "-t",
            "-F",
            ",",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "ASK 'how many customers are there?'",
        ])
        .output()
        .expect("run psql");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "psql failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<&str> = stdout.lines().filter(|l| !l.is_empty()).collect();
    lines.sort();
    // Compare with the demo files themselves.
    let shop: i64 = rusqlite::Connection::open(dir.path().join("data/shop.sqlite"))
        .expect("demo shop exists")
        .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
        .expect("count shop");
    let cfg = duckdb::Config::default()
        .access_mode(duckdb::AccessMode::ReadOnly)
        .expect("cfg");
    let warehouse: i64 =
        duckdb::Connection::open_with_flags(dir.path().join("data/warehouse.duckdb"), cfg)
            .expect("demo warehouse exists")
            .query_row("SELECT count(*) FROM dim_customer", [], |r| r.get(0))
            .expect("count warehouse");
    assert!(shop > 0 && warehouse > 0);
    assert_eq!(
        lines,
        vec![format!("shop,{shop}"), format!("warehouse,{warehouse}")]
    );

    // A plain-SQL follow-up from psql goes to the first connection (shop).
    let out = Command::new(psql())
        .args([
            &format!("host=127.0.0.1 port={port} user=guru dbname=dbguru"),
            "-X",
            "-A",
            "-t",
            "-c",
            "SELECT count(*) FROM products",
        ])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<i64>()
            .expect("a count")
            > 0
    );
    drop(child);

    // `dbguru check` on the same directory connects to both demo databases.
    let out = Command::new(env!("CARGO_BIN_EXE_dbguru"))
        .arg("check")
        .current_dir(dir.path())
        .output()
        .expect("run dbguru check");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "check failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("shop") && text.contains("warehouse") && text.contains("4 tables"),
        "{text}"
    );
}
