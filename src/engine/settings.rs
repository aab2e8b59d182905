//! PostgreSQL run-time parameters (`SET name = value`): honoured or refused, never
//! swallowed.
//!
//! - Parameters the proxy itself answers for (`application_name`, `client_encoding`,
//!   `extra_float_digits`, `DateStyle` in ISO, `statement_timeout`, `search_path`, …)
//!   are kept in the session and shown by `SHOW`, whatever the target.
//! - For a PostgreSQL target every other ordinary parameter (`TimeZone`, `work_mem`,
//!   `lock_timeout`, `enable_seqscan`, …) is checked by the server at `SET` time and then
//!   applied to each statement of the session (`SET LOCAL` inside the statement's
//!   transaction), so it stays in force for this client only.
//! - For the other kinds a parameter without an equivalent is refused with `0A000`.
//! - Server-wide or unsafe forms (`SET GLOBAL`, `SET PERSIST`, `SET ROLE`,
//!   `SET SESSION AUTHORIZATION`, turning read-only off, DuckDB's external access and
//!   extension switches) are refused with `42501`/`0A000`.

use crate::backends::Dialect;

/// Why a `SET` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    /// Server-wide, identity-changing or safety-relevant parameter (`42501`).
    #[error("permission denied to set parameter \"{0}\" through dbguru")]
    Forbidden(String),
    /// No equivalent on the target database (`0A000`).
    #[error("parameter \"{name}\" cannot be set for connection \"{connection}\" ({kind}): it has no equivalent there")]
    Unsupported {
        /// Parameter.
        name: String,
        /// Target connection.
        connection: String,
        /// Its kind.
        kind: &'static str,
    },
    /// A value the proxy cannot honour (`22023`).
    #[error("invalid value for parameter \"{name}\": {message}")]
    InvalidValue {
        /// Parameter.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// What a `SET` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Kept in the session (and shown by `SHOW`); nothing reaches a database.
    Session,
    /// Kept in the session and applied to every statement on a PostgreSQL target.
    Forwarded,
    /// `search_path`: the first listed schema that is a connection becomes the target.
    SearchPath(Option<String>),
    /// `statement_timeout`: becomes the session's statement timeout.
    Timeout,
}

/// Parameters that change identity, server-wide state or dbguru's safety settings.
const FORBIDDEN: &[&str] = &[
    "session_authorization",
    "role",
    "default_transaction_read_only",
    "transaction_read_only",
    "session_replication_role",
    "enable_external_access",
    "allow_unsigned_extensions",
    "allow_community_extensions",
    "allow_unredacted_secrets",
    "autoinstall_known_extensions",
    "autoload_known_extensions",
    "extension_directory",
    "custom_extension_repository",
    "allowed_directories",
    "allowed_paths",
    "lock_configuration",
    "temp_directory",
    "secret_directory",
    "home_directory",
    "dynamic_library_path",
    "local_preload_libraries",
    "session_preload_libraries",
    "shared_preload_libraries",
    "log_statement",
    "log_min_duration_statement",
    "log_min_messages",
    "log_min_error_statement",
    "row_security",
    "sql_log_bin",
    "sql_safe_updates",
    "foreign_key_checks",
    "unique_checks",
];

/// Parameters the proxy answers for itself on every kind.
const SESSION_ONLY: &[&str] = &[
    "application_name",
    "client_encoding",
    "client_min_messages",
    "extra_float_digits",
    "standard_conforming_strings",
    "datestyle",
    "intervalstyle",
    "bytea_output",
    "idle_in_transaction_session_timeout",
    "default_transaction_isolation",
    "transaction_isolation",
    "escape_string_warning",
    "lc_messages",
    "synchronize_seqscans",
];

