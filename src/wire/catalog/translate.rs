//! PostgreSQL catalog SQL → SQLite SQL over the emulated catalog tables.
//!
//! The query is parsed with sqlparser's PostgreSQL dialect and rewritten in place; every
//! expression, operator, function and clause is either translated to something SQLite
//! computes the same way, or refused. Refusal (an `Err` naming what was not understood)
//! becomes SQLSTATE 0A000 for the client.

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, CastKind, DataType, Distinct, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArguments, GroupByExpr, Ident, JoinOperator, NamedWindowExpr,
    ObjectName, ObjectNamePart, OrderByExpr, OrderByKind, OrderBySort, Query, Select, SelectItem,
    SetExpr, SetOperator, SetQuantifier, Statement, TableFactor, TableWithJoins, UnaryOperator,
    Value, Visit, VisitMut, Visitor, VisitorMut, WindowType,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::pgtypes::PgType;

use super::model::{self, Model};
use super::regex;

/// What to run for a catalog query.
#[derive(Debug)]
pub enum Plan {
    /// The query inner-joins a catalog that is always empty: no rows, these columns.
    Empty {
        /// Output columns (PostgreSQL names and types).
        columns: Vec<(String, PgType)>,
    },
    /// A SQLite statement over the emulated catalog.
    Sql {
        /// The statement.
        sql: String,
        /// The PostgreSQL type of each output column where the query says it (casts,
        /// predicates, literals, known functions); others come from the catalog column's
        /// declared type or the values.
        hints: Vec<Option<PgType>>,
    },
}

fn parse(sql: &str) -> Result<Vec<Statement>, String> {
    // Bounded before parsing: this module clones parts of the tree.
    crate::sql::limits::check_with(sql, &crate::sql::limits::TRANSLATOR)
        .map_err(|e| e.to_string())?;
    Parser::parse_sql(&PostgreSqlDialect {}, sql).map_err(|e| format!("cannot parse it ({e})"))
}

/// Folds an identifier as PostgreSQL does: unquoted to lower case.
fn fold(i: &Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

fn name_parts(n: &ObjectName) -> Vec<String> {
    n.0.iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => fold(i),
            ObjectNamePart::Function(f) => f.name.value.to_lowercase(),
        })
        .collect()
}

/// Whether the one query in `sql` reads the catalog; `None` when it does not parse.
pub fn references_catalog(sql: &str) -> Option<bool> {
    catalog_use(sql).map(|(tables, functions_only)| tables || functions_only)
}

/// Whether `sql` reads the catalog through functions only (`SELECT pg_backend_pid()`,
/// `SELECT * FROM unnest(current_schemas(true))`), naming no catalog table.
pub fn functions_only(sql: &str) -> bool {
    matches!(catalog_use(sql), Some((false, true)))
}

