//! Extended query protocol details that drivers rely on, through a real PostgreSQL
//! passthrough: Execute with a row limit (PortalSuspended, then resume), portals
//! interleaved in one transaction, and an error that leaves the connection usable.

use crate::common;

use common::*;

async fn proxy_over_numbers() -> Proxy {
    let pg = postgres().await;
    let (db, url) = pg.fresh_database("ext").await;
    pg.exec_in(
        &db,
        "CREATE TABLE nums AS SELECT g AS n, md5(g::text) AS h FROM generate_series(1, 10) g",
    )
    .await;
    start_proxy(&base_config(&url_connection_toml("pg", "postgres", &url))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_with_a_row_limit_suspends_and_resumes() {
    let proxy = proxy_over_numbers().await;
    let mut c = proxy.connect().await;
    let tx = c.transaction().await.expect("begin");
    // Parse/Describe/Bind once, then Execute(max_rows = 3) until the portal is done:
    // 3, 3, 3 rows each ending in PortalSuspended, then 1 row and CommandComplete.
    let portal = tx
        .bind("SELECT n, h FROM nums ORDER BY n", &[])
        .await
        .expect("bind");
    let mut seen = Vec::new();
    for want in [3, 3, 3, 1] {
        let rows = tx.query_portal(&portal, 3).await.expect("fetch");
        assert_eq!(rows.len(), want, "rows of this fetch (after {seen:?})");
        for r in &rows {
            let n: i32 = r.get(0);
            let h: String = r.get(1);
            assert_eq!(h.len(), 32, "md5 of {n}");
            seen.push(n);
        }
    }
    assert_eq!(seen, (1..=10).collect::<Vec<i32>>());
    // An exhausted portal answers with no rows.
    assert!(tx
        .query_portal(&portal, 3)
        .await
        .expect("fetch past the end")
        .is_empty());
    tx.commit().await.expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portals_interleave_and_take_parameters() {
    let proxy = proxy_over_numbers().await;
    let mut c = proxy.connect().await;
    let tx = c.transaction().await.expect("begin");
    let stmt = tx
        .prepare("SELECT n FROM nums WHERE n > $1 ORDER BY n")
        .await
        .expect("prepare");
    let low = tx.bind(&stmt, &[&0i32]).await.expect("bind low");
    let high = tx.bind(&stmt, &[&6i32]).await.expect("bind high");
    let ns = |rows: Vec<tokio_postgres::Row>| rows.iter().map(|r| r.get(0)).collect::<Vec<i32>>();
    assert_eq!(ns(tx.query_portal(&low, 2).await.expect("low 1")), [1, 2]);
    assert_eq!(ns(tx.query_portal(&high, 2).await.expect("high 1")), [7, 8]);
    assert_eq!(ns(tx.query_portal(&low, 2).await.expect("low 2")), [3, 4]);
    assert_eq!(
        ns(tx.query_portal(&high, 5).await.expect("high 2")),
        [9, 10]
    );
    assert_eq!(
        ns(tx.query_portal(&low, 0).await.expect("low rest")),
        [5, 6, 7, 8, 9, 10]
    );
    tx.commit().await.expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extended_protocol_error_leaves_the_connection_usable() {
    let proxy = proxy_over_numbers().await;
    let c = proxy.connect().await;
    for _ in 0..3 {
        let err = c
            .query("SELECT no_such_column FROM nums WHERE n = $1", &[&1i32])
            .await
            .expect_err("unknown column");
        assert_eq!(sqlstate(&err).as_deref(), Some("42703"), "{err}");
        let rows = c
            .query("SELECT n FROM nums WHERE n = $1", &[&4i32])
            .await
            .expect("good statement after the error");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get::<_, i32>(0), 4);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_results_keep_their_columns() {
    let proxy = proxy_over_numbers().await;
    let c = proxy.connect().await;
    let sql = "SELECT n, h FROM nums WHERE n > 100";
    // Extended protocol: Describe reports the real columns although no row arrives.
    let stmt = c.prepare(sql).await.expect("prepare");
    let cols: Vec<(String, tokio_postgres::types::Type)> = stmt
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.type_().clone()))
        .collect();
    assert_eq!(
        cols,
        vec![
            ("n".to_string(), tokio_postgres::types::Type::INT4),
            ("h".to_string(), tokio_postgres::types::Type::TEXT)
        ]
    );
    assert!(c.query(&stmt, &[]).await.expect("query").is_empty());
    // Simple protocol: RowDescription, no DataRow, CommandComplete "SELECT 0".
    let msgs = c.simple_query(sql).await.expect("simple");
    let mut described = None;
    let mut completed = None;
    for m in msgs {
        match m {
            tokio_postgres::SimpleQueryMessage::RowDescription(cols) => {
                described = Some(
                    cols.iter()
                        .map(|c| c.name().to_string())
                        .collect::<Vec<_>>(),
                )
            }
            tokio_postgres::SimpleQueryMessage::CommandComplete(n) => completed = Some(n),
            tokio_postgres::SimpleQueryMessage::Row(r) => panic!("unexpected row {:?}", r.get(0)),
            _ => {}
        }
    }
    assert_eq!(described, Some(vec!["n".to_string(), "h".to_string()]));
    assert_eq!(completed, Some(0));
}

/// Values that would break a careless substitution into the statement text.
const TRICKY: &[&str] = &[
    "it's",
    r"back\slash",
    r"\' OR 1=1 -- ",
    "-- not a comment",
    "$1",
    "",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bound_values_arrive_intact_in_postgres_and_mariadb() {
    let pg = postgres().await;
    let (_, pg_url) = pg.fresh_database("bind").await;
    let my = mariadb().await;
    let (_, my_url) = my.fresh_database("bind").await;
    let proxy = start_proxy(&base_config(&format!(
        "{}{}",
        url_connection_toml("pg", "postgres", &pg_url),
        url_connection_toml("my", "mysql", &my_url)
    )))
    .await;
    let c = proxy.connect().await;
    for (target, sql) in [
        ("pg", "SELECT $1::text AS v, 10 - $2::int AS d"),
        ("my", "SELECT CONCAT($1, '') AS v, 10 -$2 AS d"),
    ] {
        simple(&c, &format!("SET dbguru.target = '{target}'"))
            .await
            .expect("target");
        for v in TRICKY {
            let rows = c
                .query_typed(
                    sql,
                    &[
                        (v, tokio_postgres::types::Type::TEXT),
                        (&"-5", tokio_postgres::types::Type::TEXT),
                    ],
                )
                .await
                .unwrap_or_else(|e| panic!("{target} {v:?}: {e}"));
            assert_eq!(rows.len(), 1, "{target} {v:?}");
            assert_eq!(rows[0].get::<_, String>(0), *v, "{target}: value as bound");
            let d: String = match rows[0].try_get::<_, i64>(1) {
                Ok(n) => n.to_string(),
                Err(_) => rows[0].get::<_, i32>(1).to_string(),
            };
            assert_eq!(d, "15", "{target}: 10 - (-5)");
        }
        // NULL stays NULL.
        let rows = c
            .query_typed(
                sql,
                &[
                    (&None::<String>, tokio_postgres::types::Type::TEXT),
                    (&"1", tokio_postgres::types::Type::TEXT),
                ],
            )
            .await
            .expect("null");
        assert_eq!(rows[0].get::<_, Option<String>>(0), None, "{target}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_binds_parameters_and_keeps_the_statement_prepared() {
    let pg = postgres().await;
    let (db, url) = pg.fresh_database("prep").await;
    pg.exec_in(
        &db,
        "CREATE TABLE prep_items (id int PRIMARY KEY, name text)",
    )
    .await;
    pg.exec_in(
        &db,
        "INSERT INTO prep_items SELECT g, 'n' || g FROM generate_series(1, 50) g",
    )
    .await;
    let proxy = start_proxy(&base_config(&url_connection_toml("pg", "postgres", &url))).await;
    let c = proxy.connect().await;
    let mark = pg.log_mark();
    let stmt = c
        .prepare("SELECT name FROM prep_items WHERE id = $1")
        .await
        .expect("prepare");
    for id in 1..=20i32 {
        let rows = c.query(&stmt, &[&id]).await.expect("query");
        assert_eq!(rows[0].get::<_, String>(0), format!("n{id}"));
    }
    // The database bound the values to one named statement, prepared once and executed
    // 20 times (log_statement = all logs `execute <name>: <text>` per execution); no
    // value was pasted into the text.
    let log = pg.statement_log_since(mark);
    let text = "SELECT name FROM prep_items WHERE id = $1";
    let named = log
        .lines()
        .filter(|l| l.contains("execute s") && l.ends_with(text))
        .count();
    assert!(
        named >= 20,
        "executions of the named statement: {named}\n{log}"
    );
    assert!(
        !log.contains("prep_items WHERE id = 7"),
        "a value was pasted into the text:\n{log}"
    );
    // A schema change under the prepared statement: prepared again, once.
    pg.exec_in(
        &db,
        "ALTER TABLE prep_items ALTER COLUMN name TYPE varchar(20)",
    )
    .await;
    let rows = c.query(&stmt, &[&3i32]).await.expect("after ALTER");
    assert_eq!(rows[0].get::<_, String>(0), "n3");
}
