//! Staging tables in the embedded DuckDB: one per source, created from the Arrow schema
//! of the source's rows and filled with DuckDB's Arrow appender. PostgreSQL/MySQL
//! `numeric` values travel as exact decimal text; they are exposed to the combining
//! statement as `DECIMAL(38, s)` (s = the largest scale fetched), so a MySQL `DECIMAL`
//! joins and compares with a PostgreSQL `numeric` as numbers, not as text.

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use duckdb::Connection;

use crate::backends::types::PG_TYPE_KEY;
use crate::backends::Dialect;

use super::render::{ident, literal};

/// Largest decimal scale kept for `numeric` columns.
const MAX_SCALE: usize = 18;

fn is_numeric(f: &Field) -> bool {
    f.data_type() == &DataType::Utf8
        && f.metadata().get(PG_TYPE_KEY).map(String::as_str) == Some("numeric")
}

/// The DuckDB column type for an Arrow field, and whether values must be cast to text.
fn duck_type(f: &Field) -> (&'static str, bool) {
    match f.data_type() {
        DataType::Boolean => ("BOOLEAN", false),
        DataType::Int16 => ("SMALLINT", false),
        DataType::Int32 => ("INTEGER", false),
        DataType::Int64 => ("BIGINT", false),
        DataType::Float32 => ("REAL", false),
        DataType::Float64 => ("DOUBLE", false),
        DataType::Utf8 => ("VARCHAR", false),
        DataType::Binary => ("BLOB", false),
        DataType::Date32 => ("DATE", false),
        DataType::Timestamp(_, None) => ("TIMESTAMP", false),
        DataType::Timestamp(_, Some(_)) => ("TIMESTAMPTZ", false),
        DataType::Time64(_) => ("TIME", false),
        _ => ("VARCHAR", true),
    }
}

/// The name of the table rows are appended to (`<staging>_raw` when a view converts
/// numeric columns on top of it).
pub(crate) fn raw_name(staging: &str, schema: &Schema) -> String {
    if schema.fields().iter().any(|f| is_numeric(f)) {
        format!("{staging}_raw")
    } else {
        staging.to_string()
    }
}

/// Creates the table rows of `schema` are appended to.
pub(crate) fn create(conn: &Connection, staging: &str, schema: &Schema) -> duckdb::Result<String> {
    let raw = raw_name(staging, schema);
    let cols: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{} {}", ident(f.name(), Dialect::Duckdb), duck_type(f).0))
        .collect();
    conn.execute_batch(&format!(
        "CREATE TABLE {} ({})",
        ident(&raw, Dialect::Duckdb),
        cols.join(", ")
    ))?;
    Ok(raw)
}

/// `batch` with every column the appender cannot take cast to text, and no metadata.
pub(crate) fn prepare(batch: &RecordBatch) -> Result<RecordBatch, String> {
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (f, a) in schema.fields().iter().zip(batch.columns()) {
        if duck_type(f).1 {
            fields.push(Field::new(f.name(), DataType::Utf8, true));
            arrays.push(cast(a, &DataType::Utf8).map_err(|e| e.to_string())?);
        } else {
            fields.push(Field::new(f.name(), f.data_type().clone(), true));
            arrays.push(Arc::clone(a));
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)) as SchemaRef, arrays)
        .map_err(|e| e.to_string())
}

/// After loading: the view that exposes numeric text as decimals (when `raw` differs
/// from `staging`).
pub(crate) fn finish(
    conn: &Connection,
    staging: &str,
    raw: &str,
    schema: &Schema,
) -> duckdb::Result<()> {
    if raw == staging {
        return Ok(());
    }
    let d = Dialect::Duckdb;
    let mut cols = Vec::new();
    for f in schema.fields() {
        let c = ident(f.name(), d);
        if is_numeric(f) {
            let scale: Option<i64> = conn.query_row(
                &format!(
                    "SELECT max(length(split_part({c}, '.', 2))) FROM {}",
                    ident(raw, d)
                ),
                [],
                |r| r.get(0),
            )?;
            let scale = usize::try_from(scale.unwrap_or(0))
                .unwrap_or(0)
                .min(MAX_SCALE);
            cols.push(format!("CAST({c} AS DECIMAL(38, {scale})) AS {c}"));
        } else {
            cols.push(c);
        }
    }
    conn.execute_batch(&format!(
        "CREATE VIEW {} AS SELECT {} FROM {}",
        ident(staging, d),
        cols.join(", "),
        ident(raw, d)
    ))
}

/// The distinct non-NULL values of `column` in a staging table as literals of
/// `dialect`, or `None` when there are more than `max` or one is neither an integer
/// nor a string.
pub(crate) fn keys(
    conn: &Connection,
    staging: &str,
    column: &str,
    max: usize,
    dialect: Dialect,
) -> duckdb::Result<Option<Vec<String>>> {
    use duckdb::types::Value as V;
    let d = Dialect::Duckdb;
    let c = ident(column, d);
    let mut stmt = conn.prepare(&format!(
        "SELECT DISTINCT {c} FROM {} WHERE {c} IS NOT NULL ORDER BY 1 LIMIT {}",
        ident(staging, d),
        max.saturating_add(1)
    ))?;
    let values: Vec<V> = stmt
        .query_map([], |r| r.get::<_, V>(0))?
        .collect::<duckdb::Result<_>>()?;
    if values.len() > max {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        out.push(match v {
            V::TinyInt(x) => x.to_string(),
            V::SmallInt(x) => x.to_string(),
            V::Int(x) => x.to_string(),
            V::BigInt(x) => x.to_string(),
            V::HugeInt(x) => x.to_string(),
            V::UTinyInt(x) => x.to_string(),
            V::USmallInt(x) => x.to_string(),
            V::UInt(x) => x.to_string(),
            V::UBigInt(x) => x.to_string(),
            V::Text(s) => literal(&s, dialect),
            _ => return Ok(None),
        });
    }
    Ok(Some(out))
}
