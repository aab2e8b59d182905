//! The row cap: a query's top-level LIMIT lowered (or added) so the database itself
//! stops producing rows.

use sqlparser::ast::{Expr, LimitClause, Query, Value};

fn literal_usize(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.to_string().parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

fn number(n: usize) -> Expr {
    Expr::value(Value::Number(
        n.to_string().parse().unwrap_or_default(),
        false,
    ))
}

/// Lowers or adds the top-level LIMIT; returns whether the query changed.
pub(super) fn cap_limit(q: &mut Query, cap: usize) -> bool {
    if q.fetch.is_some() {
        return false;
    }
    match &mut q.limit_clause {
        None => {
            q.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(number(cap)),
                offset: None,
                limit_by: vec![],
            });
            true
        }
        Some(LimitClause::LimitOffset {
            limit, limit_by, ..
        }) if limit_by.is_empty() => match limit.as_ref().map(literal_usize) {
            None => {
                *limit = Some(number(cap));
                true
            }
            Some(Some(n)) if n > cap => {
                *limit = Some(number(cap));
                true
            }
            _ => false,
        },
        Some(LimitClause::OffsetCommaLimit { limit, .. }) => match literal_usize(limit) {
            Some(n) if n > cap => {
                *limit = number(cap);
                true
            }
            _ => false,
        },
        _ => false,
    }
}
