//! One database that behaves like PostgreSQL: every connection is a schema, the search
//! path chooses the target, settings are honoured or refused, transaction blocks are
//! real on every writable kind, command tags and the extended protocol answer as
//! PostgreSQL does, and a read-only PostgreSQL statement cannot make its connection
//! writable.

use crate::common;

use std::time::Duration;

use common::*;

/// A proxy whose user `guru` may write, with `conns` (`[[connections]]` entries).
async fn writer_proxy(conns: &str, limits: &str) -> Proxy {
    start_proxy(&format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[[users]]\nname = \"guru\"\nauth = \"trust\"\nmay_write = true\n\n\
         [llm]\nprovider = \"builtin\"\n\n{limits}\n{conns}"
    ))
    .await
}

/// A writable connection entry.
fn writable(entry: String, pool: usize) -> String {
    format!(
        "{}\nread_only = false\npool_size = {pool}\n\n",
        entry.trim_end()
    )
}

async fn scalar(c: &tokio_postgres::Client, sql: &str) -> Option<String> {
    simple(c, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {}", error_message(&e)))
        .scalar()
}

async fn code(c: &tokio_postgres::Client, sql: &str) -> String {
    let e = simple(c, sql)
        .await
        .err()
        .unwrap_or_else(|| panic!("{sql} should fail"));
    sqlstate(&e).unwrap_or_else(|| panic!("{sql}: no SQLSTATE in {e}"))
}

fn shop_and_warehouse(dir: &std::path::Path) -> String {
    let shop = sqlite_file(
        dir,
        "shop.sqlite",
        "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL);
         INSERT INTO products VALUES (1,'pen',1.5),(2,'ink',3.0);
         CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
         INSERT INTO t VALUES (1,'a'),(2,'b');",
    );
    let wh = duckdb_file(
        dir,
        "warehouse.duckdb",
        "CREATE TABLE dim_product (product_key INTEGER, name VARCHAR);
         INSERT INTO dim_product VALUES (10,'pen'),(20,'ink'),(30,'pad');
         CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR);
         INSERT INTO t VALUES (1,'a'),(2,'b');",
    );
    format!(
        "{}{}",
        writable(file_connection_toml("shop", "sqlite", &shop), 2),
        writable(file_connection_toml("warehouse", "duckdb", &wh), 2)
    )
}

#[tokio::test]
async fn qualified_names_and_the_search_path_share_one_namespace() {
    let dir = temp_dir();
    let proxy = writer_proxy(&shop_and_warehouse(dir.path()), "").await;
    let c = proxy.connect().await;

    // The target is shop; a warehouse table is reachable by the name the catalog shows.
    let r = simple(&c, "SELECT name FROM shop.products ORDER BY id")
        .await
        .unwrap();
    assert_eq!(
        r.column("name"),
        vec![Some("pen".into()), Some("ink".into())]
    );
    let r = simple(
        &c,
        "SELECT name FROM \"warehouse\".\"dim_product\" ORDER BY product_key",
    )
    .await
    .unwrap();
    assert_eq!(r.rows.len(), 3);
    assert_eq!(
        scalar(
            &c,
            "SELECT count(*) FROM warehouse.dim_product d WHERE d.name = 'pad'"
        )
        .await,
        Some("1".into())
    );
    // Two connections in one read: federated (tests/federation.rs checks the rows).
    assert!(
        simple(
            &c,
            "SELECT * FROM shop.products p JOIN warehouse.dim_product d ON p.name = d.name"
        )
        .await
        .is_ok(),
        "a read across shop and warehouse is federated"
    );

    // search_path chooses the target; SHOW, current_schema() and dbguru.target agree.
    simple(&c, "SET search_path = warehouse").await.unwrap();
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM dim_product").await,
        Some("3".into())
    );
    assert_eq!(
        scalar(&c, "SHOW search_path").await,
        Some("warehouse".into())
    );
    assert_eq!(
        scalar(&c, "SELECT current_schema()").await,
        Some("warehouse".into())
    );
    assert_eq!(
        scalar(&c, "SHOW dbguru.target").await,
        Some("warehouse".into())
    );
    // A path without a connection in it leaves the target alone.
    simple(&c, "SET search_path TO \"$user\", public")
        .await
        .unwrap();
    assert_eq!(
        scalar(&c, "SHOW dbguru.target").await,
        Some("warehouse".into())
    );
    simple(&c, "RESET search_path").await.unwrap();
    assert_eq!(
        scalar(&c, "SELECT current_schema()").await,
        Some("shop".into())
    );
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM products").await,
        Some("2".into())
    );
}

