//! Throwaway PostgreSQL and MariaDB servers that REQUIRE TLS, with a self-signed CA and a
//! server certificate (for 127.0.0.1 and localhost) made with the `openssl` CLI.
//!
//! - PostgreSQL: `ssl=on`, `pg_hba.conf` with `hostssl` lines only (a plain TCP
//!   connection is refused with 28000 "no pg_hba.conf entry … no encryption").
//! - MariaDB: `--ssl-cert/--ssl-key/--ssl-ca` and `--require-secure-transport=ON`.
//!
//! One of each per test binary, started on first use, deleted by a watchdog when the
//! test binary exits (like [`super::postgres`] and [`super::mariadb`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::util::{
    cache_key, cached_template, copy_tree, find_executable, free_port, poll_until, read_lossy,
    run_checked, running_as_root, spawn_watchdog,
};
use super::{pg_bin_dir, MyServer};

/// Certificates made with `openssl`: a CA, a server certificate it signed (SAN
/// `IP:127.0.0.1, DNS:localhost`), and an unrelated CA (for "wrong CA" tests).
#[derive(Debug, Clone)]
pub struct TestCerts {
    /// The CA's certificate (PEM): what `sslrootcert` / `ssl-ca` should name.
    pub ca: PathBuf,
    /// The server certificate (PEM).
    pub server_cert: PathBuf,
    /// The server's private key (PEM).
    pub server_key: PathBuf,
    /// A CA that signed nothing here.
    pub wrong_ca: PathBuf,
}

fn openssl(dir: &Path, args: &[&str], what: &str) {
    let bin = find_executable("openssl", &[])
        .unwrap_or_else(|| panic!("openssl not found: install the Debian package `openssl`"));
    run_checked(Command::new(bin).args(args).current_dir(dir), what);
}

/// Makes the certificates in `dir`.
pub fn make_certs(dir: &Path) -> TestCerts {
    std::fs::create_dir_all(dir).expect("create the certificate directory");
    let ca_subject = "/CN=dbguru test CA";
    for (name, subject) in [("ca", ca_subject), ("wrong-ca", "/CN=dbguru wrong CA")] {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.crt"),
                "-subj",
                subject,
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
            "openssl: make a CA",
        );
    }
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
        "openssl: server key and CSR",
    );
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("write server.ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
        "openssl: sign the server certificate",
    );
    TestCerts {
        ca: dir.join("ca.crt"),
        server_cert: dir.join("server.crt"),
        server_key: dir.join("server.key"),
        wrong_ca: dir.join("wrong-ca.crt"),
    }
}

/// A PostgreSQL server that accepts only TLS connections over TCP (trust auth,
/// superuser `postgres`; a `tls` database with a table `t(id int)` of 3 rows).
#[derive(Debug)]
pub struct PgTlsServer {
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// The server's directory (data, log, socket, certificates).
    pub dir: PathBuf,
    /// The certificates it uses.
    pub certs: TestCerts,
}

impl PgTlsServer {
    /// `postgres://postgres@127.0.0.1:PORT/tls` plus `params` (e.g. `sslmode=require`).
    pub fn url(&self, params: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/tls?{params}", self.port)
    }

    /// The server log.
    pub fn log(&self) -> String {
        read_lossy(&self.dir.join("postgres.log"))
    }
}

static PG_TLS: OnceLock<PgTlsServer> = OnceLock::new();

/// The TLS-only PostgreSQL server of this test binary (started on first use).
pub async fn postgres_tls() -> &'static PgTlsServer {
    if let Some(s) = PG_TLS.get() {
        return s;
    }
    match tokio::task::spawn_blocking(|| PG_TLS.get_or_init(start_postgres_tls)).await {
        Ok(s) => s,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("starting PostgreSQL with TLS was cancelled: {e}"),
    }
}

