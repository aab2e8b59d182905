//! MySQL / MariaDB backend: a mysql_async pool, text protocol.
//!
//! Every statement runs in its own worker task that owns the pooled connection, so
//! the row stream is `'static` (see the shared plumbing in [`super::worker`]).
//!
//! - Only one statement per call: SQL with a second statement after a `;` is refused
//!   before it reaches the server (multi-statements are always on in mysql_async, and
//!   a second statement would escape the protections below).
//! - MariaDB: the statement runs as `SET STATEMENT tx_read_only=1,
//!   max_statement_time=<s> FOR <sql>` when it must not write, else with
//!   `max_statement_time` only (the server limit is set slightly past the client
//!   deadline, which normally fires first). Unlike `START TRANSACTION READ ONLY`, this also
//!   refuses DDL (which would otherwise commit the read-only transaction implicitly
//!   and run), and it leaves no session state behind. Refused writes are error 1792,
//!   reported as [`BackendError::ReadOnly`].
//! - MySQL: `SET SESSION TRANSACTION READ ONLY|WRITE` and `max_execution_time` before
//!   the statement (the pool resets sessions when connections return).
//! - Rows are read until the row limit. If more rows follow, the rest of the result is
//!   not drained: the statement is stopped with `KILL QUERY` and the connection closed.
//! - When the deadline passes, or the caller drops the future or the stream, the
//!   statement is stopped with `KILL QUERY` over a separate connection, the worker
//!   waits for the server's answer, and the connection is closed.
//!
//! Column types come from the result set metadata, so the schema is known before the
//! first row (and for empty results).
//!
//! Files: [`decode`] types columns and decodes text-protocol values, [`tls`] turns
//! `ssl-mode`/`ssl-ca` into mysql_async's TLS options, [`grants`] tells whether the
//! account could write.

mod decode;
mod grants;
mod introspect;
mod keys;
mod lease;
mod tls;

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Pool, PoolConstraints};
use tokio::time::Instant;

use super::types::ColType;
use super::worker::{
    channel, command_tag, deadline_after, race, receive_head, scrub, Batcher, Msg, Race, Sink,
};
use super::{Backend, BackendError, Dialect, QueryOptions, QueryResult, SchemaInfo};
use crate::config::ConnectionConfig;

use self::decode::{classify, decode_row, MyKind};

/// How long `ping` may take.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `introspect` may take.
const INTROSPECT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `KILL QUERY`, and then the wait for the killed statement to end, may each take.
const CANCEL_GRACE: Duration = Duration::from_secs(3);

/// A MySQL or MariaDB database behind the proxy.
///
/// Connections are made lazily by a pool of at most `pool_size` connections (idle
/// ones are kept); nothing touches the network until the first query.
pub struct MysqlBackend {
    /// Where connections come from (with TLS unless `ssl-mode=DISABLED`).
    first: Target,
    /// `PREFERRED` only: the plain pool, used once the server turned out to have no TLS.
    plain: Option<Target>,
    /// `PREFERRED` only: 0 not known yet, 1 TLS, 2 plain.
    choice: AtomicU8,
    read_only: bool,
    secrets: Arc<Vec<String>>,
}

/// A pool and the options its connections (and the `KILL QUERY` connections) use.
#[derive(Clone)]
struct Target {
    pool: Pool,
    opts: Opts,
}

impl Target {
    fn new(opts: Opts) -> Self {
        Target {
            pool: Pool::new(opts.clone()),
            opts,
        }
    }
}

impl std::fmt::Debug for MysqlBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlBackend")
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

