//! `/api/multi-query/` (and its server-sent-events `stream` variant), `/api/query/`,
//! `/api/connections` and `/api/health`. Every question goes through
//! [`crate::engine::Engine::ask_turn`], the facade the wire uses too.

use std::convert::Infallible;
use std::sync::Mutex;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures::Stream;
use tokio::sync::mpsc;

use crate::config::UserConfig;
use crate::engine::turn::{Progress, TurnOutcome, TurnRequest};
use crate::session::Session;

use super::error::{ApiError, ApiJson, ErrorBody};
use super::model::{
    ConnRef, ConnectionOut, DatabaseResult, HealthOut, MultiQueryRequest, MultiQueryResponse,
    NoticeOut, QueryRequest, QueryResponse,
};
use super::{database_type, rfc3339, rows, Caller, State as AppStateRef};

/// A session ready for one turn, and the `ON` list of the turn.
struct Prepared {
    session: Mutex<Session>,
    on: Option<Vec<String>>,
}

/// Builds the session of a multi-query: the stored one (`chat_session_id`), else a new
/// one on `connection_ids`, else a new one on the user's default connections.
async fn prepare(
    st: &AppStateRef,
    user: &UserConfig,
    req: &MultiQueryRequest,
) -> Result<Prepared, ApiError> {
    let cfg = &st.engine.config;
    let (mut session, on) = match req.chat_session_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => {
            let loaded = st.owned_session(user, id).await?;
            let on = match &req.connection_ids {
                Some(refs) => Some(st.resolve(user, refs)?),
                None => None,
            };
            (st.resumed(user, loaded), on)
        }
        None => {
            let mut s = Session::new(&user.name);
            if let Some(refs) = &req.connection_ids {
                s.connections = Some(st.resolve(user, refs)?);
            }
            (s, None)
        }
    };
    let set = |s: &mut Session, name: &str, value: &str| {
        s.set(cfg, user, name, value)
            .map_err(|e| ApiError::session(&e))
    };
    if req.allow_write {
        set(&mut session, "dbguru.allow_write", "on")?;
    }
    set(
        &mut session,
        "dbguru.use_cache",
        if req.use_cache { "on" } else { "off" },
    )?;
    if let Some(n) = req.max_rows {
        set(&mut session, "dbguru.max_rows", &n.to_string())?;
    }
    if let Some(t) = req.timeout_seconds {
        if !(t.is_finite() && t > 0.0) {
            return Err(ApiError::new(
                "22023",
                format!("timeout_seconds must be a positive number, not {t}"),
            ));
        }
        set(
            &mut session,
            "dbguru.timeout",
            &format!("{}ms", (t * 1000.0).ceil() as u64),
        )?;
    }
    Ok(Prepared {
        session: Mutex::new(session),
        on,
    })
}

fn chat_id(p: &Prepared) -> String {
    match p.session.lock() {
        Ok(s) => s.chat_id.to_string(),
        Err(e) => e.into_inner().chat_id.to_string(),
    }
}

/// The guide's response from one turn.
fn response(
    st: &AppStateRef,
    question: &str,
    chat_session_id: String,
    turn: TurnOutcome,
) -> MultiQueryResponse {
    let cfg = &st.engine.config;
    let outcome = turn.outcome;
    let (columns, all_rows) = match &outcome.result {
        Some((schema, batches)) => (rows::columns(schema), rows::arrays(batches)),
        None => (Vec::new(), Vec::new()),
    };
    let database_results: Vec<DatabaseResult> = outcome
        .runs
        .iter()
        .map(|r| {
            let c = cfg.connection(&r.connection);
            DatabaseResult {
                connection_id: c.map(|c| c.id()).unwrap_or_default(),
                connection_name: r.connection.clone(),
                database_type: c.map(|c| database_type(c.kind)).unwrap_or("").into(),
                sql: r.sql.clone(),
                success: r.error.is_none(),
                results: if r.error.is_none() {
                    rows::objects_of_source(&columns, &all_rows, &r.connection, &r.columns)
                } else {
                    Vec::new()
                },
                row_count: r.rows,
                execution_time_ms: r.elapsed.as_secs_f64() * 1000.0,
                error: r.error.clone(),
            }
        })
        .collect();
    let mut notices: Vec<NoticeOut> = outcome
        .notices
        .iter()
        .map(|n| NoticeOut {
            severity: n.severity.into(),
            code: n.code.clone(),
            message: n.message.clone(),
        })
        .collect();
    if let Some(w) = &turn.store_warning {
        notices.push(NoticeOut {
            severity: w.severity.into(),
            code: w.code.clone(),
            message: w.message.clone(),
        });
    }
    MultiQueryResponse {
        query_id: turn.query_id,
        question: question.to_string(),
        chat_session_id,
        total_databases_queried: database_results.len(),
        total_rows: database_results.iter().map(|d| d.row_count).sum(),
        total_execution_time_ms: turn.elapsed.as_secs_f64() * 1000.0,
        database_results,
        warnings: notices
            .iter()
            .filter(|n| n.severity == "WARNING")
            .map(|n| n.message.clone())
            .collect(),
        notices,
        cached: outcome.cached,
        timestamp: rfc3339(&chrono::Utc::now()),
        columns,
        rows: all_rows,
    }
}