/// Decides what `SET name = value` does when plain SQL goes to `connection` of `kind`
/// (`None`: no target). `name` is lower-case as the command parser gives it.
pub fn classify(
    name: &str,
    value: &str,
    connection: Option<&str>,
    kind: Option<Dialect>,
) -> Result<Effect, SettingError> {
    let v = value.trim().trim_matches('\'').to_ascii_lowercase();
    let first_word = name.split_whitespace().next().unwrap_or("");
    if matches!(first_word, "global" | "persist" | "persist_only") || name.starts_with("@@") {
        return Err(SettingError::Forbidden(name.to_string()));
    }
    if name == "transaction" {
        // SET [SESSION CHARACTERISTICS AS] TRANSACTION …: read-only stays on.
        if v.contains("read write") {
            return Err(SettingError::Forbidden(
                "transaction read write (use SET dbguru.allow_write = on where permitted)".into(),
            ));
        }
        return Ok(Effect::Session);
    }
    if name.contains(' ') || FORBIDDEN.contains(&name) {
        return Err(SettingError::Forbidden(name.to_string()));
    }
    match name {
        "search_path" => {
            return Ok(Effect::SearchPath(None));
        }
        "statement_timeout" => return Ok(Effect::Timeout),
        "client_encoding" => {
            return if matches!(v.as_str(), "utf8" | "utf-8" | "unicode" | "default") {
                Ok(Effect::Session)
            } else {
                Err(SettingError::InvalidValue {
                    name: name.into(),
                    message: format!("{value} is not supported: dbguru speaks UTF8 only"),
                })
            };
        }
        "standard_conforming_strings" => {
            return if matches!(v.as_str(), "on" | "true" | "1" | "default") {
                Ok(Effect::Session)
            } else {
                Err(SettingError::InvalidValue {
                    name: name.into(),
                    message: "only on is supported".into(),
                })
            };
        }
        _ => {}
    }
    if SESSION_ONLY.contains(&name) {
        return Ok(Effect::Session);
    }
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && !name.starts_with("dbguru.");
    match kind {
        Some(Dialect::Postgres) if valid_name => Ok(Effect::Forwarded),
        // The other kinds run statements in UTC and have no per-statement settings.
        Some(_) if name == "timezone" && is_utc(&v) => Ok(Effect::Session),
        Some(k) => Err(SettingError::Unsupported {
            name: name.to_string(),
            connection: connection.unwrap_or_default().to_string(),
            kind: k.name(),
        }),
        None if valid_name => Ok(Effect::Session),
        None => Err(SettingError::Forbidden(name.to_string())),
    }
}

fn is_utc(v: &str) -> bool {
    matches!(
        v,
        "utc" | "gmt" | "etc/utc" | "etc/gmt" | "z" | "zulu" | "universal" | "default" | "+0" | "0"
    )
}

/// `search_path` elements, unquoted, in order (`"$user", public` → `$user`, `public`).
pub fn search_path_elements(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|p| {
            let p = p.trim();
            let p = p
                .strip_prefix('\'')
                .and_then(|p| p.strip_suffix('\''))
                .unwrap_or(p);
            match p.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
                Some(q) => q.replace("\"\"", "\""),
                None => p.to_ascii_lowercase(),
            }
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// The SQL literal of a setting value for `SET LOCAL name = …` (quoted as a string;
/// PostgreSQL accepts a string for every parameter).
pub fn value_literal(value: &str) -> String {
    let v = value.trim();
    let v = v
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .map(|s| s.replace("''", "'"))
        .unwrap_or_else(|| v.to_string());
    format!("'{}'", v.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_forms_are_refused() {
        for (n, v) in [
            ("global max_connections", "1"),
            ("role", "postgres"),
            ("session_authorization", "postgres"),
            ("default_transaction_read_only", "off"),
            ("enable_external_access", "true"),
            ("transaction", "characteristics as transaction read write"),
        ] {
            assert!(
                matches!(
                    classify(n, v, Some("shop"), Some(Dialect::Postgres)),
                    Err(SettingError::Forbidden(_))
                ),
                "{n}"
            );
        }
    }

    #[test]
    fn ordinary_settings_are_forwarded_or_refused_by_kind() {
        assert_eq!(
            classify(
                "timezone",
                "'Asia/Tokyo'",
                Some("pg"),
                Some(Dialect::Postgres)
            ),
            Ok(Effect::Forwarded)
        );
        assert!(matches!(
            classify(
                "timezone",
                "'Asia/Tokyo'",
                Some("shop"),
                Some(Dialect::Sqlite)
            ),
            Err(SettingError::Unsupported { .. })
        ));
        assert_eq!(
            classify("timezone", "UTC", Some("shop"), Some(Dialect::Sqlite)),
            Ok(Effect::Session)
        );
        assert_eq!(
            classify(
                "extra_float_digits",
                "3",
                Some("shop"),
                Some(Dialect::Duckdb)
            ),
            Ok(Effect::Session)
        );
        assert!(matches!(
            classify("work_mem", "'64MB'", Some("m"), Some(Dialect::Mysql)),
            Err(SettingError::Unsupported { .. })
        ));
    }

    #[test]
    fn search_path_and_literals() {
        assert_eq!(
            search_path_elements("\"$user\", public, Warehouse"),
            vec!["$user", "public", "warehouse"]
        );
        assert_eq!(search_path_elements("'shop'"), vec!["shop"]);
        assert_eq!(value_literal("'it''s'"), "'it''s'");
        assert_eq!(value_literal("Asia/Tokyo"), "'Asia/Tokyo'");
    }
}
