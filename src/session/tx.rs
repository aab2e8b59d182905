//! The transaction block of one client connection.
//!
//! `BEGIN` opens the block in the proxy; the first statement that reaches a database
//! pins a connection of that database to the block (a [`Lease`]), and every later
//! statement of the block runs on it, until `COMMIT` or `ROLLBACK`. An error inside the
//! block aborts it, as in PostgreSQL: every statement but `ROLLBACK` (or `ROLLBACK TO` a
//! savepoint) is refused with `25P02` until then.

use std::time::Instant;

use crate::backends::Lease;

/// How a block was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockKind {
    /// No block: every statement commits on its own.
    #[default]
    None,
    /// `BEGIN` / `START TRANSACTION`.
    Explicit,
    /// The implicit block of a simple query with several statements.
    Implicit,
}

/// The state of a client's transaction block.
#[derive(Default)]
pub struct TxState {
    /// Whether a block is open, and how it was opened.
    pub kind: BlockKind,
    /// An error aborted the block.
    pub failed: bool,
    /// `BEGIN READ ONLY` (or `TRANSACTION READ ONLY`) was asked for.
    pub read_only: bool,
    /// The connection the block runs on and its lease, from its first statement on.
    pub lease: Option<(String, Box<dyn Lease>)>,
    /// Savepoints, oldest first (names as the database folds them).
    pub savepoints: Vec<String>,
    /// The block was rolled back by the proxy (idle too long); the client learns it at
    /// its next statement.
    pub expired: bool,
    /// When the block last ran a statement.
    pub last_used: Option<Instant>,
    /// Counts the blocks opened on this connection (a watchdog watches one block).
    pub generation: u64,
}

impl std::fmt::Debug for TxState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxState")
            .field("kind", &self.kind)
            .field("failed", &self.failed)
            .field("connection", &self.lease.as_ref().map(|(c, _)| c))
            .field("savepoints", &self.savepoints)
            .finish()
    }
}

impl TxState {
    /// Whether a block is open.
    pub fn is_open(&self) -> bool {
        self.kind != BlockKind::None
    }

    /// Opens a block.
    pub fn open(&mut self, kind: BlockKind, read_only: bool) {
        self.kind = kind;
        self.failed = false;
        self.read_only = read_only;
        self.savepoints.clear();
        self.expired = false;
        self.last_used = Some(Instant::now());
        self.generation += 1;
    }

    /// Forgets the block (after COMMIT/ROLLBACK); returns its lease to be finished.
    pub fn close(&mut self) -> Option<(String, Box<dyn Lease>)> {
        self.kind = BlockKind::None;
        self.failed = false;
        self.read_only = false;
        self.savepoints.clear();
        self.expired = false;
        self.lease.take()
    }

    /// The transaction status byte for ReadyForQuery: `I`, `T` or `E`.
    pub fn status(&self) -> u8 {
        match (self.is_open(), self.failed) {
            (false, _) => b'I',
            (true, false) => b'T',
            (true, true) => b'E',
        }
    }
}