/// `(names a catalog table, calls catalog functions and reads no relation)`.
fn catalog_use(sql: &str) -> Option<(bool, bool)> {
    // Past the statement bounds: not a catalog query, so the guard refuses it with
    // 54000/54001. Past only the translator's tighter bounds: cannot tell.
    // A call of a function the guard refuses (`pg_catalog.set_config`, ...) is left to
    // the guard too, so it is refused the same way wherever it is written.
    if crate::sql::limits::check(sql).is_err()
        || crate::engine::guard::calls_forbidden_function(sql, crate::backends::Dialect::Postgres)
    {
        return Some((false, false));
    }
    let stmts = parse(sql).ok()?;
    let [Statement::Query(q)] = stmts.as_slice() else {
        return Some((false, false));
    };
    let ctes = cte_names(q);
    struct Finder<'a> {
        ctes: &'a HashSet<String>,
        relations: usize,
        catalog: bool,
        catalog_function: bool,
    }
    impl Visitor for Finder<'_> {
        type Break = ();
        fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
            let parts = name_parts(relation);
            if let [name] | [_, name] = parts.as_slice() {
                if CATALOG_TABLE_FUNCTIONS.contains(&name.as_str()) {
                    return ControlFlow::Continue(());
                }
            }
            self.relations += 1;
            let hit = match parts.as_slice() {
                [name] => !self.ctes.contains(name) && model::is_catalog_table(name),
                [schema, _] | [_, schema, _] => {
                    schema == "pg_catalog" || schema == "information_schema"
                }
                _ => false,
            };
            if hit {
                self.catalog = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            match expr {
                Expr::Function(f) => {
                    let parts = name_parts(&f.name);
                    let qualified = parts.len() > 1 && parts[0] == "pg_catalog";
                    if qualified
                        || parts
                            .last()
                            .is_some_and(|n| CATALOG_FUNCTIONS.contains(&n.as_str()))
                    {
                        self.catalog_function = true;
                    }
                }
                Expr::Cast { data_type, .. } if is_reg_type(&type_name(data_type)) => {
                    self.catalog_function = true
                }
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    let mut f = Finder {
        ctes: &ctes,
        relations: 0,
        catalog: false,
        catalog_function: false,
    };
    let _ = q.visit(&mut f);
    Some((f.catalog, f.relations == 0 && f.catalog_function))
}

/// Functions that read the catalog: a query calling one (and reading no other relation) is
/// a catalog query even without naming a catalog table.
const CATALOG_FUNCTIONS: &[&str] = &[
    "format_type",
    "pg_get_userbyid",
    "pg_get_indexdef",
    "pg_get_constraintdef",
    "pg_get_expr",
    "obj_description",
    "col_description",
    "shobj_description",
    "pg_table_is_visible",
    "pg_type_is_visible",
    "to_regclass",
    "to_regtype",
    "to_regnamespace",
    "pg_encoding_to_char",
    "has_table_privilege",
    "has_schema_privilege",
    "has_database_privilege",
    "pg_backend_pid",
    "current_schemas",
    "pg_is_in_recovery",
    "txid_current",
    "current_setting",
    "pg_get_userbyid",
];

/// Set-returning functions that may stand in FROM of a catalog query without making it
/// read a database (`SELECT * FROM unnest(current_schemas(true))`).
const CATALOG_TABLE_FUNCTIONS: &[&str] = &[
    "unnest",
    "generate_series",
    "generate_subscripts",
    "regexp_split_to_table",
];

fn cte_names(q: &Query) -> HashSet<String> {
    struct Ctes(HashSet<String>);
    impl Visitor for Ctes {
        type Break = ();
        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
            if let Some(w) = &query.with {
                for c in &w.cte_tables {
                    self.0.insert(fold(&c.alias.name));
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut c = Ctes(HashSet::new());
    let _ = q.visit(&mut c);
    c.0
}

/// Translates `sql` for the emulated catalog of `model`.
pub fn translate(sql: &str, model: &Model) -> Result<Plan, String> {
    let mut stmts = parse(sql)?;
    if stmts.len() != 1 {
        return Err("expected exactly one statement".into());
    }
    let Some(Statement::Query(mut query)) = stmts.pop() else {
        return Err("only SELECT can read the catalog".into());
    };
    let ctes = cte_names(&query);
    let out = output_columns(&query);
    if query_is_empty(&query, &ctes) && out.iter().all(|c| c.is_some()) {
        let columns = out
            .into_iter()
            .flatten()
            .map(|(n, h)| (n, h.unwrap_or(PgType::Text)))
            .collect();
        return Ok(Plan::Empty { columns });
    }
    let hints = out.into_iter().map_while(|c| c.map(|(_, h)| h)).collect();
    let mut tx = Translator {
        model,
        ctes,
        error: None,
        seen_top: false,
    };
    if VisitMut::visit(&mut *query, &mut tx).is_break() {
        return Err(tx
            .error
            .unwrap_or_else(|| "it uses something dbguru's catalog does not understand".into()));
    }
    Ok(Plan::Sql {
        sql: query.to_string(),
        hints,
    })
}

// ---------------------------------------------------------------------------------------
// Output column names and types
// ---------------------------------------------------------------------------------------

/// The output columns of `q`: `(name, type hint)` per item; `None` for a wildcard.
fn output_columns(q: &Query) -> Vec<Option<(String, Option<PgType>)>> {
    let Some(select) = first_select(&q.body) else {
        return vec![None];
    };
    if let (
        [SelectItem::Wildcard(_)],
        [TableWithJoins {
            relation: TableFactor::Derived { subquery, .. },
            joins,
        }],
    ) = (select.projection.as_slice(), select.from.as_slice())
    {
        if joins.is_empty() {
            return output_columns(subquery);
        }
    }
    select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(e) => Some((pg_name(e), hint(e, true))),
            SelectItem::ExprWithAlias { expr, alias } => Some((fold(alias), hint(expr, true))),
            _ => None,
        })
        .collect()
}

fn first_select(body: &SetExpr) -> Option<&Select> {
    match body {
        SetExpr::Select(s) => Some(s),
        SetExpr::Query(q) => first_select(&q.body),
        SetExpr::SetOperation { left, .. } => first_select(left),
        _ => None,
    }
}

fn unnest(mut e: &Expr) -> &Expr {
    while let Expr::Nested(inner) = e {
        e = inner;
    }
    e
}

/// The column name PostgreSQL gives an unaliased output expression (`FigureColname`).
fn pg_name(e: &Expr) -> String {
    figure(e).unwrap_or_else(|| "?column?".into())
}

fn figure(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(fold(i)),
        Expr::CompoundIdentifier(v) => v.last().map(fold),
        Expr::Function(f) => name_parts(&f.name).last().cloned(),
        Expr::Cast {
            expr, data_type, ..
        } => match unnest(expr) {
            Expr::Value(_) => Some(type_name(data_type)),
            inner => figure(inner).or_else(|| Some(type_name(data_type))),
        },
        Expr::Nested(inner) | Expr::Collate { expr: inner, .. } => figure(inner),
        Expr::Case { .. } => Some("case".into()),
        Expr::Exists { .. } => Some("exists".into()),
        Expr::Array(_) => Some("array".into()),
        Expr::Value(v) if matches!(v.value, Value::Boolean(_)) => Some("bool".into()),
        Expr::Subquery(q) => first_select(&q.body).and_then(|s| match s.projection.first() {
            Some(SelectItem::UnnamedExpr(e)) => figure(e),
            Some(SelectItem::ExprWithAlias { alias, .. }) => Some(fold(alias)),
            _ => None,
        }),
        Expr::Substring { .. } => Some("substring".into()),
        Expr::Trim { .. } => Some("btrim".into()),
        Expr::Position { .. } => Some("position".into()),
        _ => None,
    }
}

/// A cast target's PostgreSQL type name, lower case, without `pg_catalog.`.
fn type_name(t: &DataType) -> String {
    let s = t.to_string().to_lowercase();
    let s = s.strip_prefix("pg_catalog.").unwrap_or(&s);
    // Modifiers go: varchar(50) is varchar, numeric(10,2) is numeric; arrays keep their [].
    let s = match (s.find('('), s.find(')')) {
        (Some(i), Some(j)) if j > i => format!("{}{}", s[..i].trim_end(), &s[j + 1..]),
        _ => s.to_string(),
    };
    let s = s.trim().trim_matches('"');
    match s {
        "integer" | "int" => "int4".into(),
        "smallint" => "int2".into(),
        "bigint" => "int8".into(),
        "boolean" => "bool".into(),
        "real" => "float4".into(),
        "double precision" | "double" => "float8".into(),
        "character varying" => "varchar".into(),
        "char" | "character" => "bpchar".into(),
        "decimal" => "numeric".into(),
        other => other.to_string(),
    }
}

fn is_reg_type(name: &str) -> bool {
    matches!(
        name,
        "regclass"
            | "regtype"
            | "regproc"
            | "regprocedure"
            | "regnamespace"
            | "regrole"
            | "regoper"
            | "regoperator"
            | "regconfig"
            | "regdictionary"
            | "regcollation"
    )
}

fn is_text_type(name: &str) -> bool {
    matches!(
        name,
        "text" | "varchar" | "name" | "bpchar" | "\"char\"" | "citext" | "unknown"
    )
}

fn is_int_type(name: &str) -> bool {
    matches!(
        name,
        "int2"
            | "int4"
            | "int8"
            | "oid"
            | "xid"
            | "cid"
            | "regclass"
            | "regtype"
            | "regproc"
            | "regnamespace"
            | "regrole"
    )
}

/// The PostgreSQL type of an output expression, where the expression itself says it.
fn hint(e: &Expr, projection: bool) -> Option<PgType> {
    use BinaryOperator as B;
    match e {
        Expr::Cast { data_type, .. } => {
            let t = type_name(data_type);
            match t.as_str() {
                t if projection && is_reg_type(t) => Some(PgType::Text),
                t if is_text_type(t) => Some(PgType::Text),
                "int2" => Some(PgType::Int2),
                "int4" => Some(PgType::Int4),
                "int8" | "oid" | "xid" | "cid" => Some(PgType::Int8),
                t if is_reg_type(t) => Some(PgType::Int8),
                "bool" => Some(PgType::Bool),
                "float4" => Some(PgType::Float4),
                "float8" => Some(PgType::Float8),
                "numeric" => Some(PgType::Numeric),
                _ => None,
            }
        }
        Expr::Nested(x) | Expr::Collate { expr: x, .. } => hint(x, projection),
        Expr::BinaryOp { op, left, .. } => match op {
            B::Eq
            | B::NotEq
            | B::Lt
            | B::LtEq
            | B::Gt
            | B::GtEq
            | B::And
            | B::Or
            | B::PGRegexMatch
            | B::PGRegexIMatch
            | B::PGRegexNotMatch
            | B::PGRegexNotIMatch
            | B::PGLikeMatch
            | B::PGILikeMatch
            | B::PGNotLikeMatch
            | B::PGNotILikeMatch
            | B::PGCustomBinaryOperator(_)
            | B::Glob => Some(PgType::Bool),
            B::StringConcat => Some(PgType::Text),
            B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo => hint(left, false),
            _ => None,
        },
        Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::SimilarTo { .. }
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::Between { .. }
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotTrue(_)
        | Expr::IsNotFalse(_)
        | Expr::IsUnknown(_)
        | Expr::IsNotUnknown(_)
        | Expr::IsDistinctFrom(..)
        | Expr::IsNotDistinctFrom(..)
        | Expr::Exists { .. }
        | Expr::AnyOp { .. }
        | Expr::AllOp { .. } => Some(PgType::Bool),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            ..
        } => Some(PgType::Bool),
        Expr::UnaryOp { expr, .. } => hint(expr, false),
        Expr::Value(v) => match &v.value {
            Value::Boolean(_) => Some(PgType::Bool),
            Value::SingleQuotedString(_)
            | Value::EscapedStringLiteral(_)
            | Value::DollarQuotedString(_) => Some(PgType::Text),
            Value::Number(n, _) => Some(if n.parse::<i32>().is_ok() {
                PgType::Int4
            } else if n.parse::<i64>().is_ok() {
                PgType::Int8
            } else {
                PgType::Numeric
            }),
            _ => None,
        },
        Expr::Function(f) => {
            let parts = name_parts(&f.name);
            let name = parts.last().map(String::as_str).unwrap_or("");
            match name {
                "count" | "row_number" | "rank" | "dense_rank" => Some(PgType::Int8),
                "coalesce" | "nullif" | "min" | "max" => first_arg(f).and_then(|a| hint(a, false)),
                n if n.ends_with("_is_visible")
                    || n.starts_with("has_")
                    || n == "pg_relation_is_publishable" =>
                {
                    Some(PgType::Bool)
                }
                "format_type"
                | "pg_get_userbyid"
                | "obj_description"
                | "col_description"
                | "shobj_description"
                | "pg_get_expr"
                | "pg_get_indexdef"
                | "pg_get_constraintdef"
                | "pg_get_viewdef"
                | "current_schema"
                | "current_database"
                | "current_user"
                | "session_user"
                | "version"
                | "lower"
                | "upper"
                | "concat"
                | "concat_ws"
                | "string_agg"
                | "array_to_string"
                | "pg_encoding_to_char"
                | "replace"
                | "substr"
                | "substring"
                | "trim"
                | "btrim"
                | "ltrim"
                | "rtrim"
                | "pg_size_pretty"
                | "quote_ident"
                | "left" => Some(PgType::Text),
                "length" | "char_length" | "strpos" | "position" => Some(PgType::Int4),
                "pg_table_size"
                | "pg_total_relation_size"
                | "pg_relation_size"
                | "pg_indexes_size" => Some(PgType::Int8),
                "to_regclass" | "to_regtype" | "to_regnamespace" => Some(PgType::Int8),
                "json_build_object" | "jsonb_build_object" => Some(PgType::Json),
                _ => None,
            }
        }
        Expr::Case {
            conditions,
            else_result,
            ..
        } => conditions
            .iter()
            .map(|c| &c.result)
            .chain(else_result.as_deref())
            .find_map(|r| hint(r, projection)),
        Expr::Subquery(q) => first_select(&q.body).and_then(|s| match s.projection.first() {
            Some(SelectItem::UnnamedExpr(e)) | Some(SelectItem::ExprWithAlias { expr: e, .. }) => {
                hint(e, projection)
            }
            _ => None,
        }),
        Expr::Substring { .. } | Expr::Trim { .. } => Some(PgType::Text),
        Expr::Position { .. } => Some(PgType::Int4),
        _ => None,
    }
}

