//! Federated SQL: one read-only statement over tables of several connections.
//!
//! The statement (PostgreSQL syntax, schema-qualified names `shop.orders`) is read by
//! [`analyze`]: every table instance becomes a *source* whose subquery, written in the
//! connection's own dialect by [`render`], fetches only the columns the statement uses
//! and only the rows its single-table predicates allow (and at most a pushed-down
//! `LIMIT`). Sources are fetched (in parallel where nothing is gained by waiting) and
//! their Arrow batches stream into a private in-memory DuckDB ([`stage`]: no file or
//! network access, no extensions, `[federation] memory_limit`), which runs the
//! *combining statement* — the client's statement over the staging tables — and its
//! rows stream to the client.
//!
//! Semi-join pushdown: when an equi-join's one side has been fetched and holds at most
//! `[federation] pushdown_keys` distinct keys, the other side's subquery gets
//! `key IN (…)`, so a selective join does not fetch a whole table.
//!
//! Limits: a source returning more than `[federation] max_source_rows` rows, or the
//! engine running out of `memory_limit`, fails the statement with `54000` naming the
//! source or the setting; the session's timeout covers the whole statement, and
//! dropping it (cancel, disconnect) drops every source's stream, which stops its query.

pub(crate) mod analyze;
mod ask;
mod pushdown;
pub(crate) mod render;
mod stage;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::try_join_all;
use futures::StreamExt;

use crate::backends::duckdb::DuckdbBackend;
use crate::backends::{
    Backend, BackendError, BatchStream, Dialect, QueryOptions, QueryResult, SchemaInfo,
};
use crate::config::UserConfig;
use crate::session::Session;
use crate::sql::limits::LimitError;

use self::analyze::{Analysis, Source};
use super::guard::{self, GuardError};
use super::route::RouteError;
use super::{Engine, EngineError, SqlOutcome};

/// Why a federated statement could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FederateError {
    /// Too long or too deep to parse safely.
    #[error(transparent)]
    Limit(LimitError),
    /// Not one statement of PostgreSQL syntax.
    #[error("the statement could not be read as PostgreSQL SQL: {0}")]
    Syntax(String),
    /// A statement that writes.
    #[error("a statement that writes may name tables of one connection only")]
    Write,
    /// A qualified table that its connection does not have.
    #[error("relation \"{0}\" does not exist")]
    UnknownTable(String),
}

/// What the statement needs from the session.
#[derive(Debug, Clone)]
pub struct FederationScope {
    /// Connections the user may use (canonical names).
    pub names: Vec<String>,
    /// Where unqualified table names resolve.
    pub target: Option<String>,
    /// The whole statement's time limit.
    pub timeout: Duration,
}

/// One source subquery: where and what ran.
#[derive(Debug, Clone)]
pub struct SourceRun {
    /// Connection.
    pub connection: String,
    /// Its dialect.
    pub dialect: Dialect,
    /// The subquery as sent.
    pub sql: String,
    /// Rows fetched.
    pub rows: usize,
    /// Wall time of the fetch.
    pub elapsed: Duration,
}

/// A planned federated statement (for `EXPLAIN ASK`).
#[derive(Debug, Clone)]
pub struct FederatedPlan {
    /// The connections involved, joined by `+` (`shop+warehouse`).
    pub label: String,
    /// Each source's subquery (semi-join keys are added when it runs).
    pub sources: Vec<SourceRun>,
    /// The combining statement run by the embedded engine.
    pub combine: String,
}

/// A running federated statement.
pub struct Federated {
    /// The combined rows, streaming.
    pub stream: BatchStream,
    /// What each source ran and returned.
    pub sources: Vec<SourceRun>,
    /// The connections involved, joined by `+`.
    pub label: String,
    /// The combining statement.
    pub combine: String,
}

impl std::fmt::Debug for Federated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federated")
            .field("label", &self.label)
            .field("sources", &self.sources)
            .finish()
    }
}

fn query_error(sqlstate: &str, message: String) -> BackendError {
    BackendError::Query {
        sqlstate: Some(sqlstate.into()),
        message,
    }
}

fn planning_error(e: FederateError, label: &str) -> EngineError {
    match e {
        FederateError::Write => EngineError::Route(RouteError::CrossDatabaseWrite(label.into())),
        FederateError::Limit(l) => EngineError::Guard {
            connection: label.into(),
            error: GuardError::Limit(l),
        },
        FederateError::Syntax(m) => EngineError::Backend {
            connection: label.into(),
            error: query_error("42601", m),
        },
        FederateError::UnknownTable(t) => EngineError::Backend {
            connection: label.into(),
            error: query_error("42P01", format!("relation \"{t}\" does not exist")),
        },
    }
}

