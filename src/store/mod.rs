//! The metadata store: chat sessions, their messages, the query history, and the
//! business knowledge (glossary and example questions) admins add.
//!
//! SQLite file by default (`[store] path`), PostgreSQL when several proxies share
//! state (`[store] url`), an in-memory SQLite database when neither is set. Versioned
//! migrations run at start. Timestamps are RFC 3339 text; lists and per-database
//! details are JSON text, so both databases share one set of statements.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::{Config, StoreConfig};

mod chat;
mod knowledge;
mod migrations;

pub use knowledge::{ExampleEntry, GlossaryEntry};
use migrations::{MIGRATIONS_POSTGRES, MIGRATIONS_SQLITE};

/// Store errors. Messages never contain the store URL.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or answered with an error.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be read back.
    #[error("store data corrupt: {0}")]
    Corrupt(String),
}

/// One chat session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// Session id.
    pub id: Uuid,
    /// Display name.
    pub name: Option<String>,
    /// Owning user.
    pub owner: String,
    /// Active connection ids.
    pub connection_ids: Vec<i64>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Last asked.
    pub last_active_at: DateTime<Utc>,
}

/// What one database contributed to an answer (the `databases_used` JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseUsed {
    /// Connection id.
    pub conn_id: i64,
    /// Connection name.
    pub name: String,
    /// SQL that ran.
    pub sql: String,
    /// Rows returned.
    pub rows: u64,
    /// Milliseconds.
    pub ms: f64,
    /// Error, when it failed.
    pub error: Option<String>,
}

/// One answered (or failed) ASK, as written to the store.
#[derive(Debug, Clone)]
pub struct AskRecord {
    /// Session it belongs to (upserted first).
    pub session: SessionRecord,
    /// The question.
    pub question: String,
    /// Per-database outcome.
    pub databases: Vec<DatabaseUsed>,
    /// Whether an answer came back.
    pub success: bool,
    /// Total rows.
    pub rows: u64,
    /// Total milliseconds.
    pub ms: f64,
    /// The error, when it failed.
    pub error: Option<String>,
    /// Whether the plan or result came from cache.
    pub cached: bool,
}

/// One stored message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    /// Message id.
    pub id: i64,
    /// Session.
    pub session_id: Uuid,
    /// `user`, `assistant` or `system`.
    pub role: String,
    /// Text.
    pub content: String,
    /// The query history row it belongs to.
    pub query_history_id: Option<i64>,
    /// JSON list of [`DatabaseUsed`] (assistant messages).
    pub databases_used: Option<String>,
    /// Created.
    pub created_at: String,
}

/// One stored query-history row.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRecord {
    /// Row id.
    pub id: i64,
    /// Session.
    pub session_id: Uuid,
    /// Question.
    pub question: String,
    /// JSON list of [`DatabaseUsed`].
    pub sql: String,
    /// Success.
    pub success: bool,
    /// Rows.
    pub rows: i64,
    /// Milliseconds.
    pub ms: f64,
    /// Error.
    pub error: Option<String>,
    /// Cached.
    pub cached: bool,
    /// Created.
    pub created_at: String,
}

/// A stored session with its earlier turns (question and the SQL per database).
#[derive(Debug, Clone)]
pub struct LoadedSession {
    /// The session.
    pub session: SessionRecord,
    /// Successful turns, oldest first: (question, [(connection name, sql)]).
    pub turns: Vec<(String, Vec<(String, String)>)>,
}

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

const UPSERT_SESSION: &str = "INSERT INTO chat_sessions (id, name, owner, active_connection_ids, created_at, updated_at, last_active_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, active_connection_ids = excluded.active_connection_ids,
        updated_at = excluded.updated_at, last_active_at = excluded.last_active_at";
