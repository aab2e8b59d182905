//! A throwaway MariaDB server, one per test binary.

use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use mysql_async::prelude::Queryable;

use super::util::{
    cache_key, cached_template, copy_tree, find_executable, free_port, poll_until, read_lossy,
    run_checked, running_as_root, spawn_watchdog, store_template,
};

const INSTALL_HINT: &str = "install the Debian package `mariadb-server` \
    (apt-get install -y mariadb-server mariadb-client), or run scripts/test, which installs it";

/// A running throwaway MariaDB server with user `dbguru`@`%` (ALL privileges, password
/// [`MyServer::password`]); `root`@`127.0.0.1` has no password.
///
/// Started with the general query log on: every statement any client sent is in
/// [`MyServer::general_log`]. Killed and deleted by a watchdog once the test process exits.
#[derive(Debug)]
pub struct MyServer {
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// The server's private directory (datadir, socket, logs).
    pub dir: PathBuf,
    /// Login of the test user (`dbguru`).
    pub user: String,
    /// Password of the test user (unique per server, so tests can grep for leaks).
    pub password: String,
    /// The general query log.
    pub general_log_path: PathBuf,
    /// The error log (startup problems).
    pub error_log_path: PathBuf,
    /// Process id of `mariadbd`.
    pub pid: u32,
}

static MY: OnceLock<MyServer> = OnceLock::new();

/// The MariaDB server shared by all tests of this test binary (started on first use).
///
/// Panics (fails the test) when the server binaries are missing, naming the Debian package.
pub async fn mariadb() -> &'static MyServer {
    if let Some(s) = MY.get() {
        return s;
    }
    match tokio::task::spawn_blocking(|| MY.get_or_init(start_mariadb)).await {
        Ok(s) => s,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("starting MariaDB was cancelled: {e}"),
    }
}

fn find_one(names: &[&str], what: &str) -> PathBuf {
    names
        .iter()
        .find_map(|n| find_executable(n, &[]))
        .unwrap_or_else(|| {
            panic!(
                "{what} ({}) not found in $PATH, /usr/sbin or /usr/bin: {INSTALL_HINT}",
                names.join(" / ")
            )
        })
}

/// Reads the server greeting; true when it is a MariaDB handshake (not some other process
/// that grabbed the port).
fn mariadb_greets(port: u16) -> bool {
    let Ok(mut s) =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))
    else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 128];
    let mut got = 0;
    while got < buf.len() {
        match s.read(&mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                got += n;
                if String::from_utf8_lossy(&buf[..got]).contains("MariaDB") {
                    return true;
                }
            }
        }
    }
    false
}

fn start_mariadb() -> MyServer {
    let mariadbd = find_one(&["mariadbd", "mysqld"], "MariaDB server binary");
    let install_db = find_one(
        &["mariadb-install-db", "mysql_install_db"],
        "MariaDB installer",
    );
    let root = running_as_root();

    let dir = tempfile::Builder::new()
        .prefix("dbguru-mariadb-")
        .tempdir()
        .expect("create a temp dir for MariaDB")
        .keep();
    let data = dir.join("data");
    let general_log_path = dir.join("general.log");
    let error_log_path = dir.join("error.log");
    let pid_file = dir.join("mariadbd.pid");

    // Cleanup first, so nothing leaks even if the start below panics.
    spawn_watchdog(
        "[ -f \"$1/mariadbd.pid\" ] && kill -9 \"$(cat \"$1/mariadbd.pid\")\" 2>/dev/null; sleep 0.2; rm -rf \"$1\"",
        &[&dir.display().to_string()],
    );

    let version = run_checked(
        Command::new(&mariadbd).args(["--no-defaults", "--version"]),
        "mariadbd --version",
    );
    // Bump the prefix when the install flags below change.
    let key = cache_key(&format!(
        "h1-{}",
        String::from_utf8_lossy(&version.stdout).trim()
    ));
    if let Some(template) = cached_template("mariadb-template", &key, "mysql_upgrade_info") {
        copy_tree(&template, &data);
    } else {
        let mut cmd = Command::new(&install_db);
        cmd.arg("--no-defaults");
        if root {
            cmd.arg("--user=root");
        }
        cmd.arg(format!("--datadir={}", data.display()))
            .args([
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ])
            .current_dir(&dir);
        run_checked(&mut cmd, "mariadb-install-db");
        store_template("mariadb-template", &key, &data);
    }

    let password = format!(
        "dbguru-pw-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    // Runs before the server serves its first connection. One statement per line.
    let init_sql = dir.join("init.sql");
    std::fs::write(
        &init_sql,
        format!(
            "DROP USER IF EXISTS ''@'localhost';\n\
             DROP USER IF EXISTS ''@'%';\n\
             DROP USER IF EXISTS 'dbguru'@'%';\n\
             CREATE USER 'dbguru'@'%' IDENTIFIED BY '{password}';\n\
             GRANT ALL PRIVILEGES ON *.* TO 'dbguru'@'%' WITH GRANT OPTION;\n"
        ),
    )
    .expect("write MariaDB init file");

    for attempt in 1..=5 {
        let port = free_port();
        let _ = std::fs::remove_file(&error_log_path);
        let mut cmd = Command::new(&mariadbd);
        cmd.arg("--no-defaults");
        if root {
            cmd.arg("--user=root");
        }
        cmd.arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", dir.join("mariadbd.sock").display()))
            .arg(format!("--pid-file={}", pid_file.display()))
            .arg(format!("--port={port}"))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-log-bin",
                "--skip-name-resolve",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-buffer-pool-size=32M",
                "--max-connections=300",
                "--general-log=1",
            ])
            .arg(format!("--general-log-file={}", general_log_path.display()))
            .arg(format!("--log-error={}", error_log_path.display()))
            .arg(format!("--init-file={}", init_sql.display()))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0); // Ctrl-C of the test run leaves it to the watchdog
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", mariadbd.display()));
        let pid = child.id();
        let exited = poll_until(
            Duration::from_secs(60),
            "MariaDB to accept connections",
            || {
                if let Ok(Some(status)) = child.try_wait() {
                    return Some(Some(status));
                }
                mariadb_greets(port).then_some(None)
            },
        );
        match exited {
            None => {
                std::mem::forget(child);
                return MyServer {
                    port,
                    dir: dir.clone(),
                    user: "dbguru".into(),
                    password,
                    general_log_path,
                    error_log_path,
                    pid,
                };
            }
            Some(status) => {
                let log = read_lossy(&error_log_path);
                if attempt < 5
                    && (log.contains("Address already in use")
                        || log.contains("Can't start server: Bind"))
                {
                    continue;
                }
                panic!(
                    "mariadbd exited during startup ({status}); {}:\n{log}",
                    error_log_path.display()
                );
            }
        }
    }
    unreachable!("the loop above returns or panics")
}

