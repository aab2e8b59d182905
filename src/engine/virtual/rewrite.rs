//! PostgreSQL catalog SQL → the same SQL for the virtual catalog in DuckDB.
//!
//! DuckDB reads PostgreSQL's grammar (libpg_query), so the statement mostly runs as sent;
//! this pass only renames what must differ: `pg_catalog.*` tables live in the schema
//! `pgc` and `information_schema.*` in `isc`, `pg_catalog.f()` becomes `f()` (our
//! macros), `'name'::regclass` becomes the OID, `x::regclass` shown as text becomes the
//! name, PostgreSQL's `~` (a partial regular-expression match; DuckDB's `~` matches the
//! whole string) becomes `regexp_matches`, array literals written as strings (`'{r,p}'`)
//! become lists, and 0-based `int2vector` subscripts are shifted to DuckDB's 1-based
//! lists. Output columns get the names PostgreSQL gives them (`count`, not
//! `count_star()`).

use std::ops::ControlFlow;

use sqlparser::ast::{
    AccessExpr, BinaryOperator, CastKind, DataType, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, ObjectName, ObjectNamePart, Query, Select, SelectItem, SetExpr,
    Statement, Subscript, TableFactor, UnaryOperator, Value, VisitMut, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::{load, Context, VirtualError};

fn fold(i: &Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

fn parts(n: &ObjectName) -> Vec<String> {
    n.0.iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => fold(i),
            ObjectNamePart::Function(f) => f.name.value.to_lowercase(),
        })
        .collect()
}

fn unnest(mut e: &Expr) -> &Expr {
    while let Expr::Nested(inner) = e {
        e = inner;
    }
    e
}

fn string_of(e: &Expr) -> Option<&str> {
    match unnest(e) {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

fn type_name(t: &DataType) -> String {
    let s = t.to_string().to_lowercase();
    let s = s.strip_prefix("pg_catalog.").unwrap_or(&s).to_string();
    s.trim_matches('"').to_string()
}

fn is_reg_type(t: &str) -> bool {
    matches!(
        t,
        "regclass"
            | "regtype"
            | "regnamespace"
            | "regrole"
            | "regproc"
            | "regprocedure"
            | "regoper"
    )
}

fn expr(sql: &str) -> Result<Expr, VirtualError> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| VirtualError::Unsupported(format!("internal rewrite failed ({e})")))
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
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

fn first_arg(f: &Function) -> Option<&Expr> {
    match &f.args {
        FunctionArguments::List(l) => match l.args.first() {
            Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) => Some(e),
            _ => None,
        },
        _ => None,
    }
}

/// The column name PostgreSQL gives an unaliased output expression (`FigureColname`).
pub fn pg_name(e: &Expr) -> String {
    figure(e).unwrap_or_else(|| "?column?".into())
}

fn figure(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(fold(i)),
        Expr::CompoundIdentifier(v) => v.last().map(fold),
        Expr::Function(f) => parts(&f.name).last().cloned(),
        Expr::Cast {
            expr, data_type, ..
        } => match unnest(expr) {
            Expr::Value(_) => Some(type_name(data_type)),
            inner => figure(inner).or_else(|| Some(type_name(data_type))),
        },
        Expr::Nested(inner) | Expr::Collate { expr: inner, .. } => figure(inner),
        Expr::CompoundFieldAccess {
            root, access_chain, ..
        } => match access_chain.last() {
            Some(AccessExpr::Dot(Expr::Identifier(i))) => Some(fold(i)),
            Some(AccessExpr::Subscript(_)) => figure(root),
            _ => None,
        },
        Expr::Case { .. } => Some("case".into()),
        Expr::Exists { .. } => Some("exists".into()),
        Expr::Array(_) => Some("array".into()),
        Expr::Value(v) if matches!(v.value, Value::Boolean(_)) => Some("bool".into()),
        Expr::Subquery(q) => match &*q.body {
            SetExpr::Select(s) => match s.projection.first() {
                Some(SelectItem::UnnamedExpr(e)) => figure(e),
                Some(SelectItem::ExprWithAlias { alias, .. }) => Some(fold(alias)),
                _ => None,
            },
            _ => None,
        },
        Expr::Substring { .. } => Some("substring".into()),
        Expr::Trim { .. } => Some("btrim".into()),
        Expr::Position { .. } => Some("position".into()),
        _ => None,
    }
}

