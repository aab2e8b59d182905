//! One ASK: the schemas in scope → table retrieval and business knowledge → prompt →
//! LLM → plan → guard → parallel execution → combine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use futures::future::join_all;
use futures::StreamExt;

use super::*;

impl Engine {
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
                    if let Some(l) = &snap.left_out {
                        notices.push(Notice::warning(
                            "01000",
                            format!("the schema of \"{}\" is incomplete: {l}", c.cfg.name),
                        ));
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

    pub(crate) fn check_plan(
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

    pub(crate) async fn complete(&self, req: &LlmRequest) -> Result<String, LlmError> {
        let started = Instant::now();
        let r = self.llm.complete(req).await;
        tracing::debug!(llm = %self.llm.name(), ms = started.elapsed().as_millis() as u64, ok = r.is_ok(), "llm call");
        r
    }

    /// Asks the model, parsing (and once repairing) its reply.
    pub(crate) async fn plan(
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
        // Business knowledge first (at most a quarter of the budget), then the tables in
        // what is left; the definitions' and examples' words help choose the tables.
        let previous: Vec<String> = ctx.history.iter().map(|t| t.question.clone()).collect();
        let budget = self.config.llm.schema_budget;
        let relevant = knowledge::relevant(
            &self.knowledge.snapshot(),
            question,
            &previous,
            &known,
            budget / 4,
        );
        let knowledge_text = relevant.prompt_text();
        let (sent, selection) = self.retrieve(
            &dbs,
            question,
            &relevant.retrieval_text(),
            budget.saturating_sub(schema::retrieve::tokens(&knowledge_text)),
            ctx,
        );
        if explain || ctx.show_sql {
            notices.push(Notice::info(selection.describe()));
            if !relevant.is_empty() {
                notices.push(Notice::info(relevant.describe()));
            }
        } else if !selection.is_complete() {
            notices.push(Notice::info(format!(
                "schema: {} of {} tables sent to the planner (EXPLAIN ASK lists them and why)",
                selection.chosen.len(),
                selection.total
            )));
        }
        let mut req = LlmRequest {
            messages: prompt::build(&sent, &knowledge_text, &ctx.history, question),
            databases: sent.iter().map(|(_, d)| d.clone()).collect(),
            question: question.to_string(),
            previous_questions: previous,
            examples: relevant
                .examples
                .iter()
                .map(|e| llm::Example {
                    question: e.question.clone(),
                    connection: e.connection.clone(),
                    sql: e.sql.clone(),
                })
                .collect(),
        };
        let schemas: Vec<DbSchema> = dbs.iter().map(|(_, d)| d.clone()).collect();
        // The knowledge sent is part of the key: a new example or term plans again.
        let key = ctx.use_cache.then(|| {
            cache::plan_key(
                &format!("{question}\n{knowledge_text}"),
                &schemas,
                &ctx.history,
            )
        });
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

    pub(crate) fn cached_outcome(
        &self,
        hit: cache::CachedResult,
        mut notices: Vec<Notice>,
    ) -> AskOutcome {
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

    pub(crate) async fn run_steps(
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
    pub(crate) async fn run_capped(
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
        // A statement that ends in its own `LIMIT n` with n ≤ cap + 1 (every query the
        // guard capped does) cannot return more: it needs no fetch limit, so the
        // backend takes its one-round-trip path (PostgreSQL streams without a portal).
        let row_limit = (!ends_with_limit(sql, cap + 1)).then_some(cap + 1);
        let opts = QueryOptions {
            row_limit,
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

/// Whether `sql` ends with `LIMIT n`, `n ≤ max` (a trailing `;` aside). A text that only
/// looks so (the words in a trailing comment) costs speed, not rows: the caller still
/// stops reading past the cap.
fn ends_with_limit(sql: &str, max: usize) -> bool {
    let mut words = sql
        .trim_end()
        .trim_end_matches(';')
        .split_whitespace()
        .rev();
    match (words.next(), words.next()) {
        (Some(n), Some(kw)) => {
            kw.eq_ignore_ascii_case("limit") && n.parse::<usize>().is_ok_and(|n| n <= max)
        }
        _ => false,
    }
}

/// One database's collected result.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) schema: SchemaRef,
    pub(crate) batches: Vec<RecordBatch>,
    pub(crate) rows: usize,
    pub(crate) truncated: bool,
    pub(crate) elapsed: Duration,
    /// A federated block: the databases that produced its rows and each source's run.
    pub(crate) federated: Option<(String, Vec<DbRun>)>,
}

#[cfg(test)]
mod tests {
    use super::ends_with_limit;

    #[test]
    fn a_trailing_limit_within_the_cap_is_seen() {
        assert!(ends_with_limit("SELECT v FROM t LIMIT 1001", 1001));
        assert!(ends_with_limit("select v from t limit 5 ;", 1001));
        assert!(!ends_with_limit("SELECT v FROM t LIMIT 5000", 1001));
        assert!(!ends_with_limit("SELECT v FROM t LIMIT 5 OFFSET 3", 1001));
        assert!(!ends_with_limit("SELECT 'LIMIT 5'", 1001));
        assert!(!ends_with_limit("SELECT v FROM t", 1001));
        assert!(!ends_with_limit("LIMIT", 1001));
    }
}