fn first_arg(f: &Function) -> Option<&Expr> {
    match &f.args {
        FunctionArguments::List(l) => match l.args.first() {
            Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) => Some(e),
            _ => None,
        },
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Queries over always-empty catalogs
// ---------------------------------------------------------------------------------------

const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "string_agg",
    "array_agg",
    "bool_and",
    "bool_or",
    "every",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "xmlagg",
    "group_concat",
];

/// Whether `q` certainly returns no rows because it inner-joins an always-empty catalog.
fn query_is_empty(q: &Query, ctes: &HashSet<String>) -> bool {
    body_is_empty(&q.body, ctes)
}

fn body_is_empty(b: &SetExpr, ctes: &HashSet<String>) -> bool {
    match b {
        SetExpr::Select(s) => select_is_empty(s, ctes),
        SetExpr::Query(q) => query_is_empty(q, ctes),
        SetExpr::SetOperation {
            op, left, right, ..
        } => match op {
            SetOperator::Union => body_is_empty(left, ctes) && body_is_empty(right, ctes),
            SetOperator::Intersect => body_is_empty(left, ctes) || body_is_empty(right, ctes),
            SetOperator::Except | SetOperator::Minus => body_is_empty(left, ctes),
        },
        _ => false,
    }
}

fn select_is_empty(s: &Select, ctes: &HashSet<String>) -> bool {
    let grouped = matches!(&s.group_by, GroupByExpr::Expressions(v, _) if !v.is_empty());
    if !grouped {
        if s.having.is_some() {
            return false;
        }
        /// Finds an aggregate call of this SELECT (not of its subqueries).
        struct Agg {
            found: bool,
            depth: usize,
        }
        impl Visitor for Agg {
            type Break = ();
            fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
                self.depth += 1;
                ControlFlow::Continue(())
            }
            fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
                self.depth -= 1;
                ControlFlow::Continue(())
            }
            fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
                if let Expr::Function(f) = e {
                    if self.depth == 0
                        && f.over.is_none()
                        && name_parts(&f.name)
                            .last()
                            .is_some_and(|n| AGGREGATES.contains(&n.as_str()))
                    {
                        self.found = true;
                        return ControlFlow::Break(());
                    }
                }
                ControlFlow::Continue(())
            }
        }
        let mut agg = Agg {
            found: false,
            depth: 0,
        };
        let _ = s.projection.visit(&mut agg);
        if agg.found {
            return false;
        }
    }
    s.from.iter().any(|t| join_is_empty(t, ctes))
}

fn join_is_empty(t: &TableWithJoins, ctes: &HashSet<String>) -> bool {
    let mut empty = factor_is_empty(&t.relation, ctes);
    for j in &t.joins {
        let right = factor_is_empty(&j.relation, ctes);
        empty = match &j.join_operator {
            JoinOperator::Join(_)
            | JoinOperator::Inner(_)
            | JoinOperator::CrossJoin(_)
            | JoinOperator::StraightJoin(_)
            | JoinOperator::Semi(_)
            | JoinOperator::LeftSemi(_)
            | JoinOperator::RightSemi(_) => empty || right,
            JoinOperator::Left(_)
            | JoinOperator::LeftOuter(_)
            | JoinOperator::Anti(_)
            | JoinOperator::LeftAnti(_) => empty,
            JoinOperator::Right(_) | JoinOperator::RightOuter(_) | JoinOperator::RightAnti(_) => {
                right
            }
            JoinOperator::FullOuter(_) => empty && right,
            _ => false,
        };
    }
    empty
}

fn factor_is_empty(f: &TableFactor, ctes: &HashSet<String>) -> bool {
    match f {
        TableFactor::Table {
            name, args: None, ..
        } => {
            let parts = name_parts(name);
            match parts.as_slice() {
                [n] => !ctes.contains(n) && model::EMPTY_TABLES.contains(&n.as_str()),
                [s, n] => {
                    (s == "pg_catalog" || s == "information_schema")
                        && model::EMPTY_TABLES.contains(&n.as_str())
                }
                _ => false,
            }
        }
        TableFactor::Derived { subquery, .. } => query_is_empty(subquery, ctes),
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => join_is_empty(table_with_joins, ctes),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// The rewrite
// ---------------------------------------------------------------------------------------

struct Translator<'a> {
    model: &'a Model,
    ctes: HashSet<String>,
    error: Option<String>,
    /// Whether the outermost query was seen (its select list shows `x::regclass` as names).
    seen_top: bool,
}

fn str_lit(s: &str) -> Expr {
    Expr::value(Value::SingleQuotedString(s.to_string()))
}

fn num_lit(n: i64) -> Expr {
    Expr::value(Value::Number(n.to_string(), false))
}

fn null_lit() -> Expr {
    Expr::value(Value::Null)
}

fn bool_lit(b: bool) -> Expr {
    Expr::value(Value::Boolean(b))
}

fn string_of(e: &Expr) -> Option<&str> {
    match unnest(e) {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => Some(s),
            _ => None,
        },
        Expr::Collate { expr, .. } => string_of(expr),
        _ => None,
    }
}

