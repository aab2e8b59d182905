//! Which predicates and equi-joins of each SELECT may go down to a source (see
//! [`super::analyze`] for the rules).

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, Ident, JoinConstraint, JoinOperator, ObjectNamePart, Select, TableAlias,
    TableFactor, UnaryOperator, Value, Visitor,
};

use super::analyze::{constraint_of, staging_index, SemiJoin, Source};

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
pub(super) fn conjuncts(e: &Expr) -> Vec<&Expr> {
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

/// Collects pushable predicates and semi-join candidates over every SELECT.
pub(super) struct Pushdown<'a> {
    pub(super) sources: &'a [Source],
    pub(super) preds: Vec<(usize, Expr)>,
    pub(super) semijoins: Vec<SemiJoin>,
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
                    Value::Number(..)
                        | Value::SingleQuotedString(_)
                        | Value::Boolean(_)
                        | Value::Null
                ),
                Expr::UnaryOp {
                    op: UnaryOperator::Minus,
                    expr,
                } => {
                    matches!(expr.as_ref(), Expr::Value(v) if matches!(v.value, Value::Number(..)))
                }
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
        if joins.iter().any(|(op, _, _)| {
            !matches!(
                constraint_of(op),
                Some(JoinConstraint::On(_)) | Some(JoinConstraint::None) | None
            )
        }) {
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
