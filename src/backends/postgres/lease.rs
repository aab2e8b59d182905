//! A PostgreSQL connection pinned to one client for a transaction block.
//!
//! `BEGIN` (`ISOLATION LEVEL REPEATABLE READ READ ONLY` for a read-only block, so a
//! report's statements read one snapshot; `READ WRITE` otherwise) and the session's
//! parameters (`SET LOCAL`) go out in one round trip on a pooled connection that then
//! serves only this block. Each statement carries its own `SET LOCAL statement_timeout`
//! in the same round trip. A cancelled or timed-out statement is cancelled on the
//! server and leaves the block aborted, as PostgreSQL does; the connection stays.
//!
//! `COMMIT`/`ROLLBACK` ends the block; after a block that could write, the session
//! state is reset before the connection goes back to the pool. A lease dropped without
//! finishing (the client went away) closes its connection — the server rolls back —
//! and never returns it to the pool.

use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::Object;
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio_postgres::types::{ToSql, Type};

use super::job::RESET_SESSION;
use super::{pg_error, prepared, Job, PostgresBackend, CANCEL_GRACE};
use crate::backends::worker::{channel, deadline_after, race, receive_head, Race, Sink};
use crate::backends::{
    finish_while_busy, BackendError, Lease, QueryOptions, QueryResult, TxOptions, FINISH_WAIT,
};

/// A pooled connection that is closed, not pooled, when dropped — unless [`Pinned::release`]
/// hands it back after the transaction ended.
struct Pinned(Option<Object>);

impl Pinned {
    fn client(&self) -> Result<&Object, BackendError> {
        self.0
            .as_ref()
            .ok_or_else(|| BackendError::Other("the transaction block has ended".into()))
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        if let Some(o) = self.0.take() {
            // Closing the connection makes the server roll the transaction back.
            drop(Object::take(o));
        }
    }
}

/// One leased connection.
pub(super) struct PgLease {
    conn: Arc<Mutex<Pinned>>,
    read_only: bool,
    secrets: Arc<Vec<String>>,
    pool: deadpool_postgres::Pool,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
}

impl PostgresBackend {
    /// Opens the block on a connection of its own.
    pub(super) async fn begin_lease(
        &self,
        opts: &TxOptions,
    ) -> Result<Box<dyn Lease>, BackendError> {
        let client = self.client().await?;
        let read_only = self.read_only || opts.read_only;
        let mut begin = String::from(if read_only {
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        } else {
            "BEGIN READ WRITE"
        });
        for (name, value) in opts.settings.iter() {
            begin.push_str(&format!(
                "; SET LOCAL \"{}\" = {value}",
                name.replace('"', "\"\"")
            ));
        }
        let pinned = Pinned(Some(client));
        let started = pinned.client()?.batch_execute(&begin).await;
        started.map_err(|e| pg_error(e, std::time::Duration::ZERO, &self.secrets))?;
        Ok(Box::new(PgLease {
            conn: Arc::new(Mutex::new(pinned)),
            read_only,
            secrets: self.secrets.clone(),
            pool: self.pool.clone(),
            tls: self.tls.clone(),
        }))
    }
}

#[async_trait]
impl Lease for PgLease {
    async fn query(
        &self,
        sql: &str,
        params: &[Option<String>],
        opts: &QueryOptions,
    ) -> Result<QueryResult, BackendError> {
        let guard = tokio::time::timeout(opts.timeout, Arc::clone(&self.conn).lock_owned())
            .await
            .map_err(|_| BackendError::Timeout(opts.timeout))?;
        guard.client()?;
        let (sink, rx) = channel();
        let job = Job {
            pool: self.pool.clone(),
            sql: sql.to_string(),
            params: params.to_vec(),
            read_only: self.read_only || !opts.allow_write,
            row_limit: opts.row_limit,
            timeout: opts.timeout,
            deadline: deadline_after(opts.timeout),
            secrets: self.secrets.clone(),
            settings: Arc::default(),
            tls: self.tls.clone(),
        };
        tokio::spawn(run_leased(job, guard, sink));
        receive_head(rx).await
    }

    async fn control(&self, sql: &str) -> Result<(), BackendError> {
        let guard = self.conn.lock().await;
        guard
            .client()?
            .batch_execute(sql)
            .await
            .map_err(|e| pg_error(e, std::time::Duration::ZERO, &self.secrets))
    }

    async fn finish(self: Box<Self>, commit: bool) -> Result<(), BackendError> {
        let Ok(mut guard) = tokio::time::timeout(FINISH_WAIT, self.conn.lock()).await else {
            return finish_while_busy(commit);
        };
        let client = guard.client()?;
        let end = if commit { "COMMIT" } else { "ROLLBACK" };
        let r = client
            .batch_execute(end)
            .await
            .map_err(|e| pg_error(e, std::time::Duration::ZERO, &self.secrets));
        let clean =
            r.is_ok() && (self.read_only || client.batch_execute(RESET_SESSION).await.is_ok());
        if clean {
            // Back to the pool (dropping the `Object` returns it).
            drop(guard.0.take());
        }
        // Otherwise `Pinned` closes the connection when the lease goes.
        r
    }
}

/// Runs one statement of the block on the leased connection, streaming into `sink`;
/// the guard (and so the connection) is held until the rows were read.
async fn run_leased(job: Job, guard: OwnedMutexGuard<Pinned>, sink: Sink) {
    let Ok(client) = guard.client() else {
        return;
    };
    let cancel = client.cancel_token();
    let map = |e| pg_error(e, job.timeout, &job.secrets);
    let set = format!("SET LOCAL statement_timeout = {}", job.timeout_ms());
    let work = async {
        let rows = if job.params.is_empty() {
            let no_params: [(&(dyn ToSql + Sync), Type); 0] = [];
            let (s, rows) = tokio::join!(
                client.batch_execute(&set),
                client.query_typed_raw(&job.sql, no_params)
            );
            s.and(rows)
        } else {
            let stmt = prepared(client, &job.sql).await.map_err(map)?;
            let (s, rows) = tokio::join!(
                client.batch_execute(&set),
                client.query_raw(&stmt, job.text_params())
            );
            s.and(rows)
        };
        job.stream_rows(client, &sink, rows.map_err(map)?).await
    };
    let timed_out = match race(work, job.deadline, &sink).await {
        Race::Done(Ok(())) => return,
        Race::Done(Err(e)) => return sink.fail(e).await,
        Race::Abandoned => false,
        Race::TimedOut => true,
    };
    // The statement may still run on the server: cancel it (the block is then aborted,
    // as in PostgreSQL) and wait until the connection answered everything queued.
    match tokio::time::timeout(CANCEL_GRACE, cancel.cancel_query(job.tls.clone())).await {
        Ok(Ok(())) => {}
        _ => tracing::warn!("PostgreSQL cancel request for a leased connection failed"),
    }
    let _ = tokio::time::timeout(CANCEL_GRACE, client.simple_query("")).await;
    if timed_out {
        sink.fail(BackendError::Timeout(job.timeout)).await;
    }
}
