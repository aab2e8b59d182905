//! The real-client compatibility suite (issue 3): every mainstream PostgreSQL client connects
//! to the proxy with SCRAM-SHA-256 over TLS, runs `ASK` (scripted LLM) and plain SQL, checks
//! values and types, and survives a bad statement on the same connection.
//!
//! Each test builds one fixture — a PostgreSQL database `pg` and a SQLite file `lite`, each
//! with an `orders` table; the [`ScriptedLlm`] answering every ASK with one
//! `SELECT count(*) AS orders, sum(amount) AS revenue FROM orders` per database; the proxy
//! in-process with `[server.tls] required = true` (a self-signed certificate made with the
//! `openssl` CLI), plan and result caches off (every ASK reaches the LLM and the databases),
//! and one SCRAM user `app` — then runs a client script from `tests/clients/`
//! as a subprocess, passing the connection through environment variables
//! (`DBGURU_HOST/PORT/USER/PASSWORD/DBNAME/SSLMODE/QUESTION` and libpq's `PG*`). The script
//! checks everything itself and exits 0; on failure its output is printed.
//!
//! A missing client (interpreter, driver, jar) FAILS its test and names what to install:
//! `scripts/test` installs them all (Python drivers in `$HOME/.cache/dbguru-venv`, node `pg` in
//! `$HOME/.cache/dbguru-node`, Debian's JDBC and ODBC drivers).
//!
//! `DBGURU_LOG=debug` prints the proxy's log (what each client sent) to the test output.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

/// The SCRAM user's password.
const PASSWORD: &str = "app-scram-pw-7";
/// The question every script asks (the apostrophe tests client-side quoting).
const QUESTION: &str = "how many orders are there, and what's the revenue?";
/// The scripted LLM's reply to every ASK.
const PLAN: &str =
    "DATABASE: pg\nSELECT count(*) AS orders, sum(amount) AS revenue FROM orders;\n\n\
DATABASE: lite\nSELECT count(*) AS orders, sum(amount) AS revenue FROM orders;\n";
/// How long one client script may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

struct Fixture {
    proxy: Proxy,
    llm: ScriptedLlm,
    dir: tempfile::TempDir,
}

/// Generates a self-signed certificate for 127.0.0.1/localhost with the `openssl` CLI.
fn self_signed_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let cert = dir.join("server.crt");
    let key = dir.join("server.key");
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `openssl` (Debian package `openssl`; scripts/test installs it): {e}")
        });
    assert!(
        out.status.success(),
        "openssl req failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

fn init_logging() {
    if std::env::var_os("DBGURU_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("DBGURU_LOG"))
            .with_test_writer()
            .try_init();
    }
}

async fn fixture() -> Fixture {
    init_logging();
    let pg = postgres().await;
    let (db, url) = pg.fresh_database("clients").await;
    pg.exec_in(
        &db,
        "CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, qty int NOT NULL, amount numeric(10,2) NOT NULL);
         INSERT INTO orders VALUES (1,'ann',2,10.50),(2,'bob',1,20.25),(3,'ann',5,5.00);",
    )
    .await;
    let dir = temp_dir();
    let lite = sqlite_file(
        dir.path(),
        "lite.sqlite",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, qty INTEGER NOT NULL, amount REAL NOT NULL);
         INSERT INTO orders VALUES (1,'cy',1,1.25),(2,'di',4,2.5);",
    );
    let (cert, key) = self_signed_cert(dir.path());
    let llm = ScriptedLlm::start().await;
    llm.set_default(Reply::text(PLAN));
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n\
         [server.tls]\ncert = {}\nkey = {}\nrequired = true\n\n\
         [[users]]\nname = \"app\"\npassword = {}\n\n\
         {}\n\
         [limits]\nmax_rows = 100\ntimeout = \"20s\"\n\n\
         [cache]\nplan_entries = 0\nresult_ttl = \"0s\"\n\n\
         {}{}",
        toml_str(&cert.display().to_string()),
        toml_str(&key.display().to_string()),
        toml_str(PASSWORD),
        llm.llm_toml("10s", 0),
        url_connection_toml("pg", "postgres", &url),
        file_connection_toml("lite", "sqlite", &lite),
    );
    let proxy = start_proxy(&toml).await;
    Fixture { proxy, llm, dir }
}

/// `tests/clients/<name>`
fn script(name: &str) -> PathBuf {
    let p = manifest_dir().join("tests").join("clients").join(name);
    assert!(p.is_file(), "client script {} is missing", p.display());
    p
}

fn home_cache(sub: &str) -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".cache").join(sub))
}

/// An executable on `$PATH` or in the usual system directories.
fn which(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(PathBuf::from));
    dirs.into_iter().map(|d| d.join(name)).find(|p| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    })
}