impl MysqlBackend {
    /// Builds the pool from `cfg.url` (`mysql://user:pass@host:port/db`; `mariadb://`
    /// is accepted too) with at most `cfg.pool_size` connections (minimum 1). Does no
    /// I/O; fails only when the URL is missing or invalid (or names an unreadable
    /// `ssl-ca`). `ssl-mode` (default `PREFERRED`) and `ssl-ca` choose TLS as the
    /// MySQL client does (see [`tls`]).
    pub fn new(cfg: &ConnectionConfig) -> Result<Self, BackendError> {
        let url = cfg.url.as_deref().ok_or_else(|| {
            BackendError::Connect(format!(
                "connection \"{}\" has no `url` (required for MySQL)",
                cfg.name
            ))
        })?;
        let mut secrets = vec![url.to_string()];
        let invalid = |message: String| {
            BackendError::Connect(scrub(
                &format!("connection \"{}\": invalid MySQL URL: {message}", cfg.name),
                &secrets,
            ))
        };
        let (rest, tls_options) = tls::split_options(url).map_err(invalid)?;
        let normalized = match rest.strip_prefix("mariadb://") {
            Some(rest) => format!("mysql://{rest}"),
            None => rest.clone(),
        };
        secrets.push(rest);
        secrets.push(normalized.clone());
        let opts = Opts::from_url(&normalized).map_err(|e| {
            BackendError::Connect(scrub(
                &format!("connection \"{}\": invalid MySQL URL: {e}", cfg.name),
                &secrets,
            ))
        })?;
        if let Some(pass) = opts.pass() {
            secrets.push(pass.to_string());
        }
        let size = cfg.pool_size.max(1);
        let constraints = PoolConstraints::new(size, size).ok_or_else(|| {
            BackendError::Connect(format!(
                "connection \"{}\": invalid pool size {size}",
                cfg.name
            ))
        })?;
        let pool_opts = opts.pool_opts().clone().with_constraints(constraints);
        let opts: Opts = OptsBuilder::from_opts(opts).pool_opts(pool_opts).into();
        let (first, plain) = tls::connect_opts(opts, &tls_options)
            .map_err(|e| BackendError::Connect(format!("connection \"{}\": {e}", cfg.name)))?;
        if first.ssl_opts().is_some() {
            tls::install_crypto_provider();
        }
        Ok(MysqlBackend {
            first: Target::new(first),
            plain: plain.map(Target::new),
            choice: AtomicU8::new(0),
            read_only: cfg.read_only,
            secrets: Arc::new(secrets),
        })
    }

    /// The pool to use: the first one, or for `PREFERRED` the plain one when the server
    /// has no TLS (found out on the first connection and remembered).
    async fn target(&self) -> Result<Target, BackendError> {
        let Some(plain) = &self.plain else {
            return Ok(self.first.clone());
        };
        match self.choice.load(Ordering::Acquire) {
            1 => return Ok(self.first.clone()),
            2 => return Ok(plain.clone()),
            _ => {}
        }
        match self.first.pool.get_conn().await {
            Ok(conn) => {
                drop(conn);
                self.choice.store(1, Ordering::Release);
                Ok(self.first.clone())
            }
            Err(e) if tls::server_has_no_tls(&e) => {
                tracing::info!("MySQL server offers no TLS; ssl-mode=PREFERRED connects without");
                self.choice.store(2, Ordering::Release);
                Ok(plain.clone())
            }
            Err(e) => Err(connect_error(e, &self.secrets)),
        }
    }

    async fn conn(&self) -> Result<Conn, BackendError> {
        self.target()
            .await?
            .pool
            .get_conn()
            .await
            .map_err(|e| connect_error(e, &self.secrets))
    }
}

