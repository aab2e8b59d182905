//! The SQL subset accepted on a MongoDB connection, translated to `find` or `aggregate`.
//!
//! One `SELECT` on one collection (parsed with sqlparser's generic dialect):
//!
//! - select list: `*` (the sampled field paths, `_id` only when named), field paths
//!   (`address.city` or `"address.city"`), aliases, `+ - * / %` and literals;
//! - `WHERE`: comparisons, `AND`/`OR`/`NOT`, `IN`, `BETWEEN`, `LIKE`/`ILIKE`,
//!   `IS [NOT] NULL`, `IS [NOT] TRUE/FALSE`, bare boolean fields;
//! - `GROUP BY` with `COUNT(*)`, `COUNT(x)`, `COUNT(DISTINCT x)`, `SUM`, `AVG`, `MIN`,
//!   `MAX`, `HAVING`, and `SELECT DISTINCT`;
//! - `ORDER BY` (paths, aliases, positions, aggregates), `LIMIT`/`OFFSET`/`FETCH FIRST`.
//!
//! A plain filter-and-project query becomes a `find`; everything else an `aggregate`
//! pipeline. SQL NULL semantics are kept where MongoDB differs: `x <> v` and `NOT ...`
//! exclude NULL and missing fields, `SUM`/`AVG`/`MIN`/`MAX` over no non-null value are
//! NULL, `COUNT(x)` and `COUNT(DISTINCT x)` skip NULLs, and an aggregate without
//! `GROUP BY` over no documents still returns one row. NULLs sort first ascending and
//! last descending (MongoDB's order). Anything else (JOIN, subqueries, window functions,
//! CTEs, set operations, other functions, writes) is refused with SQLSTATE 0A000 naming
//! the construct.

use std::ops::ControlFlow;

use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use sqlparser::ast::{
    AccessExpr, BinaryOperator, Distinct, DuplicateTreatment, Expr, Function, FunctionArg,
    FunctionArgExpr, FunctionArguments, GroupByExpr, LimitClause, ObjectName, OrderByExpr,
    OrderByKind, OrderBySort, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr,
    Statement, Subscript, TableFactor, UnaryOperator, Value,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use super::introspect::{CollectionSchema, FieldType};
use crate::backends::BackendError;

const HELP: &str = "on MongoDB write one SELECT on a single collection (WHERE, GROUP BY, HAVING, \
ORDER BY, LIMIT/OFFSET; COUNT/SUM/AVG/MIN/MAX), or a JSON pipeline \
{\"collection\": \"name\", \"pipeline\": [...]}";

/// A refusal of a construct the translator does not support (SQLSTATE 0A000).
pub fn unsupported(what: impl std::fmt::Display) -> BackendError {
    BackendError::Query {
        sqlstate: Some("0A000".into()),
        message: format!("{what} is not supported: {HELP}"),
    }
}

fn error(code: &str, message: impl Into<String>) -> BackendError {
    BackendError::Query {
        sqlstate: Some(code.into()),
        message: message.into(),
    }
}

/// How a MongoDB statement runs.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // one plan per query; boxing buys nothing
pub enum Plan {
    /// A `find` command.
    Find(FindPlan),
    /// An `aggregate` command with this pipeline.
    Aggregate(Vec<Document>),
}

/// The parts of a `find` command.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FindPlan {
    /// The query filter.
    pub filter: Document,
    /// Fields to return (`None`: whole documents).
    pub projection: Option<Document>,
    /// Sort specification.
    pub sort: Option<Document>,
    /// Documents to skip (`OFFSET`).
    pub skip: Option<u64>,
    /// Most documents to return (`LIMIT`).
    pub limit: Option<u64>,
}

/// Where a result column's values are read from in each returned document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A dotted path into the document (nested documents are walked).
    Path(String),
    /// A top-level key.
    Key(String),
}

/// What the translator knows about a result column's type before seeing values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// A count: bigint.
    Count,
    /// An average: double precision.
    Float,
    /// A sum: integers widen to bigint.
    Sum,
    /// The sampled type of a field.
    Field(FieldType),
    /// Nothing known: inferred from the values.
    Infer,
}

/// One result column.
#[derive(Debug, Clone, PartialEq)]
pub struct OutColumn {
    /// Column name (the alias, the field path, or the aggregate's name).
    pub name: String,
    /// Where its values are.
    pub source: Source,
    /// Type knowledge.
    pub hint: Hint,
}

/// A translated statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    /// The collection it runs on.
    pub collection: String,
    /// The command.
    pub plan: Plan,
    /// Result columns, in select-list order.
    pub columns: Vec<OutColumn>,
    /// When the command returns no document, return one row anyway (counts 0, the rest
    /// NULL): an aggregate without GROUP BY always has one row in SQL.
    pub empty_row: bool,
}

/// A parsed SELECT, ready to be translated once its collection's schema is known.
#[derive(Debug, Clone)]
pub struct SqlStatement {
    select: Box<Select>,
    order_by: Vec<OrderByExpr>,
    limit: Option<u64>,
    offset: Option<u64>,
    collection: String,
    qualifiers: Vec<String>,
}

/// Parses `sql`; `prefixes` are names that may qualify the collection (the connection's
/// and the database's names: `FROM shop.events` means collection `events`).
pub fn parse(sql: &str, prefixes: &[&str]) -> Result<SqlStatement, BackendError> {
    let text = sql.trim().trim_end_matches(';').trim();
    // Bounded before parsing: the translation clones and recurses over the tree.
    crate::sql::limits::check_with(text, &crate::sql::limits::TRANSLATOR).map_err(|e| {
        BackendError::Query {
            sqlstate: Some(e.sqlstate().into()),
            message: e.to_string(),
        }
    })?;
    let mut statements = Parser::parse_sql(&GenericDialect {}, text)
        .map_err(|e| error("42601", format!("syntax error: {e}")))?;
    if statements.len() != 1 {
        return Err(unsupported(format!(
            "{} statements in one block",
            statements.len()
        )));
    }
    let Some(statement) = statements.pop() else {
        return Err(error("42601", "empty statement"));
    };
    let query = match statement {
        Statement::Query(q) => q,
        other => {
            let kind = statement_kind(&other);
            return Err(BackendError::Query {
                sqlstate: Some("0A000".into()),
                message: format!(
                    "{kind} is not supported: MongoDB connections are read-only; {HELP}"
                ),
            });
        }
    };
    let Query {
        with,
        body,
        order_by,
        limit_clause,
        fetch,
        locks,
        for_clause,
        settings,
        format_clause,
        pipe_operators,
    } = *query;
    if with.is_some() {
        return Err(unsupported("WITH (common table expression)"));
    }
    if !locks.is_empty() {
        return Err(unsupported("FOR UPDATE/SHARE"));
    }
    if for_clause.is_some()
        || settings.is_some()
        || format_clause.is_some()
        || !pipe_operators.is_empty()
    {
        return Err(unsupported("this query clause"));
    }
    let select = match *body {
        SetExpr::Select(s) => s,
        SetExpr::SetOperation { op, .. } => {
            return Err(unsupported(format!("{op} (set operation)")))
        }
        SetExpr::Query(_) => return Err(unsupported("a subquery")),
        SetExpr::Values(_) => return Err(unsupported("VALUES")),
        SetExpr::Insert(_) => return Err(unsupported("INSERT")),
        SetExpr::Update(_) => return Err(unsupported("UPDATE")),
        SetExpr::Delete(_) => return Err(unsupported("DELETE")),
        SetExpr::Merge(_) => return Err(unsupported("MERGE")),
        SetExpr::Table(_) => return Err(unsupported("TABLE")),
    };
    let order_by = match order_by {
        None => Vec::new(),
        Some(o) => {
            if o.interpolate.is_some() {
                return Err(unsupported("ORDER BY ... INTERPOLATE"));
            }
            match o.kind {
                OrderByKind::Expressions(v) => v,
                OrderByKind::All(_) => return Err(unsupported("ORDER BY ALL")),
            }
        }
    };
    let (mut limit, offset) = match limit_clause {
        None => (None, None),
        Some(LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        }) => {
            if !limit_by.is_empty() {
                return Err(unsupported("LIMIT BY"));
            }
            let limit = match limit {
                Some(e) => Some(count_literal(&e, "LIMIT")?),
                None => None,
            };
            let offset = match offset {
                Some(o) => Some(count_literal(&o.value, "OFFSET")?),
                None => None,
            };
            (limit, offset)
        }
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => (
            Some(count_literal(&limit, "LIMIT")?),
            Some(count_literal(&offset, "OFFSET")?),
        ),
    };
    if let Some(f) = fetch {
        if f.with_ties || f.percent {
            return Err(unsupported("FETCH ... WITH TIES / PERCENT"));
        }
        let n = match f.quantity {
            Some(e) => count_literal(&e, "FETCH FIRST")?,
            None => 1,
        };
        limit = Some(limit.map_or(n, |l| l.min(n)));
    }
    check_select_clauses(&select)?;
    let (collection, alias) = from_collection(&select, prefixes)?;
    let mut qualifiers: Vec<String> = prefixes.iter().map(|p| p.to_ascii_lowercase()).collect();
    qualifiers.push(collection.to_ascii_lowercase());
    if let Some(a) = alias {
        qualifiers.push(a.to_ascii_lowercase());
    }
    Ok(SqlStatement {
        select,
        order_by,
        limit,
        offset,
        collection,
        qualifiers,
    })
}

fn statement_kind(s: &Statement) -> String {
    let text = s.to_string();
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or("statement").to_ascii_uppercase();
    match first.as_str() {
        "CREATE" | "DROP" | "ALTER" | "TRUNCATE" => format!(
            "{first} {}",
            words.next().unwrap_or("").to_ascii_uppercase()
        )
        .trim()
        .to_string(),
        _ => first,
    }
}

fn count_literal(e: &Expr, what: &str) -> Result<u64, BackendError> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse::<u64>().map_err(|_| {
                error(
                    "22023",
                    format!("{what} must be a non-negative integer, got {n}"),
                )
            }),
            Value::Null => Ok(u64::MAX),
            _ => Err(error(
                "22023",
                format!("{what} must be a non-negative integer"),
            )),
        },
        _ => Err(unsupported(format!("{what} with an expression"))),
    }
}

