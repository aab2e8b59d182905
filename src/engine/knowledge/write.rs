//! `INSERT INTO dbguru.glossary|examples …` and `DELETE FROM dbguru.glossary|examples …`
//! over the wire, by users with `admin = true`.
//!
//! - `INSERT … VALUES (…), (…)` with literal values, or `INSERT … SELECT …` over the
//!   `dbguru.*` tables (`INSERT INTO dbguru.examples (question, connection, sql) SELECT
//!   question, 'shop', sql FROM dbguru.queries WHERE id = 42` keeps a good answer: the
//!   SQL that ran on that connection is taken from the query's record). Without
//!   a column list the columns are `(term, definition, connection)` and `(question,
//!   connection, sql)`. All rows or none; the tag is `INSERT 0 n`.
//! - `DELETE FROM … [WHERE …]`: the rows the condition selects, all or none; entries of a
//!   `[knowledge] files` file cannot be deleted (edit the file).
//! - Anything else on these tables (UPDATE, RETURNING, ON CONFLICT) gets `0A000`.
//!
//! Every entry is checked as one from a file: non-empty, bounded, a configured
//! connection, unique per connection, and an example's SQL must pass the guard as one
//! read-only statement of its connection's dialect.

use std::ops::ControlFlow;

use arrow::array::{Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use sqlparser::ast::{
    Expr, FromTable, ObjectName, SetExpr, Statement, TableFactor, TableObject, Value,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::{ExampleEntry, GlossaryEntry, KnowledgeError};
use crate::config::{Config, UserConfig};
use crate::engine::{guard, Engine, EngineError};

/// Longest term, question and definition, and example SQL, in characters.
const MAX_TERM: usize = 200;
const MAX_DEFINITION: usize = 4000;
const MAX_QUESTION: usize = 1000;
const MAX_SQL: usize = 20_000;

/// Which knowledge table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `dbguru.glossary`
    Glossary,
    /// `dbguru.examples`
    Examples,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Glossary => "glossary",
            Table::Examples => "examples",
        }
    }

    fn writable(self) -> [&'static str; 3] {
        match self {
            Table::Glossary => ["term", "definition", "connection"],
            Table::Examples => ["question", "connection", "sql"],
        }
    }

    fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Glossary => &[
                "id",
                "term",
                "definition",
                "connection",
                "source",
                "created_by",
                "created_at",
            ],
            Table::Examples => &[
                "id",
                "question",
                "connection",
                "sql",
                "source",
                "created_by",
                "created_at",
            ],
        }
    }
}

fn knowledge_table(name: &ObjectName) -> Option<Table> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| p.to_string().trim_matches('"').to_ascii_lowercase())
        .collect();
    match parts.as_slice() {
        [s, t] if s == "dbguru" && t == "glossary" => Some(Table::Glossary),
        [s, t] if s == "dbguru" && t == "examples" => Some(Table::Examples),
        _ => None,
    }
}

/// Where inserted rows come from.
#[derive(Debug)]
enum Source {
    /// Literal rows.
    Values(Vec<Vec<Option<String>>>),
    /// A query over the `dbguru.*` tables.
    Query(String),
}

/// A parsed write.
#[derive(Debug)]
enum Write {
    Insert {
        table: Table,
        columns: Vec<String>,
        source: Source,
    },
    Delete {
        table: Table,
        selection: Option<String>,
    },
}

/// Whether `sql` changes `dbguru.glossary` or `dbguru.examples` (or tries to): such a
/// statement is never run at Describe time or inside a transaction block.
pub fn is_write(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    if !(lower.contains("glossary") || lower.contains("examples")) {
        return false;
    }
    !matches!(parse(sql), Ok(None))
}

fn unsupported(table: Table, what: &str) -> KnowledgeError {
    KnowledgeError::Unsupported(format!(
        "dbguru.{} takes INSERT … VALUES, INSERT … SELECT and DELETE … WHERE; {what} is not supported (to change an entry, DELETE it and INSERT it again)",
        table.name()
    ))
}

