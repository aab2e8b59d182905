//! Request and response bodies of the HTTP API, with the field names of the reference
//! guide (`active_connection_ids`, `database_results`, `databases_used`, …).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A connection named by its numeric id (as in the guide) or by its name.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ConnRef {
    /// `[[connections]] id`.
    Id(i64),
    /// `[[connections]] name`.
    Name(String),
}

impl ConnRef {
    /// As text for the session's resolver (ids are matched as ids, names as names).
    pub fn text(&self) -> String {
        match self {
            ConnRef::Id(i) => i.to_string(),
            ConnRef::Name(n) => n.clone(),
        }
    }
}

/// `POST /api/chat/sessions`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateSession {
    /// Display name. Default: the first question.
    #[serde(default)]
    pub name: Option<String>,
    /// Active connections. Default: every connection the user may use.
    #[serde(default)]
    pub connection_ids: Option<Vec<ConnRef>>,
    /// Owner: the authenticated user (an admin may name another user).
    #[serde(default)]
    pub user_id: Option<String>,
}

/// `PATCH /api/chat/sessions/{id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PatchSession {
    /// New display name.
    #[serde(default)]
    pub name: Option<String>,
    /// New active connections (replaces the list).
    #[serde(default)]
    pub connection_ids: Option<Vec<ConnRef>>,
}

/// A connection as shown inside a session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectionRef {
    /// Connection id.
    pub id: i64,
    /// Connection name.
    pub name: String,
    /// `postgresql`, `mysql`, `sqlite`, `duckdb` or `mongodb`.
    pub database_type: String,
    /// The database's own name (file path for SQLite/DuckDB).
    pub database_name: String,
}

/// A chat session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionOut {
    /// UUID; `SET dbguru.session = '<id>'` resumes it over the PostgreSQL wire.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Owning user.
    pub user_id: String,
    /// Active connection ids.
    pub active_connection_ids: Vec<i64>,
    /// The active connections.
    pub connections: Vec<ConnectionRef>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// RFC 3339.
    pub last_active_at: String,
    /// Messages so far (two per question).
    pub message_count: i64,
}

/// One stored message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageOut {
    /// Message id.
    pub id: i64,
    /// Session id.
    pub chat_session_id: String,
    /// `user`, `assistant` or `system`.
    pub role: String,
    /// The question, or a summary of the answer.
    pub content: String,
    /// The query-history row (assistant messages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_history_id: Option<i64>,
    /// Per database: `conn_id`, `name`, `sql`, `rows`, `ms`, `error` (assistant messages).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub databases_used: Option<Value>,
    /// RFC 3339.
    pub created_at: String,
}

fn default_true() -> bool {
    true
}

/// `POST /api/multi-query/` (and `/api/multi-query/stream`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct MultiQueryRequest {
    /// The question in plain language.
    pub question: String,
    /// Continue this chat session (its connections and history).
    #[serde(default)]
    pub chat_session_id: Option<String>,
    /// Ask exactly these connections (without a session: a new session is made for them).
    /// Without both: the user's default connections.
    #[serde(default)]
    pub connection_ids: Option<Vec<ConnRef>>,
    /// Allow writes (only for users with `may_write`, on connections with `read_only = false`).
    #[serde(default)]
    pub allow_write: bool,
    /// Use the plan and result caches. Default true.
    #[serde(default = "default_true")]
    pub use_cache: bool,
    /// Rows per database (at most `[limits] max_rows`).
    #[serde(default)]
    pub max_rows: Option<usize>,
    /// Statement timeout per database, in seconds (at most `[limits] timeout`).
    #[serde(default)]
    pub timeout_seconds: Option<f64>,
}

/// `POST /api/query/`: one connection (the guide's compatibility endpoint).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct QueryRequest {
    /// The question in plain language.
    pub question: String,
    /// The connection. Default: the user's first connection.
    #[serde(default)]
    pub connection_id: Option<ConnRef>,
    /// Continue this chat session.
    #[serde(default)]
    pub chat_session_id: Option<String>,
    /// Allow writes (as in multi-query).
    #[serde(default)]
    pub allow_write: bool,
    /// Use the caches. Default true.
    #[serde(default = "default_true")]
    pub use_cache: bool,
}

