//! The schema cache: every connection is introspected once at start (in the
//! background, while the proxy already listens), re-checked with a cheap version query
//! every `[limits] schema_check`, and re-read at once after DDL that passes through
//! dbguru. ASK, federation, the virtual catalog, `dbguru.connections` and the health
//! check read it; none of them introspects on its own.
//!
//! A connection whose re-introspection fails keeps its last good schema; the failure is
//! kept beside it (`dbguru.connections` shows it) until a later check succeeds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::backends::{Backend, BackendError, SchemaInfo};
use crate::keys::KeyInfo;

/// Longest one introspection (tables, columns and keys) may take.
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(60);

/// Longest reading the foreign keys and indexes may take; past it the schema is kept
/// without them (and says so).
const KEYS_TIMEOUT: Duration = Duration::from_secs(30);

/// How much of one connection's schema is read (`[limits] max_tables`, `max_columns`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Most tables per connection.
    pub max_tables: usize,
    /// Most columns per table.
    pub max_columns: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_tables: 10_000,
            max_columns: 1000,
        }
    }
}

/// MongoDB has no cheap version: its collections are re-sampled every this many checks.
const RESAMPLE_EVERY: u64 = 10;

/// One connection's schema as last read.
#[derive(Debug)]
pub struct Snapshot {
    /// Tables and columns.
    pub schema: Arc<SchemaInfo>,
    /// Foreign keys and indexes (empty when the backend cannot tell or reading failed).
    pub keys: Arc<KeyInfo>,
    /// The backend's version token when it was read (`None`: it has none).
    pub version: Option<String>,
    /// When it was read.
    pub loaded_at: DateTime<Utc>,
    /// How long reading took.
    pub took: Duration,
    /// Table retrieval's index of this schema, built on first use.
    pub retrieval: std::sync::OnceLock<Arc<retrieve::DbIndex>>,
    /// What was not read (tables past `max_tables`, columns past `max_columns`, keys
    /// that took too long), in words; every ASK on the connection warns with it.
    pub left_out: Option<String>,
}

#[derive(Default)]
struct Slot {
    /// `sample_values` of the connection.
    samples: usize,
    current: RwLock<Option<Arc<Snapshot>>>,
    error: RwLock<Option<String>>,
    /// Set by DDL through dbguru: the next reader checks the version first.
    stale: AtomicBool,
    checks: AtomicU64,
    /// Single flight: one introspection or version check per connection at a time.
    refresh: tokio::sync::Mutex<()>,
}

impl Slot {
    fn current(&self) -> Option<Arc<Snapshot>> {
        self.current.read().ok().and_then(|g| g.clone())
    }

    fn set(&self, snap: Snapshot) -> Arc<Snapshot> {
        let snap = Arc::new(snap);
        if let Ok(mut g) = self.current.write() {
            *g = Some(snap.clone());
        }
        self.set_error(None);
        snap
    }

    fn set_error(&self, e: Option<String>) {
        if let Ok(mut g) = self.error.write() {
            *g = e;
        }
    }
}

/// What a read of the cache did, for the caller's NOTICEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetched {
    /// Served from the cache.
    Cached,
    /// The first introspection was still running; the caller waited for it.
    Waited,
    /// Read now (DDL through dbguru made it stale, or nothing was cached yet).
    Reloaded,
}

/// Schemas of every connection, by lower-cased connection name.
pub struct SchemaCache {
    slots: HashMap<String, Arc<Slot>>,
    bounds: Bounds,
}

