//! One namespace: every connection is a schema.
//!
//! A client sees one PostgreSQL database whose schemas are the connections it may use
//! (`\dn` lists `shop`, `warehouse`). Plain SQL may name a table by the name the catalog
//! shows — `shop.products`, `"warehouse"."dim_product"` — whatever the session's target
//! is. [`route`] finds the connection such names point at and removes the connection
//! qualifier from the text (nothing else in the statement is touched, so the SQL that
//! runs is the client's SQL minus the schema prefixes, and the guard checks that text).
//!
//! The mapping, shared with the catalog:
//! - `conn.table` → `table` on `conn`;
//! - `conn.schema.table` → `schema.table` on `conn` (PostgreSQL/MySQL sources with
//!   several schemas; a table outside `public` is listed by the catalog as the table
//!   `schema.table` of schema `conn`, so `"conn"."schema.table"` works too and becomes
//!   `"schema"."table"`);
//! - `conn.table.column` in expressions → `table.column`.
//!
//! Unqualified names resolve in the session's target (`SET search_path` /
//! `SET dbguru.target`). A statement that names tables of two connections — or a
//! connection other than the target next to unqualified tables — is reported as
//! [`RouteError::CrossDatabase`]: outside a transaction block a read-only one is
//! federated ([`super::federate`]); inside a block, or when it writes, it is refused
//! with `0A000`.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Ident, ObjectName, Query, Visit, Visitor};
use sqlparser::parser::Parser;

use crate::backends::Dialect;

/// The connection name of a statement routed to the federation engine.
pub const FEDERATED: &str = "*";

/// Why a statement could not be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The statement names tables of more than one connection.
    #[error("the statement names tables of several connections ({0}); inside a transaction block a statement runs on the block's one connection")]
    CrossDatabase(String),
    /// A statement that writes names tables of several connections.
    #[error("a statement that writes may name tables of one connection only (it names {0}); writes spanning databases are not supported")]
    CrossDatabaseWrite(String),
}

/// Where a statement runs and the text it runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// Connection name.
    pub connection: String,
    /// The statement with connection qualifiers removed.
    pub sql: String,
}

/// Routes `sql`: `names` are the connections the user may use (canonical names),
/// `target` the session's target, `dialect_of` the dialect of a connection. Returns
/// `Ok(None)` when the statement names no connection (it runs on the target as it is).
/// SQL that does not parse is left alone (the guard refuses it with its own message).
pub fn route(
    sql: &str,
    target: Option<&str>,
    names: &[String],
    dialect_of: impl Fn(&str) -> Dialect,
) -> Result<Option<Routed>, RouteError> {
    let Some(first) = names.iter().find(|n| mentions_qualifier(sql, n)) else {
        return Ok(None);
    };
    // Bounded before anything recursive touches it (the guard reports the bound).
    if crate::sql::limits::check(sql).is_err() {
        return Ok(None);
    }
    let dialect = crate::engine::guard::parser_dialect(dialect_of(first));
    let Ok(statements) = Parser::parse_sql(dialect.as_ref(), sql) else {
        return Ok(None);
    };
    let mut finder = Finder {
        names,
        qualified: Vec::new(),
        unqualified: BTreeSet::new(),
        ctes: BTreeSet::new(),
    };
    for s in &statements {
        let _ = s.visit(&mut finder);
    }
    let named: BTreeSet<&str> = finder.qualified.iter().map(|q| q.connection).collect();
    let Some(&connection) = named.iter().next() else {
        return Ok(None);
    };
    let uses_target = finder
        .unqualified
        .iter()
        .any(|t| !finder.ctes.contains(t.as_str()));
    if named.len() > 1 {
        return Err(RouteError::CrossDatabase(
            named.iter().copied().collect::<Vec<_>>().join(", "),
        ));
    }
    if uses_target && target.is_some_and(|t| t != connection) {
        return Err(RouteError::CrossDatabase(format!(
            "{connection}, and {} for the unqualified names",
            target.unwrap_or_default()
        )));
    }
    let offsets = LineOffsets::new(sql);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for q in &finder.qualified {
        let (Some(start), Some(next)) = (offsets.byte(&q.first), offsets.byte(&q.second)) else {
            return Ok(None);
        };
        if start >= next || next > sql.len() {
            return Ok(None);
        }
        // `"conn"."schema.table"`: the catalog's name of a table outside `public`.
        let replacement = match (&q.second.quote_style, q.last_of_two) {
            (Some('"'), true) if q.second.value.contains('.') => {
                let end = quoted_end(sql, next);
                let parts: Vec<String> = q
                    .second
                    .value
                    .splitn(2, '.')
                    .map(|p| format!("\"{}\"", p.replace('"', "\"\"")))
                    .collect();
                edits.push((start, end, parts.join(".")));
                continue;
            }
            _ => String::new(),
        };
        edits.push((start, next, replacement));
    }
    edits.sort_by_key(|e| e.0);
    edits.dedup_by_key(|e| e.0);
    let mut out = String::with_capacity(sql.len());
    let mut at = 0;
    for (start, end, text) in edits {
        if start < at {
            return Ok(None);
        }
        out.push_str(&sql[at..start]);
        out.push_str(&text);
        at = end;
    }
    out.push_str(&sql[at..]);
    Ok(Some(Routed {
        connection: connection.to_string(),
        sql: out,
    }))
}