/// What one database returned.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DatabaseResult {
    /// Connection id.
    pub connection_id: i64,
    /// Connection name (the `source_db` of its rows).
    pub connection_name: String,
    /// `postgresql`, `mysql`, `sqlite`, `duckdb` or `mongodb`.
    pub database_type: String,
    /// The SQL that ran.
    pub sql: String,
    /// Whether it ran.
    pub success: bool,
    /// Its rows, as objects.
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<Map<String, Value>>,
    /// Rows returned.
    pub row_count: usize,
    /// Milliseconds.
    pub execution_time_ms: f64,
    /// The error, when it failed.
    pub error: Option<String>,
}

/// A notice of the answer (`WARNING` or `NOTICE`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoticeOut {
    /// `WARNING` or `NOTICE`.
    pub severity: String,
    /// SQLSTATE.
    pub code: String,
    /// Text.
    pub message: String,
}

/// The answer of `POST /api/multi-query/`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MultiQueryResponse {
    /// The query-history row (`null` when the store could not be written).
    pub query_id: Option<i64>,
    /// The question.
    pub question: String,
    /// The chat session the turn belongs to (new when none was given).
    pub chat_session_id: String,
    /// Per database.
    pub database_results: Vec<DatabaseResult>,
    /// Databases asked.
    pub total_databases_queried: usize,
    /// Rows over all databases.
    pub total_rows: usize,
    /// Wall time of the whole answer (LLM included), milliseconds.
    pub total_execution_time_ms: f64,
    /// Warnings (a database that failed, history not saved).
    pub warnings: Vec<String>,
    /// Every notice, warnings included.
    pub notices: Vec<NoticeOut>,
    /// Whether the plan or the answer came from cache.
    pub cached: bool,
    /// RFC 3339.
    pub timestamp: String,
    /// Columns of the combined result: `source_db` first.
    pub columns: Vec<String>,
    /// Rows of the combined result, in column order.
    #[schema(value_type = Vec<Vec<Object>>)]
    pub rows: Vec<Vec<Value>>,
}

/// The answer of `POST /api/query/`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueryResponse {
    /// The query-history row.
    pub query_id: Option<i64>,
    /// The question.
    pub question: String,
    /// The chat session the turn belongs to.
    pub chat_session_id: String,
    /// Connection id.
    pub connection_id: i64,
    /// Connection name.
    pub connection_name: String,
    /// Database type.
    pub database_type: String,
    /// The SQL that ran.
    pub sql: String,
    /// Whether it ran.
    pub success: bool,
    /// Rows as objects.
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<Map<String, Value>>,
    /// Rows returned.
    pub row_count: usize,
    /// Milliseconds.
    pub execution_time_ms: f64,
    /// The error, when it failed.
    pub error: Option<String>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// From cache.
    pub cached: bool,
    /// RFC 3339.
    pub timestamp: String,
}

/// A configured connection with its health.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectionOut {
    /// Connection id.
    pub id: i64,
    /// Connection name.
    pub name: String,
    /// Database type.
    pub database_type: String,
    /// The database's own name (file path for SQLite/DuckDB).
    pub database_name: String,
    /// `up`, `down` or `unknown` (before the first check).
    pub status: String,
    /// The last error, when down.
    pub error: Option<String>,
    /// RFC 3339 of the last check.
    pub last_checked: Option<String>,
    /// Ping + introspection latency.
    pub latency_ms: Option<f64>,
    /// Tables seen.
    pub tables: Option<i64>,
    /// Read-only connection.
    pub read_only: bool,
    /// Description from the configuration.
    pub description: Option<String>,
}

/// `GET /api/health`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HealthOut {
    /// `ok`.
    pub status: String,
    /// dbguru version.
    pub version: String,
    /// `sqlite`, `postgres` or `memory`.
    pub store: String,
    /// Configured connections.
    pub connections: usize,
    /// Connections whose last check succeeded.
    pub connections_up: usize,
}

/// `GET /api/chat/sessions` query string.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// Owner (default: the authenticated user; another user's needs `admin`).
    #[serde(default)]
    pub user_id: Option<String>,
    /// Most sessions returned, newest activity first. Default 50, at most 1000.
    #[serde(default)]
    pub limit: Option<usize>,
}
