//! The engine: prompt → LLM → plan → guard → parallel execution → combine.
//!
//! It speaks Arrow and plain Rust types; it never sees pgwire.

mod ask;
pub mod cache;
pub mod combine;
pub mod federate;
pub mod guard;
pub mod knowledge;
pub mod meta;
mod passthrough;
pub use passthrough::RelayJob;
pub mod plan;
pub mod prompt;
pub mod route;
pub mod schema;
pub mod sessions;
pub mod settings;
pub mod turn;
pub mod tx;
pub mod r#virtual;

use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use tokio::sync::Semaphore;

use crate::backends::{
    self, Backend, BackendError, BatchStream, Dialect, QueryOptions, QueryResult,
};
use crate::config::{Config, ConnectionConfig, LlmProvider, UserConfig};
use crate::llm::{self, ChatMessage, DbSchema, Llm, LlmError, LlmRequest, Role};
use crate::session::{Session, SessionError};

use self::guard::GuardError;
use self::plan::{PlanError, PlannedQuery};
use self::prompt::Turn;

/// Errors of one engine operation; the wire maps each to a SQLSTATE.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A session-level problem (unknown connection, permission, bad setting).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// `ASK ''`.
    #[error("the question is empty: write ASK 'your question'")]
    EmptyQuestion,
    /// No connection in scope.
    #[error("no database connections are active: SET dbguru.connections = 'name, ...' or use ASK '...' ON name")]
    NoConnections,
    /// The language model failed.
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// The model's reply could not be used, even after one repair round.
    #[error("the LLM's reply could not be used: {0}")]
    Plan(PlanError),
    /// A statement was refused by the guard.
    #[error("refused SQL for database \"{connection}\": {error}")]
    Guard {
        /// Connection the statement was for.
        connection: String,
        /// Why.
        error: GuardError,
    },
    /// Every database failed.
    #[error("every database failed: {}", .0.iter().map(|(c, e)| format!("{c}: {e}")).collect::<Vec<_>>().join("; "))]
    AllFailed(Vec<(String, BackendError)>),
    /// A passthrough statement failed.
    #[error("{connection}: {error}")]
    Backend {
        /// Connection.
        connection: String,
        /// The backend's error.
        error: BackendError,
    },
    /// Could not start (bad file path, demo creation).
    #[error("{0}")]
    Startup(String),
    /// A statement naming tables of several connections (`0A000`).
    #[error(transparent)]
    Route(#[from] route::RouteError),
    /// A `SET` the proxy refuses or cannot honour.
    #[error(transparent)]
    Setting(#[from] settings::SettingError),
    /// A write to the business knowledge (`dbguru.glossary`, `dbguru.examples`) or a
    /// knowledge file was refused.
    #[error(transparent)]
    Knowledge(#[from] knowledge::KnowledgeError),
    /// Transaction-block rules (no block open, unknown savepoint, aborted block).
    #[error("{message}")]
    Block {
        /// SQLSTATE (`25P01`, `25P02`, `3B001`, …).
        sqlstate: &'static str,
        /// Message.
        message: String,
    },
}

/// A message for the client that does not stop the statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// `WARNING` or `NOTICE`.
    pub severity: &'static str,
    /// SQLSTATE.
    pub code: String,
    /// Text.
    pub message: String,
}

impl Notice {
    fn warning(code: &str, message: String) -> Notice {
        Notice {
            severity: "WARNING",
            code: code.into(),
            message,
        }
    }
    fn info(message: String) -> Notice {
        Notice {
            severity: "NOTICE",
            code: "00000".into(),
            message,
        }
    }
}

/// The SQLSTATE a backend error carries to the client.
pub fn backend_sqlstate(e: &BackendError) -> &str {
    match e {
        BackendError::Query {
            sqlstate: Some(s), ..
        } => s.as_str(),
        BackendError::Query { sqlstate: None, .. } => "42000",
        BackendError::Server(e) => e.sqlstate.as_str(),
        BackendError::Connect(_) | BackendError::Other(_) => "58000",
        BackendError::Timeout(_) => "57014",
        BackendError::ReadOnly(_) => "25006",
        BackendError::Convert(_) => "22000",
        BackendError::Unsupported(_) => "0A000",
    }
}

/// One configured connection and its open backend.
pub struct Conn {
    /// Its configuration.
    pub cfg: ConnectionConfig,
    /// The backend.
    pub backend: Arc<dyn Backend>,
}

/// One statement of a plan, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Connection name.
    pub connection: String,
    /// Dialect of the connection.
    pub dialect: Dialect,
    /// The SQL as the LLM wrote it.
    pub sql: String,
    /// The SQL that runs (row-capped).
    pub run_sql: String,
}

/// What happened on one database.
#[derive(Debug, Clone)]
pub struct DbRun {
    /// Connection name.
    pub connection: String,
    /// The SQL that ran.
    pub sql: String,
    /// Rows returned (after the cap).
    pub rows: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// The error, when it failed.
    pub error: Option<String>,
    /// The columns this database returned (empty when unknown, e.g. from the result cache).
    pub columns: Vec<String>,
}

/// The outcome of an `ASK`.
#[derive(Debug)]
pub struct AskOutcome {
    /// The checked plan.
    pub steps: Vec<Step>,
    /// The combined result (`None` for `EXPLAIN ASK`).
    pub result: Option<(SchemaRef, Vec<RecordBatch>)>,
    /// Warnings and notices, in order.
    pub notices: Vec<Notice>,
    /// Per-database outcome.
    pub runs: Vec<DbRun>,
    /// Whether the plan or the whole result came from cache.
    pub cached: bool,
}