async fn run_turn(
    st: &AppStateRef,
    user: &UserConfig,
    req: &MultiQueryRequest,
    progress: Option<mpsc::UnboundedSender<Progress>>,
) -> Result<MultiQueryResponse, ApiError> {
    let prepared = prepare(st, user, req).await?;
    let id = chat_id(&prepared);
    let turn = st
        .engine
        .ask_turn(
            &prepared.session,
            user,
            TurnRequest {
                question: &req.question,
                on: prepared.on.as_deref(),
                explain: false,
                progress,
            },
        )
        .await
        .map_err(|e| ApiError::engine(&e.error))?;
    Ok(response(st, &req.question, id, turn))
}

/// Ask one question of several databases.
#[utoipa::path(post, path = "/api/multi-query/", tag = "query",
    request_body = MultiQueryRequest,
    responses(
        (status = 200, description = "The answer, per database and combined", body = MultiQueryResponse),
        (status = 400, description = "No database connections specified, empty question, bad value", body = ErrorBody),
        (status = 403, description = "A connection, session or write the user may not use", body = ErrorBody),
        (status = 404, description = "Connection or chat session not found", body = ErrorBody),
        (status = 413, description = "Body over [http] max_body", body = ErrorBody),
        (status = 422, description = "A question beyond the builtin planner", body = ErrorBody),
        (status = 502, description = "LLM or every database failed", body = ErrorBody)))]
pub async fn multi_query(
    State(st): State<AppStateRef>,
    Caller(user): Caller,
    ApiJson(req): ApiJson<MultiQueryRequest>,
) -> Result<Json<MultiQueryResponse>, ApiError> {
    run_turn(&st, &user, &req, None).await.map(Json)
}

fn event<T: serde::Serialize>(name: &str, data: &T) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|_| Event::default().event(name))
}

fn progress_event(p: &Progress) -> Event {
    match p {
        Progress::Planned(steps) => event(
            "plan",
            &steps
                .iter()
                .map(|(c, sql)| serde_json::json!({"connection_name": c, "sql": sql}))
                .collect::<Vec<_>>(),
        ),
        Progress::Finished {
            connection,
            sql,
            rows,
            ms,
            error,
        } => event(
            "database",
            &serde_json::json!({
                "connection_name": connection, "sql": sql, "row_count": rows,
                "execution_time_ms": ms, "success": error.is_none(), "error": error,
            }),
        ),
    }
}

/// The same as multi-query, as server-sent events: `plan` (the SQL per database),
/// `database` (each database as it finishes), then `result` (the multi-query response)
/// or `error` (`{"error": {...}}`).
#[utoipa::path(post, path = "/api/multi-query/stream", tag = "query",
    request_body = MultiQueryRequest,
    responses((status = 200, description = "text/event-stream: plan, database…, result | error", content_type = "text/event-stream", body = String)))]
