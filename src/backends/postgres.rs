//! PostgreSQL backend: a deadpool pool of tokio-postgres connections (no TLS).
//!
//! Every statement runs in its own worker task that owns the pooled connection, so
//! the row stream is `'static`.
//!
//! Plain reads without a row limit (SQL passed through) take the fast path: one round
//! trip carries `BEGIN READ ONLY; SET LOCAL statement_timeout …; SET LOCAL <session
//! parameters>` and the statement as the unnamed statement (Parse, Bind, Describe,
//! Execute, Sync: `query_typed_raw`), so nothing stays prepared on the server and the
//! transaction is read-only before the statement's first instruction — no function it
//! calls can turn that off. The COMMIT goes out after the last row (an empty result is
//! described once more to learn its columns). Statements that could change the session
//! (`SET`, `set_config`, transaction control...) never take the fast path.
//!
//! Everything else (row limits, writes) runs in an explicit transaction:
//!
//! - `BEGIN READ ONLY` unless writes are allowed and the connection is not read-only;
//!   `SET LOCAL statement_timeout` bounds each step on the server. After a statement
//!   that could write, the connection's session state is reset (`RESET ALL`, temp
//!   tables, advisory locks, cursors) before it goes back to the pool.
//! - Row-returning statements are bound to a portal and fetched in chunks of at most
//!   [`BATCH_ROWS`] rows, never more than the row limit, so the server produces only
//!   what is asked for.
//! - The head (schema, or command tag) is sent after the first chunk of rows, so errors
//!   raised before the first row fail `query` itself; later errors end the stream.
//! - The client-side deadline covers the whole statement, streaming included. When it
//!   passes, or when the caller drops the future or the stream, while the server is
//!   working, the statement is cancelled on the server (`CancelRequest`), the worker
//!   waits until the server has finished with the connection, and the connection is
//!   closed instead of being returned to the pool (a late cancel signal can then never
//!   hit another statement). While the worker merely waits for a slow consumer,
//!   nothing runs on the server: the transaction is rolled back and the connection
//!   pooled again. On the fast path the server may still be producing rows, so an
//!   abandoned or timed-out statement is always cancelled and its connection closed.
//!
//! Values are read in PostgreSQL's binary format through [`Raw`], which accepts every
//! type, and decoded here (numeric, interval, arrays and friends included).
//!
//! The worker/channel plumbing (`Msg`, `Sink`, `race`, `Batcher`, `receive_head`,
//! `command_tag`, `scrub`) lives in [`super::worker`], shared with the MySQL backend.

mod lease;

use std::error::Error as StdError;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, Object, Pool, PoolError};
use futures::TryStreamExt;
use tokio::time::Instant;
use tokio_postgres::types::{FromSql, Kind, ToSql, Type};
use tokio_postgres::{CancelToken, NoTls, Row};

use super::types::{ColType, Value, BATCH_ROWS};
use super::worker::{
    channel, command_tag, deadline_after, keywords, race, receive_head, scrub, Batcher, Msg, Race,
    Sink,
};
use super::{
    Backend, BackendError, ColumnInfo, Dialect, QueryOptions, QueryResult, SchemaInfo, TableInfo,
};
use crate::config::ConnectionConfig;

/// How long `ping` may take.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `introspect` may take.
const INTROSPECT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the cancel request, and then the wait for the server to settle, may each take.
const CANCEL_GRACE: Duration = Duration::from_secs(3);
/// TCP connect timeout used when the URL does not set `connect_timeout`.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Days from 1970-01-01 (Arrow's epoch) to 2000-01-01 (PostgreSQL's epoch).
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// A PostgreSQL database behind the proxy.
///
/// Connections are made lazily by a pool of at most `pool_size` connections; nothing
/// touches the network until the first query, introspection or ping.
pub struct PostgresBackend {
    pool: Pool,
    read_only: bool,
    secrets: Arc<Vec<String>>,
}

impl std::fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBackend")
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

impl PostgresBackend {
    /// Runs `sql` with `params` bound to its placeholders in a worker task.
    async fn run(
        &self,
        sql: &str,
        params: Vec<Option<String>>,
        opts: &QueryOptions,
    ) -> Result<QueryResult, BackendError> {
        let (sink, rx) = channel();
        let job = Job {
            pool: self.pool.clone(),
            sql: sql.to_string(),
            params,
            read_only: self.read_only || !opts.allow_write,
            row_limit: opts.row_limit,
            timeout: opts.timeout,
            deadline: deadline_after(opts.timeout),
            secrets: self.secrets.clone(),
            settings: opts.settings.clone(),
        };
        tokio::spawn(job.run(sink));
        receive_head(rx).await
    }

    /// Builds the pool from `cfg.url` (a `postgres://` URL or key=value string) with at
    /// most `cfg.pool_size` connections (minimum 1). Does no I/O; fails only when the
    /// URL is missing or invalid. `connect_timeout` defaults to 10 s and
    /// `application_name` to `dbguru` when the URL does not set them.
    pub fn new(cfg: &ConnectionConfig) -> Result<Self, BackendError> {
        let url = cfg.url.as_deref().ok_or_else(|| {
            BackendError::Connect(format!(
                "connection \"{}\" has no `url` (required for PostgreSQL)",
                cfg.name
            ))
        })?;
        let mut secrets = vec![url.to_string()];
        let mut pg: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| {
            BackendError::Connect(scrub(
                &format!(
                    "connection \"{}\": invalid PostgreSQL URL: {}",
                    cfg.name,
                    error_chain(&e)
                ),
                &secrets,
            ))
        })?;
        if let Some(pw) = pg.get_password() {
            secrets.push(String::from_utf8_lossy(pw).into_owned());
        }
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        if pg.get_application_name().is_none() {
            pg.application_name("dbguru");
        }
        let pool = Pool::builder(Manager::new(pg, NoTls))
            .max_size(cfg.pool_size.max(1))
            .build()
            .map_err(|e| {
                BackendError::Connect(format!(
                    "connection \"{}\": cannot build the pool: {e}",
                    cfg.name
                ))
            })?;
        Ok(PostgresBackend {
            pool,
            read_only: cfg.read_only,
            secrets: Arc::new(secrets),
        })
    }

    async fn client(&self) -> Result<Object, BackendError> {
        self.pool
            .get()
            .await
            .map_err(|e| pool_error(e, &self.secrets))
    }
}

