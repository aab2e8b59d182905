//! The proxy's own state as tables: `dbguru.connections`, `dbguru.sessions`,
//! `dbguru.messages`, `dbguru.queries`, `dbguru.glossary`, `dbguru.examples` (the last
//! two also take INSERT and DELETE from admins: `knowledge::write`).
//!
//! The rows a user may see are loaded into a private in-memory SQLite database (schema
//! `dbguru`) and the user's statement runs there, so WHERE, ORDER BY, LIMIT, joins and
//! aggregates work like on any table.

use std::ops::ControlFlow;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::Value as SqlValue;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::{guard, Engine, EngineError};
use crate::backends::types::{BatchBuilder, ColType, Value};
use crate::backends::BackendError;
use crate::config::UserConfig;

/// Health of one connection, kept current by the background check.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// `up`, `down` or `unknown`.
    pub status: String,
    /// The last error, when down.
    pub error: Option<String>,
    /// When it was last checked.
    pub last_checked: Option<DateTime<Utc>>,
    /// Ping + introspection latency.
    pub latency_ms: Option<f64>,
    /// Tables seen.
    pub tables: Option<i64>,
    /// The database's own name.
    pub database: Option<String>,
}

/// Whether `sql` reads one of the `dbguru.*` tables.
pub fn references_meta(sql: &str) -> bool {
    // Fast path for the common case: most statements never mention the schema.
    if !sql.to_ascii_lowercase().contains("dbguru") {
        return false;
    }
    // Bounded before parsing; a statement past the bounds is claimed by name only (the
    // guard then refuses it with 54000/54001).
    if crate::sql::limits::check(sql).is_err() {
        return sql.to_ascii_lowercase().contains("dbguru.");
    }
    let Ok(stmts) = Parser::parse_sql(&PostgreSqlDialect {}, sql) else {
        return sql.to_ascii_lowercase().contains("dbguru.");
    };
    let mut found = false;
    for s in &stmts {
        let _ = sqlparser::ast::visit_relations(s, |r| {
            if r.0.len() == 2
                && r.0[0]
                    .to_string()
                    .trim_matches('"')
                    .eq_ignore_ascii_case("dbguru")
            {
                found = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        });
    }
    found
}

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

struct Tables {
    connections: Vec<Vec<SqlValue>>,
    sessions: Vec<Vec<SqlValue>>,
    messages: Vec<Vec<SqlValue>>,
    queries: Vec<Vec<SqlValue>>,
    glossary: Vec<Vec<SqlValue>>,
    examples: Vec<Vec<SqlValue>>,
}

const DDL: &str = "
CREATE TABLE dbguru.connections (id BIGINT, name TEXT, kind TEXT, database TEXT, status TEXT, error TEXT,
  last_checked TEXT, latency_ms DOUBLE, tables BIGINT, read_only BOOLEAN);
CREATE TABLE dbguru.sessions (id TEXT, name TEXT, owner TEXT, active_connection_ids TEXT, active_connections TEXT,
  created_at TEXT, updated_at TEXT, last_active_at TEXT, message_count BIGINT);
CREATE TABLE dbguru.messages (id BIGINT, chat_session_id TEXT, role TEXT, content TEXT, query_history_id BIGINT,
  databases_used TEXT, created_at TEXT);
CREATE TABLE dbguru.queries (id BIGINT, chat_session_id TEXT, question TEXT, sql TEXT, success BOOLEAN, rows BIGINT,
  ms DOUBLE, error TEXT, cached BOOLEAN, created_at TEXT);
CREATE TABLE dbguru.glossary (id BIGINT, term TEXT, definition TEXT, connection TEXT, source TEXT,
  created_by TEXT, created_at TEXT);
CREATE TABLE dbguru.examples (id BIGINT, question TEXT, connection TEXT, sql TEXT, source TEXT,
  created_by TEXT, created_at TEXT);";

fn t(s: impl Into<String>) -> SqlValue {
    SqlValue::Text(s.into())
}

fn ot(s: Option<String>) -> SqlValue {
    s.map(SqlValue::Text).unwrap_or(SqlValue::Null)
}

fn col_type(decl: Option<&str>, sample: Option<&SqlValue>) -> ColType {
    match decl.map(|d| d.to_ascii_uppercase()) {
        Some(d) if d.contains("BOOL") => ColType::Bool,
        Some(d) if d.contains("INT") => ColType::Int64,
        Some(d) if d.contains("DOUBLE") || d.contains("REAL") => ColType::Float64,
        Some(_) => ColType::Text,
        None => match sample {
            Some(SqlValue::Integer(_)) => ColType::Int64,
            Some(SqlValue::Real(_)) => ColType::Float64,
            _ => ColType::Text,
        },
    }
}

fn run(
    tables: Tables,
    sql: String,
    row_limit: usize,
) -> Result<(SchemaRef, Vec<RecordBatch>), BackendError> {
    let err = |e: rusqlite::Error| BackendError::query(e.to_string());
    let conn = rusqlite::Connection::open_in_memory().map_err(err)?;
    conn.execute_batch("ATTACH DATABASE ':memory:' AS dbguru;")
        .map_err(err)?;
    conn.execute_batch(DDL).map_err(err)?;
    for (table, rows) in [
        ("connections", &tables.connections),
        ("sessions", &tables.sessions),
        ("messages", &tables.messages),
        ("queries", &tables.queries),
        ("glossary", &tables.glossary),
        ("examples", &tables.examples),
    ] {
        let Some(first) = rows.first() else { continue };
        let marks = vec!["?"; first.len()].join(", ");
        let mut st = conn
            .prepare(&format!("INSERT INTO dbguru.{table} VALUES ({marks})"))
            .map_err(err)?;
        for r in rows {
            st.execute(rusqlite::params_from_iter(r.iter()))
                .map_err(err)?;
        }
    }
    conn.execute_batch("PRAGMA query_only = ON;").map_err(err)?;
    let mut st = conn.prepare(&sql).map_err(err)?;
    let names: Vec<String> = st.column_names().map(|s| s.to_string()).collect();
    let decls: Vec<Option<String>> = st
        .columns()
        .map(|c| c.decl_type().map(str::to_string))
        .collect();
    let n = names.len();
    let mut raw: Vec<Vec<SqlValue>> = Vec::new();
    let mut rows = st.query([]).map_err(err)?;
    while let Some(r) = rows.next().map_err(err)? {
        if raw.len() >= row_limit {
            break;
        }
        raw.push(
            (0..n)
                .map(|i| r.get::<_, SqlValue>(i))
                .collect::<Result<_, _>>()
                .map_err(err)?,
        );
    }
    let cols: Vec<(String, ColType)> = (0..n)
        .map(|i| {
            let sample = raw
                .iter()
                .map(|r| &r[i])
                .find(|v| !matches!(v, SqlValue::Null));
            (names[i].clone(), col_type(decls[i].as_deref(), sample))
        })
        .collect();
    let mut b = BatchBuilder::new(&cols);
    for r in raw {
        let vals = r
            .into_iter()
            .zip(cols.iter())
            .map(|(v, (_, ct))| match (v, ct) {
                (SqlValue::Null, _) => Value::Null,
                (SqlValue::Integer(i), ColType::Bool) => Value::Bool(i != 0),
                (SqlValue::Integer(i), ColType::Text) => Value::Text(i.to_string()),
                (SqlValue::Integer(i), _) => Value::Int(i),
                (SqlValue::Real(f), ColType::Text) => Value::Text(f.to_string()),
                (SqlValue::Real(f), _) => Value::Float(f),
                (SqlValue::Text(s), _) => Value::Text(s),
                (SqlValue::Blob(b), _) => Value::Text(String::from_utf8_lossy(&b).into_owned()),
            })
            .collect();
        b.push_row(vals)?;
    }
    let schema = b.schema();
    Ok((schema, vec![b.finish()?]))
}

impl Engine {
    /// Runs a read-only statement over the `dbguru.*` tables as `user` sees them.
    pub async fn query_meta(
        &self,
        sql: &str,
        user: &UserConfig,
        max_rows: usize,
    ) -> Result<(SchemaRef, Vec<RecordBatch>), EngineError> {
        let checked =
            guard::check(sql, crate::backends::Dialect::Sqlite, false, None).map_err(|error| {
                EngineError::Guard {
                    connection: "dbguru".into(),
                    error,
                }
            })?;
        let owner = (!user.admin).then_some(user.name.as_str());
        let store_err = |e: crate::store::StoreError| EngineError::Backend {
            connection: "dbguru".into(),
            error: BackendError::Other(e.to_string()),
        };
        let sessions = self.store.sessions(owner).await.map_err(store_err)?;
        let messages = self.store.messages(owner).await.map_err(store_err)?;
        let queries = self.store.queries(owner).await.map_err(store_err)?;
        let health = self.health_snapshot();
        let names_of = |ids: &[i64]| {
            ids.iter()
                .filter_map(|id| {
                    self.conns
                        .iter()
                        .find(|c| c.cfg.id() == *id)
                        .map(|c| c.cfg.name.clone())
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let knowledge = self.knowledge.snapshot();
        let visible = |c: Option<&str>| c.is_none_or(|c| c == "*" || user.may_use(c));
        let id = |i: Option<i64>| i.map(SqlValue::Integer).unwrap_or(SqlValue::Null);
        let tables = Tables {
            connections: self
                .conns
                .iter()
                .filter(|c| user.may_use(&c.cfg.name))
                .map(|c| {
                    let h = health.get(&c.cfg.name).cloned().unwrap_or_default();
                    vec![
                        SqlValue::Integer(c.cfg.id()),
                        t(c.cfg.name.clone()),
                        t(c.cfg.kind.name()),
                        ot(h.database),
                        t(if h.status.is_empty() {
                            "unknown".into()
                        } else {
                            h.status
                        }),
                        ot(h.error),
                        ot(h.last_checked.as_ref().map(ts)),
                        h.latency_ms.map(SqlValue::Real).unwrap_or(SqlValue::Null),
                        h.tables.map(SqlValue::Integer).unwrap_or(SqlValue::Null),
                        SqlValue::Integer(i64::from(c.cfg.read_only)),
                    ]
                })
                .collect(),
            sessions: sessions
                .iter()
                .map(|s| {
                    let count = messages.iter().filter(|m| m.session_id == s.id).count() as i64;
                    vec![
                        t(s.id.to_string()),
                        ot(s.name.clone()),
                        t(s.owner.clone()),
                        t(serde_json::to_string(&s.connection_ids).unwrap_or_default()),
                        t(names_of(&s.connection_ids)),
                        t(ts(&s.created_at)),
                        t(ts(&s.updated_at)),
                        t(ts(&s.last_active_at)),
                        SqlValue::Integer(count),
                    ]
                })
                .collect(),
            messages: messages
                .into_iter()
                .map(|m| {
                    vec![
                        SqlValue::Integer(m.id),
                        t(m.session_id.to_string()),
                        t(m.role),
                        t(m.content),
                        m.query_history_id
                            .map(SqlValue::Integer)
                            .unwrap_or(SqlValue::Null),
                        ot(m.databases_used),
                        t(m.created_at),
                    ]
                })
                .collect(),
            queries: queries
                .into_iter()
                .map(|q| {
                    vec![
                        SqlValue::Integer(q.id),
                        t(q.session_id.to_string()),
                        t(q.question),
                        t(q.sql),
                        SqlValue::Integer(i64::from(q.success)),
                        SqlValue::Integer(q.rows),
                        SqlValue::Real(q.ms),
                        ot(q.error),
                        SqlValue::Integer(i64::from(q.cached)),
                        t(q.created_at),
                    ]
                })
                .collect(),
            glossary: knowledge
                .glossary
                .iter()
                .filter(|g| visible(g.connection.as_deref()))
                .map(|g| {
                    vec![
                        id(g.id),
                        t(g.term.clone()),
                        t(g.definition.clone()),
                        ot(g.connection.clone()),
                        t(g.source.clone()),
                        ot(g.created_by.clone()),
                        ot(g.created_at.clone()),
                    ]
                })
                .collect(),
            examples: knowledge
                .examples
                .iter()
                .filter(|e| visible(Some(&e.connection)))
                .map(|e| {
                    vec![
                        id(e.id),
                        t(e.question.clone()),
                        t(e.connection.clone()),
                        t(e.sql.clone()),
                        t(e.source.clone()),
                        ot(e.created_by.clone()),
                        ot(e.created_at.clone()),
                    ]
                })
                .collect(),
        };
        let sql = checked.sql;
        tokio::task::spawn_blocking(move || run(tables, sql, max_rows))
            .await
            .map_err(|e| EngineError::Startup(e.to_string()))?
            .map_err(|error| EngineError::Backend {
                connection: "dbguru".into(),
                error,
            })
    }

    /// Pings every connection, updating `dbguru.connections` (tables from the schema
    /// cache).
    pub async fn check_health(self: &Arc<Self>) {
        let futs = self.conns.iter().map(|c| async move {
            let started = std::time::Instant::now();
            let r =
                tokio::time::timeout(std::time::Duration::from_secs(10), c.backend.ping()).await;
            let latency = started.elapsed().as_secs_f64() * 1000.0;
            // Tables come from the schema cache; the health check never introspects.
            let snap = self.peek_schema(&c.cfg.name);
            let h = match r {
                Ok(Ok(())) => Health {
                    status: "up".into(),
                    error: self
                        .schema_error(&c.cfg.name)
                        .map(|e| {
                            format!(
                                "schema introspection failed (the last schema read is kept): {e}"
                            )
                        })
                        .or_else(|| snap.as_ref().and_then(|s| s.left_out.clone())),
                    last_checked: Some(Utc::now()),
                    latency_ms: Some(latency),
                    tables: snap.as_ref().map(|s| s.schema.tables.len() as i64),
                    database: snap.as_ref().map(|s| s.schema.database.clone()),
                },
                Ok(Err(e)) => Health {
                    status: "down".into(),
                    error: Some(e.to_string()),
                    last_checked: Some(Utc::now()),
                    ..Default::default()
                },
                Err(_) => Health {
                    status: "down".into(),
                    error: Some("health check timed out".into()),
                    last_checked: Some(Utc::now()),
                    ..Default::default()
                },
            };
            (c.cfg.name.clone(), h)
        });
        let results = futures::future::join_all(futs).await;
        if let Ok(mut m) = self.health.lock() {
            for (name, h) in results {
                if h.status != "up" {
                    tracing::warn!(connection = %name, error = ?h.error, "connection is down");
                }
                m.insert(name, h);
            }
        }
    }

    /// The schemas `user` may browse: every permitted connection (from the schema cache;
    /// one never read and unreachable now is left out) and the proxy's own `dbguru` tables.
    pub async fn catalog(&self, user: &UserConfig) -> Vec<(String, crate::backends::SchemaInfo)> {
        use crate::backends::{ColumnInfo, SchemaInfo, TableInfo};
        let futs = self
            .conns
            .iter()
            .filter(|c| user.may_use(&c.cfg.name))
            .map(|c| async move { (c.cfg.name.clone(), self.cached_schema(c).await) });
        let mut out: Vec<(String, SchemaInfo)> = futures::future::join_all(futs)
            .await
            .into_iter()
            .filter_map(|(n, r)| match r {
                Ok((s, _)) => Some((n, SchemaInfo::clone(&s.schema))),
                Err(e) => {
                    tracing::debug!(connection = %n, error = %e, "left out of the catalog");
                    None
                }
            })
            .collect();
        // The dbguru.* tables, with the column types their DDL declares.
        let mut tables = Vec::new();
        for stmt in DDL.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let Some(rest) = stmt.strip_prefix("CREATE TABLE dbguru.") else {
                continue;
            };
            let Some((name, cols)) = rest.split_once('(') else {
                continue;
            };
            let columns = cols
                .trim_end_matches(')')
                .split(',')
                .filter_map(|c| {
                    let mut parts = c.split_whitespace();
                    let n = parts.next()?;
                    let t = parts.next()?;
                    Some(ColumnInfo {
                        name: n.into(),
                        data_type: t.to_ascii_lowercase(),
                        primary_key: n == "id",
                        nullable: n != "id",
                        ..Default::default()
                    })
                })
                .collect();
            tables.push(TableInfo {
                name: name.trim().into(),
                columns,
                ..Default::default()
            });
        }
        out.push((
            "dbguru".into(),
            SchemaInfo {
                database: "dbguru".into(),
                tables,
            },
        ));
        out
    }

    fn health_snapshot(&self) -> std::collections::HashMap<String, Health> {
        self.health.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_meta_references() {
        assert!(references_meta("SELECT * FROM dbguru.sessions"));
        assert!(references_meta(
            "select count(*) from DBGURU.queries q where q.cached"
        ));
        assert!(!references_meta("SELECT * FROM customers"));
        assert!(!references_meta("SELECT 'dbguru.sessions'"));
    }
}