impl SchemaCache {
    /// An empty cache for these connections: `(name, sample_values)`.
    pub fn new<'a>(conns: impl IntoIterator<Item = (&'a str, usize)>) -> SchemaCache {
        SchemaCache {
            slots: conns
                .into_iter()
                .map(|(n, samples)| {
                    let slot = Slot {
                        samples,
                        ..Slot::default()
                    };
                    (n.to_lowercase(), Arc::new(slot))
                })
                .collect(),
            bounds: Bounds::default(),
        }
    }

    /// The same cache reading at most `bounds` of each schema.
    pub fn with_bounds(mut self, bounds: Bounds) -> SchemaCache {
        self.bounds = bounds;
        self
    }

    fn slot(&self, name: &str) -> Option<&Arc<Slot>> {
        self.slots.get(&name.to_lowercase())
    }

    /// The cached schema, without waiting or reading anything.
    pub fn peek(&self, name: &str) -> Option<Arc<Snapshot>> {
        self.slot(name).and_then(|s| s.current())
    }

    /// The last introspection error of a connection, when its last read failed.
    pub fn last_error(&self, name: &str) -> Option<String> {
        self.slot(name)
            .and_then(|s| s.error.read().ok().and_then(|g| g.clone()))
    }

    /// Marks a connection's schema as possibly changed (DDL ran through dbguru): the
    /// next reader compares versions and re-introspects when it changed.
    pub fn invalidate(&self, name: &str) {
        if let Some(s) = self.slot(name) {
            s.stale.store(true, Ordering::SeqCst);
        }
    }

    /// The schema of `name`: the cached one, or read now when nothing is cached yet or
    /// DDL made it stale. Waits for an introspection already running.
    pub async fn get(
        &self,
        name: &str,
        backend: &dyn Backend,
    ) -> Result<(Arc<Snapshot>, Fetched), BackendError> {
        let Some(slot) = self.slot(name) else {
            return Err(BackendError::Connect(format!("unknown connection {name}")));
        };
        if let Some(s) = slot.current() {
            if !slot.stale.load(Ordering::SeqCst) {
                return Ok((s, Fetched::Cached));
            }
        }
        let waited = slot.refresh.try_lock().is_err();
        let _flight = slot.refresh.lock().await;
        let stale = slot.stale.swap(false, Ordering::SeqCst);
        match slot.current() {
            Some(s) if !stale => {
                let how = if waited {
                    Fetched::Waited
                } else {
                    Fetched::Cached
                };
                Ok((s, how))
            }
            Some(s) => {
                // Stale: compare versions first; a DDL that changed nothing costs one query.
                match backend.schema_version().await {
                    Ok(Some(v)) if s.version.as_deref() == Some(v.as_str()) => {
                        Ok((s, Fetched::Cached))
                    }
                    _ => match load(backend, slot.samples, self.bounds).await {
                        Ok(snap) => Ok((slot.set(snap), Fetched::Reloaded)),
                        Err(e) => {
                            tracing::warn!(connection = %name, error = %e, "schema re-read failed; keeping the last one");
                            slot.set_error(Some(e.to_string()));
                            Ok((s, Fetched::Cached))
                        }
                    },
                }
            }
            None => match load(backend, slot.samples, self.bounds).await {
                Ok(snap) => {
                    let how = if waited {
                        Fetched::Waited
                    } else {
                        Fetched::Reloaded
                    };
                    Ok((slot.set(snap), how))
                }
                Err(e) => {
                    slot.set_error(Some(e.to_string()));
                    Err(e)
                }
            },
        }
    }

    /// One background check of `name`: introspects when nothing is cached, when the
    /// version changed, or (for backends without a version) every tenth check.
    /// Returns whether the schema was re-read.
    pub async fn check(&self, name: &str, backend: &dyn Backend) -> bool {
        let Some(slot) = self.slot(name) else {
            return false;
        };
        let _flight = slot.refresh.lock().await;
        let n = slot.checks.fetch_add(1, Ordering::SeqCst);
        let reload = match slot.current() {
            None => true,
            Some(s) => match backend.schema_version().await {
                Ok(Some(v)) => s.version.as_deref() != Some(v.as_str()),
                Ok(None) => n % RESAMPLE_EVERY == 0,
                Err(e) => {
                    slot.set_error(Some(e.to_string()));
                    return false;
                }
            },
        };
        if !reload {
            slot.set_error(None);
            return false;
        }
        match load(backend, slot.samples, self.bounds).await {
            Ok(snap) => {
                tracing::debug!(connection = %name, tables = snap.schema.tables.len(), ms = snap.took.as_millis() as u64, "schema read");
                slot.stale.store(false, Ordering::SeqCst);
                slot.set(snap);
                true
            }
            Err(e) => {
                tracing::warn!(connection = %name, error = %e, "schema introspection failed; keeping the last one");
                slot.set_error(Some(e.to_string()));
                false
            }
        }
    }
}

/// Reads version, tables, keys and sampled values, within `bounds`. The version is read
/// first, so a change made while introspecting shows up as a new version at the next check.
async fn load(
    backend: &dyn Backend,
    samples: usize,
    bounds: Bounds,
) -> Result<Snapshot, BackendError> {
    let started = Instant::now();
    let work = async {
        let version = backend.schema_version().await.unwrap_or(None);
        let (schema, keys) = futures::join!(
            backend.introspect(),
            tokio::time::timeout(KEYS_TIMEOUT, backend.introspect_keys())
        );
        let mut notes = Vec::new();
        let keys = match keys {
            Ok(Ok(k)) => k,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "keys not introspected");
                KeyInfo::default()
            }
            Err(_) => {
                notes.push(format!(
                    "foreign keys and indexes (reading them took over {} s)",
                    KEYS_TIMEOUT.as_secs()
                ));
                KeyInfo::default()
            }
        };
        let mut schema = schema?;
        bound(&mut schema, bounds, &mut notes);
        samples::fill(backend, &mut schema, samples).await;
        Ok(Snapshot {
            schema: Arc::new(schema),
            keys: Arc::new(keys),
            version,
            loaded_at: Utc::now(),
            took: started.elapsed(),
            retrieval: std::sync::OnceLock::new(),
            left_out: (!notes.is_empty()).then(|| format!("not read: {}", notes.join("; "))),
        })
    };
    tokio::time::timeout(LOAD_TIMEOUT, work)
        .await
        .unwrap_or(Err(BackendError::Timeout(LOAD_TIMEOUT)))
}

/// Cuts `schema` to `bounds` (the first tables by name, the first columns of each table),
/// noting what was cut.
fn bound(schema: &mut SchemaInfo, bounds: Bounds, notes: &mut Vec<String>) {
    let total = schema.tables.len();
    if total > bounds.max_tables {
        schema.tables.sort_by(|a, b| a.name.cmp(&b.name));
        schema.tables.truncate(bounds.max_tables);
        notes.push(format!(
            "{} of {total} tables (past [limits] max_tables = {}; the first by name were read)",
            total - bounds.max_tables,
            bounds.max_tables
        ));
    }
    let mut wide = Vec::new();
    for t in &mut schema.tables {
        if t.columns.len() > bounds.max_columns {
            wide.push(format!("{} ({} columns)", t.name, t.columns.len()));
            t.columns.truncate(bounds.max_columns);
        }
    }
    if !wide.is_empty() {
        let shown = wide.len().min(5);
        notes.push(format!(
            "the columns past the first {} ([limits] max_columns) of {}{}",
            bounds.max_columns,
            wide[..shown].join(", "),
            if wide.len() > shown {
                format!(" and {} more tables", wide.len() - shown)
            } else {
                String::new()
            }
        ));
    }
}

mod engine;
pub mod retrieve;
pub mod samples;
#[cfg(test)]
mod tests;