#[tokio::test]
async fn settings_are_honoured_or_refused_never_swallowed() {
    let dir = temp_dir();
    let proxy = writer_proxy(&shop_and_warehouse(dir.path()), "").await;
    let c = proxy.connect().await;
    for sql in [
        "SET GLOBAL max_connections = 1",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        "SET enable_external_access = true",
        "SET default_transaction_read_only = off",
        "SET ROLE postgres",
        "SET SESSION AUTHORIZATION postgres",
    ] {
        assert_eq!(code(&c, sql).await, "42501", "{sql}");
    }
    // SQLite has no time zones nor work_mem: refused, not pretended.
    assert_eq!(code(&c, "SET TimeZone = 'Asia/Tokyo'").await, "0A000");
    assert_eq!(code(&c, "SET work_mem = '64MB'").await, "0A000");
    assert_eq!(code(&c, "SET client_encoding = 'LATIN1'").await, "22023");
    // What the proxy answers for itself is kept and shown.
    simple(&c, "SET TimeZone = 'UTC'").await.unwrap();
    simple(&c, "SET application_name = 'report'").await.unwrap();
    assert_eq!(
        scalar(&c, "SHOW application_name").await,
        Some("report".into())
    );
    simple(&c, "SET statement_timeout = 1500").await.unwrap();
    assert_eq!(
        scalar(&c, "SHOW statement_timeout").await,
        Some("1500".into())
    );
    assert_eq!(
        scalar(&c, "SHOW dbguru.timeout").await,
        Some("1500ms".into())
    );
    // The session is usable after every refusal.
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM products").await,
        Some("2".into())
    );
}

/// A PostgreSQL database with `items` and a writable non-superuser role.
async fn pg_items() -> (String, String) {
    let pg = postgres().await;
    let (db, _) = pg.fresh_database("pglike").await;
    pg.exec_in(
        &db,
        "CREATE TABLE items (id int PRIMARY KEY, note text);
         INSERT INTO items VALUES (1,'a'),(2,'b');
         DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dbguru_writer') THEN
            CREATE ROLE dbguru_writer LOGIN; END IF; END $$;
         GRANT ALL ON items TO dbguru_writer;
         GRANT CREATE, TEMPORARY ON DATABASE \"postgres\" TO dbguru_writer;",
    )
    .await;
    pg.exec_in(
        &db,
        &format!("GRANT TEMPORARY ON DATABASE \"{db}\" TO dbguru_writer"),
    )
    .await;
    let url = pg.url_for(&db).replace("postgres@", "dbguru_writer@");
    (db, url)
}

async fn pg_note(db: &str, id: i32) -> Option<String> {
    let c = postgres().await.client_for(db).await;
    c.query_opt("SELECT note FROM items WHERE id = $1", &[&id])
        .await
        .expect("direct query")
        .map(|r| r.get(0))
}