impl Engine {
    /// The federation scope of a session.
    pub fn federation_scope(&self, session: &Session, user: &UserConfig) -> FederationScope {
        FederationScope {
            names: self
                .conns
                .iter()
                .filter(|c| user.may_use(&c.cfg.name))
                .map(|c| c.cfg.name.clone())
                .collect(),
            target: session.target_connection(&self.config, user),
            timeout: session.effective_timeout(&self.config),
        }
    }

    /// Runs plain SQL that names tables of several connections (see the module docs).
    pub async fn run_federated(
        &self,
        sql: &str,
        session: &Session,
        user: &UserConfig,
    ) -> Result<SqlOutcome, EngineError> {
        let scope = self.federation_scope(session, user);
        let f = self.federate(sql, &scope).await?;
        tracing::debug!(sources = f.sources.len(), label = %f.label, "federated statement");
        Ok(SqlOutcome::Rows(f.stream))
    }

    /// Checks and analyses `sql`: the guard reads it as a read-only PostgreSQL query,
    /// the sources' schemas are introspected.
    async fn federation_analysis(
        &self,
        sql: &str,
        scope: &FederationScope,
    ) -> Result<(Analysis, String), EngineError> {
        let named = analyze::connections_named(sql, &scope.names, scope.target.as_deref())
            .map_err(|e| planning_error(e, "federation"))?;
        let label = named.iter().cloned().collect::<Vec<_>>().join("+");
        match guard::check(sql, Dialect::Postgres, false, None) {
            Ok(_) => {}
            Err(GuardError::WriteNotAllowed(_)) => {
                return Err(planning_error(FederateError::Write, &label))
            }
            Err(error) => {
                return Err(EngineError::Guard {
                    connection: label,
                    error,
                })
            }
        }
        let schemas = self.federation_schemas(&named, scope.timeout).await?;
        let analysis = analyze::analyze(sql, &scope.names, scope.target.as_deref(), &schemas)
            .map_err(|e| planning_error(e, &label))?;
        guard::check(&analysis.combine, Dialect::Duckdb, false, None).map_err(|error| {
            EngineError::Guard {
                connection: label.clone(),
                error,
            }
        })?;
        Ok((analysis, label))
    }

    async fn federation_schemas(
        &self,
        named: &BTreeSet<String>,
        timeout: Duration,
    ) -> Result<HashMap<String, (Dialect, Arc<SchemaInfo>)>, EngineError> {
        let futs = named
            .iter()
            .filter_map(|n| self.conn(n))
            .map(|c| async move {
                let r = tokio::time::timeout(timeout, self.cached_schema(c))
                    .await
                    .map_err(|_| BackendError::Timeout(timeout))
                    .and_then(|r| r);
                match r {
                    Ok((s, _)) => Ok((c.cfg.name.clone(), (c.backend.dialect(), s.schema.clone()))),
                    Err(error) => Err(EngineError::Backend {
                        connection: c.cfg.name.clone(),
                        error,
                    }),
                }
            });
        Ok(try_join_all(futs).await?.into_iter().collect())
    }

    /// The plan of a federated statement without running it.
    pub async fn explain_federated(
        &self,
        sql: &str,
        scope: &FederationScope,
    ) -> Result<FederatedPlan, EngineError> {
        let (analysis, label) = self.federation_analysis(sql, scope).await?;
        let sources = analysis
            .sources
            .iter()
            .map(|s| SourceRun {
                connection: s.connection.clone(),
                dialect: s.dialect,
                sql: render::subquery(s, None),
                rows: 0,
                elapsed: Duration::ZERO,
            })
            .collect();
        Ok(FederatedPlan {
            label,
            sources,
            combine: analysis.combine,
        })
    }

