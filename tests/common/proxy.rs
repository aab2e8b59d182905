//! The dbguru proxy started in-process on port 0, and tokio-postgres helpers to drive it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio_postgres::error::DbError;
use tokio_postgres::{AsyncMessage, Client, NoTls, SimpleQueryMessage};

/// A running in-process proxy. Its base directory (relative paths in the TOML) is a temp
/// dir owned by this value unless [`start_proxy_in`] was given one.
pub struct Proxy {
    /// Where the proxy listens.
    pub addr: SocketAddr,
    /// The configuration it was started with.
    pub config: dbguru::config::Config,
    server: Option<dbguru::server::RunningServer>,
    base_dir: PathBuf,
    _owned_dir: Option<tempfile::TempDir>,
}

/// Parses `config_toml` (relative paths resolve against a fresh temp dir) and starts the
/// proxy in-process. Use `listen = "127.0.0.1:0"`. Panics with the reason when it fails.
pub async fn start_proxy(config_toml: &str) -> Proxy {
    let dir = super::temp_dir();
    let base = dir.path().to_path_buf();
    let mut p = try_start_proxy(config_toml, &base)
        .await
        .unwrap_or_else(|e| panic!("start_proxy failed: {e}\n--- config ---\n{config_toml}"));
    p._owned_dir = Some(dir);
    p
}

/// Like [`start_proxy`], with relative paths resolved against `base_dir` (kept by the caller).
pub async fn start_proxy_in(config_toml: &str, base_dir: &Path) -> Proxy {
    try_start_proxy(config_toml, base_dir)
        .await
        .unwrap_or_else(|e| panic!("start_proxy failed: {e}\n--- config ---\n{config_toml}"))
}

/// Starts the proxy, returning the config or start error as text (for tests of bad configs).
pub async fn try_start_proxy(config_toml: &str, base_dir: &Path) -> Result<Proxy, String> {
    let config = dbguru::config::Config::from_toml(config_toml, base_dir)
        .map_err(|e| format!("config: {e}"))?;
    let server = dbguru::server::start(config.clone())
        .await
        .map_err(|e| format!("server::start: {e}"))?;
    Ok(Proxy {
        addr: server.local_addr(),
        config,
        server: Some(server),
        base_dir: base_dir.to_path_buf(),
        _owned_dir: None,
    })
}

/// A minimal proxy config: `listen = "127.0.0.1:0"`, trusted user `guru`, the builtin planner,
/// plus `extra` (more sections, e.g. `[[connections]]` or a `[llm]` from
/// [`super::ScriptedLlm::llm_toml`]).
pub fn base_config(extra: &str) -> String {
    let llm = if extra.contains("[llm]") {
        ""
    } else {
        "[llm]\nprovider = \"builtin\"\n\n"
    };
    format!("[server]\nlisten = \"127.0.0.1:0\"\n\n[[users]]\nname = \"guru\"\nauth = \"trust\"\n\n{llm}{extra}\n")
}

/// A TOML basic string literal for `s` (quotes and backslashes escaped).
pub fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A `[[connections]]` entry for a network database (`kind` = postgres/mysql/mongodb).
pub fn url_connection_toml(name: &str, kind: &str, url: &str) -> String {
    format!(
        "[[connections]]\nname = {}\nkind = \"{kind}\"\nurl = {}\n\n",
        toml_str(name),
        toml_str(url)
    )
}

/// A `[[connections]]` entry for a file database (`kind` = sqlite/duckdb).
pub fn file_connection_toml(name: &str, kind: &str, path: &Path) -> String {
    format!(
        "[[connections]]\nname = {}\nkind = \"{kind}\"\npath = {}\n\n",
        toml_str(name),
        toml_str(&path.display().to_string())
    )
}

impl Proxy {
    /// The directory relative paths in the config resolve against.
    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    /// `http://127.0.0.1:PORT` of the HTTP API; panics when `[http] listen` was not set.
    pub fn http_url(&self) -> String {
        let addr = self
            .server
            .as_ref()
            .and_then(|s| s.http_addr())
            .expect("the proxy serves no HTTP API: set [http] listen = \"127.0.0.1:0\"");
        format!("http://{addr}")
    }