fn check_select_clauses(s: &Select) -> Result<(), BackendError> {
    if s.top.is_some() {
        return Err(unsupported("TOP (use LIMIT)"));
    }
    if s.into.is_some() {
        return Err(unsupported("SELECT INTO"));
    }
    if s.exclude.is_some() {
        return Err(unsupported("SELECT * EXCLUDE"));
    }
    if !s.lateral_views.is_empty() {
        return Err(unsupported("LATERAL VIEW"));
    }
    if s.prewhere.is_some() {
        return Err(unsupported("PREWHERE"));
    }
    if !s.connect_by.is_empty() {
        return Err(unsupported("CONNECT BY"));
    }
    if !s.cluster_by.is_empty() || !s.distribute_by.is_empty() || !s.sort_by.is_empty() {
        return Err(unsupported("CLUSTER/DISTRIBUTE/SORT BY"));
    }
    if !s.named_window.is_empty() {
        return Err(unsupported("a window function (WINDOW clause)"));
    }
    if s.qualify.is_some() {
        return Err(unsupported("QUALIFY"));
    }
    if matches!(s.distinct, Some(Distinct::On(_))) {
        return Err(unsupported("DISTINCT ON"));
    }
    Ok(())
}

/// The collection named in FROM and its alias.
fn from_collection(
    s: &Select,
    prefixes: &[&str],
) -> Result<(String, Option<String>), BackendError> {
    let from = match s.from.as_slice() {
        [] => return Err(unsupported("SELECT without FROM")),
        [one] => one,
        _ => return Err(unsupported("more than one collection in FROM (a join)")),
    };
    if !from.joins.is_empty() {
        return Err(unsupported(
            "JOIN (a statement reads one collection; a JSON pipeline can use $lookup)",
        ));
    }
    match &from.relation {
        TableFactor::Table {
            name, alias, args, ..
        } => {
            if args.is_some() {
                return Err(unsupported(format!("table function {name}()")));
            }
            Ok((
                collection_name(name, prefixes)?,
                alias.as_ref().map(|a| a.name.value.clone()),
            ))
        }
        TableFactor::Derived { .. } => Err(unsupported("a subquery in FROM")),
        TableFactor::NestedJoin { .. } => Err(unsupported("JOIN")),
        TableFactor::TableFunction { .. }
        | TableFactor::Function { .. }
        | TableFactor::UNNEST { .. } => Err(unsupported("a table function in FROM")),
        _ => Err(unsupported("this FROM item")),
    }
}

fn collection_name(name: &ObjectName, prefixes: &[&str]) -> Result<String, BackendError> {
    let mut parts: Vec<String> = Vec::new();
    for p in &name.0 {
        match p.as_ident() {
            Some(id) => parts.push(id.value.clone()),
            None => return Err(unsupported(format!("collection name {name}"))),
        }
    }
    while parts.len() > 1 && prefixes.iter().any(|p| p.eq_ignore_ascii_case(&parts[0])) {
        parts.remove(0);
    }
    Ok(parts.join("."))
}

impl SqlStatement {
    /// The collection the statement reads.
    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// Translates the statement, using the sampled `schema` of its collection for `*`,
    /// literal conversion (`'2024-01-31'` against a date field becomes a date, a 24-digit
    /// hex string against an ObjectId field an ObjectId) and result types.
    pub fn translate(&self, schema: &CollectionSchema) -> Result<Translated, BackendError> {
        let tx = Tx {
            schema,
            qualifiers: &self.qualifiers,
        };
        tx.translate(self)
    }
}

// ---------------------------------------------------------------------------------------
// Translation
// ---------------------------------------------------------------------------------------

struct Tx<'a> {
    schema: &'a CollectionSchema,
    qualifiers: &'a [String],
}

/// A field of the documents at some point of the pipeline.
#[derive(Debug, Clone)]
struct Field {
    path: String,
    ty: Option<FieldType>,
}

/// One item of the select list.
enum Item<'e> {
    Star,
    Expr {
        expr: &'e Expr,
        alias: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AggKind {
    CountStar,
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
}

const AGGREGATES: &[&str] = &["count", "sum", "avg", "min", "max"];

fn function_name(f: &Function) -> String {
    f.name
        .0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.to_ascii_lowercase())
        .unwrap_or_else(|| f.name.to_string().to_ascii_lowercase())
}

/// `Some((kind, argument))` when `f` is one of the supported aggregates.
fn aggregate_call(f: &Function) -> Result<Option<(AggKind, Option<&Expr>)>, BackendError> {
    let name = function_name(f);
    if !AGGREGATES.contains(&name.as_str()) {
        return Ok(None);
    }
    if f.over.is_some() {
        return Err(unsupported(format!("window function {name}() OVER (...)")));
    }
    if f.filter.is_some() {
        return Err(unsupported(format!("{name}() FILTER (WHERE ...)")));
    }
    if !f.within_group.is_empty() {
        return Err(unsupported(format!("{name}() WITHIN GROUP")));
    }
    let FunctionArguments::List(list) = &f.args else {
        return Err(unsupported(format!("{name} without an argument list")));
    };
    if !list.clauses.is_empty() {
        return Err(unsupported(format!("ORDER BY/LIMIT inside {name}()")));
    }
    let distinct = matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct));
    let [arg] = list.args.as_slice() else {
        return Err(error(
            "42883",
            format!("{name}() takes exactly one argument"),
        ));
    };
    let arg = match arg {
        FunctionArg::Unnamed(a) => a,
        _ => return Err(unsupported(format!("named arguments to {name}()"))),
    };
    match (name.as_str(), arg, distinct) {
        ("count", FunctionArgExpr::Wildcard, false) => Ok(Some((AggKind::CountStar, None))),
        ("count", FunctionArgExpr::Expr(e), false) => Ok(Some((AggKind::Count, Some(e)))),
        ("count", FunctionArgExpr::Expr(e), true) => Ok(Some((AggKind::CountDistinct, Some(e)))),
        (_, FunctionArgExpr::Expr(_), true) => Err(unsupported(format!(
            "{}(DISTINCT ...)",
            name.to_uppercase()
        ))),
        ("sum", FunctionArgExpr::Expr(e), _) => Ok(Some((AggKind::Sum, Some(e)))),
        ("avg", FunctionArgExpr::Expr(e), _) => Ok(Some((AggKind::Avg, Some(e)))),
        ("min", FunctionArgExpr::Expr(e), _) => Ok(Some((AggKind::Min, Some(e)))),
        ("max", FunctionArgExpr::Expr(e), _) => Ok(Some((AggKind::Max, Some(e)))),
        _ => Err(error(
            "42883",
            format!("{name}() needs a field or expression argument"),
        )),
    }
}

fn contains_aggregate(e: &Expr) -> bool {
    let found = sqlparser::ast::visit_expressions(e, |x| match x {
        Expr::Function(f)
            if AGGREGATES.contains(&function_name(f).as_str()) && f.over.is_none() =>
        {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    });
    found.is_break()
}

/// Resolves column-like expressions to fields of the documents at one pipeline point.
trait Scope {
    /// The field `e` names, or `None` when `e` is not a plain field reference here.
    fn field(&mut self, e: &Expr) -> Result<Option<Field>, BackendError>;
}

/// Before grouping: fields are document paths.
struct DocScope<'t, 'a> {
    tx: &'t Tx<'a>,
}

impl Scope for DocScope<'_, '_> {
    fn field(&mut self, e: &Expr) -> Result<Option<Field>, BackendError> {
        if let Expr::Function(f) = e {
            if aggregate_call(f)?.is_some() {
                return Err(error(
                    "42803",
                    format!("aggregate function {}() is not allowed here (use HAVING for conditions on aggregates)", function_name(f)),
                ));
            }
        }
        Ok(self.tx.path(e).map(|path| Field {
            ty: self.tx.schema.type_of(&path),
            path,
        }))
    }
}

struct Key {
    expr: Expr,
    path: Option<String>,
    value: Bson,
    ty: Option<FieldType>,
}

struct Acc {
    kind: AggKind,
    arg: Option<Bson>,
}

/// The `$group` being built: its keys and accumulators.
struct Grouping {
    keys: Vec<Key>,
    accs: Vec<Acc>,
}

impl Grouping {
    fn key_field(&self, i: usize) -> String {
        if self.keys.len() == 1 {
            "_id".to_string()
        } else {
            format!("__g{i}")
        }
    }

    fn acc(&mut self, kind: AggKind, arg: Option<Bson>) -> String {
        let i = match self
            .accs
            .iter()
            .position(|a| a.kind == kind && a.arg == arg)
        {
            Some(i) => i,
            None => {
                self.accs.push(Acc { kind, arg });
                self.accs.len() - 1
            }
        };
        format!("__a{i}")
    }

    /// The `$group` stage and the `$project` that finishes the accumulators.
    fn stages(&self) -> (Document, Document) {
        let id = match self.keys.as_slice() {
            [] => Bson::Null,
            [k] => k.value.clone(),
            keys => {
                // A composite key as one string (compound `_id` documents are not
                // evaluated by every MongoDB-compatible server); the key values travel
                // alongside through `$first`.
                let mut parts = Vec::new();
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        parts.push(Bson::String("\u{1}".into()));
                    }
                    parts.push(Bson::Document(
                        doc! {"$ifNull": [{"$toString": k.value.clone()}, "\u{0}"]},
                    ));
                }
                Bson::Document(doc! {"$concat": parts})
            }
        };
        let mut group = doc! {"_id": id};
        let mut finish = Document::new();
        if self.keys.len() > 1 {
            finish.insert("_id", 0);
            for (i, k) in self.keys.iter().enumerate() {
                group.insert(format!("__g{i}"), doc! {"$first": k.value.clone()});
                finish.insert(format!("__g{i}"), 1);
            }
        } else {
            finish.insert("_id", 1);
        }
        for (i, a) in self.accs.iter().enumerate() {
            let name = format!("__a{i}");
            let arg = a.arg.clone().unwrap_or(Bson::Null);
            match a.kind {
                AggKind::CountStar => {
                    group.insert(&name, doc! {"$sum": 1});
                    finish.insert(&name, 1);
                }
                AggKind::Count => {
                    group.insert(&name, doc! {"$sum": not_null_flag(&arg)});
                    finish.insert(&name, 1);
                }
                AggKind::CountDistinct => {
                    group.insert(format!("{name}_set"), doc! {"$addToSet": arg});
                    finish.insert(
                        &name,
                        doc! {"$size": {"$filter": {"input": format!("${name}_set"), "cond": {"$ne": ["$$this", Bson::Null]}}}},
                    );
                }
                AggKind::Sum | AggKind::Avg => {
                    // Sum and count of the numeric values; AVG is their quotient. Both are
                    // NULL over no numeric value, as in SQL ($sum alone would say 0).
                    group.insert(&name, doc! {"$sum": arg.clone()});
                    group.insert(
                        format!("{name}_n"),
                        doc! {"$sum": {"$cond": [{"$isNumber": arg}, 1, 0]}},
                    );
                    let value = if a.kind == AggKind::Avg {
                        Bson::Document(doc! {"$divide": [format!("${name}"), format!("${name}_n")]})
                    } else {
                        Bson::String(format!("${name}"))
                    };
                    finish.insert(
                        &name,
                        doc! {"$cond": [{"$gt": [format!("${name}_n"), 0]}, value, Bson::Null]},
                    );
                }
                AggKind::Min | AggKind::Max => {
                    let op = if a.kind == AggKind::Min {
                        "$min"
                    } else {
                        "$max"
                    };
                    group.insert(&name, doc! {op: arg.clone()});
                    group.insert(format!("{name}_n"), doc! {"$sum": not_null_flag(&arg)});
                    finish.insert(
                        &name,
                        doc! {"$cond": [{"$gt": [format!("${name}_n"), 0]}, format!("${name}"), Bson::Null]},
                    );
                }
            }
        }
        (group, finish)
    }
}

