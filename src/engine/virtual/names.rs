//! Output column names as PostgreSQL gives them, for results of other databases:
//! SQLite names `count(*)` "count(*)", DuckDB "count_star()", MySQL "count(*)";
//! PostgreSQL names it `count` (and `sum(amount)` `sum`, `CAST(x AS int)` `x`, a literal
//! `?column?`). Reports, ORMs and BI tools look columns up by those names.

use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use sqlparser::ast::{Expr, SelectItem, SetExpr, Statement};
use sqlparser::dialect::{Dialect, DuckDbDialect, MySqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use crate::backends::Dialect as Db;

/// PostgreSQL's name for each output column of `sql` that it would name differently from
/// the database (`None`: keep the database's name: aliased items, plain columns). `None`
/// overall when the statement is not one plain SELECT or has a `*`.
pub fn pg_output_names(sql: &str, db: Db) -> Option<Vec<Option<String>>> {
    let dialect: Box<dyn Dialect> = match db {
        Db::Sqlite => Box::new(SQLiteDialect {}),
        Db::Duckdb => Box::new(DuckDbDialect {}),
        Db::Mysql => Box::new(MySqlDialect {}),
        _ => return None,
    };
    crate::sql::limits::check_with(sql, &crate::sql::limits::TRANSLATOR).ok()?;
    let stmts = Parser::parse_sql(dialect.as_ref(), sql).ok()?;
    let [Statement::Query(q)] = stmts.as_slice() else {
        return None;
    };
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    s.projection
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(e) => Some(match e {
                Expr::Identifier(_) | Expr::CompoundIdentifier(_) => None,
                e => Some(super::rewrite::pg_name(e)),
            }),
            SelectItem::ExprWithAlias { .. } => Some(None),
            _ => None,
        })
        .collect()
}

/// `schema` with the columns renamed to PostgreSQL's names for `sql` (unchanged when the
/// names cannot be told exactly).
pub fn rename(schema: &SchemaRef, sql: &str, db: Db) -> SchemaRef {
    let Some(names) = pg_output_names(sql, db) else {
        return schema.clone();
    };
    if names.len() != schema.fields().len() || names.iter().all(Option::is_none) {
        return schema.clone();
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(names)
        .map(|(f, n)| match n {
            Some(n) => f.as_ref().clone().with_name(n),
            None => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_get_postgres_names() {
        let n = pg_output_names(
            "SELECT count(*), sum(amount), avg(amount) AS a, status, CAST(id AS INT), 1 FROM orders",
            Db::Sqlite,
        )
        .expect("names");
        assert_eq!(
            n,
            vec![
                Some("count".into()),
                Some("sum".into()),
                None,
                None,
                Some("id".into()),
                Some("?column?".into())
            ]
        );
        assert!(pg_output_names("SELECT * FROM t", Db::Duckdb).is_none());
        assert!(pg_output_names("SELECT 1", Db::Postgres).is_none());
    }
}
