//! The engine's side of the schema cache: reads through it, the background watch, and
//! invalidation after DDL.

use std::sync::Arc;

use std::collections::HashMap;

use super::retrieve::{self, Selection};
use super::{Fetched, Snapshot};
use crate::backends::BackendError;
use crate::engine::{AskContext, Conn, Engine};
use crate::llm::DbSchema;

impl Engine {
    /// The cached schema of `conn` (read now if nothing is cached yet or DDL made it
    /// stale; waits for a first introspection already running).
    pub async fn cached_schema(
        &self,
        conn: &Conn,
    ) -> Result<(Arc<Snapshot>, Fetched), BackendError> {
        self.schema.get(&conn.cfg.name, conn.backend.as_ref()).await
    }

    /// The cached schema of `conn` without waiting or reading anything.
    pub fn peek_schema(&self, name: &str) -> Option<Arc<Snapshot>> {
        self.schema.peek(name)
    }

    /// The last introspection error of a connection, when its last read failed.
    pub fn schema_error(&self, name: &str) -> Option<String> {
        self.schema.last_error(name)
    }

    /// DDL (or a transaction that may have held DDL) finished on `connection`: its
    /// schema is checked again before its next use.
    pub fn schema_changed(&self, connection: &str) {
        self.schema.invalidate(connection);
    }

    /// Checks every connection's schema once, in parallel (introspecting those never
    /// read, or whose version changed).
    pub async fn check_schemas(&self) {
        let futs = self
            .conns
            .iter()
            .map(|c| self.schema.check(&c.cfg.name, c.backend.as_ref()));
        futures::future::join_all(futs).await;
    }

    /// Reads every schema now, then re-checks them every `[limits] schema_check` for as
    /// long as the engine lives.
    pub fn watch_schemas(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let interval = self.config.limits.schema_check;
        tokio::spawn(async move {
            loop {
                let Some(e) = weak.upgrade() else {
                    break;
                };
                e.check_schemas().await;
                // Several proxies may share the store: pick up their knowledge writes.
                if let Err(err) = e.knowledge.refresh(&e.store).await {
                    tracing::warn!(error = %err, "could not re-read the business knowledge");
                }
                drop(e);
                tokio::time::sleep(interval).await;
            }
        });
    }

    /// The part of `dbs` that goes into the prompt for `question` (all of it when it fits
    /// `budget` tokens), and what was chosen. `related` is text whose words count at half
    /// weight (the matched glossary definitions and examples).
    pub(crate) fn retrieve(
        &self,
        dbs: &[(i64, DbSchema)],
        question: &str,
        related: &str,
        budget: usize,
        ctx: &AskContext,
    ) -> (Vec<(i64, DbSchema)>, Selection) {
        let mut keys: HashMap<String, Arc<crate::keys::KeyInfo>> = HashMap::new();
        let mut indexes: HashMap<String, Arc<retrieve::DbIndex>> = HashMap::new();
        for (id, d) in dbs {
            let Some(snap) = self.peek_schema(&d.name) else {
                continue;
            };
            keys.insert(d.name.to_lowercase(), snap.keys.clone());
            // The index belongs to the snapshot these very tables came from.
            if Arc::ptr_eq(&snap.schema, &d.schema) {
                let index = snap
                    .retrieval
                    .get_or_init(|| Arc::new(retrieve::DbIndex::build(*id, d)));
                indexes.insert(d.name.to_lowercase(), index.clone());
            }
        }
        retrieve::select(
            dbs,
            &retrieve::Query {
                question,
                history: &ctx.history,
                pinned: &ctx.pinned,
                keys: &keys,
                related,
                budget,
                indexes: &indexes,
            },
        )
    }
}
