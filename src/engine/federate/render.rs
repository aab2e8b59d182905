//! Source subqueries written in each connection's own dialect: its identifier quoting,
//! its string-literal rules, only the columns the statement uses and the predicates
//! that could go down.

use sqlparser::ast::{BinaryOperator, Expr, UnaryOperator, Value};

use crate::backends::Dialect;

use super::analyze::Source;

pub(crate) use crate::sql::quote::{ident, literal};

/// A table of the connection's catalog as a relation of `d`: PostgreSQL and MySQL
/// tables outside the default schema are listed as `schema.table`.
pub(crate) fn table(name: &str, d: Dialect) -> String {
    match (d, name.split_once('.')) {
        (Dialect::Postgres | Dialect::Mysql, Some((schema, t))) => {
            format!("{}.{}", ident(schema, d), ident(t, d))
        }
        _ => ident(name, d),
    }
}

fn value(v: &Value, d: Dialect) -> Option<String> {
    Some(match v {
        Value::Number(n, _) => n.clone(),
        Value::SingleQuotedString(s) => literal(s, d),
        Value::Boolean(true) => "TRUE".into(),
        Value::Boolean(false) => "FALSE".into(),
        Value::Null => "NULL".into(),
        _ => return None,
    })
}

/// A pushed predicate (see `analyze`: columns are double-quoted identifiers, the
/// rest literals and a small set of operators) in dialect `d`.
pub(crate) fn expr(e: &Expr, d: Dialect) -> Option<String> {
    let r = |e: &Expr| expr(e, d);
    Some(match e {
        Expr::Identifier(i) => ident(&i.value, d),
        Expr::Value(v) => value(&v.value, d)?,
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr: x,
        } => format!("-{}", r(x)?),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr: x,
        } => format!("(NOT {})", r(x)?),
        Expr::Nested(x) => format!("({})", r(x)?),
        Expr::BinaryOp { left, op, right } => {
            let op = match op {
                BinaryOperator::And => "AND",
                BinaryOperator::Or => "OR",
                BinaryOperator::Eq => "=",
                BinaryOperator::NotEq => "<>",
                BinaryOperator::Lt => "<",
                BinaryOperator::LtEq => "<=",
                BinaryOperator::Gt => ">",
                BinaryOperator::GtEq => ">=",
                _ => return None,
            };
            format!("({} {op} {})", r(left)?, r(right)?)
        }
        Expr::IsNull(x) => format!("({} IS NULL)", r(x)?),
        Expr::IsNotNull(x) => format!("({} IS NOT NULL)", r(x)?),
        Expr::InList {
            expr: x,
            list,
            negated,
        } => {
            let items: Option<Vec<String>> = list.iter().map(r).collect();
            format!(
                "({} {}IN ({}))",
                r(x)?,
                if *negated { "NOT " } else { "" },
                items?.join(", ")
            )
        }
        Expr::Between {
            expr: x,
            negated,
            low,
            high,
        } => format!(
            "({} {}BETWEEN {} AND {})",
            r(x)?,
            if *negated { "NOT " } else { "" },
            r(low)?,
            r(high)?
        ),
        Expr::Like {
            negated,
            expr: x,
            pattern,
            ..
        } => format!(
            "({} {}LIKE {})",
            r(x)?,
            if *negated { "NOT " } else { "" },
            r(pattern)?
        ),
        _ => return None,
    })
}

/// Name of the placeholder column fetched when a source's rows matter but none of its
/// columns does (`SELECT count(*) FROM a JOIN b ON true`).
pub(crate) const ROW_COLUMN: &str = "__dbguru_row";

/// The subquery for `src` in its dialect, with `extra` (a rendered semi-join `IN`)
/// added to its pushed predicates.
pub(crate) fn subquery(src: &Source, extra: Option<&str>) -> String {
    let d = src.dialect;
    let cols = if src.used.is_empty() {
        format!("1 AS {}", ident(ROW_COLUMN, d))
    } else {
        src.used
            .iter()
            .map(|c| ident(c, d))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut preds: Vec<String> = src.preds.iter().filter_map(|p| expr(p, d)).collect();
    if let Some(x) = extra {
        preds.push(x.to_string());
    }
    let mut sql = format!("SELECT {cols} FROM {}", table(&src.table, d));
    if !preds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&preds.join(" AND "));
    }
    if let Some(n) = src.limit {
        sql.push_str(&format!(" LIMIT {n}"));
    }
    sql
}

/// The key family of a declared column type, for semi-join pushdown: keys are only
/// pushed between columns of one family, so the source never compares across types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFamily {
    /// Integers of any width.
    Integer,
    /// Character strings.
    Text,
}

/// The family of a declared type name (`INTEGER`, `bigint`, `varchar(255)`, `string`).
pub(crate) fn key_family(declared: &str) -> Option<KeyFamily> {
    let t = declared.to_ascii_lowercase();
    if t.contains("int") && !t.contains("interval") && !t.contains("point") {
        Some(KeyFamily::Integer)
    } else if t.contains("char") || t.contains("text") || t == "string" || t.contains("clob") {
        Some(KeyFamily::Text)
    } else {
        None
    }
}