fn func(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(sqlparser::ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// Marker functions for "the name of this OID" (replaced by lookups in `post_visit_expr`).
const REGNAME: &str = "__dbguru_regname_";

/// Parses `template` (an expression using `__arg0`, `__arg1`, …) and puts `args` in.
fn template(template: &str, args: &[Expr]) -> Result<Expr, String> {
    let mut e = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(template)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| format!("internal template error: {e}"))?;
    struct Subst<'a>(&'a [Expr]);
    impl VisitorMut for Subst<'_> {
        type Break = ();
        fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
            if let Expr::Identifier(i) = e {
                if let Some(n) = i
                    .value
                    .strip_prefix("__arg")
                    .and_then(|n| n.parse::<usize>().ok())
                {
                    if let Some(a) = self.0.get(n) {
                        *e = Expr::Nested(Box::new(a.clone()));
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = VisitMut::visit(&mut e, &mut Subst(args));
    Ok(e)
}

/// What an array expression over always-NULL catalog arrays evaluates to.
#[derive(Clone, Copy, PartialEq)]
enum NullArray {
    Null,
    Empty,
}

/// Catalog array columns that are always NULL here.
const NULL_ARRAY_COLUMNS: &[&str] = &[
    "reloptions",
    "relacl",
    "nspacl",
    "datacl",
    "attacl",
    "attoptions",
    "attfdwoptions",
    "typacl",
    "proacl",
    "spcacl",
    "spcoptions",
    "lanacl",
    "ftoptions",
    "rolconfig",
    "useconfig",
];

fn null_array(e: &Expr) -> Option<NullArray> {
    match unnest(e) {
        Expr::Identifier(i) => NULL_ARRAY_COLUMNS
            .contains(&fold(i).as_str())
            .then_some(NullArray::Null),
        Expr::CompoundIdentifier(v) => v
            .last()
            .is_some_and(|i| NULL_ARRAY_COLUMNS.contains(&fold(i).as_str()))
            .then_some(NullArray::Null),
        Expr::Value(v) if v.value == Value::Null => Some(NullArray::Null),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::StringConcat,
            right,
        } => match (null_array(left)?, null_array(right)?) {
            (NullArray::Null, NullArray::Null) => Some(NullArray::Null),
            _ => Some(NullArray::Empty),
        },
        // array(SELECT … FROM unnest(<always-NULL array>) …) is an empty array.
        Expr::Function(f) if name_parts(&f.name).last().is_some_and(|n| n == "array") => {
            match &f.args {
                FunctionArguments::Subquery(q) => unnests_null_array(q).then_some(NullArray::Empty),
                _ => None,
            }
        }
        _ => None,
    }
}

fn unnests_null_array(q: &Query) -> bool {
    let Some(s) = first_select(&q.body) else {
        return false;
    };
    s.from.iter().any(|t| {
        t.joins.is_empty()
            && match &t.relation {
                TableFactor::Table { name, args: Some(args), .. } => {
                    name_parts(name).last().is_some_and(|n| n == "unnest")
                        && args.args.len() == 1
                        && matches!(&args.args[0], FunctionArg::Unnamed(FunctionArgExpr::Expr(a)) if null_array(a) == Some(NullArray::Null))
                }
                TableFactor::Function { name, args, .. } => {
                    name_parts(name).last().is_some_and(|n| n == "unnest")
                        && args.len() == 1
                        && matches!(&args[0], FunctionArg::Unnamed(FunctionArgExpr::Expr(a)) if null_array(a) == Some(NullArray::Null))
                }
                _ => false,
            }
    })
}

impl Translator<'_> {
    fn fail(&mut self, msg: impl Into<String>) -> ControlFlow<()> {
        self.error = Some(msg.into());
        ControlFlow::Break(())
    }

    /// `'text'::regclass` and friends: the OID.
    fn reg_oid(&self, kind: &str, text: &str) -> Result<i64, String> {
        // `'16392'::regclass` is that OID, as on PostgreSQL.
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(oid) = text.parse::<i64>() {
                return Ok(oid);
            }
        }
        let found = match kind {
            "regclass" => self.model.regclass(text),
            "regtype" => Model::regtype(text),
            "regnamespace" => self.model.regnamespace(text),
            "regrole" => (text == model::OWNER_NAME).then_some(model::OWNER_OID),
            _ => return Err(format!("casts of literals to {kind} are not supported")),
        };
        found.ok_or_else(|| match kind {
            "regclass" => format!("relation \"{text}\" does not exist"),
            "regtype" => format!("type \"{text}\" does not exist (dbguru's catalog has only the built-in types it emits)"),
            "regnamespace" => format!("schema \"{text}\" does not exist"),
            _ => format!("role \"{text}\" does not exist"),
        })
    }

    /// The name an OID of `kind` stands for, as text (for `x::regclass` shown or cast to text).
    fn reg_name(&self, kind: &str, operand: &Expr) -> Result<Expr, String> {
        if let Some(text) = string_of(operand) {
            let oid = self.reg_oid(kind, text)?;
            return self.reg_name(kind, &num_lit(oid));
        }
        if kind == "regproc" || kind == "regprocedure" {
            return Ok(Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(operand.clone()),
                data_type: DataType::Text,
                format: None,
            });
        }
        if !matches!(kind, "regclass" | "regtype" | "regnamespace" | "regrole") {
            return Err(format!("{kind} values are not supported"));
        }
        Ok(func(&format!("{REGNAME}{kind}"), vec![operand.clone()]))
    }

    /// Aliases every output column with the name PostgreSQL would give it, and (in the
    /// outermost query, `top`) turns `x::regclass` in the select list into the name.
    fn alias_projection(&mut self, s: &mut Select, top: bool) -> Result<(), String> {
        for item in &mut s.projection {
            let (expr, alias) =
                match std::mem::replace(item, SelectItem::Wildcard(Default::default())) {
                    SelectItem::UnnamedExpr(e) => {
                        let name = pg_name(&e);
                        (e, name)
                    }
                    SelectItem::ExprWithAlias { expr, alias } => (expr, fold(&alias)),
                    other => {
                        *item = other;
                        continue;
                    }
                };
            let expr = match unnest(&expr) {
                Expr::Cast {
                    expr: inner,
                    data_type,
                    ..
                } if top && is_reg_type(&type_name(data_type)) => {
                    self.reg_name(&type_name(data_type), inner)?
                }
                _ => expr,
            };
            *item = SelectItem::ExprWithAlias {
                expr,
                alias: Ident::with_quote('"', alias),
            };
        }
        Ok(())
    }

    fn check_select(&mut self, s: &mut Select, top: bool) -> Result<(), String> {
        if matches!(s.distinct, Some(Distinct::On(_))) {
            return Err("DISTINCT ON is not supported".into());
        }
        if s.top.is_some()
            || s.into.is_some()
            || !s.lateral_views.is_empty()
            || s.prewhere.is_some()
            || !s.connect_by.is_empty()
            || s.qualify.is_some()
            || !s.cluster_by.is_empty()
            || !s.distribute_by.is_empty()
            || !s.sort_by.is_empty()
            || s.exclude.is_some()
        {
            return Err("a SELECT clause PostgreSQL does not have".into());
        }
        if matches!(s.group_by, GroupByExpr::All(_)) {
            return Err("GROUP BY ALL is not supported".into());
        }
        for t in &s.from {
            check_joins(t)?;
        }
        for w in &mut s.named_window {
            if let NamedWindowExpr::WindowSpec(spec) = &mut w.1 {
                pg_null_order(&mut spec.order_by)?;
            }
        }
        self.alias_projection(s, top)
    }

    fn check_body(&mut self, b: &mut SetExpr, top: bool) -> Result<(), String> {
        match b {
            SetExpr::Select(s) => self.check_select(s, top),
            SetExpr::Query(_) | SetExpr::Values(_) => Ok(()),
            SetExpr::SetOperation {
                op,
                set_quantifier,
                left,
                right,
            } => {
                if matches!(op, SetOperator::Minus)
                    || matches!(
                        set_quantifier,
                        SetQuantifier::ByName
                            | SetQuantifier::AllByName
                            | SetQuantifier::DistinctByName
                    )
                {
                    return Err(format!("{op} {set_quantifier} is not supported"));
                }
                self.check_body(left, top)?;
                self.check_body(right, top)
            }
            _ => Err("only queries can read the catalog".into()),
        }
    }

    fn translate_cast(&self, inner: Expr, data_type: &DataType) -> Result<Expr, String> {
        let t = type_name(data_type);
        let t = t.as_str();
        if is_reg_type(t) {
            return match string_of(&inner) {
                Some(text) => Ok(num_lit(self.reg_oid(t, text)?)),
                None => Ok(inner),
            };
        }
        let cast = |ty: DataType| Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(inner.clone()),
            data_type: ty,
            format: None,
        };
        if is_text_type(t) || t.starts_with("varchar") || t.starts_with("bpchar") {
            if string_of(&inner).is_some() {
                return Ok(inner);
            }
            return Ok(cast(DataType::Text));
        }
        if is_int_type(t) {
            if let Some(s) = string_of(&inner) {
                return s
                    .trim()
                    .parse::<i64>()
                    .map(num_lit)
                    .map_err(|_| format!("invalid input syntax for type {t}: \"{s}\""));
            }
            if matches!(unnest(&inner), Expr::Value(v) if matches!(v.value, Value::Number(..))) {
                return Ok(inner);
            }
            return Ok(cast(DataType::Integer(None)));
        }
        match t {
            "bool" => match string_of(&inner).map(|s| s.trim().to_ascii_lowercase()) {
                Some(s) => match s.as_str() {
                    "t" | "true" | "y" | "yes" | "on" | "1" => Ok(bool_lit(true)),
                    "f" | "false" | "n" | "no" | "off" | "0" => Ok(bool_lit(false)),
                    _ => Err(format!("invalid input syntax for type boolean: \"{s}\"")),
                },
                None => Ok(inner),
            },
            "float4" | "float8" => Ok(cast(DataType::Real)),
            "numeric" => match string_of(&inner) {
                Some(s) if s.trim().parse::<f64>().is_ok() => {
                    Ok(Expr::value(Value::Number(s.trim().to_string(), false)))
                }
                Some(s) => Err(format!("invalid input syntax for type numeric: \"{s}\"")),
                None => Ok(inner),
            },
            _ => Err(format!("casts to {t} are not supported")),
        }
    }

    fn translate_regex(
        &self,
        left: Expr,
        pattern: &Expr,
        negated: bool,
        insensitive: bool,
    ) -> Result<Expr, String> {
        let re = string_of(pattern).ok_or("regular expression matches need a literal pattern")?;
        let globs = regex::to_globs(re)?;
        let subject = if insensitive {
            func("lower", vec![left])
        } else {
            left
        };
        let mut out: Option<Expr> = None;
        for g in globs {
            let g = if insensitive {
                g.to_ascii_lowercase()
            } else {
                g
            };
            let m = Expr::BinaryOp {
                left: Box::new(subject.clone()),
                op: BinaryOperator::Glob,
                right: Box::new(str_lit(&g)),
            };
            out = Some(match out {
                None => m,
                Some(prev) => Expr::BinaryOp {
                    left: Box::new(prev),
                    op: BinaryOperator::Or,
                    right: Box::new(m),
                },
            });
        }
        let m = Expr::Nested(Box::new(out.ok_or("empty regular expression")?));
        Ok(if negated {
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr: Box::new(m),
            }
        } else {
            m
        })
    }

    fn like(
        expr: Expr,
        pattern: Expr,
        negated: bool,
        insensitive: bool,
        escape: Option<Box<Expr>>,
    ) -> Expr {
        let (expr, pattern) = if insensitive {
            (func("lower", vec![expr]), func("lower", vec![pattern]))
        } else {
            (expr, pattern)
        };
        Expr::Like {
            negated,
            any: false,
            expr: Box::new(expr),
            pattern: Box::new(pattern),
            // PostgreSQL's LIKE escapes with a backslash unless told otherwise.
            escape_char: Some(escape.unwrap_or_else(|| Box::new(str_lit("\\")))),
        }
    }

    fn translate_function(&self, f: &Function) -> Result<Expr, String> {
        let parts = name_parts(&f.name);
        let name = match parts.as_slice() {
            [n] => n.clone(),
            [s, n] if s == "pg_catalog" => n.clone(),
            _ => return Err(format!("function {}() is not supported", f.name)),
        };
        if let Some(kind) = name.strip_prefix(REGNAME) {
            let arg = first_arg(f)
                .cloned()
                .ok_or("internal: regname without argument")?;
            let tpl = match kind {
                "regclass" => "CASE WHEN __arg0 = 0 THEN '-' ELSE coalesce((SELECT __rc.name FROM main.__regclass AS __rc WHERE __rc.oid = __arg0), CAST(__arg0 AS TEXT)) END",
                "regtype" => "CASE WHEN __arg0 = 0 THEN '-' ELSE coalesce((SELECT __ft.name FROM main.__format_type AS __ft WHERE __ft.typid = __arg0), CAST(__arg0 AS TEXT)) END",
                "regnamespace" => "coalesce((SELECT __ns.nspname FROM pg_catalog.pg_namespace AS __ns WHERE __ns.oid = __arg0), CAST(__arg0 AS TEXT))",
                _ => "CASE WHEN __arg0 = 10 THEN 'dbguru' ELSE CAST(__arg0 AS TEXT) END",
            };
            return template(tpl, &[arg]);
        }
        let args: Vec<Expr> = match &f.args {
            FunctionArguments::None => vec![],
            FunctionArguments::Subquery(_) => {
                return Err(format!("{name}(subquery) is not supported"))
            }
            FunctionArguments::List(l) => {
                let plain = l
                    .args
                    .iter()
                    .all(|a| matches!(a, FunctionArg::Unnamed(FunctionArgExpr::Expr(_))));
                if !plain {
                    // count(*) and the like keep their arguments as written.
                    if matches!(name.as_str(), "count") {
                        return Ok(Expr::Function(f.clone()));
                    }
                    return Err(format!("{name}() with these arguments is not supported"));
                }
                l.args
                    .iter()
                    .filter_map(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                        _ => None,
                    })
                    .collect()
            }
        };
        let arity = |n: std::ops::RangeInclusive<usize>| -> Result<(), String> {
            if n.contains(&args.len()) {
                Ok(())
            } else {
                Err(format!(
                    "function {name}() with {} arguments does not exist",
                    args.len()
                ))
            }
        };
        let plain_call = || -> Result<Expr, String> {
            if !f.within_group.is_empty() || f.null_treatment.is_some() {
                return Err(format!(
                    "{name}() with WITHIN GROUP or IGNORE NULLS is not supported"
                ));
            }
            let mut g = f.clone();
            g.name = ObjectName::from(vec![Ident::new(name.clone())]);
            Ok(Expr::Function(g))
        };
        Ok(match name.as_str() {
            n if n.ends_with("_is_visible") => bool_lit(true),
            "has_table_privilege"
            | "has_schema_privilege"
            | "has_column_privilege"
            | "has_any_column_privilege"
            | "has_database_privilege"
            | "has_function_privilege"
            | "has_sequence_privilege"
            | "has_type_privilege"
            | "pg_has_role" => bool_lit(true),
            "pg_relation_is_publishable" | "pg_is_other_temp_schema" | "pg_is_in_recovery" => {
                bool_lit(false)
            }
            "pg_get_userbyid" => {
                arity(1..=1)?;
                template(
                    "CASE WHEN __arg0 IS NULL THEN NULL ELSE 'dbguru' END",
                    &args,
                )?
            }
            "format_type" => {
                arity(2..=2)?;
                template(
                    "(SELECT CASE WHEN __ft.typid = 1700 AND __arg1 >= 4 \
                     THEN 'numeric(' || (((__arg1 - 4) >> 16) & 65535) || ',' || ((__arg1 - 4) & 65535) || ')' \
                     ELSE __ft.name END FROM main.__format_type AS __ft WHERE __ft.typid = __arg0)",
                    &args,
                )?
            }
            "pg_get_indexdef" => {
                arity(1..=3)?;
                let whole =
                    "(SELECT __ix.def FROM main.__indexdef AS __ix WHERE __ix.oid = __arg0)";
                if args.len() == 1 {
                    template(whole, &args)?
                } else {
                    template(
                        &format!(
                            "CASE WHEN coalesce(__arg1, 0) = 0 THEN {whole} ELSE (SELECT __ia.attname FROM \
                             pg_catalog.pg_attribute AS __ia WHERE __ia.attrelid = __arg0 AND __ia.attnum = __arg1) END"
                        ),
                        &args,
                    )?
                }
            }
            "pg_get_constraintdef" => {
                arity(1..=2)?;
                template(
                    "(SELECT __cd.def FROM main.__constraintdef AS __cd WHERE __cd.oid = __arg0)",
                    &args,
                )?
            }
            "pg_get_expr"
            | "pg_get_viewdef"
            | "pg_get_triggerdef"
            | "pg_get_ruledef"
            | "pg_get_functiondef"
            | "pg_get_function_arguments"
            | "pg_get_function_identity_arguments"
            | "pg_get_function_result"
            | "pg_get_statisticsobjdef_columns"
            | "pg_get_partkeydef"
            | "pg_get_partition_constraintdef"
            | "pg_get_serial_sequence"
            | "obj_description"
            | "col_description"
            | "shobj_description"
            | "pg_table_size"
            | "pg_total_relation_size"
            | "pg_relation_size"
            | "pg_indexes_size"
            | "pg_size_pretty"
            | "pg_tablespace_location" => null_lit(),
            "pg_encoding_to_char" | "getdatabaseencoding" => str_lit("UTF8"),
            "pg_char_to_encoding" => num_lit(6),
            "current_schema" => str_lit("public"),
            "current_database" | "current_catalog" => str_lit(model::DATABASE),
            "current_user" | "session_user" | "user" | "current_role" => str_lit(model::OWNER_NAME),
            "version" => str_lit("PostgreSQL 16.6 (dbguru)"),
            "to_regclass" | "to_regtype" | "to_regnamespace" => {
                arity(1..=1)?;
                let text = string_of(&args[0])
                    .ok_or_else(|| format!("{name}() needs a literal argument"))?;
                let kind = name.replace("to_", "");
                match self.reg_oid(&kind, text) {
                    Ok(oid) => num_lit(oid),
                    Err(_) => null_lit(),
                }
            }
            "char_length" | "character_length" => {
                arity(1..=1)?;
                func("length", args)
            }
            "btrim" => {
                arity(1..=2)?;
                func("trim", args)
            }
            "strpos" => {
                arity(2..=2)?;
                func("instr", args)
            }
            "left" => {
                arity(2..=2)?;
                let mut a = args;
                let n = a.pop().ok_or("left() needs two arguments")?;
                let s = a.pop().ok_or("left() needs two arguments")?;
                func("substr", vec![s, num_lit(1), n])
            }
            "substring" | "substr" => {
                arity(2..=3)?;
                func("substr", args)
            }
            // SQLite's json_object writes the same JSON (without PostgreSQL's spaces);
            // booleans would come out as 0/1, so those are refused.
            "quote_ident" => {
                arity(1..=1)?;
                let x = args[0].clone();
                let glob = |p: &str| Expr::BinaryOp {
                    left: Box::new(x.clone()),
                    op: BinaryOperator::Glob,
                    right: Box::new(str_lit(p)),
                };
                let reserved: Vec<String> =
                    model::RESERVED.iter().map(|w| format!("'{w}'")).collect();
                template(
                    &format!(
                        "CASE WHEN __arg1 AND NOT __arg2 AND __arg0 NOT IN ({}) THEN __arg0 \
                         ELSE '\"' || replace(__arg0, '\"', '\"\"') || '\"' END",
                        reserved.join(", ")
                    ),
                    &[x.clone(), glob("[a-z_]*"), glob("*[^a-z0-9_$]*")],
                )?
            }
            "json_build_object" | "jsonb_build_object" => {
                let bool_value = args
                    .iter()
                    .skip(1)
                    .step_by(2)
                    .any(|v| hint(v, false) == Some(PgType::Bool));
                if !args.len().is_multiple_of(2) || bool_value {
                    return Err(format!("{name}() with these arguments is not supported"));
                }
                func("json_object", args)
            }
            "min" | "max" => {
                arity(1..=1)?;
                plain_call()?
            }
            "count" | "sum" | "avg" | "coalesce" | "nullif" | "lower" | "upper" | "length"
            | "abs" | "replace" | "ltrim" | "rtrim" | "row_number" | "rank" | "dense_rank"
            | "string_agg" | "concat" | "concat_ws" | "round" | "sign" | "lag" | "lead"
            | "first_value" | "last_value" | "nth_value" => plain_call()?,
            _ => return Err(format!("function {name}() is not supported")),
        })
    }
}

