//! Sampled values of low-cardinality text columns (`status`, `country`, `segment`…): up
//! to `[llm] sample_values` distinct values per column, read when a schema is
//! introspected. They go to the LLM beside the column and count in table retrieval, so
//! "cancelled orders" finds `orders.status = 'cancelled'`.
//!
//! Bounded: at most [`MAX_COLUMNS`] columns per connection and [`TIME_BUDGET`] in all,
//! tables the database estimates above [`MAX_TABLE_ROWS`] rows are skipped, and columns
//! whose names suggest personal data or secrets (names, e-mail, phone, address, password,
//! token, …) are never read. `sample_values = 0` on a connection turns it off.

use std::time::{Duration, Instant};

use arrow::array::{Array, StringArray};
use arrow::datatypes::DataType;
use futures::StreamExt;

use crate::backends::{Backend, ColumnInfo, Dialect, QueryOptions, QueryResult, SchemaInfo};
use crate::engine::federate::render;

/// Most columns sampled per connection and introspection.
pub const MAX_COLUMNS: usize = 300;
/// Longest all samples of one connection may take.
pub const TIME_BUDGET: Duration = Duration::from_secs(10);
/// Tables estimated larger than this are not sampled (a DISTINCT would scan them).
pub const MAX_TABLE_ROWS: i64 = 1_000_000;
/// Longest value kept; a column with a longer one is not categorical.
const MAX_VALUE_CHARS: usize = 60;
/// One statement's limit.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// Name parts of columns never sampled: personal data, free text and secrets.
const NEVER: &[&str] = &[
    "name",
    "email",
    "mail",
    "phone",
    "mobile",
    "fax",
    "address",
    "street",
    "zip",
    "postal",
    "url",
    "uri",
    "link",
    "description",
    "desc",
    "comment",
    "note",
    "text",
    "body",
    "title",
    "message",
    "subject",
    "password",
    "passwd",
    "pass",
    "secret",
    "token",
    "hash",
    "salt",
    "key",
    "iban",
    "card",
    "ssn",
    "tax",
    "uuid",
    "guid",
    "id",
    "ip",
    "login",
    "user",
    "username",
    "path",
    "file",
    "json",
    "xml",
    "html",
    "sku",
    "code",
    "number",
    "no",
    "ref",
];

/// Whether a column is worth sampling: text, and not personal, free text or secret.
fn candidate(c: &ColumnInfo) -> bool {
    let t = c.data_type.to_ascii_lowercase();
    let text = ["char", "text", "string", "enum", "varchar"]
        .iter()
        .any(|k| t.contains(k));
    if !text || c.primary_key {
        return false;
    }
    let lower = c.name.to_lowercase();
    let parts: Vec<&str> = lower
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|p| !p.is_empty())
        .collect();
    // camelCase names: check the lower-cased whole name's known endings as well.
    !parts.iter().any(|p| NEVER.contains(p))
        && !NEVER
            .iter()
            .any(|n| n.len() > 3 && lower.ends_with(n) && lower.len() > n.len())
}

/// Fills `samples` of the low-cardinality text columns of `schema` (at most `per_column`
/// values each; a column with more distinct values gets none).
pub async fn fill(backend: &dyn Backend, schema: &mut SchemaInfo, per_column: usize) {
    let dialect = backend.dialect();
    if per_column == 0 || dialect == Dialect::Mongodb {
        return;
    }
    let started = Instant::now();
    let mut done = 0usize;
    for t in &mut schema.tables {
        if t.rows.is_some_and(|n| n > MAX_TABLE_ROWS) {
            continue;
        }
        let table = render::table(&t.name, dialect);
        for c in t.columns.iter_mut().filter(|c| candidate(c)) {
            if done >= MAX_COLUMNS || started.elapsed() > TIME_BUDGET {
                tracing::debug!(table = %t.name, "sampling budget spent");
                return;
            }
            done += 1;
            let col = render::ident(&c.name, dialect);
            let sql = format!(
                "SELECT DISTINCT {col} FROM {table} WHERE {col} IS NOT NULL LIMIT {}",
                per_column + 1
            );
            match distinct(backend, &sql, per_column + 1).await {
                Some(values) if values.len() <= per_column => c.samples = values,
                Some(_) => {}
                None => tracing::debug!(table = %t.name, column = %c.name, "not sampled"),
            }
        }
    }
}

/// The values of a one-column query as text (`None` when it failed or a value is long).
async fn distinct(backend: &dyn Backend, sql: &str, limit: usize) -> Option<Vec<String>> {
    let opts = QueryOptions {
        row_limit: Some(limit),
        timeout: QUERY_TIMEOUT,
        ..QueryOptions::default()
    };
    let QueryResult::Rows(mut stream) = backend.query(sql, &opts).await.ok()? else {
        return None;
    };
    let mut out = Vec::new();
    while let Some(batch) = stream.batches.next().await {
        let batch = batch.ok()?;
        let col = arrow::compute::cast(batch.column(0), &DataType::Utf8).ok()?;
        let strings = col.as_any().downcast_ref::<StringArray>()?;
        for i in 0..strings.len() {
            if strings.is_null(i) {
                continue;
            }
            let v = strings.value(i);
            if v.chars().count() > MAX_VALUE_CHARS || v.contains(['\n', '\r']) {
                return None;
            }
            out.push(v.to_string());
        }
        if out.len() >= limit {
            break;
        }
    }
    out.sort();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, ty: &str) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            data_type: ty.into(),
            ..Default::default()
        }
    }

    #[test]
    fn only_categorical_looking_text_columns_are_sampled() {
        for (name, ty) in [
            ("status", "varchar(20)"),
            ("country", "TEXT"),
            ("segment", "VARCHAR"),
            ("order_status", "character varying"),
            ("paymentMethod", "text"),
            ("priority", "enum('low','high')"),
        ] {
            assert!(candidate(&col(name, ty)), "{name} {ty}");
        }
        for (name, ty) in [
            ("amount", "numeric(12,2)"),
            ("first_name", "text"),
            ("email", "text"),
            ("api_token", "text"),
            ("password_hash", "text"),
            ("customerName", "varchar(50)"),
            ("home_address", "text"),
            ("id", "text"),
            ("created_at", "timestamptz"),
        ] {
            assert!(!candidate(&col(name, ty)), "{name} {ty}");
        }
    }
}
