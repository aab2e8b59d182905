//! `/api/chat/sessions…`: create, list, read, rename/re-connect, delete a chat session,
//! and read its messages. Sessions are the store's rows the wire resumes with
//! `SET dbguru.session`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;

use crate::session::Session;

use super::error::{ApiError, ApiJson, ErrorBody};
use super::model::{CreateSession, ListParams, MessageOut, PatchSession, SessionOut};
use super::{Caller, State as AppStateRef};

/// Create a chat session.
#[utoipa::path(post, path = "/api/chat/sessions", tag = "chat",
    request_body = CreateSession,
    responses(
        (status = 200, description = "The new session", body = SessionOut),
        (status = 400, description = "Empty connection list", body = ErrorBody),
        (status = 403, description = "A connection or owner the user may not use", body = ErrorBody),
        (status = 404, description = "Connection not found", body = ErrorBody),
        (status = 413, description = "Body over [http] max_body", body = ErrorBody)))]
pub async fn create_session(
    State(st): State<AppStateRef>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CreateSession>,
) -> Result<Json<SessionOut>, ApiError> {
    let cfg = &st.engine.config;
    let owner = match body.user_id.as_deref().map(str::trim) {
        None | Some("") => caller.clone(),
        Some(u) if u == caller.name => caller.clone(),
        Some(u) if caller.admin => cfg
            .user(u)
            .cloned()
            .ok_or_else(|| ApiError::new("42704", format!("unknown user \"{u}\"")))?,
        Some(u) => {
            return Err(ApiError::new(
                "42501",
                format!(
                    "permission denied: user \"{}\" may not create sessions for \"{u}\"",
                    caller.name
                ),
            ))
        }
    };
    let mut s = Session::new(&owner.name);
    if let Some(refs) = &body.connection_ids {
        s.connections = Some(st.resolve(&owner, refs)?);
    }
    s.chat_name = body.name.filter(|n| !n.trim().is_empty());
    let rec = s.record(cfg, &owner);
    st.engine
        .save_chat_session(&rec)
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok(Json(st.session_out(&rec, 0)))
}

/// List chat sessions, newest activity first.
#[utoipa::path(get, path = "/api/chat/sessions", tag = "chat",
    params(ListParams),
    responses(
        (status = 200, description = "Sessions", body = Vec<SessionOut>),
        (status = 403, description = "Another user's sessions (admin only)", body = ErrorBody)))]
pub async fn list_sessions(
    State(st): State<AppStateRef>,
    Caller(caller): Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<Vec<SessionOut>>, ApiError> {
    let owner = match params.user_id.as_deref().map(str::trim) {
        None | Some("") if caller.admin => None,
        None | Some("") => Some(caller.name.clone()),
        Some(u) if u == caller.name || caller.admin => Some(u.to_string()),
        Some(u) => {
            return Err(ApiError::new(
                "42501",
                format!(
                    "permission denied: user \"{}\" may not list the sessions of \"{u}\"",
                    caller.name
                ),
            ))
        }
    };
    let limit = params.limit.unwrap_or(50).clamp(1, 1000);
    let sessions = st
        .engine
        .chat_session_page(owner.as_deref(), limit)
        .await
        .map_err(|e| ApiError::store(&e))?;
    let counts = st
        .engine
        .chat_message_counts()
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok(Json(
        sessions
            .iter()
            .map(|s| st.session_out(s, counts.get(&s.id).copied().unwrap_or(0)))
            .collect(),
    ))
}

async fn count(st: &AppStateRef, id: uuid::Uuid) -> Result<i64, ApiError> {
    Ok(st
        .engine
        .chat_message_counts()
        .await
        .map_err(|e| ApiError::store(&e))?
        .get(&id)
        .copied()
        .unwrap_or(0))
}

/// One chat session.
#[utoipa::path(get, path = "/api/chat/sessions/{id}", tag = "chat",
    params(("id" = String, Path, description = "Session UUID")),
    responses(
        (status = 200, description = "The session", body = SessionOut),
        (status = 403, description = "Another user's session", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody)))]
pub async fn get_session(
    State(st): State<AppStateRef>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<SessionOut>, ApiError> {
    let loaded = st.owned_session(&caller, &id).await?;
    let n = count(&st, loaded.session.id).await?;
    Ok(Json(st.session_out(&loaded.session, n)))
}

/// Rename a session or change its connections.
#[utoipa::path(patch, path = "/api/chat/sessions/{id}", tag = "chat",
    params(("id" = String, Path, description = "Session UUID")),
    request_body = PatchSession,
    responses(
        (status = 200, description = "The updated session", body = SessionOut),
        (status = 400, description = "Empty connection list", body = ErrorBody),
        (status = 403, description = "Another user's session, or a connection the user may not use", body = ErrorBody),
        (status = 404, description = "No such session or connection", body = ErrorBody)))]
pub async fn patch_session(
    State(st): State<AppStateRef>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchSession>,
) -> Result<Json<SessionOut>, ApiError> {
    let loaded = st.owned_session(&caller, &id).await?;
    let cfg = &st.engine.config;
    let owner = cfg
        .user(&loaded.session.owner)
        .cloned()
        .unwrap_or(caller.clone());
    let mut rec = loaded.session.clone();
    if let Some(refs) = &body.connection_ids {
        let names = st.resolve(&owner, refs)?;
        rec.connection_ids = names
            .iter()
            .filter_map(|n| cfg.connection(n).map(|c| c.id()))
            .collect();
    }
    if let Some(name) = body.name {
        rec.name = Some(name).filter(|n| !n.trim().is_empty());
    }
    rec.updated_at = chrono::Utc::now();
    st.engine
        .save_chat_session(&rec)
        .await
        .map_err(|e| ApiError::store(&e))?;
    let n = count(&st, rec.id).await?;
    Ok(Json(st.session_out(&rec, n)))
}

/// Delete a session with its messages and query history.
#[utoipa::path(delete, path = "/api/chat/sessions/{id}", tag = "chat",
    params(("id" = String, Path, description = "Session UUID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Another user's session", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody)))]
pub async fn delete_session(
    State(st): State<AppStateRef>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let loaded = st.owned_session(&caller, &id).await?;
    st.engine
        .delete_chat_session(loaded.session.id)
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The messages of a session, oldest first.
#[utoipa::path(get, path = "/api/chat/sessions/{id}/messages", tag = "chat",
    params(("id" = String, Path, description = "Session UUID")),
    responses(
        (status = 200, description = "Messages", body = Vec<MessageOut>),
        (status = 403, description = "Another user's session", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody)))]
pub async fn messages(
    State(st): State<AppStateRef>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<MessageOut>>, ApiError> {
    let loaded = st.owned_session(&caller, &id).await?;
    let msgs = st
        .engine
        .chat_messages(loaded.session.id)
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok(Json(
        msgs.into_iter()
            .map(|m| MessageOut {
                id: m.id,
                chat_session_id: m.session_id.to_string(),
                role: m.role,
                content: m.content,
                query_history_id: m.query_history_id,
                databases_used: m.databases_used.and_then(|d| serde_json::from_str(&d).ok()),
                created_at: m.created_at,
            })
            .collect(),
    ))
}