fn start_postgres_tls() -> PgTlsServer {
    let bin = pg_bin_dir().unwrap_or_else(|e| panic!("{e}"));
    let root = running_as_root();
    let as_pg = |program: &Path| -> Command {
        if root {
            let mut c = Command::new("runuser");
            c.arg("-u").arg("postgres").arg("--").arg(program);
            c
        } else {
            Command::new(program)
        }
    };
    let dir = tempfile::Builder::new()
        .prefix("dbguru-pgtls-")
        .tempdir()
        .expect("temp dir for PostgreSQL with TLS")
        .keep();
    let data = dir.join("data");
    let pg_ctl = bin.join("pg_ctl");
    let stop = if root {
        "runuser -u postgres -- \"$1\" -D \"$2/data\" -s -m immediate stop >/dev/null 2>&1; rm -rf \"$2\""
    } else {
        "\"$1\" -D \"$2/data\" -s -m immediate stop >/dev/null 2>&1; rm -rf \"$2\""
    };
    spawn_watchdog(
        stop,
        &[&pg_ctl.display().to_string(), &dir.display().to_string()],
    );
    let certs = make_certs(&dir.join("certs"));

    // The template the plain harness caches (same initdb flags), else a fresh initdb.
    let version = run_checked(
        Command::new(bin.join("initdb")).arg("--version"),
        "initdb --version",
    );
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
                "chown",
            );
        }
        run_checked(
            as_pg(&bin.join("initdb"))
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
    }
    // TCP only with TLS; the unix socket (for setup) as it was.
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
    )
    .expect("write pg_hba.conf");
    if root {
        run_checked(
            Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(&dir),
            "chown -R",
        );
    }
    run_checked(
        Command::new("chmod").arg("700").arg(&dir).arg(&data),
        "chmod PostgreSQL dirs",
    );
    run_checked(
        Command::new("chmod").arg("600").arg(&certs.server_key),
        "chmod the server key",
    );
    let log = dir.join("postgres.log");
    for attempt in 1..=5 {
        let port = free_port();
        let opts = format!(
            "-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{}' \
             -c fsync=off -c synchronous_commit=off -c log_statement=all \
             -c ssl=on -c ssl_cert_file='{}' -c ssl_key_file='{}'",
            dir.display(),
            certs.server_cert.display(),
            certs.server_key.display()
        );
        let out = as_pg(&pg_ctl)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-s", "-o", &opts, "start"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run pg_ctl: {e}"));
        if out.status.success() {
            let psql = |sql: &str, db: &str| {
                run_checked(
                    as_pg(&bin.join("psql"))
                        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
                        .arg(&dir)
                        .args([
                            "-p",
                            &port.to_string(),
                            "-U",
                            "postgres",
                            "-d",
                            db,
                            "-c",
                            sql,
                        ]),
                    "psql setup of the TLS server",
                )
            };
            psql("CREATE DATABASE tls", "postgres");
            psql(
                "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2), (3)",
                "tls",
            );
            return PgTlsServer { port, dir, certs };
        }
        let text = read_lossy(&log);
        if attempt < 5 && text.contains("could not bind") {
            continue;
        }
        panic!(
            "pg_ctl start (TLS) failed: {}{}\n{text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    unreachable!("the loop returns or panics")
}

/// A MariaDB server that requires TLS (`--require-secure-transport=ON`), user `dbguru`
/// with all privileges, a `tls` database with a table `t(id int)` of 3 rows.
#[derive(Debug)]
pub struct MyTlsServer {
    /// The server (port, user, password, logs).
    pub server: MyServer,
    /// The certificates it uses.
    pub certs: TestCerts,
}

impl MyTlsServer {
    /// `mysql://dbguru:PW@127.0.0.1:PORT/tls` plus `params` (e.g. `ssl-mode=REQUIRED`).
    pub fn url(&self, params: &str) -> String {
        format!("{}?{params}", self.server.url("tls"))
    }
}

static MY_TLS: OnceLock<MyTlsServer> = OnceLock::new();

