//! The parse-tree half of the guard: statement kinds, locking and `SELECT INTO`, and
//! every function a statement calls, wherever the parser put it.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, ObjectName, ObjectNamePart, Query, Statement, TableFactor, Visitor};

use crate::backends::Dialect;

use super::{deny, text, GuardError};

/// Walks one statement; the first refusal stops the walk.
pub(super) struct Inspector {
    pub(super) dialect: Dialect,
    pub(super) allow_write: bool,
    pub(super) refusal: Option<GuardError>,
}

/// The first word of a statement (two for CREATE/DROP/ALTER/TRUNCATE/GRANT/REVOKE),
/// upper-case.
pub(super) fn statement_kind(s: &Statement) -> String {
    let text = s.to_string();
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or("statement").to_ascii_uppercase();
    match first.as_str() {
        "CREATE" | "DROP" | "ALTER" | "TRUNCATE" | "GRANT" | "REVOKE" => format!(
            "{first} {}",
            words.next().unwrap_or("").to_ascii_uppercase()
        )
        .trim()
        .to_string(),
        _ => first,
    }
}

/// Whether `s` only reads (and returns rows): queries, plain EXPLAIN, SHOW, DESCRIBE.
pub(super) fn is_read_only_kind(s: &Statement) -> bool {
    match s {
        Statement::Query(_) => true,
        Statement::Explain {
            analyze, statement, ..
        } => !*analyze && matches!(**statement, Statement::Query(_)),
        Statement::ExplainTable { .. } => true,
        other => {
            let kind = statement_kind(other);
            kind == "SHOW" || kind == "DESCRIBE" || kind == "DESC"
        }
    }
}

/// The unqualified function name `name` ends with, lower-cased, quotes removed.
fn function_name(name: &ObjectName) -> Option<String> {
    match name.0.last()? {
        ObjectNamePart::Identifier(i) => Some(i.value.to_lowercase()),
        ObjectNamePart::Function(f) => Some(f.name.value.to_lowercase()),
    }
}

impl Inspector {
    fn refuse(&mut self, e: GuardError) -> ControlFlow<()> {
        self.refusal = Some(e);
        ControlFlow::Break(())
    }

    fn check_function(&mut self, name: &ObjectName) -> ControlFlow<()> {
        // Every part, so that a schema named like a function cannot hide one either.
        if let Some(n) = function_name(name) {
            if let Err(e) = text::function_refusal(&n, self.dialect, self.allow_write) {
                return self.refuse(e);
            }
        }
        ControlFlow::Continue(())
    }
}

impl Visitor for Inspector {
    type Break = ();

    fn pre_visit_statement(&mut self, s: &Statement) -> ControlFlow<()> {
        // A query (SELECT, WITH, VALUES...) is never a denied kind and always a
        // read-only one; its parts are visited below. Skips printing the statement.
        if matches!(s, Statement::Query(_)) {
            return ControlFlow::Continue(());
        }
        let kind = statement_kind(s);
        if deny::never_allowed(&kind) {
            return self.refuse(GuardError::Forbidden(kind));
        }
        if !self.allow_write && !is_read_only_kind(s) {
            return self.refuse(GuardError::WriteNotAllowed(kind));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if !self.allow_write {
            if !q.locks.is_empty() {
                return self.refuse(GuardError::WriteNotAllowed("SELECT ... FOR UPDATE".into()));
            }
            if let sqlparser::ast::SetExpr::Select(sel) = q.body.as_ref() {
                if sel.into.is_some() {
                    return self.refuse(GuardError::WriteNotAllowed("SELECT INTO".into()));
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, .. } = t {
            // `FROM 'data.csv'`: DuckDB reads a file named by a string (replacement scan),
            // and `FROM "data.csv"` too when no such table exists.
            let by_string = name
                .0
                .iter()
                .any(|p| p.as_ident().is_some_and(|i| i.quote_style == Some('\'')));
            let path_like = self.dialect == Dialect::Duckdb
                && name.0.iter().any(|p| {
                    p.as_ident().is_some_and(|i| {
                        i.quote_style.is_some()
                            && i.value.contains(['/', '\\', '.', ':', '*', '?', '~'])
                    })
                });
            if by_string || path_like {
                return self.refuse(GuardError::Forbidden(format!(
                    "a table named by a file path ({name}), which reads a file"
                )));
            }
        }
        let name = match t {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            } => Some(name),
            TableFactor::Function { name, .. } => Some(name),
            _ => None,
        };
        match name {
            Some(n) => self.check_function(n),
            None => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if let Expr::Function(f) = e {
            return self.check_function(&f.name);
        }
        ControlFlow::Continue(())
    }
}