    /// `postgres://guru@127.0.0.1:PORT/dbguru` (for external clients: psql, drivers).
    pub fn url(&self) -> String {
        format!("postgres://guru@127.0.0.1:{}/dbguru", self.addr.port())
    }

    /// A tokio-postgres config for this proxy: user `user`, dbname `dbguru`, no TLS.
    pub fn pg_config(&self, user: &str) -> tokio_postgres::Config {
        let mut c = tokio_postgres::Config::new();
        c.host(self.addr.ip().to_string())
            .port(self.addr.port())
            .user(user)
            .dbname("dbguru")
            .application_name("dbguru-tests")
            .connect_timeout(Duration::from_secs(10));
        c
    }

    /// Connects as the trusted user `guru`; panics when that fails.
    pub async fn connect(&self) -> Client {
        connect_config(&self.pg_config("guru"))
            .await
            .unwrap_or_else(|e| panic!("connect to proxy at {} as guru: {e}", self.addr))
    }

    /// Connects as `user` with `password` (empty: no password).
    pub async fn connect_as(
        &self,
        user: &str,
        password: &str,
    ) -> Result<Client, tokio_postgres::Error> {
        let mut c = self.pg_config(user);
        if !password.is_empty() {
            c.password(password);
        }
        connect_config(&c).await
    }

    /// Connects as `guru`, collecting NoticeResponses in the returned [`Notices`].
    pub async fn connect_with_notices(&self) -> (Client, Notices) {
        connect_config_with_notices(&self.pg_config("guru"))
            .await
            .unwrap_or_else(|e| panic!("connect to proxy at {} as guru: {e}", self.addr))
    }

    /// Stops the proxy and waits until it has stopped.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }
}

/// Connects with `config` (no TLS) and spawns the connection task.
pub async fn connect_config(
    config: &tokio_postgres::Config,
) -> Result<Client, tokio_postgres::Error> {
    let (client, conn) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("[harness] proxy connection ended with error: {e}");
        }
    });
    Ok(client)
}

/// NoticeResponses received on one connection, in arrival order. Every notice sent before a
/// query's result is recorded by the time that query's future completes.
#[derive(Clone, Default, Debug)]
pub struct Notices(Arc<Mutex<Vec<DbError>>>);

impl Notices {
    fn push(&self, n: DbError) {
        self.0.lock().expect("notices lock").push(n);
    }

    /// All notices so far.
    pub fn all(&self) -> Vec<DbError> {
        self.0.lock().expect("notices lock").clone()
    }

    /// All notices so far, removing them.
    pub fn take(&self) -> Vec<DbError> {
        std::mem::take(&mut *self.0.lock().expect("notices lock"))
    }

    /// `"SEVERITY SQLSTATE: message"` for each notice so far.
    pub fn lines(&self) -> Vec<String> {
        self.all()
            .iter()
            .map(|n| format!("{} {}: {}", n.severity(), n.code().code(), n.message()))
            .collect()
    }

    /// The messages of the notices so far.
    pub fn messages(&self) -> Vec<String> {
        self.all().iter().map(|n| n.message().to_string()).collect()
    }

    /// Number of notices so far.
    pub fn len(&self) -> usize {
        self.0.lock().expect("notices lock").len()
    }

    /// Whether no notice arrived.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets the notices so far.
    pub fn clear(&self) {
        self.0.lock().expect("notices lock").clear();
    }
}

/// Connects with `config` (no TLS); the connection task forwards notices into [`Notices`].
pub async fn connect_config_with_notices(
    config: &tokio_postgres::Config,
) -> Result<(Client, Notices), tokio_postgres::Error> {
    let (client, mut conn) = config.connect(NoTls).await?;
    let notices = Notices::default();
    let sink = notices.clone();
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| conn.poll_message(cx));
        while let Some(m) = messages.next().await {
            match m {
                Ok(AsyncMessage::Notice(n)) => sink.push(n),
                Ok(_) => {}
                Err(e) => {
                    eprintln!("[harness] proxy connection ended with error: {e}");
                    break;
                }
            }
        }
    });
    Ok((client, notices))
}

