//! The HTTP front door: the REST API of the reference guide (`/api/chat/sessions`,
//! `/api/multi-query/`, `/api/query/`, `/api/connections`, `/api/health`,
//! `/api/openapi.json`) and the chat page at `/`, on the same engine facade as the wire
//! ([`crate::engine::Engine::ask_turn`]): same users, allowlists, guard, limits, caches
//! and history rows. It never writes the store's history itself.

mod auth;
mod chat;
pub mod error;
pub mod model;
mod openapi;
mod page;
mod query;
mod rows;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::{ConnectionConfig, ConnectionKind, UserConfig};
use crate::engine::sessions::ChatError;
use crate::engine::Engine;
use crate::session::Session;
use crate::store::SessionRecord;

use self::auth::Authenticator;
use self::error::ApiError;
use self::model::{ConnRef, ConnectionRef, SessionOut};

/// Shared by every request.
pub struct AppState {
    /// The engine (the same one the wire uses).
    pub engine: Arc<Engine>,
    auth: Authenticator,
}

type State = Arc<AppState>;

/// The authenticated user of a request.
pub struct Caller(pub UserConfig);

impl FromRequestParts<State> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
            .ok_or_else(|| ApiError::unauthorized("peer address unknown"))?;
        state.auth.authenticate(&parts.headers, peer).map(Caller)
    }
}

/// `postgresql`, `mysql`, `sqlite`, `duckdb`, `mongodb` (the guide's `database_type`).
pub fn database_type(kind: ConnectionKind) -> &'static str {
    match kind {
        ConnectionKind::Postgres => "postgresql",
        other => other.name(),
    }
}

impl AppState {
    fn database_name(&self, c: &ConnectionConfig) -> String {
        match &c.path {
            Some(p) => self.engine.config.resolve(p).display().to_string(),
            None => self
                .engine
                .connection_health(&c.name)
                .database
                .unwrap_or_default(),
        }
    }

    fn connection_ref(&self, c: &ConnectionConfig) -> ConnectionRef {
        ConnectionRef {
            id: c.id(),
            name: c.name.clone(),
            database_type: database_type(c.kind).into(),
            database_name: self.database_name(c),
        }
    }

    /// The JSON of a stored session.
    fn session_out(&self, rec: &SessionRecord, message_count: i64) -> SessionOut {
        let cfg = &self.engine.config;
        SessionOut {
            id: rec.id.to_string(),
            name: rec.name.clone(),
            user_id: rec.owner.clone(),
            active_connection_ids: rec.connection_ids.clone(),
            connections: rec
                .connection_ids
                .iter()
                .filter_map(|id| cfg.connections.iter().find(|c| c.id() == *id))
                .map(|c| self.connection_ref(c))
                .collect(),
            created_at: rfc3339(&rec.created_at),
            updated_at: rfc3339(&rec.updated_at),
            last_active_at: rfc3339(&rec.last_active_at),
            message_count,
        }
    }

    /// Canonical names of `refs` (ids or names) the user may use: 404 for an unknown
    /// one, 403 for one the user may not use, 400 for an empty list.
    fn resolve(&self, user: &UserConfig, refs: &[ConnRef]) -> Result<Vec<String>, ApiError> {
        let list: Vec<String> = refs.iter().map(ConnRef::text).collect();
        let names = Session::resolve_connections(&self.engine.config, user, &list)
            .map_err(|e| ApiError::session(&e))?;
        if names.is_empty() {
            return Err(ApiError::new(
                "22023",
                "No database connections specified: connection_ids is empty",
            ));
        }
        Ok(names)
    }

    /// Loads a session the caller may see: 404 when it does not exist, 403 when it is
    /// another user's (unless the caller is an admin).
    async fn owned_session(
        &self,
        user: &UserConfig,
        id: &str,
    ) -> Result<crate::store::LoadedSession, ApiError> {
        let uuid = uuid::Uuid::parse_str(id.trim()).map_err(|_| ApiError::session_not_found(id))?;
        let loaded = self
            .engine
            .open_chat_session(uuid, user)
            .await
            .map_err(|e| match e {
                ChatError::NotFound(_) => ApiError::session_not_found(id),
                ChatError::NotYours(_) => ApiError::new(e.sqlstate(), e.to_string()),
                ChatError::Store(e) => ApiError::store(&e),
            })?;
        Ok(loaded)
    }

    /// A wire-equivalent session resumed from the store, owned by its owner.
    fn resumed(&self, user: &UserConfig, loaded: crate::store::LoadedSession) -> Session {
        let mut s = Session::new(&loaded.session.owner);
        s.resume(&self.engine.config, user, loaded);
        s
    }
}

fn rfc3339(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The router of the API and the page.
pub fn router(engine: Arc<Engine>) -> Router {
    let http = engine.config.http.clone();
    let state: State = Arc::new(AppState {
        auth: Authenticator::new(&engine.config),
        engine,
    });
    let api = Router::new()
        .route("/api/health", get(query::health))
        .route("/api/connections", get(query::connections))
        .route("/api/openapi.json", get(openapi::document))
        .route(
            "/api/chat/sessions",
            get(chat::list_sessions).post(chat::create_session),
        )
        .route(
            "/api/chat/sessions/{id}",
            get(chat::get_session)
                .patch(chat::patch_session)
                .delete(chat::delete_session),
        )
        .route("/api/chat/sessions/{id}/messages", get(chat::messages))
        .route("/api/multi-query", post(query::multi_query))
        .route("/api/multi-query/", post(query::multi_query))
        .route("/api/multi-query/stream", post(query::multi_query_stream))
        .route("/api/query", post(query::single_query))
        .route("/api/query/", post(query::single_query))
        .fallback(api_not_found)
        .with_state(state);
    let mut app = Router::new()
        .route("/", get(page::index))
        .route("/assets/{file}", get(page::asset))
        .merge(api)
        .layer(DefaultBodyLimit::max(http.max_body));
    if !http.allow_origins.is_empty() {
        let origins = if http.allow_origins.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(
                http.allow_origins
                    .iter()
                    .filter_map(|o| HeaderValue::from_str(o).ok()),
            )
        };
        app = app.layer(
            CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
                .allow_headers([
                    axum::http::header::CONTENT_TYPE,
                    axum::http::header::AUTHORIZATION,
                ]),
        );
    }
    app
}

async fn api_not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new("42704", format!("no such endpoint: {}", uri.path()))
}

/// Binds `[http] listen` and serves until `stop` fires; returns the bound address.
pub async fn serve(
    engine: Arc<Engine>,
    listen: &str,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = router(engine).into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        let r = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.await;
            })
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "HTTP server stopped with an error");
        }
    });
    tracing::info!(%addr, "dbguru HTTP API and chat page listening");
    Ok((addr, task))
}