#[async_trait]
impl Backend for PostgresBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn introspect(&self) -> Result<SchemaInfo, BackendError> {
        let work = async {
            let client = self.client().await?;
            let map = |e| pg_error(e, INTROSPECT_TIMEOUT, &self.secrets);
            let database: String = client
                .query_one("SELECT current_database()::text", &[])
                .await
                .map_err(map)?
                .try_get(0)
                .map_err(map)?;
            let rows = client.query(INTROSPECT_SQL, &[]).await.map_err(map)?;
            let mut tables: Vec<TableInfo> = Vec::new();
            for row in rows {
                let schema: String = row.try_get(0).map_err(map)?;
                let table: String = row.try_get(1).map_err(map)?;
                let name = if schema == "public" {
                    table
                } else {
                    format!("{schema}.{table}")
                };
                let column = ColumnInfo {
                    name: row.try_get(2).map_err(map)?,
                    data_type: short_type_name(&row.try_get::<_, String>(3).map_err(map)?),
                    nullable: !row.try_get::<_, bool>(4).map_err(map)?,
                    primary_key: row.try_get(5).map_err(map)?,
                };
                match tables.last_mut() {
                    Some(t) if t.name == name => t.columns.push(column),
                    _ => tables.push(TableInfo {
                        name,
                        columns: vec![column],
                    }),
                }
            }
            tables.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(SchemaInfo { database, tables })
        };
        tokio::time::timeout(INTROSPECT_TIMEOUT, work)
            .await
            .unwrap_or(Err(BackendError::Timeout(INTROSPECT_TIMEOUT)))
    }

    async fn query(&self, sql: &str, opts: &QueryOptions) -> Result<QueryResult, BackendError> {
        self.run(sql, Vec::new(), opts).await
    }

    fn binds_parameters(&self) -> bool {
        true
    }

    async fn query_params(
        &self,
        sql: &str,
        params: &[Option<String>],
        opts: &QueryOptions,
    ) -> Result<QueryResult, BackendError> {
        self.run(sql, params.to_vec(), opts).await
    }

    async fn describe(&self, sql: &str) -> Result<Option<super::Described>, BackendError> {
        let client = self.client().await?;
        // Only statements with parameters are described, and those run through the
        // per-connection statement cache too: prepare once, reuse when they execute.
        let stmt = tokio::time::timeout(PING_TIMEOUT, prepared(&client, sql))
            .await
            .map_err(|_| BackendError::Timeout(PING_TIMEOUT))?
            .map_err(|e| pg_error(e, PING_TIMEOUT, &self.secrets))?;
        let params = stmt
            .params()
            .iter()
            .map(|t| pg_kind(t).col_type())
            .collect();
        let (_, columns) = columns_of(stmt.columns());
        Ok(Some(super::Described {
            params,
            schema: super::types::schema_of(&columns),
        }))
    }

    async fn begin(&self, opts: &super::TxOptions) -> Result<Box<dyn super::Lease>, BackendError> {
        self.begin_lease(opts).await
    }

    async fn ping(&self) -> Result<(), BackendError> {
        let work = async {
            let client = self.client().await?;
            client
                .simple_query("SELECT 1")
                .await
                .map(|_| ())
                .map_err(|e| pg_error(e, PING_TIMEOUT, &self.secrets))
        };
        tokio::time::timeout(PING_TIMEOUT, work)
            .await
            .unwrap_or(Err(BackendError::Timeout(PING_TIMEOUT)))
    }
}

/// Tables, views, materialized views, foreign and partitioned tables of every user
/// schema (partitions themselves are left out), one row per column in ordinal order.
const INTROSPECT_SQL: &str = "\
SELECT n.nspname::text, c.relname::text, a.attname::text,
       format_type(a.atttypid, a.atttypmod), a.attnotnull,
       EXISTS (SELECT 1 FROM pg_index i
               WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey))
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
ORDER BY n.nspname, c.relname, a.attnum";

/// `character varying(100)` → `varchar(100)`, `character(3)` → `char(3)`; other
/// names as `format_type` spells them.
fn short_type_name(name: &str) -> String {
    if let Some(rest) = name.strip_prefix("character varying") {
        format!("varchar{rest}")
    } else if let Some(rest) = name.strip_prefix("character(") {
        format!("char({rest}")
    } else {
        name.to_string()
    }
}

/// One statement running in its own task.
struct Job {
    pool: Pool,
    sql: String,
    /// Values of the `$n` placeholders, sent as text for the server to parse.
    params: Vec<Option<String>>,
    read_only: bool,
    row_limit: Option<usize>,
    timeout: Duration,
    deadline: Instant,
    secrets: Arc<Vec<String>>,
    /// Session parameters for this statement (`SET LOCAL`), values already literals.
    settings: Arc<Vec<(String, String)>>,
}

impl Job {
    /// `SET LOCAL` of the statement timeout and the session's parameters, one
    /// statement each, to run inside the statement's transaction.
    fn set_locals(&self) -> String {
        let mut s = format!("SET LOCAL statement_timeout = {}", self.timeout_ms());
        for (name, value) in self.settings.iter() {
            s.push_str(&format!(
                "; SET LOCAL \"{}\" = {value}",
                name.replace('"', "\"\"")
            ));
        }
        s
    }

