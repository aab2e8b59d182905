//! The federated block of an ASK reply (`DATABASE: *`): checked like plain SQL, run by
//! the federation engine over the ASK's connections, its rows labelled with every
//! database that produced them (`shop+warehouse`); `EXPLAIN ASK` shows each source's
//! subquery and the combining statement.

use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::backends::{BackendError, Dialect};

use super::super::ask::Run;
use super::super::guard::{self, GuardError};
use super::super::plan::FEDERATED;
use super::super::{AskContext, DbRun, Engine, EngineError, Step};
use super::FederationScope;

/// The SQLSTATE-carrying backend error an engine error becomes inside an ASK (where a
/// failed database is a warning, not the end of the answer).
fn as_backend(e: EngineError) -> BackendError {
    match e {
        EngineError::Backend { connection, error } => match error {
            BackendError::Query { sqlstate, message } => BackendError::Query {
                sqlstate,
                message: format!("{connection}: {message}"),
            },
            other => other,
        },
        EngineError::Guard { error, .. } => BackendError::Query {
            sqlstate: Some(
                match &error {
                    GuardError::WriteNotAllowed(_) => "25006",
                    GuardError::Forbidden(_) | GuardError::ForbiddenFunction(_) => "42501",
                    GuardError::Limit(l) => l.sqlstate(),
                    _ => "42601",
                }
                .into(),
            ),
            message: error.to_string(),
        },
        EngineError::Route(r) => BackendError::Unsupported(r.to_string()),
        other => BackendError::Other(other.to_string()),
    }
}

impl Engine {
    /// The step of a federated block: the guard reads it as one read-only PostgreSQL
    /// query (the sources and the combining statement are checked again when it runs).
    pub(crate) fn federated_step(&self, sql: &str) -> Result<Step, EngineError> {
        let checked = guard::check(sql, Dialect::Postgres, false, None).map_err(|error| {
            EngineError::Guard {
                connection: FEDERATED.into(),
                error,
            }
        })?;
        Ok(Step {
            connection: FEDERATED.into(),
            dialect: Dialect::Postgres,
            sql: sql.to_string(),
            run_sql: checked.sql,
        })
    }

    fn ask_scope(ctx: &AskContext) -> FederationScope {
        FederationScope {
            names: ctx.connections.clone(),
            target: None,
            timeout: ctx.timeout,
        }
    }

    /// For `EXPLAIN ASK`: a federated step becomes one step per source subquery (with its
    /// connection and dialect) and the combining statement (`shop+warehouse`, duckdb).
    pub(crate) async fn explain_steps(&self, steps: Vec<Step>, ctx: &AskContext) -> Vec<Step> {
        let mut out = Vec::with_capacity(steps.len());
        for s in steps {
            if s.connection != FEDERATED {
                out.push(s);
                continue;
            }
            match self
                .explain_federated(&s.run_sql, &Self::ask_scope(ctx))
                .await
            {
                Ok(plan) => {
                    for src in plan.sources {
                        out.push(Step {
                            connection: src.connection,
                            dialect: src.dialect,
                            sql: src.sql.clone(),
                            run_sql: src.sql,
                        });
                    }
                    out.push(Step {
                        connection: plan.label,
                        dialect: Dialect::Duckdb,
                        sql: plan.combine.clone(),
                        run_sql: plan.combine,
                    });
                }
                Err(e) => {
                    tracing::info!(error = %e, "federated block cannot be planned");
                    out.push(s);
                }
            }
        }
        out
    }

    /// Runs a federated block, keeping at most `max_rows` rows; each source's run is
    /// recorded (for `dbguru.queries` / `databases_used`), then the combining statement
    /// under the label of every database involved.
    pub(in crate::engine) async fn run_federated_step(
        &self,
        step: &Step,
        ctx: &AskContext,
    ) -> Result<Run, BackendError> {
        let cap = ctx.max_rows;
        let started = Instant::now();
        let f = self
            .federate(&step.run_sql, &Self::ask_scope(ctx))
            .await
            .map_err(as_backend)?;
        let mut stream = f.stream;
        let mut batches = Vec::new();
        let (mut rows, mut truncated) = (0usize, false);
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
        let mut sources: Vec<DbRun> = f
            .sources
            .into_iter()
            .map(|s| DbRun {
                connection: s.connection,
                sql: s.sql,
                rows: s.rows,
                elapsed: s.elapsed,
                error: None,
                columns: Vec::new(),
            })
            .collect();
        sources.push(DbRun {
            connection: f.label.clone(),
            sql: f.combine,
            rows,
            elapsed: started.elapsed().max(Duration::from_micros(1)),
            error: None,
            columns: stream
                .schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
        });
        Ok(Run {
            schema: stream.schema,
            batches,
            rows,
            truncated,
            elapsed: started.elapsed(),
            federated: Some((f.label, sources)),
        })
    }
}
