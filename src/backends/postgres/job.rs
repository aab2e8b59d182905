//! One PostgreSQL statement in its own task: the fast path, the transaction path, and
//! cancellation when the deadline passes or the consumer goes away (see the module
//! documentation of [`super`]).

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Object, Pool};
use futures::TryStreamExt;
use tokio::time::Instant;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::CancelToken;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::decode::{columns_of, decode_row};
use super::errors::{error_chain, pg_error, pool_error};
use super::CANCEL_GRACE;
use crate::backends::types::BATCH_ROWS;
use crate::backends::worker::{command_tag, keywords, race, Batcher, Msg, Race, Sink};
use crate::backends::BackendError;

/// One statement running in its own task.
pub(super) struct Job {
    pub(super) pool: Pool,
    pub(super) sql: String,
    /// Values of the `$n` placeholders, sent as text for the server to parse.
    pub(super) params: Vec<Option<String>>,
    pub(super) read_only: bool,
    pub(super) row_limit: Option<usize>,
    pub(super) timeout: Duration,
    pub(super) deadline: Instant,
    pub(super) secrets: Arc<Vec<String>>,
    /// Session parameters for this statement (`SET LOCAL`), values already literals.
    pub(super) settings: Arc<Vec<(String, String)>>,
    /// How the cancel request reaches the server (TLS as the connection itself).
    pub(super) tls: MakeRustlsConnect,
}

impl Job {
    /// `SET LOCAL` of the statement timeout and the session's parameters, one
    /// statement each, to run inside the statement's transaction.
    fn set_locals(&self) -> String {
        set_locals(self.timeout, &self.settings)
    }

    /// The bound values, sent in text format for the server to parse by the types it
    /// inferred for the placeholders (as for a literal).
    pub(super) fn text_params(&self) -> impl ExactSizeIterator<Item = TextParam<'_>> {
        self.params.iter().map(|p| TextParam(p.as_deref()))
    }

    /// The timeout in whole milliseconds, as `statement_timeout` takes it.
    pub(super) fn timeout_ms(&self) -> u64 {
        timeout_ms(self.timeout)
    }

    pub(super) async fn run(self, sink: Sink) {
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
                cancel_and_discard(client, cancel, &self.tls).await;
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
            cancel_and_discard(client, cancel, &self.tls).await;
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
    pub(super) async fn stream_rows(
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
/// `timeout` in whole milliseconds, as `statement_timeout` takes it.
pub(super) fn timeout_ms(timeout: Duration) -> u64 {
    u64::try_from(timeout.as_millis().clamp(1, i32::MAX as u128)).unwrap_or(1)
}

/// `SET LOCAL` of the statement timeout and the session's parameters (values already
/// literals), one statement each, to run inside the statement's transaction.
pub(crate) fn set_locals(timeout: Duration, settings: &[(String, String)]) -> String {
    let mut s = format!("SET LOCAL statement_timeout = {}", timeout_ms(timeout));
    for (name, value) in settings {
        s.push_str(&format!(
            "; SET LOCAL \"{}\" = {value}",
            name.replace('"', "\"\"")
        ));
    }
    s
}

pub(crate) const RESET_SESSION: &str = "CLOSE ALL; RESET ALL; UNLISTEN *; \
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
pub(super) async fn prepared(
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
pub(super) struct TextParam<'a>(Option<&'a str>);

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

/// Whether `sql` might change session state (settings, transactions, prepared
/// statements), so it must not take the fast path: any such keyword anywhere, string
/// literals included, counts.
pub(crate) fn touches_session(sql: &str) -> bool {
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
async fn cancel_and_discard(client: Object, cancel: CancelToken, tls: &MakeRustlsConnect) {
    match tokio::time::timeout(CANCEL_GRACE, cancel.cancel_query(tls.clone())).await {
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