impl MyServer {
    /// `mysql://dbguru:PASSWORD@127.0.0.1:PORT/<db>` (`db` may be empty).
    pub fn url(&self, db: &str) -> String {
        format!(
            "mysql://{}:{}@127.0.0.1:{}/{db}",
            self.user, self.password, self.port
        )
    }

    /// The general query log so far.
    pub fn general_log(&self) -> String {
        read_lossy(&self.general_log_path)
    }

    /// Current end of the general log (see [`MyServer::general_log_since`]).
    pub fn log_mark(&self) -> usize {
        std::fs::metadata(&self.general_log_path)
            .map(|m| m.len() as usize)
            .unwrap_or(0)
    }

    /// The general log written after `mark`.
    pub fn general_log_since(&self, mark: usize) -> String {
        let bytes = std::fs::read(&self.general_log_path).unwrap_or_default();
        String::from_utf8_lossy(bytes.get(mark..).unwrap_or_default()).into_owned()
    }

    async fn conn(&self, db: Option<&str>) -> mysql_async::Conn {
        let opts = mysql_async::OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(Some(self.password.clone()))
            .db_name(db.map(str::to_string))
            .prefer_socket(false);
        mysql_async::Conn::new(opts).await.unwrap_or_else(|e| {
            panic!(
                "connect to test MariaDB on port {} (db {db:?}): {e}",
                self.port
            )
        })
    }

    /// Runs a SQL script (several statements allowed) with no default database.
    pub async fn exec(&self, sql: &str) {
        self.run(None, sql).await
    }

    /// Runs a SQL script (several statements allowed) in database `db`.
    pub async fn exec_in(&self, db: &str, sql: &str) {
        self.run(Some(db), sql).await
    }

    async fn run(&self, db: Option<&str>, sql: &str) {
        let mut c = self.conn(db).await;
        c.query_drop(sql)
            .await
            .unwrap_or_else(|e| panic!("test MariaDB script failed (db {db:?}): {e}\n{sql}"));
        let _ = c.disconnect().await;
    }

    /// Runs one query in `db` and returns its rows as text (NULL as `None`).
    pub async fn query(&self, db: &str, sql: &str) -> Vec<Vec<Option<String>>> {
        let mut c = self.conn(Some(db)).await;
        let rows: Vec<mysql_async::Row> = c
            .query(sql)
            .await
            .unwrap_or_else(|e| panic!("test MariaDB query failed in {db}: {e}\n{sql}"));
        let _ = c.disconnect().await;
        rows.into_iter()
            .map(|r| r.unwrap().into_iter().map(value_text).collect())
            .collect()
    }

    /// Drops (if present) and creates database `name`; returns its URL.
    pub async fn create_database(&self, name: &str) -> String {
        let q = format!("`{}`", name.replace('`', "``"));
        self.exec(&format!(
            "DROP DATABASE IF EXISTS {q}; CREATE DATABASE {q} CHARACTER SET utf8mb4"
        ))
        .await;
        self.url(name)
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
}

fn value_text(v: mysql_async::Value) -> Option<String> {
    use mysql_async::Value;
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(f) => Some(f.to_string()),
        Value::Date(y, mo, d, h, mi, s, us) => Some(if (h, mi, s, us) == (0, 0, 0, 0) {
            format!("{y:04}-{mo:02}-{d:02}")
        } else if us == 0 {
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
        } else {
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}")
        }),
        Value::Time(neg, days, h, mi, s, us) => {
            let sign = if neg { "-" } else { "" };
            let hours = days * 24 + u32::from(h);
            Some(if us == 0 {
                format!("{sign}{hours:02}:{mi:02}:{s:02}")
            } else {
                format!("{sign}{hours:02}:{mi:02}:{s:02}.{us:06}")
            })
        }
    }
}
