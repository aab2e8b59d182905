//! The schema cache (issue 13): ASK reads cached schemas (proved with PostgreSQL's
//! statement log), DDL through dbguru is seen at once, a change made directly in the
//! database is seen within `[limits] schema_check`, and SQLite's `PRAGMA
//! schema_version` drives the same check.

mod common;

use std::time::Duration;

use common::*;

/// A proxy with a writable PostgreSQL connection `pg` on `db`, the scripted LLM and
/// `schema_check`.
async fn proxy(llm: &ScriptedLlm, db_url: &str, schema_check: &str, extra: &str) -> Proxy {
    start_proxy(&format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[[users]]\nname = \"guru\"\nauth = \"trust\"\nmay_write = true\n\n\
         {}\n[limits]\nschema_check = \"{schema_check}\"\n\n{}\nread_only = false\n\n{extra}",
        llm.llm_toml("5s", 0),
        url_connection_toml("pg", "postgres", db_url).trim_end(),
    ))
    .await
}

/// Held by the tests that read PostgreSQL's statement log: another test's introspection
/// of its own database would show in it.
static STATEMENT_LOG: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The introspection query's marker in PostgreSQL's statement log.
const INTROSPECTION: &str = "format_type(a.atttypid";

async fn ask_prompt(c: &tokio_postgres::Client, llm: &ScriptedLlm, question: &str) -> String {
    llm.clear_requests();
    llm.push_text("DATABASE: pg\nSELECT 1 AS one;");
    simple(c, &format!("ASK '{question}'")).await.expect("ask");
    llm.last_prompt_text()
}