    /// Plans, fetches every source into the embedded engine and starts the combining
    /// statement, all within `scope.timeout`.
    pub async fn federate(
        &self,
        sql: &str,
        scope: &FederationScope,
    ) -> Result<Federated, EngineError> {
        let started = Instant::now();
        let (analysis, label) = self.federation_analysis(sql, scope).await?;
        let fed = &self.config.federation;
        let duck = Arc::new(DuckdbBackend::in_memory(fed.memory_limit).map_err(|error| {
            EngineError::Backend {
                connection: label.clone(),
                error,
            }
        })?);
        let fetch = self.fetch_all(&analysis, &duck, scope.timeout);
        let runs = match tokio::time::timeout(scope.timeout, fetch).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(EngineError::Backend {
                    connection: label,
                    error: BackendError::Timeout(scope.timeout),
                })
            }
        };
        let left = scope.timeout.saturating_sub(started.elapsed());
        let opts = QueryOptions {
            row_limit: None,
            timeout: left.max(Duration::from_millis(1)),
            allow_write: false,
            settings: Arc::default(),
        };
        let memory_limit = fed.memory_limit;
        let stream = match duck.query(&analysis.combine, &opts).await {
            Ok(QueryResult::Rows(s)) => s,
            Ok(QueryResult::Command { .. }) => {
                return Err(EngineError::Backend {
                    connection: label,
                    error: BackendError::Unsupported(
                        "the combining statement returned no rows".into(),
                    ),
                })
            }
            Err(e) => {
                return Err(EngineError::Backend {
                    connection: label,
                    error: memory_error(e, memory_limit),
                })
            }
        };
        let schema = stream.schema.clone();
        let batches = stream
            .batches
            .map(move |r| r.map_err(|e| memory_error(e, memory_limit)))
            .boxed();
        Ok(Federated {
            stream: BatchStream { schema, batches },
            sources: runs,
            label,
            combine: analysis.combine,
        })
    }

    /// Fetches every source: first those that no semi-join could reduce (or that
    /// filter themselves), in parallel; then the others one by one, each with the keys
    /// of an already fetched join partner when they are few enough.
    async fn fetch_all(
        &self,
        analysis: &Analysis,
        duck: &Arc<DuckdbBackend>,
        timeout: Duration,
    ) -> Result<Vec<SourceRun>, EngineError> {
        let fed = &self.config.federation;
        let n = analysis.sources.len();
        let usable: Vec<&analyze::SemiJoin> = if fed.pushdown_keys == 0 {
            Vec::new()
        } else {
            analysis
                .semijoins
                .iter()
                .filter(|j| {
                    let fam = |s: &Source, c: &str| {
                        s.columns
                            .iter()
                            .find(|(n, _)| n == c)
                            .and_then(|(_, t)| render::key_family(t))
                    };
                    let (t, f) = (&analysis.sources[j.target], &analysis.sources[j.from]);
                    let tf = fam(t, &j.target_col);
                    tf.is_some() && tf == fam(f, &j.from_col) && t.limit.is_none()
                })
                .collect()
        };
        let reducible = |i: usize| usable.iter().any(|j| j.target == i);
        let mut first: Vec<usize> = (0..n)
            .filter(|&i| !reducible(i) || !analysis.sources[i].preds.is_empty())
            .collect();
        if first.is_empty() && n > 0 {
            first.push(0);
        }
        let mut runs: Vec<Option<SourceRun>> = vec![None; n];
        let fetched = try_join_all(first.iter().map(|&i| {
            let src = &analysis.sources[i];
            self.fetch_source(src, render::subquery(src, None), duck, timeout)
        }))
        .await?;
        for (&i, r) in first.iter().zip(fetched) {
            runs[i] = Some(r);
        }
        while let Some(i) = (0..n).find(|&i| runs[i].is_none()) {
            let src = &analysis.sources[i];
            let mut best: Option<(usize, String)> = None;
            for j in usable
                .iter()
                .filter(|j| j.target == i && runs[j.from].is_some())
            {
                let from = &analysis.sources[j.from];
                let conn = duck.connection().map_err(|error| EngineError::Backend {
                    connection: "federation".into(),
                    error,
                })?;
                let (staging, col, max, dialect) = (
                    from.staging.clone(),
                    j.from_col.clone(),
                    fed.pushdown_keys,
                    src.dialect,
                );
                let keys = tokio::task::spawn_blocking(move || {
                    stage::keys(&conn, &staging, &col, max, dialect)
                })
                .await
                .map_err(|e| EngineError::Startup(format!("federation worker: {e}")))?
                .map_err(|e| EngineError::Backend {
                    connection: "federation".into(),
                    error: BackendError::Other(e.to_string()),
                })?;
                let Some(keys) = keys else { continue };
                // An empty key set would be `IN ()`: MongoDB cannot say "nothing", so it
                // fetches unreduced; SQL sources get a predicate no row passes.
                let pred = if keys.is_empty() {
                    if src.dialect == Dialect::Mongodb {
                        continue;
                    }
                    "(1 = 0)".to_string()
                } else {
                    format!(
                        "({} IN ({}))",
                        render::ident(&j.target_col, src.dialect),
                        keys.join(", ")
                    )
                };
                if best.as_ref().is_none_or(|(k, _)| keys.len() < *k) {
                    best = Some((keys.len(), pred));
                }
            }
            let sql = render::subquery(src, best.as_ref().map(|(_, p)| p.as_str()));
            runs[i] = Some(self.fetch_source(src, sql, duck, timeout).await?);
        }
        Ok(runs.into_iter().flatten().collect())
    }

    /// Runs one source subquery (guard-checked in its dialect) and appends its rows
    /// to its staging table, failing past `max_source_rows`.
    async fn fetch_source(
        &self,
        src: &Source,
        sql: String,
        duck: &Arc<DuckdbBackend>,
        timeout: Duration,
    ) -> Result<SourceRun, EngineError> {
        let started = Instant::now();
        let fed = &self.config.federation;
        let max = fed.max_source_rows;
        let backend_error = |error| EngineError::Backend {
            connection: src.connection.clone(),
            error,
        };
        let c = self
            .conn(&src.connection)
            .ok_or_else(|| backend_error(BackendError::Other("unknown connection".into())))?;
        let checked =
            guard::check(&sql, src.dialect, false, None).map_err(|error| EngineError::Guard {
                connection: src.connection.clone(),
                error,
            })?;
        let opts = QueryOptions {
            row_limit: Some(max.saturating_add(1)),
            timeout: c.cfg.effective_timeout(&self.config.limits).min(timeout),
            allow_write: false,
            settings: Arc::default(),
        };
        tracing::debug!(connection = %src.connection, sql = %checked.sql, "federation source");
        let mut stream = match c
            .backend
            .query(&checked.sql, &opts)
            .await
            .map_err(backend_error)?
        {
            QueryResult::Rows(s) => s,
            QueryResult::Command { .. } => {
                return Err(backend_error(BackendError::Unsupported(
                    "the source subquery returned no rows".into(),
                )))
            }
        };
        let conn = duck.connection().map_err(backend_error)?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<RecordBatchMsg>(2);
        let staging = src.staging.clone();
        let schema = stream.schema.clone();
        let loader = tokio::task::spawn_blocking(move || -> Result<(), String> {
            let raw = stage::create(&conn, &staging, &schema).map_err(|e| e.to_string())?;
            {
                let mut app = conn.appender(&raw).map_err(|e| e.to_string())?;
                while let Some(b) = rx.blocking_recv() {
                    app.append_record_batch(b).map_err(|e| e.to_string())?;
                }
                app.flush().map_err(|e| e.to_string())?;
            }
            stage::finish(&conn, &staging, &raw, &schema).map_err(|e| e.to_string())
        });
        let mut rows = 0usize;
        let mut failure: Option<EngineError> = None;
        while let Some(b) = stream.batches.next().await {
            let b = match b {
                Ok(b) => b,
                Err(e) => {
                    failure = Some(backend_error(e));
                    break;
                }
            };
            rows += b.num_rows();
            if rows > max {
                failure = Some(backend_error(query_error(
                    "54000",
                    format!(
                        "source \"{}\" (table {}) returned more than {max} rows, the [federation] max_source_rows limit: add a filter, or raise the setting",
                        src.connection, src.table
                    ),
                )));
                break;
            }
            let b = match stage::prepare(&b) {
                Ok(b) => b,
                Err(m) => {
                    failure = Some(backend_error(BackendError::Convert(m)));
                    break;
                }
            };
            if tx.send(b).await.is_err() {
                break; // the loader failed; its error is read below
            }
        }
        drop(tx);
        drop(stream);
        let loaded = loader
            .await
            .map_err(|e| EngineError::Startup(format!("federation worker: {e}")))?;
        if let Some(f) = failure {
            return Err(f);
        }
        loaded.map_err(|m| EngineError::Backend {
            connection: src.connection.clone(),
            error: memory_error(BackendError::Other(m), fed.memory_limit),
        })?;
        Ok(SourceRun {
            connection: src.connection.clone(),
            dialect: src.dialect,
            sql: checked.sql,
            rows,
            elapsed: started.elapsed(),
        })
    }
}

type RecordBatchMsg = arrow::record_batch::RecordBatch;

/// DuckDB's out-of-memory error as `54000` naming the setting.
fn memory_error(e: BackendError, limit: usize) -> BackendError {
    let text = e.to_string();
    if text.to_ascii_lowercase().contains("out of memory") {
        query_error(
            "54000",
            format!(
                "the federated statement needs more memory than [federation] memory_limit ({limit} bytes) allows: add filters, or raise the setting ({text})"
            ),
        )
    } else {
        e
    }
}