/// Whether `sql` contains `name` followed by a dot (optionally quoted, spaces allowed):
/// a cheap filter so statements that name no connection are never parsed here.
fn mentions_qualifier(sql: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let lower = sql.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    let b = lower.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
    let mut from = 0;
    while let Some(p) = lower[from..].find(&name) {
        let s = from + p;
        let e = s + name.len();
        from = s + 1;
        if s > 0 && ident(b[s - 1]) {
            continue;
        }
        let mut j = e;
        if j < b.len() && (b[j] == b'"' || b[j] == b'`') {
            j += 1;
        } else if j < b.len() && ident(b[j]) {
            continue;
        }
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j < b.len() && b[j] == b'.' {
            return true;
        }
    }
    false
}

/// One connection-qualified name found in the statement.
struct Qualified<'a> {
    connection: &'a str,
    first: Ident,
    second: Ident,
    /// The name had exactly two parts (`conn.x`).
    last_of_two: bool,
}

struct Finder<'a> {
    names: &'a [String],
    qualified: Vec<Qualified<'a>>,
    unqualified: BTreeSet<String>,
    ctes: BTreeSet<String>,
}

impl<'a> Finder<'a> {
    fn connection_of(&self, id: &Ident) -> Option<&'a str> {
        let v = if id.quote_style.is_some() {
            id.value.clone()
        } else {
            id.value.to_ascii_lowercase()
        };
        self.names
            .iter()
            .find(|n| **n == v || (id.quote_style.is_none() && n.to_ascii_lowercase() == v))
            .map(String::as_str)
    }

    fn idents(name: &ObjectName) -> Vec<&Ident> {
        name.0.iter().filter_map(|p| p.as_ident()).collect()
    }
}

