//! The SQL text of a [`Query`], per dialect.

use super::intent::*;
use super::lexicon::*;
use super::query::*;
use super::schema::*;
use crate::backends::Dialect;

impl<'a> Query<'a> {
    /// The SQL (without the final `;`); `None` when the dialect cannot express it.
    pub(super) fn render(&self) -> Option<String> {
        let d = self.db.dialect;
        let used = self.used_hops();
        let mut names: Vec<String> = Vec::new();
        let mut alias_of = |t: &TableView<'_>| {
            let base: String = if t.core.is_empty() {
                t.info
                    .name
                    .chars()
                    .take(1)
                    .collect::<String>()
                    .to_lowercase()
            } else {
                t.core.iter().filter_map(|w| w.chars().next()).collect()
            };
            let base = if base.chars().all(|c| c.is_ascii_lowercase()) && !base.is_empty() {
                base
            } else {
                "t".to_string()
            };
            let mut a = base.clone();
            let mut n = 2;
            while names.contains(&a) || RESERVED.contains(&a.as_str()) {
                a = format!("{base}{n}");
                n += 1;
            }
            names.push(a.clone());
            a
        };
        let qualified = !used.is_empty();
        let base_alias = alias_of(self.table(Loc::Base));
        let hop_aliases: Vec<(usize, String)> = used
            .iter()
            .map(|&h| (h, alias_of(self.table(Loc::Hop(h)))))
            .collect();
        let col = |r: &ColRef<'_>| -> String {
            let name = ident(d, &r.col.name);
            if !qualified {
                return name;
            }
            let a = match r.loc {
                Loc::Base => Some(base_alias.as_str()),
                Loc::Hop(h) => hop_aliases
                    .iter()
                    .find(|(x, _)| *x == h)
                    .map(|(_, a)| a.as_str()),
            };
            format!("{}.{name}", a.unwrap_or(""))
        };
        let expr = |e: &Expr<'_>| render_expr(d, e, &col);

        let mut sql = String::from(if self.distinct {
            "SELECT DISTINCT "
        } else {
            "SELECT "
        });
        if self.star {
            sql.push_str(&if qualified {
                format!("{base_alias}.*")
            } else {
                "*".to_string()
            });
        } else {
            let mut items = Vec::new();
            for (e, alias) in &self.select {
                let text = expr(e)?;
                let same = matches!(e, Expr::Col(r) if r.col.name == *alias);
                items.push(if same {
                    text
                } else {
                    format!("{text} AS {}", ident(d, alias))
                });
            }
            sql.push_str(&items.join(", "));
        }
        sql.push_str(" FROM ");
        sql.push_str(&table_name(d, &self.table(Loc::Base).info.name));
        if qualified {
            sql.push_str(&format!(" AS {base_alias}"));
        }
        for (h, a) in &hop_aliases {
            let hop = &self.hops[*h];
            sql.push_str(&format!(
                " JOIN {} AS {a} ON {base_alias}.{} = {a}.{}",
                table_name(d, &self.table(Loc::Hop(*h)).info.name),
                ident(d, &hop.fk.name),
                ident(d, &hop.pk.name)
            ));
        }
        if !self.filters.is_empty() {
            let mut conds = Vec::new();
            for c in &self.filters {
                let e = expr(&c.expr)?;
                conds.push(match &c.value {
                    None => format!("{e} IS NOT NULL"),
                    Some(Lit::Number(n)) => format!("{e} {} {n}", c.op),
                    Some(Lit::Text(s)) => format!("{e} {} {}", c.op, literal(d, s)),
                    Some(Lit::Range(a, b)) => {
                        if !is_plain_number(a) || !is_plain_number(b) {
                            return None;
                        }
                        format!("{e} BETWEEN {a} AND {b}")
                    }
                    Some(Lit::Recent(n, unit)) => {
                        let Expr::Col(r) = &c.expr else {
                            return None;
                        };
                        let latest = format!(
                            "(SELECT max({}) FROM {})",
                            ident(d, &r.col.name),
                            table_name(d, &self.table(r.loc).info.name)
                        );
                        format!("{e} > {}", recent(d, &latest, *n, unit)?)
                    }
                });
            }
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
        if !self.group.is_empty() {
            let g: Option<Vec<String>> = self.group.iter().map(&expr).collect();
            sql.push_str(" GROUP BY ");
            sql.push_str(&g?.join(", "));
        }
        if !self.order.is_empty() {
            let mut o = Vec::new();
            for (e, desc) in &self.order {
                let text = expr(e)?;
                o.push(if *desc { format!("{text} DESC") } else { text });
            }
            sql.push_str(" ORDER BY ");
            sql.push_str(&o.join(", "));
        }
        if let Some(n) = self.limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        Some(sql)
    }
}

