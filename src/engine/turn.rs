//! One `ASK` turn with its bookkeeping, the facade every front door calls (the
//! PostgreSQL wire and the HTTP API alike): build the context from the session, ask,
//! push the turn into the session's history, name the chat after its first question,
//! and write the query-history row and the two messages to the store.
//!
//! The front doors only translate: they never write the store or build history.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::UserConfig;
use crate::session::Session;
use crate::store::{AskRecord, DatabaseUsed};

use super::meta::Health;
use super::plan::PlannedQuery;
use super::prompt::Turn;
use super::{AskContext, AskOutcome, DbRun, Engine, EngineError, Notice, Step};

/// Progress of one ASK, reported while it runs (see [`TurnRequest::progress`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// The plan is checked: (connection, SQL that will run) per database.
    Planned(Vec<(String, String)>),
    /// One database finished (again after a repair round, if it failed first).
    Finished {
        /// Connection name.
        connection: String,
        /// The SQL that ran.
        sql: String,
        /// Rows returned.
        rows: usize,
        /// Milliseconds.
        ms: f64,
        /// The error, when it failed.
        error: Option<String>,
    },
}

/// What one turn asks.
#[derive(Debug, Clone)]
pub struct TurnRequest<'a> {
    /// The question (trimmed by the engine; empty is `22023`).
    pub question: &'a str,
    /// `ON a, b`: exactly these connections (names or ids) instead of the session's.
    pub on: Option<&'a [String]>,
    /// `EXPLAIN ASK`: plan only, nothing runs and nothing is recorded.
    pub explain: bool,
    /// Where to report progress while the turn runs (`None`: nowhere).
    pub progress: Option<tokio::sync::mpsc::UnboundedSender<Progress>>,
}

/// A turn that produced an answer (or a plan).
#[derive(Debug)]
pub struct TurnOutcome {
    /// The engine's outcome: plan, combined rows, per-database runs, notices.
    pub outcome: AskOutcome,
    /// The query-history row written for this turn (`None` for `EXPLAIN ASK` or when the
    /// store could not be written).
    pub query_id: Option<i64>,
    /// A `WARNING` (`01000`) when the store could not save the turn; the answer stands.
    pub store_warning: Option<Notice>,
    /// Wall time of the whole turn.
    pub elapsed: Duration,
}

/// A turn that failed; the failure itself was recorded in the history when possible.
#[derive(Debug)]
pub struct TurnError {
    /// Why it failed.
    pub error: EngineError,
    /// A `WARNING` (`01000`) when the store could not save the failed turn.
    pub store_warning: Option<Notice>,
    /// The query-history row of the failure, when it was written.
    pub query_id: Option<i64>,
}

impl From<EngineError> for TurnError {
    fn from(error: EngineError) -> Self {
        TurnError {
            error,
            store_warning: None,
            query_id: None,
        }
    }
}

fn snapshot(session: &Mutex<Session>) -> Session {
    match session.lock() {
        Ok(s) => s.clone(),
        Err(p) => p.into_inner().clone(),
    }
}

fn update<R>(session: &Mutex<Session>, f: impl FnOnce(&mut Session) -> R) -> R {
    match session.lock() {
        Ok(mut s) => f(&mut s),
        Err(p) => f(&mut p.into_inner()),
    }
}

impl Engine {
    /// Answers one question for `session` (kept in a mutex so no lock is held across the
    /// LLM call and the queries): asks, records the turn in the session's history and in
    /// the store (query history, a user and an assistant message), and returns the
    /// answer with any store warning. A failed ASK is recorded too (not `EXPLAIN`).
    pub async fn ask_turn(
        &self,
        session: &Mutex<Session>,
        user: &UserConfig,
        req: TurnRequest<'_>,
    ) -> Result<TurnOutcome, TurnError> {
        let started = Instant::now();
        let snap = snapshot(session);
        let mut ctx = self.ask_context(&snap, user, req.on)?;
        ctx.progress = req.progress.clone();
        let outcome = match self.ask(req.question, &ctx, req.explain).await {
            Ok(o) => o,
            Err(error) => {
                if req.explain {
                    return Err(error.into());
                }
                let rec = self.ask_record(
                    &snap,
                    user,
                    req.question,
                    &[],
                    Some(error.to_string()),
                    false,
                    started,
                );
                let (query_id, store_warning) = self.save_ask(session, rec).await;
                return Err(TurnError {
                    error,
                    store_warning,
                    query_id,
                });
            }
        };
        if req.explain {
            return Ok(TurnOutcome {
                outcome,
                query_id: None,
                store_warning: None,
                elapsed: started.elapsed(),
            });
        }
        let total_rows: usize = outcome.runs.iter().map(|r| r.rows).sum();
        let turn = Turn {
            question: req.question.to_string(),
            plan: outcome
                .steps
                .iter()
                .map(|s| PlannedQuery {
                    connection: s.connection.clone(),
                    sql: s.sql.clone(),
                })
                .collect(),
            summary: format!(
                "queried {} database(s), returned {total_rows} rows",
                outcome.runs.len()
            ),
        };
        let keep = self.config.llm.history_turns;
        let after = update(session, |s| {
            if s.chat_name.is_none() {
                s.chat_name = Some(req.question.chars().take(60).collect());
            }
            s.history.push(turn, keep);
            s.clone()
        });
        let rec = self.ask_record(
            &after,
            user,
            req.question,
            &outcome.runs,
            None,
            outcome.cached,
            started,
        );
        let (query_id, store_warning) = self.save_ask(session, rec).await;
        Ok(TurnOutcome {
            outcome,
            query_id,
            store_warning,
            elapsed: started.elapsed(),
        })
    }

