//! Unit tests of the guard.
use super::*;
use crate::backends::Dialect;

fn refused(sql: &str, d: Dialect) -> GuardError {
    check(sql, d, false, None).expect_err(sql)
}

#[test]
fn reads_pass_and_get_capped() {
    let c = check("SELECT * FROM t", Dialect::Postgres, false, Some(11)).expect("ok");
    assert_eq!(c.sql, "SELECT * FROM t LIMIT 11");
    let c = check("SELECT * FROM t LIMIT 5;", Dialect::Sqlite, false, Some(11)).expect("ok");
    assert_eq!(c.sql, "SELECT * FROM t LIMIT 5");
    let c = check(
        "SELECT * FROM t LIMIT 500",
        Dialect::Duckdb,
        false,
        Some(11),
    )
    .expect("ok");
    assert_eq!(c.sql, "SELECT * FROM t LIMIT 11");
    let c = check(
        "SELECT * FROM t LIMIT 10, 500",
        Dialect::Mysql,
        false,
        Some(11),
    )
    .expect("ok");
    assert!(c.sql.ends_with("LIMIT 10, 11"), "{}", c.sql);
    let c = check(
        "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
        Dialect::Postgres,
        false,
        None,
    )
    .expect("ok");
    assert!(c.is_query);
}

#[test]
fn writes_and_dangerous_things_are_refused() {
    for (sql, d) in [
        ("DROP TABLE customers", Dialect::Postgres),
        ("DELETE FROM customers", Dialect::Mysql),
        ("UPDATE customers SET name = 'x'", Dialect::Sqlite),
        ("INSERT INTO t VALUES (1)", Dialect::Duckdb),
        (
            "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
            Dialect::Postgres,
        ),
        ("SELECT * FROM t FOR UPDATE", Dialect::Postgres),
        ("SELECT * INTO t2 FROM t", Dialect::Postgres),
    ] {
        assert!(
            matches!(refused(sql, d), GuardError::WriteNotAllowed(_)),
            "{sql}"
        );
    }
    assert!(matches!(
        refused("SELECT 1; SELECT 2", Dialect::Postgres),
        GuardError::MultipleStatements(2)
    ));
    assert!(matches!(
        refused("COPY t TO PROGRAM 'rm -rf /'", Dialect::Postgres),
        GuardError::Forbidden(_)
    ));
    assert!(matches!(
        refused("SELECT pg_read_file('/etc/passwd')", Dialect::Postgres),
        GuardError::ForbiddenFunction(_)
    ));
    assert!(matches!(
        refused("ATTACH DATABASE '/tmp/x.db' AS x", Dialect::Sqlite),
        GuardError::Forbidden(_)
    ));
    assert!(matches!(
        refused("SELECT * FROM t INTO OUTFILE '/tmp/x'", Dialect::Mysql),
        GuardError::Forbidden(_)
    ));
    assert!(matches!(
        refused("SELECT * FROM read_csv('/etc/passwd')", Dialect::Duckdb),
        GuardError::ForbiddenFunction(_)
    ));
    assert!(matches!(
        refused("SELECT load_file('/etc/passwd')", Dialect::Mysql),
        GuardError::ForbiddenFunction(_)
    ));
    assert!(matches!(
        refused("PRAGMA writable_schema = 1", Dialect::Sqlite),
        GuardError::Forbidden(_)
    ));
    assert!(matches!(refused("", Dialect::Sqlite), GuardError::Empty));
}

#[test]
fn mongodb_pipelines_are_guarded_and_sql_is_checked() {
    let ok =
        r#"{"collection": "events", "pipeline": [{"$group": {"_id": "$kind", "n": {"$sum": 1}}}]}"#;
    let c = check(ok, Dialect::Mongodb, false, Some(11)).expect("pipeline passes");
    assert_eq!(c.sql, ok);
    assert!(c.is_query);
    for bad in [
        r#"{"collection": "events", "pipeline": [{"$out": "copy"}]}"#,
        r#"{"collection": "events", "pipeline": [{"$lookup": {"from": "x", "pipeline": [{"$merge": {"into": "y"}}], "as": "z"}}]}"#,
        r#"{"collection": "events", "pipeline": [{"$match": {"$where": "true"}}]}"#,
    ] {
        assert!(
            matches!(refused(bad, Dialect::Mongodb), GuardError::Forbidden(_)),
            "{bad}"
        );
        assert!(
            check(bad, Dialect::Mongodb, true, None).is_err(),
            "{bad} even with writes allowed"
        );
    }
    assert!(matches!(
        refused("{not json", Dialect::Mongodb),
        GuardError::Unparsable { .. }
    ));
    assert!(matches!(
        refused("UPDATE events SET kind = 'x'", Dialect::Mongodb),
        GuardError::WriteNotAllowed(_)
    ));
    let c =
        check("SELECT kind FROM events", Dialect::Mongodb, false, Some(11)).expect("sql passes");
    assert_eq!(c.sql, "SELECT kind FROM events LIMIT 11");
}

