use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;

use super::*;
use crate::backends::{Dialect, QueryOptions, QueryResult, TableInfo};

/// A backend whose schema is one table per `tables` entry; counts introspections.
#[derive(Default)]
struct Counting {
    tables: Mutex<Vec<String>>,
    version: Mutex<Option<String>>,
    introspections: AtomicUsize,
    versions: AtomicUsize,
    fail: AtomicBool,
}

impl Counting {
    fn set(&self, tables: &[&str], version: Option<&str>) {
        *self.tables.lock().expect("lock") = tables.iter().map(|t| t.to_string()).collect();
        *self.version.lock().expect("lock") = version.map(str::to_string);
    }
    fn introspections(&self) -> usize {
        self.introspections.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Backend for Counting {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    async fn schema_version(&self) -> Result<Option<String>, BackendError> {
        self.versions.fetch_add(1, Ordering::SeqCst);
        Ok(self.version.lock().expect("lock").clone())
    }
    async fn introspect(&self) -> Result<SchemaInfo, BackendError> {
        self.introspections.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(BackendError::Connect("down".into()));
        }
        Ok(SchemaInfo {
            database: "db".into(),
            tables: self
                .tables
                .lock()
                .expect("lock")
                .iter()
                .map(|t| TableInfo {
                    name: t.clone(),
                    columns: Vec::new(),
                    ..Default::default()
                })
                .collect(),
        })
    }
    async fn query(&self, _sql: &str, _opts: &QueryOptions) -> Result<QueryResult, BackendError> {
        Err(BackendError::Unsupported("no queries".into()))
    }
    async fn ping(&self) -> Result<(), BackendError> {
        Ok(())
    }
}

fn names(s: &Snapshot) -> Vec<String> {
    s.schema.tables.iter().map(|t| t.name.clone()).collect()
}

#[tokio::test]
async fn reads_once_then_serves_from_the_cache() {
    let b = Counting::default();
    b.set(&["a"], Some("1"));
    let cache = SchemaCache::new([("Shop", 0)]);
    let (s, how) = cache.get("shop", &b).await.expect("get");
    assert_eq!(how, Fetched::Reloaded);
    assert_eq!(names(&s), ["a"]);
    for _ in 0..5 {
        let (_, how) = cache.get("SHOP", &b).await.expect("get");
        assert_eq!(how, Fetched::Cached);
    }
    assert_eq!(b.introspections(), 1);
    assert_eq!(
        b.versions.load(Ordering::SeqCst),
        1,
        "only the load read the version"
    );
}

#[tokio::test]
async fn a_check_rereads_only_when_the_version_changed() {
    let b = Counting::default();
    b.set(&["a"], Some("1"));
    let cache = SchemaCache::new([("shop", 0)]);
    assert!(cache.check("shop", &b).await, "first check loads");
    assert!(!cache.check("shop", &b).await, "same version: no reload");
    assert_eq!(b.introspections(), 1);
    b.set(&["a", "b"], Some("2"));
    assert!(cache.check("shop", &b).await);
    assert_eq!(names(&cache.peek("shop").expect("cached")), ["a", "b"]);
    assert_eq!(b.introspections(), 2);
}

#[tokio::test]
async fn invalidation_checks_the_version_before_rereading() {
    let b = Counting::default();
    b.set(&["a"], Some("1"));
    let cache = SchemaCache::new([("shop", 0)]);
    cache.get("shop", &b).await.expect("get");
    // DDL that changed nothing the version covers: one version query, no introspection.
    cache.invalidate("shop");
    let (_, how) = cache.get("shop", &b).await.expect("get");
    assert_eq!(how, Fetched::Cached);
    assert_eq!(b.introspections(), 1);
    // DDL that did change it: read again at once.
    b.set(&["a", "c"], Some("2"));
    cache.invalidate("shop");
    let (s, how) = cache.get("shop", &b).await.expect("get");
    assert_eq!(how, Fetched::Reloaded);
    assert_eq!(names(&s), ["a", "c"]);
}

#[tokio::test]
async fn versionless_backends_are_resampled_every_tenth_check() {
    let b = Counting::default();
    b.set(&["a"], None);
    let cache = SchemaCache::new([("docs", 0)]);
    let reloads = {
        let mut n = 0;
        for _ in 0..=RESAMPLE_EVERY {
            n += usize::from(cache.check("docs", &b).await);
        }
        n
    };
    assert_eq!(reloads, 2, "the first check and the tenth after it");
}

#[tokio::test]
async fn a_failed_reread_keeps_the_last_good_schema_and_says_why() {
    let b = Counting::default();
    b.set(&["a"], Some("1"));
    let cache = SchemaCache::new([("shop", 0)]);
    cache.get("shop", &b).await.expect("get");
    b.set(&["a", "b"], Some("2"));
    b.fail.store(true, Ordering::SeqCst);
    assert!(!cache.check("shop", &b).await);
    assert_eq!(names(&cache.peek("shop").expect("kept")), ["a"]);
    assert!(cache.last_error("shop").is_some_and(|e| e.contains("down")));
    b.fail.store(false, Ordering::SeqCst);
    assert!(cache.check("shop", &b).await);
    assert_eq!(cache.last_error("shop"), None);
}

#[tokio::test]
async fn concurrent_first_reads_introspect_once() {
    let b = Arc::new(Counting::default());
    b.set(&["a"], Some("1"));
    let cache = Arc::new(SchemaCache::new([("shop", 0)]));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (b, cache) = (b.clone(), cache.clone());
            tokio::spawn(async move { cache.get("shop", b.as_ref()).await.map(|_| ()) })
        })
        .collect();
    for t in tasks {
        t.await.expect("join").expect("get");
    }
    assert_eq!(b.introspections(), 1);
}

#[tokio::test]
async fn unknown_connections_are_an_error() {
    let b = Counting::default();
    let cache = SchemaCache::new([("shop", 0)]);
    assert!(cache.get("nope", &b).await.is_err());
    assert!(cache.peek("nope").is_none());
}

#[tokio::test]
async fn a_schema_past_the_bounds_is_cut_and_says_what_was_left_out() {
    let backend = Counting::default();
    backend.set(&["d", "b", "a", "c", "e"], Some("1"));
    let cache = SchemaCache::new([("shop", 0)]).with_bounds(Bounds {
        max_tables: 3,
        max_columns: 10,
    });
    let (snap, _) = cache.get("shop", &backend).await.expect("read");
    assert_eq!(names(&snap), ["a", "b", "c"], "the first by name");
    let note = snap.left_out.clone().expect("a note");
    assert!(note.contains("2 of 5 tables"), "{note}");
    assert!(note.contains("max_tables = 3"), "{note}");

    let mut schema = SchemaInfo {
        database: "db".into(),
        tables: vec![TableInfo {
            name: "wide".into(),
            columns: (0..25)
                .map(|i| crate::backends::ColumnInfo {
                    name: format!("c{i}"),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
    };
    let mut notes = Vec::new();
    bound(
        &mut schema,
        Bounds {
            max_tables: 3,
            max_columns: 10,
        },
        &mut notes,
    );
    assert_eq!(schema.tables[0].columns.len(), 10);
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("wide (25 columns)"), "{notes:?}");

    // Within the bounds nothing is noted.
    let small = Counting::default();
    small.set(&["a"], Some("1"));
    let cache = SchemaCache::new([("shop", 0)]);
    let (snap, _) = cache.get("shop", &small).await.expect("read");
    assert!(snap.left_out.is_none());
}