/// `{$cond: [x is null or missing, 0, 1]}`
fn not_null_flag(arg: &Bson) -> Bson {
    Bson::Document(
        doc! {"$cond": [{"$eq": [{"$ifNull": [arg.clone(), Bson::Null]}, Bson::Null]}, 0, 1]},
    )
}

/// After grouping: fields are group keys and accumulators.
struct GroupScope<'t, 'a, 'g> {
    tx: &'t Tx<'a>,
    g: &'g mut Grouping,
    /// Select-list aliases (HAVING may name them) and their expressions.
    aliases: Vec<(String, Expr)>,
}

impl Scope for GroupScope<'_, '_, '_> {
    fn field(&mut self, e: &Expr) -> Result<Option<Field>, BackendError> {
        if let Expr::Nested(inner) = e {
            return self.field(inner);
        }
        if let Expr::Function(f) = e {
            if let Some((kind, arg)) = aggregate_call(f)? {
                if let Some(a) = arg {
                    if contains_aggregate(a) {
                        return Err(error("42803", "aggregate function calls cannot be nested"));
                    }
                }
                let (arg, ty) = match arg {
                    None => (None, None),
                    Some(a) => {
                        let mut docs = DocScope { tx: self.tx };
                        let ty = self.tx.path(a).and_then(|p| self.tx.schema.type_of(&p));
                        (Some(expression(&mut docs, a)?), ty)
                    }
                };
                let ty = match kind {
                    AggKind::Min | AggKind::Max | AggKind::Sum => ty,
                    _ => None,
                };
                let path = self.g.acc(kind, arg);
                return Ok(Some(Field { path, ty }));
            }
        }
        if let Some(i) = self.tx.key_index(self.g, e) {
            return Ok(Some(Field {
                path: self.g.key_field(i),
                ty: self.g.keys[i].ty,
            }));
        }
        // A select alias (HAVING n > 1, ORDER BY total).
        if let Expr::Identifier(id) = e {
            let found = self
                .aliases
                .iter()
                .find(|(a, _)| ident_matches(a, &id.value, id.quote_style.is_some()))
                .map(|(_, x)| x.clone());
            if let Some(x) = found {
                if !matches!(x, Expr::Identifier(ref other) if other.value == id.value) {
                    return self.field(&x);
                }
            }
        }
        if let Some(path) = self.tx.path(e) {
            return Err(error(
                "42803",
                format!("field \"{path}\" must appear in the GROUP BY clause or be used in an aggregate function"),
            ));
        }
        Ok(None)
    }
}

fn ident_matches(alias: &str, ident: &str, quoted: bool) -> bool {
    if quoted {
        alias == ident
    } else {
        alias.eq_ignore_ascii_case(ident)
    }
}

/// An aggregation expression for `e`.
fn expression(scope: &mut dyn Scope, e: &Expr) -> Result<Bson, BackendError> {
    if let Some(f) = scope.field(e)? {
        return Ok(Bson::String(format!("${}", f.path)));
    }
    if let Some(v) = literal(e, None)? {
        return Ok(match v {
            Bson::String(s) => Bson::Document(doc! {"$literal": s}),
            other => other,
        });
    }
    match e {
        Expr::Nested(inner) => expression(scope, inner),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => Ok(Bson::Document(
            doc! {"$multiply": [-1, expression(scope, expr)?]},
        )),
        Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr,
        } => expression(scope, expr),
        Expr::BinaryOp { left, op, right } => {
            let name = match op {
                BinaryOperator::Plus => "$add",
                BinaryOperator::Minus => "$subtract",
                BinaryOperator::Multiply => "$multiply",
                BinaryOperator::Divide => "$divide",
                BinaryOperator::Modulo => "$mod",
                BinaryOperator::StringConcat => "$concat",
                other => {
                    return Err(unsupported(format!(
                        "operator {other} in a select-list or computed expression"
                    )))
                }
            };
            let l = expression(scope, left)?;
            let r = expression(scope, right)?;
            Ok(Bson::Document(doc! {name: [l, r]}))
        }
        other => Err(unsupported(describe(other))),
    }
}

/// The dotted name parts of a column reference: `a`, `a.b.c`, `"a.b"`, `a.b[0]`.
fn path_parts(e: &Expr) -> Option<Vec<String>> {
    match e {
        Expr::Identifier(id) => Some(vec![id.value.clone()]),
        Expr::CompoundIdentifier(parts) => Some(parts.iter().map(|p| p.value.clone()).collect()),
        Expr::Nested(inner) => path_parts(inner),
        // `user` (and similar keywords) parse as a function called without parentheses.
        Expr::Function(f)
            if matches!(f.args, FunctionArguments::None)
                && matches!(f.parameters, FunctionArguments::None)
                && f.over.is_none() =>
        {
            f.name
                .0
                .iter()
                .map(|p| p.as_ident().map(|i| i.value.clone()))
                .collect()
        }
        Expr::CompoundFieldAccess { root, access_chain } => {
            let mut names = path_parts(root)?;
            for a in access_chain {
                match a {
                    AccessExpr::Dot(x) => names.extend(path_parts(x)?),
                    AccessExpr::Subscript(Subscript::Index { index }) => match index {
                        Expr::Value(v) => match &v.value {
                            Value::Number(n, _) if n.parse::<usize>().is_ok() => {
                                names.push(n.clone())
                            }
                            Value::SingleQuotedString(k) => names.push(k.clone()),
                            _ => return None,
                        },
                        _ => return None,
                    },
                    AccessExpr::Subscript(_) => return None,
                }
            }
            Some(names)
        }
        _ => None,
    }
}

/// A short name for an expression kind, for refusals.
fn describe(e: &Expr) -> String {
    match e {
        Expr::Function(f) => {
            if f.over.is_some() {
                format!("window function {}() OVER (...)", function_name(f))
            } else {
                format!("function {}()", function_name(f))
            }
        }
        Expr::Subquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. } => "a subquery".into(),
        Expr::Case { .. } => "CASE".into(),
        Expr::Cast { .. } => "CAST".into(),
        Expr::Extract { .. } => "EXTRACT".into(),
        Expr::Interval(_) => "INTERVAL".into(),
        Expr::Substring { .. } => "SUBSTRING".into(),
        Expr::Trim { .. } => "TRIM".into(),
        Expr::Position { .. } => "POSITION".into(),
        Expr::AtTimeZone { .. } => "AT TIME ZONE".into(),
        Expr::Collate { .. } => "COLLATE".into(),
        Expr::SimilarTo { .. } => "SIMILAR TO".into(),
        Expr::RLike { .. } => "REGEXP/RLIKE".into(),
        Expr::AnyOp { .. } | Expr::AllOp { .. } => "ANY/ALL".into(),
        Expr::IsDistinctFrom(..) | Expr::IsNotDistinctFrom(..) => "IS [NOT] DISTINCT FROM".into(),
        Expr::Tuple(_) => "a row value (tuple)".into(),
        Expr::Array(_) => "an ARRAY literal".into(),
        Expr::JsonAccess { .. } => "JSON operators (write the nested path as address.city)".into(),
        other => {
            let text = other.to_string();
            let short: String = text.chars().take(60).collect();
            format!("the expression `{short}`")
        }
    }
}

// ---------------------------------------------------------------------------------------
// Literals
// ---------------------------------------------------------------------------------------

