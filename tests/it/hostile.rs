//! Hostile input, as plain SQL and from the LLM, against real databases: the corpus in
//! `hostile/corpus.rs` (target, input, expected SQLSTATE) runs through the in-process
//! proxy. After every case the proxy is alive, a new connection works, the session is
//! still usable, the SQLSTATE is the expected one, and every database is unchanged (row
//! checksums, table counts, no advisory or named lock held, no file written under the
//! test's directory).
//!
//! PostgreSQL is reached as a non-superuser role *with* write grants on the table, and
//! MariaDB as a user with every privilege (FILE included), so the guard and the
//! database's own read-only settings are what stop writes. The runtime has tokio's
//! default 2 MiB worker stacks: the statement bounds, not the 16 MiB stacks the binary
//! uses, are what keep it alive.

use crate::common;

#[path = "hostile/corpus.rs"]
mod corpus;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use mongodb::bson::{doc, Document};

const PG_ROLE: &str = "dbguru_hostile_rw";

struct Fixture {
    proxy: Proxy,
    llm: ScriptedLlm,
    my_db: String,
    dir: tempfile::TempDir,
    lite: PathBuf,
    duck: PathBuf,
    /// Kept alive for the proxy's `mongo` connection.
    _mongo: MongoServer,
    pg_client: tokio_postgres::Client,
    mongo_client: mongodb::Client,
}

/// The state every case must leave exactly as it found it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    pg: String,
    my: String,
    lite: String,
    duck: String,
    mongo: String,
    files: BTreeMap<String, u64>,
}

async fn fixture() -> Fixture {
    let pg = postgres().await;
    let (pg_db, _) = pg.fresh_database("hostile").await;
    pg.exec_in(
        &pg_db,
        &format!(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{PG_ROLE}') THEN
                 CREATE ROLE {PG_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
               END IF;
             END $$;
             CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, country text, balance numeric(10,2));
             INSERT INTO customers (name, country, balance) VALUES ('Ada','DE',10.50),('Bo','FR',20.25),('Cy','DE',5.00);
             GRANT CONNECT ON DATABASE {pg_db} TO {PG_ROLE};
             GRANT USAGE, CREATE ON SCHEMA public TO {PG_ROLE};
             GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON customers TO {PG_ROLE};
             GRANT USAGE, SELECT, UPDATE ON SEQUENCE customers_id_seq TO {PG_ROLE};"
        ),
    )
    .await;
    let pg_url = format!("postgres://{PG_ROLE}@127.0.0.1:{}/{pg_db}", pg.port);
    let my = mariadb().await;
    let (my_db, my_url) = my.fresh_database("hostile").await;
    my.exec_in(
        &my_db,
        "CREATE TABLE customers (id int PRIMARY KEY, name varchar(50) NOT NULL, country varchar(20), balance decimal(10,2));
         INSERT INTO customers VALUES (1,'Di','ES',100.00),(2,'Ed','IT',1.10);",
    )
    .await;
    let dir = temp_dir();
    // Writable by the database servers' own users, so a write that got through would show.
    let attack_dir = dir.path().join("attack");
    std::fs::create_dir(&attack_dir).expect("attack dir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&attack_dir, std::fs::Permissions::from_mode(0o777));
    }
    let lite = sqlite_file(
        dir.path(),
        "lite.sqlite",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT, balance REAL);
         INSERT INTO customers VALUES (1,'Fa','DE',1.5),(2,'Gu','NL',2.5);",
    );
    let duck = duckdb_file(
        dir.path(),
        "duck.duckdb",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, country VARCHAR, balance DECIMAL(10,2));
         INSERT INTO customers VALUES (1,'Jo','US',7.77);",
    );
    let mongo = start_mongo().await;
    let events: Vec<Document> = (0..5)
        .map(|i| doc! {"kind": if i % 2 == 0 { "view" } else { "buy" }, "n": i})
        .collect();
    mongo
        .client()
        .await
        .database("shop")
        .collection::<Document>("events")
        .insert_many(events)
        .await
        .expect("seed events");
    let llm = ScriptedLlm::start().await;
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[[users]]\nname = \"guru\"\nauth = \"trust\"\nmay_write = true\n\n{}\n\
         [limits]\nmax_rows = 100\ntimeout = \"20s\"\n\n{}{}{}read_only = false\n\n{}{}read_only = false\n\n{}{}{}",
        llm.llm_toml("10s", 0),
        url_connection_toml("pg", "postgres", &pg_url),
        url_connection_toml("pgrw", "postgres", &pg_url).trim_end(),
        "\n",
        url_connection_toml("my", "mysql", &my_url),
        url_connection_toml("myrw", "mysql", &my_url).trim_end().to_string() + "\n",
        file_connection_toml("lite", "sqlite", &lite),
        file_connection_toml("duck", "duckdb", &duck),
        url_connection_toml("mongo", "mongodb", &mongo.url("shop")),
    );
    let proxy = start_proxy(&toml).await;
    let pg_client = pg.client_for(&pg_db).await;
    let mongo_client = mongo.client().await;
    Fixture {
        proxy,
        llm,
        my_db,
        dir,
        lite,
        duck,
        _mongo: mongo,
        pg_client,
        mongo_client,
    }
}