/// What a passthrough statement returned.
#[derive(Debug)]
pub enum SqlOutcome {
    /// Rows, streaming.
    Rows(BatchStream),
    /// A command tag.
    Command {
        /// Tag.
        tag: String,
        /// Rows affected.
        rows: u64,
    },
}

/// The engine, shared by every wire session.
pub struct Engine {
    /// The validated configuration.
    pub config: Arc<Config>,
    conns: Vec<Conn>,
    llm: Arc<dyn Llm>,
    permits: Arc<Semaphore>,
    caches: cache::Caches,
    verdicts: guard::VerdictCache,
    /// Chat sessions, history and knowledge: only the engine touches it (the front doors
    /// go through `sessions.rs`, `turn.rs` and `meta.rs`).
    store: Arc<crate::store::Store>,
    health: std::sync::Mutex<std::collections::HashMap<String, meta::Health>>,
    schema: schema::SchemaCache,
    knowledge: knowledge::Knowledge,
}

/// Per-ASK limits and permissions, taken from the session.
#[derive(Debug, Clone)]
pub struct AskContext {
    /// Connections in scope.
    pub connections: Vec<String>,
    /// Row cap per database.
    pub max_rows: usize,
    /// Timeout per database.
    pub timeout: Duration,
    /// Writes allowed.
    pub allow_write: bool,
    /// Send the SQL as NOTICEs.
    pub show_sql: bool,
    /// Earlier turns to include in the prompt.
    pub history: Vec<Turn>,
    /// Tables always sent to the LLM (`SET dbguru.tables`).
    pub pinned: Vec<String>,
    /// Use the plan and result caches (never when writes are allowed).
    pub use_cache: bool,
    /// Where to report each database's progress as it happens (the HTTP stream); `None`
    /// for the wire.
    pub progress: Option<tokio::sync::mpsc::UnboundedSender<turn::Progress>>,
}

impl Engine {
    /// Opens every backend (creating demo databases on first start) and the LLM.
    pub async fn new(config: Config) -> Result<Engine, EngineError> {
        let mut conns = Vec::new();
        for c in &config.connections {
            let mut cfg = c.clone();
            if let Some(p) = &c.path {
                let resolved = config.resolve(p);
                if let Some(demo) = c.demo {
                    let created = crate::demo::ensure_demo(demo, &resolved)
                        .map_err(|e| EngineError::Startup(format!("connection {}: {e}", c.name)))?;
                    if created {
                        tracing::info!(connection = %c.name, path = %resolved.display(), "created demo database");
                    }
                }
                cfg.path = Some(resolved);
            }
            let backend = backends::open(&cfg)
                .await
                .map_err(|e| EngineError::Startup(format!("connection {}: {e}", c.name)))?;
            conns.push(Conn { cfg, backend });
        }
        let llm: Arc<dyn Llm> = match config.llm.provider {
            LlmProvider::Builtin => Arc::new(llm::builtin::BuiltinPlanner::new()),
            LlmProvider::Openai => Arc::new(
                llm::openai::OpenAiClient::new(&config.llm)
                    .map_err(|e| EngineError::Startup(format!("llm: {e}")))?,
            ),
        };
        let permits = Arc::new(Semaphore::new(config.limits.max_concurrency));
        let caches = cache::Caches::new(
            config.cache.plan_entries,
            config.cache.result_entries,
            config.cache.result_bytes,
            config.cache.result_ttl,
        );
        let store = crate::store::Store::open(&config.store, &config)
            .await
            .map_err(|e| EngineError::Startup(format!("store: {e}")))?;
        let files = knowledge::files::load(&config)?;
        let knowledge = knowledge::Knowledge::new(files);
        knowledge
            .refresh(&store)
            .await
            .map_err(|e| EngineError::Startup(format!("store: {e}")))?;
        let schema = schema::SchemaCache::new(conns.iter().map(|c| {
            let samples = c.cfg.sample_values.unwrap_or(config.llm.sample_values);
            (c.cfg.name.as_str(), samples)
        }))
        .with_bounds(schema::Bounds {
            max_tables: config.limits.max_tables,
            max_columns: config.limits.max_columns,
        });
        Ok(Engine {
            config: Arc::new(config),
            schema,
            knowledge,
            conns,
            llm,
            permits,
            caches,
            verdicts: guard::VerdictCache::default(),
            store: Arc::new(store),
            health: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// Every connection, in configuration order.
    pub fn connections(&self) -> &[Conn] {
        &self.conns
    }

    /// A connection by canonical name.
    pub fn conn(&self, name: &str) -> Option<&Conn> {
        self.conns
            .iter()
            .find(|c| c.cfg.name.eq_ignore_ascii_case(name))
    }

    /// Builds the per-ASK context from a session and an optional `ON` list.
    pub fn ask_context(
        &self,
        session: &Session,
        user: &UserConfig,
        on: Option<&[String]>,
    ) -> Result<AskContext, EngineError> {
        let connections = match on {
            Some(list) => Session::resolve_connections(&self.config, user, list)?,
            None => session.active_connections(&self.config, user),
        };
        if connections.is_empty() {
            return Err(EngineError::NoConnections);
        }
        let keep = self.config.llm.history_turns;
        let history = session.history[session.history.len().saturating_sub(keep)..].to_vec();
        Ok(AskContext {
            connections,
            max_rows: session.effective_max_rows(&self.config),
            timeout: session.effective_timeout(&self.config),
            allow_write: session.allow_write && user.may_write,
            show_sql: session.show_sql,
            use_cache: session.use_cache && !(session.allow_write && user.may_write),
            history,
            pinned: session.tables.clone(),
            progress: None,
        })
    }
}