#[async_trait]
impl Backend for MysqlBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    async fn schema_version(&self) -> Result<Option<String>, BackendError> {
        let work = async {
            let mut conn = self.conn().await?;
            let v: Option<Option<String>> = conn
                .query_first(introspect::SCHEMA_VERSION_SQL)
                .await
                .map_err(|e| my_error(e, INTROSPECT_TIMEOUT, &self.secrets))?;
            Ok(v.flatten())
        };
        tokio::time::timeout(INTROSPECT_TIMEOUT, work)
            .await
            .unwrap_or(Err(BackendError::Timeout(INTROSPECT_TIMEOUT)))
    }

    async fn introspect_keys(&self) -> Result<crate::keys::KeyInfo, BackendError> {
        let work = async {
            let mut conn = self.conn().await?;
            keys::introspect_keys(&mut conn)
                .await
                .map_err(|e| my_error(e, INTROSPECT_TIMEOUT, &self.secrets))
        };
        tokio::time::timeout(INTROSPECT_TIMEOUT, work)
            .await
            .unwrap_or(Err(BackendError::Timeout(INTROSPECT_TIMEOUT)))
    }

    async fn introspect(&self) -> Result<SchemaInfo, BackendError> {
        let work = async {
            let mut conn = self.conn().await?;
            let map = |e| my_error(e, INTROSPECT_TIMEOUT, &self.secrets);
            introspect::read_schema(&mut conn).await.map_err(map)
        };
        tokio::time::timeout(INTROSPECT_TIMEOUT, work)
            .await
            .unwrap_or(Err(BackendError::Timeout(INTROSPECT_TIMEOUT)))
    }

    async fn query(&self, sql: &str, opts: &QueryOptions) -> Result<QueryResult, BackendError> {
        let sql = single_statement(sql)?.to_string();
        let target = tokio::time::timeout(opts.timeout, self.target())
            .await
            .map_err(|_| BackendError::Timeout(opts.timeout))??;
        let (sink, rx) = channel();
        let job = Job {
            pool: target.pool,
            opts: target.opts,
            sql,
            read_only: self.read_only || !opts.allow_write,
            row_limit: opts.row_limit,
            timeout: opts.timeout,
            deadline: deadline_after(opts.timeout),
            secrets: self.secrets.clone(),
            idle: AtomicBool::new(true),
            in_transaction: false,
        };
        tokio::spawn(job.run(sink));
        receive_head(rx).await
    }

    async fn begin(&self, opts: &super::TxOptions) -> Result<Box<dyn super::Lease>, BackendError> {
        self.begin_lease(opts).await
    }

    async fn ping(&self) -> Result<(), BackendError> {
        let work = async {
            let mut conn = self.conn().await?;
            conn.query_drop("SELECT 1")
                .await
                .map_err(|e| my_error(e, PING_TIMEOUT, &self.secrets))
        };
        tokio::time::timeout(PING_TIMEOUT, work)
            .await
            .unwrap_or(Err(BackendError::Timeout(PING_TIMEOUT)))
    }

    async fn write_privileges(&self) -> Result<Vec<String>, BackendError> {
        let work = async {
            let mut conn = self.conn().await?;
            grants::write_privileges(&mut conn)
                .await
                .map_err(|e| my_error(e, INTROSPECT_TIMEOUT, &self.secrets))
        };
        tokio::time::timeout(INTROSPECT_TIMEOUT, work)
            .await
            .unwrap_or(Err(BackendError::Timeout(INTROSPECT_TIMEOUT)))
    }
}

/// One statement running in its own task.
struct Job {
    pool: Pool,
    opts: Opts,
    sql: String,
    read_only: bool,
    row_limit: Option<usize>,
    timeout: Duration,
    deadline: Instant,
    secrets: Arc<Vec<String>>,
    /// False while a statement may run on the connection or its rows are unread.
    idle: AtomicBool,
    /// Runs inside a transaction block, whose own access mode applies (the per-statement
    /// read-only settings cannot change inside a transaction).
    in_transaction: bool,
}

impl Job {
    async fn run(self, sink: Sink) {
        let mut conn = match race(self.pool.get_conn(), self.deadline, &sink).await {
            Race::Done(Ok(conn)) => conn,
            Race::Done(Err(e)) => return sink.fail(connect_error(e, &self.secrets)).await,
            Race::TimedOut => return sink.fail(BackendError::Timeout(self.timeout)).await,
            Race::Abandoned => return,
        };
        let id = conn.id();
        let outcome = race(self.execute(&mut conn, &sink), self.deadline, &sink).await;
        // When the statement may still run or rows are unread, stop it and close the
        // connection; otherwise the connection goes back to the pool when dropped.
        let busy = !self.idle.load(Ordering::Acquire);
        match outcome {
            Race::Done(Ok(())) => {
                // Stopped at the row limit: end the stream first, then the statement.
                drop(sink);
                if busy {
                    kill_and_discard(conn, id, &self.opts).await;
                }
            }
            Race::Done(Err(e)) => {
                if busy {
                    kill_and_discard(conn, id, &self.opts).await;
                }
                sink.fail(e).await;
            }
            Race::Abandoned => {
                if busy {
                    tracing::debug!(
                        connection_id = id,
                        "consumer went away; stopping MySQL statement"
                    );
                    kill_and_discard(conn, id, &self.opts).await;
                }
            }
            Race::TimedOut => {
                if busy {
                    tracing::debug!(
                        connection_id = id,
                        "deadline passed; stopping MySQL statement"
                    );
                    kill_and_discard(conn, id, &self.opts).await;
                }
                sink.fail(BackendError::Timeout(self.timeout)).await;
            }
        }
    }

