//! Relay of one simple-protocol statement to a PostgreSQL connection: the server's
//! RowDescription, DataRows, CommandComplete, ErrorResponse and NoticeResponse (and
//! `COPY … TO STDOUT` data) go to the client as the server sent them, so every type
//! keeps its OID and text (arrays, `interval`, `inet`, `jsonb`, enums, domains,
//! `timestamptz` in the session's TimeZone) and every error keeps its fields (detail,
//! hint, position, schema, table, column, constraint).
//!
//! What is relayed: a query of ONE plain statement, outside a transaction block, whose
//! connection is PostgreSQL and that the engine accepts ([`Engine::relay_sql`]: routed,
//! permitted, checked by the guard). It runs as
//! `BEGIN [READ ONLY]; SET LOCAL …` / the statement / `COMMIT`, three queries sent in
//! one write; only the statement's own messages reach the client. Everything else
//! (other kinds, ASK, the catalog, blocks, the extended protocol) keeps the Arrow path.
//!
//! [`Engine::relay_sql`]: crate::engine::Engine::relay_sql

use std::fmt::Debug;

use futures::sink::{Sink, SinkExt};
use pgwire::api::ClientInfo;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;

use super::errors::engine_error;
use super::Handler;
use crate::backends::postgres::relay::{RelayConn, RESET};
use crate::backends::BackendError;
use crate::engine::{EngineError, RelayJob};

/// Where the answers of the queries sent for one relayed statement stand.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `BEGIN; SET LOCAL …`: swallowed (an error is the client's).
    Opening,
    /// The statement: forwarded.
    Statement,
    /// `COMMIT`: swallowed (an error, such as a deferred constraint, is the client's).
    Commit,
}

impl Handler {
    /// Relays `sql` when it qualifies (see the module documentation); `None` when it
    /// takes the ordinary path. `Some(Ok(failed))` once the answer was sent.
    pub(super) async fn relay<C>(&self, client: &mut C, sql: &str) -> Option<PgWireResult<bool>>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if Self::tx_slot(client).0.lock().await.is_open() {
            return None;
        }
        let session = Self::snapshot(&self.slot(client));
        let user = self.user_config(&session.user).ok()?;
        let job = self.engine.relay_sql(sql, &session, &user)?;
        let changed = (!job.read_only).then(|| job.connection.clone());
        let r = forward(client, job).await;
        if let Some(connection) = changed {
            // It may have been DDL: the schema is checked again before its next use.
            self.engine.schema_changed(&connection);
        }
        Some(r)
    }
}

/// Sends a backend failure as the client's error.
async fn fail<C>(client: &mut C, job: &RelayJob, e: BackendError) -> PgWireResult<bool>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let info = engine_error(&EngineError::Backend {
        connection: job.connection.clone(),
        error: e,
    });
    client
        .feed(PgWireBackendMessage::ErrorResponse(info.into()))
        .await?;
    Ok(true)
}

/// Runs `job` on a relay connection and forwards the statement's answer.
async fn forward<C>(client: &mut C, job: RelayJob) -> PgWireResult<bool>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let mut conn = match job.pool.get(job.timeout).await {
        Ok(c) => c,
        Err(e) => return fail(client, &job, e).await,
    };
    if let Some(refusal) = &job.parse_only {
        return parse_check(client, &job, conn, refusal).await;
    }
    if let Err(e) = conn.send_queries(&[&job.opening, &job.sql, "COMMIT"]).await {
        conn.discard();
        return fail(client, &job, e).await;
    }
    let mut phase = Phase::Opening;
    let mut opening_failed = false;
    let mut failed = false;
    loop {
        let m = match conn.next().await {
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                conn.discard();
                return fail(client, &job, e).await;
            }
            None => {
                conn.discard();
                let e = BackendError::Connect("the server closed the connection".into());
                return fail(client, &job, e).await;
            }
        };
        match m {
            PgWireBackendMessage::ReadyForQuery(_) => {
                phase = match phase {
                    Phase::Opening => Phase::Statement,
                    Phase::Statement => Phase::Commit,
                    Phase::Commit => break,
                };
            }
            PgWireBackendMessage::ErrorResponse(e) => {
                // After a failed opening the statement only reports the aborted block.
                if phase == Phase::Opening {
                    opening_failed = true;
                } else if phase == Phase::Statement && opening_failed {
                    continue;
                }
                failed = true;
                client.feed(PgWireBackendMessage::ErrorResponse(e)).await?;
            }
            m @ (PgWireBackendMessage::RowDescription(_)
            | PgWireBackendMessage::DataRow(_)
            | PgWireBackendMessage::CommandComplete(_)
            | PgWireBackendMessage::EmptyQueryResponse(_)
            | PgWireBackendMessage::NoticeResponse(_)
            | PgWireBackendMessage::CopyOutResponse(_)
            | PgWireBackendMessage::CopyData(_)
            | PgWireBackendMessage::CopyDone(_))
                if phase == Phase::Statement =>
            {
                client.feed(m).await?;
            }
            // A COPY FROM STDIN would wait for data the client never sends through here.
            PgWireBackendMessage::CopyInResponse(_) | PgWireBackendMessage::CopyBothResponse(_) => {
                conn.discard();
                client
                    .feed(PgWireBackendMessage::ErrorResponse(
                        super::errors::copy_unsupported().into(),
                    ))
                    .await?;
                return Ok(true);
            }
            // ParameterStatus of SET LOCAL (and its undoing at COMMIT), notifications,
            // the opening's and COMMIT's tags: not the client's.
            _ => {}
        }
    }
    conn.settled();
    if !job.read_only {
        reset(&mut conn).await;
    }
    Ok(failed)
}

/// Resets a connection after a statement that could write; closes it when that fails.
async fn reset(conn: &mut RelayConn) {
    if conn.send_queries(&[RESET]).await.is_err() {
        conn.discard();
        return;
    }
    let mut ok = true;
    loop {
        match conn.next().await {
            Some(Ok(PgWireBackendMessage::ReadyForQuery(_))) => break,
            Some(Ok(PgWireBackendMessage::ErrorResponse(_))) => ok = false,
            Some(Ok(_)) => {}
            Some(Err(_)) | None => {
                ok = false;
                break;
            }
        }
    }
    conn.settled();
    if !ok {
        conn.discard();
    }
}

/// Answers a statement the guard could not parse: PostgreSQL's syntax error when it
/// cannot parse it either, else the guard's refusal. Nothing runs.
async fn parse_check<C>(
    client: &mut C,
    job: &RelayJob,
    mut conn: RelayConn,
    refusal: &EngineError,
) -> PgWireResult<bool>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    if let Err(e) = conn.send_parse(&job.sql).await {
        conn.discard();
        return fail(client, job, e).await;
    }
    let mut server_error = None;
    loop {
        match conn.next().await {
            Some(Ok(PgWireBackendMessage::ReadyForQuery(_))) => break,
            Some(Ok(PgWireBackendMessage::ErrorResponse(e))) => server_error = Some(e),
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                conn.discard();
                return fail(client, job, e).await;
            }
            None => {
                conn.discard();
                let e = BackendError::Connect("the server closed the connection".into());
                return fail(client, job, e).await;
            }
        }
    }
    conn.settled();
    let e = match server_error {
        Some(e) => e,
        None => engine_error(refusal).into(),
    };
    client.feed(PgWireBackendMessage::ErrorResponse(e)).await?;
    Ok(true)
}
