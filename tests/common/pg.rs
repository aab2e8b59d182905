//! A throwaway PostgreSQL cluster, one per test binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use tokio_postgres::NoTls;

use super::util::{
    cache_key, cached_template, copy_tree, find_executable, free_port, read_lossy, run_checked,
    running_as_root, spawn_watchdog, store_template,
};

const INSTALL_HINT: &str = "install the Debian package `postgresql` \
    (apt-get install -y postgresql postgresql-contrib), or run scripts/test, which installs it";

/// A running throwaway PostgreSQL server (trust auth, superuser `postgres`).
///
/// Started with `fsync=off` and `log_statement=all`: every statement any client sent is in
/// [`PgServer::statement_log`]. Stopped and deleted by a watchdog once the test process exits.
#[derive(Debug)]
pub struct PgServer {
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// The server's private directory (data dir, log, unix socket).
    pub dir: PathBuf,
    /// The server log (`log_statement=all`).
    pub log_path: PathBuf,
    /// Directory holding `initdb`, `pg_ctl`, `psql`, `pgbench`.
    pub bin_dir: PathBuf,
}

static PG: OnceLock<PgServer> = OnceLock::new();

/// The PostgreSQL server shared by all tests of this test binary (started on first use).
///
/// Panics (fails the test) when the server binaries are missing, naming the Debian package.
pub async fn postgres() -> &'static PgServer {
    if let Some(s) = PG.get() {
        return s;
    }
    match tokio::task::spawn_blocking(|| PG.get_or_init(start_postgres)).await {
        Ok(s) => s,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("starting PostgreSQL was cancelled: {e}"),
    }
}

