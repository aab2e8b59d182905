//! A MySQL/MariaDB connection pinned to one client for a transaction block.
//!
//! `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY` for a read-only block (one
//! snapshot: InnoDB's REPEATABLE READ), `START TRANSACTION READ WRITE` otherwise; each
//! statement keeps its server-side time limit. A statement stopped by its deadline or
//! its consumer is killed (`KILL QUERY`) and its connection closed, which rolls the
//! block back; the block then reports that it ended. A lease dropped without finishing
//! closes its connection (the server rolls back) instead of pooling it.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, Pool};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{connect_error, kill_and_discard, my_error, single_statement, Job, MysqlBackend};
use crate::backends::worker::{channel, deadline_after, race, receive_head, Race, Sink};
use crate::backends::{
    finish_while_busy, BackendError, Lease, QueryOptions, QueryResult, TxOptions, FINISH_WAIT,
};

/// A connection closed, not pooled, when dropped unless released after the block ended.
struct Pinned(Option<Conn>);

impl Pinned {
    fn ended() -> BackendError {
        BackendError::Other("the transaction block has ended".into())
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(h) => {
                    h.spawn(async move {
                        let _ = conn.disconnect().await;
                    });
                }
                // No runtime: the pool resets the connection (COM_RESET_CONNECTION).
                Err(_) => drop(conn),
            }
        }
    }
}

/// One leased connection.
pub(super) struct MysqlLease {
    conn: Arc<Mutex<Pinned>>,
    pool: Pool,
    opts: Opts,
    read_only: bool,
    secrets: Arc<Vec<String>>,
}

impl MysqlBackend {
    /// `START TRANSACTION …` on a connection of its own.
    pub(super) async fn begin_lease(
        &self,
        opts: &TxOptions,
    ) -> Result<Box<dyn Lease>, BackendError> {
        let target = self.target().await?;
        let mut conn = target
            .pool
            .get_conn()
            .await
            .map_err(|e| connect_error(e, &self.secrets))?;
        let read_only = self.read_only || opts.read_only;
        let begin = if read_only {
            "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"
        } else {
            "START TRANSACTION READ WRITE"
        };
        conn.query_drop(begin)
            .await
            .map_err(|e| my_error(e, std::time::Duration::ZERO, &self.secrets))?;
        Ok(Box::new(MysqlLease {
            conn: Arc::new(Mutex::new(Pinned(Some(conn)))),
            pool: target.pool,
            opts: target.opts,
            read_only,
            secrets: self.secrets.clone(),
        }))
    }
}

#[async_trait]
impl Lease for MysqlLease {
    async fn query(
        &self,
        sql: &str,
        _params: &[Option<String>],
        opts: &QueryOptions,
    ) -> Result<QueryResult, BackendError> {
        let sql = single_statement(sql)?.to_string();
        let guard = tokio::time::timeout(opts.timeout, Arc::clone(&self.conn).lock_owned())
            .await
            .map_err(|_| BackendError::Timeout(opts.timeout))?;
        if guard.0.is_none() {
            return Err(Pinned::ended());
        }
        let (sink, rx) = channel();
        let job = Job {
            pool: self.pool.clone(),
            opts: self.opts.clone(),
            sql,
            read_only: self.read_only || !opts.allow_write,
            row_limit: opts.row_limit,
            timeout: opts.timeout,
            deadline: deadline_after(opts.timeout),
            secrets: self.secrets.clone(),
            idle: AtomicBool::new(true),
            in_transaction: true,
        };
        tokio::spawn(run_leased(job, guard, sink));
        receive_head(rx).await
    }

    async fn control(&self, sql: &str) -> Result<(), BackendError> {
        let mut guard = self.conn.lock().await;
        let conn = guard.0.as_mut().ok_or_else(Pinned::ended)?;
        conn.query_drop(sql)
            .await
            .map_err(|e| my_error(e, std::time::Duration::ZERO, &self.secrets))
    }

    async fn finish(self: Box<Self>, commit: bool) -> Result<(), BackendError> {
        let Ok(mut guard) = tokio::time::timeout(FINISH_WAIT, self.conn.lock()).await else {
            return finish_while_busy(commit);
        };
        let Some(conn) = guard.0.as_mut() else {
            // The block ended on its own (a killed statement): nothing to roll back.
            return if commit { Err(Pinned::ended()) } else { Ok(()) };
        };
        let end = if commit { "COMMIT" } else { "ROLLBACK" };
        let r = conn
            .query_drop(end)
            .await
            .map_err(|e| my_error(e, std::time::Duration::ZERO, &self.secrets));
        if r.is_ok() {
            // Back to the pool, which resets the session when it takes it back.
            drop(guard.0.take());
        }
        r
    }
}

/// Runs one statement of the block, streaming into `sink`; the guard is held until the
/// rows were read.
async fn run_leased(job: Job, mut guard: OwnedMutexGuard<Pinned>, sink: Sink) {
    let Some(conn) = guard.0.as_mut() else {
        return;
    };
    let id = conn.id();
    let outcome = race(job.execute(conn, &sink), job.deadline, &sink).await;
    let busy = !job.idle.load(std::sync::atomic::Ordering::Acquire);
    let failed = match outcome {
        Race::Done(Ok(())) => None,
        Race::Done(Err(e)) => Some(e),
        Race::Abandoned => None,
        Race::TimedOut => Some(BackendError::Timeout(job.timeout)),
    };
    if busy {
        // The statement may still run or rows are unread: stop it and close the
        // connection (the block is over: the server rolls it back).
        if let Some(conn) = guard.0.take() {
            kill_and_discard(conn, id, &job.opts).await;
        }
    }
    drop(guard);
    if let Some(e) = failed {
        sink.fail(e).await;
    }
}
