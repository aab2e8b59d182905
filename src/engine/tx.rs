//! Plain SQL inside a transaction block: the first statement pins a connection of its
//! database to the block (see [`crate::session::tx`]); savepoints; COMMIT and ROLLBACK.

use crate::backends::{Dialect, TxOptions};
use crate::config::UserConfig;
use crate::session::tx::TxState;
use crate::session::Session;

use super::route::RouteError;
use super::{Engine, EngineError, SqlOutcome};

/// A savepoint operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavepointOp {
    /// `SAVEPOINT x`
    Create,
    /// `RELEASE [SAVEPOINT] x`
    Release,
    /// `ROLLBACK TO [SAVEPOINT] x`
    RollbackTo,
}

fn block_error(sqlstate: &'static str, message: impl Into<String>) -> EngineError {
    EngineError::Block {
        sqlstate,
        message: message.into(),
    }
}

impl Engine {
    /// Pins a connection to the block if none is yet: `connection`, with the block's
    /// access mode (read-only unless the session may write there and the client did
    /// not ask for `READ ONLY`) and the session's parameters.
    async fn ensure_lease(
        &self,
        tx: &mut TxState,
        connection: &str,
        session: &Session,
        user: &UserConfig,
    ) -> Result<(), EngineError> {
        if let Some((pinned, _)) = &tx.lease {
            if pinned != connection {
                return Err(EngineError::Route(RouteError::CrossDatabase(format!(
                    "{pinned}, where this transaction block runs, and {connection}"
                ))));
            }
            return Ok(());
        }
        let c = self
            .conn(connection)
            .filter(|c| user.may_use(&c.cfg.name))
            .ok_or(EngineError::NoConnections)?;
        let allow_write = session.allow_write && user.may_write && !c.cfg.read_only;
        let opts = TxOptions {
            read_only: tx.read_only || !allow_write,
            settings: self.forwarded_settings(c, session),
        };
        let lease = c
            .backend
            .begin(&opts)
            .await
            .map_err(|error| EngineError::Backend {
                connection: c.cfg.name.clone(),
                error,
            })?;
        tx.lease = Some((c.cfg.name.clone(), lease));
        Ok(())
    }

    /// Runs plain SQL inside the open block `tx`.
    pub async fn run_sql_in_block(
        &self,
        tx: &mut TxState,
        sql: &str,
        params: &[Option<String>],
        session: &Session,
        user: &UserConfig,
    ) -> Result<SqlOutcome, EngineError> {
        let p = self.prepare_sql(sql, params, session, user)?;
        let name = p.conn.cfg.name.clone();
        self.ensure_lease(tx, &name, session, user).await?;
        let Some((_, lease)) = &tx.lease else {
            return Err(EngineError::NoConnections);
        };
        let r = lease.query(&p.sql, &p.params, &p.opts).await;
        p.outcome(r)
    }

    /// `SAVEPOINT`, `RELEASE` or `ROLLBACK TO` `name` inside the open block (a savepoint
    /// before the block's first statement pins the session's target to it).
    pub async fn savepoint(
        &self,
        tx: &mut TxState,
        op: SavepointOp,
        name: &str,
        session: &Session,
        user: &UserConfig,
    ) -> Result<(), EngineError> {
        let found = tx.savepoints.iter().rposition(|s| s == name);
        if op != SavepointOp::Create && found.is_none() {
            return Err(block_error(
                "3B001",
                format!("savepoint \"{name}\" does not exist"),
            ));
        }
        if tx.lease.is_none() {
            let target = session
                .target_connection(&self.config, user)
                .ok_or(EngineError::NoConnections)?;
            self.ensure_lease(tx, &target, session, user).await?;
        }
        let Some((connection, lease)) = &tx.lease else {
            return Err(EngineError::NoConnections);
        };
        let dialect = self
            .conn(connection)
            .map(|c| c.backend.dialect())
            .unwrap_or(Dialect::Postgres);
        if dialect == Dialect::Duckdb {
            return Err(block_error(
                "0A000",
                format!("savepoints are not supported on DuckDB connection \"{connection}\""),
            ));
        }
        let q = crate::sql::quote::ident(name, dialect);
        let sql = match op {
            SavepointOp::Create => format!("SAVEPOINT {q}"),
            SavepointOp::Release => format!("RELEASE SAVEPOINT {q}"),
            SavepointOp::RollbackTo => format!("ROLLBACK TO SAVEPOINT {q}"),
        };
        lease
            .control(&sql)
            .await
            .map_err(|error| EngineError::Backend {
                connection: connection.clone(),
                error,
            })?;
        match (op, found) {
            (SavepointOp::Create, _) => tx.savepoints.push(name.to_string()),
            (SavepointOp::Release, Some(i)) => tx.savepoints.truncate(i),
            (SavepointOp::RollbackTo, Some(i)) => {
                tx.savepoints.truncate(i + 1);
                tx.failed = false;
            }
            _ => {}
        }
        Ok(())
    }

    /// Ends the block: COMMIT (`commit`, unless the block failed: then it rolls back,
    /// as PostgreSQL does) or ROLLBACK. Returns whether it committed.
    pub async fn end_block(&self, tx: &mut TxState, commit: bool) -> Result<bool, EngineError> {
        let commit = commit && !tx.failed && !tx.expired;
        let Some((connection, lease)) = tx.close() else {
            return Ok(commit);
        };
        let r = lease.finish(commit).await;
        if commit {
            // The block may have held DDL: the schema is checked before its next use.
            self.schema_changed(&connection);
        }
        r.map_err(|error| EngineError::Backend { connection, error })?;
        Ok(commit)
    }
}