/// The write `sql` asks for; `Ok(None)` when it does not write a knowledge table.
fn parse(sql: &str) -> Result<Option<Write>, KnowledgeError> {
    if crate::sql::limits::check(sql).is_err() {
        return Ok(None);
    }
    let Ok(stmts) = Parser::parse_sql(&PostgreSqlDialect {}, sql) else {
        return Ok(None);
    };
    let [stmt] = stmts.as_slice() else {
        return Ok(None);
    };
    match stmt {
        Statement::Insert(ins) => {
            let TableObject::TableName(name) = &ins.table else {
                return Ok(None);
            };
            let Some(table) = knowledge_table(name) else {
                return Ok(None);
            };
            if ins.returning.is_some() {
                return Err(unsupported(table, "RETURNING"));
            }
            if ins.on.is_some() || ins.or.is_some() || ins.ignore {
                return Err(unsupported(table, "ON CONFLICT"));
            }
            let columns: Vec<String> = if ins.columns.is_empty() {
                table.writable().iter().map(|c| c.to_string()).collect()
            } else {
                ins.columns
                    .iter()
                    .map(|c| c.to_string().trim_matches('"').to_ascii_lowercase())
                    .collect()
            };
            for c in &columns {
                if !table.columns().contains(&c.as_str()) {
                    return Err(KnowledgeError::Column {
                        table: table.name().into(),
                        column: c.clone(),
                        why: "does not exist",
                    });
                }
                if !table.writable().contains(&c.as_str()) {
                    return Err(KnowledgeError::Column {
                        table: table.name().into(),
                        column: c.clone(),
                        why: "cannot be written (the proxy sets it)",
                    });
                }
            }
            let Some(source) = &ins.source else {
                return Err(unsupported(table, "INSERT without VALUES or SELECT"));
            };
            let source = match source.body.as_ref() {
                SetExpr::Values(v) if source.with.is_none() => {
                    let mut rows = Vec::new();
                    for row in &v.rows {
                        rows.push(
                            row.iter()
                                .map(|e| {
                                    literal(e).ok_or_else(|| {
                                        unsupported(
                                            table,
                                            &format!("the value {e} (only literals)"),
                                        )
                                    })
                                })
                                .collect::<Result<Vec<_>, _>>()?,
                        );
                    }
                    Source::Values(rows)
                }
                _ => Source::Query(source.to_string()),
            };
            Ok(Some(Write::Insert {
                table,
                columns,
                source,
            }))
        }
        Statement::Delete(del) => {
            let from = match &del.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            let table = from.iter().find_map(|t| match &t.relation {
                TableFactor::Table { name, .. } => knowledge_table(name),
                _ => None,
            });
            let Some(table) = table else {
                return Ok(None);
            };
            if del.returning.is_some() {
                return Err(unsupported(table, "RETURNING"));
            }
            if from.len() != 1
                || !from[0].joins.is_empty()
                || del.using.is_some()
                || del.limit.is_some()
                || !del.order_by.is_empty()
                || !del.tables.is_empty()
            {
                return Err(unsupported(
                    table,
                    "DELETE with USING, LIMIT or several tables",
                ));
            }
            if let TableFactor::Table { alias: Some(_), .. } = &from[0].relation {
                return Err(unsupported(table, "a table alias"));
            }
            Ok(Some(Write::Delete {
                table,
                selection: del.selection.as_ref().map(|s| s.to_string()),
            }))
        }
        Statement::Query(_) => Ok(None),
        other => {
            // UPDATE, TRUNCATE, DROP, ALTER … naming a knowledge table.
            let mut named = None;
            let _ = sqlparser::ast::visit_relations(other, |r| {
                named = knowledge_table(r);
                if named.is_some() {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
            match named {
                Some(t) => Err(unsupported(t, "this statement")),
                None => Ok(None),
            }
        }
    }
}

/// A literal's text (`NULL` → `None`); `None` outside for anything but a literal.
fn literal(e: &Expr) -> Option<Option<String>> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Null => Some(None),
            Value::SingleQuotedString(s)
            | Value::EscapedStringLiteral(s)
            | Value::UnicodeStringLiteral(s)
            | Value::NationalStringLiteral(s) => Some(Some(s.clone())),
            Value::DollarQuotedString(d) => Some(Some(d.value.clone())),
            Value::Number(n, _) => Some(Some(n.to_string())),
            Value::Boolean(b) => Some(Some(b.to_string())),
            _ => None,
        },
        Expr::Cast { expr, .. } | Expr::Nested(expr) => literal(expr),
        _ => None,
    }
}