#[tokio::test]
async fn postgresql_transaction_blocks_are_real() {
    let (db, url) = pg_items().await;
    let proxy = writer_proxy(
        &writable(url_connection_toml("pg", "postgres", &url), 2),
        "",
    )
    .await;
    let mut raw = RawConn::connect(proxy.addr, "guru", "dbguru").await;
    assert_eq!(
        status_of(&raw.query("SET dbguru.allow_write = on").await),
        'I'
    );

    // ROLLBACK undoes.
    assert_eq!(status_of(&raw.query("BEGIN").await), 'T');
    let m = raw
        .query("UPDATE items SET note = 'changed' WHERE id = 1")
        .await;
    assert_eq!(tags(&m), vec!["UPDATE 1"]);
    assert_eq!(
        pg_note(&db, 1).await.as_deref(),
        Some("a"),
        "not visible before COMMIT"
    );
    let m = raw.query("ROLLBACK").await;
    assert_eq!(
        (tags(&m), status_of(&m)),
        (vec!["ROLLBACK".to_string()], 'I')
    );
    assert_eq!(pg_note(&db, 1).await.as_deref(), Some("a"));

    // COMMIT keeps.
    raw.query("BEGIN").await;
    raw.query("UPDATE items SET note = 'kept' WHERE id = 1")
        .await;
    assert_eq!(tags(&raw.query("COMMIT").await), vec!["COMMIT"]);
    assert_eq!(pg_note(&db, 1).await.as_deref(), Some("kept"));

    // An error aborts the block until ROLLBACK; COMMIT of an aborted block rolls back.
    raw.query("BEGIN").await;
    raw.query("UPDATE items SET note = 'lost' WHERE id = 2")
        .await;
    let m = raw.query("SELECT 1/0").await;
    assert_eq!(
        (error_code(&m).as_deref(), status_of(&m)),
        (Some("22012"), 'E')
    );
    let m = raw.query("SELECT 1").await;
    assert_eq!(
        (error_code(&m).as_deref(), status_of(&m)),
        (Some("25P02"), 'E')
    );
    let m = raw.query("COMMIT").await;
    assert_eq!(
        (tags(&m), status_of(&m)),
        (vec!["ROLLBACK".to_string()], 'I')
    );
    assert_eq!(pg_note(&db, 2).await.as_deref(), Some("b"));

    // Savepoints.
    raw.query("BEGIN").await;
    raw.query("INSERT INTO items VALUES (3, 'c')").await;
    raw.query("SAVEPOINT s1").await;
    let m = raw.query("INSERT INTO items VALUES (3, 'dup')").await;
    assert_eq!(
        (error_code(&m).as_deref(), status_of(&m)),
        (Some("23505"), 'E')
    );
    let m = raw.query("ROLLBACK TO SAVEPOINT s1").await;
    assert_eq!(status_of(&m), 'T');
    let m = raw.query("ROLLBACK TO SAVEPOINT nosuch").await;
    assert_eq!(error_code(&m).as_deref(), Some("3B001"));
    raw.query("ROLLBACK TO s1").await;
    raw.query("RELEASE SAVEPOINT s1").await;
    assert_eq!(status_of(&raw.query("COMMIT").await), 'I');
    assert_eq!(pg_note(&db, 3).await.as_deref(), Some("c"));

    // Several statements in one query are one implicit transaction.
    let m = raw
        .query("INSERT INTO items VALUES (4, 'd'); SELECT 1/0")
        .await;
    assert_eq!(
        (error_code(&m).as_deref(), status_of(&m)),
        (Some("22012"), 'I')
    );
    assert_eq!(pg_note(&db, 4).await, None);

    // Command tags as PostgreSQL writes them.
    let m = raw.query("INSERT INTO items VALUES (5,'e'),(6,'f')").await;
    assert_eq!(tags(&m), vec!["INSERT 0 2"]);
    assert_eq!(
        tags(&raw.query("UPDATE items SET note = note WHERE id > 4").await),
        vec!["UPDATE 2"]
    );
    assert_eq!(
        tags(&raw.query("DELETE FROM items WHERE id > 4").await),
        vec!["DELETE 2"]
    );
    // Outside a block, COMMIT warns and stays idle.
    let m = raw.query("COMMIT").await;
    assert!(m
        .iter()
        .any(|x| x.kind == b'N' && x.field(b'C').as_deref() == Some("25P01")));
    assert_eq!(status_of(&m), 'I');

    // A read-only block reads one snapshot.
    raw.query("SET dbguru.allow_write = off").await;
    raw.query("BEGIN").await;
    let before = rows(&raw.query("SELECT count(*) FROM items").await);
    postgres()
        .await
        .exec_in(&db, "INSERT INTO items VALUES (7, 'g')")
        .await;
    let during = rows(&raw.query("SELECT count(*) FROM items").await);
    assert_eq!(before, during, "a read-only block is one snapshot");
    let m = raw.query("INSERT INTO items VALUES (8, 'h')").await;
    assert_eq!(error_code(&m).as_deref(), Some("25006"));
    raw.query("ROLLBACK").await;
    let after = rows(&raw.query("SELECT count(*) FROM items").await);
    assert_ne!(before, after);
}

