//! `GET /api/openapi.json`: the OpenAPI 3.1 document of every endpoint, generated from
//! the handlers' annotations and the body types (utoipa).

use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::{ErrorBody, ErrorDetail};
use super::model::{
    ConnRef, ConnectionOut, ConnectionRef, CreateSession, DatabaseResult, HealthOut, MessageOut,
    MultiQueryRequest, MultiQueryResponse, NoticeOut, PatchSession, QueryRequest, QueryResponse,
    SessionOut,
};
use super::{chat, query};

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        c.add_security_scheme(
            "api_token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "dbguru HTTP API", description = "Ask questions of several databases at once; chat sessions shared with the PostgreSQL wire (SET dbguru.session)."),
    paths(
        chat::create_session, chat::list_sessions, chat::get_session, chat::patch_session,
        chat::delete_session, chat::messages,
        query::multi_query, query::multi_query_stream, query::single_query,
        query::connections, query::health, document,
    ),
    components(schemas(
        ConnRef, ConnectionOut, ConnectionRef, CreateSession, DatabaseResult, HealthOut,
        MessageOut, MultiQueryRequest, MultiQueryResponse, NoticeOut, PatchSession,
        QueryRequest, QueryResponse, SessionOut, ErrorBody, ErrorDetail,
    )),
    modifiers(&Security),
    security(("basic" = []), ("api_token" = [])),
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