fn trimmed(table: Table, column: &str, v: String, max: usize) -> Result<String, KnowledgeError> {
    let v = v.trim().to_string();
    if v.is_empty() {
        return Err(KnowledgeError::NotNull {
            table: table.name().into(),
            column: column.into(),
        });
    }
    if v.chars().count() > max {
        return Err(KnowledgeError::Invalid(format!(
            "value too long for column \"{column}\" of dbguru.{}: at most {max} characters",
            table.name()
        )));
    }
    Ok(v)
}

/// The canonical name of `name` if it is a connection `user` may use (any user: `None`).
fn connection(
    config: &Config,
    user: Option<&UserConfig>,
    name: &str,
) -> Result<String, KnowledgeError> {
    config
        .connections
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name.trim()))
        .filter(|c| user.is_none_or(|u| u.may_use(&c.name)))
        .map(|c| c.name.clone())
        .ok_or_else(|| KnowledgeError::UnknownConnection(name.trim().to_string()))
}

/// Checks and normalizes one glossary entry against the entries already there.
pub fn check_glossary(
    config: &Config,
    user: Option<&UserConfig>,
    mut g: GlossaryEntry,
    existing: &[GlossaryEntry],
) -> Result<GlossaryEntry, KnowledgeError> {
    let t = Table::Glossary;
    g.term = trimmed(t, "term", g.term, MAX_TERM)?;
    g.definition = trimmed(t, "definition", g.definition, MAX_DEFINITION)?;
    g.connection = match g.connection.filter(|c| !c.trim().is_empty()) {
        Some(c) => Some(connection(config, user, &c)?),
        None => None,
    };
    if existing.iter().any(|e| {
        e.term.eq_ignore_ascii_case(&g.term)
            && e.connection.as_deref().map(str::to_ascii_lowercase)
                == g.connection.as_deref().map(str::to_ascii_lowercase)
    }) {
        return Err(KnowledgeError::Duplicate {
            constraint: "glossary_term",
            what: format!(
                "the term \"{}\" for {}",
                g.term,
                g.connection.as_deref().unwrap_or("every connection")
            ),
        });
    }
    Ok(g)
}

fn dialect_of(kind: crate::config::ConnectionKind) -> crate::backends::Dialect {
    use crate::backends::Dialect;
    use crate::config::ConnectionKind as K;
    match kind {
        K::Postgres => Dialect::Postgres,
        K::Mysql => Dialect::Mysql,
        K::Sqlite => Dialect::Sqlite,
        K::Duckdb => Dialect::Duckdb,
        K::Mongodb => Dialect::Mongodb,
    }
}

/// Checks and normalizes one example against the examples already there.
pub fn check_example(
    config: &Config,
    user: Option<&UserConfig>,
    mut e: ExampleEntry,
    existing: &[ExampleEntry],
) -> Result<ExampleEntry, KnowledgeError> {
    let t = Table::Examples;
    e.question = trimmed(t, "question", e.question, MAX_QUESTION)?;
    e.sql = trimmed(t, "sql", e.sql, MAX_SQL)?
        .trim_end_matches(';')
        .trim_end()
        .to_string();
    let conn = trimmed(t, "connection", e.connection, MAX_TERM)?;
    let dialect = if conn == "*" {
        e.connection = conn;
        crate::backends::Dialect::Postgres
    } else {
        e.connection = connection(config, user, &conn)?;
        config
            .connections
            .iter()
            .find(|c| c.name == e.connection)
            .map(|c| dialect_of(c.kind))
            .unwrap_or(crate::backends::Dialect::Postgres)
    };
    guard::check(&e.sql, dialect, false, None).map_err(|why| KnowledgeError::BadSql {
        connection: e.connection.clone(),
        why: why.to_string(),
    })?;
    if existing.iter().any(|x| {
        x.connection.eq_ignore_ascii_case(&e.connection)
            && super::normalize_question(&x.question) == super::normalize_question(&e.question)
    }) {
        return Err(KnowledgeError::Duplicate {
            constraint: "examples_question",
            what: format!("the question \"{}\" for {}", e.question, e.connection),
        });
    }
    Ok(e)
}