pub async fn multi_query_stream(
    State(st): State<AppStateRef>,
    Caller(user): Caller,
    ApiJson(req): ApiJson<MultiQueryRequest>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (out_tx, mut out_rx) = mpsc::channel::<Event>(64);
    tokio::spawn(async move {
        let (ptx, mut prx) = mpsc::unbounded_channel::<Progress>();
        let work = run_turn(&st, &user, &req, Some(ptx));
        tokio::pin!(work);
        let result = loop {
            tokio::select! {
                Some(p) = prx.recv() => {
                    if out_tx.send(progress_event(&p)).await.is_err() {
                        // The client went away: dropping `work` stops the answer.
                        return;
                    }
                }
                r = &mut work => break r,
            }
        };
        while let Ok(p) = prx.try_recv() {
            let _ = out_tx.send(progress_event(&p)).await;
        }
        let last = match result {
            Ok(r) => event("result", &r),
            Err(e) => event("error", &e.body()),
        };
        let _ = out_tx.send(last).await;
    });
    let stream = futures::stream::poll_fn(move |cx| out_rx.poll_recv(cx).map(|o| o.map(Ok)));
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Ask one connection (the guide's compatibility endpoint).
#[utoipa::path(post, path = "/api/query/", tag = "query",
    request_body = QueryRequest,
    responses(
        (status = 200, description = "The answer of one database", body = QueryResponse),
        (status = 400, description = "No connection, empty question", body = ErrorBody),
        (status = 404, description = "Connection not found", body = ErrorBody)))]
pub async fn single_query(
    State(st): State<AppStateRef>,
    Caller(user): Caller,
    ApiJson(req): ApiJson<QueryRequest>,
) -> Result<Json<QueryResponse>, ApiError> {
    let cfg = &st.engine.config;
    let conn = match &req.connection_id {
        Some(c) => c.clone(),
        None => ConnRef::Name(
            cfg.connections
                .iter()
                .find(|c| user.may_use(&c.name))
                .map(|c| c.name.clone())
                .ok_or_else(|| {
                    ApiError::new(
                        "22023",
                        "No database connections specified: the user may use none",
                    )
                })?,
        ),
    };
    let multi = MultiQueryRequest {
        question: req.question.clone(),
        chat_session_id: req.chat_session_id.clone(),
        connection_ids: Some(vec![conn]),
        allow_write: req.allow_write,
        use_cache: req.use_cache,
        max_rows: None,
        timeout_seconds: None,
    };
    let r = run_turn(&st, &user, &multi, None).await?;
    let db = r
        .database_results
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::new("XX000", "the answer named no database"))?;
    Ok(Json(QueryResponse {
        query_id: r.query_id,
        question: r.question,
        chat_session_id: r.chat_session_id,
        connection_id: db.connection_id,
        connection_name: db.connection_name,
        database_type: db.database_type,
        sql: db.sql,
        success: db.success,
        results: db.results,
        row_count: db.row_count,
        execution_time_ms: db.execution_time_ms,
        error: db.error,
        warnings: r.warnings,
        cached: r.cached,
        timestamp: r.timestamp,
    }))
}

/// The connections the user may use, with their last health check.
#[utoipa::path(get, path = "/api/connections", tag = "meta",
    responses((status = 200, description = "Connections", body = Vec<ConnectionOut>)))]
pub async fn connections(
    State(st): State<AppStateRef>,
    Caller(user): Caller,
) -> Json<Vec<ConnectionOut>> {
    let cfg = &st.engine.config;
    Json(
        cfg.connections
            .iter()
            .filter(|c| user.may_use(&c.name))
            .map(|c| {
                let h = st.engine.connection_health(&c.name);
                ConnectionOut {
                    id: c.id(),
                    name: c.name.clone(),
                    database_type: database_type(c.kind).into(),
                    database_name: st.database_name(c),
                    status: h.status,
                    error: h.error,
                    last_checked: h.last_checked.as_ref().map(rfc3339),
                    latency_ms: h.latency_ms,
                    tables: h.tables,
                    read_only: c.read_only,
                    description: c.description.clone(),
                }
            })
            .collect(),
    )
}

/// Liveness: the proxy answers, with its store kind and connection counts.
#[utoipa::path(get, path = "/api/health", tag = "meta",
    responses((status = 200, description = "Up", body = HealthOut)))]
pub async fn health(State(st): State<AppStateRef>) -> Json<HealthOut> {
    let cfg = &st.engine.config;
    Json(HealthOut {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        store: st.engine.store_kind().into(),
        connections: cfg.connections.len(),
        connections_up: cfg
            .connections
            .iter()
            .filter(|c| st.engine.connection_health(&c.name).status == "up")
            .count(),
    })
}
