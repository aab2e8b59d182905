//! The one place an internal error becomes a wire error: SQLSTATE, message, hint,
//! and the log level it deserves.

use pgwire::error::{ErrorInfo, PgWireError};

use crate::backends::BackendError;
use crate::engine::guard::GuardError;
use crate::engine::settings::SettingError;
use crate::engine::{backend_sqlstate, EngineError};
use crate::llm::LlmError;
use crate::session::SessionError;
use crate::wire::command::SyntaxError;

/// Builds an ERROR with a SQLSTATE and optional hint.
pub fn error(code: &str, message: impl Into<String>, hint: Option<&str>) -> ErrorInfo {
    let mut e = ErrorInfo::new("ERROR".into(), code.into(), message.into());
    e.hint = hint.map(str::to_string);
    e
}

/// SQLSTATE and hint for a session error.
pub fn session_code(e: &SessionError) -> (&'static str, Option<&'static str>) {
    match e {
        SessionError::UnknownSetting(_) => (
            "42704",
            Some("SHOW dbguru.connections lists the active connections"),
        ),
        SessionError::InvalidValue { .. } => ("22023", None),
        SessionError::UnknownConnection { .. } => {
            ("42704", Some("SELECT * FROM dbguru.connections lists them"))
        }
        SessionError::NotPermitted(_) => ("42501", None),
    }
}

/// Maps an engine error to what the client sees.
pub fn engine_error(e: &EngineError) -> ErrorInfo {
    let (code, hint) = engine_code(e);
    match e {
        EngineError::Backend { .. } | EngineError::AllFailed(_) => {
            tracing::info!(error = %e, code, "statement failed")
        }
        EngineError::Llm(_) | EngineError::Startup(_) => {
            tracing::warn!(error = %e, code, "statement failed")
        }
        _ => tracing::debug!(error = %e, code, "statement refused"),
    }
    let mut info = error(code, e.to_string(), hint);
    if let EngineError::Backend {
        error: BackendError::Server(s),
        ..
    } = e
    {
        server_fields(&mut info, s);
    }
    info
}

/// Copies the fields of a PostgreSQL error onto the client's error.
fn server_fields(info: &mut ErrorInfo, s: &crate::backends::ServerError) {
    info.detail = s.detail.clone();
    if s.hint.is_some() {
        info.hint = s.hint.clone();
    }
    info.position = s.position.clone();
    info.schema = s.schema.clone();
    info.table = s.table.clone();
    info.column = s.column.clone();
    info.datatype = s.datatype.clone();
    info.constraint = s.constraint.clone();
}

/// The SQLSTATE and hint of an engine error (also used by the HTTP API's JSON errors).
pub fn engine_code(e: &EngineError) -> (&str, Option<&'static str>) {
    match e {
        EngineError::Session(s) => session_code(s),
        EngineError::EmptyQuestion => ("22023", None),
        EngineError::NoConnections => ("42704", None),
        EngineError::Llm(l) => match l {
            LlmError::Timeout(_) => (
                "57014",
                Some("raise [llm] timeout or ask a simpler question"),
            ),
            LlmError::Unreachable(_) | LlmError::Http { .. } => (
                "58000",
                Some("check [llm] base_url, model and api_key; plain SQL still works"),
            ),
            LlmError::Malformed(_) => (
                "58000",
                Some("the endpoint is not an OpenAI-compatible chat-completions API"),
            ),
            LlmError::Unsupported(_) => (
                "0A000",
                Some("configure [llm] provider = \"openai\" for open-ended questions"),
            ),
        },
        EngineError::Plan(_) => ("42601", Some("rephrase the question, or see EXPLAIN ASK")),
        EngineError::Guard { error, .. } => match error {
            GuardError::Unparsable { .. }
            | GuardError::Empty
            | GuardError::MultipleStatements(_) => ("42601", None),
            GuardError::WriteNotAllowed(_) => ("25006", None),
            GuardError::Forbidden(_) | GuardError::ForbiddenFunction(_) => ("42501", None),
            GuardError::Limit(l) => (
                l.sqlstate(),
                Some("shorten the statement: use IN (...) lists instead of long OR or + chains, or split it"),
            ),
        },
        EngineError::AllFailed(errors) => (
            errors
                .first()
                .map(|(_, e)| backend_sqlstate(e))
                .unwrap_or("58000"),
            None,
        ),
        EngineError::Backend { error, .. } => (backend_sqlstate(error), None),
        EngineError::Startup(_) => ("58000", None),
        EngineError::Block { sqlstate, .. } => (sqlstate, None),
        EngineError::Route(_) => (
            "0A000",
            Some("run a read across connections outside the transaction block (it is federated there), or use ASK"),
        ),
        EngineError::Knowledge(k) => (k.sqlstate(), None),
        EngineError::Setting(s) => match s {
            SettingError::Forbidden(_) => ("42501", None),
            SettingError::Unsupported { .. } => ("0A000", None),
            SettingError::InvalidValue { .. } => ("22023", None),
        },
    }
}

/// A syntax error in a dbguru statement.
pub fn syntax_error(e: &SyntaxError) -> ErrorInfo {
    error("42601", e.to_string(), None)
}

/// A session error.
pub fn session_error(e: &SessionError) -> ErrorInfo {
    let (code, hint) = session_code(e);
    error(code, e.to_string(), hint)
}

/// A backend error in the middle of a row stream.
pub fn stream_error(e: BackendError) -> PgWireError {
    let code = backend_sqlstate(&e).to_string();
    let mut info = error(&code, e.to_string(), None);
    if let BackendError::Server(s) = &e {
        server_fields(&mut info, s);
    }
    PgWireError::UserError(Box::new(info))
}

/// Wraps an ErrorInfo for pgwire.
pub fn user_error(e: ErrorInfo) -> PgWireError {
    PgWireError::UserError(Box::new(e))
}

/// COPY in either direction: not supported (0A000).
pub fn copy_unsupported() -> ErrorInfo {
    error("0A000", "COPY is not supported through dbguru", None)
}