/// PostgreSQL sorts NULL as larger than any value (last ascending, first descending);
/// SQLite the other way round. Says it explicitly where the query does not.
fn pg_null_order(items: &mut [OrderByExpr]) -> Result<(), String> {
    for item in items {
        let desc = match &item.options.sort {
            None | Some(OrderBySort::Asc) => false,
            Some(OrderBySort::Desc) => true,
            Some(OrderBySort::Using(op)) => {
                return Err(format!("ORDER BY … USING {op} is not supported"))
            }
        };
        if item.options.nulls_first.is_none() {
            item.options.nulls_first = Some(desc);
        }
    }
    Ok(())
}

fn check_joins(t: &TableWithJoins) -> Result<(), String> {
    for j in &t.joins {
        match &j.join_operator {
            JoinOperator::Join(_)
            | JoinOperator::Inner(_)
            | JoinOperator::Left(_)
            | JoinOperator::LeftOuter(_)
            | JoinOperator::Right(_)
            | JoinOperator::RightOuter(_)
            | JoinOperator::FullOuter(_)
            | JoinOperator::CrossJoin(_) => {}
            other => return Err(format!("the join {other:?} is not supported")),
        }
    }
    Ok(())
}

impl VisitorMut for Translator<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        if q.fetch.is_some()
            || !q.locks.is_empty()
            || q.for_clause.is_some()
            || q.settings.is_some()
            || q.format_clause.is_some()
            || !q.pipe_operators.is_empty()
        {
            return self.fail("FETCH, FOR UPDATE/SHARE and other clauses are not supported");
        }
        let top = !self.seen_top;
        self.seen_top = true;
        if let Err(e) = self.check_body(&mut q.body, top) {
            return self.fail(e);
        }
        let ordered = match q.order_by.as_mut().map(|o| &mut o.kind) {
            None => Ok(()),
            Some(OrderByKind::Expressions(items)) => pg_null_order(items),
            Some(OrderByKind::All(_)) => Err("ORDER BY ALL is not supported".to_string()),
        };
        if let Err(e) = ordered {
            return self.fail(e);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &mut ObjectName) -> ControlFlow<()> {
        let parts = name_parts(relation);
        match parts.as_slice() {
            [n] if self.ctes.contains(n) => ControlFlow::Continue(()),
            // Unqualified names are pg_catalog's (as on PostgreSQL's search path), never
            // information_schema's or the helper tables.
            [n] if n.starts_with("pg_") => {
                *relation = ObjectName::from(vec![Ident::new("pg_catalog"), Ident::new(n.clone())]);
                ControlFlow::Continue(())
            }
            [n] => self.fail(format!(
                "relation \"{n}\" is not in the catalog (a catalog query can read only pg_catalog and \
                 information_schema; query the connection's tables on their own)"
            )),
            [s, _] if s == "pg_catalog" || s == "information_schema" => ControlFlow::Continue(()),
            [c, s, n]
                if c == model::DATABASE && (s == "pg_catalog" || s == "information_schema") =>
            {
                *relation = ObjectName::from(vec![Ident::new(s.clone()), Ident::new(n.clone())]);
                ControlFlow::Continue(())
            }
            _ => self.fail(format!(
                "a catalog query can read only pg_catalog and information_schema, not {relation}; \
                 query the connection's tables on their own"
            )),
        }
    }

    fn pre_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<()> {
        match t {
            TableFactor::Table {
                name,
                args,
                with_hints,
                version,
                partitions,
                sample,
                index_hints,
                json_path,
                with_ordinality,
                ..
            } => {
                if args.is_some() {
                    return self.fail(format!(
                        "the set-returning function {name}() is not supported"
                    ));
                }
                if !with_hints.is_empty()
                    || version.is_some()
                    || !partitions.is_empty()
                    || sample.is_some()
                    || !index_hints.is_empty()
                    || json_path.is_some()
                    || *with_ordinality
                {
                    return self.fail("table options are not supported");
                }
                if let [n] = name_parts(name).as_slice() {
                    if !self.ctes.contains(n) && n.starts_with("__") {
                        return self.fail(format!("relation \"{n}\" does not exist"));
                    }
                }
                ControlFlow::Continue(())
            }
            TableFactor::Derived {
                lateral: false,
                subquery,
                alias,
                sample: None,
            } => {
                // SQLite has no column aliases on derived tables: `(…) s(a, b)` renames
                // the subquery's output columns instead.
                let Some(alias) = alias else {
                    return ControlFlow::Continue(());
                };
                if alias.columns.is_empty() {
                    return ControlFlow::Continue(());
                }
                let names: Vec<String> = alias.columns.iter().map(|c| fold(&c.name)).collect();
                match rename_outputs(subquery, &names) {
                    Ok(()) => {
                        alias.columns.clear();
                        ControlFlow::Continue(())
                    }
                    Err(e) => self.fail(e),
                }
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => match check_joins(table_with_joins) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => self.fail(e),
            },
            other => self.fail(format!("FROM {other} is not supported")),
        }
    }

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if let Expr::Function(f) = e {
            let mut ordered = Ok(());
            if let Some(WindowType::WindowSpec(spec)) = &mut f.over {
                ordered = pg_null_order(&mut spec.order_by);
            }
            if let FunctionArguments::List(list) = &mut f.args {
                for clause in &mut list.clauses {
                    if let FunctionArgumentClause::OrderBy(items) = clause {
                        ordered = ordered.and_then(|()| pg_null_order(items));
                    }
                }
            }
            if let Err(msg) = ordered {
                return self.fail(msg);
            }
        }
        let replacement: Result<Option<Expr>, String> = match e {
            // x::regclass::text — the name.
            Expr::Cast {
                expr, data_type, ..
            } if is_text_type(&type_name(data_type)) => match unnest(expr) {
                Expr::Cast {
                    expr: inner,
                    data_type: reg,
                    ..
                } if is_reg_type(&type_name(reg)) => {
                    self.reg_name(&type_name(reg), inner).map(Some)
                }
                _ => Ok(None),
            },
            Expr::AnyOp {
                left,
                compare_op,
                right,
                ..
            } => {
                if *compare_op != BinaryOperator::Eq {
                    Err(format!("{compare_op} ANY (…) is not supported"))
                } else {
                    in_list(left, right, false).map(Some)
                }
            }
            Expr::AllOp {
                left,
                compare_op,
                right,
            } => {
                if *compare_op != BinaryOperator::NotEq {
                    Err(format!("{compare_op} ALL (…) is not supported"))
                } else {
                    in_list(left, right, true).map(Some)
                }
            }
            // (current_schemas(true))[1]
            Expr::CompoundFieldAccess { root, access_chain } => {
                let is_schemas = matches!(unnest(root), Expr::Function(f) if name_parts(&f.name).last().is_some_and(|n| n == "current_schemas"));
                match access_chain.as_slice() {
                    [sqlparser::ast::AccessExpr::Subscript(sqlparser::ast::Subscript::Index {
                        index,
                    })] if is_schemas => match unnest(index) {
                        Expr::Value(v) if v.value == Value::Number("1".into(), false) => {
                            Ok(Some(str_lit("pg_catalog")))
                        }
                        Expr::Value(v) if matches!(v.value, Value::Number(..)) => {
                            Ok(Some(null_lit()))
                        }
                        _ => Err("subscripts are not supported".into()),
                    },
                    _ => Err("array subscripts and field access are not supported".into()),
                }
            }
            Expr::Function(f)
                if name_parts(&f.name)
                    .last()
                    .is_some_and(|n| n == "array_to_string") =>
            {
                match first_arg(f).map(null_array) {
                    Some(Some(NullArray::Null)) => Ok(Some(null_lit())),
                    Some(Some(NullArray::Empty)) => Ok(Some(str_lit(""))),
                    _ => Err("array_to_string() over arrays is not supported".into()),
                }
            }
            // ARRAY(SELECT … FROM <always-empty catalog>) is the empty array.
            Expr::Function(f) if name_parts(&f.name).last().is_some_and(|n| n == "array") => {
                match &f.args {
                    FunctionArguments::Subquery(q) if query_is_empty(q, &self.ctes) => {
                        Ok(Some(str_lit("{}")))
                    }
                    _ => Err("ARRAY(…) over rows is not supported".into()),
                }
            }
            Expr::Subquery(q) if query_is_empty(q, &self.ctes) => Ok(Some(null_lit())),
            Expr::Exists { subquery, negated } if query_is_empty(subquery, &self.ctes) => {
                Ok(Some(bool_lit(*negated)))
            }
            Expr::InSubquery {
                subquery, negated, ..
            } if query_is_empty(subquery, &self.ctes) => Ok(Some(bool_lit(*negated))),
            _ => Ok(None),
        };
        match replacement {
            Ok(Some(r)) => {
                *e = r;
                ControlFlow::Continue(())
            }
            Ok(None) => ControlFlow::Continue(()),
            Err(msg) => self.fail(msg),
        }
    }

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        use BinaryOperator as B;
        let placeholder = Expr::value(Value::Null);
        let taken = std::mem::replace(e, placeholder);
        let result: Result<Expr, String> = match taken {
            x @ (Expr::Identifier(_)
            | Expr::CompoundIdentifier(_)
            | Expr::Nested(_)
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsNotTrue(_)
            | Expr::IsNotFalse(_)
            | Expr::IsNotUnknown(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::InList { .. }
            | Expr::InSubquery { .. }
            | Expr::Between { .. }
            | Expr::Case { .. }
            | Expr::Exists { .. }
            | Expr::Subquery(_)
            | Expr::Tuple(_)) => Ok(x),
            Expr::IsUnknown(x) => Ok(Expr::IsNull(x)),
            Expr::Value(v) => match v.value {
                Value::SingleQuotedString(_) | Value::Number(..) | Value::Boolean(_) | Value::Null => Ok(Expr::Value(v)),
                Value::EscapedStringLiteral(s) | Value::UnicodeStringLiteral(s) => Ok(str_lit(&s)),
                Value::DollarQuotedString(d) => Ok(str_lit(&d.value)),
                Value::Placeholder(p) => Err(format!(
                    "the parameter {p} was not bound into the query (catalog queries are answered with their parameters inlined)"
                )),
                other => Err(format!("the literal {other} is not supported")),
            },
            Expr::Cast { expr, data_type, .. } => self.translate_cast(*expr, &data_type),
            Expr::Collate { expr, .. } => Ok(*expr),
            Expr::UnaryOp { op, expr } => match op {
                UnaryOperator::Not | UnaryOperator::Minus | UnaryOperator::Plus => Ok(Expr::UnaryOp { op, expr }),
                other => Err(format!("the operator {other} is not supported")),
            },
            Expr::BinaryOp { left, op, right } => {
                let op = match op {
                    B::PGCustomBinaryOperator(parts) => {
                        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
                        match parts.as_slice() {
                            ["pg_catalog", o] | [o] => match *o {
                                "~" => B::PGRegexMatch,
                                "~*" => B::PGRegexIMatch,
                                "!~" => B::PGRegexNotMatch,
                                "!~*" => B::PGRegexNotIMatch,
                                "~~" => B::PGLikeMatch,
                                "~~*" => B::PGILikeMatch,
                                "!~~" => B::PGNotLikeMatch,
                                "!~~*" => B::PGNotILikeMatch,
                                "=" => B::Eq,
                                "<>" | "!=" => B::NotEq,
                                "<" => B::Lt,
                                "<=" => B::LtEq,
                                ">" => B::Gt,
                                ">=" => B::GtEq,
                                "||" => B::StringConcat,
                                other => {
                                    return self.fail(format!("the operator OPERATOR(pg_catalog.{other}) is not supported"));
                                }
                            },
                            _ => return self.fail("operators outside pg_catalog are not supported"),
                        }
                    }
                    op => op,
                };
                match op {
                    B::PGRegexMatch => self.translate_regex(*left, &right, false, false),
                    B::PGRegexNotMatch => self.translate_regex(*left, &right, true, false),
                    B::PGRegexIMatch => self.translate_regex(*left, &right, false, true),
                    B::PGRegexNotIMatch => self.translate_regex(*left, &right, true, true),
                    B::PGLikeMatch => Ok(Self::like(*left, *right, false, false, None)),
                    B::PGNotLikeMatch => Ok(Self::like(*left, *right, true, false, None)),
                    B::PGILikeMatch => Ok(Self::like(*left, *right, false, true, None)),
                    B::PGNotILikeMatch => Ok(Self::like(*left, *right, true, true, None)),
                    B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo | B::StringConcat | B::Gt | B::Lt
                    | B::GtEq | B::LtEq | B::Eq | B::NotEq | B::And | B::Or => Ok(Expr::BinaryOp { left, op, right }),
                    other => Err(format!("the operator {other} is not supported")),
                }
            }
            Expr::Like { negated, any: false, expr, pattern, escape_char } => {
                Ok(Self::like(*expr, *pattern, negated, false, escape_char))
            }
            Expr::ILike { negated, any: false, expr, pattern, escape_char } => {
                Ok(Self::like(*expr, *pattern, negated, true, escape_char))
            }
            Expr::Function(f) => self.translate_function(&f),
            Expr::Substring { expr, substring_from, substring_for, .. } => {
                let mut args = vec![*expr, substring_from.map(|b| *b).unwrap_or_else(|| num_lit(1))];
                if let Some(n) = substring_for {
                    args.push(*n);
                }
                Ok(func("substr", args))
            }
            Expr::Position { expr, r#in } => Ok(func("instr", vec![*r#in, *expr])),
            Expr::Trim { trim_where, trim_what, expr, trim_characters: None } => {
                use sqlparser::ast::TrimWhereField as W;
                let name = match trim_where {
                    None | Some(W::Both) => "trim",
                    Some(W::Leading) => "ltrim",
                    Some(W::Trailing) => "rtrim",
                };
                let mut args = vec![*expr];
                if let Some(w) = trim_what {
                    args.push(*w);
                }
                Ok(func(name, args))
            }
            other => Err(format!("the expression {other} is not supported")),
        };
        match result {
            Ok(x) => {
                *e = x;
                ControlFlow::Continue(())
            }
            Err(msg) => self.fail(msg),
        }
    }
}

