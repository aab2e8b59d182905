//! A SQLite connection pinned to one client for a transaction block.
//!
//! `BEGIN` (deferred: the block's snapshot starts at its first read) runs on a pooled
//! connection that then serves only this block; `COMMIT`/`ROLLBACK` gives it back. A
//! lease dropped without finishing (the client went away) closes its connection,
//! which rolls the transaction back; the pool never sees it.

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::Connection;
use tokio::sync::Mutex;

use super::{map_error, run_statement, Job, Pool, SqliteBackend};
use crate::backends::blocking::{join_error, spawn_query};
use crate::backends::{
    finish_while_busy, BackendError, Lease, QueryOptions, QueryResult, TxOptions, FINISH_WAIT,
};

/// The leased connection; `None` once finished.
pub(super) struct SqliteLease {
    conn: Arc<Mutex<Option<Connection>>>,
    pool: Arc<Pool>,
}

impl SqliteBackend {
    /// `BEGIN` on a connection of its own.
    pub(super) async fn begin_lease(
        &self,
        _opts: &TxOptions,
    ) -> Result<Box<dyn Lease>, BackendError> {
        let conn = self.checkout().await?;
        let conn = tokio::task::spawn_blocking(move || conn.execute_batch("BEGIN").map(|()| conn))
            .await
            .map_err(join_error)?
            .map_err(|e| map_error(e, None))?;
        Ok(Box::new(SqliteLease {
            conn: Arc::new(Mutex::new(Some(conn))),
            pool: Arc::clone(&self.pool),
        }))
    }
}

fn finished() -> BackendError {
    BackendError::Other("the transaction block has ended".into())
}

#[async_trait]
impl Lease for SqliteLease {
    async fn query(
        &self,
        sql: &str,
        _params: &[Option<String>],
        opts: &QueryOptions,
    ) -> Result<QueryResult, BackendError> {
        let guard = tokio::time::timeout(opts.timeout, Arc::clone(&self.conn).lock_owned())
            .await
            .map_err(|_| BackendError::Timeout(opts.timeout))?;
        let interrupt = guard.as_ref().ok_or_else(finished)?.get_interrupt_handle();
        let job = Job {
            sql: sql.to_owned(),
            row_limit: opts.row_limit,
            allow_write: opts.allow_write,
        };
        spawn_query(
            opts.timeout,
            move || interrupt.interrupt(),
            move |canceller, out| {
                match guard.as_ref() {
                    Some(conn) => {
                        if let Err(e) = run_statement(conn, &job, canceller, out) {
                            out.fail(e);
                        }
                    }
                    None => out.fail(finished()),
                }
                canceller.finish();
                // The guard goes with the closure: the block's next statement may run.
                drop(guard);
            },
        )
        .await
    }

    async fn control(&self, sql: &str) -> Result<(), BackendError> {
        let guard = Arc::clone(&self.conn).lock_owned().await;
        let sql = sql.to_owned();
        tokio::task::spawn_blocking(move || match guard.as_ref() {
            Some(conn) => conn.execute_batch(&sql).map_err(|e| map_error(e, None)),
            None => Err(finished()),
        })
        .await
        .map_err(join_error)?
    }

    async fn finish(self: Box<Self>, commit: bool) -> Result<(), BackendError> {
        let Ok(mut guard) = tokio::time::timeout(FINISH_WAIT, self.conn.lock()).await else {
            return finish_while_busy(commit);
        };
        let conn = guard.take().ok_or_else(finished)?;
        drop(guard);
        let pool = Arc::clone(&self.pool);
        tokio::task::spawn_blocking(move || {
            let end = if commit { "COMMIT" } else { "ROLLBACK" };
            let r = conn.execute_batch(end).map_err(|e| map_error(e, None));
            if r.is_err() && !conn.is_autocommit() {
                // A failed COMMIT leaves the transaction open: end it.
                let _ = conn.execute_batch("ROLLBACK");
            }
            // `put` closes a connection still inside a transaction instead of pooling it.
            pool.put(conn);
            r
        })
        .await
        .map_err(join_error)?
    }
}
