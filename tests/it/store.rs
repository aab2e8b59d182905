//! Chat sessions that last: the store, resume, history tables, caching, user isolation.

use crate::common;

use std::time::Duration;

use common::*;

const REPLY: &str = "DATABASE: lite\nSELECT count(*) AS n FROM t;";

struct Fx {
    llm: ScriptedLlm,
    lite: std::path::PathBuf,
    pg_db: String,
    pg_url: String,
    dir: tempfile::TempDir,
}

async fn fx() -> Fx {
    let dir = temp_dir();
    let lite = sqlite_file(
        dir.path(),
        "l.sqlite",
        "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1),(2),(3);",
    );
    let pg = postgres().await;
    let (pg_db, pg_url) = pg.fresh_database("store").await;
    pg.exec_in(&pg_db, "CREATE TABLE t (a int); INSERT INTO t VALUES (1);")
        .await;
    let llm = ScriptedLlm::start().await;
    llm.set_default(Reply::text(REPLY));
    Fx {
        llm,
        lite,
        pg_db,
        pg_url,
        dir,
    }
}

impl Fx {
    fn toml(&self, store: &str, users: &str) -> String {
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\n{users}\n{}\n{store}\n{}{}",
            self.llm.llm_toml("5s", 0),
            file_connection_toml("lite", "sqlite", &self.lite),
            url_connection_toml("pg", "postgres", &self.pg_url),
        )
    }
}

