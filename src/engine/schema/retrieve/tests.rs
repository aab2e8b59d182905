use super::*;
use crate::backends::{ColumnInfo, Dialect};
use crate::engine::plan::PlannedQuery;
use crate::keys::ForeignKey;

fn table(name: &str, cols: &[&str], comment: Option<&str>) -> TableInfo {
    TableInfo {
        name: name.into(),
        columns: cols
            .iter()
            .enumerate()
            .map(|(i, c)| ColumnInfo {
                name: (*c).into(),
                data_type: "integer".into(),
                primary_key: i == 0,
                nullable: i != 0,
                ..Default::default()
            })
            .collect(),
        comment: comment.map(str::to_string),
        ..Default::default()
    }
}

type Keys = HashMap<String, Arc<KeyInfo>>;

/// `n` filler tables plus the interesting ones, in one database `erp`.
fn erp(n: usize) -> (Vec<(i64, DbSchema)>, Keys) {
    let mut tables = vec![
        table("hr_employee", &["id", "first_name", "dept_id"], None),
        table(
            "hr_department",
            &["id", "name"],
            Some("company departments"),
        ),
        table(
            "hr_employee_leave",
            &["id", "employee_id", "days", "leave_type"],
            Some("vacation and sick days taken by staff"),
        ),
        table(
            "crm_acct",
            &["id", "acct_name", "industry"],
            Some("customer accounts (companies we sell to)"),
        ),
        table(
            "salesOrderLine",
            &["id", "orderId", "qty", "unitPrice"],
            None,
        ),
        table("sales_order", &["id", "acct_id", "ordered_at"], None),
    ];
    for i in 0..n {
        tables.push(table(
            &format!("misc_filler_{i}"),
            &["id", "code", "label", "created_at"],
            Some("reference data"),
        ));
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let keys = KeyInfo {
        foreign_keys: vec![
            ForeignKey {
                name: None,
                table: "hr_employee".into(),
                columns: vec!["dept_id".into()],
                ref_table: "hr_department".into(),
                ref_columns: vec!["id".into()],
            },
            ForeignKey {
                name: None,
                table: "salesOrderLine".into(),
                columns: vec!["orderId".into()],
                ref_table: "sales_order".into(),
                ref_columns: vec!["id".into()],
            },
        ],
        indexes: Vec::new(),
    };
    let db = DbSchema {
        name: "erp".into(),
        dialect: Dialect::Postgres,
        schema: Arc::new(SchemaInfo {
            database: "erp".into(),
            tables,
        }),
    };
    (
        vec![(1, db)],
        HashMap::from([("erp".to_string(), Arc::new(keys))]),
    )
}

fn run(
    dbs: &[(i64, DbSchema)],
    keys: &Keys,
    question: &str,
    history: &[Turn],
    pinned: &[String],
    budget: usize,
) -> (Vec<(i64, DbSchema)>, Selection) {
    select(
        dbs,
        &Query {
            related: "",
            question,
            history,
            pinned,
            keys,
            budget,
            indexes: &HashMap::new(),
        },
    )
}

fn names(sel: &Selection) -> Vec<String> {
    sel.chosen.iter().map(|c| c.table.clone()).collect()
}

#[test]
fn terms_split_identifiers_fold_plurals_and_expand_abbreviations() {
    assert_eq!(terms("salesOrderLine"), ["sale", "order", "line"]);
    assert_eq!(
        terms("hr_employee_leaves"),
        ["human", "hr", "employee", "leave"]
    );
    assert_eq!(terms("categories of boxes"), ["category", "box"]);
    assert_eq!(terms("crm_acct"), ["crm", "account", "acct"]);
    assert_eq!(terms("how many orders in 2024?"), ["order"]);
}

#[test]
fn everything_goes_when_it_fits() {
    let (dbs, keys) = erp(3);
    let (out, sel) = run(&dbs, &keys, "anything", &[], &[], 100_000);
    assert!(sel.is_complete());
    assert!(sel.chosen.iter().all(|c| c.reason == Reason::All));
    assert_eq!(out[0].1.schema.tables.len(), 9);
    assert!(sel.describe().starts_with("schema: all 9 tables sent"));
}

#[test]
fn ranking_finds_tables_by_comment_and_split_names_within_the_budget() {
    let (dbs, keys) = erp(400);
    let budget = 400;
    let (out, sel) = run(
        &dbs,
        &keys,
        "how many sick days did staff take?",
        &[],
        &[],
        budget,
    );
    assert_eq!(names(&sel)[0], "hr_employee_leave", "{}", sel.describe());
    assert!(sel.tokens <= budget, "{} > {budget}", sel.tokens);
    assert!(tokens(&prompt::schema_text(&out)) <= budget);
    assert!(!sel.is_complete());
    assert!(sel.describe().contains("left out"), "{}", sel.describe());

    let (_, sel) = run(
        &dbs,
        &keys,
        "revenue per customer account",
        &[],
        &[],
        budget,
    );
    assert_eq!(names(&sel)[0], "crm_acct", "{}", sel.describe());

    let (_, sel) = run(
        &dbs,
        &keys,
        "quantity per sales order line",
        &[],
        &[],
        budget,
    );
    assert_eq!(names(&sel)[0], "salesOrderLine", "{}", sel.describe());
}

#[test]
fn foreign_key_partners_follow_their_table() {
    let (dbs, keys) = erp(400);
    let (_, sel) = run(&dbs, &keys, "employees named Ann", &[], &[], 300);
    let n = names(&sel);
    assert_eq!(n[0], "hr_employee", "{}", sel.describe());
    let dept = sel
        .chosen
        .iter()
        .find(|c| c.table == "hr_department")
        .expect("the referenced department table is sent");
    assert_eq!(dept.reason, Reason::ForeignKey("erp.hr_employee".into()));
}

#[test]
fn pinned_and_history_tables_come_first() {
    let (dbs, keys) = erp(400);
    let turn = Turn {
        question: "how many accounts are there".into(),
        plan: vec![PlannedQuery {
            connection: "erp".into(),
            sql: "SELECT count(*) FROM crm_acct".into(),
        }],
        summary: String::new(),
    };
    let (_, sel) = run(
        &dbs,
        &keys,
        "and only in 2024?",
        std::slice::from_ref(&turn),
        &["erp.misc_filler_7".to_string()],
        300,
    );
    let n = names(&sel);
    assert_eq!(n[0], "misc_filler_7", "{}", sel.describe());
    assert_eq!(sel.chosen[0].reason, Reason::Pinned);
    assert_eq!(n[1], "crm_acct");
    assert_eq!(sel.chosen[1].reason, Reason::History);
    // A pattern pins every table of a database (here more than the budget holds).
    let (_, sel) = run(&dbs, &keys, "x", &[], &["erp.*".to_string()], 300);
    assert!(sel.chosen.iter().all(|c| c.reason == Reason::Pinned));
    assert!(sel.tokens <= 300);
}

#[test]
fn wide_tables_keep_keys_and_matching_columns() {
    let mut cols: Vec<String> = vec!["id".into(), "acct_id".into()];
    cols.extend((0..60).map(|i| format!("attr_{i}")));
    cols.push("discount_rate".into());
    let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    let wide = table("wide", &refs, None);
    let keys = KeyInfo {
        foreign_keys: vec![ForeignKey {
            name: None,
            table: "wide".into(),
            columns: vec!["acct_id".into()],
            ref_table: "crm_acct".into(),
            ref_columns: Vec::new(),
        }],
        indexes: Vec::new(),
    };
    let wanted: HashSet<&str> = ["discount", "rate"].into_iter().collect();
    let (t, left_out) = prune(&wide, Some(&keys), &wanted);
    assert_eq!(t.columns.len(), WIDE_TABLE_COLUMNS);
    assert_eq!(left_out, 63 - WIDE_TABLE_COLUMNS);
    let kept: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    for c in ["id", "acct_id", "discount_rate"] {
        assert!(kept.contains(&c), "{c} missing from {kept:?}");
    }
}

#[test]
fn whole_word_mentions_only() {
    assert!(mentions("select * from orders o", "orders"));
    assert!(!mentions("select * from orders_archive", "orders"));
    assert!(mentions("select count(*) from \"orders\"", "orders"));
}
