//! The one place that answers what clients ask a PostgreSQL server about itself
//! (version, current schema, type lookups, run-time parameters) without a database.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::backends::types::{BatchBuilder, ColType, Value};

/// A small in-memory result.
pub type Table = (SchemaRef, Vec<RecordBatch>);

/// Builds a one-batch table from columns and rows.
pub fn table(cols: &[(&str, ColType)], rows: Vec<Vec<Value>>) -> Table {
    let cols: Vec<(String, ColType)> = cols.iter().map(|(n, t)| (n.to_string(), *t)).collect();
    let mut b = BatchBuilder::new(&cols);
    let schema = b.schema();
    for r in rows {
        if let Err(e) = b.push_row(r) {
            tracing::error!(error = %e, "probe table row does not fit its columns");
        }
    }
    match b.finish() {
        Ok(batch) => (schema, vec![batch]),
        Err(_) => (schema, vec![]),
    }
}

/// A one-column, one-row text table.
pub fn single(name: &str, value: &str) -> Table {
    table(
        &[(name, ColType::Text)],
        vec![vec![Value::Text(value.to_string())]],
    )
}

fn normalize(sql: &str) -> String {
    sql.trim()
        .trim_end_matches(';')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

/// Facts about the connection the probes need.
pub struct ProbeContext<'a> {
    /// Login user.
    pub user: &'a str,
    /// Reported server version (`server_version`).
    pub server_version: &'a str,
    /// The schema unqualified names resolve in: the session's target connection.
    pub schema: &'a str,
}

/// Answers a probe query, or `None` when `sql` is not one.
pub fn answer(sql: &str, ctx: &ProbeContext<'_>) -> Option<Table> {
    let q = normalize(sql);
    let version = || {
        format!(
            "PostgreSQL {} on x86_64-pc-linux-gnu, compiled by rustc",
            ctx.server_version
        )
    };
    Some(match q.as_str() {
        "select version()" | "select pg_catalog.version()" => single("version", &version()),
        "select current_schema()"
        | "select pg_catalog.current_schema()"
        | "select current_schema" => single("current_schema", ctx.schema),
        "select current_database()" | "select pg_catalog.current_database()" => {
            single("current_database", "dbguru")
        }
        "select current_user" | "select session_user" | "select user" | "select current_user()" => {
            single("current_user", ctx.user)
        }
        _ => {
            if q.starts_with("select oid, typbasetype from pg_type where typname = 'lo'") {
                return Some(table(
                    &[("oid", ColType::Int64), ("typbasetype", ColType::Int64)],
                    vec![],
                ));
            }
            if q.contains("pg_type") && (q.contains("hstore") || q.contains("to_regtype")) {
                return Some(table(
                    &[("oid", ColType::Int64), ("typarray", ColType::Int64)],
                    vec![],
                ));
            }
            return None;
        }
    })
}

/// Values of the PostgreSQL run-time parameters clients ask with SHOW.
pub fn show_parameter(
    name: &str,
    ctx: &ProbeContext<'_>,
    params: &std::collections::HashMap<String, String>,
) -> Option<String> {
    if name == "search_path" {
        // The target is the first schema of the path; a path set by the client is shown
        // as it was set while its first connection is still the target.
        let set = params.get(name).filter(|v| {
            crate::engine::settings::search_path_elements(v)
                .first()
                .is_some_and(|f| f.eq_ignore_ascii_case(ctx.schema))
        });
        return Some(match set {
            Some(v) => v.clone(),
            None if ctx.schema.is_empty() => "\"$user\", public".into(),
            None => ctx.schema.to_string(),
        });
    }
    if let Some(v) = params.get(name) {
        return Some(v.clone());
    }
    Some(match name {
        "transaction_isolation" | "default_transaction_isolation" => "read committed".into(),
        "server_version" => ctx.server_version.into(),
        "server_version_num" => "160006".into(),
        "server_encoding" | "client_encoding" => "UTF8".into(),
        "standard_conforming_strings" | "integer_datetimes" => "on".into(),
        "datestyle" => "ISO, MDY".into(),
        "timezone" => "UTC".into(),
        "intervalstyle" => "postgres".into(),
        "statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout" => "0".into(),
        "max_identifier_length" => "63".into(),
        "transaction_read_only" | "default_transaction_read_only" => "off".into(),
        "is_superuser" => "off".into(),
        "application_name" => String::new(),
        "lc_collate" | "lc_ctype" => "C.UTF-8".into(),
        "extra_float_digits" => "1".into(),
        _ => return None,
    })
}