#[test]
fn shapes_differ_only_in_free_standing_numbers() {
    let a = shape("SELECT a FROM t1 WHERE id = 14718 AND x = 1.5");
    assert_eq!(a, shape("SELECT a FROM t1 WHERE id = 7 AND x = 22.0"));
    assert_eq!(a, b"SELECT a FROM t1 WHERE id = \0 AND x = \0.\0".to_vec());
    // Digits inside words, parameters, strings, identifiers and comments stay.
    for (x, y) in [
        ("SELECT * FROM t1", "SELECT * FROM t2"),
        ("SELECT $1", "SELECT $2"),
        ("SELECT 1e5", "SELECT 1e6"),
        ("SELECT 0x1F", "SELECT 0x2F"),
        ("SELECT '1'", "SELECT '2'"),
        ("SELECT \"c1\"", "SELECT \"c2\""),
        ("SELECT 1 -- 1\n", "SELECT 1 -- 2\n"),
        ("SELECT 1 /* 1 */", "SELECT 1 /* 2 */"),
        ("SELECT 1 ? 2", "SELECT 1 ? ?"),
    ] {
        assert_ne!(shape(x), shape(y), "{x} / {y}");
    }
}

#[test]
fn cached_verdicts_match_the_checks() {
    let cache = VerdictCache::default();
    for _ in 0..2 {
        let c = cache
            .check(
                "SELECT abalance FROM a WHERE aid = 5;",
                Dialect::Postgres,
                false,
            )
            .expect("read passes");
        assert_eq!(c.sql, "SELECT abalance FROM a WHERE aid = 5");
        assert!(c.is_query);
    }
    // Same shape as the accepted statement, different number: answered from the cache.
    let c = cache
        .check(
            "SELECT abalance FROM a WHERE aid = 77",
            Dialect::Postgres,
            false,
        )
        .expect("same shape passes");
    assert_eq!(c.sql, "SELECT abalance FROM a WHERE aid = 77");
    // The verdict is per dialect and per write permission; refusals are never cached.
    for _ in 0..2 {
        assert!(cache
            .check("DELETE FROM a WHERE aid = 5", Dialect::Postgres, false)
            .is_err());
    }
    assert!(cache
        .check("DELETE FROM a WHERE aid = 5", Dialect::Postgres, true)
        .is_ok());
    assert!(cache
        .check("DELETE FROM a WHERE aid = 6", Dialect::Postgres, false)
        .is_err());
    assert!(cache
        .check(
            "SELECT pg_read_file('/etc/passwd', 0, 10)",
            Dialect::Postgres,
            false
        )
        .is_err());
    assert!(cache
        .check("SELECT 1; SELECT 2", Dialect::Postgres, false)
        .is_err());
}

#[test]
fn duckdb_file_scans_by_string_are_refused() {
    for sql in [
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM 'data.csv' AS d",
    ] {
        assert!(check(sql, Dialect::Duckdb, false, None).is_err(), "{sql}");
    }
}

#[test]
fn writes_pass_when_allowed_but_files_never() {
    assert!(check("INSERT INTO t VALUES (1)", Dialect::Postgres, true, None).is_ok());
    assert!(check("COPY t TO '/tmp/x'", Dialect::Postgres, true, None).is_err());
}

