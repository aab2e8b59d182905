//! The engine: prompt → LLM → plan → guard → parallel execution → combine.
//!
//! It speaks Arrow and plain Rust types; it never sees pgwire.

pub mod cache;
pub mod combine;
pub mod federate;
pub mod guard;
pub mod meta;
mod passthrough;
pub use passthrough::RelayJob;
pub mod plan;
pub mod prompt;
pub mod route;
pub mod schema;
pub mod settings;
pub mod turn;
pub mod tx;
pub mod r#virtual;

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use futures::future::join_all;
use futures::StreamExt;
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
    /// Chat sessions and history.
    pub store: Arc<crate::store::Store>,
    health: std::sync::Mutex<std::collections::HashMap<String, meta::Health>>,
    schema: schema::SchemaCache,
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
        let schema = schema::SchemaCache::new(conns.iter().map(|c| {
            let samples = c.cfg.sample_values.unwrap_or(config.llm.sample_values);
            (c.cfg.name.as_str(), samples)
        }));
        Ok(Engine {
            config: Arc::new(config),
            schema,
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

    async fn schemas(&self, names: &[String], notices: &mut Vec<Notice>) -> Vec<(i64, DbSchema)> {
        let futs = names
            .iter()
            .filter_map(|n| self.conn(n))
            .map(|c| async move { (c, self.cached_schema(c).await) });
        let mut out = Vec::new();
        for (c, r) in join_all(futs).await {
            match r {
                Ok((snap, how)) => {
                    if how == schema::Fetched::Waited {
                        notices.push(Notice::info(format!(
                            "waited for the first schema introspection of \"{}\"",
                            c.cfg.name
                        )));
                    }
                    out.push((
                        c.cfg.id(),
                        DbSchema {
                            name: c.cfg.name.clone(),
                            dialect: c.backend.dialect(),
                            schema: snap.schema.clone(),
                        },
                    ))
                }
                Err(e) => notices.push(Notice::warning(
                    backend_sqlstate(&e),
                    format!("database \"{}\" is left out: {e}", c.cfg.name),
                )),
            }
        }
        out
    }

    fn check_plan(
        &self,
        plan: &[PlannedQuery],
        ctx: &AskContext,
    ) -> Result<Vec<Step>, EngineError> {
        plan.iter()
            .map(|q| {
                if q.connection == plan::FEDERATED {
                    return self.federated_step(&q.sql);
                }
                let conn = self.conn(&q.connection).ok_or_else(|| {
                    EngineError::Plan(PlanError::UnknownDatabase {
                        name: q.connection.clone(),
                        known: ctx.connections.join(", "),
                    })
                })?;
                let allow_write = ctx.allow_write && !conn.cfg.read_only;
                let cap = conn
                    .cfg
                    .effective_max_rows(&self.config.limits)
                    .min(ctx.max_rows);
                let checked =
                    guard::check(&q.sql, conn.backend.dialect(), allow_write, Some(cap + 1))
                        .map_err(|error| EngineError::Guard {
                            connection: conn.cfg.name.clone(),
                            error,
                        })?;
                Ok(Step {
                    connection: conn.cfg.name.clone(),
                    dialect: conn.backend.dialect(),
                    sql: q.sql.clone(),
                    run_sql: checked.sql,
                })
            })
            .collect()
    }

    async fn complete(&self, req: &LlmRequest) -> Result<String, LlmError> {
        let started = Instant::now();
        let r = self.llm.complete(req).await;
        tracing::debug!(llm = %self.llm.name(), ms = started.elapsed().as_millis() as u64, ok = r.is_ok(), "llm call");
        r
    }

    /// Asks the model, parsing (and once repairing) its reply.
    async fn plan(
        &self,
        req: &mut LlmRequest,
        known: &[String],
    ) -> Result<(String, Vec<PlannedQuery>), EngineError> {
        let reply = self.complete(req).await?;
        match plan::parse_reply(&reply, known) {
            Ok(p) => Ok((reply, p)),
            Err(first) => {
                tracing::info!(error = %first, "LLM reply did not parse; asking for a repair");
                req.messages.push(ChatMessage {
                    role: Role::Assistant,
                    content: reply,
                });
                req.messages.push(ChatMessage {
                    role: Role::User,
                    content: format!(
                        "Your reply could not be used: {first}. Reply again with only DATABASE blocks (databases: {}).",
                        known.join(", ")
                    ),
                });
                let reply = self.complete(req).await?;
                let p = plan::parse_reply(&reply, known).map_err(EngineError::Plan)?;
                Ok((reply, p))
            }
        }
    }

    /// Answers a question: the plan, and unless `explain`, the combined rows.
    pub async fn ask(
        &self,
        question: &str,
        ctx: &AskContext,
        explain: bool,
    ) -> Result<AskOutcome, EngineError> {
        let question = question.trim();
        if question.is_empty() {
            return Err(EngineError::EmptyQuestion);
        }
        let mut notices = Vec::new();
        let dbs = self.schemas(&ctx.connections, &mut notices).await;
        if dbs.is_empty() {
            let errors = notices
                .iter()
                .map(|n| {
                    (
                        "schema".to_string(),
                        BackendError::Connect(n.message.clone()),
                    )
                })
                .collect();
            return Err(EngineError::AllFailed(errors));
        }
        let known: Vec<String> = dbs.iter().map(|(_, d)| d.name.clone()).collect();
        let (sent, selection) = self.retrieve(&dbs, question, ctx);
        if explain || ctx.show_sql {
            notices.push(Notice::info(selection.describe()));
        } else if !selection.is_complete() {
            notices.push(Notice::info(format!(
                "schema: {} of {} tables sent to the planner (EXPLAIN ASK lists them and why)",
                selection.chosen.len(),
                selection.total
            )));
        }
        let mut req = LlmRequest {
            messages: prompt::build(&sent, &ctx.history, question),
            databases: sent.iter().map(|(_, d)| d.clone()).collect(),
            question: question.to_string(),
            previous_questions: ctx.history.iter().map(|t| t.question.clone()).collect(),
        };
        let schemas: Vec<DbSchema> = dbs.iter().map(|(_, d)| d.clone()).collect();
        let key = ctx
            .use_cache
            .then(|| cache::plan_key(question, &schemas, &ctx.history));
        let result_key = key.as_ref().map(|k| format!("{k}:{}", ctx.max_rows));
        if let (false, Some(rk)) = (explain, &result_key) {
            if let Some(hit) = self.caches.result(rk) {
                return Ok(self.cached_outcome(hit, notices));
            }
        }
        let cached_plan = key.as_ref().and_then(|k| self.caches.plan(k));
        let plan_was_cached = cached_plan.is_some();
        let (reply, plan) = match cached_plan {
            Some(p) => {
                notices.push(Notice::info(
                    "plan served from cache (SET dbguru.use_cache = off to ask the LLM again)"
                        .into(),
                ));
                (plan::render(&p), p)
            }
            None => self.plan(&mut req, &known).await?,
        };
        for q in &plan {
            for note in crate::llm::block_notes(&q.sql) {
                notices.push(Notice::info(format!("{}: {note}", q.connection)));
            }
        }
        let mut steps = self.check_plan(&plan, ctx)?;
        if ctx.show_sql || explain {
            for s in &steps {
                if ctx.show_sql {
                    notices.push(Notice::info(format!("{}: {}", s.connection, s.run_sql)));
                }
            }
        }
        if explain {
            return Ok(AskOutcome {
                steps: self.explain_steps(steps, ctx).await,
                result: None,
                notices,
                runs: Vec::new(),
                cached: plan_was_cached,
            });
        }
        turn::report_planned(ctx, &steps);
        let mut results = self.run_steps(&steps, ctx).await;

        // One repair round for statements the database rejected.
        let failed: Vec<(String, String)> = results
            .iter()
            .filter_map(|(s, r)| match r {
                Err(e @ (BackendError::Query { .. } | BackendError::Server(_))) => {
                    Some((s.connection.clone(), e.to_string()))
                }
                _ => None,
            })
            .collect();
        if !failed.is_empty() {
            req.messages.push(ChatMessage {
                role: Role::Assistant,
                content: reply,
            });
            req.messages.push(ChatMessage {
                role: Role::User,
                content: format!(
                    "These statements failed:\n{}\nReply with corrected DATABASE blocks for these databases only.",
                    failed.iter().map(|(c, e)| format!("DATABASE {c}: {e}")).collect::<Vec<_>>().join("\n")
                ),
            });
            let failed_names: Vec<String> = failed.iter().map(|(c, _)| c.clone()).collect();
            match self
                .complete(&req)
                .await
                .map(|r| plan::parse_reply(&r, &failed_names))
            {
                Ok(Ok(fixed)) => {
                    let fixed_steps = self.check_plan(&fixed, ctx)?;
                    let rerun = self.run_steps(&fixed_steps, ctx).await;
                    for (step, r) in rerun {
                        if let Some(slot) = results
                            .iter_mut()
                            .find(|(s, _)| s.connection == step.connection)
                        {
                            *slot = (step.clone(), r);
                        }
                        if let Some(s) = steps.iter_mut().find(|s| s.connection == step.connection)
                        {
                            *s = step;
                        }
                    }
                }
                Ok(Err(e)) => {
                    tracing::info!(error = %e, "repair reply did not parse; keeping the first errors")
                }
                Err(e) => {
                    tracing::info!(error = %e, "repair request failed; keeping the first errors")
                }
            }
        }

        let mut parts = Vec::new();
        let mut runs = Vec::new();
        let mut errors = Vec::new();
        for (step, r) in results {
            match r {
                Ok(mut run) => {
                    let (source, sources) = match run.federated.take() {
                        Some((label, sources)) => (label, sources),
                        None => (step.connection.clone(), Vec::new()),
                    };
                    if run.truncated {
                        notices.push(Notice::info(format!(
                            "result from \"{}\" truncated to {} rows (SET dbguru.max_rows to change, up to the configured cap)",
                            step.connection, run.rows
                        )));
                    }
                    if sources.is_empty() {
                        runs.push(DbRun {
                            connection: step.connection.clone(),
                            sql: step.run_sql.clone(),
                            rows: run.rows,
                            elapsed: run.elapsed,
                            error: None,
                            columns: run
                                .schema
                                .fields()
                                .iter()
                                .map(|f| f.name().clone())
                                .collect(),
                        });
                    }
                    runs.extend(sources);
                    parts.push(combine::Part {
                        source,
                        schema: run.schema,
                        batches: run.batches,
                    });
                }
                Err(e) => {
                    notices.push(Notice::warning(
                        backend_sqlstate(&e),
                        format!(
                            "database \"{}\" failed and is left out of the answer: {e}",
                            step.connection
                        ),
                    ));
                    runs.push(DbRun {
                        connection: step.connection.clone(),
                        sql: step.run_sql.clone(),
                        rows: 0,
                        elapsed: Duration::ZERO,
                        error: Some(e.to_string()),
                        columns: Vec::new(),
                    });
                    errors.push((step.connection.clone(), e));
                }
            }
        }
        if parts.is_empty() {
            return Err(EngineError::AllFailed(errors));
        }
        let combined = combine::combine(&parts).map_err(|e| EngineError::Startup(e.to_string()))?;
        if let (Some(k), Some(rk), true) = (key, result_key, errors.is_empty()) {
            self.caches.put_plan(
                k,
                steps
                    .iter()
                    .map(|s| PlannedQuery {
                        connection: s.connection.clone(),
                        sql: s.sql.clone(),
                    })
                    .collect(),
            );
            self.caches.put_result(
                rk,
                cache::CachedResult {
                    schema: combined.0.clone(),
                    batches: combined.1.clone(),
                    runs: runs
                        .iter()
                        .map(|r| (r.connection.clone(), r.sql.clone(), r.rows))
                        .collect(),
                },
            );
        }
        Ok(AskOutcome {
            steps,
            result: Some(combined),
            notices,
            runs,
            cached: plan_was_cached,
        })
    }

    fn cached_outcome(&self, hit: cache::CachedResult, mut notices: Vec<Notice>) -> AskOutcome {
        notices.push(Notice::info(format!(
            "answer served from cache (at most {}s old; SET dbguru.use_cache = off for fresh rows)",
            self.config.cache.result_ttl.as_secs()
        )));
        let steps = hit
            .runs
            .iter()
            .filter_map(|(c, sql, _)| {
                let conn = self.conn(c)?;
                Some(Step {
                    connection: c.clone(),
                    dialect: conn.backend.dialect(),
                    sql: sql.clone(),
                    run_sql: sql.clone(),
                })
            })
            .collect();
        let runs = hit
            .runs
            .iter()
            .map(|(c, sql, rows)| DbRun {
                connection: c.clone(),
                sql: sql.clone(),
                rows: *rows,
                elapsed: Duration::ZERO,
                error: None,
                columns: Vec::new(),
            })
            .collect();
        AskOutcome {
            steps,
            result: Some((hit.schema, hit.batches)),
            notices,
            runs,
            cached: true,
        }
    }

    async fn run_steps(
        &self,
        steps: &[Step],
        ctx: &AskContext,
    ) -> Vec<(Step, Result<Run, BackendError>)> {
        let futs = steps.iter().map(|s| async move {
            if s.connection == plan::FEDERATED {
                return (s.clone(), self.run_federated_step(s, ctx).await);
            }
            let r = match self.conn(&s.connection) {
                Some(c) => {
                    let cap = c
                        .cfg
                        .effective_max_rows(&self.config.limits)
                        .min(ctx.max_rows);
                    let timeout = c
                        .cfg
                        .effective_timeout(&self.config.limits)
                        .min(ctx.timeout);
                    self.run_capped(
                        c,
                        &s.run_sql,
                        cap,
                        timeout,
                        ctx.allow_write && !c.cfg.read_only,
                    )
                    .await
                }
                None => Err(BackendError::Other(format!(
                    "unknown connection {}",
                    s.connection
                ))),
            };
            turn::report_finished(ctx, s, r.as_ref().map(|run| (run.rows, run.elapsed)));
            (s.clone(), r)
        });
        join_all(futs).await
    }

    /// Runs one query, keeping at most `cap` rows (reading one more to know it was cut).
    async fn run_capped(
        &self,
        c: &Conn,
        sql: &str,
        cap: usize,
        timeout: Duration,
        allow_write: bool,
    ) -> Result<Run, BackendError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| BackendError::Other(e.to_string()))?;
        let started = Instant::now();
        let opts = QueryOptions {
            row_limit: Some(cap + 1),
            timeout,
            allow_write,
            settings: Arc::default(),
        };
        let work = async {
            match c.backend.query(sql, &opts).await? {
                QueryResult::Rows(mut stream) => {
                    let mut batches = Vec::new();
                    let mut rows = 0usize;
                    let mut truncated = false;
                    while let Some(b) = stream.batches.next().await {
                        let b = b?;
                        let room = cap - rows;
                        if b.num_rows() > room {
                            truncated = true;
                            if room > 0 {
                                batches.push(b.slice(0, room));
                            }
                            rows = cap;
                            break;
                        }
                        rows += b.num_rows();
                        batches.push(b);
                    }
                    Ok(Run {
                        schema: stream.schema,
                        batches,
                        rows,
                        truncated,
                        elapsed: Duration::ZERO,
                        federated: None,
                    })
                }
                QueryResult::Command { tag, rows } => {
                    let schema = backends::types::schema_of(&[
                        ("command".into(), backends::types::ColType::Text),
                        ("rows".into(), backends::types::ColType::Int64),
                    ]);
                    let mut b = backends::types::BatchBuilder::new(&[
                        ("command".into(), backends::types::ColType::Text),
                        ("rows".into(), backends::types::ColType::Int64),
                    ]);
                    b.push_row(vec![
                        backends::types::Value::Text(tag),
                        backends::types::Value::Int(rows as i64),
                    ])?;
                    Ok(Run {
                        schema,
                        batches: vec![b.finish()?],
                        rows: 1,
                        truncated: false,
                        elapsed: Duration::ZERO,
                        federated: None,
                    })
                }
            }
        };
        // The backend enforces the timeout on the server; this outer deadline only
        // guards against a backend that fails to (dropping the future cancels it).
        let mut run = tokio::time::timeout(timeout + Duration::from_secs(2), work)
            .await
            .map_err(|_| BackendError::Timeout(timeout))??;
        run.elapsed = started.elapsed();
        Ok(run)
    }
}

/// One database's collected result.
#[derive(Debug)]
struct Run {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    rows: usize,
    truncated: bool,
    elapsed: Duration,
    /// A federated block: the databases that produced its rows and each source's run.
    federated: Option<(String, Vec<DbRun>)>,
}