    async fn execute(&self, conn: &mut Conn, sink: &Sink) -> Result<(), BackendError> {
        let map = |e: mysql_async::Error| {
            // A server error ends the statement and its result.
            if matches!(e, mysql_async::Error::Server(_)) {
                self.idle.store(true, Ordering::Release);
            }
            my_error(e, self.timeout, &self.secrets)
        };
        self.idle.store(false, Ordering::Release);
        let text = if is_mariadb(conn) {
            let read_only = self.read_only && !self.in_transaction;
            mariadb_statement(&self.sql, read_only, self.timeout)
        } else {
            if !self.in_transaction {
                let mode = if self.read_only { "ONLY" } else { "WRITE" };
                conn.query_drop(format!("SET SESSION TRANSACTION READ {mode}"))
                    .await
                    .map_err(map)?;
            }
            let ms = server_limit(self.timeout)
                .as_millis()
                .clamp(1, u128::from(u32::MAX));
            conn.query_drop(format!("SET SESSION max_execution_time = {ms}"))
                .await
                .map_err(map)?;
            self.sql.clone()
        };
        let mut result = conn.query_iter(text).await.map_err(map)?;
        let columns = match result.columns() {
            Some(columns) if !columns.is_empty() => columns,
            _ => {
                let rows = result.affected_rows();
                result.drop_result().await.map_err(map)?;
                self.idle.store(true, Ordering::Release);
                return sink
                    .send(Msg::Command {
                        tag: command_tag(&self.sql),
                        rows,
                    })
                    .await;
            }
        };
        let kinds: Vec<(ColType, MyKind)> = columns
            .iter()
            .map(|c| {
                classify(
                    c.column_type(),
                    c.flags(),
                    c.character_set(),
                    c.column_length(),
                )
            })
            .collect();
        let named: Vec<(String, ColType)> = columns
            .iter()
            .zip(&kinds)
            .map(|(c, (t, _))| (c.name_str().into_owned(), *t))
            .collect();
        let mut batcher = Batcher::new(&named, false);
        // The head goes out after the first row, so errors raised before it (timeouts
        // included) fail `query` itself rather than the stream.
        let mut head = Some(batcher.schema());
        let limit = self.row_limit.unwrap_or(usize::MAX);
        let mut count = 0usize;
        let mut truncated = false;
        loop {
            // At the limit this reads one row past it (already on its way from the
            // server) only to learn whether the result was cut short.
            let next = result.next().await.map_err(map)?;
            if let Some(schema) = head.take() {
                sink.send(Msg::Rows(schema)).await?;
            }
            let Some(row) = next else {
                break;
            };
            if count >= limit {
                truncated = true;
                break;
            }
            batcher
                .push(decode_row(&row, &kinds, &named)?, sink)
                .await?;
            count += 1;
        }
        if truncated {
            // More rows follow: `run` stops the statement instead of draining them.
            drop(result);
        } else {
            result.drop_result().await.map_err(map)?;
            self.idle.store(true, Ordering::Release);
        }
        batcher.finish(sink).await
    }
}

/// MariaDB reports versions 10 and up; MySQL 5.x, 8.x, 9.x.
fn is_mariadb(conn: &Conn) -> bool {
    conn.server_version().0 >= 10
}

/// Statements MariaDB refuses after `SET STATEMENT ... FOR` (only relevant when
/// writes are allowed: read-only statements never start with these).
const NO_SET_STATEMENT: &[&str] = &[
    "SET",
    "START",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
    "LOCK",
    "UNLOCK",
    "USE",
    "KILL",
    "XA",
    "PREPARE",
    "EXECUTE",
    "DEALLOCATE",
];

/// The server-side limit: a little longer than the client's deadline, so the client
/// normally stops the statement first (MariaDB's limit makes `SLEEP()` return early
/// *without* an error, which would read as success).
fn server_limit(timeout: Duration) -> Duration {
    timeout
        .saturating_add(timeout / 10)
        .saturating_add(Duration::from_millis(100))
}

/// Wraps `sql` so MariaDB enforces the timeout (and read-only) for this statement only.
fn mariadb_statement(sql: &str, read_only: bool, timeout: Duration) -> String {
    let limit = server_limit(timeout).as_secs_f64().min(31_536_000.0);
    let secs = format!("{limit:.6}");
    let secs = secs.trim_end_matches('0').trim_end_matches('.');
    if read_only {
        return format!("SET STATEMENT tx_read_only=1, max_statement_time={secs} FOR {sql}");
    }
    let first = command_tag(sql);
    let first = first.split(' ').next().unwrap_or_default();
    if NO_SET_STATEMENT.contains(&first) {
        sql.to_string()
    } else {
        format!("SET STATEMENT max_statement_time={secs} FOR {sql}")
    }
}