struct Rewriter<'a> {
    ctx: &'a Context<'a>,
    error: Option<VirtualError>,
}

impl Rewriter<'_> {
    fn fail(&mut self, e: VirtualError) -> ControlFlow<()> {
        self.error = Some(e);
        ControlFlow::Break(())
    }

    fn rename_relation(name: &mut ObjectName) {
        let p = parts(name);
        let (schema, table) = match p.as_slice() {
            [_, s, t] => (Some(s.as_str()), t.clone()),
            [s, t] => (Some(s.as_str()), t.clone()),
            [t] => (None, t.clone()),
            _ => return,
        };
        let target = match schema {
            Some("pg_catalog") => "pgc",
            Some("information_schema") => "isc",
            // Unqualified pg_* names resolve in pg_catalog, as on PostgreSQL.
            None if table.starts_with("pg_") => "pgc",
            _ => return,
        };
        *name = ObjectName::from(vec![Ident::new(target), Ident::with_quote('"', table)]);
    }

    fn cast(
        &self,
        inner: &Expr,
        t: &str,
        data_type: &DataType,
    ) -> Result<Option<Expr>, VirtualError> {
        if is_reg_type(t) {
            if let Some(text) = string_of(inner) {
                if matches!(t, "regproc" | "regprocedure" | "regoper") {
                    let n = text.rsplit('.').next().unwrap_or(text);
                    let n = n.split('(').next().unwrap_or(n).trim_matches('"');
                    return Ok(Some(expr(&quote(n))?));
                }
                let oid = (self.ctx.reg_oid)(t, text).ok_or_else(|| {
                    VirtualError::Undefined(match t {
                        "regclass" => format!("relation \"{text}\" does not exist"),
                        "regtype" => format!("type \"{text}\" does not exist"),
                        "regnamespace" => format!("schema \"{text}\" does not exist"),
                        _ => format!("role \"{text}\" does not exist"),
                    })
                })?;
                return Ok(Some(expr(&oid.to_string())?));
            }
            return Ok(Some(match t {
                "regclass" | "regtype" | "regnamespace" | "regrole" => {
                    call(&format!("__{t}_keep"), vec![inner.clone()])
                }
                _ => Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(inner.clone()),
                    data_type: DataType::Varchar(None),
                    format: None,
                },
            }));
        }
        // An array column cast to text: PostgreSQL's text form (`1 2` for the vectors,
        // `{1,2}` for arrays), not DuckDB's `[1, 2]`.
        if matches!(t, "text" | "varchar" | "name" | "character varying") {
            let column = match unnest(inner) {
                Expr::Identifier(i) => Some(fold(i)),
                Expr::CompoundIdentifier(v) => v.last().map(fold),
                _ => None,
            };
            if let Some(c) = column.filter(|c| load::is_array_column(c)) {
                let sep = if load::is_zero_based(&c) { " " } else { "," };
                let joined = call(
                    "array_to_string",
                    vec![
                        inner.clone(),
                        Expr::value(Value::SingleQuotedString(sep.into())),
                    ],
                );
                return Ok(Some(if sep == " " {
                    joined
                } else {
                    expr(&format!("'{{' || {joined} || '}}'"))?
                }));
            }
        }
        // Text shown of a `regX` value: the name.
        if matches!(t, "text" | "varchar" | "name" | "character varying") {
            if let Expr::Function(f) = unnest(inner) {
                let n = parts(&f.name).join(".");
                if let Some(kind) = n.strip_prefix("__").and_then(|k| k.strip_suffix("_keep")) {
                    let arg = first_arg(f).cloned().unwrap_or_else(|| inner.clone());
                    return Ok(Some(call(&format!("__{kind}_name"), vec![arg])));
                }
            }
        }
        // A string literal of a PostgreSQL array: a list.
        if let (DataType::Array(_), Some(text)) = (data_type, string_of(inner)) {
            let elem = t.trim_end_matches("[]");
            let elems: Vec<String> = load::array_elements(text)
                .iter()
                .map(|e| quote(e))
                .collect();
            let duck = match elem {
                "int2" | "smallint" => "SMALLINT[]",
                "int4" | "int" | "integer" => "INTEGER[]",
                "int8" | "bigint" | "oid" => "BIGINT[]",
                _ => "VARCHAR[]",
            };
            return Ok(Some(expr(&format!(
                "CAST([{}] AS {duck})",
                elems.join(", ")
            ))?));
        }
        let replace = |dt: DataType| Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(inner.clone()),
            data_type: dt,
            format: None,
        };
        Ok(match t {
            "information_schema.sql_identifier"
            | "information_schema.character_data"
            | "information_schema.yes_or_no"
            | "char"
            | "\"char\""
            | "bpchar"
            | "name"
            | "aclitem" => Some(replace(DataType::Varchar(None))),
            "information_schema.cardinal_number" => Some(replace(DataType::Integer(None))),
            "information_schema.time_stamp" => Some(replace(DataType::Timestamp(
                None,
                sqlparser::ast::TimezoneInfo::None,
            ))),
            "oid" | "xid" | "regconfig" => Some(replace(DataType::BigInt(None))),
            _ => None,
        })
    }

    fn function(&self, f: &mut Function) -> Result<Option<Expr>, VirtualError> {
        let p = parts(&f.name);
        let name = match p.as_slice() {
            [s, n] if s == "pg_catalog" || s == "information_schema" => n.clone(),
            [n] => n.clone(),
            _ => return Ok(None),
        };
        if p.len() > 1 {
            f.name = ObjectName::from(vec![Ident::new(name.clone())]);
        }
        Ok(match name.as_str() {
            "current_user" | "session_user" | "user" | "current_role" | "getpgusername"
                if matches!(f.args, FunctionArguments::None | FunctionArguments::List(_)) =>
            {
                Some(expr(&quote(self.ctx.user))?)
            }
            "current_database" | "current_catalog" => Some(expr(&quote("dbguru"))?),
            "generate_subscripts" => match first_arg(f) {
                Some(Expr::Identifier(i)) if load::is_zero_based(&fold(i)) => {
                    Some(Expr::Nested(Box::new(Expr::BinaryOp {
                        left: Box::new(Expr::Function(f.clone())),
                        op: BinaryOperator::Minus,
                        right: Box::new(expr("1")?),
                    })))
                }
                Some(Expr::CompoundIdentifier(v))
                    if v.last().is_some_and(|i| load::is_zero_based(&fold(i))) =>
                {
                    Some(Expr::Nested(Box::new(Expr::BinaryOp {
                        left: Box::new(Expr::Function(f.clone())),
                        op: BinaryOperator::Minus,
                        right: Box::new(expr("1")?),
                    })))
                }
                _ => None,
            },
            "array_lower" => match first_arg(f) {
                Some(Expr::Identifier(i)) if load::is_zero_based(&fold(i)) => Some(expr("0")?),
                Some(Expr::CompoundIdentifier(v))
                    if v.last().is_some_and(|i| load::is_zero_based(&fold(i))) =>
                {
                    Some(expr("0")?)
                }
                _ => None,
            },
            _ => None,
        })
    }

    fn regex(left: &Expr, right: &Expr, negated: bool, insensitive: bool) -> Expr {
        let mut args = vec![left.clone(), right.clone()];
        if insensitive {
            args.push(Expr::value(Value::SingleQuotedString("i".into())));
        }
        let m = call("regexp_matches", args);
        if negated {
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr: Box::new(Expr::Nested(Box::new(m))),
            }
        } else {
            m
        }
    }

    fn rewrite(&mut self, e: &mut Expr) -> Result<(), VirtualError> {
        let new = match e {
            Expr::Cast {
                expr: inner,
                data_type,
                ..
            } => {
                let t = type_name(data_type);
                self.cast(inner, &t, data_type)?
            }
            Expr::Function(f) => self.function(f)?,
            Expr::Collate { expr: inner, .. } => Some((**inner).clone()),
            Expr::BinaryOp { left, op, right } => {
                let is_custom = matches!(op, BinaryOperator::PGCustomBinaryOperator(_));
                let custom: Option<String> = match &*op {
                    BinaryOperator::PGCustomBinaryOperator(v) => v.last().cloned(),
                    BinaryOperator::PGRegexMatch => Some("~".into()),
                    BinaryOperator::PGRegexIMatch => Some("~*".into()),
                    BinaryOperator::PGRegexNotMatch => Some("!~".into()),
                    BinaryOperator::PGRegexNotIMatch => Some("!~*".into()),
                    _ => None,
                };
                match custom.as_deref() {
                    Some("~") => Some(Self::regex(left, right, false, false)),
                    Some("~*") => Some(Self::regex(left, right, false, true)),
                    Some("!~") => Some(Self::regex(left, right, true, false)),
                    Some("!~*") => Some(Self::regex(left, right, true, true)),
                    Some(other) => {
                        if is_custom {
                            let op = match other {
                                "=" => BinaryOperator::Eq,
                                "<>" => BinaryOperator::NotEq,
                                "<" => BinaryOperator::Lt,
                                ">" => BinaryOperator::Gt,
                                "<=" => BinaryOperator::LtEq,
                                ">=" => BinaryOperator::GtEq,
                                "~~" => {
                                    return {
                                        *e = Expr::Like {
                                            negated: false,
                                            any: false,
                                            expr: left.clone(),
                                            pattern: right.clone(),
                                            escape_char: None,
                                        };
                                        Ok(())
                                    }
                                }
                                o => {
                                    return Err(VirtualError::Unsupported(format!(
                                        "operator {o} is not supported"
                                    )))
                                }
                            };
                            Some(Expr::BinaryOp {
                                left: left.clone(),
                                op,
                                right: right.clone(),
                            })
                        } else {
                            None
                        }
                    }
                    None => None,
                }
            }
            Expr::AnyOp { right, .. } | Expr::AllOp { right, .. } => {
                if let Some(text) = string_of(right) {
                    let elems: Vec<String> = load::array_elements(text)
                        .iter()
                        .map(|e| quote(e))
                        .collect();
                    **right = expr(&format!("[{}]", elems.join(", ")))?;
                }
                None
            }
            // `pg_catalog.pg_class.oid`: the table lives in `pgc`.
            Expr::CompoundIdentifier(v) if v.len() >= 3 => {
                let n = v.len();
                let schema = fold(&v[n - 3]);
                let target = match schema.as_str() {
                    "pg_catalog" => Some("pgc"),
                    "information_schema" => Some("isc"),
                    _ => None,
                };
                target.map(|t| {
                    let mut parts = vec![Ident::new(t)];
                    parts.extend(v[n - 2..].iter().cloned());
                    Expr::CompoundIdentifier(parts)
                })
            }
            Expr::CompoundFieldAccess { root, access_chain } => {
                let zero = match unnest(root) {
                    Expr::Identifier(i) => load::is_zero_based(&fold(i)),
                    Expr::CompoundIdentifier(v) => {
                        v.last().is_some_and(|i| load::is_zero_based(&fold(i)))
                    }
                    _ => false,
                };
                if zero {
                    if let Some(AccessExpr::Subscript(Subscript::Index { index })) =
                        access_chain.first_mut()
                    {
                        *index = Expr::BinaryOp {
                            left: Box::new(Expr::Nested(Box::new(index.clone()))),
                            op: BinaryOperator::Plus,
                            right: Box::new(expr("1")?),
                        };
                    }
                }
                None
            }
            _ => None,
        };
        if let Some(n) = new {
            *e = n;
        }
        Ok(())
    }
}