#[tokio::test]
async fn pooled_postgresql_connections_keep_settings_and_temp_tables_per_client() {
    let (_db, url) = pg_items().await;
    let proxy = writer_proxy(
        &writable(url_connection_toml("pg", "postgres", &url), 1),
        "",
    )
    .await;
    let a = proxy.connect().await;
    let b = proxy.connect().await;
    simple(&a, "SET TimeZone = 'Asia/Tokyo'").await.unwrap();
    simple(&a, "SET search_path = pg").await.unwrap();
    assert_eq!(code(&a, "SET TimeZone = 'Nowhere/Atlantis'").await, "22023");
    let tz = "SELECT current_setting('TimeZone')";
    assert_eq!(scalar(&a, tz).await.as_deref(), Some("Asia/Tokyo"));
    assert_ne!(scalar(&b, tz).await.as_deref(), Some("Asia/Tokyo"));
    assert_eq!(scalar(&a, tz).await.as_deref(), Some("Asia/Tokyo"));
    assert_eq!(
        scalar(&a, "SHOW TimeZone").await.as_deref(),
        Some("Asia/Tokyo")
    );

    simple(&a, "SET dbguru.allow_write = on").await.unwrap();
    simple(&a, "BEGIN").await.unwrap();
    simple(&a, "CREATE TEMP TABLE tmp_a (x int)").await.unwrap();
    simple(&a, "INSERT INTO tmp_a VALUES (1)").await.unwrap();
    assert_eq!(
        scalar(&a, "SELECT count(*) FROM tmp_a").await,
        Some("1".into())
    );
    simple(&a, "COMMIT").await.unwrap();
    // The pool has one connection: b gets the one a used, reset.
    assert_eq!(code(&b, "SELECT * FROM tmp_a").await, "42P01");
    assert_ne!(scalar(&b, tz).await.as_deref(), Some("Asia/Tokyo"));
}

#[tokio::test]
async fn transaction_blocks_on_sqlite_duckdb_and_mariadb() {
    let dir = temp_dir();
    let my = mariadb().await;
    let (my_db, my_url) = my.fresh_database("pglike").await;
    my.exec_in(
        &my_db,
        "CREATE TABLE t (id int PRIMARY KEY, v varchar(10)) ENGINE=InnoDB; INSERT INTO t VALUES (1,'a'),(2,'b');",
    )
    .await;
    let conns = format!(
        "{}{}",
        shop_and_warehouse(dir.path()),
        writable(url_connection_toml("my", "mysql", &my_url), 2)
    );
    let proxy = writer_proxy(&conns, "").await;
    for target in ["shop", "warehouse", "my"] {
        let mut raw = RawConn::connect(proxy.addr, "guru", "dbguru").await;
        raw.query("SET dbguru.allow_write = on").await;
        raw.query(&format!("SET search_path = {target}")).await;
        let count = |m: &[RawMsg]| rows(m).first().and_then(|r| r[0].clone());

        raw.query("BEGIN").await;
        let m = raw.query("DELETE FROM t").await;
        assert_eq!(tags(&m), vec!["DELETE 2"], "{target}");
        assert_eq!(
            count(&raw.query("SELECT count(*) FROM t").await).as_deref(),
            Some("0")
        );
        assert_eq!(status_of(&raw.query("ROLLBACK").await), 'I', "{target}");
        assert_eq!(
            count(&raw.query("SELECT count(*) FROM t").await).as_deref(),
            Some("2"),
            "{target}: ROLLBACK undoes"
        );

        raw.query("BEGIN").await;
        raw.query("DELETE FROM t WHERE id = 2").await;
        let m = raw.query("SELECT * FROM no_such_table").await;
        assert_eq!(status_of(&m), 'E', "{target}");
        let m = raw.query("SELECT 1").await;
        assert_eq!(error_code(&m).as_deref(), Some("25P02"), "{target}");
        raw.query("ROLLBACK").await;
        assert_eq!(
            count(&raw.query("SELECT count(*) FROM t").await).as_deref(),
            Some("2")
        );

        raw.query("BEGIN").await;
        raw.query("UPDATE t SET v = 'z' WHERE id = 1").await;
        raw.query("COMMIT").await;
        let m = raw.query("SELECT v FROM t WHERE id = 1").await;
        assert_eq!(rows(&m), vec![vec![Some("z".to_string())]], "{target}");
    }
}