/// The connection and SQL of an example whose `sql` is `dbguru.queries.sql` (the JSON
/// list of the databases an answer ran on): the one database's SQL, or the one named by
/// `connection`. Any other `sql` is kept as it is.
fn from_history(
    connection: Option<String>,
    sql: Option<String>,
) -> Result<(Option<String>, Option<String>), KnowledgeError> {
    #[derive(serde::Deserialize)]
    struct Ran {
        name: String,
        sql: String,
    }
    let Some(ran) = sql
        .as_deref()
        .filter(|s| s.trim_start().starts_with('['))
        .and_then(|s| serde_json::from_str::<Vec<Ran>>(s).ok())
    else {
        return Ok((connection, sql));
    };
    let wanted = connection
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let chosen: Vec<&Ran> = ran
        .iter()
        .filter(|r| wanted.is_none_or(|w| r.name.eq_ignore_ascii_case(w)))
        .collect();
    match chosen.as_slice() {
        [one] => Ok((Some(one.name.clone()), Some(one.sql.clone()))),
        _ => Err(KnowledgeError::Invalid(format!(
            "that answer ran on {}: name the one to keep in the connection column",
            ran.iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The text of every cell of column `i`, NULL as `None`.
fn column_text(
    batches: &[arrow::record_batch::RecordBatch],
    i: usize,
) -> Result<Vec<Option<String>>, KnowledgeError> {
    let mut out = Vec::new();
    for b in batches {
        let col = cast(b.column(i), &DataType::Utf8)
            .map_err(|e| KnowledgeError::Invalid(e.to_string()))?;
        let Some(s) = col.as_any().downcast_ref::<StringArray>() else {
            return Err(KnowledgeError::Invalid(
                "a column could not be read as text".into(),
            ));
        };
        out.extend((0..s.len()).map(|r| (!s.is_null(r)).then(|| s.value(r).to_string())));
    }
    Ok(out)
}

impl Engine {
    /// Runs a write to `dbguru.glossary` or `dbguru.examples`; returns the command tag and
    /// the rows it changed, or `Ok(None)` when `sql` is not such a write.
    pub async fn knowledge_write(
        &self,
        sql: &str,
        user: &UserConfig,
    ) -> Result<Option<(&'static str, u64)>, EngineError> {
        let Some(write) = parse(sql)? else {
            return Ok(None);
        };
        let table = match &write {
            Write::Insert { table, .. } | Write::Delete { table, .. } => *table,
        };
        if !user.admin {
            return Err(KnowledgeError::NotAdmin(table.name().into()).into());
        }
        let cap = self.config.limits.max_rows;
        match write {
            Write::Insert {
                table,
                columns,
                source,
            } => {
                let rows: Vec<Vec<Option<String>>> = match source {
                    Source::Values(rows) => rows,
                    Source::Query(q) => {
                        let (_, batches) = self.query_meta(&q, user, cap).await?;
                        let n = batches
                            .first()
                            .map(|b| b.num_columns())
                            .unwrap_or(columns.len());
                        let cols = (0..n)
                            .map(|i| column_text(&batches, i))
                            .collect::<Result<Vec<_>, _>>()?;
                        let len = cols.first().map(Vec::len).unwrap_or(0);
                        (0..len)
                            .map(|r| cols.iter().map(|c| c[r].clone()).collect())
                            .collect()
                    }
                };
                for r in &rows {
                    if r.len() != columns.len() {
                        return Err(KnowledgeError::Unsupported(format!(
                            "INSERT has {} expressions for {} target columns",
                            r.len(),
                            columns.len()
                        ))
                        .into());
                    }
                }
                let get = |r: &[Option<String>], c: &str| {
                    columns
                        .iter()
                        .position(|x| x == c)
                        .and_then(|i| r[i].clone())
                };
                let set = self.knowledge.snapshot();
                let n = rows.len() as u64;
                match table {
                    Table::Glossary => {
                        let mut all = set.glossary.clone();
                        let mut new = Vec::new();
                        for r in &rows {
                            let g = GlossaryEntry {
                                id: None,
                                term: get(r, "term").unwrap_or_default(),
                                definition: get(r, "definition").unwrap_or_default(),
                                connection: get(r, "connection"),
                                source: "store".into(),
                                created_by: None,
                                created_at: None,
                            };
                            let g = check_glossary(&self.config, Some(user), g, &all)?;
                            all.push(g.clone());
                            new.push(g);
                        }
                        self.store
                            .add_glossary(&new, &user.name)
                            .await
                            .map_err(KnowledgeError::from)?;
                    }
                    Table::Examples => {
                        let mut all = set.examples.clone();
                        let mut new = Vec::new();
                        for r in &rows {
                            let (connection, sql) =
                                from_history(get(r, "connection"), get(r, "sql"))?;
                            let e = ExampleEntry {
                                id: None,
                                question: get(r, "question").unwrap_or_default(),
                                connection: connection.unwrap_or_default(),
                                sql: sql.unwrap_or_default(),
                                source: "store".into(),
                                created_by: None,
                                created_at: None,
                            };
                            let e = check_example(&self.config, Some(user), e, &all)?;
                            all.push(e.clone());
                            new.push(e);
                        }
                        self.store
                            .add_examples(&new, &user.name)
                            .await
                            .map_err(KnowledgeError::from)?;
                    }
                }
                self.knowledge.refresh(&self.store).await?;
                tracing::info!(user = %user.name, table = table.name(), rows = n, "knowledge added");
                Ok(Some(("INSERT", n)))
            }
            Write::Delete { table, selection } => {
                let q = format!(
                    "SELECT id, source FROM dbguru.{}{}",
                    table.name(),
                    selection.map(|s| format!(" WHERE {s}")).unwrap_or_default()
                );
                let (_, batches) = self.query_meta(&q, user, usize::MAX).await?;
                let ids = column_text(&batches, 0)?;
                let sources = column_text(&batches, 1)?;
                if let Some(file) = sources.iter().flatten().find(|s| s.starts_with("file:")) {
                    return Err(KnowledgeError::Unsupported(format!(
                        "the entry comes from {}; edit that file to change it",
                        file.trim_start_matches("file:")
                    ))
                    .into());
                }
                let ids: Vec<i64> = ids
                    .iter()
                    .flatten()
                    .filter_map(|i| i.parse().ok())
                    .collect();
                match table {
                    Table::Glossary => self.store.delete_glossary(&ids).await,
                    Table::Examples => self.store.delete_examples(&ids).await,
                }
                .map_err(KnowledgeError::from)?;
                self.knowledge.refresh(&self.store).await?;
                tracing::info!(user = %user.name, table = table.name(), rows = ids.len(), "knowledge deleted");
                Ok(Some(("DELETE", ids.len() as u64)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_writes() {
        assert!(is_write(
            "INSERT INTO dbguru.glossary VALUES ('churn', 'x')"
        ));
        assert!(is_write("delete from DBGURU.\"examples\" where id = 3"));
        assert!(is_write("UPDATE dbguru.glossary SET term = 'x'"));
        assert!(!is_write("SELECT * FROM dbguru.glossary"));
        assert!(!is_write("INSERT INTO glossary VALUES ('a', 'b')"));
        assert!(!is_write("INSERT INTO shop.examples VALUES ('a', 'b')"));
        match parse("INSERT INTO dbguru.glossary (term, definition) VALUES ('churn', E'no order\\n90 days'), ('a', NULL)") {
            Ok(Some(Write::Insert { table: Table::Glossary, columns, source: Source::Values(rows) })) => {
                assert_eq!(columns, ["term", "definition"]);
                assert_eq!(rows[0][1].as_deref(), Some("no order\n90 days"));
                assert_eq!(rows[1][1], None);
            }
            other => panic!("{other:?}"),
        }
        match parse("INSERT INTO dbguru.examples SELECT question, 'shop', sql FROM dbguru.queries WHERE id = 4") {
            Ok(Some(Write::Insert { source: Source::Query(q), .. })) => {
                assert!(q.contains("FROM dbguru.queries"), "{q}")
            }
            other => panic!("{other:?}"),
        }
        for (sql, code) in [
            (
                "INSERT INTO dbguru.glossary (id, term) VALUES (1, 'a')",
                "428C9",
            ),
            ("INSERT INTO dbguru.glossary (nope) VALUES ('a')", "42703"),
            (
                "INSERT INTO dbguru.glossary VALUES ('a', 'b', NULL) RETURNING id",
                "0A000",
            ),
            (
                "INSERT INTO dbguru.glossary VALUES ('a', lower('b'), NULL)",
                "0A000",
            ),
            ("UPDATE dbguru.examples SET sql = 'x'", "0A000"),
            ("DELETE FROM dbguru.glossary USING dbguru.examples", "0A000"),
        ] {
            match parse(sql) {
                Err(e) => assert_eq!(e.sqlstate(), code, "{sql}: {e}"),
                Ok(w) => panic!("{sql}: {w:?}"),
            }
        }
    }
}