/// Renames the output columns of `q` to `names` (for `(subquery) AS s(a, b)`).
fn rename_outputs(q: &mut Query, names: &[String]) -> Result<(), String> {
    let refuse = || "column aliases on this derived table are not supported".to_string();
    if let SetExpr::Values(values) = q.body.as_ref() {
        // VALUES columns are column1, column2, … in SQLite.
        let width = values.rows.first().map(|r| r.len()).unwrap_or(0);
        if names.len() > width || q.order_by.is_some() || q.limit_clause.is_some() {
            return Err(refuse());
        }
        let items: Vec<String> = (1..=width)
            .map(|i| match names.get(i - 1) {
                Some(n) => format!("column{i} AS {}", Ident::with_quote('"', n)),
                None => format!("column{i}"),
            })
            .collect();
        let text = format!("SELECT {} FROM ({}) AS __values", items.join(", "), q.body);
        let mut parsed = parse(&text)?;
        match parsed.pop() {
            Some(Statement::Query(new)) if parsed.is_empty() => {
                *q = *new;
                return Ok(());
            }
            _ => return Err(refuse()),
        }
    }
    fn first_select_mut(body: &mut SetExpr) -> Option<&mut Select> {
        match body {
            SetExpr::Select(s) => Some(s),
            SetExpr::Query(q) => first_select_mut(&mut q.body),
            SetExpr::SetOperation { left, .. } => first_select_mut(left),
            _ => None,
        }
    }
    let select = first_select_mut(&mut q.body).ok_or_else(refuse)?;
    if names.len() > select.projection.len() {
        return Err(refuse());
    }
    for (item, name) in select.projection.iter_mut().zip(names) {
        let expr = match std::mem::replace(item, SelectItem::Wildcard(Default::default())) {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
            _ => return Err(refuse()),
        };
        *item = SelectItem::ExprWithAlias {
            expr,
            alias: Ident::with_quote('"', name),
        };
    }
    Ok(())
}