/// The value of a literal expression (`None`: not a literal), converted for a field of
/// type `ty` where the SQL text cannot say it (dates, ObjectIds, numbers in strings).
fn literal(e: &Expr, ty: Option<FieldType>) -> Result<Option<Bson>, BackendError> {
    let v = match e {
        Expr::Nested(inner) => return literal(inner, ty),
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => number(n)?,
            Value::Boolean(b) => Bson::Boolean(*b),
            Value::Null => Bson::Null,
            Value::Placeholder(p) => return Err(unsupported(format!("query parameter {p}"))),
            other => match string_value(other) {
                Some(s) => coerce(s, ty),
                None => return Err(unsupported(format!("literal {other}"))),
            },
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match literal(expr, ty)? {
            Some(Bson::Int64(i)) => Bson::Int64(-i),
            Some(Bson::Int32(i)) => Bson::Int32(-i),
            Some(Bson::Double(f)) => Bson::Double(-f),
            Some(_) => return Err(unsupported("minus on a non-number literal")),
            None => return Ok(None),
        },
        Expr::TypedString(t) => {
            let kind = t.data_type.to_string().to_ascii_uppercase();
            let Some(s) = string_value(&t.value.value) else {
                return Err(unsupported(format!("typed literal {e}")));
            };
            if kind.starts_with("DATE") || kind.starts_with("TIMESTAMP") {
                match parse_datetime(&s) {
                    Some(d) => Bson::DateTime(d),
                    None => return Err(error("22007", format!("invalid {kind} literal '{s}'"))),
                }
            } else {
                return Err(unsupported(format!("typed literal {kind} '...'")));
            }
        }
        Expr::Cast {
            expr, data_type, ..
        } => {
            let kind = data_type.to_string().to_ascii_uppercase();
            match literal(expr, None)? {
                Some(Bson::String(s))
                    if kind.starts_with("DATE") || kind.starts_with("TIMESTAMP") =>
                {
                    match parse_datetime(&s) {
                        Some(d) => Bson::DateTime(d),
                        None => {
                            return Err(error("22007", format!("invalid {kind} literal '{s}'")))
                        }
                    }
                }
                _ => return Err(unsupported("CAST")),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn string_value(v: &Value) -> Option<String> {
    match v {
        Value::SingleQuotedString(s)
        | Value::DoubleQuotedString(s)
        | Value::EscapedStringLiteral(s)
        | Value::UnicodeStringLiteral(s)
        | Value::NationalStringLiteral(s)
        | Value::TripleSingleQuotedString(s)
        | Value::TripleDoubleQuotedString(s)
        | Value::SingleQuotedRawStringLiteral(s)
        | Value::DoubleQuotedRawStringLiteral(s) => Some(s.clone()),
        Value::DollarQuotedString(d) => Some(d.value.clone()),
        _ => None,
    }
}

fn number(n: &str) -> Result<Bson, BackendError> {
    if let Ok(i) = n.parse::<i64>() {
        return Ok(match i32::try_from(i) {
            Ok(small) => Bson::Int32(small),
            Err(_) => Bson::Int64(i),
        });
    }
    n.parse::<f64>()
        .map(Bson::Double)
        .map_err(|_| error("22003", format!("invalid number {n}")))
}

/// A string literal compared with a field of type `ty`.
fn coerce(s: String, ty: Option<FieldType>) -> Bson {
    match ty {
        Some(FieldType::Date) => parse_datetime(&s).map_or(Bson::String(s), Bson::DateTime),
        Some(FieldType::ObjectId) => {
            ObjectId::parse_str(&s).map_or(Bson::String(s), Bson::ObjectId)
        }
        Some(t) if t.is_numeric() => match number(s.trim()) {
            Ok(n) => n,
            Err(_) => Bson::String(s),
        },
        Some(FieldType::Bool) => match s.to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "on" => Bson::Boolean(true),
            "false" | "f" | "no" | "off" => Bson::Boolean(false),
            _ => Bson::String(s),
        },
        _ => Bson::String(s),
    }
}

/// `2024-01-31`, `2024-01-31 12:00:00[.fff]`, `2024-01-31T12:00:00[.fff]` (UTC unless an
/// offset or `Z` is given).
pub fn parse_datetime(s: &str) -> Option<DateTime> {
    let s = s.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(DateTime::from_millis(d.timestamp_millis()));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%#z",
    ] {
        if let Ok(d) = chrono::DateTime::parse_from_str(s, fmt) {
            return Some(DateTime::from_millis(d.timestamp_millis()));
        }
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(DateTime::from_millis(d.and_utc().timestamp_millis()));
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| DateTime::from_millis(d.and_utc().timestamp_millis()))
}

// ---------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------

fn match_nothing() -> Document {
    doc! {"_id": {"$exists": false}}
}

fn and(parts: Vec<Document>) -> Document {
    let mut out: Vec<Document> = Vec::new();
    for p in parts {
        if p.is_empty() {
            continue;
        }
        if p.len() == 1 {
            if let Ok(inner) = p.get_array("$and") {
                out.extend(inner.iter().filter_map(|b| b.as_document().cloned()));
                continue;
            }
        }
        out.push(p);
    }
    match out.len() {
        0 => Document::new(),
        1 => out.pop().unwrap_or_default(),
        _ => doc! {"$and": out},
    }
}

fn or(parts: Vec<Document>) -> Document {
    let mut out: Vec<Document> = Vec::new();
    for p in parts {
        if p.is_empty() {
            return Document::new(); // one branch matches everything
        }
        if p.len() == 1 {
            if let Ok(inner) = p.get_array("$or") {
                out.extend(inner.iter().filter_map(|b| b.as_document().cloned()));
                continue;
            }
        }
        out.push(p);
    }
    match out.len() {
        0 => match_nothing(),
        1 => out.pop().unwrap_or_default(),
        _ => doc! {"$or": out},
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn of(op: &BinaryOperator) -> Option<Cmp> {
        Some(match op {
            BinaryOperator::Eq => Cmp::Eq,
            BinaryOperator::NotEq => Cmp::Ne,
            BinaryOperator::Lt => Cmp::Lt,
            BinaryOperator::LtEq => Cmp::Le,
            BinaryOperator::Gt => Cmp::Gt,
            BinaryOperator::GtEq => Cmp::Ge,
            _ => return None,
        })
    }
    fn negate(self) -> Cmp {
        match self {
            Cmp::Eq => Cmp::Ne,
            Cmp::Ne => Cmp::Eq,
            Cmp::Lt => Cmp::Ge,
            Cmp::Le => Cmp::Gt,
            Cmp::Gt => Cmp::Le,
            Cmp::Ge => Cmp::Lt,
        }
    }
    /// The same comparison with its operands swapped.
    fn flip(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            other => other,
        }
    }
    fn op(self) -> &'static str {
        match self {
            Cmp::Eq => "$eq",
            Cmp::Ne => "$ne",
            Cmp::Lt => "$lt",
            Cmp::Le => "$lte",
            Cmp::Gt => "$gt",
            Cmp::Ge => "$gte",
        }
    }
}

/// A query-language filter for `e` (negated when `neg`), with SQL's NULL semantics: a
/// row matches only when the condition is true, never when it is NULL.
fn filter(scope: &mut dyn Scope, e: &Expr, neg: bool) -> Result<Document, BackendError> {
    match e {
        Expr::Nested(inner) => filter(scope, inner, neg),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => filter(scope, expr, !neg),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let parts = vec![filter(scope, left, neg)?, filter(scope, right, neg)?];
            Ok(if neg { or(parts) } else { and(parts) })
        }
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Or,
            right,
        } => {
            let parts = vec![filter(scope, left, neg)?, filter(scope, right, neg)?];
            Ok(if neg { and(parts) } else { or(parts) })
        }
        Expr::BinaryOp { left, op, right } => match Cmp::of(op) {
            Some(c) => compare(scope, left, if neg { c.negate() } else { c }, right),
            None => Err(unsupported(format!("operator {op} in a condition"))),
        },
        Expr::IsNull(x) => null_test(scope, x, !neg),
        Expr::IsNotNull(x) => null_test(scope, x, neg),
        Expr::IsTrue(x) => bool_test(scope, x, true, !neg),
        Expr::IsNotTrue(x) => bool_test(scope, x, true, neg),
        Expr::IsFalse(x) => bool_test(scope, x, false, !neg),
        Expr::IsNotFalse(x) => bool_test(scope, x, false, neg),
        Expr::InList {
            expr,
            list,
            negated,
        } => in_list(scope, expr, list, *negated != neg),
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            if *negated != neg {
                Ok(or(vec![
                    compare(scope, expr, Cmp::Lt, low)?,
                    compare(scope, expr, Cmp::Gt, high)?,
                ]))
            } else {
                Ok(and(vec![
                    compare(scope, expr, Cmp::Ge, low)?,
                    compare(scope, expr, Cmp::Le, high)?,
                ]))
            }
        }
        Expr::Like {
            negated,
            any,
            expr,
            pattern,
            escape_char,
        } => like(
            scope,
            expr,
            pattern,
            escape_char.as_deref(),
            false,
            *negated != neg,
            *any,
        ),
        Expr::ILike {
            negated,
            any,
            expr,
            pattern,
            escape_char,
        } => like(
            scope,
            expr,
            pattern,
            escape_char.as_deref(),
            true,
            *negated != neg,
            *any,
        ),
        Expr::Value(v) if matches!(v.value, Value::Boolean(_)) => {
            let b = matches!(v.value, Value::Boolean(true));
            Ok(if b != neg {
                Document::new()
            } else {
                match_nothing()
            })
        }
        Expr::InSubquery { .. } | Expr::Exists { .. } | Expr::Subquery(_) => {
            Err(unsupported("a subquery"))
        }
        other => match scope.field(other)? {
            // A bare boolean field.
            Some(f) => Ok(doc! {f.path: !neg}),
            None => Err(unsupported(format!("{} as a condition", describe(other)))),
        },
    }
}