    /// The store record of one ASK.
    #[allow(clippy::too_many_arguments)]
    fn ask_record(
        &self,
        session: &Session,
        user: &UserConfig,
        question: &str,
        runs: &[DbRun],
        error: Option<String>,
        cached: bool,
        started: Instant,
    ) -> AskRecord {
        let cfg = &self.config;
        let databases: Vec<DatabaseUsed> = runs
            .iter()
            .map(|r| DatabaseUsed {
                conn_id: cfg
                    .connection(&r.connection)
                    .map(|c| c.id())
                    .unwrap_or_default(),
                name: r.connection.clone(),
                sql: r.sql.clone(),
                rows: r.rows as u64,
                ms: r.elapsed.as_secs_f64() * 1000.0,
                error: r.error.clone(),
            })
            .collect();
        AskRecord {
            session: session.record(cfg, user),
            question: question.to_string(),
            rows: databases.iter().map(|d| d.rows).sum(),
            success: error.is_none() && databases.iter().any(|d| d.error.is_none()),
            databases,
            ms: started.elapsed().as_secs_f64() * 1000.0,
            error,
            cached,
        }
    }

    /// Writes an ASK to the store; a failure becomes a WARNING (the answer still comes).
    async fn save_ask(
        &self,
        session: &Mutex<Session>,
        rec: AskRecord,
    ) -> (Option<i64>, Option<Notice>) {
        match self.store.record_ask(&rec).await {
            Ok(id) => {
                update(session, |s| s.stored = true);
                (Some(id), None)
            }
            Err(e) => {
                tracing::warn!(error = %e, session = %rec.session.id, "history not saved");
                (
                    None,
                    Some(Notice {
                        severity: "WARNING",
                        code: "01000".into(),
                        message: format!("the answer was not saved to the chat history: {e}"),
                    }),
                )
            }
        }
    }

    /// The last health check of connection `name` (status `unknown` before the first).
    pub fn connection_health(&self, name: &str) -> Health {
        let mut h = self
            .health
            .lock()
            .ok()
            .and_then(|m| m.get(name).cloned())
            .unwrap_or_default();
        if h.status.is_empty() {
            h.status = "unknown".into();
        }
        h
    }
}

/// Reports the checked plan to `ctx.progress`, if anyone listens.
pub(super) fn report_planned(ctx: &AskContext, steps: &[Step]) {
    if let Some(p) = &ctx.progress {
        let _ = p.send(Progress::Planned(
            steps
                .iter()
                .map(|s| (s.connection.clone(), s.run_sql.clone()))
                .collect(),
        ));
    }
}

/// Reports one database's outcome (rows and wall time, or the error) to `ctx.progress`.
pub(super) fn report_finished<E: std::fmt::Display>(
    ctx: &AskContext,
    step: &Step,
    result: Result<(usize, Duration), &E>,
) {
    if let Some(p) = &ctx.progress {
        let _ = p.send(Progress::Finished {
            connection: step.connection.clone(),
            sql: step.run_sql.clone(),
            rows: result.as_ref().map(|r| r.0).unwrap_or(0),
            ms: result
                .as_ref()
                .map(|r| r.1.as_secs_f64() * 1000.0)
                .unwrap_or(0.0),
            error: result.err().map(|e| e.to_string()),
        });
    }
}