/// `left = ANY(right)` (or `left <> ALL(right)` when `negated`) as `IN`.
fn in_list(left: &Expr, right: &Expr, negated: bool) -> Result<Expr, String> {
    let left = Box::new(left.clone());
    match unnest(right) {
        Expr::Array(a) => Ok(Expr::InList {
            expr: left,
            list: a.elem.clone(),
            negated,
        }),
        Expr::Subquery(q) => Ok(Expr::InSubquery {
            expr: left,
            subquery: q.clone(),
            negated,
        }),
        Expr::Function(f)
            if name_parts(&f.name)
                .last()
                .is_some_and(|n| n == "current_schemas") =>
        {
            Ok(Expr::InList {
                expr: left,
                list: vec![str_lit("pg_catalog")],
                negated,
            })
        }
        Expr::Cast {
            expr, data_type, ..
        } if type_name(data_type).ends_with("[]") => in_list(&left, expr, negated),
        // '{a,b}'::text[] style array literals.
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) if s.starts_with('{') && s.ends_with('}') => {
                let inner = &s[1..s.len() - 1];
                if inner.contains('"') || inner.contains('\\') {
                    return Err("quoted array literals are not supported".into());
                }
                let list = if inner.is_empty() {
                    vec![]
                } else {
                    inner.split(',').map(|x| str_lit(x.trim())).collect()
                };
                if list.is_empty() {
                    return Ok(bool_lit(negated));
                }
                Ok(Expr::InList {
                    expr: left,
                    list,
                    negated,
                })
            }
            _ => Err("= ANY over this value is not supported".into()),
        },
        _ => Err("= ANY / <> ALL over an array column is not supported".into()),
    }
}
