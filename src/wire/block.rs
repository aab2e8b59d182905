//! Transaction blocks over the wire: `BEGIN`/`COMMIT`/`ROLLBACK`/`SAVEPOINT`, the
//! aborted state (`25P02`), the status byte of ReadyForQuery, and the watchdog that
//! rolls back a block left idle longer than `[limits] idle_in_transaction`.
//!
//! The block itself (its pinned connection, its savepoints) is [`TxState`]; the
//! engine runs statements in it.

use std::sync::{Arc, Weak};
use std::time::Duration;

use pgwire::api::results::Tag;
use pgwire::api::ClientInfo;
use pgwire::error::ErrorInfo;
use pgwire::messages::response::TransactionStatus;

use crate::config::UserConfig;
use crate::engine::tx::SavepointOp;
use crate::engine::Notice;
use crate::session::tx::{BlockKind, TxState};
use crate::session::Session;

use super::command::{Command, TxControl};
use super::errors::{engine_error, error};
use super::{Handler, Outcome};

/// The transaction block of one client connection (pgwire session extension).
#[derive(Default)]
pub(super) struct TxSlot(pub(super) tokio::sync::Mutex<TxState>);

/// What a transaction-control statement produced: the outcome and notices to send first.
pub(super) type ControlOutcome = (Outcome, Vec<Notice>);

impl Handler {
    /// This connection's block.
    pub(super) fn tx_slot<C: ClientInfo>(client: &C) -> Arc<TxSlot> {
        client
            .session_extensions()
            .get_or_insert_with(TxSlot::default)
    }

    /// The status ReadyForQuery reports: idle, in a block, or in an aborted block.
    pub(super) fn tx_status<C: ClientInfo>(client: &C) -> TransactionStatus {
        let slot = Self::tx_slot(client);
        let status = slot.0.try_lock().map(|tx| tx.status()).unwrap_or(b'T');
        match status {
            b'I' => TransactionStatus::Idle,
            b'E' => TransactionStatus::Error,
            _ => TransactionStatus::Transaction,
        }
    }

    /// The refusal of a statement that `tx` does not allow now: anything but ending the
    /// block (or rolling back to a savepoint) in an aborted or expired block, `DISCARD`
    /// inside a block.
    pub(super) fn refused_in_block(tx: &TxState, cmd: &Command) -> Option<ErrorInfo> {
        if !tx.is_open() {
            return None;
        }
        let ends = matches!(
            cmd,
            Command::Tx(TxControl::Rollback | TxControl::Commit | TxControl::RollbackTo)
        );
        if tx.expired && !ends {
            return Some(error(
                "25P03",
                "the transaction block was rolled back: it was idle longer than [limits] idle_in_transaction",
                Some("ROLLBACK, then start again"),
            ));
        }
        if tx.failed && !ends {
            return Some(error(
                "25P02",
                "current transaction is aborted, commands ignored until end of transaction block",
                None,
            ));
        }
        if let Command::Sql(sql) = cmd {
            if tx.kind == BlockKind::Explicit && crate::engine::knowledge::write::is_write(sql) {
                return Some(error(
                    "25001",
                    "a change to dbguru.glossary or dbguru.examples cannot run inside a transaction block (it is stored at once)",
                    Some("COMMIT or ROLLBACK first, then run it on its own"),
                ));
            }
        }
        if matches!(cmd, Command::Discard) {
            return Some(error(
                "25001",
                "DISCARD ALL cannot run inside a transaction block",
                None,
            ));
        }
        None
    }