const GURU: &str = "[[users]]\nname = \"guru\"\nauth = \"trust\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_reconnect_carries_history() {
    let f = fx().await;
    let store = f.dir.path().join("store.sqlite");
    let proxy = start_proxy(&f.toml(
        &format!(
            "[store]\npath = {}\n",
            toml_str(&store.display().to_string())
        ),
        GURU,
    ))
    .await;
    let id = {
        let c = proxy.connect().await;
        simple(&c, "SET dbguru.connections = 'lite'")
            .await
            .expect("set");
        simple(&c, "ASK 'how many rows in t?'")
            .await
            .expect("first ask");
        simple(&c, "SHOW dbguru.session")
            .await
            .expect("show")
            .scalar()
            .expect("session id")
    };
    let c = proxy.connect().await;
    assert_ne!(
        simple(&c, "SHOW dbguru.session")
            .await
            .expect("show")
            .scalar()
            .as_deref(),
        Some(id.as_str())
    );
    simple(&c, &format!("SET dbguru.session = '{id}'"))
        .await
        .expect("resume");
    assert_eq!(
        simple(&c, "SHOW dbguru.connections")
            .await
            .expect("show")
            .scalar()
            .as_deref(),
        Some("lite")
    );
    simple(&c, "ASK 'and doubled?'").await.expect("follow-up");
    let prompt = f.llm.last_prompt_text();
    assert!(prompt.contains("how many rows in t?"), "{prompt}");
    assert!(prompt.contains("SELECT count(*) AS n FROM t"), "{prompt}");
    let r = simple(&c, &format!("SELECT role, content, databases_used FROM dbguru.messages WHERE chat_session_id = '{id}' ORDER BY id")).await.expect("messages");
    assert_eq!(r.rows.len(), 4, "{:?}", r.rows);
    assert_eq!(
        r.column("role"),
        vec![
            Some("user".into()),
            Some("assistant".into()),
            Some("user".into()),
            Some("assistant".into())
        ]
    );
    let used = r.get(1, "databases_used").expect("databases_used");
    assert!(
        used.contains("\"lite\"") && used.contains("\"rows\":1"),
        "{used}"
    );
    let r = simple(
        &c,
        "SELECT count(*) AS n, max(message_count) AS m FROM dbguru.sessions",
    )
    .await
    .expect("sessions");
    assert_eq!(r.rows, vec![vec![Some("1".into()), Some("4".into())]]);
    // The store survives a restart of the proxy.
    proxy.shutdown().await;
    let proxy = start_proxy(&f.toml(
        &format!(
            "[store]\npath = {}\n",
            toml_str(&store.display().to_string())
        ),
        GURU,
    ))
    .await;
    let c = proxy.connect().await;
    simple(&c, &format!("SET dbguru.session = '{id}'"))
        .await
        .expect("resume after restart");
    let r = simple(
        &c,
        "SELECT question, success, cached FROM dbguru.queries ORDER BY id",
    )
    .await
    .expect("queries");
    assert_eq!(r.rows.len(), 2);
    assert_eq!(r.get(0, "question").as_deref(), Some("how many rows in t?"));
    assert_eq!(r.get(0, "success").as_deref(), Some("t"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_proxies_share_a_postgres_store() {
    let f = fx().await;
    let (_, store_url) = postgres().await.fresh_database("dbguru_store").await;
    let toml = f.toml(&format!("[store]\nurl = {}\n", toml_str(&store_url)), GURU);
    let a = start_proxy(&toml).await;
    let b = start_proxy(&toml).await;
    let ca = a.connect().await;
    simple(&ca, "ASK 'how many rows in t?' ON lite")
        .await
        .expect("ask on a");
    let id = simple(&ca, "SHOW dbguru.session")
        .await
        .expect("show")
        .scalar()
        .expect("id");
    let cb = b.connect().await;
    simple(&cb, &format!("SET dbguru.session = '{id}'"))
        .await
        .expect("resume on b");
    simple(&cb, "ASK 'and again?' ON lite")
        .await
        .expect("ask on b");
    assert!(f.llm.last_prompt_text().contains("how many rows in t?"));
    let r = simple(&ca, "SELECT count(*) FROM dbguru.queries")
        .await
        .expect("queries on a");
    assert_eq!(r.scalar().as_deref(), Some("2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_ask_twice_is_cached_until_the_schema_changes() {
    let f = fx().await;
    // Schemas are re-checked every 100 ms here (a direct ALTER is seen within that).
    let proxy = start_proxy(&f.toml("[limits]\nschema_check = \"100ms\"\n", GURU)).await;
    let (c, notices) = proxy.connect_with_notices().await;
    f.llm
        .set_default(Reply::text("DATABASE: pg\nSELECT count(*) AS n FROM t;"));
    simple(&c, "ASK 'how many in t?' ON pg")
        .await
        .expect("first");
    assert_eq!(f.llm.request_count(), 1);
    notices.clear();
    let r = simple(&c, "ASK 'How many in t' ON pg")
        .await
        .expect("second");
    assert_eq!(r.rows, vec![vec![Some("pg".into()), Some("1".into())]]);
    assert_eq!(f.llm.request_count(), 1, "the second ASK called the LLM");
    assert!(
        notices.lines().iter().any(|l| l.contains("cache")),
        "{:?}",
        notices.lines()
    );
    let r = simple(&c, "SELECT cached FROM dbguru.queries ORDER BY id")
        .await
        .expect("queries");
    assert_eq!(r.column("cached"), vec![Some("f".into()), Some("t".into())]);
    // A new column changes the schema fingerprint: the LLM is asked again.
    postgres()
        .await
        .exec_in(&f.pg_db, "ALTER TABLE t ADD COLUMN b text;")
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while simple(
        &c,
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'pg' AND table_name = 't'",
    )
    .await
    .expect("catalog")
    .scalar()
    .as_deref()
        != Some("2")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the new column was not seen within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    simple(&c, "ASK 'how many in t?' ON pg")
        .await
        .expect("third");
    assert_eq!(f.llm.request_count(), 2);
    // use_cache = off always asks.
    simple(&c, "SET dbguru.use_cache = off").await.expect("set");
    simple(&c, "ASK 'how many in t?' ON pg")
        .await
        .expect("fourth");
    assert_eq!(f.llm.request_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_isolated() {
    let f = fx().await;
    let users =
        "[[users]]\nname = \"alice\"\npassword = \"alice-pw\"\nconnections = [\"lite\"]\n\n\
                 [[users]]\nname = \"bob\"\npassword = \"bob-pw\"\n\n\
                 [[users]]\nname = \"root\"\npassword = \"root-pw\"\nadmin = true\n";
    let proxy = start_proxy(&f.toml("", users)).await;
    let bob = proxy.connect_as("bob", "bob-pw").await.expect("bob");
    simple(&bob, "ASK 'bob asks' ON lite")
        .await
        .expect("bob asks");
    let bob_id = simple(&bob, "SHOW dbguru.session")
        .await
        .expect("show")
        .scalar()
        .expect("id");
    let alice = proxy.connect_as("alice", "alice-pw").await.expect("alice");
    for sql in [
        "ASK 'x' ON pg",
        "SET dbguru.target = 'pg'",
        "SET dbguru.connections = 'lite, pg'",
        &format!("SET dbguru.session = '{bob_id}'"),
    ] {
        let err = simple(&alice, sql).await.expect_err(sql);
        assert_eq!(
            sqlstate(&err).as_deref(),
            Some("42501"),
            "{sql}: {}",
            error_message(&err)
        );
    }
    let r = simple(&alice, "SELECT name FROM dbguru.connections ORDER BY name")
        .await
        .expect("connections");
    assert_eq!(r.column("name"), vec![Some("lite".into())]);
    simple(&alice, "ASK 'alice asks'")
        .await
        .expect("alice asks on lite");
    let r = simple(&alice, "SELECT owner FROM dbguru.sessions")
        .await
        .expect("sessions");
    assert_eq!(r.column("owner"), vec![Some("alice".into())]);
    let r = simple(&alice, "SELECT count(*) FROM dbguru.queries")
        .await
        .expect("queries");
    assert_eq!(r.scalar().as_deref(), Some("1"));
    let root = proxy.connect_as("root", "root-pw").await.expect("root");
    let r = simple(&root, "SELECT count(*) FROM dbguru.sessions")
        .await
        .expect("admin sees all");
    assert_eq!(r.scalar().as_deref(), Some("2"));
    let err = simple(
        &alice,
        "SET dbguru.session = '00000000-0000-0000-0000-000000000000'",
    )
    .await
    .expect_err("unknown");
    assert_eq!(sqlstate(&err).as_deref(), Some("42704"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_unreachable_still_answers_with_a_warning() {
    let f = fx().await;
    let pg = postgres().await;
    let (store_db, store_url) = pg.fresh_database("dbguru_gone").await;
    let proxy =
        start_proxy(&f.toml(&format!("[store]\nurl = {}\n", toml_str(&store_url)), GURU)).await;
    let (c, notices) = proxy.connect_with_notices().await;
    simple(&c, "ASK 'first' ON lite").await.expect("first");
    pg.client()
        .await
        .batch_execute(&format!("DROP DATABASE \"{store_db}\" WITH (FORCE)"))
        .await
        .expect("drop store");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = simple(&c, "ASK 'second' ON lite")
        .await
        .expect("answer despite the store");
    assert_eq!(r.rows, vec![vec![Some("lite".into()), Some("3".into())]]);
    assert!(
        notices
            .lines()
            .iter()
            .any(|l| l.starts_with("WARNING") && l.contains("not saved")),
        "{:?}",
        notices.lines()
    );
}