#[test]
fn executable_comments_are_refused_in_every_dialect() {
    for d in [
        Dialect::Mysql,
        Dialect::Postgres,
        Dialect::Sqlite,
        Dialect::Duckdb,
    ] {
        for sql in [
            "SELECT 1 /*!, LOAD_FILE('/etc/passwd') */",
            "SELECT 1 /*!50000 , 2 */",
            "SELECT 1 /*M!100000 , LOAD_FILE('/etc/passwd') */",
            "SELECT 1 /*M! INTO\tOUTFILE '/tmp/x' */",
            "SELECT 1 /*m!, 2 */",
        ] {
            assert!(
                matches!(check(sql, d, true, None), Err(GuardError::Forbidden(_))),
                "{d:?}: {sql}"
            );
        }
    }
    // Ordinary comments and optimizer hints stay fine.
    assert!(check(
        "SELECT /*+ NO_INDEX(t) */ 1 /* ! */",
        Dialect::Mysql,
        false,
        None
    )
    .is_ok());
}

#[test]
fn word_pairs_are_found_across_any_separator_and_case() {
    for sql in [
        "SELECT 1 INTO\tOUTFILE '/tmp/x'",
        "SELECT 1 into\n\noutfile '/tmp/x'",
        "SELECT 1 InTo/* x */OutFile '/tmp/x'",
        "SELECT 1 INTO -- x\n DUMPFILE '/tmp/x'",
        "SELECT 1 INTO # x\n OUTFILE '/tmp/x'",
    ] {
        assert!(
            matches!(
                check(sql, Dialect::Mysql, true, None),
                Err(GuardError::Forbidden(_))
            ),
            "{sql}"
        );
    }
    for sql in ["COPY t TO\tPROGRAM 'id'", "COPY t FROM/**/program 'id'"] {
        assert!(check(sql, Dialect::Postgres, true, None).is_err(), "{sql}");
    }
    // The same words inside strings and identifiers are data.
    assert!(check("SELECT 'into outfile' AS x", Dialect::Mysql, false, None).is_ok());
    assert!(check(
        "SELECT \"to program\" FROM t",
        Dialect::Postgres,
        false,
        None
    )
    .is_ok());
}

#[test]
fn denied_functions_are_found_however_they_are_written() {
    let pg = Dialect::Postgres;
    for sql in [
        "SELECT query_to_xml(E'select s\\x65t_config(''default_transaction_r\\x65ad_only'', ''off'', false)', true, true, '')",
        "SELECT pg_catalog.set_config('a', 'b', false)",
        "SELECT \"set_config\"('a', 'b', false)",
        "SELECT SET_CONFIG('a', 'b', false)",
        "SELECT pg_try_advisory_lock(1)",
        "SELECT pg_advisory_xact_lock(1)",
        "SELECT pg_advisory_unlock_all()",
        "SELECT cursor_to_xmlschema('c', true, true, '')",
        "SELECT table_to_xml('customers', true, true, '')",
        "SELECT * FROM dblink('host=x', 'select 1') AS t(a int)",
        "SELECT pg_stat_reset()",
        "SELECT pg_notify('c', 'x')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT pg_logical_emit_message(true, 'x', 'y')",
        "SELECT pg_replication_origin_create('x')",
        "SELECT pg_reload_conf()",
        "SELECT pg_terminate_backend(1)",
        "SELECT ts_stat('select 1')",
        "SELECT * FROM ROWS FROM (set_config('a', 'b', false))",
    ] {
        assert!(
            matches!(check(sql, pg, false, None), Err(GuardError::ForbiddenFunction(_))),
            "{sql}: {:?}",
            check(sql, pg, false, None)
        );
        assert!(check(sql, pg, true, None).is_err(), "{sql} (writes allowed)");
    }
    for sql in [
        "SELECT GET_LOCK('x', 10)",
        "SELECT release_lock('x')",
        "SELECT RELEASE_ALL_LOCKS()",
        "SELECT IS_FREE_LOCK('x')",
        "SELECT is_used_lock('x')",
        "SELECT BENCHMARK(100000000, md5('x'))",
        "SELECT `get_lock`('x', 1)",
    ] {
        assert!(check(sql, Dialect::Mysql, false, None).is_err(), "{sql}");
    }
    // Writes through functions: refused for read-only sessions only.
    for sql in [
        "SELECT nextval('s')",
        "SELECT txid_current()",
        "SELECT pg_current_xact_id()",
    ] {
        assert!(
            matches!(
                check(sql, pg, false, None),
                Err(GuardError::WriteNotAllowed(_))
            ),
            "{sql}"
        );
        assert!(check(sql, pg, true, None).is_ok(), "{sql}");
    }
    // Harmless with a statement timeout.
    assert!(check("SELECT pg_sleep(0.01)", pg, false, None).is_ok());
    assert!(check("SELECT SLEEP(0)", Dialect::Mysql, false, None).is_ok());
    assert!(check("SELECT load_extension('x')", Dialect::Sqlite, false, None).is_err());
    // A table whose name starts like a denied function is still a table.
    assert!(check("INSERT INTO lo_items (a) VALUES (1)", pg, true, None).is_ok());
    assert!(check("SELECT * FROM query", Dialect::Duckdb, false, None).is_ok());
}