/// Names every unaliased output expression of every SELECT in `q`'s body the way
/// PostgreSQL does, so outer queries find `count` (not `count(1)`).
fn alias_outputs(b: &mut SetExpr) {
    match b {
        SetExpr::Select(s) => {
            for item in &mut s.projection {
                if let SelectItem::UnnamedExpr(e) = item {
                    if matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
                        continue;
                    }
                    let name = pg_name(e);
                    *item = SelectItem::ExprWithAlias {
                        expr: e.clone(),
                        alias: Ident::with_quote('"', name),
                    };
                }
            }
        }
        SetExpr::Query(q) => alias_outputs(&mut q.body),
        SetExpr::SetOperation { left, right, .. } => {
            alias_outputs(left);
            alias_outputs(right);
        }
        _ => {}
    }
}

impl VisitorMut for Rewriter<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        alias_outputs(&mut q.body);
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, args, .. } = t {
            if args.is_some() {
                // A function in FROM (`pg_catalog.unnest(...)`): drop the schema.
                let p = parts(name);
                if p.len() == 2 && (p[0] == "pg_catalog" || p[0] == "information_schema") {
                    *name = ObjectName::from(vec![Ident::new(p[1].clone())]);
                }
            } else {
                Self::rename_relation(name);
            }
        }
        if let TableFactor::Function { name, .. } = t {
            let p = parts(name);
            if p.len() == 2 && (p[0] == "pg_catalog" || p[0] == "information_schema") {
                *name = ObjectName::from(vec![Ident::new(p[1].clone())]);
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match self.rewrite(e) {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => self.fail(err),
        }
    }
}