    /// The bound values, sent in text format for the server to parse by the types it
    /// inferred for the placeholders (as for a literal).
    fn text_params(&self) -> impl ExactSizeIterator<Item = TextParam<'_>> {
        self.params.iter().map(|p| TextParam(p.as_deref()))
    }

    /// The timeout in whole milliseconds, as `statement_timeout` takes it.
    fn timeout_ms(&self) -> u64 {
        u64::try_from(self.timeout.as_millis().clamp(1, i32::MAX as u128)).unwrap_or(1)
    }

    async fn run(self, sink: Sink) {
        let client = match race(self.pool.get(), self.deadline, &sink).await {
            Race::Done(Ok(client)) => client,
            Race::Done(Err(e)) => return sink.fail(pool_error(e, &self.secrets)).await,
            Race::TimedOut => return sink.fail(BackendError::Timeout(self.timeout)).await,
            Race::Abandoned => return,
        };
        let cancel = client.cancel_token();
        let mut client = client;
        let fast = self.row_limit.is_none() && self.read_only && !touches_session(&self.sql);
        let work = async {
            if fast {
                self.stream(&client, &sink).await
            } else {
                self.execute(&mut client, &sink).await
            }
        };
        let timed_out = match race(work, self.deadline, &sink).await {
            Race::Done(Ok(())) if self.read_only => return,
            // A statement that could write may have left session state behind (a temp
            // table, a session setting, an advisory lock, a held cursor): reset it before
            // the connection serves anyone else, or close the connection.
            Race::Done(Ok(())) => {
                if client.batch_execute(RESET_SESSION).await.is_err() {
                    drop(Object::take(client));
                }
                return;
            }
            // A fast-path stream whose consumer went away may still be running.
            Race::Done(Err(e)) if fast && sink.is_closed() => {
                cancel_and_discard(client, cancel).await;
                return sink.fail(e).await;
            }
            // The failed call is over; the dropped transaction queues its ROLLBACK.
            Race::Done(Err(e)) => return sink.fail(e).await,
            Race::Abandoned => false,
            Race::TimedOut => true,
        };
        // Between portal fetches, while waiting for the consumer, nothing runs on the
        // server: dropping the transaction (ROLLBACK) is enough and the connection
        // goes back to the pool. Otherwise (and always on the fast path, where the
        // server may still be producing rows) cancel the running statement.
        if fast || !sink.was_waiting() {
            tracing::debug!(timed_out, "cancelling PostgreSQL statement");
            cancel_and_discard(client, cancel).await;
        }
        if timed_out {
            sink.fail(BackendError::Timeout(self.timeout)).await;
        }
    }

    async fn execute(&self, client: &mut Object, sink: &Sink) -> Result<(), BackendError> {
        let map = |e| pg_error(e, self.timeout, &self.secrets);
        let txn = client
            .build_transaction()
            .read_only(self.read_only)
            .start()
            .await
            .map_err(map)?;
        // Pipelined: both requests go out before either answer is awaited.
        let set_locals = self.set_locals();
        let (set, stmt) = tokio::join!(txn.batch_execute(&set_locals), txn.prepare(&self.sql));
        set.map_err(map)?;
        let stmt = stmt.map_err(map)?;
        if stmt.columns().is_empty() {
            let rows = txn
                .execute_raw(&stmt, self.text_params())
                .await
                .map_err(map)?;
            txn.commit().await.map_err(map)?;
            return sink
                .send(Msg::Command {
                    tag: command_tag(&self.sql),
                    rows,
                })
                .await;
        }
        let (kinds, columns) = columns_of(stmt.columns());
        let mut batcher = Batcher::new(&columns, !self.read_only);
        let portal = txn.bind_raw(&stmt, self.text_params()).await.map_err(map)?;
        // The head goes out after the first chunk, so errors raised before the first
        // row (timeouts included) fail `query` itself rather than the stream.
        let mut head = Some(batcher.schema());
        let mut left = self.row_limit.unwrap_or(usize::MAX);
        loop {
            let want = left.min(BATCH_ROWS);
            let rows = if want == 0 {
                Vec::new()
            } else {
                let chunk = i32::try_from(want).unwrap_or(i32::MAX);
                txn.query_portal(&portal, chunk).await.map_err(map)?
            };
            if let Some(schema) = head.take() {
                sink.send(Msg::Rows(schema)).await?;
            }
            for row in &rows {
                batcher.push(decode_row(row, &kinds)?, sink).await?;
            }
            left = left.saturating_sub(rows.len());
            if left == 0 || rows.len() < want {
                break;
            }
        }
        drop(portal);
        txn.commit().await.map_err(map)?;
        batcher.finish(sink).await
    }

    /// The fast path: a read without a row limit, in a `READ ONLY` transaction opened
    /// in the same round trip as the statement (`BEGIN READ ONLY; SET LOCAL …` is sent
    /// together with Parse/Bind/Execute). A transaction's read-only flag cannot be
    /// turned off after its first statement, so no function the statement calls
    /// (`set_config`, `query_to_xml` running a string) can make it write; the COMMIT
    /// goes out after the last row, off the client's critical path.
    async fn stream(&self, client: &Object, sink: &Sink) -> Result<(), BackendError> {
        let map = |e| pg_error(e, self.timeout, &self.secrets);
        let begin = format!("BEGIN READ ONLY; {}", self.set_locals());
        // One round trip: `BEGIN READ ONLY; SET LOCAL …`, then Parse, Bind, Describe,
        // Execute and Sync of the unnamed statement, then COMMIT, all queued before any
        // answer is awaited. Nothing stays prepared on the server, so statements that
        // differ only in their literals (the common case) cannot pile up there.
        //
        // With bound parameters (the extended protocol) the text repeats, so it is
        // prepared once per connection (Parse only, outside the transaction: nothing
        // runs) and then costs Bind/Execute/Sync only, the plan reused as PostgreSQL
        // reuses it for a direct client. The per-connection cache is bounded: past
        // [`PREPARED_PER_CONNECTION`] statements it starts afresh (the dropped
        // statements are closed on the server).
        let (rows, commit) = if self.params.is_empty() {
            let no_params: [(&(dyn ToSql + Sync), Type); 0] = [];
            pipelined(client, &begin, client.query_typed_raw(&self.sql, no_params)).await
        } else {
            let stmt = prepared(client, &self.sql).await.map_err(map)?;
            let (rows, commit) =
                pipelined(client, &begin, client.query_raw(&stmt, self.text_params())).await;
            match rows {
                // The cached statement's result type changed under it (DDL since it was
                // prepared): prepare it again, once, in a fresh transaction (the queued
                // COMMIT ended the failed one).
                Err(e) if is_stale_plan(&e) => {
                    commit.await.map_err(map)?;
                    client.statement_cache.remove(&self.sql, &[]);
                    let stmt = prepared(client, &self.sql).await.map_err(map)?;
                    pipelined(client, &begin, client.query_raw(&stmt, self.text_params())).await
                }
                other => (other, commit),
            }
        };
        let rows = rows.map_err(map)?;
        self.stream_rows(client, sink, rows).await?;
        // The COMMIT was sent with the statement; its answer follows the last row.
        commit.await.map_err(map)
    }

    /// Streams the rows of the fast path into `sink`.
    async fn stream_rows(
        &self,
        client: &Object,
        sink: &Sink,
        rows: tokio_postgres::RowStream,
    ) -> Result<(), BackendError> {
        let map = |e| pg_error(e, self.timeout, &self.secrets);
        let mut rows = std::pin::pin!(rows);
        // The head goes out once the first row (or the end) arrived, so errors raised
        // before the first row fail `query` itself rather than the stream.
        let first = rows.try_next().await.map_err(map)?;
        let Some(first) = first else {
            // No row carries the columns: describe the statement (Parse and Describe
            // only, closed again at once) to tell an empty result from a command.
            let stmt = client.prepare(&self.sql).await.map_err(map)?;
            if stmt.columns().is_empty() {
                return sink
                    .send(Msg::Command {
                        tag: command_tag(&self.sql),
                        rows: rows.rows_affected().unwrap_or(0),
                    })
                    .await;
            }
            let columns = columns_of(stmt.columns());
            let batcher = Batcher::new(&columns.1, false);
            sink.send(Msg::Rows(batcher.schema())).await?;
            return batcher.finish(sink).await;
        };
        let (kinds, columns) = columns_of(first.columns());
        let mut batcher = Batcher::new(&columns, false);
        sink.send(Msg::Rows(batcher.schema())).await?;
        batcher.push(decode_row(&first, &kinds)?, sink).await?;
        while let Some(row) = rows.try_next().await.map_err(map)? {
            batcher.push(decode_row(&row, &kinds)?, sink).await?;
        }
        batcher.finish(sink).await
    }
}

/// Resets a pooled connection's session state (what `DISCARD ALL` does, except that
/// the connection's prepared statements stay: they are the pool's statement cache).
const RESET_SESSION: &str = "CLOSE ALL; RESET ALL; UNLISTEN *; \
    SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES";

/// The COMMIT of [`pipelined`], already sent.
type Commit<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(), tokio_postgres::Error>> + Send + 'a>,
>;