/// The TLS-only MariaDB server of this test binary (started on first use).
pub async fn mariadb_tls() -> &'static MyTlsServer {
    if let Some(s) = MY_TLS.get() {
        return s;
    }
    match tokio::task::spawn_blocking(|| MY_TLS.get_or_init(start_mariadb_tls)).await {
        Ok(s) => s,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("starting MariaDB with TLS was cancelled: {e}"),
    }
}

fn start_mariadb_tls() -> MyTlsServer {
    let find = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| find_executable(n, &[]))
            .unwrap_or_else(|| {
                panic!(
                    "{} not found: install the Debian package `mariadb-server`",
                    names[0]
                )
            })
    };
    let mariadbd = find(&["mariadbd", "mysqld"]);
    let install_db = find(&["mariadb-install-db", "mysql_install_db"]);
    let root = running_as_root();
    let dir = tempfile::Builder::new()
        .prefix("dbguru-mytls-")
        .tempdir()
        .expect("temp dir for MariaDB with TLS")
        .keep();
    let data = dir.join("data");
    let pid_file = dir.join("mariadbd.pid");
    spawn_watchdog(
        "[ -f \"$1/mariadbd.pid\" ] && kill -9 \"$(cat \"$1/mariadbd.pid\")\" 2>/dev/null; sleep 0.2; rm -rf \"$1\"",
        &[&dir.display().to_string()],
    );
    let certs = make_certs(&dir.join("certs"));
    let version = run_checked(
        Command::new(&mariadbd).args(["--no-defaults", "--version"]),
        "mariadbd --version",
    );
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
    }
    let password = format!(
        "tls-pw-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let init_sql = dir.join("init.sql");
    std::fs::write(
        &init_sql,
        format!(
            "DROP USER IF EXISTS ''@'localhost';\n\
             DROP USER IF EXISTS ''@'%';\n\
             DROP USER IF EXISTS 'dbguru'@'%';\n\
             CREATE USER 'dbguru'@'%' IDENTIFIED BY '{password}';\n\
             GRANT ALL PRIVILEGES ON *.* TO 'dbguru'@'%';\n\
             CREATE DATABASE IF NOT EXISTS tls;\n\
             CREATE TABLE IF NOT EXISTS tls.t (id INT);\n\
             DELETE FROM tls.t;\n\
             INSERT INTO tls.t VALUES (1), (2), (3);\n"
        ),
    )
    .expect("write the MariaDB init file");
    let general_log_path = dir.join("general.log");
    let error_log_path = dir.join("error.log");
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
                "--general-log=1",
                "--require-secure-transport=ON",
            ])
            .arg(format!("--ssl-ca={}", certs.ca.display()))
            .arg(format!("--ssl-cert={}", certs.server_cert.display()))
            .arg(format!("--ssl-key={}", certs.server_key.display()))
            .arg(format!("--general-log-file={}", general_log_path.display()))
            .arg(format!("--log-error={}", error_log_path.display()))
            .arg(format!("--init-file={}", init_sql.display()))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run mariadbd: {e}"));
        let pid = child.id();
        let exited = poll_until(Duration::from_secs(60), "MariaDB (TLS) to listen", || {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(Some(status));
            }
            let log = read_lossy(&error_log_path);
            (log.contains("ready for connections")
                && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok())
            .then_some(None)
        });
        match exited {
            None => {
                std::mem::forget(child);
                return MyTlsServer {
                    server: MyServer {
                        port,
                        dir: dir.clone(),
                        user: "dbguru".into(),
                        password,
                        general_log_path,
                        error_log_path,
                        pid,
                    },
                    certs,
                };
            }
            Some(status) => {
                let log = read_lossy(&error_log_path);
                if attempt < 5 && log.contains("Address already in use") {
                    continue;
                }
                panic!("mariadbd (TLS) exited during startup ({status}):\n{log}");
            }
        }
    }
    unreachable!("the loop returns or panics")
}