#[tokio::test]
async fn an_idle_block_is_rolled_back_and_its_client_told() {
    let dir = temp_dir();
    let proxy = writer_proxy(
        &shop_and_warehouse(dir.path()),
        "[limits]\nidle_in_transaction = \"300ms\"\n",
    )
    .await;
    let mut raw = RawConn::connect(proxy.addr, "guru", "dbguru").await;
    raw.query("SET dbguru.allow_write = on").await;
    raw.query("BEGIN").await;
    raw.query("DELETE FROM t").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let m = raw.query("SELECT 1").await;
    assert_eq!(error_code(&m).as_deref(), Some("25P03"));
    assert_eq!(status_of(&raw.query("ROLLBACK").await), 'I');
    let m = raw.query("SELECT count(*) FROM t").await;
    assert_eq!(rows(&m), vec![vec![Some("2".to_string())]]);
}

#[tokio::test]
async fn extended_protocol_answers_each_statement_with_its_own_result() {
    let dir = temp_dir();
    let proxy = writer_proxy(&shop_and_warehouse(dir.path()), "").await;
    let mut raw = RawConn::connect(proxy.addr, "guru", "dbguru").await;
    raw.query("SET dbguru.allow_write = on").await;

    // pgJDBC getMetaData / psqlODBC SQLPrepare: describe one unnamed statement...
    let mut m = RawConn::parse("", "SELECT 1 AS a");
    m.extend(RawConn::describe(b'S', ""));
    m.extend(RawConn::sync());
    raw.send(&m).await;
    let got = raw.until_ready().await;
    assert!(got
        .iter()
        .any(|x| x.kind == b'T' && x.columns()[0].0 == "a"));
    // ...then run a different one: its own rows.
    let mut m = RawConn::parse("", "SELECT 2 AS b");
    m.extend(RawConn::bind("", "", &[]));
    m.extend(RawConn::execute(""));
    m.extend(RawConn::sync());
    raw.send(&m).await;
    assert_eq!(
        rows(&raw.until_ready().await),
        vec![vec![Some("2".to_string())]]
    );

    // Describe of a write never runs it.
    let mut m = RawConn::parse("", "DELETE FROM t");
    m.extend(RawConn::bind("", "", &[]));
    m.extend(RawConn::describe(b'P', ""));
    m.extend(RawConn::sync());
    raw.send(&m).await;
    raw.until_ready().await;
    assert_eq!(
        rows(&raw.query("SELECT count(*) FROM t").await),
        vec![vec![Some("2".to_string())]]
    );

    // A statement prepared now and executed later returns the rows of later.
    let mut m = RawConn::parse("s1", "SELECT count(*) AS n FROM t");
    m.extend(RawConn::describe(b'S', "s1"));
    m.extend(RawConn::sync());
    raw.send(&m).await;
    raw.until_ready().await;
    raw.query("INSERT INTO t VALUES (3, 'c')").await;
    let mut m = RawConn::bind("", "s1", &[]);
    m.extend(RawConn::execute(""));
    m.extend(RawConn::sync());
    raw.send(&m).await;
    assert_eq!(
        rows(&raw.until_ready().await),
        vec![vec![Some("3".to_string())]]
    );

    // tokio-postgres `prepare` describes a statement with a parameter before binding
    // it: a read on SQLite reports its real columns (run with NULL parameters).
    let c = proxy.connect().await;
    let stmt = c
        .prepare("SELECT id, v FROM t WHERE id = $1")
        .await
        .expect("prepare");
    assert_eq!(stmt.columns().len(), 2);
    let got = c.query(&stmt, &[&"1"]).await.expect("query");
    assert_eq!(got.len(), 1);

    // Too many parameters.
    let mut m = RawConn::parse("", "SELECT $70000");
    m.extend(RawConn::sync());
    raw.send(&m).await;
    assert_eq!(
        error_code(&raw.until_ready().await).as_deref(),
        Some("54000")
    );
    assert_eq!(
        rows(&raw.query("SELECT 5").await),
        vec![vec![Some("5".to_string())]]
    );
}

