//! Plan and result caches.
//!
//! A plan (the LLM's parsed answer) is keyed on the normalized question, the sorted
//! connection set, each connection's schema fingerprint and a digest of the history the
//! prompt used — so a schema change or a different conversation never reuses a stale
//! plan. A combined result is keyed on the plan key plus the row cap and lives for
//! `[cache] result_ttl`.
//!
//! Both are LRU maps bounded by entries and by estimated bytes: results by `[cache]
//! result_entries` and `result_bytes` (Arrow buffer sizes), plans by `[cache] plan_entries`
//! and [`PLAN_BYTES`].

use std::collections::{BTreeMap, HashMap};
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

/// An LRU map bounded by entries and by (estimated) bytes.
struct Bounded<V> {
    map: HashMap<Key, Entry<V>>,
    /// Last use → key; the first is the least recently used.
    lru: BTreeMap<u64, Key>,
    tick: u64,
    max_entries: usize,
    max_bytes: usize,
    bytes: usize,
}

struct Entry<V> {
    value: V,
    bytes: usize,
    used: u64,
}

impl<V> Bounded<V> {
    fn new(max_entries: usize, max_bytes: usize) -> Self {
        Bounded {
            map: HashMap::new(),
            lru: BTreeMap::new(),
            tick: 0,
            max_entries,
            max_bytes,
            bytes: 0,
        }
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// The value, marked as just used.
    fn get(&mut self, k: &Key) -> Option<&V> {
        let now = self.next_tick();
        let e = self.map.get_mut(k)?;
        self.lru.remove(&e.used);
        self.lru.insert(now, k.clone());
        e.used = now;
        Some(&e.value)
    }

    fn remove(&mut self, k: &Key) {
        if let Some(e) = self.map.remove(k) {
            self.lru.remove(&e.used);
            self.bytes -= e.bytes;
        }
    }

    /// Inserts `v` of `bytes` (key included), evicting least recently used entries until
    /// both bounds hold; a value larger than the byte budget is not kept.
    fn insert(&mut self, k: Key, v: V, bytes: usize) {
        self.remove(&k);
        if self.max_entries == 0 || bytes > self.max_bytes {
            return;
        }
        while self.map.len() >= self.max_entries || self.bytes + bytes > self.max_bytes {
            let Some((_, old)) = self.lru.pop_first() else {
                break;
            };
            if let Some(e) = self.map.remove(&old) {
                self.bytes -= e.bytes;
            }
        }
        let used = self.next_tick();
        self.lru.insert(used, k.clone());
        self.bytes += bytes;
        self.map.insert(
            k,
            Entry {
                value: v,
                bytes,
                used,
            },
        );
    }
}

/// Bytes the plan cache may hold (SQL text). Plans are small — a few hundred bytes each —
/// so `[cache] plan_entries` is the bound in practice; this one only stops a run of huge
/// LLM answers (each up to `[llm] max_reply_bytes`) from adding up.
pub const PLAN_BYTES: usize = 16 << 20;

/// Per-entry bookkeeping counted on top of keys and values (map slots, LRU node, `Vec`s).
const ENTRY_OVERHEAD: usize = 128;

fn plan_bytes(k: &Key, p: &[PlannedQuery]) -> usize {
    ENTRY_OVERHEAD
        + k.len()
        + p.iter()
            .map(|q| std::mem::size_of::<PlannedQuery>() + q.connection.len() + q.sql.len())
            .sum::<usize>()
}

/// Estimated memory of a cached result: its Arrow buffers (`get_array_memory_size`), the
/// schema's field names and the per-database runs.
pub fn result_bytes(r: &CachedResult) -> usize {
    let batches: usize = r
        .batches
        .iter()
        .map(RecordBatch::get_array_memory_size)
        .sum();
    let fields: usize = r.schema.fields().iter().map(|f| 64 + f.name().len()).sum();
    let runs: usize = r.runs.iter().map(|(c, s, _)| 64 + c.len() + s.len()).sum();
    ENTRY_OVERHEAD + batches + fields + runs
}

/// Both caches, shared by every session.
pub struct Caches {
    plans: Mutex<Bounded<Vec<PlannedQuery>>>,
    results: Mutex<Bounded<(Instant, CachedResult)>>,
    ttl: Duration,
}

impl Caches {
    /// Caches of the given sizes: `plan_entries` plans (and at most [`PLAN_BYTES`]),
    /// `result_entries` results of `result_bytes` in all, each reused for `ttl`.
    pub fn new(
        plan_entries: usize,
        result_entries: usize,
        result_bytes: usize,
        ttl: Duration,
    ) -> Caches {
        Caches {
            plans: Mutex::new(Bounded::new(plan_entries, PLAN_BYTES)),
            results: Mutex::new(Bounded::new(
                if ttl.is_zero() { 0 } else { result_entries },
                result_bytes,
            )),
            ttl,
        }
    }