const INSERT_QUERY: &str = "INSERT INTO query_history (chat_session_id, question, sql, success, rows, ms, error, cached, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
const INSERT_MESSAGE: &str = "INSERT INTO chat_messages (chat_session_id, role, content, query_history_id, databases_used, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)";
const SELECT_SESSIONS: &str = "SELECT id, name, owner, active_connection_ids, created_at, updated_at, last_active_at FROM chat_sessions";
const SELECT_MESSAGES: &str = "SELECT m.id, m.chat_session_id, m.role, m.content, m.query_history_id, m.databases_used, m.created_at
     FROM chat_messages m JOIN chat_sessions s ON s.id = m.chat_session_id";
const SELECT_QUERIES: &str = "SELECT q.id, q.chat_session_id, q.question, q.sql, q.success, q.rows, q.ms, q.error, q.cached, q.created_at
     FROM query_history q JOIN chat_sessions s ON s.id = q.chat_session_id";

/// A value bound to a statement.
#[derive(Debug, Clone)]
enum P {
    T(String),
    OptT(Option<String>),
    I(i64),
    OptI(Option<i64>),
    F(f64),
}

/// A row read back.
type Row = Vec<Option<String>>;

enum Inner {
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    Postgres(deadpool_postgres::Pool),
}

/// The store.
pub struct Store {
    inner: Inner,
    kind: &'static str,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("kind", &self.kind).finish()
    }
}

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn pg_err(e: impl std::fmt::Display) -> StoreError {
    // tokio-postgres errors do not carry the URL; pool errors might name the host only.
    StoreError::Unavailable(e.to_string())
}

