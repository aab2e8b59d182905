//! MongoDB as a backend, against a real MongoDB-protocol server (nx-27017) started per
//! test: one ASK over PostgreSQL + MongoDB, each construct of the SQL subset compared with
//! the same answer computed directly from the documents read with the Rust driver, JSON
//! pipelines, types, refusals, limits, a stopped server and the commands on the wire.

use crate::common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use futures::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use tokio_postgres::types::Type;
use tokio_postgres::Client;

const DB: &str = "shop";
const COLL: &str = "events";

fn ts(s: &str) -> Bson {
    Bson::DateTime(DateTime::parse_rfc3339_str(s).expect("test date"))
}

/// Documents with nested fields, arrays, nulls and missing fields.
fn seed_docs() -> Vec<Document> {
    let id = || Bson::ObjectId(ObjectId::new());
    vec![
        doc! {"_id": id(), "kind": "click", "user": {"name": "ann", "address": {"city": "Berlin", "zip": "10115"}}, "amount": 5, "qty": 2, "tags": ["a", "b"], "ts": ts("2024-01-02T03:04:05Z"), "ok": true},
        doc! {"_id": id(), "kind": "view", "user": {"name": "bob", "address": {"city": "Paris"}}, "amount": 2.5, "qty": 1, "tags": [], "ts": ts("2024-02-02T00:00:00Z"), "ok": false},
        doc! {"_id": id(), "kind": "click", "user": {"name": "cy"}, "amount": 7, "tags": ["b"], "ts": ts("2024-03-15T12:00:00Z")},
        doc! {"_id": id(), "kind": "buy", "user": {"name": "dee", "address": {"city": "Berlin"}}, "amount": Bson::Null, "qty": 3, "ts": ts("2024-01-20T08:00:00Z"), "ok": true},
        doc! {"_id": id(), "kind": "view", "amount": 12.25, "qty": 4, "tags": ["c", "a"], "ok": true},
        doc! {"_id": id(), "user": {"name": "eve", "address": {"city": "Rome"}}, "amount": 1, "qty": 1},
        doc! {"_id": id(), "kind": "buy", "user": {"name": "fay", "address": {"city": "Paris"}}, "amount": 30, "qty": 2, "tags": ["a"], "ts": ts("2024-04-01T00:00:00Z"), "ok": false},
        doc! {"_id": id(), "kind": "click", "user": {"name": "gus", "address": {"city": "Berlin"}}, "amount": 5, "qty": 5, "tags": [], "ts": ts("2024-02-29T23:59:59Z"), "ok": true},
        doc! {"_id": id(), "kind": "clickthrough", "user": {"name": "Hal", "address": {"city": "Lisbon"}}, "amount": 0.5, "ts": ts("2024-05-05T05:05:05Z")},
    ]
}

type Rows = Vec<Vec<Option<String>>>;

struct Fixture {
    server: MongoServer,
    relay: Option<MongoRelay>,
    proxy: Proxy,
    llm: ScriptedLlm,
    coll: mongodb::Collection<Document>,
    asked: AtomicUsize,
}

/// A seeded nx-27017 server (behind a recording relay when `relay`), the scripted LLM,
/// and the proxy with connection `mongo` plus `extra` TOML.
async fn fixture(relay: bool, extra: &str) -> Fixture {
    let server = start_mongo().await;
    let client = server.client().await;
    let coll = client.database(DB).collection::<Document>(COLL);
    coll.insert_many(seed_docs()).await.expect("seed events");
    let relay = if relay {
        Some(MongoRelay::start(server.port).await)
    } else {
        None
    };
    let url = relay.as_ref().map_or_else(|| server.url(DB), |r| r.url(DB));
    let llm = ScriptedLlm::start().await;
    let toml = base_config(&format!(
        "{}\n[limits]\nmax_rows = 100\ntimeout = \"10s\"\n\n{}{}",
        llm.llm_toml("5s", 0),
        url_connection_toml("mongo", "mongodb", &url),
        extra
    ));
    let proxy = start_proxy(&toml).await;
    Fixture {
        server,
        relay,
        proxy,
        llm,
        coll,
        asked: AtomicUsize::new(0),
    }
}

impl Fixture {
    async fn connect(&self) -> Client {
        let c = self.proxy.connect().await;
        simple(&c, "SET dbguru.use_cache = off")
            .await
            .expect("cache off");
        c
    }

    /// Every document, read directly with the driver.
    async fn docs(&self) -> Vec<Document> {
        self.coll
            .find(doc! {})
            .await
            .expect("find")
            .try_collect()
            .await
            .expect("read documents")
    }

    /// `ASK ... ON mongo` with the scripted LLM replying `statement`; returns the rows
    /// without `source_db` (checked to be `mongo`) and the column names.
    async fn ask(
        &self,
        c: &Client,
        statement: &str,
    ) -> Result<(Vec<String>, Rows), tokio_postgres::Error> {
        self.llm.push_text(format!("DATABASE: mongo\n{statement}"));
        let n = self.asked.fetch_add(1, Ordering::SeqCst);
        let r = simple(c, &format!("ASK 'question number {n}' ON mongo")).await?;
        assert_eq!(
            r.columns.first().map(String::as_str),
            Some("source_db"),
            "{statement}"
        );
        for row in &r.rows {
            assert_eq!(row[0].as_deref(), Some("mongo"));
        }
        Ok((
            r.columns[1..].to_vec(),
            r.rows.into_iter().map(|row| row[1..].to_vec()).collect(),
        ))
    }

    async fn ask_ok(&self, c: &Client, statement: &str) -> (Vec<String>, Rows) {
        self.ask(c, statement)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {} ({:?})", error_message(&e), sqlstate(&e)))
    }
}

// ---------------------------------------------------------------------------------------
// Direct computation from the documents
// ---------------------------------------------------------------------------------------

/// The value at a dotted path (`None` when missing or null).
fn get<'a>(d: &'a Document, path: &str) -> Option<&'a Bson> {
    let mut cur: Option<&Bson> = None;
    let mut doc = d;
    for (i, part) in path.split('.').enumerate() {
        if i > 0 {
            match cur {
                Some(Bson::Document(inner)) => doc = inner,
                _ => return None,
            }
        }
        cur = doc.get(part);
        cur?;
    }
    cur.filter(|v| !matches!(v, Bson::Null))
}

fn num(v: Option<&Bson>) -> Option<f64> {
    match v? {
        Bson::Int32(i) => Some(f64::from(*i)),
        Bson::Int64(i) => Some(*i as f64),
        Bson::Double(f) => Some(*f),
        _ => None,
    }
}

fn s(v: Option<&Bson>) -> Option<&str> {
    match v? {
        Bson::String(s) => Some(s.as_str()),
        _ => None,
    }
}