/// An executable of the client venv (`$DBGURU_VENV`, else `$HOME/.cache/dbguru-venv`);
/// for `python`, `$DBGURU_PYTHON` first. Fails naming the install command when missing.
fn venv_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("DBGURU_VENV")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home_cache("dbguru-venv"));
    if name == "python" {
        if let Some(p) = std::env::var_os("DBGURU_PYTHON").filter(|v| !v.is_empty()) {
            return PathBuf::from(p);
        }
    }
    let p = venv
        .map(|v| v.join("bin").join(name))
        .unwrap_or_else(|| PathBuf::from(name));
    assert!(
        p.is_file(),
        "{} not found: the Python client venv is missing. Run scripts/test (or `python3 -m venv $HOME/.cache/dbguru-venv && \
         $HOME/.cache/dbguru-venv/bin/pip install 'psycopg[binary]' psycopg2-binary asyncpg pyodbc sqlalchemy pandas jupysql ipython`)",
        p.display()
    );
    p
}

/// Fails (naming the pip package) when the venv's Python cannot import `module`.
async fn require_python_module(python: &Path, module: &str, package: &str) {
    let out = tokio::process::Command::new(python)
        .args(["-c", &format!("import {module}")])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "Python module `{module}` is missing from {}: pip install {package} into $HOME/.cache/dbguru-venv \
         (scripts/test does)\n{}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Fixture {
    /// Environment for a client: the `DBGURU_*` variables of the scripts and libpq's `PG*`.
    fn envs(&self) -> Vec<(String, String)> {
        let port = self.proxy.addr.port().to_string();
        let host = self.proxy.addr.ip().to_string();
        [
            ("DBGURU_HOST", host.as_str()),
            ("DBGURU_PORT", port.as_str()),
            ("DBGURU_USER", "app"),
            ("DBGURU_PASSWORD", PASSWORD),
            ("DBGURU_DBNAME", "dbguru"),
            ("DBGURU_SSLMODE", "require"),
            ("DBGURU_QUESTION", QUESTION),
            ("PGHOST", host.as_str()),
            ("PGPORT", port.as_str()),
            ("PGUSER", "app"),
            ("PGPASSWORD", PASSWORD),
            ("PGDATABASE", "dbguru"),
            ("PGSSLMODE", "require"),
            ("PGCONNECT_TIMEOUT", "10"),
            ("PGAPPNAME", "dbguru-clients-test"),
            ("PYTHONDONTWRITEBYTECODE", "1"),
            ("PYTHONUNBUFFERED", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Runs a client command to completion; panics with its output unless it exits 0.
    async fn run(&self, what: &str, mut cmd: tokio::process::Command) -> String {
        for var in [
            "PGSERVICE",
            "PGSERVICEFILE",
            "PGPASSFILE",
            "PGSSLCERT",
            "PGSSLKEY",
            "PGSSLROOTCERT",
            "PGOPTIONS",
            "PSQLRC",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(self.envs())
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // program and arguments only (the environment holds the password)
        let std_cmd = cmd.as_std();
        let shown = std::iter::once(std_cmd.get_program())
            .chain(std_cmd.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let started = Instant::now();
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{what}: cannot start {shown}: {e}"));
        let out = match tokio::time::timeout(SCRIPT_TIMEOUT, child.wait_with_output()).await {
            Ok(r) => r.unwrap_or_else(|e| panic!("{what}: waiting for {shown}: {e}")),
            Err(_) => panic!("{what}: {shown} did not finish within {SCRIPT_TIMEOUT:?} (killed)"),
        };
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            panic!(
                "{what} FAILED ({}) after {:.1?}: {shown}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n\
                 --- LLM requests: {} ---",
                out.status,
                started.elapsed(),
                self.llm.request_count()
            );
        }
        eprintln!(
            "[clients] {what}: ok in {:.1?}\n{stdout}{stderr}",
            started.elapsed()
        );
        stdout
    }

    /// Asserts the scripted LLM was asked `QUESTION` (so a bound or quoted question arrived intact).
    fn assert_question_reached_llm(&self) {
        let prompts: Vec<String> = self
            .llm
            .recorded()
            .iter()
            .map(|r| r.prompt_text())
            .collect();
        assert!(
            prompts.iter().any(|p| p.contains(QUESTION)),
            "no LLM prompt contains the question {QUESTION:?} exactly; {} prompts; last:\n{}",
            prompts.len(),
            prompts.last().map(String::as_str).unwrap_or("")
        );
    }

    async fn python(&self, what: &str, file: &str, needs: &[(&str, &str)]) {
        let python = venv_bin("python");
        for (module, package) in needs {
            require_python_module(&python, module, package).await;
        }
        let mut cmd = tokio::process::Command::new(&python);
        cmd.arg(script(file));
        self.run(what, cmd).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql() {
    let f = fixture().await;
    let psql = postgres().await.tool("psql");
    assert!(
        psql.is_file(),
        "{} missing: install the Debian package postgresql-client-15",
        psql.display()
    );
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg(script("psql_client.sh")).env("PSQL", &psql);
    f.run("psql", cmd).await;
    f.assert_question_reached_llm();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbench_simple_extended_prepared() {
    let f = fixture().await;
    let pgbench = postgres().await.tool("pgbench");
    assert!(
        pgbench.is_file(),
        "{} missing: install the Debian package postgresql-15",
        pgbench.display()
    );
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg(script("pgbench_client.sh"))
        .env("PGBENCH", &pgbench);
    f.run("pgbench", cmd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg3() {
    let f = fixture().await;
    f.python(
        "psycopg 3",
        "psycopg3_client.py",
        &[("psycopg", "'psycopg[binary]'")],
    )
    .await;
    f.assert_question_reached_llm();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg2() {
    let f = fixture().await;
    f.python(
        "psycopg2",
        "psycopg2_client.py",
        &[("psycopg2", "psycopg2-binary")],
    )
    .await;
    f.assert_question_reached_llm();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asyncpg() {
    let f = fixture().await;
    f.python("asyncpg", "asyncpg_client.py", &[("asyncpg", "asyncpg")])
        .await;
    f.assert_question_reached_llm();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_pg() {
    let f = fixture().await;
    let node = which("node")
        .unwrap_or_else(|| panic!("`node` not found: install the Debian packages nodejs and npm"));
    let modules = std::env::var_os("DBGURU_NODE_MODULES")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home_cache("dbguru-node").map(|d| d.join("node_modules")))
        .unwrap_or_else(|| PathBuf::from("node_modules"));
    assert!(
        modules.join("pg").join("package.json").is_file(),
        "node-postgres not found in {}: `npm install --prefix $HOME/.cache/dbguru-node pg` (scripts/test does)",
        modules.display()
    );
    let node_path = match std::env::var_os("NODE_PATH").filter(|v| !v.is_empty()) {
        Some(p) => {
            let mut all = vec![modules.clone()];
            all.extend(std::env::split_paths(&p));
            std::env::join_paths(all).expect("NODE_PATH")
        }
        None => modules.clone().into_os_string(),
    };
    let mut cmd = tokio::process::Command::new(node);
    cmd.arg(script("node_pg_client.js"))
        .env("NODE_PATH", node_path);
    f.run("node pg", cmd).await;
    f.assert_question_reached_llm();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgjdbc_default_and_simple_mode() {
    let f = fixture().await;
    let jar = std::env::var_os("DBGURU_JDBC_JAR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/java/postgresql.jar"));
    assert!(
        jar.is_file(),
        "{} missing: install the Debian package libpostgresql-jdbc-java",
        jar.display()
    );
    let javac = which("javac").unwrap_or_else(|| {
        panic!("`javac` not found: install the Debian package default-jdk-headless")
    });
    let java = which("java").unwrap_or_else(|| {
        panic!("`java` not found: install the Debian package default-jdk-headless")
    });
    let classes = f.dir.path().join("jdbc-classes");
    std::fs::create_dir_all(&classes).expect("create the classes dir");
    let mut cmd = tokio::process::Command::new(javac);
    cmd.arg("-d")
        .arg(&classes)
        .arg("-cp")
        .arg(&jar)
        .arg(script("JdbcClient.java"));
    f.run("javac JdbcClient.java", cmd).await;
    let cp = std::env::join_paths([classes, jar]).expect("classpath");
    let mut cmd = tokio::process::Command::new(java);
    cmd.arg("-cp").arg(cp).arg("JdbcClient");
    f.run("pgJDBC", cmd).await;
    f.assert_question_reached_llm();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psqlodbc_via_pyodbc() {
    let f = fixture().await;
    f.python(
        "psqlODBC (pyodbc)",
        "odbc_client.py",
        &[(
            "pyodbc",
            "pyodbc (and apt-get install odbc-postgresql unixodbc)",
        )],
    )
    .await;
    f.assert_question_reached_llm();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlalchemy_and_pandas() {
    let f = fixture().await;
    f.python(
        "SQLAlchemy + pandas",
        "sqlalchemy_pandas_client.py",
        &[
            ("sqlalchemy", "sqlalchemy"),
            ("pandas", "pandas"),
            ("psycopg2", "psycopg2-binary"),
        ],
    )
    .await;
    f.assert_question_reached_llm();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jupysql_magic_in_ipython() {
    let f = fixture().await;
    let python = venv_bin("python");
    require_python_module(&python, "sql.magic", "jupysql").await;
    require_python_module(&python, "IPython", "ipython").await;
    let ipython = venv_bin("ipython");
    let file = script("jupysql_client.ipy");
    let mut cmd = tokio::process::Command::new(ipython);
    cmd.args([
        "--quick",
        "--no-banner",
        "--colors=nocolor",
        "--HistoryManager.enabled=False",
    ])
    .arg(&file)
    .env("DBGURU_CLIENT_SCRIPT", &file)
    .env("IPYTHONDIR", f.dir.path().join("ipython"))
    .env("MPLBACKEND", "Agg");
    let out = f.run("jupysql %sql", cmd).await;
    // ipython exits non-zero on an exception; make sure the script also reached its end.
    assert!(
        out.lines().any(|l| l.trim() == "OK"),
        "jupysql script did not finish:\n{out}"
    );
    f.assert_question_reached_llm();
}