/// Queues `begin` (a simple query), `query` and `COMMIT` on `client` in this order
/// before awaiting any answer — each tokio-postgres request is sent on its future's
/// first poll — so the three cost one round trip. Returns the query's rows (or the
/// error of `begin`, then of the query) and the COMMIT still to be awaited, after the
/// rows. A failed statement leaves its transaction aborted, and the queued COMMIT then
/// ends it (as a ROLLBACK), so the connection is idle again either way.
async fn pipelined<'a, Q>(
    client: &'a Object,
    begin: &str,
    query: Q,
) -> (
    Result<tokio_postgres::RowStream, tokio_postgres::Error>,
    Commit<'a>,
)
where
    Q: std::future::Future<Output = Result<tokio_postgres::RowStream, tokio_postgres::Error>>
        + Send,
{
    use std::task::Poll;
    let mut begin_f = Box::pin(client.batch_execute(begin));
    let mut query_f = Box::pin(query);
    let mut commit_f: Commit<'a> = Box::pin(client.batch_execute("COMMIT"));
    let began = futures::poll!(begin_f.as_mut());
    let queried = futures::poll!(query_f.as_mut());
    let committed = futures::poll!(commit_f.as_mut());
    let began = match began {
        Poll::Ready(r) => r,
        Poll::Pending => begin_f.await,
    };
    let rows = match queried {
        Poll::Ready(r) => r,
        Poll::Pending => query_f.await,
    };
    let commit: Commit<'a> = match committed {
        Poll::Ready(r) => Box::pin(futures::future::ready(r)),
        Poll::Pending => commit_f,
    };
    (began.and(rows), commit)
}

/// Statements with bound parameters kept prepared per pooled connection.
const PREPARED_PER_CONNECTION: usize = 256;

/// `sql` prepared on `client` through its statement cache, which starts afresh once it
/// holds [`PREPARED_PER_CONNECTION`] statements (the dropped ones are closed on the server).
async fn prepared(
    client: &Object,
    sql: &str,
) -> Result<tokio_postgres::Statement, tokio_postgres::Error> {
    if client.statement_cache.size() >= PREPARED_PER_CONNECTION {
        client.statement_cache.clear();
    }
    client.prepare_cached(sql).await
}

/// A bound value in PostgreSQL's text format (`None`: NULL), accepted for any type.
#[derive(Debug)]
struct TextParam<'a>(Option<&'a str>);

impl ToSql for TextParam<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn StdError + Sync + Send>> {
        match self.0 {
            Some(v) => {
                out.extend_from_slice(v.as_bytes());
                Ok(tokio_postgres::types::IsNull::No)
            }
            None => Ok(tokio_postgres::types::IsNull::Yes),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> tokio_postgres::types::Format {
        tokio_postgres::types::Format::Text
    }

    tokio_postgres::types::to_sql_checked!();
}

/// Whether `e` says a cached statement's plan no longer matches its result type.
fn is_stale_plan(e: &tokio_postgres::Error) -> bool {
    e.as_db_error().is_some_and(|db| {
        db.code().code() == "0A000" && db.message().contains("cached plan must not change")
    })
}

/// Decoders and (name, type) pairs of a result's columns.
fn columns_of(cols: &[tokio_postgres::Column]) -> (Vec<PgKind>, Vec<(String, ColType)>) {
    let kinds: Vec<PgKind> = cols.iter().map(|c| pg_kind(c.type_())).collect();
    let columns = cols
        .iter()
        .zip(&kinds)
        .map(|(c, k)| (c.name().to_string(), k.col_type()))
        .collect();
    (kinds, columns)
}

/// Whether `sql` might change session state (settings, transactions, prepared
/// statements), so it must not take the fast path: any such keyword anywhere, string
/// literals included, counts.
fn touches_session(sql: &str) -> bool {
    const WORDS: &[&str] = &[
        "SET",
        "RESET",
        "DISCARD",
        "SET_CONFIG",
        "BEGIN",
        "START",
        "COMMIT",
        "ROLLBACK",
        "END",
        "ABORT",
        "SAVEPOINT",
        "RELEASE",
        "PREPARE",
        "DEALLOCATE",
        "EXECUTE",
        "LOAD",
        "DO",
        "CALL",
        "LOCK",
        "LISTEN",
        "UNLISTEN",
        "CHARACTERISTICS",
    ];
    keywords(sql).any(|w| {
        WORDS.contains(&w.as_str())
            || w.contains("READ_ONLY")
            || w.contains("TIMEOUT")
            || w.contains("SESSION")
    })
}

/// Cancels whatever runs on `client`, waits until the server answered everything
/// queued on the connection, then closes the connection instead of pooling it.
async fn cancel_and_discard(client: Object, cancel: CancelToken) {
    match tokio::time::timeout(CANCEL_GRACE, cancel.cancel_query(NoTls)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %error_chain(&e), "PostgreSQL cancel request failed"),
        Err(_) => tracing::warn!("PostgreSQL cancel request timed out"),
    }
    // Responses arrive in order: once this empty query is answered, the cancelled
    // statement and the rollback queued by the dropped transaction are done.
    if tokio::time::timeout(CANCEL_GRACE, client.simple_query(""))
        .await
        .is_err()
    {
        tracing::warn!("PostgreSQL connection did not settle after cancel; closing it");
    }
    drop(Object::take(client));
}

// ---------------------------------------------------------------------------
// Errors

fn pool_error(e: PoolError, secrets: &[String]) -> BackendError {
    let msg = match &e {
        PoolError::Backend(e) => match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => error_chain(e),
        },
        other => other.to_string(),
    };
    BackendError::Connect(scrub(&msg, secrets))
}

/// Maps a driver error: database errors keep their SQLSTATE (25006 → read-only,
/// 57014 from `statement_timeout` → timeout); broken connections → `Connect`.
fn pg_error(e: tokio_postgres::Error, timeout: Duration, secrets: &[String]) -> BackendError {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let message = scrub(db.message(), secrets);
        return match code {
            "25006" => BackendError::ReadOnly(message),
            "57014" if message.contains("statement timeout") => BackendError::Timeout(timeout),
            _ => BackendError::Query {
                sqlstate: Some(code.to_string()),
                message,
            },
        };
    }
    let text = scrub(&error_chain(&e), secrets);
    let shown = e.to_string();
    if e.is_closed()
        || shown.starts_with("error connecting")
        || shown.starts_with("error communicating")
        || shown.starts_with("error performing TLS")
        || shown.starts_with("authentication error")
        || shown.starts_with("timeout waiting")
    {
        BackendError::Connect(text)
    } else if shown.starts_with("expected ") && shown.contains("parameters") {
        BackendError::Query {
            sqlstate: Some("42P02".into()),
            message: format!("the statement has parameters but none were given ({text})"),
        }
    } else {
        BackendError::Other(text)
    }
}

/// `error: cause: cause` — the driver's top-level messages say little on their own.
fn error_chain(e: &dyn StdError) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !out.contains(&part) {
            out.push_str(": ");
            out.push_str(&part);
        }
        source = s.source();
    }
    out
}

// ---------------------------------------------------------------------------
// Decoding PostgreSQL's binary format