/// Every file under `dir` (relative path → size), database files excluded.
fn files(dir: &Path) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let name = p.strip_prefix(dir).unwrap_or(&p).display().to_string();
            if name.starts_with("lite.sqlite") || name.starts_with("duck.duckdb") {
                continue;
            }
            if p.is_dir() {
                out.insert(format!("{name}/"), 0);
                stack.push(p);
            } else {
                out.insert(name, e.metadata().map(|m| m.len()).unwrap_or(0));
            }
        }
    }
    out
}

impl Fixture {
    fn attack_dir(&self) -> String {
        self.dir.path().join("attack").display().to_string()
    }

    async fn snapshot(&self) -> Snapshot {
        let row = self
            .pg_client
            .query_one(
                "SELECT (SELECT count(*)::text || ':' || coalesce(md5(string_agg(c::text, ',' ORDER BY id)), '') FROM customers c)
                     || ' tables=' || (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace)
                     || ' advisory=' || (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory')
                     || ' seq=' || (SELECT last_value FROM customers_id_seq)",
                &[],
            )
            .await
            .expect("pg snapshot");
        let pg_state: String = row.get(0);
        let my = mariadb().await;
        let my_state = my
            .query(
                &self.my_db,
                "SELECT concat(count(*), ':', coalesce(md5(group_concat(concat_ws('|', id, name, country, balance) ORDER BY id)), ''),
                        ' tables=', (SELECT count(*) FROM information_schema.tables WHERE table_schema = database()),
                        ' lock=', coalesce(IS_USED_LOCK('hostile'), 'free'))
                 FROM customers",
            )
            .await[0][0]
            .clone()
            .unwrap_or_default();
        let lite = rusqlite::Connection::open_with_flags(
            &self.lite,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open sqlite");
        let lite_state: String = lite
            .query_row(
                "SELECT (SELECT count(*) || ':' || group_concat(id || '|' || name || '|' || balance, ',') FROM (SELECT * FROM customers ORDER BY id))
                        || ' tables=' || (SELECT count(*) FROM sqlite_master)",
                [],
                |r| r.get(0),
            )
            .expect("sqlite snapshot");
        let cfg = duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .expect("duck cfg");
        let duck = duckdb::Connection::open_with_flags(&self.duck, cfg).expect("open duckdb");
        let duck_state: String = duck
            .query_row(
                "SELECT (SELECT count(*) || ':' || string_agg(id || '|' || name || '|' || balance, ',' ORDER BY id) FROM customers)
                        || ' tables=' || (SELECT count(*) FROM duckdb_tables())",
                [],
                |r| r.get(0),
            )
            .expect("duckdb snapshot");
        let db = self.mongo_client.database("shop");
        let names = db.list_collection_names().await.expect("collections");
        let n = db
            .collection::<Document>("events")
            .count_documents(doc! {})
            .await
            .expect("count events");
        Snapshot {
            pg: pg_state,
            my: my_state,
            lite: lite_state,
            duck: duck_state,
            mongo: format!("{n} {names:?}"),
            files: files(self.dir.path()),
        }
    }

    /// Runs one case on a new connection; `Err` describes a mismatch.
    async fn run(&self, i: usize, case: &corpus::Case) -> Result<(), String> {
        let c = self.proxy.connect().await;
        simple(&c, "SET dbguru.use_cache = off")
            .await
            .map_err(|e| format!("SET use_cache: {e}"))?;
        let (ask, target) = match case.target.strip_prefix("ask:") {
            Some(t) => (true, t),
            None => (false, case.target),
        };
        if target.ends_with("rw") {
            simple(&c, "SET dbguru.allow_write = on")
                .await
                .map_err(|e| format!("SET allow_write: {e}"))?;
        }
        let r = if ask {
            self.llm
                .set_default(Reply::text(format!("DATABASE: {target}\n{}", case.input)));
            simple(&c, &format!("ASK 'hostile case {i}' ON {target}")).await
        } else {
            simple(&c, &format!("SET dbguru.target = '{target}'"))
                .await
                .map_err(|e| format!("SET target: {e}"))?;
            simple(&c, &case.input).await
        };
        let got = match &r {
            Ok(_) => "ok".to_string(),
            Err(e) => sqlstate(e).unwrap_or_else(|| format!("no SQLSTATE ({e})")),
        };
        // The session stays usable after an error.
        simple(&c, "SHOW dbguru.target")
            .await
            .map_err(|e| format!("session unusable afterwards: {e}"))?;
        if got != case.expect {
            let detail = match &r {
                Ok(res) => format!("{} rows", res.rows.len()),
                Err(e) => error_message(e).chars().take(200).collect(),
            };
            return Err(format!("expected {}, got {got}: {detail}", case.expect));
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hostile_corpus_changes_nothing_and_crashes_nothing() {
    let f = fixture().await;
    let cases = corpus::corpus(&f.attack_dir());
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let before = f.snapshot().await;
    let mut per_code: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &cases {
        *per_code.entry(c.expect).or_default() += 1;
    }
    eprintln!(
        "[hostile] {} cases, expected outcomes {per_code:?}; state {before:?}",
        cases.len()
    );
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let label = format!(
            "#{i} {} {:?}",
            case.target,
            case.input.chars().take(90).collect::<String>()
        );
        match tokio::time::timeout(Duration::from_secs(60), f.run(i, case)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("{label}: {e}")),
            Err(_) => failures.push(format!("{label}: timed out")),
        }
        // The proxy is alive: a new connection works.
        let probe = f.proxy.connect().await;
        simple(&probe, "SELECT 1")
            .await
            .unwrap_or_else(|e| panic!("{label}: the proxy stopped answering: {e}"));
        let now = f.snapshot().await;
        if now != before {
            failures.push(format!(
                "{label}: CHANGED the databases or files:\n  before {before:?}\n  after  {now:?}"
            ));
            break;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_expression_is_54001_and_the_proxy_keeps_serving() {
    let llm = ScriptedLlm::start().await;
    let dir = temp_dir();
    let lite = sqlite_file(
        dir.path(),
        "x.sqlite",
        "CREATE TABLE t (a int); INSERT INTO t VALUES (1);",
    );
    let proxy = start_proxy(&base_config(&format!(
        "{}\n{}",
        llm.llm_toml("10s", 0),
        file_connection_toml("lite", "sqlite", &lite)
    )))
    .await;
    let huge = format!("SELECT 1{}", "+1".repeat(100_000));
    let c = proxy.connect().await;
    for _ in 0..3 {
        let e = simple(&c, &huge).await.expect_err("refused");
        assert_eq!(
            sqlstate(&e).as_deref(),
            Some("54001"),
            "{}",
            error_message(&e)
        );
        // The same statement from the LLM.
        llm.set_default(Reply::text(format!("DATABASE: lite\n{huge}")));
        let e = simple(&c, "ASK 'add up a lot of ones' ON lite")
            .await
            .expect_err("refused");
        assert_eq!(
            sqlstate(&e).as_deref(),
            Some("54001"),
            "{}",
            error_message(&e)
        );
        // Extended protocol too.
        let e = c.query(huge.as_str(), &[]).await.expect_err("refused");
        assert_eq!(
            sqlstate(&e).as_deref(),
            Some("54001"),
            "{}",
            error_message(&e)
        );
    }
    // Still serving, on this connection and a new one.
    let r = simple(&c, "SELECT a FROM t").await.expect("still serving");
    assert_eq!(r.scalar().as_deref(), Some("1"));
    let c2 = proxy.connect().await;
    assert_eq!(
        simple(&c2, "SELECT count(*) FROM t")
            .await
            .expect("new connection")
            .scalar()
            .as_deref(),
        Some("1")
    );
}