pub(super) fn render_expr(
    d: Dialect,
    e: &Expr<'_>,
    col: &dyn Fn(&ColRef<'_>) -> String,
) -> Option<String> {
    Some(match e {
        Expr::Col(r) => col(r),
        Expr::Mul(a, b) => format!("{} * {}", col(a), col(b)),
        Expr::CountStar => "count(*)".to_string(),
        Expr::Func(f, inner) => format!("{f}({})", render_expr(d, inner, col)?),
        Expr::Distinct(r) => format!("DISTINCT {}", col(r)),
        Expr::Div(a, b) => format!(
            "{} * 1.0 / {}",
            render_expr(d, a, col)?,
            render_expr(d, b, col)?
        ),
        Expr::Share(a) => {
            if d == Dialect::Mongodb {
                return None;
            }
            let a = render_expr(d, a, col)?;
            format!("100.0 * {a} / sum({a}) OVER ()")
        }
        Expr::Period(Period::Quarter, r) => {
            let c = col(r);
            let ts = if is_date_typed(r.col) {
                c.clone()
            } else {
                format!("CAST({c} AS TIMESTAMP)")
            };
            match d {
                Dialect::Postgres => format!("to_char({ts}, 'YYYY-\"Q\"Q')"),
                Dialect::Duckdb => format!("strftime({ts}, '%Y') || '-Q' || quarter({ts})"),
                Dialect::Sqlite => format!(
                    "strftime('%Y', {c}) || '-Q' || ((CAST(strftime('%m', {c}) AS INTEGER) + 2) / 3)"
                ),
                Dialect::Mysql => format!("CONCAT(YEAR({c}), '-Q', QUARTER({c}))"),
                Dialect::Mongodb => return None,
            }
        }
        Expr::Period(p, r) => {
            let c = col(r);
            let ts = || {
                if is_date_typed(r.col) {
                    c.clone()
                } else {
                    format!("CAST({c} AS TIMESTAMP)")
                }
            };
            match d {
                Dialect::Postgres => format!("to_char({}, '{}')", ts(), p.to_char()),
                Dialect::Duckdb => format!("strftime({}, '{}')", ts(), p.strftime()),
                Dialect::Sqlite => format!("strftime('{}', {c})", p.strftime()),
                Dialect::Mysql => format!("DATE_FORMAT({c}, '{}')", p.strftime()),
                Dialect::Mongodb => return None,
            }
        }
    })
}

/// Words that must be quoted as identifiers in at least one dialect.
pub(super) const RESERVED: &[&str] = &[
    "all",
    "alter",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "between",
    "both",
    "by",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "database",
    "date",
    "day",
    "default",
    "deferrable",
    "delete",
    "desc",
    "distinct",
    "do",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "hour",
    "if",
    "ilike",
    "in",
    "index",
    "inner",
    "insert",
    "intersect",
    "interval",
    "into",
    "is",
    "join",
    "key",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "minute",
    "month",
    "natural",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "over",
    "partition",
    "pivot",
    "primary",
    "qualify",
    "range",
    "references",
    "replace",
    "returning",
    "right",
    "row",
    "rows",
    "second",
    "select",
    "session_user",
    "set",
    "show",
    "some",
    "symmetric",
    "table",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "unpivot",
    "update",
    "user",
    "using",
    "values",
    "when",
    "where",
    "window",
    "with",
    "year",
];

/// An identifier, quoted only when needed (PostgreSQL folds case, so capitals need quotes there).
pub(super) fn ident(d: Dialect, name: &str) -> String {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| {
        c == '_' || c.is_ascii_lowercase() || (d != Dialect::Postgres && c.is_ascii_uppercase())
    });
    let rest_ok = chars.all(|c| {
        c == '_'
            || c.is_ascii_digit()
            || c.is_ascii_lowercase()
            || (d != Dialect::Postgres && c.is_ascii_uppercase())
    });
    if first_ok && rest_ok && !RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
        return name.to_string();
    }
    match d {
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// A table name; `schema.table` is written qualified.
pub(super) fn table_name(d: Dialect, name: &str) -> String {
    name.split('.')
        .map(|p| ident(d, p))
        .collect::<Vec<_>>()
        .join(".")
}

/// A string literal (MySQL also treats backslashes as escapes).
pub(super) fn literal(d: Dialect, s: &str) -> String {
    let s = s.replace('\'', "''");
    let s = if d == Dialect::Mysql {
        s.replace('\\', "\\\\")
    } else {
        s
    };
    format!("'{s}'")
}

// ───────────────────────────── planning ─────────────────────────────

/// `latest` minus `n` units, as a value comparable with the column, per dialect.
fn recent(d: Dialect, latest: &str, n: u32, unit: &str) -> Option<String> {
    let (n, unit) = if unit == "week" {
        (n * 7, "day")
    } else {
        (n, unit)
    };
    Some(match d {
        Dialect::Sqlite => format!("date({latest}, '-{n} {unit}s')"),
        Dialect::Duckdb => format!("CAST({latest} AS DATE) - INTERVAL {n} {unit}"),
        Dialect::Postgres => format!("CAST({latest} AS DATE) - INTERVAL '{n} {unit}s'"),
        Dialect::Mysql => format!("DATE_SUB({latest}, INTERVAL {n} {})", unit.to_uppercase()),
        Dialect::Mongodb => return None,
    })
}
