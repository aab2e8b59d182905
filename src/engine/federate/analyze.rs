//! Reading a cross-database statement: which tables of which connections it names, the
//! columns it uses, the single-table predicates and equi-joins that can go down to a
//! source, and the combining statement (the same statement over staging tables).
//!
//! Every rule here is conservative: a column is fetched when any identifier of the
//! statement could name it; a predicate is pushed down only when it is a conjunct of a
//! `WHERE` (or an inner/left join's `ON`) whose every column resolves to one table
//! instance that no outer join makes nullable, and it uses only comparisons, `IN`,
//! `BETWEEN`, `LIKE`, `IS NULL`, `AND`/`OR`/`NOT` and literals. Pushed predicates are
//! also kept in the combining statement, so a source that is looser (SQLite's
//! case-insensitive `LIKE`, MySQL collations) can never add a wrong row.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::Arc;

use sqlparser::ast::{
    Expr, Ident, JoinConstraint, JoinOperator, ObjectName, ObjectNamePart, Query, Select,
    SelectItem, SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier, Statement,
    TableAlias, TableFactor, TableWithJoins, Value, Visit, VisitMut, Visitor, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::backends::{Dialect, SchemaInfo};

use super::pushdown::{conjuncts, Pushdown};
use super::FederateError;

/// Prefix of the staging tables in the embedded engine.
pub(crate) const STAGING_PREFIX: &str = "__dbguru_src_";

/// One table instance of the statement, fetched from its connection.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// Connection (canonical name).
    pub connection: String,
    /// Dialect of the connection.
    pub dialect: Dialect,
    /// The table's name in the connection's catalog (`orders`, `sales.orders`).
    pub table: String,
    /// Every column of the table: (name, declared type).
    pub columns: Vec<(String, String)>,
    /// Columns to fetch, in table order (empty: only the row count matters).
    pub used: Vec<String>,
    /// Predicates pushed down, column references as double-quoted identifiers.
    pub preds: Vec<Expr>,
    /// A row limit pushed down.
    pub limit: Option<u64>,
    /// The staging table in the embedded engine.
    pub staging: String,
    all_columns: bool,
}

/// An equi-join whose one side may restrict the other: `target.target_col IN (keys of
/// from.from_col)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SemiJoin {
    /// The source that may be reduced.
    pub target: usize,
    /// Its join column.
    pub target_col: String,
    /// The source whose keys reduce it.
    pub from: usize,
    /// Its join column.
    pub from_col: String,
}

/// The analysis of one statement.
#[derive(Debug, Clone)]
pub(crate) struct Analysis {
    /// Table instances, in order of appearance.
    pub sources: Vec<Source>,
    /// Semi-join candidates.
    pub semijoins: Vec<SemiJoin>,
    /// The statement over the staging tables (PostgreSQL syntax, run by DuckDB).
    pub combine: String,
}

/// Whether `id` names connection `n` (unquoted names fold case).
fn names_connection<'a>(names: &'a [String], id: &Ident) -> Option<&'a str> {
    names
        .iter()
        .find(|n| {
            if id.quote_style.is_some() {
                **n == id.value
            } else {
                n.eq_ignore_ascii_case(&id.value)
            }
        })
        .map(String::as_str)
}

fn parse(sql: &str) -> Result<Statement, FederateError> {
    crate::sql::limits::check(sql).map_err(FederateError::Limit)?;
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql)
        .map_err(|e| FederateError::Syntax(e.to_string()))?;
    if statements.len() != 1 {
        return Err(FederateError::Syntax(format!(
            "expected one statement, got {}",
            statements.len()
        )));
    }
    let s = statements.remove(0);
    match &s {
        Statement::Query(q) if q.locks.is_empty() && !writes_in(q) => Ok(s),
        _ => Err(FederateError::Write),
    }
}