/// The PostgreSQL server binaries: `$DBGURU_PG_BIN`, the newest `/usr/lib/postgresql/*/bin`,
/// `pg_config --bindir`, or `initdb` on `$PATH`.
pub fn pg_bin_dir() -> Result<PathBuf, String> {
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(d) = std::env::var_os("DBGURU_PG_BIN").filter(|d| !d.is_empty()) {
        let d = PathBuf::from(d);
        if has_tools(&d) {
            return Ok(d);
        }
        eprintln!(
            "[harness] DBGURU_PG_BIN={} has no initdb/pg_ctl; searching elsewhere",
            d.display()
        );
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_tools(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    if let Some(pg_config) = find_executable("pg_config", &[]) {
        if let Ok(out) = Command::new(pg_config)
            .arg("--bindir")
            .stdin(Stdio::null())
            .output()
        {
            let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if out.status.success() && has_tools(&d) {
                return Ok(d);
            }
        }
    }
    if let Some(initdb) = find_executable("initdb", &[]) {
        if let Some(d) = initdb.parent().filter(|d| has_tools(d)) {
            return Ok(d.to_path_buf());
        }
    }
    Err(format!(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in $DBGURU_PG_BIN, \
         /usr/lib/postgresql/*/bin, `pg_config --bindir` or $PATH: {INSTALL_HINT}"
    ))
}

/// Wraps a command so it runs as the `postgres` OS user when we are root (initdb refuses root).
fn as_pg_user(root: bool, runuser: Option<&Path>, program: &Path) -> Command {
    if root {
        let runuser = runuser.expect("runuser checked before");
        let mut c = Command::new(runuser);
        c.arg("-u").arg("postgres").arg("--").arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn start_postgres() -> PgServer {
    let bin_dir = pg_bin_dir().unwrap_or_else(|e| panic!("{e}"));
    let initdb = bin_dir.join("initdb");
    let pg_ctl = bin_dir.join("pg_ctl");
    let root = running_as_root();
    let runuser = if root {
        let r = find_executable("runuser", &[])
            .unwrap_or_else(|| panic!("runuser not found (Debian package util-linux); needed to run initdb as `postgres` when root"));
        let has_user = Command::new("id")
            .args(["-u", "postgres"])
            .stdin(Stdio::null())
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(has_user, "OS user `postgres` does not exist (it comes with the Debian package `postgresql`): {INSTALL_HINT}");
        Some(r)
    } else {
        None
    };

    let dir = tempfile::Builder::new()
        .prefix("dbguru-pg-")
        .tempdir()
        .expect("create a temp dir for PostgreSQL")
        .keep();
    let data = dir.join("data");
    let log_path = dir.join("postgres.log");

    // Cleanup first, so nothing leaks even if the start below panics.
    let stop = if root {
        format!("{} -u postgres -- \"$1\" -D \"$2/data\" -s -m immediate stop >/dev/null 2>&1; rm -rf \"$2\"",
            runuser.as_deref().map(|p| p.display().to_string()).unwrap_or_default())
    } else {
        "\"$1\" -D \"$2/data\" -s -m immediate stop >/dev/null 2>&1; rm -rf \"$2\"".to_string()
    };
    spawn_watchdog(
        &stop,
        &[&pg_ctl.display().to_string(), &dir.display().to_string()],
    );

    let version = run_checked(Command::new(&initdb).arg("--version"), "initdb --version");
    // Bump the prefix when the initdb flags below change.
    let key = cache_key(&format!(
        "h1-{}",
        String::from_utf8_lossy(&version.stdout).trim()
    ));
    if let Some(template) = cached_template("pg-template", &key, "PG_VERSION") {
        copy_tree(&template, &data);
    } else {
        if root {
            run_checked(
                Command::new("chown").arg("postgres:postgres").arg(&dir),
                "chown PostgreSQL temp dir",
            );
        }
        run_checked(
            as_pg_user(root, runuser.as_deref(), &initdb)
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ])
                .current_dir(&dir),
            "initdb",
        );
        store_template("pg-template", &key, &data);
    }
    if root {
        run_checked(
            Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(&dir),
            "chown PostgreSQL dir",
        );
    }
    run_checked(
        Command::new("chmod").arg("700").arg(&dir).arg(&data),
        "chmod PostgreSQL dirs",
    );

    // The port is free when probed; another process may take it before we bind: retry.
    for attempt in 1..=5 {
        let port = free_port();
        let opts = format!(
            "-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{}' \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c log_statement=all -c max_connections=200",
            dir.display()
        );
        let out = as_pg_user(root, runuser.as_deref(), &pg_ctl)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log_path)
            .args(["-w", "-t", "60", "-s", "-o", &opts, "start"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", pg_ctl.display()));
        if out.status.success() {
            return PgServer {
                port,
                dir: dir.clone(),
                log_path,
                bin_dir,
            };
        }
        let log = read_lossy(&log_path);
        if attempt < 5 && (log.contains("could not bind") || log.contains("Address already in use"))
        {
            continue;
        }
        panic!(
            "pg_ctl start failed ({}):\n{}{}\n--- {} ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            log_path.display(),
            log
        );
    }
    unreachable!("the loop above returns or panics")
}

impl PgServer {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// `postgres://postgres@127.0.0.1:PORT/<db>`
    pub fn url_for(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// The whole server log so far (every statement, as `LOG:  statement: ...`).
    pub fn statement_log(&self) -> String {
        read_lossy(&self.log_path)
    }

    /// Current end of the log; pass to [`PgServer::statement_log_since`] to see only what
    /// ran afterwards (the server is shared by the tests of this binary).
    pub fn log_mark(&self) -> usize {
        std::fs::metadata(&self.log_path)
            .map(|m| m.len() as usize)
            .unwrap_or(0)
    }

    /// The log written after `mark` (from [`PgServer::log_mark`]).
    pub fn statement_log_since(&self, mark: usize) -> String {
        let bytes = std::fs::read(&self.log_path).unwrap_or_default();
        String::from_utf8_lossy(bytes.get(mark..).unwrap_or_default()).into_owned()
    }

    /// A client connected to the `postgres` database (connection task spawned on the
    /// current runtime).
    pub async fn client(&self) -> tokio_postgres::Client {
        self.client_for("postgres").await
    }

    /// A client connected to database `db`.
    pub async fn client_for(&self, db: &str) -> tokio_postgres::Client {
        let url = self.url_for(db);
        let (client, conn) = tokio_postgres::connect(&url, NoTls)
            .await
            .unwrap_or_else(|e| panic!("connect to test PostgreSQL {url}: {e}"));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                eprintln!("[harness] PostgreSQL connection ended with error: {e}");
            }
        });
        client
    }

    /// Drops (if present) and creates database `name`; returns its URL.
    pub async fn create_database(&self, name: &str) -> String {
        let c = self.client().await;
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            .await
            .unwrap_or_else(|e| panic!("DROP DATABASE {quoted}: {e}"));
        c.batch_execute(&format!("CREATE DATABASE {quoted}"))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {quoted}: {e}"));
        self.url_for(name)
    }

    /// Creates a database with a unique name starting with `prefix`; returns `(name, url)`.
    pub async fn fresh_database(&self, prefix: &str) -> (String, String) {
        let name = format!(
            "{prefix}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..10]
        );
        let url = self.create_database(&name).await;
        (name, url)
    }

    /// Runs a SQL script (several statements allowed) in database `db`.
    pub async fn exec_in(&self, db: &str, sql: &str) {
        self.client_for(db)
            .await
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("test PostgreSQL script in {db} failed: {e}\n{sql}"));
    }

    /// Path of a client tool from the same installation (`psql`, `pgbench`, ...).
    pub fn tool(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// Waits (polling, up to `timeout`) until the log after `mark` contains `needle`;
    /// returns that part of the log. Panics with the log on timeout.
    pub async fn wait_for_log(&self, mark: usize, needle: &str, timeout: Duration) -> String {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let log = self.statement_log_since(mark);
            if log.contains(needle) {
                return log;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "PostgreSQL log has no {needle:?} after {timeout:?}; log since mark:\n{log}"
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