/// Any value in binary format, or NULL: accepts every type.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// How a column's bytes are decoded.
#[derive(Debug, Clone, PartialEq)]
enum PgKind {
    Bool,
    Int2,
    Int4,
    Int8,
    /// oid and the 4-byte unsigned types (reg*, xid, cid)
    Oid,
    Float4,
    Float8,
    Numeric,
    Money,
    Text,
    Bytes,
    Date,
    Timestamp,
    TimestampTz,
    Time,
    TimeTz,
    Json,
    /// jsonb and jsonpath: a version byte, then text
    Jsonb,
    Uuid,
    Interval,
    Inet,
    MacAddr,
    Bits,
    Array(Box<PgKind>),
    Range(Box<PgKind>),
    /// composite values and anonymous records
    Record,
    /// printable UTF-8 as text (enums are), anything else as `\x<hex>`
    Other,
}

fn pg_kind(ty: &Type) -> PgKind {
    match *ty {
        Type::BOOL => PgKind::Bool,
        Type::INT2 => PgKind::Int2,
        Type::INT4 => PgKind::Int4,
        Type::INT8 => PgKind::Int8,
        Type::OID
        | Type::XID
        | Type::CID
        | Type::REGPROC
        | Type::REGPROCEDURE
        | Type::REGOPER
        | Type::REGOPERATOR
        | Type::REGCLASS
        | Type::REGTYPE
        | Type::REGCONFIG
        | Type::REGDICTIONARY
        | Type::REGNAMESPACE
        | Type::REGROLE
        | Type::REGCOLLATION => PgKind::Oid,
        Type::FLOAT4 => PgKind::Float4,
        Type::FLOAT8 => PgKind::Float8,
        Type::NUMERIC => PgKind::Numeric,
        Type::MONEY => PgKind::Money,
        Type::TEXT
        | Type::VARCHAR
        | Type::BPCHAR
        | Type::NAME
        | Type::CHAR
        | Type::UNKNOWN
        | Type::XML
        | Type::REFCURSOR => PgKind::Text,
        Type::BYTEA => PgKind::Bytes,
        Type::DATE => PgKind::Date,
        Type::TIMESTAMP => PgKind::Timestamp,
        Type::TIMESTAMPTZ => PgKind::TimestampTz,
        Type::TIME => PgKind::Time,
        Type::TIMETZ => PgKind::TimeTz,
        Type::JSON => PgKind::Json,
        Type::JSONB | Type::JSONPATH => PgKind::Jsonb,
        Type::UUID => PgKind::Uuid,
        Type::INTERVAL => PgKind::Interval,
        Type::INET | Type::CIDR => PgKind::Inet,
        Type::MACADDR | Type::MACADDR8 => PgKind::MacAddr,
        Type::BIT | Type::VARBIT => PgKind::Bits,
        _ => match ty.kind() {
            Kind::Enum(_) => PgKind::Text,
            Kind::Domain(base) => pg_kind(base),
            Kind::Array(elem) => PgKind::Array(Box::new(pg_kind(elem))),
            Kind::Range(elem) => PgKind::Range(Box::new(pg_kind(elem))),
            Kind::Composite(_) => PgKind::Record,
            _ if *ty == Type::RECORD => PgKind::Record,
            _ if ty.name() == "citext" => PgKind::Text,
            _ => PgKind::Other,
        },
    }
}

impl PgKind {
    fn col_type(&self) -> ColType {
        match self {
            PgKind::Bool => ColType::Bool,
            PgKind::Int2 => ColType::Int16,
            PgKind::Int4 => ColType::Int32,
            PgKind::Int8 | PgKind::Oid => ColType::Int64,
            PgKind::Float4 => ColType::Float32,
            PgKind::Float8 => ColType::Float64,
            PgKind::Numeric | PgKind::Money => ColType::Numeric,
            PgKind::Bytes => ColType::Bytes,
            PgKind::Date => ColType::Date,
            PgKind::Timestamp => ColType::Timestamp,
            PgKind::TimestampTz => ColType::TimestampTz,
            PgKind::Time => ColType::Time,
            PgKind::Json | PgKind::Jsonb => ColType::Json,
            PgKind::Uuid => ColType::Uuid,
            PgKind::Interval => ColType::Interval,
            PgKind::Text
            | PgKind::TimeTz
            | PgKind::Inet
            | PgKind::MacAddr
            | PgKind::Bits
            | PgKind::Array(_)
            | PgKind::Range(_)
            | PgKind::Record
            | PgKind::Other => ColType::Text,
        }
    }
}

fn decode_row(row: &Row, kinds: &[PgKind]) -> Result<Vec<Value>, BackendError> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let column = || row.columns().get(i).map(|c| c.name()).unwrap_or("?");
            let raw: Raw<'_> = row
                .try_get(i)
                .map_err(|e| BackendError::Convert(format!("column \"{}\": {e}", column())))?;
            match raw.0 {
                None => Ok(Value::Null),
                Some(bytes) => decode(kind, bytes)
                    .map_err(|m| BackendError::Convert(format!("column \"{}\": {m}", column()))),
            }
        })
        .collect()
}

/// A cursor over big-endian binary data.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!(
                "value truncated: wanted {n} more bytes, have {}",
                self.0.len()
            ));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }
    fn i16(&mut self) -> Result<i16, String> {
        Ok(i16::from_be_bytes(self.array()?))
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_be_bytes(self.array()?))
    }
    fn f32(&mut self) -> Result<f32, String> {
        Ok(f32::from_be_bytes(self.array()?))
    }
    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_be_bytes(self.array()?))
    }
}

