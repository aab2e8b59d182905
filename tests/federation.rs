//! Federated SQL (issue 12): statements naming tables of several connections —
//! PostgreSQL, MariaDB, SQLite, DuckDB and MongoDB (nx-27017), all real servers — joined in
//! the proxy's embedded engine. Every result is compared with the same statement run by a
//! local DuckDB over copies of the same rows (schemas named like the connections);
//! pushdown is proven from PostgreSQL's and MariaDB's statement logs; limits, refusals and
//! cancel are checked on the same fixture.

mod common;

use std::time::Duration;

use common::*;
use mongodb::bson::doc;

/// The rows of the fixture, generated once and loaded into every store.
struct Data {
    customers: Vec<(i32, String, &'static str, String)>,
    orders: Vec<(i64, i64, String, String)>,
    contacts: Vec<(Option<String>, &'static str, String)>,
    products: Vec<(i64, String, &'static str)>,
    items: Vec<(i64, i64, i64)>,
    shipments: Vec<(i64, &'static str, i32)>,
    reviews: Vec<(i32, i32)>,
}

fn money(a: i64, b: i64) -> String {
    format!("{a}.{:02}", b % 100)
}

fn data() -> Data {
    let countries = ["DE", "FR", "US", "IT"];
    let credit = |k: i64| money(k * 3 % 17, k * 7);
    let customers = (1..=20)
        .map(|id: i32| {
            (
                id,
                format!("c{id}@x.org"),
                countries[id as usize % 4],
                credit(id as i64),
            )
        })
        .collect();
    let orders = (1..=60)
        .map(|id: i64| {
            (
                id,
                (id * 7) % 20 + 1,
                money((id * 37) % 500, id * 13),
                format!("2024-{:02}-{:02}", id % 12 + 1, id % 28 + 1),
            )
        })
        .collect();
    let segments = ["gold", "silver", "bronze"];
    let mut contacts: Vec<(Option<String>, &'static str, String)> = (1..=29)
        .step_by(2)
        .map(|k: i64| {
            (
                Some(format!("c{k}@x.org")),
                segments[k as usize % 3],
                credit(k),
            )
        })
        .collect();
    contacts.push((None, "gold", "1.00".into()));
    let categories = ["tools", "toys", "food"];
    let products = (1..=8)
        .map(|id: i64| (id, format!("p{id}"), categories[id as usize % 3]))
        .collect();
    let mut items = Vec::new();
    for o in 1..=60i64 {
        items.push((o, o % 8 + 1, o % 5 + 1));
        if o % 2 == 0 {
            items.push((o, (o * 3) % 8 + 1, 1));
        }
    }
    let carriers = ["DHL", "UPS", "FedEx"];
    let shipments = (1..=60i64)
        .filter(|o| o % 3 != 0)
        .map(|o| (o, carriers[(o / 3) as usize % 3], (o % 7) as i32))
        .collect();
    let reviews = (0..25)
        .map(|i: i32| ((i * 3) % 23 + 1, i % 5 + 1))
        .collect();
    Data {
        customers,
        orders,
        contacts,
        products,
        items,
        shipments,
        reviews,
    }
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map(q).unwrap_or_else(|| "NULL".into())
}

fn values<T>(rows: &[T], f: impl Fn(&T) -> String) -> String {
    rows.iter().map(f).collect::<Vec<_>>().join(", ")
}

impl Data {
    fn pg_script(&self, decimal: &str) -> String {
        format!(
            "CREATE TABLE customers (id integer PRIMARY KEY, email text, country text, credit {decimal});
             INSERT INTO customers VALUES {};
             CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, total {decimal}, placed date);
             INSERT INTO orders VALUES {};",
            values(&self.customers, |(i, e, c, k)| format!("({i}, {}, {}, {k})", q(e), q(c))),
            values(&self.orders, |(i, c, t, d)| format!("({i}, {c}, {t}, {})", q(d))),
        )
    }
    fn my_script(&self) -> String {
        format!(
            "CREATE TABLE contacts (email varchar(100), segment varchar(20), score decimal(6,2));
             INSERT INTO contacts VALUES {};",
            values(&self.contacts, |(e, s, k)| format!(
                "({}, {}, {k})",
                opt(e),
                q(s)
            )),
        )
    }
    fn lite_script(&self) -> String {
        format!(
            "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, category TEXT);
             INSERT INTO products VALUES {};
             CREATE TABLE order_items (order_id INTEGER, product_id INTEGER, qty INTEGER);
             INSERT INTO order_items VALUES {};",
            values(&self.products, |(i, n, c)| format!(
                "({i}, {}, {})",
                q(n),
                q(c)
            )),
            values(&self.items, |(o, p, n)| format!("({o}, {p}, {n})")),
        )
    }
    fn duck_script(&self) -> String {
        format!(
            "CREATE TABLE shipments (order_id BIGINT, carrier VARCHAR, days INTEGER);
             INSERT INTO shipments VALUES {};",
            values(&self.shipments, |(o, c, d)| format!("({o}, {}, {d})", q(c))),
        )
    }
    fn mongo_reference_script(&self) -> String {
        format!(
            "CREATE TABLE reviews (customer_id INTEGER, stars INTEGER);
             INSERT INTO reviews VALUES {};",
            values(&self.reviews, |(c, s)| format!("({c}, {s})")),
        )
    }

    /// A local DuckDB holding every table under a schema named like its connection.
    fn reference(&self) -> duckdb::Connection {
        let c = duckdb::Connection::open_in_memory().expect("reference duckdb");
        for (schema, script) in [
            ("pg", self.pg_script("DECIMAL(10,2)")),
            ("my", self.my_script()),
            ("lite", self.lite_script()),
            ("duck", self.duck_script()),
            ("mg", self.mongo_reference_script()),
        ] {
            c.execute_batch(&format!(
                "CREATE SCHEMA {schema}; SET schema = '{schema}'; {script}"
            ))
            .unwrap_or_else(|e| panic!("reference {schema}: {e}"));
        }
        c.execute_batch("SET schema = 'main'")
            .expect("reset schema");
        c
    }
}

/// Rows of `sql` run by the reference DuckDB, as text.
fn reference_rows(c: &duckdb::Connection, sql: &str) -> Vec<Vec<Option<String>>> {
    let wrapped = format!("SELECT COLUMNS(*)::VARCHAR FROM ({sql}) AS t");
    let mut stmt = c
        .prepare(&wrapped)
        .unwrap_or_else(|e| panic!("reference prepare: {e}\n{sql}"));
    let mut rows = stmt.query([]).expect("reference query");
    let mut out = Vec::new();
    while let Some(r) = rows.next().expect("reference row") {
        let n = r.as_ref().column_count();
        out.push(
            (0..n)
                .map(|i| r.get::<_, Option<String>>(i).expect("text value"))
                .collect(),
        );
    }
    out
}

/// A value in a form both sides agree on: booleans as true/false, numbers to 6 places.
fn norm(v: &Option<String>) -> String {
    match v.as_deref() {
        None => "NULL".into(),
        Some("t") | Some("true") => "true".into(),
        Some("f") | Some("false") => "false".into(),
        Some(s) => match s.parse::<f64>() {
            Ok(x) if s.chars().all(|c| c.is_ascii_digit() || "-.e+".contains(c)) => {
                format!("{x:.6}")
            }
            _ => s.to_string(),
        },
    }
}

fn normalized(rows: &[Vec<Option<String>>]) -> Vec<Vec<String>> {
    let mut v: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(norm).collect()).collect();
    v.sort();
    v
}

/// Everything the tests need: the proxy and where each store lives.
struct Fixture {
    proxy: Proxy,
    data: Data,
    pg_db: String,
    my_db: String,
    _dir: tempfile::TempDir,
    _mongo: MongoServer,
}

async fn fixture(federation: &str) -> Fixture {
    fixture_with(federation, "", "", "").await
}

/// The fixture plus extra PostgreSQL and MariaDB scripts and extra config sections.
async fn fixture_with(
    federation: &str,
    pg_extra: &str,
    my_extra: &str,
    extra_toml: &str,
) -> Fixture {
    let data = data();
    let pg = postgres().await;
    let (pg_db, pg_url) = pg.fresh_database("fed").await;
    pg.exec_in(
        &pg_db,
        &format!("{}{pg_extra}", data.pg_script("numeric(10,2)")),
    )
    .await;
    let my = mariadb().await;
    let (my_db, my_url) = my.fresh_database("fed").await;
    my.exec_in(&my_db, &format!("{}{my_extra}", data.my_script()))
        .await;
    let dir = temp_dir();
    let lite = sqlite_file(dir.path(), "lite.sqlite", &data.lite_script());
    let duck = duckdb_file(dir.path(), "duck.duckdb", &data.duck_script());
    let mongo = start_mongo().await;
    let docs: Vec<_> = data
        .reviews
        .iter()
        .map(|(c, s)| doc! {"customer_id": *c, "stars": *s, "text": format!("review of {c}")})
        .collect();
    mongo
        .client()
        .await
        .database("mg")
        .collection::<mongodb::bson::Document>("reviews")
        .insert_many(docs)
        .await
        .expect("seed reviews");
    let config = base_config(&format!(
        "{extra_toml}{}{}{}{}{}[federation]\n{federation}\n",
        url_connection_toml("pg", "postgres", &pg_url),
        url_connection_toml("my", "mysql", &my_url),
        file_connection_toml("lite", "sqlite", &lite),
        file_connection_toml("duck", "duckdb", &duck),
        url_connection_toml("mg", "mongodb", &mongo.url("mg")),
    ));
    let proxy = start_proxy(&config).await;
    Fixture {
        proxy,
        data,
        pg_db,
        my_db,
        _dir: dir,
        _mongo: mongo,
    }
}

/// Statements across kinds, each compared with the reference DuckDB.
const STATEMENTS: &[(&str, &str)] = &[
    (
        "2-way PostgreSQL x MariaDB, text = varchar",
        "SELECT c.id, c.email, k.segment FROM pg.customers c JOIN my.contacts k ON k.email = c.email WHERE c.country = 'DE'",
    ),
    (
        "3-way PostgreSQL x SQLite x DuckDB, bigint = integer",
        "SELECT o.id, oi.qty, s.carrier FROM pg.orders o JOIN lite.order_items oi ON oi.order_id = o.id JOIN duck.shipments s ON s.order_id = o.id WHERE s.days > 2",
    ),
    (
        "left join with NULL-extended rows",
        "SELECT c.id, k.segment FROM pg.customers c LEFT JOIN my.contacts k ON k.email = c.email AND k.segment = 'gold'",
    ),
    (
        "full outer join",
        "SELECT c.email AS ce, k.email AS ke FROM pg.customers c FULL JOIN my.contacts k ON k.email = c.email",
    ),
    (
        "anti-join with NOT EXISTS over MongoDB",
        "SELECT c.id FROM pg.customers c WHERE NOT EXISTS (SELECT 1 FROM mg.reviews r WHERE r.customer_id = c.id)",
    ),
    (
        "NOT IN over MariaDB",
        "SELECT id FROM pg.customers WHERE email NOT IN (SELECT email FROM my.contacts WHERE email IS NOT NULL)",
    ),
    (
        "UNION across kinds",
        "SELECT email FROM pg.customers UNION SELECT email FROM my.contacts",
    ),
    (
        "UNION ALL across three kinds",
        "SELECT carrier AS v FROM duck.shipments WHERE days = 1 UNION ALL SELECT category FROM lite.products UNION ALL SELECT segment FROM my.contacts",
    ),
    (
        "aggregate over a 3-table join (numeric sum)",
        "SELECT c.country, count(*) AS n, sum(o.total) AS total FROM pg.customers c JOIN pg.orders o ON o.customer_id = c.id JOIN my.contacts k ON k.email = c.email GROUP BY c.country",
    ),
    (
        "window function over a join with MongoDB",
        "SELECT c.id, o.id AS oid, rank() OVER (PARTITION BY c.country ORDER BY o.total DESC, o.id) AS r FROM pg.customers c JOIN pg.orders o ON o.customer_id = c.id JOIN mg.reviews rv ON rv.customer_id = c.id WHERE rv.stars >= 4",
    ),
    (
        "correlated EXISTS over SQLite and DuckDB",
        "SELECT p.name FROM lite.products p WHERE EXISTS (SELECT 1 FROM duck.shipments s JOIN lite.order_items oi ON oi.order_id = s.order_id WHERE oi.product_id = p.id AND s.carrier = 'DHL')",
    ),
    (
        "MariaDB DECIMAL = PostgreSQL numeric",
        "SELECT c.id, k.segment, k.score FROM pg.customers c JOIN my.contacts k ON k.score = c.credit",
    ),
    (
        "MongoDB x PostgreSQL with a pushed filter",
        "SELECT r.stars, c.email FROM mg.reviews r JOIN pg.customers c ON c.id = r.customer_id WHERE r.stars = 5",
    ),
    (
        "CTE aggregated on one source, joined with another",
        "WITH spent AS (SELECT customer_id, sum(total) AS t FROM pg.orders GROUP BY customer_id) SELECT k.segment, sum(spent.t) AS t FROM spent JOIN pg.customers c ON c.id = spent.customer_id JOIN my.contacts k ON k.email = c.email GROUP BY k.segment",
    ),
    (
        "IN list, BETWEEN, LIKE and IS NULL pushed",
        "SELECT o.id, s.carrier FROM pg.orders o LEFT JOIN duck.shipments s ON s.order_id = o.id WHERE o.customer_id IN (1, 2, 3, 8) AND o.total BETWEEN 10 AND 400 AND o.placed >= '2024-03-01' AND s.carrier IS NULL",
    ),
    (
        "LIMIT over a left join",
        "SELECT count(*) AS n FROM (SELECT o.id FROM pg.orders o LEFT JOIN lite.order_items oi ON oi.order_id = o.id LIMIT 1000) t",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn federated_results_match_duckdb_over_local_copies() {
    let f = fixture("pushdown_keys = 5").await;
    let reference = f.data.reference();
    let client = f.proxy.connect().await;
    for (what, sql) in STATEMENTS {
        let got = simple(&client, sql)
            .await
            .unwrap_or_else(|e| panic!("{what}: {}\n{sql}", error_message(&e)));
        let want = reference_rows(&reference, sql);
        assert!(
            !want.is_empty() || got.rows.is_empty(),
            "{what}: empty reference"
        );
        assert_eq!(
            normalized(&got.rows),
            normalized(&want),
            "{what}: proxy and reference differ\n{sql}"
        );
    }
}

/// The log lines of one database's statements since `mark`.
fn lines_with<'a>(log: &'a str, needle: &str) -> Vec<&'a str> {
    log.lines().filter(|l| l.contains(needle)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn projection_filters_and_semi_joins_reach_the_sources() {
    let f = fixture("pushdown_keys = 5").await;
    let (pg, my) = (postgres().await, mariadb().await);
    let client = f.proxy.connect().await;

    // Projection and filter pushdown: only the used columns, the single-table WHERE.
    let (pm, mm) = (pg.log_mark(), my.log_mark());
    let r = simple(
        &client,
        "SELECT c.email, k.segment FROM pg.customers c JOIN my.contacts k ON k.email = c.email WHERE c.country = 'FR' AND k.segment <> 'bronze'",
    )
    .await
    .expect("federated join");
    assert!(!r.rows.is_empty());
    let pg_log = pg.statement_log_since(pm);
    let my_log = my.general_log_since(mm);
    let pg_q = lines_with(&pg_log, "FROM \"customers\"");
    assert!(
        pg_q.iter().any(|l| l.contains(
            "SELECT \"email\", \"country\" FROM \"customers\" WHERE (\"country\" = 'FR')"
        )),
        "PostgreSQL got the column list and the WHERE:\n{pg_log}"
    );
    assert!(
        !pg_q.iter().any(|l| l.contains("\"credit\"")),
        "unused column fetched:\n{pg_log}"
    );
    let my_q = lines_with(&my_log, "FROM `contacts`");
    assert!(
        my_q.iter().any(|l| l
            .contains("SELECT `email`, `segment` FROM `contacts` WHERE (`segment` <> 'bronze')")),
        "MariaDB got the column list and the WHERE:\n{my_log}"
    );

    // Semi-join: 5 French customers (pushdown_keys = 5): their emails go to MariaDB.
    let (pm, mm) = (pg.log_mark(), my.log_mark());
    let r = simple(
        &client,
        "SELECT c.id, k.score FROM pg.customers c JOIN my.contacts k ON k.email = c.email WHERE c.country = 'FR'",
    )
    .await
    .expect("selective join");
    assert_eq!(r.rows.len(), 5);
    let my_log = my.general_log_since(mm);
    let mut de: Vec<String> = f
        .data
        .customers
        .iter()
        .filter(|c| c.2 == "FR")
        .map(|c| format!("'{}'", c.1))
        .collect();
    de.sort();
    assert!(de.len() <= 5, "fixture: {} French customers", de.len());
    let semi = format!("(`email` IN ({}))", de.join(", "));
    assert!(
        lines_with(&my_log, "FROM `contacts`")
            .iter()
            .any(|l| l.contains(&semi)),
        "the semi-join keys reached MariaDB ({semi}):\n{my_log}"
    );
    assert!(pg
        .statement_log_since(pm)
        .contains("WHERE (\"country\" = 'FR')"));

    // 20 customers > 5 keys: MariaDB gets no IN list, and the result is still right.
    let mm = my.log_mark();
    let r = simple(
        &client,
        "SELECT count(*) FROM pg.customers c JOIN my.contacts k ON k.email = c.email",
    )
    .await
    .expect("unselective join");
    assert_eq!(r.scalar().as_deref(), Some("10"));
    let my_log = my.general_log_since(mm);
    let fetched = lines_with(&my_log, "FROM `contacts`");
    assert!(!fetched.is_empty(), "{my_log}");
    assert!(
        fetched.iter().all(|l| !l.contains(" IN (")),
        "no IN list for a large key set:\n{my_log}"
    );

    // LIMIT goes down where each source row yields a row (a left join's preserved side).
    let pm = pg.log_mark();
    let r = simple(
        &client,
        "SELECT o.id, s.carrier FROM pg.orders o LEFT JOIN duck.shipments s ON s.order_id = o.id LIMIT 7",
    )
    .await
    .expect("limit");
    assert_eq!(r.rows.len(), 7);
    let pg_log = pg.statement_log_since(pm);
    assert!(
        lines_with(&pg_log, "FROM \"orders\"")
            .iter()
            .any(|l| l.contains("LIMIT 7")),
        "{pg_log}"
    );

    // The extended protocol (Parse/Describe/Bind/Execute with a bound parameter).
    let rows = client
        .query(
            "SELECT c.id, k.segment FROM pg.customers c JOIN my.contacts k ON k.email = c.email WHERE c.email = $1",
            &[&"c5@x.org"],
        )
        .await
        .expect("extended protocol");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, i32>(0), 5);
    assert_eq!(rows[0].get::<_, String>(1), "bronze");
    let _ = (&f.pg_db, &f.my_db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limits_refusals_and_failing_sources() {
    let f = fixture_with(
        "max_source_rows = 30\nmemory_limit = \"8MB\"",
        "CREATE VIEW big AS SELECT g AS id, md5(g::text) || repeat('x', 400) AS pad FROM generate_series(1, 200000) g;
         CREATE VIEW broken AS SELECT id, 1 / (id - id) AS x FROM customers;",
        "",
        "",
    )
    .await;
    let client = f.proxy.connect().await;

    // 60 orders > max_source_rows = 30: 54000 naming the source and the setting.
    let e = simple(
        &client,
        "SELECT o.id FROM pg.orders o JOIN lite.order_items oi ON oi.order_id = o.id",
    )
    .await
    .expect_err("too many rows");
    assert_eq!(
        sqlstate(&e).as_deref(),
        Some("54000"),
        "{}",
        error_message(&e)
    );
    let m = error_message(&e);
    assert!(m.contains("\"pg\"") && m.contains("max_source_rows"), "{m}");
    // A filter that keeps a source under the cap passes.
    let r = simple(
        &client,
        "SELECT count(*) FROM pg.orders o JOIN lite.order_items oi ON oi.order_id = o.id WHERE o.id <= 20",
    )
    .await
    .expect("filtered under the cap");
    assert_eq!(r.scalar().as_deref(), Some("30"));

    // A write that spans databases: 0A000.
    let e = simple(
        &client,
        "INSERT INTO pg.customers (id, email) SELECT 100, email FROM my.contacts",
    )
    .await
    .expect_err("cross-database write");
    assert_eq!(
        sqlstate(&e).as_deref(),
        Some("0A000"),
        "{}",
        error_message(&e)
    );
    let e = simple(
        &client,
        "WITH d AS (DELETE FROM pg.orders RETURNING id) SELECT * FROM d JOIN my.contacts ON true",
    )
    .await
    .expect_err("cross-database write in a CTE");
    assert_eq!(
        sqlstate(&e).as_deref(),
        Some("0A000"),
        "{}",
        error_message(&e)
    );

    // The combining statement may not reach files: the guard refuses it.
    let e = simple(
        &client,
        "SELECT * FROM pg.customers c JOIN my.contacts k ON k.email = c.email JOIN read_csv('/etc/passwd') p ON true",
    )
    .await
    .expect_err("file access");
    assert_eq!(
        sqlstate(&e).as_deref(),
        Some("42501"),
        "{}",
        error_message(&e)
    );

    // A source that fails names itself and keeps its SQLSTATE.
    let e = simple(
        &client,
        "SELECT b.x FROM pg.broken b JOIN my.contacts k ON k.score = b.id",
    )
    .await
    .expect_err("division by zero");
    assert_eq!(
        sqlstate(&e).as_deref(),
        Some("22012"),
        "{}",
        error_message(&e)
    );
    assert!(
        error_message(&e).starts_with("pg:"),
        "{}",
        error_message(&e)
    );

    // memory_limit: 200,000 wide rows do not fit in 8 MB.
    let e = simple(
        &client,
        "SELECT count(DISTINCT b.pad) FROM pg.big b JOIN lite.products p ON p.id = b.id",
    )
    .await
    .expect_err("memory");
    assert_eq!(
        sqlstate(&e).as_deref(),
        Some("54000"),
        "{}",
        error_message(&e)
    );

    // The proxy and the session are fine afterwards.
    let r = simple(
        &client,
        "SELECT count(*) FROM pg.customers c JOIN my.contacts k ON k.email = c.email",
    )
    .await
    .expect("usable afterwards");
    assert_eq!(r.scalar().as_deref(), Some("10"));
}

async fn pg_running(db: &str, needle: &str) -> i64 {
    let c = postgres().await.client().await;
    c.query_one(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE $2",
        &[&db, &format!("%{needle}%")],
    )
    .await
    .expect("pg_stat_activity")
    .get(0)
}

async fn my_running(needle: &str) -> usize {
    mariadb()
        .await
        .query(
            "information_schema",
            &format!(
                "SELECT id FROM information_schema.processlist WHERE info LIKE '%{needle}%' AND info NOT LIKE '%processlist%'"
            ),
        )
        .await
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_stops_every_source() {
    let f = fixture_with(
        "",
        "CREATE VIEW slow AS SELECT c.id, c.email FROM customers c, pg_sleep(30) s;",
        "CREATE VIEW slowc AS SELECT email, score FROM contacts WHERE SLEEP(2) = 0;",
        "",
    )
    .await;
    let c = f.proxy.connect().await;
    let token = c.cancel_token();
    let task = tokio::spawn(async move {
        let r = simple(
            &c,
            "SELECT s.id, k.score FROM pg.slow s JOIN my.slowc k ON k.email = s.email WHERE s.id > 0 AND k.score > 0",
        )
        .await;
        (r, c)
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while pg_running(&f.pg_db, "\"slow\"").await == 0 || my_running("`slowc`").await == 0 {
        assert!(
            !task.is_finished(),
            "the statement ended before both sources ran"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "both sources never ran at once"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    token
        .cancel_query(tokio_postgres::NoTls)
        .await
        .expect("send CancelRequest");
    let (r, c) = task.await.expect("join");
    let e = r.expect_err("cancelled");
    assert_eq!(
        sqlstate(&e).as_deref(),
        Some("57014"),
        "{}",
        error_message(&e)
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while pg_running(&f.pg_db, "\"slow\"").await != 0 || my_running("`slowc`").await != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "a source query is still running after the cancel"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = simple(
        &c,
        "SELECT count(*) FROM pg.customers c JOIN my.contacts k ON k.email = c.email",
    )
    .await
    .expect("usable after cancel");
    assert_eq!(r.scalar().as_deref(), Some("10"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ask_with_a_federated_block() {
    let llm = ScriptedLlm::start().await;
    let f = fixture_with("", "", "", &llm.llm_toml("10s", 0)).await;
    let (c, notices) = f.proxy.connect_with_notices().await;
    let fed_sql = "SELECT c.country, count(*) AS n FROM pg.customers c JOIN my.contacts k ON k.email = c.email GROUP BY c.country ORDER BY c.country";
    let reply =
        format!("DATABASE: *\n{fed_sql};\n\nDATABASE: lite\nSELECT count(*) AS n FROM products;");
    llm.set_default(Reply::text(reply));

    // EXPLAIN ASK: each source's subquery in its dialect, then the combining statement.
    let r = simple(&c, "EXPLAIN ASK 'contacts per country'")
        .await
        .expect("explain");
    let sources = r.column("source_db");
    assert!(sources.contains(&Some("pg".into())), "{r:?}");
    assert!(sources.contains(&Some("my".into())), "{r:?}");
    assert!(sources.contains(&Some("my+pg".into())), "{r:?}");
    assert!(sources.contains(&Some("lite".into())), "{r:?}");
    let row = |name: &str| {
        let i = sources
            .iter()
            .position(|s| s.as_deref() == Some(name))
            .expect("row");
        (
            r.get(i, "dialect").unwrap_or_default(),
            r.get(i, "sql").unwrap_or_default(),
        )
    };
    assert_eq!(row("my").0, "mysql");
    assert!(row("my").1.contains("FROM `contacts`"), "{r:?}");
    assert!(row("pg").1.contains("FROM \"customers\""), "{r:?}");
    assert_eq!(row("my+pg").0, "duckdb");
    assert!(row("my+pg").1.contains("GROUP BY c.country"), "{r:?}");

    // The answer: federated rows labelled with both databases, the other block as usual.
    let r = simple(&c, "ASK 'contacts per country'").await.expect("ask");
    let reference = f.data.reference();
    let want = reference_rows(&reference, fed_sql);
    let fed_rows: Vec<Vec<Option<String>>> = r
        .rows
        .iter()
        .filter(|row| row[0].as_deref() == Some("my+pg"))
        .map(|row| {
            vec![
                row[r.col_index("country")].clone(),
                row[r.col_index("n")].clone(),
            ]
        })
        .collect();
    assert_eq!(normalized(&fed_rows), normalized(&want), "{r:?}");
    assert!(r.rows.iter().any(|row| row[0].as_deref() == Some("lite")));
    let _ = notices;

    // dbguru.queries records every source.
    let q = simple(
        &c,
        "SELECT sql FROM dbguru.queries ORDER BY id DESC LIMIT 1",
    )
    .await
    .expect("queries");
    let recorded = q.scalar().unwrap_or_default();
    let used: Vec<serde_json::Value> =
        serde_json::from_str(&recorded).expect("databases_used JSON");
    let sql_of = |name: &str| {
        used.iter()
            .find(|d| d["name"] == name)
            .and_then(|d| d["sql"].as_str())
            .unwrap_or_else(|| panic!("{name} not recorded: {recorded}"))
            .to_string()
    };
    assert!(sql_of("pg").contains("FROM \"customers\""), "{recorded}");
    assert!(sql_of("my").contains("FROM `contacts`"), "{recorded}");
    assert!(sql_of("my+pg").contains("GROUP BY c.country"), "{recorded}");
    assert!(sql_of("lite").contains("FROM products"), "{recorded}");
}