fn top_select(q: &mut Query) -> Option<&mut Select> {
    fn body(b: &mut SetExpr) -> Option<&mut Select> {
        match b {
            SetExpr::Select(s) => Some(s),
            SetExpr::Query(q) => body(&mut q.body),
            SetExpr::SetOperation { left, .. } => body(left),
            _ => None,
        }
    }
    body(&mut q.body)
}

/// Rewrites `sql` (one PostgreSQL query) for the virtual catalog.
pub fn rewrite(sql: &str, ctx: &Context<'_>) -> Result<String, VirtualError> {
    // Bounded before parsing (size, nesting), as the SQLite translation is: this pass and
    // DuckDB's parser recurse over the tree.
    crate::sql::limits::check_with(sql, &crate::sql::limits::TRANSLATOR)
        .map_err(|e| VirtualError::Unsupported(e.to_string()))?;
    let mut stmts = Parser::parse_sql(&PostgreSqlDialect {}, sql)
        .map_err(|e| VirtualError::Unsupported(format!("it does not parse ({e})")))?;
    if stmts.len() != 1 {
        return Err(VirtualError::Unsupported(
            "expected exactly one statement".into(),
        ));
    }
    let Some(Statement::Query(mut query)) = stmts.pop() else {
        return Err(VirtualError::Unsupported(
            "only SELECT can read the catalog".into(),
        ));
    };
    // Output names as PostgreSQL gives them, from the query as written.
    let names: Vec<Option<String>> = top_select(&mut query)
        .map(|s| {
            s.projection
                .iter()
                .map(|i| match i {
                    SelectItem::UnnamedExpr(e) => Some(pg_name(e)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let mut rw = Rewriter { ctx, error: None };
    if VisitMut::visit(&mut *query, &mut rw).is_break() {
        return Err(rw
            .error
            .unwrap_or_else(|| VirtualError::Unsupported("rewrite failed".into())));
    }
    if let Some(s) = top_select(&mut query) {
        for (item, name) in s.projection.iter_mut().zip(names) {
            let e = match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
                _ => continue,
            };
            // A regclass/regtype shown: its name.
            if let Expr::Function(f) = unnest(e) {
                let n = parts(&f.name).join(".");
                if let Some(kind) = n.strip_prefix("__").and_then(|k| k.strip_suffix("_keep")) {
                    if let Some(arg) = first_arg(f).cloned() {
                        *e = call(&format!("__{kind}_name"), vec![arg]);
                    }
                }
            }
            // An int2vector/oidvector shown: PostgreSQL's text form (`1 2`).
            let vector = match unnest(e) {
                Expr::Identifier(i) => load::is_zero_based(&fold(i)),
                Expr::CompoundIdentifier(v) => {
                    v.last().is_some_and(|i| load::is_zero_based(&fold(i)))
                }
                _ => false,
            };
            if vector {
                *e = call(
                    "array_to_string",
                    vec![
                        e.clone(),
                        Expr::value(Value::SingleQuotedString(" ".into())),
                    ],
                );
            }
            if let (SelectItem::UnnamedExpr(e), Some(n)) = (&*item, name) {
                *item = SelectItem::ExprWithAlias {
                    expr: e.clone(),
                    alias: Ident::with_quote('"', n),
                };
            }
        }
    }
    Ok(query.to_string())
}