/// Whether a query holds DML (a data-modifying CTE, `SELECT INTO`).
fn writes_in(q: &Query) -> bool {
    struct W(bool);
    impl Visitor for W {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            if matches!(
                *q.body,
                SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_)
            ) {
                self.0 = true;
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
            if s.into.is_some() {
                self.0 = true;
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_statement(&mut self, s: &Statement) -> ControlFlow<()> {
            if !matches!(s, Statement::Query(_)) {
                self.0 = true;
            }
            ControlFlow::Continue(())
        }
    }
    let mut w = W(false);
    let _ = q.visit(&mut w);
    w.0
}

fn cte_names(stmt: &Statement) -> HashSet<String> {
    struct C(HashSet<String>);
    impl Visitor for C {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            if let Some(with) = &q.with {
                for cte in &with.cte_tables {
                    self.0.insert(cte.alias.name.value.to_ascii_lowercase());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut c = C(HashSet::new());
    let _ = stmt.visit(&mut c);
    c.0
}

/// A relation name split into (connection, table) when it names a connection's table.
fn split_name<'a>(
    name: &ObjectName,
    names: &'a [String],
    target: Option<&'a str>,
    ctes: &HashSet<String>,
) -> Option<(&'a str, String)> {
    let parts: Vec<&Ident> = name.0.iter().filter_map(ObjectNamePart::as_ident).collect();
    if parts.len() != name.0.len() {
        return None;
    }
    match parts.as_slice() {
        [only] => {
            if ctes.contains(&only.value.to_ascii_lowercase()) {
                return None;
            }
            target.map(|t| (t, only.value.clone()))
        }
        [first, rest @ ..] => {
            let c = names_connection(names, first)?;
            let table = rest
                .iter()
                .map(|i| i.value.clone())
                .collect::<Vec<_>>()
                .join(".");
            Some((c, table))
        }
        [] => None,
    }
}

/// The connections a statement names (its qualified tables, and the target for
/// unqualified ones). `None` when it does not parse or names none.
pub(crate) fn connections_named(
    sql: &str,
    names: &[String],
    target: Option<&str>,
) -> Result<BTreeSet<String>, FederateError> {
    let stmt = parse(sql)?;
    let ctes = cte_names(&stmt);
    struct R<'a> {
        names: &'a [String],
        target: Option<&'a str>,
        ctes: &'a HashSet<String>,
        found: BTreeSet<String>,
    }
    impl Visitor for R<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table {
                name, args: None, ..
            } = t
            {
                if let Some((c, _)) = split_name(name, self.names, self.target, self.ctes) {
                    self.found.insert(c.to_string());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut r = R {
        names,
        target,
        ctes: &ctes,
        found: BTreeSet::new(),
    };
    let _ = stmt.visit(&mut r);
    Ok(r.found)
}

/// Finds the table in a connection's schema (exact name first, then case-insensitive).
fn find_table<'a>(schema: &'a SchemaInfo, table: &str) -> Option<&'a crate::backends::TableInfo> {
    schema.tables.iter().find(|t| t.name == table).or_else(|| {
        schema
            .tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(table))
    })
}

struct Rewriter<'a> {
    names: &'a [String],
    target: Option<&'a str>,
    ctes: HashSet<String>,
    schemas: &'a HashMap<String, (Dialect, Arc<SchemaInfo>)>,
    sources: Vec<Source>,
    error: Option<FederateError>,
}

impl VisitorMut for Rewriter<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = t
        else {
            return ControlFlow::Continue(());
        };
        let Some((conn, table)) = split_name(name, self.names, self.target, &self.ctes) else {
            return ControlFlow::Continue(());
        };
        let Some((dialect, schema)) = self.schemas.get(conn) else {
            return ControlFlow::Continue(());
        };
        let Some(info) = find_table(schema, &table) else {
            if name.0.len() > 1 {
                self.error = Some(FederateError::UnknownTable(format!("{conn}.{table}")));
                return ControlFlow::Break(());
            }
            // An unqualified name the target does not have: left to the engine's error.
            return ControlFlow::Continue(());
        };
        let staging = format!("{STAGING_PREFIX}{}", self.sources.len() + 1);
        let last = table.rsplit('.').next().unwrap_or(&table).to_string();
        let all_columns = alias.as_ref().is_some_and(|a| !a.columns.is_empty());
        if alias.is_none() {
            let ident = if last.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                Ident::new(last)
            } else {
                Ident::with_quote('"', last)
            };
            *alias = Some(TableAlias {
                explicit: true,
                name: ident,
                columns: Vec::new(),
                at: None,
            });
        }
        *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::with_quote(
            '"',
            staging.clone(),
        ))]);
        self.sources.push(Source {
            connection: conn.to_string(),
            dialect: *dialect,
            table: info.name.clone(),
            columns: info
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.data_type.clone()))
                .collect(),
            used: Vec::new(),
            preds: Vec::new(),
            limit: None,
            staging,
            all_columns,
        });
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if let Expr::CompoundIdentifier(ids) = e {
            if ids.len() >= 3 && names_connection(self.names, &ids[0]).is_some() {
                ids.remove(0);
            }
        }
        ControlFlow::Continue(())
    }
}