fn compare(
    scope: &mut dyn Scope,
    left: &Expr,
    c: Cmp,
    right: &Expr,
) -> Result<Document, BackendError> {
    let lf = scope.field(left)?;
    let rf = scope.field(right)?;
    match (&lf, &rf) {
        (Some(f), None) => {
            if let Some(v) = literal(right, f.ty)? {
                return Ok(field_compare(&f.path, c, v));
            }
        }
        (None, Some(f)) => {
            if let Some(v) = literal(left, f.ty)? {
                return Ok(field_compare(&f.path, c.flip(), v));
            }
        }
        (None, None) => {
            if let (Some(a), Some(b)) = (literal(left, None)?, literal(right, None)?) {
                // `WHERE 1 = 1` and friends.
                return match constant_compare(&a, &b, c) {
                    Some(true) => Ok(Document::new()),
                    Some(false) => Ok(match_nothing()),
                    None => Err(unsupported(format!(
                        "a comparison of the literals {a} and {b}"
                    ))),
                };
            }
        }
        _ => {}
    }
    // Field against field, or computed expressions: $expr, with NULLs never matching.
    let l = expression(scope, left)?;
    let r = expression(scope, right)?;
    let mut conds = vec![Bson::Document(doc! {c.op(): [l.clone(), r.clone()]})];
    for x in [l, r] {
        if matches!(x, Bson::String(_) | Bson::Document(_)) {
            conds.push(Bson::Document(
                doc! {"$ne": [{"$ifNull": [x, Bson::Null]}, Bson::Null]},
            ));
        }
    }
    Ok(doc! {"$expr": {"$and": conds}})
}

fn constant_compare(a: &Bson, b: &Bson, c: Cmp) -> Option<bool> {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (Bson::Null, _) | (_, Bson::Null) => return Some(false),
        (Bson::String(x), Bson::String(y)) => x.cmp(y),
        (Bson::Boolean(x), Bson::Boolean(y)) => x.cmp(y),
        _ => {
            let num = |v: &Bson| match v {
                Bson::Int32(i) => Some(f64::from(*i)),
                Bson::Int64(i) => Some(*i as f64),
                Bson::Double(f) => Some(*f),
                _ => None,
            };
            num(a)?.partial_cmp(&num(b)?)?
        }
    };
    Some(match c {
        Cmp::Eq => ord == Ordering::Equal,
        Cmp::Ne => ord != Ordering::Equal,
        Cmp::Lt => ord == Ordering::Less,
        Cmp::Le => ord != Ordering::Greater,
        Cmp::Gt => ord == Ordering::Greater,
        Cmp::Ge => ord != Ordering::Less,
    })
}

fn field_compare(path: &str, c: Cmp, v: Bson) -> Document {
    if v == Bson::Null {
        // `x = NULL` and friends are never true in SQL.
        return match_nothing();
    }
    match c {
        Cmp::Ne => doc! {path: {"$nin": [v, Bson::Null]}},
        other => doc! {path: {other.op(): v}},
    }
}

fn null_test(scope: &mut dyn Scope, x: &Expr, is_null: bool) -> Result<Document, BackendError> {
    if let Some(f) = scope.field(x)? {
        return Ok(if is_null {
            doc! {f.path: {"$eq": Bson::Null}}
        } else {
            doc! {f.path: {"$nin": [Bson::Null]}}
        });
    }
    let v = expression(scope, x)?;
    let op = if is_null { "$eq" } else { "$ne" };
    Ok(doc! {"$expr": {op: [{"$ifNull": [v, Bson::Null]}, Bson::Null]}})
}

fn bool_test(
    scope: &mut dyn Scope,
    x: &Expr,
    value: bool,
    is: bool,
) -> Result<Document, BackendError> {
    match scope.field(x)? {
        Some(f) if is => Ok(doc! {f.path: value}),
        Some(f) => Ok(doc! {f.path: {"$ne": value}}),
        None => Err(unsupported(format!("IS TRUE/FALSE on {}", describe(x)))),
    }
}

fn in_list(
    scope: &mut dyn Scope,
    x: &Expr,
    list: &[Expr],
    neg: bool,
) -> Result<Document, BackendError> {
    let Some(f) = scope.field(x)? else {
        return Err(unsupported(format!("IN on {}", describe(x))));
    };
    let mut values = Vec::new();
    let mut has_null = false;
    for item in list {
        match literal(item, f.ty)? {
            Some(Bson::Null) => has_null = true,
            Some(v) => values.push(v),
            None => return Err(unsupported(format!("IN with the non-literal value {item}"))),
        }
    }
    if neg {
        if has_null {
            return Ok(match_nothing()); // x NOT IN (..., NULL) is never true
        }
        values.push(Bson::Null);
        Ok(doc! {f.path: {"$nin": values}})
    } else if values.is_empty() {
        Ok(match_nothing())
    } else {
        Ok(doc! {f.path: {"$in": values}})
    }
}

#[allow(clippy::too_many_arguments)]
fn like(
    scope: &mut dyn Scope,
    x: &Expr,
    pattern: &Expr,
    escape: Option<&Expr>,
    case_insensitive: bool,
    neg: bool,
    any: bool,
) -> Result<Document, BackendError> {
    if any {
        return Err(unsupported("LIKE ANY"));
    }
    let Some(f) = scope.field(x)? else {
        return Err(unsupported(format!("LIKE on {}", describe(x))));
    };
    let pattern = match literal(pattern, None)? {
        Some(Bson::String(s)) => s,
        _ => {
            return Err(unsupported(
                "LIKE with a pattern that is not a string literal",
            ))
        }
    };
    let escape = match escape {
        None => None,
        Some(e) => match literal(e, None)? {
            Some(Bson::String(s)) if s.chars().count() == 1 => s.chars().next(),
            Some(Bson::String(s)) if s.is_empty() => None,
            _ => return Err(error("22025", "the LIKE escape must be a single character")),
        },
    };
    let regex = like_regex(&pattern, escape);
    let options = if case_insensitive { "is" } else { "s" };
    let m = doc! {f.path.clone(): {"$regex": regex, "$options": options}};
    Ok(if neg {
        doc! {"$and": [{f.path: {"$nin": [Bson::Null]}}, {"$nor": [m]}]}
    } else {
        m
    })
}

/// A LIKE pattern as an anchored regular expression (`%` any text, `_` one character).
pub fn like_regex(pattern: &str, escape: Option<char>) -> String {
    let mut out = String::from("^");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            if let Some(n) = chars.next() {
                push_literal(&mut out, n);
            }
            continue;
        }
        match c {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            other => push_literal(&mut out, other),
        }
    }
    out.push('$');
    out
}

fn push_literal(out: &mut String, c: char) {
    if c.is_ascii() && !c.is_ascii_alphanumeric() && c != ' ' {
        out.push('\\');
    }
    out.push(c);
}

// ---------------------------------------------------------------------------------------
// The statement
// ---------------------------------------------------------------------------------------

/// How one output column is produced.
enum Out {
    /// A document path read directly (find) or projected.
    Path(String),
    /// A computed aggregation expression.
    Computed(Bson),
}