    /// A cached plan.
    pub fn plan(&self, k: &Key) -> Option<Vec<PlannedQuery>> {
        self.plans.lock().ok()?.get(k).cloned()
    }

    /// Remembers a plan.
    pub fn put_plan(&self, k: Key, p: Vec<PlannedQuery>) {
        let bytes = plan_bytes(&k, &p);
        if let Ok(mut m) = self.plans.lock() {
            m.insert(k, p, bytes);
        }
    }

    /// A cached result younger than the TTL (an older one is dropped).
    pub fn result(&self, k: &Key) -> Option<CachedResult> {
        let mut m = self.results.lock().ok()?;
        let (at, r) = m.get(k)?;
        if at.elapsed() < self.ttl {
            return Some(r.clone());
        }
        m.remove(k);
        None
    }

    /// Remembers a result (not when it alone is larger than the byte budget).
    pub fn put_result(&self, k: Key, r: CachedResult) {
        let bytes = k.len() + result_bytes(&r);
        if let Ok(mut m) = self.results.lock() {
            m.insert(k, (Instant::now(), r), bytes);
        }
    }

    /// Results cached now and their estimated bytes.
    pub fn result_usage(&self) -> (usize, usize) {
        self.results
            .lock()
            .map(|m| (m.map.len(), m.bytes))
            .unwrap_or_default()
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
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
            }
            .into(),
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
    fn bounded_evicts_least_recently_used() {
        let c = Caches::new(2, 2, 1 << 20, Duration::from_secs(60));
        c.put_plan("k0".into(), vec![]);
        c.put_plan("k1".into(), vec![]);
        assert!(c.plan(&"k0".to_string()).is_some()); // k1 is now the least recently used
        c.put_plan("k2".into(), vec![]);
        assert!(c.plan(&"k1".to_string()).is_none());
        assert!(c.plan(&"k0".to_string()).is_some());
        assert!(c.plan(&"k2".to_string()).is_some());
    }

    fn result_of(rows: usize) -> CachedResult {
        use arrow::array::{ArrayRef, Int64Array, StringArray};
        use arrow::datatypes::{DataType, Field, Schema};
        use std::sync::Arc;
        let schema = Arc::new(Schema::new(vec![
            Field::new("source_db", DataType::Utf8, false),
            Field::new("v", DataType::Int64, false),
        ]));
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["shop"; rows])),
            Arc::new(Int64Array::from_iter_values(0..rows as i64)),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols).expect("batch");
        CachedResult {
            schema,
            batches: vec![batch],
            runs: vec![("shop".into(), "SELECT v FROM t".into(), rows)],
        }
    }

    #[test]
    fn results_stay_under_their_byte_budget() {
        let one = result_bytes(&result_of(1000));
        assert!(one > 16 * 1000, "{one} bytes for 1000 rows of two columns");
        let budget = one * 5 + one / 2; // room for five
        let c = Caches::new(10, 1000, budget, Duration::from_secs(60));
        for i in 0..50 {
            c.put_result(format!("r{i}"), result_of(1000));
            let (entries, bytes) = c.result_usage();
            assert!(bytes <= budget, "{bytes} > {budget} after {i}");
            assert!(entries <= 5);
        }
        assert_eq!(c.result_usage().0, 5);
        assert!(c.result(&"r49".to_string()).is_some());
        assert!(c.result(&"r0".to_string()).is_none());
        // Used results stay; the least recently used goes first.
        assert!(c.result(&"r45".to_string()).is_some());
        c.put_result("new".into(), result_of(1000));
        assert!(c.result(&"r45".to_string()).is_some());
        assert!(c.result(&"r46".to_string()).is_none());
        // A result bigger than the whole budget is not cached and evicts nothing.
        c.put_result("huge".into(), result_of(20_000));
        assert!(c.result(&"huge".to_string()).is_none());
        assert_eq!(c.result_usage().0, 5);
        // Re-inserting a key replaces its bytes rather than adding to them.
        for _ in 0..10 {
            c.put_result("new".into(), result_of(1000));
        }
        assert!(c.result_usage().1 <= budget);
        assert_eq!(c.result_usage().0, 5);
    }

    #[test]
    fn expired_results_are_dropped() {
        let c = Caches::new(10, 10, 1 << 20, Duration::from_millis(1));
        c.put_result("r".into(), result_of(10));
        std::thread::sleep(Duration::from_millis(5));
        assert!(c.result(&"r".to_string()).is_none());
        assert_eq!(c.result_usage(), (0, 0));
        let off = Caches::new(10, 10, 0, Duration::from_secs(60));
        off.put_result("r".into(), result_of(1));
        assert!(off.result(&"r".to_string()).is_none());
    }
}