/// Stops the statement running on connection `id` from a separate connection, waits
/// until the server's answer for it has arrived, then closes the connection.
async fn kill_and_discard(conn: Conn, id: u32, opts: &Opts) {
    let kill = async {
        let mut killer = Conn::new(opts.clone()).await?;
        killer.query_drop(format!("KILL QUERY {id}")).await?;
        killer.disconnect().await
    };
    match tokio::time::timeout(CANCEL_GRACE, kill).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(connection_id = id, error = %kill_error_text(&e), "KILL QUERY failed")
        }
        Err(_) => tracing::warn!(connection_id = id, "KILL QUERY timed out"),
    }
    // Disconnecting first reads what the killed statement still sends.
    match tokio::time::timeout(CANCEL_GRACE, conn.disconnect()).await {
        Ok(_) => {}
        Err(_) => tracing::warn!(
            connection_id = id,
            "MySQL connection did not settle after KILL; dropped"
        ),
    }
}

/// The server's message only (never options or URLs).
fn kill_error_text(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => format!("{} ({})", s.message, s.code),
        mysql_async::Error::Io(_) => "I/O error".into(),
        _ => "driver error".into(),
    }
}

// ---------------------------------------------------------------------------
// Refusing a second statement

/// Returns `sql` without trailing `;`, whitespace and comments, or an error when
/// another statement follows a `;`. Knows quotes (`'`, `"`, backticks, with backslash
/// escapes and doubled quotes) and comments (`-- `, `#`, `/* */`); executable comments
/// (`/*! */`, `/*M! */`) are treated as code.
fn single_statement(sql: &str) -> Result<&str, BackendError> {
    let b = sql.as_bytes();
    let mut i = 0;
    let mut end = 0;
    let mut after_semicolon = false;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == b'\'' || c == b'"' || c == b'`' {
            if after_semicolon {
                return Err(second_statement());
            }
            i = skip_quoted(b, i);
            end = i;
        } else if (c == b'-'
            && next == Some(b'-')
            && b.get(i + 2).is_none_or(|x| x.is_ascii_whitespace()))
            || c == b'#'
        {
            i = b[i..]
                .iter()
                .position(|x| *x == b'\n')
                .map_or(b.len(), |p| i + p + 1);
        } else if c == b'/'
            && next == Some(b'*')
            && b.get(i + 2) != Some(&b'!')
            && !(b.get(i + 2) == Some(&b'M') && b.get(i + 3) == Some(&b'!'))
        {
            i = find(b, i + 2, b"*/").map_or(b.len(), |p| p + 2);
        } else if c == b';' {
            after_semicolon = true;
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else {
            if after_semicolon {
                return Err(second_statement());
            }
            i += 1;
            end = i;
        }
    }
    Ok(sql.get(..end).unwrap_or(sql))
}

fn second_statement() -> BackendError {
    BackendError::Query {
        sqlstate: Some("42601".into()),
        message: "only one statement can run at a time; remove everything after the first ';'"
            .into(),
    }
}

