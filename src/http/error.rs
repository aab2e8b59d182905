//! JSON errors of the HTTP API: `{"error": {"code": "<SQLSTATE>", "message": …}}` with
//! an HTTP status that fits the SQLSTATE, and a JSON body extractor whose rejections
//! (malformed JSON, a body over `[http] max_body`) are such errors too.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::engine::EngineError;
use crate::session::SessionError;
use crate::store::StoreError;

/// An error answered as JSON.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// SQLSTATE, as on the wire.
    pub code: String,
    /// What went wrong and what to do.
    pub message: String,
    /// An extra hint, when there is one.
    pub hint: Option<String>,
}

/// The JSON body of an error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message of an error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// SQLSTATE (`42704` unknown object, `42501` not permitted, `22023` bad value, …).
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// What to try, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The HTTP status for a SQLSTATE.
pub fn status_of(code: &str) -> StatusCode {
    match code {
        "28000" | "28P01" => StatusCode::UNAUTHORIZED,
        "42501" | "25006" => StatusCode::FORBIDDEN,
        "42704" | "42P01" | "42703" => StatusCode::NOT_FOUND,
        "57014" => StatusCode::GATEWAY_TIMEOUT,
        "58000" | "58030" => StatusCode::BAD_GATEWAY,
        "54000" => StatusCode::PAYLOAD_TOO_LARGE,
        "0A000" => StatusCode::UNPROCESSABLE_ENTITY,
        "XX000" => StatusCode::INTERNAL_SERVER_ERROR,
        c if c.starts_with("08") => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl ApiError {
    /// An error with a SQLSTATE; the status follows from it.
    pub fn new(code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: status_of(code),
            code: code.to_string(),
            message: message.into(),
            hint: None,
        }
    }

    /// The same error with another HTTP status.
    pub fn with_status(mut self, status: StatusCode) -> ApiError {
        self.status = status;
        self
    }

    /// 401: no or wrong credentials.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new("28000", message)
    }

    /// 404: a chat session that does not exist.
    pub fn session_not_found(id: &str) -> ApiError {
        ApiError::new("42704", format!("Chat session not found: {id}"))
    }

    /// 503/502: the store failed.
    pub fn store(e: &StoreError) -> ApiError {
        tracing::warn!(error = %e, "store request failed");
        ApiError::new("58030", format!("the chat history store failed: {e}"))
            .with_status(StatusCode::SERVICE_UNAVAILABLE)
    }

    /// The error of a session rule (unknown connection, not permitted, bad value).
    pub fn session(e: &SessionError) -> ApiError {
        let (code, hint) = crate::wire::errors::session_code(e);
        let message = match e {
            SessionError::UnknownConnection { .. } => format!("Connection not found: {e}"),
            _ => e.to_string(),
        };
        ApiError {
            hint: hint.map(str::to_string),
            ..ApiError::new(code, message)
        }
    }

    /// The error of an engine operation.
    pub fn engine(e: &EngineError) -> ApiError {
        if let EngineError::Session(s) = e {
            return ApiError::session(s);
        }
        let (code, hint) = crate::wire::errors::engine_code(e);
        let message = match e {
            EngineError::NoConnections => {
                "No database connections specified: pass connection_ids or a chat_session_id whose session has connections".to_string()
            }
            _ => e.to_string(),
        };
        let code = code.to_string();
        match e {
            EngineError::Llm(_) | EngineError::Startup(_) => {
                tracing::warn!(error = %e, %code, "HTTP request failed")
            }
            _ => tracing::debug!(error = %e, %code, "HTTP request refused"),
        }
        let status = match e {
            EngineError::NoConnections => StatusCode::BAD_REQUEST,
            _ => status_of(&code),
        };
        ApiError {
            status,
            code,
            message,
            hint: hint.map(str::to_string),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.clone(),
                message: self.message.clone(),
                hint: self.hint.clone(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(self.body())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"dbguru\", charset=\"UTF-8\""),
            );
        }
        r
    }
}

/// A JSON request body; malformed JSON, wrong fields and bodies over `[http] max_body`
/// become [`ApiError`]s (400 / 413 / 415) instead of plain-text rejections.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(rejection(rej)),
        }
    }
}

fn rejection(rej: JsonRejection) -> ApiError {
    let status = rej.status();
    let text = rej.body_text();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            "54000",
            "request body too large (see [http] max_body)".to_string(),
        );
    }
    let code = match &rej {
        JsonRejection::JsonSyntaxError(_) => "42601",
        _ => "22023",
    };
    ApiError::new(code, text).with_status(if status.is_client_error() {
        status
    } else {
        StatusCode::BAD_REQUEST
    })
}
