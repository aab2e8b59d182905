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

use sqlparser::ast::{
    BinaryOperator, Expr, Ident, JoinConstraint, JoinOperator, ObjectName, ObjectNamePart, Query,
    Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier,
    Statement, TableAlias, TableFactor, TableWithJoins, UnaryOperator, Value, Visit, VisitMut,
    Visitor, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::backends::{Dialect, SchemaInfo};

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
fn find_table<'a>(
    schema: &'a SchemaInfo,
    table: &str,
) -> Option<&'a crate::backends::TableInfo> {
    schema
        .tables
        .iter()
        .find(|t| t.name == table)
        .or_else(|| {
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
    schemas: &'a HashMap<String, (Dialect, SchemaInfo)>,
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
                SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(n), _) => {
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

fn constraint_of(op: &JoinOperator) -> Option<&JoinConstraint> {
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
fn staging_index(name: &ObjectName) -> Option<usize> {
    let [ObjectNamePart::Identifier(id)] = name.0.as_slice() else {
        return None;
    };
    id.value
        .strip_prefix(STAGING_PREFIX)?
        .parse::<usize>()
        .ok()?
        .checked_sub(1)
}

/// The relations visible in one SELECT.
struct Scope {
    /// (alias, source) for each relation of the FROM clause (`None`: not a source).
    entries: Vec<(String, Option<usize>)>,
    /// Some relation's columns are unknown (a subquery, a function, a CTE).
    unknown: bool,
    /// Sources on the nullable side of an outer join.
    nullable: HashSet<usize>,
}

impl Scope {
    fn entry(&mut self, f: &TableFactor, nullable: bool) -> Vec<usize> {
        let alias = |a: &Option<TableAlias>| a.as_ref().map(|a| a.name.value.to_ascii_lowercase());
        match f {
            TableFactor::Table { name, alias: a, .. } => {
                let idx = staging_index(name);
                let label = alias(a).unwrap_or_else(|| {
                    name.0
                        .last()
                        .and_then(ObjectNamePart::as_ident)
                        .map(|i| i.value.to_ascii_lowercase())
                        .unwrap_or_default()
                });
                if idx.is_none() {
                    self.unknown = true;
                }
                if let (Some(i), true) = (idx, nullable) {
                    self.nullable.insert(i);
                }
                self.entries.push((label, idx));
                idx.into_iter().collect()
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => {
                // Joins in parentheses: known, but never pushed into.
                let mut all = self.entry(&table_with_joins.relation, true);
                for j in &table_with_joins.joins {
                    all.extend(self.entry(&j.relation, true));
                }
                all
            }
            other => {
                self.unknown = true;
                let label = match other {
                    TableFactor::Derived { alias: a, .. }
                    | TableFactor::TableFunction { alias: a, .. }
                    | TableFactor::UNNEST { alias: a, .. }
                    | TableFactor::Function { alias: a, .. } => alias(a).unwrap_or_default(),
                    _ => String::new(),
                };
                self.entries.push((label, None));
                Vec::new()
            }
        }
    }
}

/// Splits a predicate into its top-level `AND` conjuncts.
pub(crate) fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut v = conjuncts(left);
            v.extend(conjuncts(right));
            v
        }
        Expr::Nested(inner) => match inner.as_ref() {
            Expr::BinaryOp {
                op: BinaryOperator::And,
                ..
            } => conjuncts(inner),
            _ => vec![e],
        },
        _ => vec![e],
    }
}

struct Pushdown<'a> {
    sources: &'a [Source],
    preds: Vec<(usize, Expr)>,
    semijoins: Vec<SemiJoin>,
}