/// Identifiers and wildcards of the statement, for the columns to fetch.
#[derive(Default)]
struct Used {
    idents: HashSet<String>,
    qualified_wildcards: HashSet<String>,
    wildcard: bool,
}

impl Visitor for Used {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        match e {
            Expr::Identifier(i) => {
                self.idents.insert(i.value.to_ascii_lowercase());
            }
            Expr::CompoundIdentifier(ids) => {
                if let Some(last) = ids.last() {
                    self.idents.insert(last.value.to_ascii_lowercase());
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
        for item in &s.projection {
            match item {
                SelectItem::Wildcard(_) => self.wildcard = true,
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(n),
                    _,
                ) => {
                    if let Some(last) = n.0.last().and_then(ObjectNamePart::as_ident) {
                        self.qualified_wildcards
                            .insert(last.value.to_ascii_lowercase());
                    }
                }
                SelectItem::QualifiedWildcard(..) => self.wildcard = true,
                _ => {}
            }
        }
        for twj in &s.from {
            for j in &twj.joins {
                match constraint_of(&j.join_operator) {
                    Some(JoinConstraint::Natural) => self.wildcard = true,
                    Some(JoinConstraint::Using(cols)) => {
                        for c in cols {
                            for p in c.0.iter().filter_map(ObjectNamePart::as_ident) {
                                self.idents.insert(p.value.to_ascii_lowercase());
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        ControlFlow::Continue(())
    }
}

pub(super) fn constraint_of(op: &JoinOperator) -> Option<&JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::Semi(c)
        | JoinOperator::LeftSemi(c)
        | JoinOperator::RightSemi(c)
        | JoinOperator::Anti(c)
        | JoinOperator::LeftAnti(c)
        | JoinOperator::RightAnti(c)
        | JoinOperator::StraightJoin(c) => Some(c),
        _ => None,
    }
}

/// The source index of a staging table name.
pub(super) fn staging_index(name: &ObjectName) -> Option<usize> {
    let [ObjectNamePart::Identifier(id)] = name.0.as_slice() else {
        return None;
    };
    id.value
        .strip_prefix(STAGING_PREFIX)?
        .parse::<usize>()
        .ok()?
        .checked_sub(1)
}

/// A literal non-negative integer.
fn literal_u64(e: &Expr) -> Option<u64> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

/// Sources a `LIMIT n` may go down to: each branch of the top-level query (a SELECT, or
/// the branches of `UNION ALL`) that is a plain projection of one source, optionally
/// left-joined to others, whose every `WHERE` conjunct went down with it.
fn limit_targets(body: &SetExpr, preds: &[(usize, Expr)], out: &mut Vec<usize>) -> bool {
    match body {
        SetExpr::SetOperation {
            left,
            op: SetOperator::Union,
            set_quantifier: SetQuantifier::All,
            right,
        } => limit_targets(left, preds, out) && limit_targets(right, preds, out),
        SetExpr::Select(s) => {
            let plain = s.distinct.is_none()
                && s.having.is_none()
                && s.qualify.is_none()
                && matches!(&s.group_by, sqlparser::ast::GroupByExpr::Expressions(v, m) if v.is_empty() && m.is_empty())
                && s.from.len() == 1
                && s.projection.iter().all(|p| !has_function_or_subquery(p));
            if !plain {
                return false;
            }
            let twj: &TableWithJoins = &s.from[0];
            let TableFactor::Table { name, .. } = &twj.relation else {
                return false;
            };
            let Some(i) = staging_index(name) else {
                return false;
            };
            if !twj.joins.iter().all(|j| {
                matches!(
                    j.join_operator,
                    JoinOperator::Left(_) | JoinOperator::LeftOuter(_)
                )
            }) {
                return false;
            }
            if let Some(w) = &s.selection {
                let pushed = preds.iter().filter(|(s, _)| *s == i).count();
                if conjuncts(w).len() != pushed || !twj.joins.is_empty() {
                    return false;
                }
            }
            out.push(i);
            true
        }
        _ => false,
    }
}

fn has_function_or_subquery(item: &SelectItem) -> bool {
    struct F(bool);
    impl Visitor for F {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if matches!(
                e,
                Expr::Function(_)
                    | Expr::Subquery(_)
                    | Expr::Exists { .. }
                    | Expr::InSubquery { .. }
            ) {
                self.0 = true;
            }
            ControlFlow::Continue(())
        }
    }
    let mut f = F(false);
    let _ = item.visit(&mut f);
    f.0
}

/// Analyses `sql` over the `schemas` of the connections it names (`names`: every
/// connection the user may use; `target`: where unqualified names resolve).
pub(crate) fn analyze(
    sql: &str,
    names: &[String],
    target: Option<&str>,
    schemas: &HashMap<String, (Dialect, Arc<SchemaInfo>)>,
) -> Result<Analysis, FederateError> {
    let mut stmt = parse(sql)?;
    let ctes = cte_names(&stmt);
    let mut rw = Rewriter {
        names,
        target,
        ctes,
        schemas,
        sources: Vec::new(),
        error: None,
    };
    let _ = VisitMut::visit(&mut stmt, &mut rw);
    if let Some(e) = rw.error {
        return Err(e);
    }
    let mut sources = rw.sources;
    let mut used = Used::default();
    let _ = stmt.visit(&mut used);
    let mut pd = Pushdown {
        sources: &sources,
        preds: Vec::new(),
        semijoins: Vec::new(),
    };
    let _ = stmt.visit(&mut pd);
    let (preds, mut semijoins) = (pd.preds, pd.semijoins);
    semijoins.dedup();
    // LIMIT of the top-level query, where each row of a source yields at least one row.
    if let Statement::Query(q) = &stmt {
        let limit = match &q.limit_clause {
            Some(sqlparser::ast::LimitClause::LimitOffset {
                limit: Some(l),
                offset,
                limit_by,
            }) if limit_by.is_empty() => literal_u64(l).and_then(|l| match offset {
                None => Some(l),
                Some(o) => literal_u64(&o.value).map(|o| l.saturating_add(o)),
            }),
            _ => None,
        };
        if let (Some(n), None, None) = (limit, &q.order_by, &q.fetch) {
            let mut targets = Vec::new();
            if limit_targets(&q.body, &preds, &mut targets) {
                for t in targets {
                    sources[t].limit = Some(n);
                }
            }
        }
    }
    for (i, p) in preds {
        sources[i].preds.push(p);
    }
    for s in &mut sources {
        let whole = s.all_columns || used.wildcard;
        s.used = s
            .columns
            .iter()
            .filter(|(n, _)| whole || used.idents.contains(&n.to_ascii_lowercase()))
            .map(|(n, _)| n.clone())
            .collect();
    }
    // Qualified wildcards name aliases: fetch every column of the sources they name.
    mark_aliased_wildcards(&stmt, &used.qualified_wildcards, &mut sources);
    Ok(Analysis {
        sources,
        semijoins,
        combine: stmt.to_string(),
    })
}

/// `a.*` (or a whole-row reference `a`) fetches every column of the source aliased `a`.
fn mark_aliased_wildcards(stmt: &Statement, wild: &HashSet<String>, sources: &mut [Source]) {
    struct A<'a> {
        wild: &'a HashSet<String>,
        hits: Vec<usize>,
    }
    impl Visitor for A<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table {
                name,
                alias: Some(a),
                ..
            } = t
            {
                if let Some(i) = staging_index(name) {
                    if self.wild.contains(&a.name.value.to_ascii_lowercase()) {
                        self.hits.push(i);
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut a = A {
        wild,
        hits: Vec::new(),
    };
    let _ = stmt.visit(&mut a);
    for i in a.hits {
        if let Some(s) = sources.get_mut(i) {
            s.used = s.columns.iter().map(|(n, _)| n.clone()).collect();
        }
    }
}