/// A value as the proxy prints it in text format.
fn text(v: Option<&Bson>) -> Option<String> {
    Some(match v? {
        Bson::Int32(i) => i.to_string(),
        Bson::Int64(i) => i.to_string(),
        Bson::Double(f) => f.to_string(),
        Bson::String(s) => s.clone(),
        Bson::Boolean(b) => if *b { "t" } else { "f" }.to_string(),
        Bson::ObjectId(o) => o.to_hex(),
        Bson::DateTime(d) => {
            let t = chrono::DateTime::from_timestamp_millis(d.timestamp_millis()).expect("date");
            t.format("%Y-%m-%d %H:%M:%S+00").to_string()
        }
        Bson::Null => return None,
        other => other.clone().into_relaxed_extjson().to_string(),
    })
}

fn fnum(x: f64) -> String {
    x.to_string()
}

/// Compares result rows: numbers numerically (1e-9 relative), everything else exactly.
fn same_value(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => {
            if x == y {
                return true;
            }
            match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(p), Ok(q)) => (p - q).abs() <= 1e-9 * p.abs().max(q.abs()).max(1.0),
                _ => false,
            }
        }
        (None, None) => true,
        _ => false,
    }
}

fn sorted(mut rows: Rows) -> Rows {
    rows.sort();
    rows
}

#[track_caller]
fn assert_rows(what: &str, got: &Rows, want: &Rows, ordered: bool) {
    let (g, w) = if ordered {
        (got.clone(), want.clone())
    } else {
        (sorted(got.clone()), sorted(want.clone()))
    };
    let ok = g.len() == w.len()
        && g.iter()
            .zip(&w)
            .all(|(a, b)| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y)));
    assert!(ok, "{what}\n  got:  {g:?}\n  want: {w:?}");
}

/// Rows of `paths` for the documents that satisfy `pred`, in the order given.
fn project(docs: &[&Document], paths: &[&str]) -> Rows {
    docs.iter()
        .map(|d| paths.iter().map(|p| text(get(d, p))).collect())
        .collect()
}

fn filtered(docs: &[Document], pred: impl Fn(&Document) -> bool) -> Vec<&Document> {
    docs.iter().filter(|d| pred(d)).collect()
}

