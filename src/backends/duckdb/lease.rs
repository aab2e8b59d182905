//! A DuckDB connection pinned to one client for a transaction block.
//!
//! The block runs on a connection of its own (a `try_clone` of the database's), begun
//! with `BEGIN TRANSACTION` (`READ ONLY` unless writes are allowed): DuckDB's MVCC gives
//! the block one snapshot. A lease dropped without finishing closes its connection,
//! which rolls the transaction back.

use std::sync::Arc;

use async_trait::async_trait;
use duckdb::Connection;
use tokio::sync::Mutex;

use super::{map_error, run_statement, DuckdbBackend, Job};
use crate::backends::blocking::{join_error, spawn_query};
use crate::backends::{
    finish_while_busy, BackendError, Lease, QueryOptions, QueryResult, TxOptions, FINISH_WAIT,
};

/// The leased connection; `None` once finished.
pub(super) struct DuckdbLease {
    conn: Arc<Mutex<Option<Connection>>>,
}

impl DuckdbBackend {
    /// `BEGIN TRANSACTION [READ ONLY]` on a connection of its own.
    pub(super) async fn begin_lease(
        &self,
        opts: &TxOptions,
    ) -> Result<Box<dyn Lease>, BackendError> {
        let conn = self.connection()?;
        let begin = if opts.read_only && !self.read_only {
            "BEGIN TRANSACTION READ ONLY"
        } else {
            "BEGIN TRANSACTION"
        };
        let conn = tokio::task::spawn_blocking(move || conn.execute_batch(begin).map(|()| conn))
            .await
            .map_err(join_error)?
            .map_err(|e| map_error(e, None))?;
        Ok(Box::new(DuckdbLease {
            conn: Arc::new(Mutex::new(Some(conn))),
        }))
    }
}

fn finished() -> BackendError {
    BackendError::Other("the transaction block has ended".into())
}

#[async_trait]
impl Lease for DuckdbLease {
    async fn query(
        &self,
        sql: &str,
        _params: &[Option<String>],
        opts: &QueryOptions,
    ) -> Result<QueryResult, BackendError> {
        let guard = tokio::time::timeout(opts.timeout, Arc::clone(&self.conn).lock_owned())
            .await
            .map_err(|_| BackendError::Timeout(opts.timeout))?;
        let interrupt = guard.as_ref().ok_or_else(finished)?.interrupt_handle();
        let job = Job {
            sql: sql.to_owned(),
            row_limit: opts.row_limit,
            read_only_transaction: false,
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
        tokio::task::spawn_blocking(move || {
            let end = if commit { "COMMIT" } else { "ROLLBACK" };
            conn.execute_batch(end).map_err(|e| map_error(e, None))
            // The connection closes here; a transaction left open rolls back.
        })
        .await
        .map_err(join_error)?
    }
}
