//! Unit tests of the analysis: columns, pushed predicates, semi-join candidates, LIMIT
//! and the combining statement (the integration tests run them on real databases).

use std::collections::HashMap;
use std::sync::Arc;

use crate::backends::{ColumnInfo, Dialect, SchemaInfo, TableInfo};

use super::analyze::{analyze, connections_named, Analysis};
use super::render;
use super::FederateError;

fn table(name: &str, cols: &[(&str, &str)]) -> TableInfo {
    TableInfo {
        name: name.into(),
        columns: cols
            .iter()
            .map(|(n, t)| ColumnInfo {
                name: (*n).into(),
                data_type: (*t).into(),
                primary_key: false,
                nullable: true,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn schemas() -> HashMap<String, (Dialect, Arc<SchemaInfo>)> {
    HashMap::from([
        (
            "shop".to_string(),
            (
                Dialect::Sqlite,
                Arc::new(SchemaInfo {
                    database: "shop".into(),
                    tables: vec![
                        table(
                            "customers",
                            &[
                                ("id", "INTEGER"),
                                ("email", "TEXT"),
                                ("country", "TEXT"),
                                ("notes", "TEXT"),
                            ],
                        ),
                        table(
                            "orders",
                            &[
                                ("id", "INTEGER"),
                                ("customer_id", "INTEGER"),
                                ("total", "REAL"),
                            ],
                        ),
                    ],
                }),
            ),
        ),
        (
            "crm".to_string(),
            (
                Dialect::Mysql,
                Arc::new(SchemaInfo {
                    database: "crm".into(),
                    tables: vec![table(
                        "contacts",
                        &[
                            ("email", "varchar(100)"),
                            ("segment", "varchar(20)"),
                            ("score", "decimal(6,2)"),
                        ],
                    )],
                }),
            ),
        ),
    ])
}

fn names() -> Vec<String> {
    vec!["shop".into(), "crm".into()]
}

fn run(sql: &str) -> Analysis {
    analyze(sql, &names(), Some("shop"), &schemas()).expect("analyzes")
}

#[test]
fn only_used_columns_and_single_table_predicates_go_down() {
    let a = run("SELECT c.email, k.segment FROM shop.customers c JOIN crm.contacts k ON k.email = c.email WHERE c.country = 'DE' AND k.score > 1.5 AND c.id + 1 > k.score");
    assert_eq!(a.sources.len(), 2);
    assert_eq!(
        render::subquery(&a.sources[0], None),
        "SELECT \"id\", \"email\", \"country\" FROM \"customers\" WHERE (\"country\" = 'DE')"
    );
    assert_eq!(
        render::subquery(&a.sources[1], None),
        "SELECT `email`, `segment`, `score` FROM `contacts` WHERE (`score` > 1.5)"
    );
    assert!(a.combine.contains("\"__dbguru_src_1\" c "), "{}", a.combine);
    assert!(a.combine.contains("\"__dbguru_src_2\" k "), "{}", a.combine);
    // Both directions of the equi-join are semi-join candidates.
    assert_eq!(a.semijoins.len(), 2);
}

#[test]
fn the_nullable_side_of_an_outer_join_keeps_where_predicates() {
    let a = run("SELECT c.id FROM shop.customers c LEFT JOIN crm.contacts k ON k.email = c.email AND k.segment = 'gold' WHERE k.score IS NULL");
    let contacts = render::subquery(&a.sources[1], None);
    assert!(contacts.contains("(`segment` = 'gold')"), "{contacts}");
    assert!(!contacts.contains("IS NULL"), "{contacts}");
    // Only the nullable side may be reduced by the preserved side's keys.
    assert!(
        a.semijoins.iter().all(|j| j.target == 1),
        "{:?}",
        a.semijoins
    );
}

#[test]
fn unqualified_target_tables_and_three_part_names() {
    let a = run("SELECT shop.customers.email FROM customers JOIN crm.contacts ON contacts.email = customers.email");
    assert_eq!(a.sources[0].connection, "shop");
    assert!(a.combine.contains("customers.email"), "{}", a.combine);
    assert!(!a.combine.contains("shop.customers"), "{}", a.combine);
    let named = connections_named(
        "SELECT 1 FROM customers JOIN crm.contacts ON true",
        &names(),
        Some("shop"),
    )
    .expect("names");
    assert_eq!(named.into_iter().collect::<Vec<_>>(), vec!["crm", "shop"]);
}

#[test]
fn limits_go_down_only_where_every_row_counts() {
    let a = run(
        "SELECT c.id FROM shop.customers c LEFT JOIN crm.contacts k ON k.email = c.email LIMIT 5",
    );
    assert_eq!(a.sources[0].limit, Some(5));
    assert_eq!(a.sources[1].limit, None);
    let a =
        run("SELECT c.id FROM shop.customers c JOIN crm.contacts k ON k.email = c.email LIMIT 5");
    assert!(a.sources.iter().all(|s| s.limit.is_none()));
    let a = run("SELECT c.id FROM shop.customers c LEFT JOIN crm.contacts k ON k.email = c.email ORDER BY c.id LIMIT 5");
    assert!(a.sources.iter().all(|s| s.limit.is_none()));
}

#[test]
fn writes_and_unknown_tables_are_refused() {
    assert!(matches!(
        analyze(
            "DELETE FROM shop.customers WHERE id IN (SELECT 1 FROM crm.contacts)",
            &names(),
            None,
            &schemas()
        ),
        Err(FederateError::Write)
    ));
    assert!(matches!(
        analyze(
            "SELECT 1 FROM shop.nope JOIN crm.contacts ON true",
            &names(),
            None,
            &schemas()
        ),
        Err(FederateError::UnknownTable(_))
    ));
}

#[test]
fn literals_are_quoted_per_dialect() {
    assert_eq!(
        render::literal("it's a \\ test", Dialect::Mysql),
        "'it''s a \\\\ test'"
    );
    assert_eq!(render::literal("it's", Dialect::Postgres), "'it''s'");
    assert_eq!(render::ident("we`ird", Dialect::Mysql), "`we``ird`");
    assert_eq!(
        render::table("sales.orders", Dialect::Postgres),
        "\"sales\".\"orders\""
    );
    assert_eq!(
        render::key_family("bigint"),
        Some(render::KeyFamily::Integer)
    );
    assert_eq!(
        render::key_family("varchar(10)"),
        Some(render::KeyFamily::Text)
    );
    assert_eq!(render::key_family("decimal(6,2)"), None);
}