impl Tx<'_> {
    /// The document path an expression names (`address.city`, `"address.city"`,
    /// `e.address.city` with `e` the collection or its alias).
    fn path(&self, e: &Expr) -> Option<String> {
        let names = path_parts(e)?;
        if names.len() == 1 {
            return names.into_iter().next();
        }
        let full = names.join(".");
        let mut rest: &[String] = &names;
        while rest.len() > 1
            && self
                .qualifiers
                .iter()
                .any(|q| q.eq_ignore_ascii_case(&rest[0]))
        {
            rest = &rest[1..];
        }
        if rest.len() == names.len() || self.known_path(&full) {
            Some(full)
        } else {
            Some(rest.join("."))
        }
    }

    fn known_path(&self, p: &str) -> bool {
        let dotted = format!("{p}.");
        self.schema.fields.iter().any(|f| {
            f.path == p || f.path.starts_with(&dotted) || p.starts_with(&format!("{}.", f.path))
        })
    }

    fn key_index(&self, g: &Grouping, e: &Expr) -> Option<usize> {
        let path = self.path(e);
        let text = e.to_string();
        g.keys.iter().position(|k| match (&path, &k.path) {
            (Some(a), Some(b)) => a == b,
            _ => k.expr.to_string() == text,
        })
    }

    fn items<'e>(&self, s: &'e Select) -> Result<Vec<Item<'e>>, BackendError> {
        let mut items = Vec::new();
        for item in &s.projection {
            match item {
                SelectItem::Wildcard(opts) => {
                    if opts.opt_exclude.is_some()
                        || opts.opt_except.is_some()
                        || opts.opt_replace.is_some()
                        || opts.opt_rename.is_some()
                        || opts.opt_ilike.is_some()
                    {
                        return Err(unsupported("SELECT * with EXCLUDE/EXCEPT/REPLACE/RENAME"));
                    }
                    items.push(Item::Star)
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(name),
                    _,
                ) => {
                    let last = name
                        .0
                        .last()
                        .and_then(|p| p.as_ident())
                        .map(|i| i.value.to_ascii_lowercase());
                    match last {
                        Some(n) if self.qualifiers.contains(&n) => items.push(Item::Star),
                        _ => {
                            return Err(unsupported(format!(
                                "{name}.* (one collection per statement)"
                            )))
                        }
                    }
                }
                SelectItem::QualifiedWildcard(..) => return Err(unsupported("expr.*")),
                SelectItem::UnnamedExpr(e) => items.push(Item::Expr {
                    expr: e,
                    alias: None,
                }),
                SelectItem::ExprWithAlias { expr, alias } => items.push(Item::Expr {
                    expr,
                    alias: Some(alias.value.clone()),
                }),
                SelectItem::ExprWithAliases { .. } => return Err(unsupported("AS (a, b) aliases")),
            }
        }
        Ok(items)
    }

    fn default_name(&self, e: &Expr) -> String {
        if let Some(p) = self.path(e) {
            return p;
        }
        match e {
            Expr::Function(f) => function_name(f),
            Expr::Nested(inner) => self.default_name(inner),
            _ => "?column?".to_string(),
        }
    }

    fn hint(&self, e: &Expr) -> Hint {
        match e {
            Expr::Nested(inner) => self.hint(inner),
            Expr::Function(f) => match aggregate_call(f) {
                Ok(Some((AggKind::CountStar | AggKind::Count | AggKind::CountDistinct, _))) => {
                    Hint::Count
                }
                Ok(Some((AggKind::Avg, _))) => Hint::Float,
                Ok(Some((AggKind::Sum, _))) => Hint::Sum,
                Ok(Some((AggKind::Min | AggKind::Max, Some(a)))) => self.hint(a),
                _ => Hint::Infer,
            },
            _ => match self.path(e).and_then(|p| self.schema.type_of(&p)) {
                Some(t) => Hint::Field(t),
                None => Hint::Infer,
            },
        }
    }

    fn translate(&self, st: &SqlStatement) -> Result<Translated, BackendError> {
        let s = &st.select;
        let items = self.items(s)?;
        let group_exprs: Vec<&Expr> = match &s.group_by {
            GroupByExpr::All(_) => return Err(unsupported("GROUP BY ALL")),
            GroupByExpr::Expressions(exprs, modifiers) => {
                if !modifiers.is_empty() {
                    return Err(unsupported("GROUP BY ... WITH ROLLUP/CUBE/TOTALS"));
                }
                exprs.iter().collect()
            }
        };
        let distinct = matches!(s.distinct, Some(Distinct::Distinct));
        let has_aggregate = items
            .iter()
            .any(|i| matches!(i, Item::Expr { expr, .. } if contains_aggregate(expr)))
            || s.having.is_some()
            || st.order_by.iter().any(|o| contains_aggregate(&o.expr));
        let filter_doc = match &s.selection {
            None => Document::new(),
            Some(w) => filter(&mut DocScope { tx: self }, w, false)?,
        };
        if !group_exprs.is_empty() || has_aggregate || distinct {
            if distinct && (has_aggregate || !group_exprs.is_empty()) {
                return Err(unsupported(
                    "SELECT DISTINCT together with GROUP BY or aggregates",
                ));
            }
            self.grouped(st, &items, &group_exprs, distinct, filter_doc)
        } else {
            self.rows(st, &items, filter_doc)
        }
    }

    /// Rows without grouping: a `find` when every output is a field path, else an
    /// `aggregate` with a `$project`.
    fn rows(
        &self,
        st: &SqlStatement,
        items: &[Item<'_>],
        filter_doc: Document,
    ) -> Result<Translated, BackendError> {
        let mut outs: Vec<(String, Out, Hint, Option<&Expr>)> = Vec::new();
        let mut star = false;
        let mut named_id = false;
        for item in items {
            match item {
                Item::Star => {
                    star = true;
                    for f in self.schema.star_columns() {
                        outs.push((
                            f.path.clone(),
                            Out::Path(f.path.clone()),
                            Hint::Field(f.ty),
                            None,
                        ));
                    }
                }
                Item::Expr { expr, alias } => {
                    let name = alias.clone().unwrap_or_else(|| self.default_name(expr));
                    let hint = self.hint(expr);
                    match self.path(expr) {
                        Some(p) => {
                            named_id |= p == "_id" || p.starts_with("_id.");
                            outs.push((name, Out::Path(p), hint, Some(*expr)));
                        }
                        None => {
                            let v = expression(&mut DocScope { tx: self }, expr)?;
                            outs.push((name, Out::Computed(v), hint, Some(*expr)));
                        }
                    }
                }
            }
        }
        // ORDER BY keys: an output (position, alias, same expression) or a path.
        enum SortKey {
            Output(usize),
            Path(String),
            Computed(Bson),
        }
        let mut sort_keys: Vec<(SortKey, i32)> = Vec::new();
        for o in &st.order_by {
            let dir = sort_direction(o)?;
            let key = if let Some(i) =
                self.output_ref(&o.expr, outs.iter().map(|(n, _, _, e)| (n.as_str(), *e)))?
            {
                SortKey::Output(i)
            } else if let Some(p) = self.path(&o.expr) {
                SortKey::Path(p)
            } else {
                SortKey::Computed(expression(&mut DocScope { tx: self }, &o.expr)?)
            };
            sort_keys.push((key, dir));
        }
        let all_paths = outs.iter().all(|(_, o, _, _)| matches!(o, Out::Path(_)))
            && sort_keys.iter().all(|(k, _)| match k {
                SortKey::Output(i) => matches!(outs.get(*i), Some((_, Out::Path(_), _, _))),
                SortKey::Path(_) => true,
                SortKey::Computed(_) => false,
            });
        if all_paths {
            let mut sort = Document::new();
            for (k, dir) in &sort_keys {
                let path = match k {
                    SortKey::Output(i) => match outs.get(*i) {
                        Some((_, Out::Path(p), _, _)) => p.clone(),
                        _ => continue,
                    },
                    SortKey::Path(p) => p.clone(),
                    SortKey::Computed(_) => continue,
                };
                if !sort.contains_key(&path) {
                    sort.insert(path, *dir);
                }
            }
            let projection = if star && !named_id {
                Some(doc! {"_id": 0})
            } else if star {
                None
            } else {
                let paths: Vec<String> = outs
                    .iter()
                    .filter_map(|(_, o, _, _)| match o {
                        Out::Path(p) => Some(p.clone()),
                        Out::Computed(_) => None,
                    })
                    .collect();
                let mut proj = Document::new();
                for p in collapse_paths(&paths) {
                    proj.insert(p, 1);
                }
                if !named_id {
                    proj.insert("_id", 0);
                }
                Some(proj)
            };
            let columns = outs
                .into_iter()
                .map(|(name, o, hint, _)| OutColumn {
                    name,
                    source: match o {
                        Out::Path(p) => Source::Path(p),
                        Out::Computed(_) => Source::Key(String::new()),
                    },
                    hint,
                })
                .collect();
            return Ok(Translated {
                collection: st.collection.clone(),
                plan: Plan::Find(FindPlan {
                    filter: filter_doc,
                    projection,
                    sort: (!sort.is_empty()).then_some(sort),
                    skip: st.offset.filter(|n| *n > 0),
                    limit: st.limit,
                }),
                columns,
                empty_row: false,
            });
        }
        let mut pipeline = Vec::new();
        if !filter_doc.is_empty() {
            pipeline.push(doc! {"$match": filter_doc});
        }
        let mut project = doc! {"_id": 0};
        let mut columns = Vec::new();
        for (i, (name, o, hint, _)) in outs.iter().enumerate() {
            let key = format!("c{i}");
            let value = match o {
                Out::Path(p) => Bson::String(format!("${p}")),
                Out::Computed(v) => projected(v.clone()),
            };
            project.insert(&key, value);
            columns.push(OutColumn {
                name: name.clone(),
                source: Source::Key(key),
                hint: *hint,
            });
        }
        let mut sort = Document::new();
        for (j, (k, dir)) in sort_keys.into_iter().enumerate() {
            let field = match k {
                SortKey::Output(i) => format!("c{i}"),
                SortKey::Path(p) => {
                    let f = format!("__s{j}");
                    project.insert(&f, format!("${p}"));
                    f
                }
                SortKey::Computed(v) => {
                    let f = format!("__s{j}");
                    project.insert(&f, projected(v));
                    f
                }
            };
            if !sort.contains_key(&field) {
                sort.insert(field, dir);
            }
        }
        pipeline.push(doc! {"$project": project});
        push_tail(&mut pipeline, sort, st.offset, st.limit);
        Ok(Translated {
            collection: st.collection.clone(),
            plan: Plan::Aggregate(pipeline),
            columns,
            empty_row: false,
        })
    }

    /// Which output an ORDER BY expression names: a 1-based position, an alias, or the
    /// same expression as a select item.
    fn output_ref<'x>(
        &self,
        e: &Expr,
        outs: impl Iterator<Item = (&'x str, Option<&'x Expr>)>,
    ) -> Result<Option<usize>, BackendError> {
        let outs: Vec<(&str, Option<&Expr>)> = outs.collect();
        if let Expr::Value(v) = e {
            if let Value::Number(n, _) = &v.value {
                let pos: usize = n
                    .parse()
                    .map_err(|_| error("42P10", format!("ORDER BY position {n} is not valid")))?;
                if pos == 0 || pos > outs.len() {
                    return Err(error(
                        "42P10",
                        format!("ORDER BY position {pos} is not in select list"),
                    ));
                }
                return Ok(Some(pos - 1));
            }
        }
        if let Expr::Identifier(id) = e {
            if let Some(i) = outs.iter().position(|(n, x)| {
                x.is_some() && ident_matches(n, &id.value, id.quote_style.is_some())
            }) {
                return Ok(Some(i));
            }
        }
        let text = e.to_string();
        Ok(outs
            .iter()
            .position(|(_, x)| x.is_some_and(|x| x.to_string() == text)))
    }

    fn grouped(
        &self,
        st: &SqlStatement,
        items: &[Item<'_>],
        group_exprs: &[&Expr],
        distinct: bool,
        filter_doc: Document,
    ) -> Result<Translated, BackendError> {
        if items.iter().any(|i| matches!(i, Item::Star)) {
            return Err(error(
                "42803",
                if distinct {
                    "SELECT DISTINCT * is not supported on MongoDB: name the fields".to_string()
                } else {
                    "SELECT * cannot be combined with GROUP BY or aggregates: name the grouped fields".to_string()
                },
            ));
        }
        let exprs: Vec<(&Expr, Option<String>)> = items
            .iter()
            .filter_map(|i| match i {
                Item::Expr { expr, alias } => Some((*expr, alias.clone())),
                Item::Star => None,
            })
            .collect();
        let mut g = Grouping {
            keys: Vec::new(),
            accs: Vec::new(),
        };
        // Keys: GROUP BY items (a position or an alias names a select item), or every
        // select item for SELECT DISTINCT.
        let key_sources: Vec<&Expr> = if distinct {
            exprs.iter().map(|(e, _)| *e).collect()
        } else {
            let mut v = Vec::new();
            for e in group_exprs {
                let resolved = match e {
                    Expr::Value(val) => match &val.value {
                        Value::Number(n, _) => {
                            let pos: usize = n.parse().unwrap_or(0);
                            match exprs.get(pos.wrapping_sub(1)) {
                                Some((x, _)) => *x,
                                None => {
                                    return Err(error(
                                        "42P10",
                                        format!("GROUP BY position {n} is not in select list"),
                                    ))
                                }
                            }
                        }
                        _ => *e,
                    },
                    Expr::Identifier(id) if self.schema.field(&id.value).is_none() => exprs
                        .iter()
                        .find(|(_, a)| {
                            a.as_deref().is_some_and(|a| {
                                ident_matches(a, &id.value, id.quote_style.is_some())
                            })
                        })
                        .map_or(*e, |(x, _)| *x),
                    _ => *e,
                };
                v.push(resolved);
            }
            v
        };
        for e in key_sources {
            if contains_aggregate(e) {
                return Err(error(
                    "42803",
                    "aggregate functions are not allowed in GROUP BY",
                ));
            }
            let path = self.path(e);
            if let Some(i) = self.key_index(&g, e) {
                let _ = i; // duplicate key
                continue;
            }
            let value = expression(&mut DocScope { tx: self }, e)?;
            g.keys.push(Key {
                expr: e.clone(),
                ty: path.as_deref().and_then(|p| self.schema.type_of(p)),
                path,
                value,
            });
        }
        let aliases: Vec<(String, Expr)> = exprs
            .iter()
            .filter_map(|(e, a)| a.as_ref().map(|a| (a.clone(), (*e).clone())))
            .collect();
        // Outputs.
        let mut project = doc! {"_id": 0};
        let mut columns = Vec::new();
        {
            let mut scope = GroupScope {
                tx: self,
                g: &mut g,
                aliases: Vec::new(),
            };
            for (i, (e, alias)) in exprs.iter().enumerate() {
                let key = format!("c{i}");
                let v = expression(&mut scope, e)?;
                project.insert(&key, projected(v));
                columns.push(OutColumn {
                    name: alias.clone().unwrap_or_else(|| self.default_name(e)),
                    source: Source::Key(key),
                    hint: self.hint(e),
                });
            }
        }
        // HAVING.
        let having = match &st.select.having {
            None => None,
            Some(h) => {
                let mut scope = GroupScope {
                    tx: self,
                    g: &mut g,
                    aliases: aliases.clone(),
                };
                Some(filter(&mut scope, h, false)?)
            }
        };
        // ORDER BY.
        let mut sort = Document::new();
        {
            let mut scope = GroupScope {
                tx: self,
                g: &mut g,
                aliases: aliases.clone(),
            };
            for (j, o) in st.order_by.iter().enumerate() {
                let dir = sort_direction(o)?;
                let named: Vec<(&str, Option<&Expr>)> = columns
                    .iter()
                    .zip(&exprs)
                    .map(|(c, (e, _))| (c.name.as_str(), Some(*e)))
                    .collect();
                let field = match self.output_ref(&o.expr, named.into_iter())? {
                    Some(i) => format!("c{i}"),
                    None => {
                        let v = expression(&mut scope, &o.expr)?;
                        let f = format!("__s{j}");
                        project.insert(&f, projected(v));
                        f
                    }
                };
                if !sort.contains_key(&field) {
                    sort.insert(field, dir);
                }
            }
        }
        let (group, finish) = g.stages();
        let mut pipeline = Vec::new();
        if !filter_doc.is_empty() {
            pipeline.push(doc! {"$match": filter_doc});
        }
        pipeline.push(doc! {"$group": group});
        pipeline.push(doc! {"$project": finish});
        if let Some(h) = having.clone().filter(|h| !h.is_empty()) {
            pipeline.push(doc! {"$match": h});
        }
        pipeline.push(doc! {"$project": project});
        push_tail(&mut pipeline, sort, st.offset, st.limit);
        let empty_row = g.keys.is_empty()
            && having.is_none()
            && st.offset.unwrap_or(0) == 0
            && st.limit != Some(0);
        Ok(Translated {
            collection: st.collection.clone(),
            plan: Plan::Aggregate(pipeline),
            columns,
            empty_row,
        })
    }
}