impl Store {
    /// Opens the configured store and applies migrations.
    pub async fn open(cfg: &StoreConfig, config: &Config) -> Result<Store, StoreError> {
        match (&cfg.url, &cfg.path) {
            (Some(url), _) => {
                let pg: tokio_postgres::Config =
                    url.parse().map_err(|e: tokio_postgres::Error| {
                        StoreError::Unavailable(format!("invalid store url: {e}"))
                    })?;
                let mgr = deadpool_postgres::Manager::from_config(
                    pg,
                    tokio_postgres::NoTls,
                    deadpool_postgres::ManagerConfig {
                        recycling_method: deadpool_postgres::RecyclingMethod::Fast,
                    },
                );
                let pool = deadpool_postgres::Pool::builder(mgr)
                    .max_size(16)
                    .wait_timeout(Some(std::time::Duration::from_secs(5)))
                    .create_timeout(Some(std::time::Duration::from_secs(5)))
                    .runtime(deadpool_postgres::Runtime::Tokio1)
                    .build()
                    .map_err(pg_err)?;
                let store = Store {
                    inner: Inner::Postgres(pool),
                    kind: "postgres",
                };
                store.migrate().await?;
                Ok(store)
            }
            (None, Some(path)) => {
                let path = config.resolve(path);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
                }
                let conn = rusqlite::Connection::open(&path).map_err(sqlite_err)?;
                conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")
                    .map_err(sqlite_err)?;
                let store = Store {
                    inner: Inner::Sqlite(Arc::new(Mutex::new(conn))),
                    kind: "sqlite",
                };
                store.migrate().await?;
                Ok(store)
            }
            (None, None) => Store::memory().await,
        }
    }

    /// An in-memory store (history lives as long as the process).
    pub async fn memory() -> Result<Store, StoreError> {
        let conn = rusqlite::Connection::open_in_memory().map_err(sqlite_err)?;
        let store = Store {
            inner: Inner::Sqlite(Arc::new(Mutex::new(conn))),
            kind: "memory",
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match &self.inner {
            Inner::Sqlite(c) => {
                let c = c.clone();
                tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
                    let mut conn = c.lock().map_err(|_| StoreError::Unavailable("store lock poisoned".into()))?;
                    let tx = conn.transaction().map_err(sqlite_err)?;
                    tx.execute_batch("CREATE TABLE IF NOT EXISTS dbguru_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
                        .map_err(sqlite_err)?;
                    let done: i64 = tx
                        .query_row("SELECT coalesce(max(version), 0) FROM dbguru_migrations", [], |r| r.get(0))
                        .map_err(sqlite_err)?;
                    for (i, m) in MIGRATIONS_SQLITE.iter().enumerate().skip(done as usize) {
                        tx.execute_batch(m).map_err(sqlite_err)?;
                        tx.execute(
                            "INSERT INTO dbguru_migrations (version, applied_at) VALUES (?1, ?2)",
                            rusqlite::params![i as i64 + 1, ts(&Utc::now())],
                        )
                        .map_err(sqlite_err)?;
                    }
                    tx.commit().map_err(sqlite_err)
                })
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?
            }
            Inner::Postgres(pool) => {
                let mut client = pool.get().await.map_err(pg_err)?;
                let tx = client.transaction().await.map_err(pg_err)?;
                // Serialize concurrent starts of several proxies.
                tx.batch_execute("SELECT pg_advisory_xact_lock(727272); CREATE TABLE IF NOT EXISTS dbguru_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)")
                    .await
                    .map_err(pg_err)?;
                let done: i64 = tx
                    .query_one(
                        "SELECT coalesce(max(version), 0)::bigint FROM dbguru_migrations",
                        &[],
                    )
                    .await
                    .map_err(pg_err)?
                    .get(0);
                for (i, m) in MIGRATIONS_POSTGRES.iter().enumerate().skip(done as usize) {
                    tx.batch_execute(m).await.map_err(pg_err)?;
                    tx.execute(
                        "INSERT INTO dbguru_migrations (version, applied_at) VALUES ($1, $2)",
                        &[&(i as i64 + 1), &ts(&Utc::now())],
                    )
                    .await
                    .map_err(pg_err)?;
                }
                tx.commit().await.map_err(pg_err)
            }
        }
    }

    /// Runs statements in one transaction; returns the first column of each statement's
    /// first row (for `RETURNING id`). A parameter `P::I(-1)` placed in a later statement is
    /// replaced by the id returned by the previous one.
    async fn write(
        &self,
        stmts: Vec<(&'static str, Vec<P>)>,
    ) -> Result<Vec<Option<i64>>, StoreError> {
        match &self.inner {
            Inner::Sqlite(c) => {
                let c = c.clone();
                tokio::task::spawn_blocking(move || -> Result<Vec<Option<i64>>, StoreError> {
                    let mut conn = c
                        .lock()
                        .map_err(|_| StoreError::Unavailable("store lock poisoned".into()))?;
                    let tx = conn.transaction().map_err(sqlite_err)?;
                    let mut out: Vec<Option<i64>> = Vec::new();
                    for (sql, params) in stmts {
                        let last = out.iter().rev().find_map(|x| *x);
                        let values: Vec<rusqlite::types::Value> =
                            params.into_iter().map(|p| sqlite_value(p, last)).collect();
                        let mut st = tx.prepare_cached(sql).map_err(sqlite_err)?;
                        let mut rows = st
                            .query(rusqlite::params_from_iter(values))
                            .map_err(sqlite_err)?;
                        let id = match rows.next().map_err(sqlite_err)? {
                            Some(r) => r.get::<_, i64>(0).ok(),
                            None => None,
                        };
                        out.push(id);
                    }
                    tx.commit().map_err(sqlite_err)?;
                    Ok(out)
                })
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?
            }
            Inner::Postgres(pool) => {
                let mut client = pool.get().await.map_err(pg_err)?;
                let tx = client.transaction().await.map_err(pg_err)?;
                let mut out: Vec<Option<i64>> = Vec::new();
                for (sql, params) in stmts {
                    let last = out.iter().rev().find_map(|x| *x);
                    let boxed: Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>> =
                        params.into_iter().map(|p| pg_value(p, last)).collect();
                    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = boxed
                        .iter()
                        .map(|b| b.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
                        .collect();
                    let rows = tx.query(sql, &refs).await.map_err(pg_err)?;
                    out.push(rows.first().and_then(|r| r.try_get::<_, i64>(0).ok()));
                }
                tx.commit().await.map_err(pg_err)?;
                Ok(out)
            }
        }
    }

    /// Reads rows as text (`sql` with `$1`.. parameters, all text).
    async fn read(&self, sql: String, params: Vec<String>) -> Result<Vec<Row>, StoreError> {
        match &self.inner {
            Inner::Sqlite(c) => {
                let c = c.clone();
                tokio::task::spawn_blocking(move || -> Result<Vec<Row>, StoreError> {
                    let conn = c
                        .lock()
                        .map_err(|_| StoreError::Unavailable("store lock poisoned".into()))?;
                    let mut st = conn.prepare_cached(&sql).map_err(sqlite_err)?;
                    let n = st.column_count();
                    let mut rows = st
                        .query(rusqlite::params_from_iter(params))
                        .map_err(sqlite_err)?;
                    let mut out = Vec::new();
                    while let Some(r) = rows.next().map_err(sqlite_err)? {
                        let mut row = Vec::with_capacity(n);
                        for i in 0..n {
                            row.push(match r.get_ref(i).map_err(sqlite_err)? {
                                rusqlite::types::ValueRef::Null => None,
                                rusqlite::types::ValueRef::Integer(v) => Some(v.to_string()),
                                rusqlite::types::ValueRef::Real(v) => Some(v.to_string()),
                                rusqlite::types::ValueRef::Text(t)
                                | rusqlite::types::ValueRef::Blob(t) => {
                                    Some(String::from_utf8_lossy(t).into_owned())
                                }
                            });
                        }
                        out.push(row);
                    }
                    Ok(out)
                })
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?
            }
            Inner::Postgres(pool) => {
                let client = pool.get().await.map_err(pg_err)?;
                // Cast every column to text so one reader serves both stores.
                let wrapped = format!("SELECT * FROM ({sql}) AS q");
                let stmt = client.prepare(&wrapped).await.map_err(pg_err)?;
                let cols: Vec<String> = stmt
                    .columns()
                    .iter()
                    .map(|c| format!("q.\"{}\"::text", c.name()))
                    .collect();
                let text_sql = format!("SELECT {} FROM ({sql}) AS q", cols.join(", "));
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                let rows = client.query(&text_sql, &refs).await.map_err(pg_err)?;
                Ok(rows
                    .iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| r.get::<_, Option<String>>(i))
                            .collect()
                    })
                    .collect())
            }
        }
    }

    fn session_params(s: &SessionRecord) -> Vec<P> {
        vec![
            P::T(s.id.to_string()),
            P::OptT(s.name.clone()),
            P::T(s.owner.clone()),
            P::T(serde_json::to_string(&s.connection_ids).unwrap_or_else(|_| "[]".into())),
            P::T(ts(&s.created_at)),
            P::T(ts(&s.updated_at)),
            P::T(ts(&s.last_active_at)),
        ]
    }

    /// Creates or updates a session row.
    pub async fn save_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.write(vec![(UPSERT_SESSION, Self::session_params(s))])
            .await
            .map(|_| ())
    }

    /// Writes one ASK: the session, the query-history row, the user and assistant messages.
    pub async fn record_ask(&self, r: &AskRecord) -> Result<i64, StoreError> {
        let now = ts(&Utc::now());
        let used = serde_json::to_string(&r.databases).unwrap_or_else(|_| "[]".into());
        let summary = match &r.error {
            Some(e) => format!("Failed: {e}"),
            None => format!(
                "Queried {} database(s), returned {} rows",
                r.databases.len(),
                r.rows
            ),
        };
        let sid = r.session.id.to_string();
        let ids = self
            .write(vec![
                (UPSERT_SESSION, Self::session_params(&r.session)),
                (
                    INSERT_QUERY,
                    vec![
                        P::T(sid.clone()),
                        P::T(r.question.clone()),
                        P::T(used.clone()),
                        P::I(i64::from(r.success)),
                        P::I(r.rows as i64),
                        P::F(r.ms),
                        P::OptT(r.error.clone()),
                        P::I(i64::from(r.cached)),
                        P::T(now.clone()),
                    ],
                ),
                (
                    INSERT_MESSAGE,
                    vec![
                        P::T(sid.clone()),
                        P::T("user".into()),
                        P::T(r.question.clone()),
                        P::OptI(None),
                        P::OptT(None),
                        P::T(now.clone()),
                    ],
                ),
                (
                    INSERT_MESSAGE,
                    vec![
                        P::T(sid),
                        P::T("assistant".into()),
                        P::T(summary),
                        P::I(-1),
                        P::OptT(Some(used)),
                        P::T(now),
                    ],
                ),
            ])
            .await?;
        ids.get(1)
            .copied()
            .flatten()
            .ok_or_else(|| StoreError::Corrupt("no query id returned".into()))
    }

    fn owner_filter(
        base: &str,
        alias: &str,
        owner: Option<&str>,
        session: Option<Uuid>,
    ) -> (String, Vec<String>) {
        let mut sql = base.to_string();
        let mut params = Vec::new();
        let mut conds = Vec::new();
        if let Some(o) = owner {
            params.push(o.to_string());
            conds.push(format!("{alias}owner = ${}", params.len()));
        }
        if let Some(s) = session {
            params.push(s.to_string());
            conds.push(format!("{alias}id = ${}", params.len()));
        }
        if !conds.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
        (sql, params)
    }

    fn session_from_row(r: &Row) -> Result<SessionRecord, StoreError> {
        let get = |i: usize| {
            r.get(i)
                .cloned()
                .flatten()
                .ok_or_else(|| StoreError::Corrupt(format!("chat_sessions column {i} is NULL")))
        };
        Ok(SessionRecord {
            id: Uuid::parse_str(&get(0)?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            name: r.get(1).cloned().flatten(),
            owner: get(2)?,
            connection_ids: serde_json::from_str(&get(3)?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created_at: parse_ts(&get(4)?)?,
            updated_at: parse_ts(&get(5)?)?,
            last_active_at: parse_ts(&get(6)?)?,
        })
    }

    /// Sessions, all or one owner's, newest activity first.
    pub async fn sessions(&self, owner: Option<&str>) -> Result<Vec<SessionRecord>, StoreError> {
        let (mut sql, params) = Self::owner_filter(SELECT_SESSIONS, "", owner, None);
        sql.push_str(" ORDER BY last_active_at DESC");
        self.read(sql, params)
            .await?
            .iter()
            .map(Self::session_from_row)
            .collect()
    }

    /// Messages of all sessions, or one owner's, in order.
    pub async fn messages(&self, owner: Option<&str>) -> Result<Vec<MessageRecord>, StoreError> {
        let (mut sql, params) = Self::owner_filter(SELECT_MESSAGES, "s.", owner, None);
        sql.push_str(" ORDER BY m.id");
        self.read(sql, params)
            .await?
            .into_iter()
            .map(|r| {
                Ok(MessageRecord {
                    id: r
                        .first()
                        .cloned()
                        .flatten()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or_default(),
                    session_id: r
                        .get(1)
                        .cloned()
                        .flatten()
                        .and_then(|v| Uuid::parse_str(&v).ok())
                        .unwrap_or_default(),
                    role: r.get(2).cloned().flatten().unwrap_or_default(),
                    content: r.get(3).cloned().flatten().unwrap_or_default(),
                    query_history_id: r.get(4).cloned().flatten().and_then(|v| v.parse().ok()),
                    databases_used: r.get(5).cloned().flatten(),
                    created_at: r.get(6).cloned().flatten().unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Query history of all sessions, or one owner's, in order.
    pub async fn queries(&self, owner: Option<&str>) -> Result<Vec<QueryRecord>, StoreError> {
        let (mut sql, params) = Self::owner_filter(SELECT_QUERIES, "s.", owner, None);
        sql.push_str(" ORDER BY q.id");
        self.read(sql, params)
            .await?
            .into_iter()
            .map(|r| {
                let s = |i: usize| r.get(i).cloned().flatten();
                let flag = |i: usize| s(i).is_some_and(|v| v != "0" && v != "false");
                Ok(QueryRecord {
                    id: s(0).and_then(|v| v.parse().ok()).unwrap_or_default(),
                    session_id: s(1)
                        .and_then(|v| Uuid::parse_str(&v).ok())
                        .unwrap_or_default(),
                    question: s(2).unwrap_or_default(),
                    sql: s(3).unwrap_or_default(),
                    success: flag(4),
                    rows: s(5).and_then(|v| v.parse().ok()).unwrap_or_default(),
                    ms: s(6).and_then(|v| v.parse().ok()).unwrap_or_default(),
                    error: s(7),
                    cached: flag(8),
                    created_at: s(9).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Loads a session and its successful turns.
    pub async fn load_session(&self, id: Uuid) -> Result<Option<LoadedSession>, StoreError> {
        let (sql, params) = Self::owner_filter(SELECT_SESSIONS, "", None, Some(id));
        let rows = self.read(sql, params).await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let session = Self::session_from_row(row)?;
        let turns = self
            .read(
                "SELECT question, sql FROM query_history WHERE chat_session_id = $1 AND success = 1 ORDER BY id".into(),
                vec![id.to_string()],
            )
            .await?
            .into_iter()
            .filter_map(|r| {
                let q = r.first().cloned().flatten()?;
                let used: Vec<DatabaseUsed> = serde_json::from_str(&r.get(1).cloned().flatten()?).ok()?;
                Some((q, used.into_iter().filter(|d| d.error.is_none()).map(|d| (d.name, d.sql)).collect()))
            })
            .collect();
        Ok(Some(LoadedSession { session, turns }))
    }

    /// `sqlite`, `postgres` or `memory`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

fn sqlite_value(p: P, last: Option<i64>) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match p {
        P::T(s) => V::Text(s),
        P::OptT(s) => s.map(V::Text).unwrap_or(V::Null),
        P::I(-1) => last.map(V::Integer).unwrap_or(V::Null),
        P::I(i) => V::Integer(i),
        P::OptI(i) => i.map(V::Integer).unwrap_or(V::Null),
        P::F(f) => V::Real(f),
    }
}

fn pg_value(p: P, last: Option<i64>) -> Box<dyn tokio_postgres::types::ToSql + Sync + Send> {
    match p {
        P::T(s) => Box::new(s),
        P::OptT(s) => Box::new(s),
        P::I(-1) => Box::new(last),
        P::I(i) => Box::new(i),
        P::OptI(i) => Box::new(i),
        P::F(f) => Box::new(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(owner: &str) -> SessionRecord {
        let now = Utc::now();
        SessionRecord {
            id: Uuid::new_v4(),
            name: Some("t".into()),
            owner: owner.into(),
            connection_ids: vec![1, 2],
            created_at: now,
            updated_at: now,
            last_active_at: now,
        }
    }

    #[tokio::test]
    async fn memory_store_round_trips_asks() {
        let store = Store::memory().await.expect("store");
        let s = session("alice");
        let rec = AskRecord {
            session: s.clone(),
            question: "how many?".into(),
            databases: vec![DatabaseUsed {
                conn_id: 1,
                name: "shop".into(),
                sql: "SELECT 1".into(),
                rows: 1,
                ms: 2.0,
                error: None,
            }],
            success: true,
            rows: 1,
            ms: 3.0,
            error: None,
            cached: false,
        };
        let qid = store.record_ask(&rec).await.expect("record");
        let loaded = store
            .load_session(s.id)
            .await
            .expect("load")
            .expect("exists");
        assert_eq!(loaded.session.connection_ids, vec![1, 2]);
        assert_eq!(
            loaded.turns,
            vec![(
                "how many?".to_string(),
                vec![("shop".to_string(), "SELECT 1".to_string())]
            )]
        );
        let msgs = store.messages(Some("alice")).await.expect("messages");
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[1].query_history_id, Some(qid));
        assert!(store
            .messages(Some("bob"))
            .await
            .expect("messages")
            .is_empty());
        assert_eq!(store.queries(None).await.expect("queries").len(), 1);
        assert!(store
            .load_session(Uuid::new_v4())
            .await
            .expect("load")
            .is_none());
    }
}
