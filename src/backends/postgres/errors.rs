//! Driver errors as [`BackendError`]s, with secrets scrubbed.

use std::error::Error as StdError;
use std::time::Duration;

use deadpool_postgres::PoolError;

use crate::backends::worker::scrub;
use crate::backends::{BackendError, ServerError};

pub(super) fn pool_error(e: PoolError, secrets: &[String]) -> BackendError {
    let msg = match &e {
        PoolError::Backend(e) => match e.as_db_error() {
            // The server refused the connection (pg_hba.conf, authentication...):
            // its SQLSTATE says why.
            Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
            None => error_chain(e),
        },
        other => other.to_string(),
    };
    BackendError::Connect(scrub(&msg, secrets))
}

/// Maps a driver error: database errors keep their SQLSTATE (25006 → read-only,
/// 57014 from `statement_timeout` → timeout); broken connections → `Connect`.
pub(super) fn pg_error(
    e: tokio_postgres::Error,
    timeout: Duration,
    secrets: &[String],
) -> BackendError {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let message = scrub(db.message(), secrets);
        return match code {
            "25006" => BackendError::ReadOnly(message),
            "57014" if message.contains("statement timeout") => BackendError::Timeout(timeout),
            _ => {
                let own = |v: Option<&str>| v.map(|v| scrub(v, secrets));
                BackendError::Server(Box::new(ServerError {
                    sqlstate: code.to_string(),
                    message,
                    detail: own(db.detail()),
                    hint: own(db.hint()),
                    position: db.position().map(|p| match p {
                        tokio_postgres::error::ErrorPosition::Original(n) => n.to_string(),
                        tokio_postgres::error::ErrorPosition::Internal { position, .. } => {
                            position.to_string()
                        }
                    }),
                    schema: own(db.schema()),
                    table: own(db.table()),
                    column: own(db.column()),
                    datatype: own(db.datatype()),
                    constraint: own(db.constraint()),
                }))
            }
        };
    }
    let text = scrub(&error_chain(&e), secrets);
    let shown = e.to_string();
    if e.is_closed()
        || shown.starts_with("error connecting")
        || shown.starts_with("error communicating")
        || shown.starts_with("error performing TLS")
        || shown.starts_with("authentication error")
        || shown.starts_with("timeout waiting")
    {
        BackendError::Connect(text)
    } else if shown.starts_with("expected ") && shown.contains("parameters") {
        BackendError::Query {
            sqlstate: Some("42P02".into()),
            message: format!("the statement has parameters but none were given ({text})"),
        }
    } else {
        BackendError::Other(text)
    }
}

/// `error: cause: cause` — the driver's top-level messages say little on their own.
pub(super) fn error_chain(e: &dyn StdError) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !out.contains(&part) {
            out.push_str(": ");
            out.push_str(&part);
        }
        source = s.source();
    }
    out
}