    /// Runs `BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`, `RELEASE` or `ROLLBACK TO`.
    pub(super) async fn block_control(
        &self,
        slot: &Arc<TxSlot>,
        tx: &mut TxState,
        t: TxControl,
        text: &str,
        session: &Session,
        user: &UserConfig,
    ) -> Result<ControlOutcome, ErrorInfo> {
        let warn = |code: &str, message: &str| Notice {
            severity: "WARNING",
            code: code.into(),
            message: message.into(),
        };
        let lower = text.to_ascii_lowercase();
        match t {
            TxControl::Begin => {
                if tx.is_open() {
                    return Ok((
                        Outcome::Tag(Tag::new("BEGIN")),
                        vec![warn("25001", "there is already a transaction in progress")],
                    ));
                }
                let read_only = lower.contains("read only");
                tx.open(BlockKind::Explicit, read_only);
                self.watch_idle(slot, tx.generation);
                Ok((Outcome::TxStart(Tag::new("BEGIN")), vec![]))
            }
            TxControl::Commit | TxControl::Rollback => {
                let word = if t == TxControl::Commit {
                    "COMMIT"
                } else {
                    "ROLLBACK"
                };
                if !tx.is_open() {
                    return Ok((
                        Outcome::TxEnd(Tag::new(word)),
                        vec![warn("25P01", "there is no transaction in progress")],
                    ));
                }
                let committed = self
                    .engine
                    .end_block(tx, t == TxControl::Commit)
                    .await
                    .map_err(|e| engine_error(&e))?;
                let tag = if t == TxControl::Commit && committed {
                    "COMMIT"
                } else {
                    "ROLLBACK"
                };
                Ok((Outcome::TxEnd(Tag::new(tag)), vec![]))
            }
            TxControl::Savepoint | TxControl::Release | TxControl::RollbackTo => {
                let (op, what, tag) = match t {
                    TxControl::Savepoint => (SavepointOp::Create, "SAVEPOINT", "SAVEPOINT"),
                    TxControl::Release => (SavepointOp::Release, "RELEASE SAVEPOINT", "RELEASE"),
                    _ => (SavepointOp::RollbackTo, "ROLLBACK TO SAVEPOINT", "ROLLBACK"),
                };
                if !tx.is_open() {
                    return Err(error(
                        "25P01",
                        format!("{what} can only be used in transaction blocks"),
                        None,
                    ));
                }
                let name = savepoint_name(text).ok_or_else(|| {
                    error("42601", format!("{what} needs a savepoint name"), None)
                })?;
                self.engine
                    .savepoint(tx, op, &name, session, user)
                    .await
                    .map_err(|e| engine_error(&e))?;
                Ok((Outcome::Tag(Tag::new(tag)), vec![]))
            }
        }
    }

    /// Rolls the block of generation `generation` back once it sat idle longer than
    /// `[limits] idle_in_transaction`, returning its connection; the client learns it
    /// (`25P03`) at its next statement.
    fn watch_idle(&self, slot: &Arc<TxSlot>, generation: u64) {
        let limit = self.engine.config.limits.idle_in_transaction;
        if limit.is_zero() {
            return;
        }
        let weak: Weak<TxSlot> = Arc::downgrade(slot);
        let tick = (limit / 4).clamp(Duration::from_millis(50), Duration::from_secs(5));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(tick).await;
                let Some(slot) = weak.upgrade() else {
                    return;
                };
                // A statement holds the lock while it runs: not idle.
                let Ok(mut tx) = slot.0.try_lock() else {
                    continue;
                };
                if !tx.is_open() || tx.generation != generation || tx.expired {
                    return;
                }
                if tx.last_used.is_some_and(|t| t.elapsed() >= limit) {
                    tracing::info!(?limit, "rolling back a transaction block left idle");
                    tx.expired = true;
                    tx.failed = true;
                    let lease = tx.lease.take();
                    drop(tx);
                    if let Some((connection, lease)) = lease {
                        if let Err(e) = lease.finish(false).await {
                            tracing::warn!(%connection, error = %e, "rollback of an idle block failed");
                        }
                    }
                    return;
                }
            }
        });
    }
}

/// The savepoint name of `SAVEPOINT x`, `RELEASE [SAVEPOINT] x` or
/// `ROLLBACK [WORK|TRANSACTION] TO [SAVEPOINT] x`: the last word, as PostgreSQL folds
/// it (unquoted: lower case; double-quoted: exact).
pub(super) fn savepoint_name(text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches(';').trim_end();
    if t.contains(';') {
        return None;
    }
    if let Some(body) = t.strip_suffix('"') {
        // Keywords hold no quote: the first one opens the name.
        let start = body.find('"')?;
        let quoted = body.get(start + 1..)?;
        let name = quoted.replace("\"\"", "\"");
        return (!name.is_empty() && !name.contains('\0')).then_some(name);
    }
    let word = t.rsplit(|c: char| c.is_whitespace()).next()?;
    let keyword = matches!(
        word.to_ascii_lowercase().as_str(),
        "savepoint" | "release" | "to" | "rollback"
    );
    let valid = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
    (valid && !keyword).then(|| word.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::savepoint_name;

    #[test]
    fn savepoint_names_fold_like_postgresql() {
        assert_eq!(savepoint_name("SAVEPOINT A1").as_deref(), Some("a1"));
        assert_eq!(
            savepoint_name("savepoint \"_pg3_1\"").as_deref(),
            Some("_pg3_1")
        );
        assert_eq!(
            savepoint_name("ROLLBACK TO SAVEPOINT \"Mixed Case\";").as_deref(),
            Some("Mixed Case")
        );
        assert_eq!(savepoint_name("RELEASE sp").as_deref(), Some("sp"));
        assert_eq!(savepoint_name("SAVEPOINT"), None);
        assert_eq!(savepoint_name("SAVEPOINT a; DROP TABLE t"), None);
    }
}