/// One result set of a simple query, all values as text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimpleResult {
    /// Column names from RowDescription (present even when there are no rows).
    pub columns: Vec<String>,
    /// Rows; SQL NULL is `None`.
    pub rows: Vec<Vec<Option<String>>>,
    /// The row counts of CommandComplete messages (one per statement of the query string).
    pub counts: Vec<u64>,
}

impl SimpleResult {
    /// Index of column `name`; panics listing the columns when absent.
    pub fn col_index(&self, name: &str) -> usize {
        self.columns
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no column {name:?} in {:?}", self.columns))
    }

    /// All values of column `name`.
    pub fn column(&self, name: &str) -> Vec<Option<String>> {
        let i = self.col_index(name);
        self.rows.iter().map(|r| r[i].clone()).collect()
    }

    /// Value at `row`, column `name` (`None` for NULL); panics when out of range.
    pub fn get(&self, row: usize, name: &str) -> Option<String> {
        let i = self.col_index(name);
        self.rows
            .get(row)
            .unwrap_or_else(|| panic!("row {row} out of range ({} rows)", self.rows.len()))[i]
            .clone()
    }

    /// The single value of a 1x1 result; panics otherwise.
    pub fn scalar(&self) -> Option<String> {
        assert!(
            self.rows.len() == 1 && self.rows[0].len() == 1,
            "expected one row with one column, got columns {:?} rows {:?}",
            self.columns,
            self.rows
        );
        self.rows[0][0].clone()
    }
}

/// Runs `sql` with the simple protocol and returns every result set (one per statement that
/// returned a RowDescription; a statement without rows, such as SET, adds only to `counts`
/// of the current set).
pub async fn simple_all(
    client: &Client,
    sql: &str,
) -> Result<Vec<SimpleResult>, tokio_postgres::Error> {
    let messages = client.simple_query(sql).await?;
    let mut sets: Vec<SimpleResult> = Vec::new();
    let mut current = SimpleResult::default();
    let mut started = false;
    for m in messages {
        match m {
            SimpleQueryMessage::RowDescription(cols) => {
                if started {
                    sets.push(std::mem::take(&mut current));
                }
                started = true;
                current.columns = cols.iter().map(|c| c.name().to_string()).collect();
            }
            SimpleQueryMessage::Row(row) => {
                if !started {
                    started = true;
                    current.columns = row.columns().iter().map(|c| c.name().to_string()).collect();
                }
                current.rows.push(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                );
            }
            SimpleQueryMessage::CommandComplete(n) => current.counts.push(n),
            _ => {}
        }
    }
    if started || !current.counts.is_empty() {
        sets.push(current);
    }
    Ok(sets)
}

/// Runs `sql` with the simple protocol; returns the LAST result set (columns even for zero
/// rows), with the CommandComplete counts of every statement.
pub async fn simple(client: &Client, sql: &str) -> Result<SimpleResult, tokio_postgres::Error> {
    let sets = simple_all(client, sql).await?;
    let counts: Vec<u64> = sets.iter().flat_map(|s| s.counts.iter().copied()).collect();
    let mut last = sets.into_iter().last().unwrap_or_default();
    last.counts = counts;
    Ok(last)
}

/// The SQLSTATE of a database error (`None` for I/O and client-side errors).
pub fn sqlstate(err: &tokio_postgres::Error) -> Option<String> {
    err.code().map(|c| c.code().to_string())
}

/// The server-sent message of a database error, else the error's text.
pub fn error_message(err: &tokio_postgres::Error) -> String {
    err.as_db_error()
        .map(|e| e.message().to_string())
        .unwrap_or_else(|| err.to_string())
}