/// Index just past the quoted string starting at `start`.
fn skip_quoted(b: &[u8], start: usize) -> usize {
    let quote = b[start];
    let mut j = start + 1;
    while j < b.len() {
        if b[j] == b'\\' && quote != b'`' {
            j += 2;
        } else if b[j] == quote {
            if b.get(j + 1) == Some(&quote) {
                j += 2;
            } else {
                return j + 1;
            }
        } else {
            j += 1;
        }
    }
    b.len()
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

// ---------------------------------------------------------------------------
// Errors

/// Any failure while getting a connection is a connection failure.
fn connect_error(e: mysql_async::Error, secrets: &[String]) -> BackendError {
    let msg = match &e {
        mysql_async::Error::Server(s) => s.message.clone(),
        mysql_async::Error::Io(mysql_async::IoError::Io(io)) => io.to_string(),
        other => other.to_string(),
    };
    BackendError::Connect(scrub(&msg, secrets))
}

/// Maps a driver error; server errors get a PostgreSQL SQLSTATE where one fits.
fn my_error(e: mysql_async::Error, timeout: Duration, secrets: &[String]) -> BackendError {
    use mysql_async::{DriverError, Error};
    match e {
        Error::Server(s) => server_error(s.code, &s.state, scrub(&s.message, secrets), timeout),
        Error::Io(_)
        | Error::Url(_)
        | Error::Driver(
            DriverError::ConnectionClosed
            | DriverError::PacketOutOfOrder
            | DriverError::PoolDisconnected,
        ) => BackendError::Connect(scrub(&e.to_string(), secrets)),
        other => BackendError::Other(scrub(&other.to_string(), secrets)),
    }
}

fn server_error(code: u16, state: &str, message: String, timeout: Duration) -> BackendError {
    let sqlstate = match code {
        1792 => return BackendError::ReadOnly(message),
        // max_statement_time (MariaDB) / max_execution_time (MySQL) exceeded
        1969 | 3024 => return BackendError::Timeout(timeout),
        1317 => Some("57014"),
        1146 | 1051 => Some("42P01"),
        1054 => Some("42703"),
        1064 | 1149 => Some("42601"),
        1142 | 1143 | 1044 | 1045 | 1227 => Some("42501"),
        1049 => Some("3D000"),
        1050 => Some("42P07"),
        1052 => Some("42702"),
        1048 => Some("23502"),
        1062 | 1586 => Some("23505"),
        1216 | 1217 | 1451 | 1452 => Some("23503"),
        1305 | 1630 => Some("42883"),
        1055 | 1056 | 1111 => Some("42803"),
        1264 => Some("22003"),
        1365 => Some("22012"),
        1406 => Some("22001"),
        _ => None,
    };
    let sqlstate = sqlstate
        .map(str::to_string)
        .or_else(|| (state.len() == 5 && state != "HY000").then(|| state.to_string()));
    BackendError::Query { sqlstate, message }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn one_statement_only() {
        assert_eq!(single_statement("SELECT 1").unwrap(), "SELECT 1");
        assert_eq!(single_statement("SELECT 1 ;  \n").unwrap(), "SELECT 1");
        assert_eq!(single_statement("SELECT 1; -- done\n").unwrap(), "SELECT 1");
        assert_eq!(
            single_statement("SELECT ';' , \"a;b\", `c;d`").unwrap(),
            "SELECT ';' , \"a;b\", `c;d`"
        );
        assert_eq!(
            single_statement("SELECT 'it''s; ok', 'x\\';y'").unwrap(),
            "SELECT 'it''s; ok', 'x\\';y'"
        );
        assert_eq!(
            single_statement("SELECT 1 /* ; */ # ;\n").unwrap(),
            "SELECT 1"
        );
        assert_eq!(single_statement("SELECT 'é';").unwrap(), "SELECT 'é'");
        assert!(single_statement("SELECT 1; DROP TABLE t").is_err());
        assert!(single_statement("SELECT 1;;'x'").is_err());
        assert!(single_statement("SELECT 1 /*! ; DROP TABLE t */").is_err());
    }

    #[test]
    fn errors_map_to_sqlstates() {
        let t = Duration::from_secs(1);
        let state = |code, st: &str| match server_error(code, st, "m".into(), t) {
            BackendError::Query { sqlstate, .. } => sqlstate,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(state(1146, "42S02").as_deref(), Some("42P01"));
        assert_eq!(state(1054, "42S22").as_deref(), Some("42703"));
        assert_eq!(state(1064, "42000").as_deref(), Some("42601"));
        assert_eq!(state(1142, "42000").as_deref(), Some("42501"));
        assert_eq!(state(9999, "HY000"), None);
        assert_eq!(state(9998, "22007").as_deref(), Some("22007"));
        assert!(matches!(
            server_error(1792, "25006", "ro".into(), t),
            BackendError::ReadOnly(_)
        ));
        assert!(matches!(
            server_error(1969, "70100", "slow".into(), t),
            BackendError::Timeout(_)
        ));
    }

    #[test]
    fn mariadb_wrapping() {
        let t = Duration::from_millis(1000);
        assert_eq!(
            mariadb_statement("SELECT 1", true, t),
            "SET STATEMENT tx_read_only=1, max_statement_time=1.2 FOR SELECT 1"
        );
        assert_eq!(
            mariadb_statement("insert into t values (1)", false, Duration::from_secs(9)),
            "SET STATEMENT max_statement_time=10 FOR insert into t values (1)"
        );
        assert_eq!(mariadb_statement("SET @a = 1", false, t), "SET @a = 1");
    }
}
