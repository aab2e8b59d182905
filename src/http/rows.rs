//! Arrow result sets as JSON: numbers stay numbers, booleans booleans, NULL null, and
//! everything else the PostgreSQL text form the wire would send.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use serde_json::{Map, Number, Value};

use crate::pgtypes::{text_value, PgType};

fn json_value(t: PgType, text: Option<String>) -> Value {
    let Some(text) = text else {
        return Value::Null;
    };
    match t {
        PgType::Bool => Value::Bool(matches!(text.as_str(), "t" | "true")),
        PgType::Int2 | PgType::Int4 | PgType::Int8 => text
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.parse::<u64>().map(Value::from))
            .unwrap_or(Value::String(text)),
        PgType::Float4 | PgType::Float8 | PgType::Numeric => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::String(text)),
        PgType::Json => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        _ => Value::String(text),
    }
}

/// Column names of a result.
pub fn columns(schema: &SchemaRef) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

/// Every row as an array of values, in column order.
pub fn arrays(batches: &[RecordBatch]) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    for b in batches {
        let types: Vec<PgType> = b
            .schema()
            .fields()
            .iter()
            .map(|f| PgType::of_field(f))
            .collect();
        for row in 0..b.num_rows() {
            out.push(
                b.columns()
                    .iter()
                    .zip(&types)
                    .map(|(col, t)| json_value(*t, text_value(col.as_ref(), row)))
                    .collect(),
            );
        }
    }
    out
}

/// The rows of `source` (first column `source_db`) of a combined result as objects keyed
/// by column name, without `source_db` and keeping only the columns in `own` (the ones
/// this database returned; all when `own` is empty).
pub fn objects_of_source(
    columns: &[String],
    rows: &[Vec<Value>],
    source: &str,
    own: &[String],
) -> Vec<Map<String, Value>> {
    rows.iter()
        .filter(|r| r.first().and_then(Value::as_str) == Some(source))
        .map(|r| {
            columns
                .iter()
                .zip(r)
                .skip(1)
                .filter(|(c, _)| own.is_empty() || own.contains(c))
                .map(|(c, v)| (c.clone(), v.clone()))
                .collect()
        })
        .collect()
}