fn utf8(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

fn decode(kind: &PgKind, raw: &[u8]) -> Result<Value, String> {
    let mut r = Reader(raw);
    Ok(match kind {
        PgKind::Bool => Value::Bool(r.u8()? != 0),
        PgKind::Int2 => Value::Int(i64::from(r.i16()?)),
        PgKind::Int4 => Value::Int(i64::from(r.i32()?)),
        PgKind::Int8 => Value::Int(r.i64()?),
        PgKind::Oid => Value::Int(i64::from(r.u32()?)),
        PgKind::Float4 => Value::Float(f64::from(r.f32()?)),
        PgKind::Float8 => Value::Float(r.f64()?),
        PgKind::Numeric => Value::Text(numeric_text(raw)?),
        PgKind::Money => Value::Text(money_text(r.i64()?)),
        PgKind::Text | PgKind::Json => Value::Text(utf8(raw)),
        PgKind::Jsonb => {
            let version = r.u8()?;
            if version != 1 {
                return Err(format!("unsupported jsonb version {version}"));
            }
            Value::Text(utf8(r.0))
        }
        PgKind::Bytes => Value::Bytes(raw.to_vec()),
        PgKind::Date => Value::Date(r.i32()?.saturating_add(PG_EPOCH_DAYS)),
        PgKind::Timestamp | PgKind::TimestampTz => {
            Value::Timestamp(r.i64()?.saturating_add(PG_EPOCH_MICROS))
        }
        PgKind::Time => Value::Time(r.i64()?),
        PgKind::TimeTz => {
            let micros = r.i64()?;
            let zone = r.i32()?;
            Value::Text(format!("{}{}", time_text(micros), zone_text(zone)))
        }
        PgKind::Uuid => Value::Text(
            uuid::Uuid::from_slice(raw)
                .map_err(|e| e.to_string())?
                .hyphenated()
                .to_string(),
        ),
        PgKind::Interval => {
            let micros = r.i64()?;
            let days = r.i32()?;
            let months = r.i32()?;
            Value::Text(interval_text(micros, days, months))
        }
        PgKind::Inet => Value::Text(inet_text(raw)?),
        PgKind::MacAddr => Value::Text(
            raw.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        ),
        PgKind::Bits => {
            let nbits = usize::try_from(r.i32()?).map_err(|_| "negative bit length".to_string())?;
            let bytes = r.take(nbits.div_ceil(8))?;
            Value::Text(
                (0..nbits)
                    .map(|i| {
                        if bytes[i / 8] & (0x80 >> (i % 8)) != 0 {
                            '1'
                        } else {
                            '0'
                        }
                    })
                    .collect(),
            )
        }
        PgKind::Array(elem) => Value::Text(array_text(elem, raw)?),
        PgKind::Range(elem) => Value::Text(range_text(elem, raw)?),
        PgKind::Record => Value::Text(record_text(raw)?),
        PgKind::Other => Value::Text(match std::str::from_utf8(raw) {
            Ok(s) if printable(s) => s.to_string(),
            _ => format!("\\x{}", hex::encode(raw)),
        }),
    })
}

/// Text without control characters other than tab and line breaks (binary formats
/// of unknown types may happen to be valid UTF-8, but not printable).
fn printable(s: &str) -> bool {
    !s.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// NUMERIC binary format → exact decimal text (`ndigits, weight, sign, dscale`, then
/// base-10000 digits), the way PostgreSQL prints it.
fn numeric_text(raw: &[u8]) -> Result<String, String> {
    let mut r = Reader(raw);
    let ndigits =
        usize::try_from(r.i16()?).map_err(|_| "negative numeric digit count".to_string())?;
    let weight = i32::from(r.i16()?);
    let sign = r.u16()?;
    let dscale = usize::from(r.u16()?);
    let digits = (0..ndigits)
        .map(|_| r.i16())
        .collect::<Result<Vec<i16>, String>>()?;
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        other => return Err(format!("invalid numeric sign {other:#x}")),
    }
    let digit = |i: i32| -> i16 {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for d in 0..=weight {
            if d == 0 {
                let _ = write!(out, "{}", digit(d));
            } else {
                let _ = write!(out, "{:04}", digit(d));
            }
        }
    }
    if dscale > 0 {
        let mut frac = String::with_capacity(dscale + 4);
        let mut d = weight + 1;
        while frac.len() < dscale {
            let _ = write!(frac, "{:04}", digit(d));
            d += 1;
        }
        frac.truncate(dscale);
        out.push('.');
        out.push_str(&frac);
    }
    Ok(out)
}

/// money is an int64 of cents; printed without currency symbol or grouping.
fn money_text(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `.123` for 123000 µs; empty for 0 (trailing zeros trimmed, like PostgreSQL).
fn frac_text(micros: u64) -> String {
    if micros == 0 {
        return String::new();
    }
    let s = format!(".{micros:06}");
    s.trim_end_matches('0').to_string()
}

fn time_text(micros: i64) -> String {
    let abs = micros.unsigned_abs();
    format!(
        "{:02}:{:02}:{:02}{}",
        abs / 3_600_000_000,
        (abs / 60_000_000) % 60,
        (abs / 1_000_000) % 60,
        frac_text(abs % 1_000_000)
    )
}

/// timetz stores seconds WEST of UTC; PostgreSQL prints the offset east: `+02`, `-03:30`.
fn zone_text(zone_west: i32) -> String {
    let east = -i64::from(zone_west);
    let sign = if east < 0 { '-' } else { '+' };
    let abs = east.unsigned_abs();
    let (h, m, s) = (abs / 3600, (abs / 60) % 60, abs % 60);
    let mut out = format!("{sign}{h:02}");
    if m != 0 || s != 0 {
        let _ = write!(out, ":{m:02}");
    }
    if s != 0 {
        let _ = write!(out, ":{s:02}");
    }
    out
}

/// An interval the way PostgreSQL prints it with `IntervalStyle = postgres`:
/// `1 year 2 mons 3 days 04:05:06.5`, `-1 days +02:00:00`, `00:00:00`.
fn interval_text(micros: i64, days: i32, months: i32) -> String {
    let mut out = String::new();
    let mut is_zero = true;
    let mut is_before = false;
    let parts = [
        (i64::from(months / 12), "year"),
        (i64::from(months % 12), "mon"),
        (i64::from(days), "day"),
    ];
    for (value, unit) in parts {
        if value == 0 {
            continue;
        }
        if !is_zero {
            out.push(' ');
        }
        if is_before && value > 0 {
            out.push('+');
        }
        let plural = if value != 1 { "s" } else { "" };
        let _ = write!(out, "{value} {unit}{plural}");
        is_before = value < 0;
        is_zero = false;
    }
    if is_zero || micros != 0 {
        if !is_zero {
            out.push(' ');
        }
        if micros < 0 {
            out.push('-');
        } else if is_before {
            out.push('+');
        }
        out.push_str(&time_text(micros));
    }
    out
}

/// inet/cidr: family (2 = IPv4, 3 = IPv6), prefix bits, is_cidr, address length, address.
fn inet_text(raw: &[u8]) -> Result<String, String> {
    let mut r = Reader(raw);
    let family = r.u8()?;
    let bits = r.u8()?;
    let is_cidr = r.u8()? != 0;
    let len = usize::from(r.u8()?);
    let addr = r.take(len)?;
    let (text, max_bits) = match (family, addr.len()) {
        (2, 4) => (
            std::net::Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).to_string(),
            32,
        ),
        (3, 16) => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(addr);
            (std::net::Ipv6Addr::from(octets).to_string(), 128)
        }
        _ => return Err(format!("unsupported inet family {family}")),
    };
    Ok(if is_cidr || bits != max_bits {
        format!("{text}/{bits}")
    } else {
        text
    })
}