impl Pushdown<'_> {
    /// The source and canonical column a column reference resolves to in `scope`.
    fn resolve(&self, scope: &Scope, e: &Expr) -> Option<(usize, String)> {
        let (qualifier, col) = match e {
            Expr::Identifier(c) => (None, c),
            Expr::CompoundIdentifier(ids) if ids.len() == 2 => (Some(&ids[0]), &ids[1]),
            _ => return None,
        };
        let column_of = |i: usize| {
            let cols = &self.sources[i].columns;
            cols.iter()
                .find(|(n, _)| *n == col.value)
                .or_else(|| {
                    cols.iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(&col.value))
                })
                .map(|(n, _)| n.clone())
        };
        match qualifier {
            Some(q) => {
                let q = q.value.to_ascii_lowercase();
                let mut hits = scope.entries.iter().filter(|(a, _)| *a == q);
                let (_, idx) = hits.next()?;
                if hits.next().is_some() {
                    return None;
                }
                let i = (*idx)?;
                column_of(i).map(|c| (i, c))
            }
            None => {
                if scope.unknown {
                    return None;
                }
                let mut found = scope
                    .entries
                    .iter()
                    .filter_map(|(_, i)| *i)
                    .filter_map(|i| column_of(i).map(|c| (i, c)));
                let first = found.next()?;
                if found.next().is_some() {
                    return None;
                }
                Some(first)
            }
        }
    }

    /// `e` rewritten for pushing into one source (columns as quoted identifiers), with
    /// that source, when it is pushable as a whole.
    fn pushable(&self, scope: &Scope, e: &Expr) -> Option<(usize, Expr)> {
        let mut at: Option<usize> = None;
        let out = self.canon(scope, e, &mut at, 0)?;
        Some((at?, out))
    }

    fn canon(&self, scope: &Scope, e: &Expr, at: &mut Option<usize>, depth: usize) -> Option<Expr> {
        if depth > 64 {
            return None;
        }
        let column = |this: &Self, at: &mut Option<usize>, e: &Expr| -> Option<Expr> {
            let (i, c) = this.resolve(scope, e)?;
            if at.is_some_and(|a| a != i) {
                return None;
            }
            *at = Some(i);
            Some(Expr::Identifier(Ident::with_quote('"', c)))
        };
        let literal = |e: &Expr| -> bool {
            match e {
                Expr::Value(v) => matches!(
                    v.value,
                    Value::Number(..) | Value::SingleQuotedString(_) | Value::Boolean(_) | Value::Null
                ),
                Expr::UnaryOp {
                    op: UnaryOperator::Minus,
                    expr,
                } => matches!(expr.as_ref(), Expr::Value(v) if matches!(v.value, Value::Number(..))),
                _ => false,
            }
        };
        // An operand of a comparison: a column or a literal.
        let operand = |this: &Self, at: &mut Option<usize>, e: &Expr| -> Option<Expr> {
            if literal(e) {
                Some(e.clone())
            } else {
                column(this, at, e)
            }
        };
        let boxed = |e: Expr| Box::new(e);
        Some(match e {
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::And | BinaryOperator::Or => Expr::BinaryOp {
                    left: boxed(self.canon(scope, left, at, depth + 1)?),
                    op: op.clone(),
                    right: boxed(self.canon(scope, right, at, depth + 1)?),
                },
                BinaryOperator::Eq
                | BinaryOperator::NotEq
                | BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq => {
                    let l = operand(self, at, left)?;
                    let r = operand(self, at, right)?;
                    if literal(&l) && literal(&r) {
                        return None;
                    }
                    Expr::BinaryOp {
                        left: boxed(l),
                        op: op.clone(),
                        right: boxed(r),
                    }
                }
                _ => return None,
            },
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr: boxed(self.canon(scope, expr, at, depth + 1)?),
            },
            Expr::Nested(inner) => Expr::Nested(boxed(self.canon(scope, inner, at, depth + 1)?)),
            Expr::IsNull(x) => Expr::IsNull(boxed(column(self, at, x)?)),
            Expr::IsNotNull(x) => Expr::IsNotNull(boxed(column(self, at, x)?)),
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                if list.is_empty() || !list.iter().all(literal) {
                    return None;
                }
                Expr::InList {
                    expr: boxed(column(self, at, expr)?),
                    list: list.clone(),
                    negated: *negated,
                }
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                if !literal(low) || !literal(high) {
                    return None;
                }
                Expr::Between {
                    expr: boxed(column(self, at, expr)?),
                    negated: *negated,
                    low: low.clone(),
                    high: high.clone(),
                }
            }
            Expr::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char: None,
            } => {
                if !matches!(pattern.as_ref(), Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_)))
                {
                    return None;
                }
                Expr::Like {
                    negated: *negated,
                    any: false,
                    expr: boxed(column(self, at, expr)?),
                    pattern: pattern.clone(),
                    escape_char: None,
                }
            }
            _ => return None,
        })
    }

    /// Records what a conjunct allows: a predicate for one source, or an equi-join.
    /// `push_to`: the sources a single-source predicate may go to; `reduce`: the
    /// sources an equi-join may reduce.
    fn conjunct(
        &mut self,
        scope: &Scope,
        e: &Expr,
        push_to: &dyn Fn(usize) -> bool,
        reduce: &dyn Fn(usize) -> bool,
    ) {
        if let Some((i, p)) = self.pushable(scope, e) {
            if push_to(i) {
                self.preds.push((i, p));
            }
            return;
        }
        if let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = e
        {
            if let (Some((a, ac)), Some((b, bc))) =
                (self.resolve(scope, left), self.resolve(scope, right))
            {
                if a != b {
                    for (t, tc, f, fc) in [(a, &ac, b, &bc), (b, &bc, a, &ac)] {
                        if reduce(t) {
                            self.semijoins.push(SemiJoin {
                                target: t,
                                target_col: tc.clone(),
                                from: f,
                                from_col: fc.clone(),
                            });
                        }
                    }
                }
            }
        }
    }

    fn select(&mut self, s: &Select) {
        let mut scope = Scope {
            entries: Vec::new(),
            unknown: false,
            nullable: HashSet::new(),
        };
        // The FROM clause, with nullability; join conditions are read afterwards (the
        // scope must be complete to resolve unqualified names).
        let mut joins: Vec<(&JoinOperator, Vec<usize>, Vec<usize>)> = Vec::new();
        for twj in &s.from {
            let mut left = scope.entry(&twj.relation, false);
            for j in &twj.joins {
                let op = &j.join_operator;
                let (right_nullable, left_nullable) = match op {
                    JoinOperator::Join(_)
                    | JoinOperator::Inner(_)
                    | JoinOperator::CrossJoin(_)
                    | JoinOperator::StraightJoin(_) => (false, false),
                    JoinOperator::Left(_) | JoinOperator::LeftOuter(_) => (true, false),
                    JoinOperator::Right(_) | JoinOperator::RightOuter(_) => (false, true),
                    _ => (true, true),
                };
                if left_nullable {
                    scope.nullable.extend(left.iter().copied());
                }
                let right = scope.entry(&j.relation, right_nullable);
                joins.push((op, left.clone(), right.clone()));
                left.extend(right);
            }
        }
        if joins
            .iter()
            .any(|(op, _, _)| !matches!(constraint_of(op), Some(JoinConstraint::On(_)) | Some(JoinConstraint::None) | None))
        {
            // USING / NATURAL merge columns: unqualified names are not resolved here.
            scope.unknown = true;
        }
        let nullable = scope.nullable.clone();
        let inner = move |i: usize| !nullable.contains(&i);
        if let Some(w) = &s.selection {
            for c in conjuncts(w) {
                self.conjunct(&scope, c, &inner, &inner);
            }
        }
        for (op, _left, right) in &joins {
            let Some(JoinConstraint::On(on)) = constraint_of(op) else {
                continue;
            };
            match op {
                JoinOperator::Join(_) | JoinOperator::Inner(_) | JoinOperator::StraightJoin(_) => {
                    let nullable = scope.nullable.clone();
                    let ok = move |i: usize| !nullable.contains(&i);
                    let any = |_: usize| true;
                    for c in conjuncts(on) {
                        self.conjunct(&scope, c, &ok, &any);
                    }
                }
                JoinOperator::Left(_) | JoinOperator::LeftOuter(_) => {
                    let r = right.clone();
                    let own = move |i: usize| r.contains(&i);
                    for c in conjuncts(on) {
                        self.conjunct(&scope, c, &own, &own);
                    }
                }
                _ => {}
            }
        }
    }
}

impl Visitor for Pushdown<'_> {
    type Break = ();
    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
        self.select(s);
        ControlFlow::Continue(())
    }
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
                matches!(j.join_operator, JoinOperator::Left(_) | JoinOperator::LeftOuter(_))
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
                Expr::Function(_) | Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. }
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
    schemas: &HashMap<String, (Dialect, SchemaInfo)>,
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