#[test]
fn read_only_forms_pass() {
    let c = check("TABLE customers", Dialect::Postgres, false, Some(11)).expect("TABLE");
    assert_eq!(c.sql, "SELECT * FROM customers LIMIT 11");
    assert!(c.is_query);
    let c = check("table public.\"Customers\";", Dialect::Sqlite, false, None).expect("TABLE");
    assert_eq!(c.sql, "SELECT * FROM public.\"Customers\"");
    for (sql, d) in [
        ("VALUES (1)", Dialect::Postgres),
        ("VALUES (1), (2)", Dialect::Sqlite),
        ("WITH x AS (SELECT 1 AS a) SELECT a FROM x", Dialect::Duckdb),
        ("EXPLAIN SELECT * FROM t", Dialect::Postgres),
        ("SELECT $$a;b$$", Dialect::Postgres),
        ("SELECT 'a;b' -- c; d\n", Dialect::Mysql),
    ] {
        let c = check(sql, d, false, Some(11)).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert!(c.is_query, "{sql}");
    }
    assert!(check(
        "TABLE customers; DROP TABLE x",
        Dialect::Postgres,
        false,
        None
    )
    .is_err());
}

#[test]
fn smuggling_a_second_statement_is_refused() {
    for (sql, d) in [
        ("SELECT 1; SELECT 2", Dialect::Postgres),
        ("SELECT 'a\\'; DELETE FROM t; -- '", Dialect::Postgres),
        ("SELECT 'a\\''; DELETE FROM t; -- '", Dialect::Mysql),
        ("SELECT \"a\\\"; DELETE FROM t; -- \"", Dialect::Mysql),
        ("SELECT 1 /* x */; DELETE FROM t", Dialect::Sqlite),
    ] {
        assert!(check(sql, d, true, None).is_err(), "{d:?}: {sql}");
    }
}

#[test]
fn the_capped_rewrite_is_checked_again() {
    let c = check(
        "SELECT a -- note\nFROM t /* x */",
        Dialect::Postgres,
        false,
        Some(5),
    )
    .expect("ok");
    assert_eq!(c.sql, "SELECT a FROM t LIMIT 5");
    assert!(check(&c.sql, Dialect::Postgres, false, None).is_ok());
}

#[test]
fn huge_statements_are_refused_with_limit_errors() {
    let plus = format!("SELECT 1{}", "+1".repeat(100_000));
    let e = check(&plus, Dialect::Postgres, false, Some(10)).expect_err("too complex");
    assert!(
        matches!(&e, GuardError::Limit(l) if l.sqlstate() == "54001"),
        "{e}"
    );
    let deep = format!("SELECT {}1{}", "(".repeat(100), ")".repeat(100));
    let e = check(&deep, Dialect::Postgres, false, None).expect_err("too deep");
    assert!(
        matches!(&e, GuardError::Limit(l) if l.sqlstate() == "54001"),
        "{e}"
    );
    let long = format!("SELECT '{}'", "x".repeat(5 << 20));
    let e = check(&long, Dialect::Sqlite, false, None).expect_err("too long");
    assert!(
        matches!(&e, GuardError::Limit(l) if l.sqlstate() == "54000"),
        "{e}"
    );
    // Just under the bound: parsed, checked and dropped without trouble on this stack.
    let near = format!("SELECT 1{}", "+1".repeat(9_990));
    assert!(check(&near, Dialect::Postgres, false, Some(10)).is_ok());
}

#[test]
fn duckdb_paths_as_quoted_identifiers_are_refused() {
    for sql in [
        "SELECT * FROM \"/etc/passwd\"",
        "SELECT * FROM \"data.csv\"",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_csv_auto('/etc/passwd')",
    ] {
        assert!(check(sql, Dialect::Duckdb, false, None).is_err(), "{sql}");
    }
    assert!(check("SELECT * FROM \"Customers\"", Dialect::Duckdb, false, None).is_ok());
}
