//! Plan and result caches.
//!
//! A plan (the LLM's parsed answer) is keyed on the normalized question, the sorted
//! connection set, each connection's schema fingerprint and a digest of the history the
//! prompt used — so a schema change or a different conversation never reuses a stale
//! plan. A combined result is keyed on the plan key plus the row cap and lives for
//! `[cache] result_ttl`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use sha2::{Digest, Sha256};

use super::plan::PlannedQuery;
use super::prompt::Turn;
use crate::llm::DbSchema;

/// A cache key (hex SHA-256).
pub type Key = String;

/// Normalizes a question: lower case, single spaces, no trailing punctuation.
pub fn normalize_question(q: &str) -> String {
    q.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .trim_end_matches(['?', '.', '!', ';'])
        .trim()
        .to_string()
}

/// Fingerprint of one database's schema (tables, columns, types, keys).
pub fn schema_fingerprint(db: &DbSchema) -> String {
    let mut h = Sha256::new();
    h.update(db.name.as_bytes());
    for t in &db.schema.tables {
        h.update(b"\x01");
        h.update(t.name.as_bytes());
        for c in &t.columns {
            h.update(b"\x02");
            h.update(c.name.as_bytes());
            h.update(b"\x03");
            h.update(c.data_type.as_bytes());
            h.update([u8::from(c.primary_key), u8::from(c.nullable)]);
        }
    }
    hex::encode(h.finalize())
}

/// The plan key.
pub fn plan_key(question: &str, dbs: &[DbSchema], history: &[Turn]) -> Key {
    let mut parts: Vec<(String, String)> = dbs
        .iter()
        .map(|d| (d.name.to_lowercase(), schema_fingerprint(d)))
        .collect();
    parts.sort();
    let mut h = Sha256::new();
    h.update(normalize_question(question).as_bytes());
    for (name, fp) in parts {
        h.update(b"\x00");
        h.update(name.as_bytes());
        h.update(fp.as_bytes());
    }
    // Asking the same question again does not change what it means: earlier turns with
    // the same question are left out, so a repeated ASK hits the cache; a follow-up
    // ("and only for 2024?") still sees the turns before it.
    let norm = normalize_question(question);
    for t in history
        .iter()
        .filter(|t| normalize_question(&t.question) != norm)
    {
        h.update(b"\x04");
        h.update(t.question.as_bytes());
        for q in &t.plan {
            h.update(q.connection.as_bytes());
            h.update(q.sql.as_bytes());
        }
    }
    hex::encode(h.finalize())
}

/// A cached combined answer.
#[derive(Debug, Clone)]
pub struct CachedResult {
    /// Schema.
    pub schema: SchemaRef,
    /// Rows.
    pub batches: Vec<RecordBatch>,
    /// Per database: (connection, sql, rows).
    pub runs: Vec<(String, String, usize)>,
}

struct Bounded<V> {
    map: HashMap<Key, V>,
    order: VecDeque<Key>,
    cap: usize,
}

impl<V> Bounded<V> {
    fn new(cap: usize) -> Self {
        Bounded {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap,
        }
    }

    fn insert(&mut self, k: Key, v: V) {
        if self.cap == 0 {
            return;
        }
        if self.map.insert(k.clone(), v).is_none() {
            self.order.push_back(k);
        }
        while self.map.len() > self.cap {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
    }
}

/// Both caches, shared by every session.
pub struct Caches {
    plans: Mutex<Bounded<Vec<PlannedQuery>>>,
    results: Mutex<Bounded<(Instant, CachedResult)>>,
    ttl: Duration,
}

impl Caches {
    /// Caches of the given sizes.
    pub fn new(plan_entries: usize, result_entries: usize, ttl: Duration) -> Caches {
        Caches {
            plans: Mutex::new(Bounded::new(plan_entries)),
            results: Mutex::new(Bounded::new(if ttl.is_zero() { 0 } else { result_entries })),
            ttl,
        }
    }

    /// A cached plan.
    pub fn plan(&self, k: &Key) -> Option<Vec<PlannedQuery>> {
        self.plans.lock().ok()?.map.get(k).cloned()
    }

    /// Remembers a plan.
    pub fn put_plan(&self, k: Key, p: Vec<PlannedQuery>) {
        if let Ok(mut m) = self.plans.lock() {
            m.insert(k, p);
        }
    }

    /// A cached result younger than the TTL.
    pub fn result(&self, k: &Key) -> Option<CachedResult> {
        let m = self.results.lock().ok()?;
        let (at, r) = m.map.get(k)?;
        (at.elapsed() < self.ttl).then(|| r.clone())
    }

    /// Remembers a result.
    pub fn put_result(&self, k: Key, r: CachedResult) {
        if let Ok(mut m) = self.results.lock() {
            m.insert(k, (Instant::now(), r));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::{ColumnInfo, Dialect, SchemaInfo, TableInfo};

    fn db(cols: &[&str]) -> DbSchema {
        DbSchema {
            name: "shop".into(),
            dialect: Dialect::Sqlite,
            schema: SchemaInfo {
                database: "shop".into(),
                tables: vec![TableInfo {
                    name: "customers".into(),
                    columns: cols
                        .iter()
                        .map(|c| ColumnInfo {
                            name: c.to_string(),
                            data_type: "TEXT".into(),
                            primary_key: false,
                            nullable: true,
                        })
                        .collect(),
                }],
            },
        }
    }

    #[test]
    fn keys_follow_question_schema_and_history() {
        let a = plan_key("How many  customers?", &[db(&["id"])], &[]);
        assert_eq!(a, plan_key("how many customers", &[db(&["id"])], &[]));
        assert_ne!(
            a,
            plan_key("how many customers", &[db(&["id", "email"])], &[])
        );
        let t = Turn {
            question: "x".into(),
            plan: vec![],
            summary: String::new(),
        };
        assert_ne!(a, plan_key("how many customers", &[db(&["id"])], &[t]));
        let same = Turn {
            question: "How many customers?".into(),
            plan: vec![],
            summary: String::new(),
        };
        assert_eq!(a, plan_key("how many customers", &[db(&["id"])], &[same]));
    }

    #[test]
    fn bounded_evicts_oldest() {
        let c = Caches::new(2, 2, Duration::from_secs(60));
        for i in 0..3 {
            c.put_plan(format!("k{i}"), vec![]);
        }
        assert!(c.plan(&"k0".to_string()).is_none());
        assert!(c.plan(&"k2".to_string()).is_some());
    }
}