// ---------------------------------------------------------------------------------------
// One ASK over PostgreSQL + MongoDB
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_ask_over_postgres_and_mongodb_is_one_combined_answer() {
    let pg = postgres().await;
    let (pg_db, pg_url) = pg.fresh_database("mongo_mix").await;
    pg.exec_in(
        &pg_db,
        "CREATE TABLE orders (id int PRIMARY KEY, kind text NOT NULL, amount numeric(10,2));
         INSERT INTO orders VALUES (1,'click',10.50),(2,'buy',20.25),(3,'click',5.00),(4,'view',1.25);",
    )
    .await;
    let f = fixture(false, &url_connection_toml("pg", "postgres", &pg_url)).await;
    let c = f.connect().await;
    f.llm.push_text(
        "DATABASE: pg\nSELECT kind, count(*) AS n, sum(amount) AS total FROM orders GROUP BY kind;\n\n\
         DATABASE: mongo\nSELECT kind, COUNT(*) AS n, SUM(amount) AS total FROM events WHERE kind IS NOT NULL GROUP BY kind;",
    );
    let r = simple(
        &c,
        "ASK 'how many events or orders of each kind, and their total amount?' ON pg, mongo",
    )
    .await
    .expect("ask");
    assert_eq!(r.columns, vec!["source_db", "kind", "n", "total"]);

    // PostgreSQL, directly.
    let pgc = pg.client_for(&pg_db).await;
    let mut want: Rows = pgc
        .query(
            "SELECT kind, count(*)::text, sum(amount)::text FROM orders GROUP BY kind",
            &[],
        )
        .await
        .expect("direct pg")
        .iter()
        .map(|row| {
            vec![
                Some("pg".to_string()),
                Some(row.get::<_, String>(0)),
                Some(row.get::<_, String>(1)),
                Some(row.get::<_, String>(2)),
            ]
        })
        .collect();
    // MongoDB, directly: computed from the documents, and cross-checked with the driver's
    // own aggregation.
    let docs = f.docs().await;
    let mut groups: BTreeMap<String, (i64, f64, bool)> = BTreeMap::new();
    for d in &docs {
        if let Some(k) = s(get(d, "kind")) {
            let e = groups.entry(k.to_string()).or_insert((0, 0.0, false));
            e.0 += 1;
            if let Some(a) = num(get(d, "amount")) {
                e.1 += a;
                e.2 = true;
            }
        }
    }
    let native: Vec<Document> = f
        .coll
        .aggregate(vec![
            doc! {"$match": {"kind": {"$nin": [Bson::Null]}}},
            doc! {"$group": {"_id": "$kind", "n": {"$sum": 1}}},
        ])
        .await
        .expect("driver aggregate")
        .try_collect()
        .await
        .expect("driver aggregate rows");
    for d in &native {
        let k = d.get_str("_id").expect("group key");
        assert_eq!(
            num(d.get("n")).map(|n| n as i64),
            groups.get(k).map(|g| g.0),
            "driver count for {k}"
        );
    }
    assert_eq!(native.len(), groups.len());
    for (k, (n, total, any)) in &groups {
        want.push(vec![
            Some("mongo".into()),
            Some(k.clone()),
            Some(n.to_string()),
            any.then(|| fnum(*total)),
        ]);
    }
    assert_rows("combined answer", &r.rows, &want, false);
    assert_eq!(
        r.rows
            .iter()
            .filter(|r| r[0].as_deref() == Some("mongo"))
            .count(),
        groups.len()
    );

    // The prompt showed the collection as a table with paths, presence and arrays.
    let prompt = f.llm.last_prompt_text();
    for needle in [
        "--- Database: mongo (mongodb) ---",
        "--- Database: pg (postgresql) ---",
        "Table: mongo.events",
        "  - user.address.city (string, 78% present)",
        "  - tags (array<string>, 67% present)",
        "  - _id (objectId, 100% present) PRIMARY KEY",
        "  - ts (date, ",
        "JSON aggregation pipeline",
        "COUNT(DISTINCT x)",
    ] {
        assert!(
            prompt.contains(needle),
            "prompt lacks {needle:?}:\n{prompt}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The SQL subset, construct by construct
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_list_aliases_star_and_nested_paths() {
    let f = fixture(false, "").await;
    let c = f.connect().await;
    let docs = f.docs().await;
    let all: Vec<&Document> = docs.iter().collect();

    let (cols, rows) = f
        .ask_ok(
            &c,
            "SELECT kind AS k, user.address.city AS city, \"user.name\", amount FROM events",
        )
        .await;
    assert_eq!(cols, vec!["k", "city", "user.name", "amount"]);
    assert_rows(
        "aliases and nested paths",
        &rows,
        &project(&all, &["kind", "user.address.city", "user.name", "amount"]),
        false,
    );

    // The same through a table qualifier and a quoted path.
    let (_, rows2) = f
        .ask_ok(&c, "SELECT e.kind, e.\"user.address.city\" FROM events e")
        .await;
    assert_rows(
        "qualified paths",
        &rows2,
        &project(&all, &["kind", "user.address.city"]),
        false,
    );

    // `*`: the sampled field paths in document order, without _id.
    let (cols, rows) = f.ask_ok(&c, "SELECT * FROM events").await;
    let star = vec![
        "kind",
        "user.name",
        "user.address.city",
        "user.address.zip",
        "amount",
        "qty",
        "tags",
        "ts",
        "ok",
    ];
    assert_eq!(cols, star);
    assert_rows("select *", &rows, &project(&all, &star), false);

    // `_id` only when asked.
    let (cols, rows) = f.ask_ok(&c, "SELECT _id, kind FROM events").await;
    assert_eq!(cols, vec!["_id", "kind"]);
    assert_rows(
        "_id as text",
        &rows,
        &project(&all, &["_id", "kind"]),
        false,
    );

    // Plain SQL with MongoDB as the session's target goes through the same translator.
    simple(&c, "SET dbguru.target = 'mongo'")
        .await
        .expect("target");
    let r = simple(&c, "SELECT COUNT(*) AS n FROM events WHERE kind = 'click'")
        .await
        .expect("passthrough");
    let clicks = docs_with(&all, |d| s(get(d, "kind")) == Some("click"));
    assert_eq!(r.scalar(), Some(clicks.to_string()));
}

fn docs_with(docs: &[&Document], pred: impl Fn(&Document) -> bool) -> usize {
    docs.iter().filter(|d| pred(d)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_comparisons() {
    let f = fixture(false, "").await;
    let c = f.connect().await;
    let docs = f.docs().await;
    let amount = |d: &Document| num(get(d, "amount"));
    type Pred = Box<dyn Fn(&Document) -> bool>;
    let cases: Vec<(&str, Pred)> = vec![
        (
            "amount > 5",
            Box::new(move |d| amount(d).is_some_and(|a| a > 5.0)),
        ),
        (
            "amount >= 5",
            Box::new(move |d| amount(d).is_some_and(|a| a >= 5.0)),
        ),
        (
            "amount < 2.5",
            Box::new(move |d| amount(d).is_some_and(|a| a < 2.5)),
        ),
        (
            "amount <= 2.5",
            Box::new(move |d| amount(d).is_some_and(|a| a <= 2.5)),
        ),
        ("amount = 5", Box::new(move |d| amount(d) == Some(5.0))),
        ("5 = amount", Box::new(move |d| amount(d) == Some(5.0))),
        (
            "amount <> 5",
            Box::new(move |d| amount(d).is_some_and(|a| a != 5.0)),
        ),
        (
            "amount != 5",
            Box::new(move |d| amount(d).is_some_and(|a| a != 5.0)),
        ),
        (
            "kind = 'click'",
            Box::new(|d| s(get(d, "kind")) == Some("click")),
        ),
        (
            "kind <> 'click'",
            Box::new(|d| s(get(d, "kind")).is_some_and(|k| k != "click")),
        ),
        (
            "user.address.city = 'Berlin'",
            Box::new(|d| s(get(d, "user.address.city")) == Some("Berlin")),
        ),
        (
            "ts >= '2024-02-01' AND ts < '2024-03-01'",
            Box::new(|d| {
                let lo = DateTime::parse_rfc3339_str("2024-02-01T00:00:00Z").expect("date");
                let hi = DateTime::parse_rfc3339_str("2024-03-01T00:00:00Z").expect("date");
                matches!(get(d, "ts"), Some(Bson::DateTime(t)) if *t >= lo && *t < hi)
            }),
        ),
        (
            "ok = true",
            Box::new(|d| matches!(get(d, "ok"), Some(Bson::Boolean(true)))),
        ),
        (
            "ok",
            Box::new(|d| matches!(get(d, "ok"), Some(Bson::Boolean(true)))),
        ),
        (
            "amount > qty",
            Box::new(
                move |d| matches!((amount(d), num(get(d, "qty"))), (Some(a), Some(q)) if a > q),
            ),
        ),
    ];
    for (cond, pred) in cases {
        let (_, rows) = f
            .ask_ok(
                &c,
                &format!("SELECT user.name AS who, amount FROM events WHERE {cond}"),
            )
            .await;
        let want = project(&filtered(&docs, pred), &["user.name", "amount"]);
        assert_rows(cond, &rows, &want, false);
    }
    // Cross-check one comparison with the driver's own query.
    let native: Vec<Document> = f
        .coll
        .find(doc! {"amount": {"$gt": 5}})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("rows");
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT user.name AS who, amount FROM events WHERE amount > 5",
        )
        .await;
    assert_rows(
        "driver $gt",
        &rows,
        &project(&native.iter().collect::<Vec<_>>(), &["user.name", "amount"]),
        false,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_and_or_not() {
    let f = fixture(false, "").await;
    let c = f.connect().await;
    let docs = f.docs().await;
    let kind = |d: &Document| s(get(d, "kind")).map(str::to_string);
    let amount = |d: &Document| num(get(d, "amount"));
    type Pred = Box<dyn Fn(&Document) -> bool>;
    let cases: Vec<(&str, Pred)> = vec![
        (
            "kind = 'click' AND amount > 5",
            Box::new(move |d| {
                kind(d).as_deref() == Some("click") && amount(d).is_some_and(|a| a > 5.0)
            }),
        ),
        (
            "kind = 'buy' OR amount < 2",
            Box::new(move |d| {
                kind(d).as_deref() == Some("buy") || amount(d).is_some_and(|a| a < 2.0)
            }),
        ),
        // NOT follows SQL: a NULL or missing kind is neither 'click' nor not 'click'.
        (
            "NOT kind = 'click'",
            Box::new(move |d| kind(d).is_some_and(|k| k != "click")),
        ),
        (
            "NOT (kind = 'click' OR amount > 10)",
            Box::new(move |d| {
                kind(d).is_some_and(|k| k != "click") && amount(d).is_some_and(|a| a <= 10.0)
            }),
        ),
        (
            "(kind = 'view' OR kind = 'buy') AND NOT amount < 3",
            Box::new(move |d| {
                matches!(kind(d).as_deref(), Some("view" | "buy"))
                    && amount(d).is_some_and(|a| a >= 3.0)
            }),
        ),
        (
            "NOT ok",
            Box::new(|d| matches!(get(d, "ok"), Some(Bson::Boolean(false)))),
        ),
    ];
    for (cond, pred) in cases {
        let (_, rows) = f
            .ask_ok(
                &c,
                &format!("SELECT user.name AS who, kind FROM events WHERE {cond}"),
            )
            .await;
        assert_rows(
            cond,
            &rows,
            &project(&filtered(&docs, pred), &["user.name", "kind"]),
            false,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_in_and_not_in() {
    let f = fixture(false, "").await;
    let c = f.connect().await;
    let docs = f.docs().await;
    let kind = |d: &Document| s(get(d, "kind")).map(str::to_string);
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT user.name AS who FROM events WHERE kind IN ('view', 'buy')",
        )
        .await;
    let want = project(
        &filtered(&docs, |d| {
            matches!(kind(d).as_deref(), Some("view" | "buy"))
        }),
        &["user.name"],
    );
    assert_rows("IN", &rows, &want, false);
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT user.name AS who FROM events WHERE kind NOT IN ('view', 'buy')",
        )
        .await;
    let want = project(
        &filtered(&docs, |d| {
            kind(d).is_some_and(|k| k != "view" && k != "buy")
        }),
        &["user.name"],
    );
    assert_rows("NOT IN", &rows, &want, false);
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT user.name AS who FROM events WHERE qty IN (1, 5)",
        )
        .await;
    let want = project(
        &filtered(
            &docs,
            |d| matches!(num(get(d, "qty")), Some(q) if q == 1.0 || q == 5.0),
        ),
        &["user.name"],
    );
    assert_rows("IN numbers", &rows, &want, false);
    // Cross-check with the driver.
    let native: Vec<Document> = f
        .coll
        .find(doc! {"kind": {"$in": ["view", "buy"]}})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("rows");
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT user.name AS who FROM events WHERE kind IN ('view', 'buy')",
        )
        .await;
    assert_rows(
        "driver $in",
        &rows,
        &project(&native.iter().collect::<Vec<_>>(), &["user.name"]),
        false,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_between() {
    let f = fixture(false, "").await;
    let c = f.connect().await;
    let docs = f.docs().await;
    let amount = |d: &Document| num(get(d, "amount"));
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT user.name AS who, amount FROM events WHERE amount BETWEEN 1 AND 7",
        )
        .await;
    let want = project(
        &filtered(&docs, |d| {
            amount(d).is_some_and(|a| (1.0..=7.0).contains(&a))
        }),
        &["user.name", "amount"],
    );
    assert_rows("BETWEEN", &rows, &want, false);
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT user.name AS who, amount FROM events WHERE amount NOT BETWEEN 1 AND 7",
        )
        .await;
    let want = project(
        &filtered(&docs, |d| {
            amount(d).is_some_and(|a| !(1.0..=7.0).contains(&a))
        }),
        &["user.name", "amount"],
    );
    assert_rows("NOT BETWEEN", &rows, &want, false);
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT user.name AS who FROM events WHERE ts BETWEEN '2024-01-01' AND '2024-01-31'",
        )
        .await;
    let lo = DateTime::parse_rfc3339_str("2024-01-01T00:00:00Z").expect("date");
    let hi = DateTime::parse_rfc3339_str("2024-01-31T00:00:00Z").expect("date");
    let want = project(
        &filtered(
            &docs,
            |d| matches!(get(d, "ts"), Some(Bson::DateTime(t)) if *t >= lo && *t <= hi),
        ),
        &["user.name"],
    );
    assert_rows("BETWEEN dates", &rows, &want, false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_like_and_ilike() {
    let f = fixture(false, "").await;
    let c = f.connect().await;
    let docs = f.docs().await;
    let kind = |d: &Document| s(get(d, "kind")).map(str::to_string);
    let name = |d: &Document| s(get(d, "user.name")).map(str::to_string);
    let (_, rows) = f
        .ask_ok(&c, "SELECT kind FROM events WHERE kind LIKE 'click%'")
        .await;
    assert_rows(
        "LIKE prefix",
        &rows,
        &project(
            &filtered(&docs, |d| kind(d).is_some_and(|k| k.starts_with("click"))),
            &["kind"],
        ),
        false,
    );
    let (_, rows) = f
        .ask_ok(&c, "SELECT kind FROM events WHERE kind LIKE '_iew'")
        .await;
    assert_rows(
        "LIKE _",
        &rows,
        &project(
            &filtered(&docs, |d| kind(d).as_deref() == Some("view")),
            &["kind"],
        ),
        false,
    );
    let (_, rows) = f
        .ask_ok(&c, "SELECT kind FROM events WHERE kind NOT LIKE 'c%'")
        .await;
    assert_rows(
        "NOT LIKE",
        &rows,
        &project(
            &filtered(&docs, |d| kind(d).is_some_and(|k| !k.starts_with('c'))),
            &["kind"],
        ),
        false,
    );
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT user.name AS who FROM events WHERE user.name LIKE 'h%'",
        )
        .await;
    assert!(rows.is_empty(), "LIKE is case-sensitive: {rows:?}");
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT user.name AS who FROM events WHERE user.name ILIKE 'h%'",
        )
        .await;
    assert_rows(
        "ILIKE",
        &rows,
        &project(
            &filtered(&docs, |d| {
                name(d).is_some_and(|n| n.to_lowercase().starts_with('h'))
            }),
            &["user.name"],
        ),
        false,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_is_null_and_missing_fields() {
    let f = fixture(false, "").await;
    let c = f.connect().await;
    let docs = f.docs().await;
    for (cond, path, is_null) in [
        ("qty IS NULL", "qty", true),
        ("qty IS NOT NULL", "qty", false),
        ("amount IS NULL", "amount", true),
        ("user.address.city IS NULL", "user.address.city", true),
        ("user.address.city IS NOT NULL", "user.address.city", false),
        ("kind IS NULL", "kind", true),
    ] {
        let (_, rows) = f
            .ask_ok(
                &c,
                &format!("SELECT kind, user.name AS who, {path} AS v FROM events WHERE {cond}"),
            )
            .await;
        let want = project(
            &filtered(&docs, |d| get(d, path).is_none() == is_null),
            &["kind", "user.name", path],
        );
        assert_rows(cond, &rows, &want, false);
    }
    // Missing nested fields come out as NULL, present ones as their values.
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT user.name AS who, user.address.zip AS zip, qty FROM events",
        )
        .await;
    let nulls = rows.iter().filter(|r| r[1].is_none()).count();
    assert_eq!(
        nulls,
        docs.len() - 1,
        "only one document has a zip: {rows:?}"
    );
    assert!(
        rows.iter().any(|r| r[0].is_none()),
        "the document without user has a NULL name"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_by_with_count_sum_avg_min_max() {
    let f = fixture(false, "").await;
    let c = f.connect().await;
    let docs = f.docs().await;
    let (cols, rows) = f
        .ask_ok(
            &c,
            "SELECT kind, COUNT(*) AS n, COUNT(qty) AS with_qty, SUM(amount) AS total, AVG(amount) AS mean, \
             MIN(amount) AS lo, MAX(amount) AS hi, MAX(user.name) AS last_name FROM events GROUP BY kind",
        )
        .await;
    assert_eq!(
        cols,
        vec![
            "kind",
            "n",
            "with_qty",
            "total",
            "mean",
            "lo",
            "hi",
            "last_name"
        ]
    );
    let mut groups: BTreeMap<Option<String>, Vec<&Document>> = BTreeMap::new();
    for d in &docs {
        groups
            .entry(s(get(d, "kind")).map(str::to_string))
            .or_default()
            .push(d);
    }
    let want: Rows = groups
        .iter()
        .map(|(k, ds)| {
            let amounts: Vec<f64> = ds.iter().filter_map(|d| num(get(d, "amount"))).collect();
            let sum: f64 = amounts.iter().sum();
            let names: Vec<&str> = ds.iter().filter_map(|d| s(get(d, "user.name"))).collect();
            vec![
                k.clone(),
                Some(ds.len().to_string()),
                Some(
                    ds.iter()
                        .filter(|d| get(d, "qty").is_some())
                        .count()
                        .to_string(),
                ),
                (!amounts.is_empty()).then(|| fnum(sum)),
                (!amounts.is_empty()).then(|| fnum(sum / amounts.len() as f64)),
                amounts.iter().copied().reduce(f64::min).map(fnum),
                amounts.iter().copied().reduce(f64::max).map(fnum),
                names.iter().max().map(|n| n.to_string()),
            ]
        })
        .collect();
    assert_rows("GROUP BY kind", &rows, &want, false);

    // Aggregates without GROUP BY, and over no documents at all (one row, count 0).
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT COUNT(*) AS n, COUNT(amount) AS a, SUM(qty) AS q FROM events",
        )
        .await;
    let q: f64 = docs.iter().filter_map(|d| num(get(d, "qty"))).sum();
    let want = vec![vec![
        Some(docs.len().to_string()),
        Some(
            docs.iter()
                .filter(|d| get(d, "amount").is_some())
                .count()
                .to_string(),
        ),
        Some(fnum(q)),
    ]];
    assert_rows("no GROUP BY", &rows, &want, true);
    let (_, rows) = f.ask_ok(&c, "SELECT COUNT(*) AS n, SUM(amount) AS s, MAX(kind) AS k FROM events WHERE kind = 'nothing'").await;
    assert_eq!(rows, vec![vec![Some("0".to_string()), None, None]]);
    // Multi-key GROUP BY on a nested path (missing city: its own group).
    let (_, rows) = f.ask_ok(&c, "SELECT kind, user.address.city AS city, COUNT(*) AS n FROM events GROUP BY kind, user.address.city").await;
    let mut pairs: BTreeMap<(Option<String>, Option<String>), usize> = BTreeMap::new();
    for d in &docs {
        *pairs
            .entry((text(get(d, "kind")), text(get(d, "user.address.city"))))
            .or_default() += 1;
    }
    let want: Rows = pairs
        .into_iter()
        .map(|((k, city), n)| vec![k, city, Some(n.to_string())])
        .collect();
    assert_rows("GROUP BY two keys", &rows, &want, false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn having_filters_groups() {
    let f = fixture(false, "").await;
    let c = f.connect().await;
    let docs = f.docs().await;
    let mut groups: BTreeMap<Option<String>, (usize, f64)> = BTreeMap::new();
    for d in &docs {
        let e = groups.entry(text(get(d, "kind"))).or_default();
        e.0 += 1;
        e.1 += num(get(d, "amount")).unwrap_or(0.0);
    }
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT kind, COUNT(*) AS n FROM events GROUP BY kind HAVING COUNT(*) >= 2",
        )
        .await;
    let want: Rows = groups
        .iter()
        .filter(|(_, v)| v.0 >= 2)
        .map(|(k, v)| vec![k.clone(), Some(v.0.to_string())])
        .collect();
    assert_rows("HAVING COUNT(*)", &rows, &want, false);
    // An aggregate that is not selected, and an alias.
    let (_, rows) = f.ask_ok(&c, "SELECT kind, COUNT(*) AS n FROM events GROUP BY kind HAVING SUM(amount) > 10 AND n < 3").await;
    let want: Rows = groups
        .iter()
        .filter(|(_, v)| v.1 > 10.0 && v.0 < 3)
        .map(|(k, v)| vec![k.clone(), Some(v.0.to_string())])
        .collect();
    assert_rows("HAVING SUM and alias", &rows, &want, false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_by_limit_offset() {
    let f = fixture(false, "").await;
    let c = f.connect().await;
    let docs = f.docs().await;
    let mut with_amount: Vec<&Document> = docs
        .iter()
        .filter(|d| num(get(d, "amount")).is_some())
        .collect();
    with_amount.sort_by(|a, b| {
        let (x, y) = (
            num(get(a, "amount")).unwrap_or(0.0),
            num(get(b, "amount")).unwrap_or(0.0),
        );
        y.total_cmp(&x)
            .then_with(|| s(get(a, "user.name")).cmp(&s(get(b, "user.name"))))
    });
    let (_, rows) = f
        .ask_ok(&c, "SELECT user.name AS who, amount FROM events WHERE amount IS NOT NULL ORDER BY amount DESC, who LIMIT 3 OFFSET 1")
        .await;
    let want = project(&with_amount[1..4], &["user.name", "amount"]);
    assert_rows("ORDER BY DESC LIMIT OFFSET", &rows, &want, true);
    // ORDER BY a position, ascending; LIMIT alone.
    let (_, rows) = f.ask_ok(&c, "SELECT amount, user.name AS who FROM events WHERE amount IS NOT NULL ORDER BY 1, 2 LIMIT 2").await;
    let mut asc = with_amount.clone();
    asc.reverse();
    asc.sort_by(|a, b| {
        let (x, y) = (
            num(get(a, "amount")).unwrap_or(0.0),
            num(get(b, "amount")).unwrap_or(0.0),
        );
        x.total_cmp(&y)
            .then_with(|| s(get(a, "user.name")).cmp(&s(get(b, "user.name"))))
    });
    assert_rows(
        "ORDER BY 1, 2 LIMIT 2",
        &rows,
        &project(&asc[..2], &["amount", "user.name"]),
        true,
    );
    // ORDER BY an aggregate over groups.
    let (_, rows) = f.ask_ok(&c, "SELECT kind, COUNT(*) AS n FROM events WHERE kind IS NOT NULL GROUP BY kind ORDER BY n DESC, kind LIMIT 2").await;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for d in &docs {
        if let Some(k) = s(get(d, "kind")) {
            *counts.entry(k.to_string()).or_default() += 1;
        }
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let want: Rows = v
        .iter()
        .take(2)
        .map(|(k, n)| vec![Some(k.clone()), Some(n.to_string())])
        .collect();
    assert_rows("ORDER BY COUNT DESC", &rows, &want, true);
    // Cross-check the first query with the driver's sort/skip/limit.
    let native: Vec<Document> = f
        .coll
        .find(doc! {"amount": {"$nin": [Bson::Null]}})
        .sort(doc! {"amount": -1, "user.name": 1})
        .skip(1)
        .limit(3)
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("rows");
    assert_rows(
        "driver sort/skip/limit",
        &project(&native.iter().collect::<Vec<_>>(), &["user.name", "amount"]),
        &want_first(&with_amount),
        true,
    );
}

fn want_first(sorted_desc: &[&Document]) -> Rows {
    project(&sorted_desc[1..4], &["user.name", "amount"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_distinct_and_select_distinct() {
    let f = fixture(false, "").await;
    let c = f.connect().await;
    let docs = f.docs().await;
    let distinct = |path: &str, only: &dyn Fn(&Document) -> bool| {
        let mut v: Vec<String> = docs
            .iter()
            .filter(|d| only(d))
            .filter_map(|d| text(get(d, path)))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let (_, rows) = f.ask_ok(&c, "SELECT COUNT(DISTINCT kind) AS kinds, COUNT(DISTINCT user.address.city) AS cities FROM events").await;
    let want = vec![vec![
        Some(distinct("kind", &|_| true).len().to_string()),
        Some(distinct("user.address.city", &|_| true).len().to_string()),
    ]];
    assert_rows("COUNT(DISTINCT)", &rows, &want, true);
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT kind, COUNT(DISTINCT user.address.city) AS cities FROM events GROUP BY kind",
        )
        .await;
    let mut kinds: Vec<Option<String>> = docs.iter().map(|d| text(get(d, "kind"))).collect();
    kinds.sort();
    kinds.dedup();
    let want: Rows = kinds
        .iter()
        .map(|k| {
            let n = distinct("user.address.city", &|d| text(get(d, "kind")) == *k).len();
            vec![k.clone(), Some(n.to_string())]
        })
        .collect();
    assert_rows("COUNT(DISTINCT) per group", &rows, &want, false);
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT DISTINCT user.address.city AS city FROM events ORDER BY city",
        )
        .await;
    let mut cities: Vec<Option<String>> = docs
        .iter()
        .map(|d| text(get(d, "user.address.city")))
        .collect();
    cities.sort(); // NULL first, as MongoDB sorts it
    cities.dedup();
    assert_rows(
        "SELECT DISTINCT",
        &rows,
        &cities.into_iter().map(|c| vec![c]).collect(),
        true,
    );
}

// ---------------------------------------------------------------------------------------
// Types, JSON pipelines
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_types_nested_documents_and_arrays_as_json() {
    let f = fixture(false, "").await;
    let c = f.connect().await;
    let docs = f.docs().await;
    let sql = "SELECT _id, kind, user, tags, ts, ok, qty, amount FROM events";
    f.llm
        .set_responder(move |_| Reply::text(format!("DATABASE: mongo\n{sql}")));
    // Extended protocol: Describe reports the real column types.
    let rows = c
        .query(
            "ASK 'show every event with its nested fields' ON mongo",
            &[],
        )
        .await
        .expect("extended-protocol ASK");
    let types: Vec<Type> = rows[0]
        .columns()
        .iter()
        .map(|col| col.type_().clone())
        .collect();
    assert_eq!(
        types,
        vec![
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::JSON,
            Type::JSON,
            Type::TIMESTAMPTZ,
            Type::BOOL,
            Type::INT4,
            Type::FLOAT8
        ]
    );
    assert_eq!(rows.len(), docs.len());
    for row in &rows {
        let id: String = row.get(1);
        let d = docs
            .iter()
            .find(|d| d.get_object_id("_id").map(|o| o.to_hex()) == Ok(id.clone()))
            .expect("a document with this _id");
        let user: Option<serde_json::Value> = row.get(3);
        assert_eq!(
            user,
            get(d, "user").map(|u| u.clone().into_relaxed_extjson()),
            "user of {id}"
        );
        let tags: Option<serde_json::Value> = row.get(4);
        assert_eq!(
            tags,
            get(d, "tags").map(|t| t.clone().into_relaxed_extjson()),
            "tags of {id}"
        );
        let ok: Option<bool> = row.get(6);
        assert_eq!(ok, get(d, "ok").and_then(Bson::as_bool));
        let qty: Option<i32> = row.get(7);
        assert_eq!(qty, get(d, "qty").and_then(Bson::as_i32));
        let amount: Option<f64> = row.get(8);
        assert_eq!(amount, num(get(d, "amount")));
    }
    let (_, rows) = f
        .ask_ok(
            &c,
            "SELECT ts FROM events WHERE kind = 'view' AND ts IS NOT NULL",
        )
        .await;
    assert_eq!(rows, vec![vec![Some("2024-02-02 00:00:00+00".to_string())]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_pipeline_answers_what_sql_cannot() {
    let f = fixture(false, "").await;
    let c = f.connect().await;
    let docs = f.docs().await;
    let (cols, rows) = f
        .ask_ok(
            &c,
            r#"{"collection": "events", "pipeline": [{"$unwind": "$tags"}, {"$group": {"_id": "$tags", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]}"#,
        )
        .await;
    assert_eq!(cols, vec!["_id", "n"]);
    let mut tags: BTreeMap<String, usize> = BTreeMap::new();
    for d in &docs {
        if let Ok(items) = d.get_array("tags") {
            for t in items {
                if let Some(t) = t.as_str() {
                    *tags.entry(t.to_string()).or_default() += 1;
                }
            }
        }
    }
    let want: Rows = tags
        .into_iter()
        .map(|(t, n)| vec![Some(t), Some(n.to_string())])
        .collect();
    assert_rows("unwind + group", &rows, &want, true);
    // Extended JSON values; the documents' own _id is left out unless asked for. (A
    // date in an aggregate `$match` is not tested here: nx-27017 compares dates wrongly
    // in aggregation pipelines, while `find` gets them right.)
    let (cols, rows) = f
        .ask_ok(
            &c,
            r#"{"collection": "events", "pipeline": [{"$match": {"amount": {"$gte": {"$numberDouble": "5.0"}}}}, {"$project": {"kind": 1, "amount": 1, "city": "$user.address.city"}}]}"#,
        )
        .await;
    assert_eq!(cols, vec!["kind", "amount", "city"]);
    let want = project(
        &filtered(&docs, |d| num(get(d, "amount")).is_some_and(|a| a >= 5.0)),
        &["kind", "amount", "user.address.city"],
    );
    assert_rows("$match + $project", &rows, &want, false);
}

// ---------------------------------------------------------------------------------------
// Safety
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_and_forbidden_pipelines_are_refused_and_the_collection_is_unchanged() {
    let f = fixture(true, "").await;
    let c = f.connect().await;
    let before = f.docs().await;
    let names_before = f
        .coll
        .client()
        .database(DB)
        .list_collection_names()
        .await
        .expect("collections");
    let cases = [
        (
            r#"{"collection": "events", "pipeline": [{"$match": {}}, {"$out": "stolen"}]}"#,
            "42501",
        ),
        (
            r#"{"collection": "events", "pipeline": [{"$merge": {"into": "events"}}]}"#,
            "42501",
        ),
        (
            r#"{"collection": "events", "pipeline": [{"$lookup": {"from": "events", "pipeline": [{"$merge": {"into": "x"}}], "as": "y"}}]}"#,
            "42501",
        ),
        (
            r#"{"collection": "events", "pipeline": [{"$match": {"$where": "this.amount > 1"}}]}"#,
            "42501",
        ),
        (
            r#"{"collection": "events", "pipeline": [{"$addFields": {"x": {"$function": {"body": "function() { return 1 }", "args": [], "lang": "js"}}}}]}"#,
            "42501",
        ),
        ("UPDATE events SET amount = 0", "25006"),
        ("DELETE FROM events", "25006"),
        ("INSERT INTO events (kind) VALUES ('evil')", "25006"),
        ("DROP TABLE events", "25006"),
    ];
    for (statement, code) in cases {
        let err = f.ask(&c, statement).await.expect_err(statement);
        assert_eq!(
            sqlstate(&err).as_deref(),
            Some(code),
            "{statement}: {}",
            error_message(&err)
        );
        assert!(
            error_message(&err).contains("refused"),
            "{statement}: {}",
            error_message(&err)
        );
    }
    assert_eq!(f.docs().await, before, "the collection changed");
    let names_after = f
        .coll
        .client()
        .database(DB)
        .list_collection_names()
        .await
        .expect("collections");
    assert_eq!(names_after, names_before, "a collection was created");
    // Nothing but read commands reached the server.
    let relay = f.relay.as_ref().expect("relay");
    for name in relay.command_names() {
        assert!(
            !["update", "delete", "insert", "drop", "findAndModify"].contains(&name.as_str()),
            "{name} was sent"
        );
        assert!(
            !relay
                .commands()
                .iter()
                .any(|cmd| format!("{:?}", cmd.body).contains("$out")),
            "$out was sent"
        );
    }
    // The session goes on.
    let (_, rows) = f.ask_ok(&c, "SELECT COUNT(*) AS n FROM events").await;
    assert_eq!(rows, vec![vec![Some(before.len().to_string())]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_sql_is_refused_with_0a000_and_repaired() {
    let f = fixture(false, "").await;
    let c = f.connect().await;
    for (statement, needle) in [
        (
            "SELECT e.kind FROM events e JOIN users u ON e.uid = u._id",
            "JOIN",
        ),
        (
            "SELECT kind FROM events WHERE amount > (SELECT AVG(amount) FROM events)",
            "subquery",
        ),
        (
            "SELECT kind, ROW_NUMBER() OVER (ORDER BY amount) AS r FROM events",
            "window function",
        ),
        ("SELECT upper(kind) AS k FROM events", "upper()"),
    ] {
        // First reply: unsupported; the repair round gets the refusal and answers properly.
        f.llm.clear_requests();
        f.llm.push_text(format!("DATABASE: mongo\n{statement}"));
        f.llm
            .push_text("DATABASE: mongo\nSELECT COUNT(*) AS n FROM events");
        let n = f.asked.fetch_add(1, Ordering::SeqCst);
        let r = simple(&c, &format!("ASK 'repair me {n}' ON mongo"))
            .await
            .unwrap_or_else(|e| panic!("{statement}: {}", error_message(&e)));
        assert_eq!(
            r.rows,
            vec![vec![Some("mongo".into()), Some("9".into())]],
            "{statement}"
        );
        let requests = f.llm.requests();
        assert_eq!(requests.len(), 2, "{statement}: one repair round");
        let repair = prompt_text(&requests[1]);
        assert!(
            repair.contains(needle) && repair.contains("not supported"),
            "{statement}: repair prompt lacks the refusal:\n{repair}"
        );
    }
    // Without a usable repair, the refusal reaches the client with 0A000.
    f.llm
        .push_text("DATABASE: mongo\nSELECT e.kind FROM events e JOIN users u ON e.uid = u._id");
    f.llm
        .push_text("DATABASE: mongo\nSELECT e.kind FROM events e JOIN users u ON e.uid = u._id");
    let err = simple(&c, "ASK 'join please' ON mongo")
        .await
        .expect_err("join refused");
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("0A000"),
        "{}",
        error_message(&err)
    );
    assert!(
        error_message(&err).contains("JOIN"),
        "{}",
        error_message(&err)
    );
    // An unknown collection names the ones that exist.
    f.llm.push_text("DATABASE: mongo\nSELECT * FROM evnts");
    f.llm.push_text("DATABASE: mongo\nSELECT * FROM evnts");
    let err = simple(&c, "ASK 'typo' ON mongo")
        .await
        .expect_err("unknown collection");
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("42P01"),
        "{}",
        error_message(&err)
    );
    assert!(
        error_message(&err).contains("events"),
        "{}",
        error_message(&err)
    );
}

// ---------------------------------------------------------------------------------------
// Limits, the wire, failures
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_read_commands_with_limits_and_max_time_reach_the_server() {
    let f = fixture(true, "").await;
    let (c, notices) = f.proxy.connect_with_notices().await;
    simple(&c, "SET dbguru.use_cache = off")
        .await
        .expect("cache off");
    simple(&c, "SET dbguru.max_rows = 2")
        .await
        .expect("max_rows");
    let relay = f.relay.as_ref().expect("relay");
    relay.clear();
    let (_, rows) = f.ask_ok(&c, "SELECT kind FROM events").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        notices
            .lines()
            .iter()
            .any(|l| l.contains("truncated") && l.contains("mongo")),
        "{:?}",
        notices.lines()
    );
    let (_, rows) = f
        .ask_ok(&c, "SELECT kind, COUNT(*) AS n FROM events GROUP BY kind")
        .await;
    assert_eq!(rows.len(), 2);
    let (_, rows) = f
        .ask_ok(
            &c,
            r#"{"collection": "events", "pipeline": [{"$project": {"kind": 1}}]}"#,
        )
        .await;
    assert_eq!(rows.len(), 2);
    let commands = relay.commands();
    let allowed = [
        "hello",
        "isMaster",
        "ismaster",
        "find",
        "aggregate",
        "listCollections",
        "count",
        "getMore",
        "killCursors",
        "endSessions",
        "ping",
        "buildInfo",
    ];
    for cmd in &commands {
        assert!(
            allowed.contains(&cmd.name.as_str()),
            "command {} reached the server: {:?}",
            cmd.name,
            cmd.body
        );
    }
    // The row cap (2 shown + 1 to detect truncation) and the timeout went to the server.
    let find = commands
        .iter()
        .find(|c| c.name == "find")
        .expect("a find command");
    assert_eq!(
        find.body.get("limit").and_then(|v| num(Some(v))),
        Some(3.0),
        "{:?}",
        find.body
    );
    assert!(find.body.get("maxTimeMS").is_some(), "{:?}", find.body);
    let aggregates: Vec<&RelayedCommand> = commands
        .iter()
        .filter(|c| c.name == "aggregate" && !format!("{:?}", c.body).contains("$sample"))
        .collect();
    assert_eq!(
        aggregates.len(),
        2,
        "{:?}",
        commands.iter().map(|c| &c.name).collect::<Vec<_>>()
    );
    for a in aggregates {
        let pipeline = a.body.get_array("pipeline").expect("pipeline");
        let last = pipeline.last().and_then(Bson::as_document).expect("stage");
        assert_eq!(
            last.get("$limit").and_then(|v| num(Some(v))),
            Some(3.0),
            "{:?}",
            a.body
        );
        assert!(a.body.get("maxTimeMS").is_some(), "{:?}", a.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_server_times_out_and_the_session_goes_on() {
    let f = fixture(true, "").await;
    let c = f.connect().await;
    f.ask_ok(&c, "SELECT COUNT(*) AS n FROM events").await; // samples the schema
    simple(&c, "SET dbguru.timeout = '1s'")
        .await
        .expect("timeout");
    let relay = f.relay.as_ref().expect("relay");
    relay.set_stalled(true);
    let started = std::time::Instant::now();
    let err = f
        .ask(&c, "SELECT kind FROM events")
        .await
        .expect_err("timeout");
    relay.set_stalled(false);
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("57014"),
        "{}",
        error_message(&err)
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    simple(&c, "SET dbguru.timeout = '10s'")
        .await
        .expect("timeout back");
    let (_, rows) = f.ask_ok(&c, "SELECT COUNT(*) AS n FROM events").await;
    assert_eq!(rows, vec![vec![Some("9".to_string())]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_server_mid_session_gives_a_partial_answer_with_a_warning() {
    let pg = postgres().await;
    let (pg_db, pg_url) = pg.fresh_database("mongo_stop").await;
    pg.exec_in(
        &pg_db,
        "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders VALUES (1),(2),(3);",
    )
    .await;
    let f = fixture(false, &url_connection_toml("pg", "postgres", &pg_url)).await;
    let (c, notices) = f.proxy.connect_with_notices().await;
    simple(&c, "SET dbguru.use_cache = off")
        .await
        .expect("cache off");
    // The scripted model answers for every database the prompt shows.
    f.llm.set_responder(|body| {
        let prompt = prompt_text(body);
        let mut reply = String::new();
        if prompt.contains("--- Database: pg") {
            reply.push_str("DATABASE: pg\nSELECT count(*) AS n FROM orders;\n");
        }
        if prompt.contains("--- Database: mongo") {
            reply.push_str("\nDATABASE: mongo\nSELECT COUNT(*) AS n FROM events;\n");
        }
        Reply::text(reply)
    });
    let r = simple(&c, "ASK 'how many things are there?' ON pg, mongo")
        .await
        .expect("both up");
    assert_eq!(
        sorted(r.rows),
        vec![
            vec![Some("mongo".into()), Some("9".into())],
            vec![Some("pg".into()), Some("3".into())]
        ]
    );

    f.server.stop();
    notices.clear();
    let r = simple(&c, "ASK 'and how many now?' ON pg, mongo")
        .await
        .expect("partial answer");
    assert_eq!(r.rows, vec![vec![Some("pg".into()), Some("3".into())]]);
    let warnings = notices.lines();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("WARNING") && w.contains("\"mongo\"")),
        "no WARNING naming the stopped MongoDB: {warnings:?}"
    );
    // Only MongoDB: an error naming it; the session still works afterwards.
    let err = simple(&c, "ASK 'only mongo?' ON mongo")
        .await
        .expect_err("all failed");
    assert!(
        error_message(&err).contains("mongo"),
        "{}",
        error_message(&err)
    );
    let r = simple(&c, "ASK 'just the orders' ON pg")
        .await
        .expect("session goes on");
    assert_eq!(r.rows, vec![vec![Some("pg".into()), Some("3".into())]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builtin_planner_answers_common_shapes_on_mongodb() {
    let server = start_mongo().await;
    let client = server.client().await;
    let coll = client.database(DB).collection::<Document>(COLL);
    coll.insert_many(seed_docs()).await.expect("seed events");
    let docs: Vec<Document> = coll
        .find(doc! {})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("docs");
    let proxy = start_proxy(&base_config(&url_connection_toml(
        "mongo",
        "mongodb",
        &server.url(DB),
    )))
    .await;
    let c = proxy.connect().await;
    let ask = |q: &'static str| {
        let c = &c;
        async move {
            let r = simple(c, &format!("ASK '{q}'"))
                .await
                .unwrap_or_else(|e| panic!("{q}: {}", error_message(&e)));
            r.rows
                .into_iter()
                .map(|row| row[1..].to_vec())
                .collect::<Rows>()
        }
    };
    let amounts: Vec<f64> = docs.iter().filter_map(|d| num(get(d, "amount"))).collect();

    assert_rows(
        "count",
        &ask("how many events are there?").await,
        &vec![vec![Some(docs.len().to_string())]],
        true,
    );
    assert_rows(
        "total",
        &ask("what is the total amount?").await,
        &vec![vec![Some(fnum(amounts.iter().sum()))]],
        true,
    );
    let mut per_kind: BTreeMap<Option<String>, Vec<f64>> = BTreeMap::new();
    for d in &docs {
        let e = per_kind.entry(text(get(d, "kind"))).or_default();
        if let Some(a) = num(get(d, "amount")) {
            e.push(a);
        }
    }
    let want: Rows = per_kind
        .iter()
        .map(|(k, v)| {
            vec![
                k.clone(),
                (!v.is_empty()).then(|| fnum(v.iter().sum::<f64>() / v.len() as f64)),
            ]
        })
        .collect();
    assert_rows(
        "average per kind",
        &ask("what is the average amount per kind?").await,
        &want,
        false,
    );
    let mut top: Vec<&Document> = docs
        .iter()
        .filter(|d| num(get(d, "amount")).is_some())
        .collect();
    top.sort_by(|a, b| {
        num(get(b, "amount"))
            .unwrap_or(0.0)
            .total_cmp(&num(get(a, "amount")).unwrap_or(0.0))
    });
    let got = ask("show the 3 events with the highest amount").await;
    let got_amounts: Vec<Option<String>> =
        got.iter().map(|r| r.last().cloned().flatten()).collect();
    let want_amounts: Vec<Option<String>> =
        top[..3].iter().map(|d| text(get(d, "amount"))).collect();
    assert_eq!(got_amounts, want_amounts);
    let mut per_city: BTreeMap<Option<String>, usize> = BTreeMap::new();
    for d in &docs {
        *per_city
            .entry(text(get(d, "user.address.city")))
            .or_default() += 1;
    }
    let want: Rows = per_city
        .into_iter()
        .map(|(c, n)| vec![c, Some(n.to_string())])
        .collect();
    assert_rows(
        "count per nested city",
        &ask("how many events per city?").await,
        &want,
        false,
    );
}