#[tokio::test]
async fn describe_of_a_data_modifying_cte_does_not_run_it_on_postgresql() {
    let (db, url) = pg_items().await;
    let proxy = writer_proxy(
        &writable(url_connection_toml("pg", "postgres", &url), 2),
        "",
    )
    .await;
    let mut raw = RawConn::connect(proxy.addr, "guru", "dbguru").await;
    raw.query("SET dbguru.allow_write = on").await;
    let mut m = RawConn::parse(
        "",
        "WITH d AS (DELETE FROM items RETURNING *) SELECT count(*) AS n FROM d",
    );
    m.extend(RawConn::describe(b'S', ""));
    m.extend(RawConn::sync());
    raw.send(&m).await;
    let got = raw.until_ready().await;
    assert!(got.iter().any(|x| x.kind == b'T'), "described: {got:?}");
    assert_eq!(pg_note(&db, 1).await.as_deref(), Some("a"));
    // Bind and Describe of the portal do not run it either; Execute does.
    let mut m = RawConn::bind("", "", &[]);
    m.extend(RawConn::describe(b'P', ""));
    m.extend(RawConn::sync());
    raw.send(&m).await;
    raw.until_ready().await;
    assert_eq!(pg_note(&db, 1).await.as_deref(), Some("a"));
}

#[tokio::test]
async fn a_read_only_postgresql_statement_cannot_make_its_connection_writable() {
    let (db, url) = pg_items().await;
    postgres()
        .await
        .exec_in(
            &db,
            "CREATE FUNCTION w() RETURNS int LANGUAGE sql AS $$ INSERT INTO items VALUES (99, 'w') RETURNING 1 $$;
             GRANT EXECUTE ON FUNCTION w() TO dbguru_writer;",
        )
        .await;
    let toml = writer_toml(&writable(url_connection_toml("pg", "postgres", &url), 1));
    let cfg = dbguru::config::Config::from_toml(&toml, std::path::Path::new("/")).expect("config");
    let backend = dbguru::backends::open(&cfg.connections[0])
        .await
        .expect("open");
    let read = dbguru::backends::QueryOptions {
        timeout: Duration::from_secs(10),
        ..Default::default()
    };
    // What `query_to_xml(E'select s\x65t_config(...)')` did through the guard, sent
    // straight to the backend: the setting cannot outlive its read-only transaction's
    // statement, and the pooled connection does not become writable.
    for _ in 0..10 {
        let r = backend
            .query(
                "SELECT set_config('default_transaction_read_only', 'off', false)",
                &read,
            )
            .await
            .expect("set_config runs");
        if let dbguru::backends::QueryResult::Rows(s) = r {
            dbguru::backends::collect(s).await.expect("rows");
        }
    }
    let e = backend
        .query("SELECT w()", &read)
        .await
        .expect_err("refused");
    assert!(
        matches!(e, dbguru::backends::BackendError::ReadOnly(_)),
        "a write from a read-only session must fail with 25006, got {e:?}"
    );
    assert_eq!(pg_note(&db, 99).await, None);
}

fn writer_toml(conns: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[[users]]\nname = \"guru\"\nauth = \"trust\"\nmay_write = true\n\n[llm]\nprovider = \"builtin\"\n\n{conns}"
    )
}