/// A `$project` value: literals must not read as inclusion flags (`1`, `true`).
fn projected(v: Bson) -> Bson {
    match v {
        Bson::String(_) | Bson::Document(_) => v,
        other => Bson::Document(doc! {"$literal": other}),
    }
}

fn push_tail(
    pipeline: &mut Vec<Document>,
    sort: Document,
    offset: Option<u64>,
    limit: Option<u64>,
) {
    if !sort.is_empty() {
        pipeline.push(doc! {"$sort": sort});
    }
    if let Some(n) = offset.filter(|n| *n > 0) {
        pipeline.push(doc! {"$skip": i64::try_from(n).unwrap_or(i64::MAX)});
    }
    if let Some(n) = limit {
        pipeline.push(doc! {"$limit": i64::try_from(n).unwrap_or(i64::MAX)});
    }
}

fn sort_direction(o: &OrderByExpr) -> Result<i32, BackendError> {
    if o.with_fill.is_some() {
        return Err(unsupported("ORDER BY ... WITH FILL"));
    }
    let dir = match &o.options.sort {
        None | Some(OrderBySort::Asc) => 1,
        Some(OrderBySort::Desc) => -1,
        Some(OrderBySort::Using(_)) => return Err(unsupported("ORDER BY ... USING")),
    };
    // MongoDB sorts NULL lowest: first ascending, last descending.
    if let Some(nulls_first) = o.options.nulls_first {
        if nulls_first != (dir == 1) {
            return Err(unsupported(format!(
                "NULLS {} with {} (MongoDB sorts NULL first ascending and last descending)",
                if nulls_first { "FIRST" } else { "LAST" },
                if dir == 1 { "ASC" } else { "DESC" }
            )));
        }
    }
    Ok(dir)
}