async fn catalog_tables(c: &tokio_postgres::Client) -> Vec<String> {
    simple(
        c,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'pg' ORDER BY 1",
    )
    .await
    .expect("catalog")
    .column("table_name")
    .into_iter()
    .flatten()
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_reads_the_cache_and_ddl_through_dbguru_is_seen_at_once() {
    let _log = STATEMENT_LOG.lock().await;
    let pg = postgres().await;
    let (db, url) = pg.fresh_database("schemacache").await;
    pg.exec_in(
        &db,
        "CREATE TABLE items (id int PRIMARY KEY, name text, status text, email text);
         COMMENT ON TABLE items IS 'things we sell';
         INSERT INTO items VALUES (1, 'a', 'open', 'x@example.com'), (2, 'b', 'closed', 'y@example.com'),
                                  (3, 'c', 'open', 'z@example.com');",
    )
    .await;
    let llm = ScriptedLlm::start().await;
    let p = proxy(&llm, &url, "1h", "").await;
    let c = p.connect().await;

    let first = ask_prompt(&c, &llm, "how many items are there").await;
    assert!(
        first.contains("Table: pg.items -- things we sell"),
        "{first}"
    );
    // A low-cardinality text column carries its values; personal data never does.
    assert!(
        first.contains("- status (text) -- values: 'closed', 'open'"),
        "{first}"
    );
    assert!(!first.contains("example.com"), "{first}");

    // The introspection ran (the marker is what it sends)…
    assert!(pg.statement_log().contains(INTROSPECTION));
    // …and from now on ASK, the catalog and the health table read the cache only.
    let mark = pg.log_mark();
    for q in ["how many items", "list the items", "count items again"] {
        let prompt = ask_prompt(&c, &llm, q).await;
        assert!(prompt.contains("items"), "{prompt}");
    }
    assert_eq!(catalog_tables(&c).await, ["items"]);
    simple(&c, "SELECT name, tables FROM dbguru.connections")
        .await
        .expect("connections");
    let log = pg.statement_log_since(mark);
    assert!(
        !log.contains(INTROSPECTION) && !log.contains("pg_constraint"),
        "ASK or the catalog introspected:\n{log}"
    );

    // A table made directly in PostgreSQL is not seen before the next check (1h here)…
    pg.exec_in(&db, "CREATE TABLE made_directly (id int)").await;
    let prompt = ask_prompt(&c, &llm, "how many items").await;
    assert!(!prompt.contains("made_directly"), "{prompt}");

    // …but DDL through dbguru makes the next reader check the version and re-read.
    simple(&c, "SET dbguru.allow_write = on")
        .await
        .expect("allow write");
    simple(
        &c,
        "CREATE TABLE made_here (id int PRIMARY KEY, item_id int REFERENCES items(id))",
    )
    .await
    .expect("create through dbguru");
    simple(&c, "SET dbguru.allow_write = off")
        .await
        .expect("allow write off");
    let prompt = ask_prompt(&c, &llm, "how many items").await;
    assert!(prompt.contains("made_here"), "{prompt}");
    assert!(prompt.contains("made_directly"), "{prompt}");
    assert_eq!(
        catalog_tables(&c).await,
        ["items", "made_directly", "made_here"]
    );
    // The keys came with it: the catalog's foreign key of the new table.
    let fk = simple(
        &c,
        "SELECT count(*) FROM information_schema.referential_constraints WHERE constraint_schema = 'pg'",
    )
    .await
    .expect("fk")
    .scalar();
    assert_eq!(fk.as_deref(), Some("1"));

    // A transaction block that commits DDL is seen too.
    for sql in [
        "SET dbguru.allow_write = on",
        "BEGIN",
        "CREATE TABLE made_in_block (id int)",
        "COMMIT",
        "SET dbguru.allow_write = off",
    ] {
        simple(&c, sql).await.expect(sql);
    }
    assert!(catalog_tables(&c)
        .await
        .contains(&"made_in_block".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_change_is_seen_within_schema_check() {
    let _log = STATEMENT_LOG.lock().await;
    let pg = postgres().await;
    let (db, url) = pg.fresh_database("schemacheck").await;
    pg.exec_in(&db, "CREATE TABLE a (id int)").await;
    let dir = temp_dir();
    let lite = sqlite_file(dir.path(), "lite.sqlite", "CREATE TABLE t1 (id INTEGER);");
    let llm = ScriptedLlm::start().await;
    let p = proxy(
        &llm,
        &url,
        "300ms",
        &file_connection_toml("lite", "sqlite", &lite),
    )
    .await;
    let c = p.connect().await;
    assert_eq!(catalog_tables(&c).await, ["a"]);

    pg.exec_in(&db, "CREATE TABLE b (id int); COMMENT ON TABLE a IS 'x'")
        .await;
    rusqlite::Connection::open(&lite)
        .expect("open sqlite")
        .execute_batch("CREATE TABLE t2 (id INTEGER);")
        .expect("sqlite ddl");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let pg_seen = catalog_tables(&c).await == ["a", "b"];
        let lite_seen = simple(
            &c,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'lite'",
        )
        .await
        .expect("catalog")
        .scalar()
            == Some("2".into());
        if pg_seen && lite_seen {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "changes not seen within 10 s of a 300 ms schema_check (pg {pg_seen}, sqlite {lite_seen})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A version check that finds nothing new does not introspect again.
    let mark = pg.log_mark();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let log = pg.statement_log_since(mark);
    assert!(log.contains("hashtext"), "no version checks ran:\n{log}");
    assert!(
        !log.contains(INTROSPECTION),
        "re-introspected an unchanged schema:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_past_the_bounds_is_cut_with_a_warning() {
    let dir = temp_dir();
    let mut sql = String::from("CREATE TABLE a_wide (");
    sql.push_str(
        &(0..30)
            .map(|i| format!("c{i} INTEGER"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    sql.push_str(");");
    for i in 0..11 {
        sql.push_str(&format!("CREATE TABLE t{i:02} (id INTEGER);"));
    }
    let lite = sqlite_file(dir.path(), "big.sqlite", &sql);
    let llm = ScriptedLlm::start().await;
    let p = start_proxy(&format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[[users]]\nname = \"guru\"\nauth = \"trust\"\n\n{}\n\
         [limits]\nmax_tables = 10\nmax_columns = 20\nhealth_interval = \"100ms\"\n\n{}",
        llm.llm_toml("5s", 0),
        file_connection_toml("lite", "sqlite", &lite)
    ))
    .await;
    let (c, notices) = p.connect_with_notices().await;
    llm.push_text("DATABASE: lite\nSELECT 1 AS one;");
    simple(&c, "ASK 'how wide is a_wide'").await.expect("ask");
    let warning = notices
        .messages()
        .into_iter()
        .find(|m| m.contains("incomplete"))
        .unwrap_or_else(|| panic!("no WARNING: {:?}", notices.messages()));
    assert!(warning.contains("2 of 12 tables"), "{warning}");
    assert!(warning.contains("a_wide (30 columns)"), "{warning}");
    let prompt = llm.last_prompt_text();
    assert_eq!(prompt.matches("Table: lite.").count(), 10, "{prompt}");
    assert!(
        prompt.contains("c19") && !prompt.contains("c20"),
        "{prompt}"
    );
    // The proxy keeps serving, and dbguru.connections says what was left out (the
    // health check fills `error`, every 100 ms here).
    let mut error = None;
    for _ in 0..50 {
        error = simple(
            &c,
            "SELECT error FROM dbguru.connections WHERE name = 'lite'",
        )
        .await
        .expect("connections")
        .scalar();
        if error.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let error = error.expect("dbguru.connections.error names what was left out");
    assert!(error.contains("max_tables = 10"), "{error}");
}