impl Visitor for Finder<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                self.ctes.insert(cte.alias.name.value.to_ascii_lowercase());
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, name: &ObjectName) -> ControlFlow<()> {
        let parts = Self::idents(name);
        if parts.len() != name.0.len() {
            return ControlFlow::Continue(());
        }
        match parts.as_slice() {
            [only] => {
                self.unqualified.insert(only.value.to_ascii_lowercase());
            }
            [first, second, rest @ ..] => {
                if let Some(c) = self.connection_of(first) {
                    self.qualified.push(Qualified {
                        connection: c,
                        first: (*first).clone(),
                        second: (*second).clone(),
                        last_of_two: rest.is_empty(),
                    });
                }
            }
            [] => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if let Expr::CompoundIdentifier(ids) = e {
            if ids.len() >= 3 {
                if let Some(c) = self.connection_of(&ids[0]) {
                    self.qualified.push(Qualified {
                        connection: c,
                        first: ids[0].clone(),
                        second: ids[1].clone(),
                        last_of_two: false,
                    });
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// Byte offsets of sqlparser locations (1-based line, 1-based column in characters).
struct LineOffsets<'a> {
    sql: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineOffsets<'a> {
    fn new(sql: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(sql.match_indices('\n').map(|(i, _)| i + 1));
        LineOffsets { sql, starts }
    }

    fn byte(&self, id: &Ident) -> Option<usize> {
        let loc = id.span.start;
        let line = usize::try_from(loc.line).ok()?.checked_sub(1)?;
        let col = usize::try_from(loc.column).ok()?.checked_sub(1)?;
        let start = *self.starts.get(line)?;
        let rest = &self.sql[start..];
        let off = rest
            .char_indices()
            .nth(col)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let at = start + off;
        // The location must point at the identifier (or its opening quote).
        let head = &self.sql[at..];
        let ok = match id.quote_style {
            Some(q) => head.starts_with(q),
            None => head
                .get(..id.value.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(&id.value)),
        };
        ok.then_some(at)
    }
}

/// The end (exclusive) of the double-quoted identifier starting at `at`.
fn quoted_end(sql: &str, at: usize) -> usize {
    let b = sql.as_bytes();
    let mut i = at + 1;
    while i < b.len() {
        if b[i] == b'"' {
            if b.get(i + 1) == Some(&b'"') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["shop".into(), "warehouse".into()]
    }

    fn r(sql: &str, target: &str) -> Result<Option<Routed>, RouteError> {
        route(sql, Some(target), &names(), |_| Dialect::Sqlite)
    }

    #[test]
    fn qualified_names_route_and_lose_their_schema() {
        let got = r("SELECT * FROM shop.products", "warehouse")
            .expect("ok")
            .expect("ok");
        assert_eq!(got.connection, "shop");
        assert_eq!(got.sql, "SELECT * FROM products");
        let got = r("select x from \"warehouse\" . \"dim_product\" d", "shop")
            .expect("ok")
            .expect("ok");
        assert_eq!(got.connection, "warehouse");
        assert_eq!(got.sql, "select x from \"dim_product\" d");
        let got = r(
            "SELECT shop.orders.id FROM SHOP.orders JOIN shop.customers c ON true",
            "shop",
        )
        .expect("ok")
        .expect("ok");
        assert_eq!(
            got.sql,
            "SELECT orders.id FROM orders JOIN customers c ON true"
        );
    }

    #[test]
    fn unqualified_statements_are_left_alone() {
        assert_eq!(r("SELECT * FROM products", "shop").expect("ok"), None);
        assert_eq!(
            r("SELECT 'shop.products' AS s FROM products", "shop").expect("ok"),
            None
        );
        assert_eq!(r("SELECT shopx.a FROM shopx", "shop").expect("ok"), None);
    }

    #[test]
    fn two_connections_are_refused() {
        assert!(matches!(
            r(
                "SELECT * FROM shop.orders o JOIN warehouse.fact_sales f ON true",
                "shop"
            ),
            Err(RouteError::CrossDatabase(_))
        ));
        assert!(matches!(
            r(
                "SELECT * FROM warehouse.fact_sales JOIN customers ON true",
                "shop"
            ),
            Err(RouteError::CrossDatabase(_))
        ));
        // A CTE name is not a table of the target.
        let got = r(
            "WITH f AS (SELECT * FROM warehouse.fact_sales) SELECT count(*) FROM f",
            "shop",
        )
        .expect("ok")
        .expect("ok");
        assert_eq!(got.connection, "warehouse");
    }

    #[test]
    fn catalog_names_of_other_schemas_map_back() {
        let got = r("SELECT * FROM \"shop\".\"sales.orders\"", "shop")
            .expect("ok")
            .expect("ok");
        assert_eq!(got.sql, "SELECT * FROM \"sales\".\"orders\"");
        let got = r("SELECT * FROM shop.sales.orders", "warehouse")
            .expect("ok")
            .expect("ok");
        assert_eq!(got.sql, "SELECT * FROM sales.orders");
    }
}
