//! Unit tests of the builtin planner on the demo schemas: helpers here, cases by topic.

#![allow(unused_imports)]

use super::intent::*;
use super::lexicon::*;
use super::parser::*;
use super::plan::*;
use super::query::*;
use super::render::*;
use super::schema::*;
use super::*;
use crate::backends::{ColumnInfo, Dialect, SchemaInfo, TableInfo};

fn col(name: &str, ty: &str, pk: bool) -> ColumnInfo {
    ColumnInfo {
        name: name.to_string(),
        data_type: ty.to_string(),
        primary_key: pk,
        nullable: !pk,
        ..Default::default()
    }
}

fn table(name: &str, cols: &[(&str, &str)]) -> TableInfo {
    TableInfo {
        name: name.to_string(),
        columns: cols
            .iter()
            .enumerate()
            .map(|(i, (n, t))| col(n, t, i == 0))
            .collect(),
        ..Default::default()
    }
}

fn shop() -> DbSchema {
    DbSchema {
        name: "shop".to_string(),
        dialect: Dialect::Sqlite,
        schema: SchemaInfo {
            database: "shop.db".to_string(),
            tables: vec![
                table(
                    "customers",
                    &[
                        ("id", "INTEGER"),
                        ("name", "TEXT"),
                        ("email", "TEXT"),
                        ("country", "TEXT"),
                        ("city", "TEXT"),
                        ("created_at", "TEXT"),
                    ],
                ),
                table(
                    "order_items",
                    &[
                        ("id", "INTEGER"),
                        ("order_id", "INTEGER"),
                        ("product_id", "INTEGER"),
                        ("quantity", "INTEGER"),
                        ("unit_price", "REAL"),
                    ],
                ),
                table(
                    "orders",
                    &[
                        ("id", "INTEGER"),
                        ("customer_id", "INTEGER"),
                        ("order_date", "TEXT"),
                        ("status", "TEXT"),
                        ("total_amount", "REAL"),
                    ],
                ),
                table(
                    "products",
                    &[
                        ("id", "INTEGER"),
                        ("name", "TEXT"),
                        ("category", "TEXT"),
                        ("price", "REAL"),
                        ("stock", "INTEGER"),
                    ],
                ),
            ],
        }
        .into(),
    }
}

fn warehouse() -> DbSchema {
    DbSchema {
        name: "warehouse".to_string(),
        dialect: Dialect::Duckdb,
        schema: SchemaInfo {
            database: "warehouse.duckdb".to_string(),
            tables: vec![
                table(
                    "dim_customer",
                    &[
                        ("customer_key", "INTEGER"),
                        ("customer_name", "VARCHAR"),
                        ("email", "VARCHAR"),
                        ("country", "VARCHAR"),
                        ("city", "VARCHAR"),
                        ("segment", "VARCHAR"),
                    ],
                ),
                table(
                    "dim_date",
                    &[
                        ("date_key", "INTEGER"),
                        ("date", "DATE"),
                        ("year", "INTEGER"),
                        ("quarter", "INTEGER"),
                        ("month", "INTEGER"),
                        ("month_name", "VARCHAR"),
                    ],
                ),
                table(
                    "dim_product",
                    &[
                        ("product_key", "INTEGER"),
                        ("product_name", "VARCHAR"),
                        ("category", "VARCHAR"),
                        ("list_price", "DECIMAL(10,2)"),
                    ],
                ),
                table(
                    "fact_sales",
                    &[
                        ("sale_id", "INTEGER"),
                        ("date_key", "INTEGER"),
                        ("customer_key", "INTEGER"),
                        ("product_key", "INTEGER"),
                        ("quantity", "INTEGER"),
                        ("revenue", "DECIMAL(12,2)"),
                    ],
                ),
            ],
        }
        .into(),
    }
}

fn demo() -> Vec<DbSchema> {
    vec![shop(), warehouse()]
}

/// The reply without its interpretation comments (tested on their own).
fn strip_notes(reply: &str) -> String {
    reply
        .lines()
        .filter(|l| !l.starts_with("-- "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ask_in(q: &str, dbs: &[DbSchema]) -> String {
    match BuiltinPlanner::new().plan(q, &[], dbs) {
        Ok(s) => strip_notes(&s),
        Err(e) => panic!("{q}: {e}"),
    }
}

fn ask(q: &str) -> String {
    ask_in(q, &demo())
}

fn both(shop_sql: &str, warehouse_sql: &str) -> String {
    format!("DATABASE: shop\n{shop_sql};\n\nDATABASE: warehouse\n{warehouse_sql};")
}

fn shop_only(sql: &str) -> String {
    format!("DATABASE: shop\n{sql};")
}

fn warehouse_only(sql: &str) -> String {
    format!("DATABASE: warehouse\n{sql};")
}

fn unsupported(q: &str) -> String {
    match BuiltinPlanner::new().plan(q, &[], &demo()) {
        Ok(s) => panic!("{q}: expected Unsupported, got\n{s}"),
        Err(LlmError::Unsupported(m)) => m,
        Err(e) => panic!("{q}: expected Unsupported, got {e}"),
    }
}

mod aggregates;
mod filters;
mod shapes;