/// An array in PostgreSQL's text form: `{1,2,NULL}`, `{{a,b},{c,d}}`, `{"x y"}`.
fn array_text(elem: &PgKind, raw: &[u8]) -> Result<String, String> {
    let mut r = Reader(raw);
    let ndim =
        usize::try_from(r.i32()?).map_err(|_| "negative array dimension count".to_string())?;
    let _has_nulls = r.i32()?;
    let _elem_oid = r.u32()?;
    if ndim == 0 {
        return Ok("{}".into());
    }
    if ndim > 6 {
        return Err(format!("array has {ndim} dimensions"));
    }
    let mut dims = Vec::with_capacity(ndim);
    let mut lower = Vec::with_capacity(ndim);
    for _ in 0..ndim {
        dims.push(usize::try_from(r.i32()?).map_err(|_| "negative array dimension".to_string())?);
        lower.push(r.i32()?);
    }
    let total = dims
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(*d))
        .ok_or_else(|| "array too large".to_string())?;
    let mut elems = Vec::with_capacity(total.min(1 << 16));
    for _ in 0..total {
        let len = r.i32()?;
        elems.push(match usize::try_from(len) {
            Ok(len) => Some(element_text(elem, r.take(len)?)?),
            Err(_) => None,
        });
    }
    let mut out = String::new();
    if lower.iter().any(|l| *l != 1) {
        for (d, l) in dims.iter().zip(&lower) {
            let upper = i64::from(*l) + i64::try_from(*d).unwrap_or(0) - 1;
            let _ = write!(out, "[{l}:{upper}]");
        }
        out.push('=');
    }
    let mut it = elems.into_iter();
    write_dimension(&mut out, &dims, &mut it);
    Ok(out)
}

fn write_dimension(
    out: &mut String,
    dims: &[usize],
    elems: &mut impl Iterator<Item = Option<String>>,
) {
    out.push('{');
    let (n, inner) = match dims.split_first() {
        Some((n, inner)) => (*n, inner),
        None => (0, &[][..]),
    };
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        if inner.is_empty() {
            match elems.next().flatten() {
                Some(s) => out.push_str(&quote_element(&s)),
                None => out.push_str("NULL"),
            }
        } else {
            write_dimension(out, inner, elems);
        }
    }
    out.push('}');
}

fn quote_element(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.eq_ignore_ascii_case("null")
        && !s
            .chars()
            .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_whitespace());
    if plain {
        return s.to_string();
    }
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// A range: flags (1 empty, 2 lower inclusive, 4 upper inclusive, 8 no lower,
/// 16 no upper), then the present bounds as length + value: `[1,5)`, `empty`.
fn range_text(elem: &PgKind, raw: &[u8]) -> Result<String, String> {
    let mut r = Reader(raw);
    let flags = r.u8()?;
    if flags & 0x01 != 0 {
        return Ok("empty".into());
    }
    let mut bound = |absent: bool| -> Result<String, String> {
        if absent {
            return Ok(String::new());
        }
        let len =
            usize::try_from(r.i32()?).map_err(|_| "negative range bound length".to_string())?;
        Ok(quote_composite(&element_text(elem, r.take(len)?)?))
    };
    let lower = bound(flags & 0x08 != 0)?;
    let upper = bound(flags & 0x10 != 0)?;
    let open = if flags & 0x02 != 0 { '[' } else { '(' };
    let close = if flags & 0x04 != 0 { ']' } else { ')' };
    Ok(format!("{open}{lower},{upper}{close}"))
}

/// A composite value or record: field count, then per field its type oid and
/// length + value; printed like PostgreSQL: `(1,abc,)`.
fn record_text(raw: &[u8]) -> Result<String, String> {
    let mut r = Reader(raw);
    let fields = r.i32()?;
    let mut out = String::from("(");
    for i in 0..fields {
        if i > 0 {
            out.push(',');
        }
        let kind = Type::from_oid(r.u32()?).map_or(PgKind::Other, |t| pg_kind(&t));
        if let Ok(len) = usize::try_from(r.i32()?) {
            out.push_str(&quote_composite(&element_text(&kind, r.take(len)?)?));
        }
    }
    out.push(')');
    Ok(out)
}

/// Quotes a record field or range bound the way PostgreSQL does.
fn quote_composite(s: &str) -> String {
    let plain = !s.is_empty()
        && !s
            .chars()
            .any(|c| matches!(c, '(' | ')' | '[' | ']' | ',' | '"' | '\\') || c.is_whitespace());
    if plain {
        return s.to_string();
    }
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            q.push(c);
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// One array element in PostgreSQL's text form.
fn element_text(kind: &PgKind, raw: &[u8]) -> Result<String, String> {
    Ok(match decode(kind, raw)? {
        Value::Null => "NULL".into(),
        Value::Bool(b) => (if b { "t" } else { "f" }).into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => float_text(f),
        Value::Text(s) => s,
        Value::Bytes(b) => format!("\\x{}", hex::encode(b)),
        Value::Date(d) => date_text(d),
        Value::Timestamp(us) => {
            let ts = timestamp_text(us);
            if *kind == PgKind::TimestampTz {
                format!("{ts}+00")
            } else {
                ts
            }
        }
        Value::Time(us) => time_text(us),
    })
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        (if f > 0.0 { "Infinity" } else { "-Infinity" }).into()
    } else {
        f.to_string()
    }
}

/// Days since 1970-01-01 → `YYYY-MM-DD` (`infinity` for PostgreSQL's infinite dates).
fn date_text(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        _ => chrono::NaiveDate::from_num_days_from_ce_opt(days.saturating_add(719_163))
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| days.to_string()),
    }
}