/// Drops paths below another selected path (`user` and `user.name`: MongoDB refuses a
/// projection with both).
fn collapse_paths(paths: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in paths {
        let covered = paths
            .iter()
            .any(|q| q != p && p.starts_with(&format!("{q}.")));
        if !covered && !out.contains(p) {
            out.push(p.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::mongodb::introspect::CollectionSchema;

    fn schema() -> CollectionSchema {
        let docs = vec![
            doc! {"_id": ObjectId::new(), "kind": "click", "user": {"name": "ann", "address": {"city": "Berlin"}}, "amount": 5, "tags": ["a"], "ts": DateTime::from_millis(0), "ok": true},
            doc! {"_id": ObjectId::new(), "kind": "view", "user": {"name": "bob"}, "amount": 2.5, "qty": 3},
        ];
        CollectionSchema::from_documents("events", &docs)
    }

    fn tr(sql: &str) -> Result<Translated, BackendError> {
        parse(sql, &["mongo", "shop"])?.translate(&schema())
    }

    fn ok(sql: &str) -> Translated {
        tr(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn find(sql: &str) -> FindPlan {
        match ok(sql).plan {
            Plan::Find(f) => f,
            other => panic!("{sql}: expected find, got {other:?}"),
        }
    }

    fn pipeline(sql: &str) -> Vec<Document> {
        match ok(sql).plan {
            Plan::Aggregate(p) => p,
            other => panic!("{sql}: expected aggregate, got {other:?}"),
        }
    }

    fn refused(sql: &str) -> (String, String) {
        match tr(sql) {
            Err(BackendError::Query { sqlstate, message }) => {
                (sqlstate.unwrap_or_default(), message)
            }
            other => panic!("{sql}: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn simple_select_is_a_find() {
        let f = find("SELECT kind, user.address.city AS city, \"user.name\" FROM events WHERE amount > 3 ORDER BY kind DESC LIMIT 5 OFFSET 2");
        assert_eq!(f.filter, doc! {"amount": {"$gt": 3}});
        assert_eq!(
            f.projection,
            Some(doc! {"kind": 1, "user.address.city": 1, "user.name": 1, "_id": 0})
        );
        assert_eq!(f.sort, Some(doc! {"kind": -1}));
        assert_eq!((f.skip, f.limit), (Some(2), Some(5)));
        let t = ok("SELECT kind, user.address.city AS city FROM mongo.events e");
        assert_eq!(t.collection, "events");
        assert_eq!(t.columns[1].name, "city");
        assert_eq!(
            t.columns[1].source,
            Source::Path("user.address.city".into())
        );
        assert_eq!(t.columns[1].hint, Hint::Field(FieldType::String));
    }

    #[test]
    fn star_expands_to_sampled_paths_without_id() {
        let t = ok("SELECT * FROM events");
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "kind",
                "user.name",
                "user.address.city",
                "amount",
                "tags",
                "ts",
                "ok",
                "qty"
            ]
        );
        assert!(
            matches!(t.plan, Plan::Find(FindPlan { projection: Some(ref p), .. }) if *p == doc! {"_id": 0})
        );
        let t = ok("SELECT _id, * FROM events");
        assert_eq!(t.columns[0].name, "_id");
        assert!(matches!(
            t.plan,
            Plan::Find(FindPlan {
                projection: None,
                ..
            })
        ));
    }

    #[test]
    fn where_operators() {
        let cases: Vec<(&str, Document)> = vec![
            ("kind = 'click'", doc! {"kind": {"$eq": "click"}}),
            (
                "kind <> 'click'",
                doc! {"kind": {"$nin": ["click", Bson::Null]}},
            ),
            ("3 < amount", doc! {"amount": {"$gt": 3}}),
            (
                "amount >= 2.5 AND kind = 'x'",
                doc! {"$and": [{"amount": {"$gte": 2.5}}, {"kind": {"$eq": "x"}}]},
            ),
            (
                "kind = 'a' OR kind = 'b'",
                doc! {"$or": [{"kind": {"$eq": "a"}}, {"kind": {"$eq": "b"}}]},
            ),
            ("NOT amount > 3", doc! {"amount": {"$lte": 3}}),
            (
                "NOT (kind = 'a' AND amount < 1)",
                doc! {"$or": [{"kind": {"$nin": ["a", Bson::Null]}}, {"amount": {"$gte": 1}}]},
            ),
            ("kind IN ('a', 'b')", doc! {"kind": {"$in": ["a", "b"]}}),
            (
                "kind NOT IN ('a')",
                doc! {"kind": {"$nin": ["a", Bson::Null]}},
            ),
            ("kind NOT IN ('a', NULL)", doc! {"_id": {"$exists": false}}),
            (
                "amount BETWEEN 1 AND 5",
                doc! {"$and": [{"amount": {"$gte": 1}}, {"amount": {"$lte": 5}}]},
            ),
            (
                "amount NOT BETWEEN 1 AND 5",
                doc! {"$or": [{"amount": {"$lt": 1}}, {"amount": {"$gt": 5}}]},
            ),
            (
                "kind LIKE 'cl%k_'",
                doc! {"kind": {"$regex": "^cl.*k.$", "$options": "s"}},
            ),
            (
                "kind ILIKE 'a.b%'",
                doc! {"kind": {"$regex": "^a\\.b.*$", "$options": "is"}},
            ),
            (
                "kind NOT LIKE 'c%'",
                doc! {"$and": [{"kind": {"$nin": [Bson::Null]}}, {"$nor": [{"kind": {"$regex": "^c.*$", "$options": "s"}}]}]},
            ),
            ("qty IS NULL", doc! {"qty": {"$eq": Bson::Null}}),
            (
                "user.address.city IS NOT NULL",
                doc! {"user.address.city": {"$nin": [Bson::Null]}},
            ),
            ("ok", doc! {"ok": true}),
            ("NOT ok", doc! {"ok": false}),
            ("ok IS NOT TRUE", doc! {"ok": {"$ne": true}}),
            ("amount = NULL", doc! {"_id": {"$exists": false}}),
            ("amount = '5'", doc! {"amount": {"$eq": 5}}),
            (
                "ts >= '1970-01-02'",
                doc! {"ts": {"$gte": DateTime::from_millis(86_400_000)}},
            ),
            (
                "ts < DATE '1970-01-02'",
                doc! {"ts": {"$lt": DateTime::from_millis(86_400_000)}},
            ),
            ("events.kind = 'x'", doc! {"kind": {"$eq": "x"}}),
        ];
        for (cond, want) in cases {
            let f = find(&format!("SELECT kind FROM events WHERE {cond}"));
            assert_eq!(f.filter, want, "{cond}");
        }
        let f = find("SELECT kind FROM events WHERE amount > qty");
        assert_eq!(
            f.filter,
            doc! {"$expr": {"$and": [{"$gt": ["$amount", "$qty"]}, {"$ne": [{"$ifNull": ["$amount", Bson::Null]}, Bson::Null]}, {"$ne": [{"$ifNull": ["$qty", Bson::Null]}, Bson::Null]}]}}
        );
        let id = ObjectId::new();
        let f = find(&format!(
            "SELECT kind FROM events WHERE _id = '{}'",
            id.to_hex()
        ));
        assert_eq!(f.filter, doc! {"_id": {"$eq": id}});
    }

    #[test]
    fn group_by_pipeline() {
        let p = pipeline("SELECT kind, COUNT(*) AS n, SUM(amount) AS total FROM events WHERE amount > 0 GROUP BY kind HAVING COUNT(*) > 1 ORDER BY n DESC LIMIT 3");
        let numeric = doc! {"$cond": [{"$isNumber": "$amount"}, 1, 0]};
        assert_eq!(
            p,
            vec![
                doc! {"$match": {"amount": {"$gt": 0}}},
                doc! {"$group": {"_id": "$kind", "__a0": {"$sum": 1}, "__a1": {"$sum": "$amount"}, "__a1_n": {"$sum": numeric}}},
                doc! {"$project": {"_id": 1, "__a0": 1, "__a1": {"$cond": [{"$gt": ["$__a1_n", 0]}, "$__a1", Bson::Null]}}},
                doc! {"$match": {"__a0": {"$gt": 1}}},
                doc! {"$project": {"_id": 0, "c0": "$_id", "c1": "$__a0", "c2": "$__a1"}},
                doc! {"$sort": {"c1": -1}},
                doc! {"$limit": 3i64},
            ]
        );
        let t = ok("SELECT kind, COUNT(*) AS n, AVG(amount), SUM(qty) FROM events GROUP BY kind");
        let hints: Vec<Hint> = t.columns.iter().map(|c| c.hint).collect();
        assert_eq!(
            hints,
            vec![
                Hint::Field(FieldType::String),
                Hint::Count,
                Hint::Float,
                Hint::Sum
            ]
        );
        assert_eq!(t.columns[2].name, "avg");
        assert!(!t.empty_row);
    }

    #[test]
    fn aggregates_without_group_by_and_distinct() {
        let t = ok("SELECT COUNT(*) AS n, COUNT(qty) AS q, COUNT(DISTINCT kind) AS k, MIN(amount), MAX(user.address.city) FROM events");
        assert!(t.empty_row);
        let Plan::Aggregate(p) = &t.plan else {
            panic!("aggregate")
        };
        let group = p[0].get_document("$group").expect("group");
        assert_eq!(group.get("_id"), Some(&Bson::Null));
        assert_eq!(
            group.get_document("__a2_set").expect("set"),
            &doc! {"$addToSet": "$kind"}
        );
        let finish = p[1].get_document("$project").expect("finish");
        assert_eq!(
            finish.get_document("__a2").expect("distinct"),
            &doc! {"$size": {"$filter": {"input": "$__a2_set", "cond": {"$ne": ["$$this", Bson::Null]}}}}
        );
        let t = ok("SELECT DISTINCT kind, user.name FROM events ORDER BY 1");
        let Plan::Aggregate(p) = &t.plan else {
            panic!("aggregate")
        };
        let group = p[0].get_document("$group").expect("group");
        assert!(group
            .get_document("_id")
            .expect("composite")
            .contains_key("$concat"));
        assert_eq!(
            group.get_document("__g1").expect("g1"),
            &doc! {"$first": "$user.name"}
        );
        assert_eq!(p.last(), Some(&doc! {"$sort": {"c0": 1}}));
        // Multi-key GROUP BY, by position and alias.
        let t = ok("SELECT kind AS k, user.name AS who, COUNT(*) FROM events GROUP BY 1, who ORDER BY COUNT(*) DESC, k");
        let Plan::Aggregate(p) = &t.plan else {
            panic!("aggregate")
        };
        let out = p[2].get_document("$project").expect("out");
        assert_eq!(
            out,
            &doc! {"_id": 0, "c0": "$__g0", "c1": "$__g1", "c2": "$__a0"}
        );
        assert_eq!(p[3], doc! {"$sort": {"c2": -1, "c0": 1}});
    }

    #[test]
    fn computed_outputs_use_aggregate() {
        let t =
            ok("SELECT kind, amount * qty AS value, 1 AS one FROM events ORDER BY value DESC, ts");
        let Plan::Aggregate(p) = &t.plan else {
            panic!("aggregate")
        };
        assert_eq!(
            p[0],
            doc! {"$project": {"_id": 0, "c0": "$kind", "c1": {"$multiply": ["$amount", "$qty"]}, "c2": {"$literal": 1}, "__s1": "$ts"}}
        );
        assert_eq!(p[1], doc! {"$sort": {"c1": -1, "__s1": 1}});
        let p = pipeline(
            "SELECT kind, SUM(amount * qty) / COUNT(*) AS avg_value FROM events GROUP BY kind",
        );
        let out = p[2].get_document("$project").expect("out");
        assert_eq!(
            out.get_document("c1").expect("c1"),
            &doc! {"$divide": ["$__a0", "$__a1"]}
        );
    }

    #[test]
    fn refusals_name_the_construct() {
        for (sql, needle) in [
            (
                "SELECT * FROM events e JOIN users u ON e.uid = u.id",
                "JOIN",
            ),
            ("SELECT * FROM events, users", "more than one collection"),
            ("SELECT * FROM (SELECT * FROM events) t", "subquery"),
            (
                "SELECT kind FROM events WHERE amount > (SELECT AVG(amount) FROM events)",
                "subquery",
            ),
            (
                "SELECT kind FROM events WHERE kind IN (SELECT kind FROM other)",
                "subquery",
            ),
            (
                "SELECT kind, ROW_NUMBER() OVER (ORDER BY amount) FROM events",
                "window function",
            ),
            (
                "SELECT kind, SUM(amount) OVER () FROM events",
                "window function",
            ),
            ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH"),
            (
                "SELECT kind FROM events UNION SELECT kind FROM other",
                "UNION",
            ),
            ("UPDATE events SET kind = 'x'", "UPDATE"),
            ("DELETE FROM events", "DELETE"),
            ("INSERT INTO events (kind) VALUES ('x')", "INSERT"),
            ("DROP TABLE events", "DROP TABLE"),
            ("SELECT upper(kind) FROM events", "function upper()"),
            ("SELECT CASE WHEN amount > 1 THEN 1 END FROM events", "CASE"),
            ("SELECT 1", "SELECT without FROM"),
            (
                "SELECT kind FROM events ORDER BY kind NULLS LAST",
                "NULLS LAST",
            ),
            ("SELECT SUM(DISTINCT amount) FROM events", "SUM(DISTINCT"),
        ] {
            let (code, msg) = refused(sql);
            assert_eq!(code, "0A000", "{sql}: {msg}");
            assert!(msg.contains(needle), "{sql}: {msg}");
        }
        let (code, msg) = refused("SELECT kind, amount FROM events GROUP BY kind");
        assert_eq!(code, "42803", "{msg}");
        assert!(msg.contains("amount"), "{msg}");
        let (code, _) = refused("SELECT kind FROM events WHERE COUNT(*) > 1");
        assert_eq!(code, "42803");
        let (code, _) = refused("SELEC kind FROM events");
        assert_eq!(code, "42601");
    }

    #[test]
    fn like_patterns() {
        assert_eq!(like_regex("a%b_c", None), "^a.*b.c$");
        assert_eq!(like_regex("100\\%", Some('\\')), "^100\\%$");
        assert_eq!(like_regex("x(y)*", None), "^x\\(y\\)\\*$");
    }

    #[test]
    fn datetimes() {
        assert_eq!(parse_datetime("1970-01-01"), Some(DateTime::from_millis(0)));
        assert_eq!(
            parse_datetime("1970-01-01 00:00:01.5"),
            Some(DateTime::from_millis(1500))
        );
        assert_eq!(
            parse_datetime("1970-01-01T01:00:00+01:00"),
            Some(DateTime::from_millis(0))
        );
        assert_eq!(parse_datetime("yesterday"), None);
    }
}