/// Microseconds since 1970-01-01 → `YYYY-MM-DD HH:MM:SS[.ffffff]`.
fn timestamp_text(micros: i64) -> String {
    match micros {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        _ => match chrono::DateTime::from_timestamp_micros(micros) {
            Some(dt) => {
                let sub = micros.rem_euclid(1_000_000).unsigned_abs();
                format!("{}{}", dt.format("%Y-%m-%d %H:%M:%S"), frac_text(sub))
            }
            None => micros.to_string(),
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn numeric(weight: i16, sign: u16, dscale: u16, digits: &[i16]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(digits.len() as i16).to_be_bytes());
        v.extend_from_slice(&weight.to_be_bytes());
        v.extend_from_slice(&sign.to_be_bytes());
        v.extend_from_slice(&dscale.to_be_bytes());
        for d in digits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    #[test]
    fn numeric_decoding() {
        assert_eq!(
            numeric_text(&numeric(0, 0, 2, &[123, 4500])).unwrap(),
            "123.45"
        );
        assert_eq!(numeric_text(&numeric(-1, 0, 3, &[10])).unwrap(), "0.001");
        assert_eq!(numeric_text(&numeric(0, 0x4000, 0, &[7])).unwrap(), "-7");
        assert_eq!(numeric_text(&numeric(1, 0, 0, &[1, 0])).unwrap(), "10000");
        assert_eq!(numeric_text(&numeric(1, 0, 2, &[1])).unwrap(), "10000.00");
        assert_eq!(numeric_text(&numeric(0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(numeric_text(&numeric(0, 0, 5, &[])).unwrap(), "0.00000");
        assert_eq!(
            numeric_text(&numeric(2, 0, 6, &[12, 3456, 7890, 1234, 5600])).unwrap(),
            "1234567890.123456"
        );
        assert_eq!(numeric_text(&numeric(0, 0xC000, 0, &[])).unwrap(), "NaN");
        assert_eq!(
            numeric_text(&numeric(0, 0xD000, 0, &[])).unwrap(),
            "Infinity"
        );
        assert!(numeric_text(&[0, 1]).is_err());
    }

    #[test]
    fn interval_formatting() {
        let h = 3_600_000_000i64;
        assert_eq!(
            interval_text(2 * h + 3 * 60_000_000 + 4_000_000, 1, 0),
            "1 day 02:03:04"
        );
        assert_eq!(interval_text(0, 0, 0), "00:00:00");
        assert_eq!(interval_text(0, 3, 14), "1 year 2 mons 3 days");
        assert_eq!(interval_text(-2 * h, -1, 0), "-1 days -02:00:00");
        assert_eq!(interval_text(2 * h, -1, 0), "-1 days +02:00:00");
        assert_eq!(interval_text(-2 * h, 1, 0), "1 day -02:00:00");
        assert_eq!(interval_text(25 * h + 500_000, 0, 0), "25:00:00.5");
        assert_eq!(interval_text(0, 0, -1), "-1 mons");
    }

    #[test]
    fn arrays_and_elements() {
        // int4[] {1,NULL,3}
        let mut v = Vec::new();
        for x in [1i32, 1, 23, 3, 1] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        for e in [Some(1i32), None, Some(3)] {
            match e {
                Some(x) => {
                    v.extend_from_slice(&4i32.to_be_bytes());
                    v.extend_from_slice(&x.to_be_bytes());
                }
                None => v.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        assert_eq!(array_text(&PgKind::Int4, &v).unwrap(), "{1,NULL,3}");
        assert_eq!(quote_element("a b"), "\"a b\"");
        assert_eq!(quote_element("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(quote_element("null"), "\"null\"");
        assert_eq!(quote_element("x"), "x");
        let mut empty = Vec::new();
        for x in [0i32, 0, 25] {
            empty.extend_from_slice(&x.to_be_bytes());
        }
        assert_eq!(array_text(&PgKind::Text, &empty).unwrap(), "{}");
    }

    #[test]
    fn ranges_and_records() {
        let mut range = vec![0x02u8];
        for x in [1i32, 5] {
            range.extend_from_slice(&4i32.to_be_bytes());
            range.extend_from_slice(&x.to_be_bytes());
        }
        assert_eq!(range_text(&PgKind::Int4, &range).unwrap(), "[1,5)");
        assert_eq!(range_text(&PgKind::Int4, &[0x01]).unwrap(), "empty");
        let mut unbounded = vec![0x08u8 | 0x04];
        unbounded.extend_from_slice(&4i32.to_be_bytes());
        unbounded.extend_from_slice(&9i32.to_be_bytes());
        assert_eq!(range_text(&PgKind::Int4, &unbounded).unwrap(), "(,9]");
        let mut record = Vec::new();
        record.extend_from_slice(&3i32.to_be_bytes());
        record.extend_from_slice(&23u32.to_be_bytes());
        record.extend_from_slice(&4i32.to_be_bytes());
        record.extend_from_slice(&1i32.to_be_bytes());
        record.extend_from_slice(&25u32.to_be_bytes());
        record.extend_from_slice(&3i32.to_be_bytes());
        record.extend_from_slice(b"a b");
        record.extend_from_slice(&25u32.to_be_bytes());
        record.extend_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(record_text(&record).unwrap(), "(1,\"a b\",)");
        assert_eq!(
            decode(&PgKind::Other, &[2, 0, 0, 0, 4]).unwrap(),
            Value::Text("\\x0200000004".into())
        );
    }

    #[test]
    fn scalar_decoding() {
        assert_eq!(
            decode(&PgKind::Int2, &7i16.to_be_bytes()).unwrap(),
            Value::Int(7)
        );
        assert_eq!(
            decode(&PgKind::Date, &0i32.to_be_bytes()).unwrap(),
            Value::Date(10_957)
        );
        assert_eq!(
            decode(&PgKind::Jsonb, b"\x01{\"a\": 1}").unwrap(),
            Value::Text("{\"a\": 1}".into())
        );
        assert_eq!(
            decode(&PgKind::Other, &[0xff, 0x00]).unwrap(),
            Value::Text("\\xff00".into())
        );
        assert_eq!(
            decode(&PgKind::Other, b"happy").unwrap(),
            Value::Text("happy".into())
        );
        assert_eq!(
            decode(&PgKind::Inet, &[2, 24, 1, 4, 10, 0, 0, 0]).unwrap(),
            Value::Text("10.0.0.0/24".into())
        );
        assert_eq!(
            decode(&PgKind::Inet, &[2, 32, 0, 4, 10, 0, 0, 1]).unwrap(),
            Value::Text("10.0.0.1".into())
        );
        assert_eq!(money_text(-12345), "-123.45");
        assert_eq!(zone_text(-7200), "+02");
        assert_eq!(zone_text(12600), "-03:30");
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(timestamp_text(1_500_000), "1970-01-01 00:00:01.5");
        assert!(decode(&PgKind::Int4, &[0, 1]).is_err());
    }

    #[test]
    fn tags() {
        assert_eq!(command_tag("insert into t values (1)"), "INSERT");
        assert_eq!(command_tag("  -- c\n/* x */ Update t set a=1"), "UPDATE");
        assert_eq!(command_tag("CREATE TABLE t (a int)"), "CREATE TABLE");
        assert_eq!(
            command_tag("create or replace view v as select 1"),
            "CREATE VIEW"
        );
        assert_eq!(command_tag("CREATE UNIQUE INDEX i ON t(a)"), "CREATE INDEX");
        assert_eq!(
            command_tag("drop materialized view m"),
            "DROP MATERIALIZED VIEW"
        );
        assert_eq!(command_tag("WITH d AS (SELECT 1) DELETE FROM t"), "DELETE");
        assert_eq!(command_tag("truncate t"), "TRUNCATE TABLE");
        assert_eq!(command_tag(""), "OK");
    }

    #[test]
    fn secrets_are_scrubbed() {
        let secrets = vec![
            "postgres://u:hunter2@h/db".to_string(),
            "hunter2".to_string(),
        ];
        assert_eq!(
            scrub("bad url postgres://u:hunter2@h/db and hunter2", &secrets),
            "bad url *** and ***"
        );
    }

    #[test]
    fn type_names() {
        assert_eq!(short_type_name("character varying(100)"), "varchar(100)");
        assert_eq!(short_type_name("character(3)"), "char(3)");
        assert_eq!(short_type_name("numeric(10,2)"), "numeric(10,2)");
        assert_eq!(short_type_name("character varying[]"), "varchar[]");
    }

    #[test]
    fn kinds() {
        assert_eq!(pg_kind(&Type::INT4).col_type(), ColType::Int32);
        assert_eq!(pg_kind(&Type::OID).col_type(), ColType::Int64);
        assert_eq!(pg_kind(&Type::JSONB).col_type(), ColType::Json);
        assert_eq!(
            pg_kind(&Type::INT4_ARRAY),
            PgKind::Array(Box::new(PgKind::Int4))
        );
        assert_eq!(pg_kind(&Type::NUMERIC).col_type(), ColType::Numeric);
    }
}
