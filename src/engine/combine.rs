//! Combining per-database results into one: `source_db` first, then the union of
//! columns by name in first-seen order, types unified as DESIGN.md says.

use std::sync::Arc;

use arrow::array::{new_null_array, Array, ArrayRef, StringArray};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use crate::pgtypes::{text_value, PgType};

/// Name of the first column of every combined result.
pub const SOURCE_COLUMN: &str = "source_db";

/// One database's successful result.
#[derive(Debug, Clone)]
pub struct Part {
    /// Connection name, written into `source_db`.
    pub source: String,
    /// Schema of `batches`.
    pub schema: SchemaRef,
    /// Rows.
    pub batches: Vec<RecordBatch>,
}

/// Errors while combining (only on internal inconsistencies).
#[derive(Debug, thiserror::Error)]
#[error("cannot combine results: {0}")]
pub struct CombineError(String);

/// Output column: (name, occurrence index of that name within one source).
type ColKey = (String, usize);

fn keys(schema: &Schema) -> Vec<ColKey> {
    let mut seen: Vec<&str> = Vec::new();
    schema
        .fields()
        .iter()
        .map(|f| {
            let n = seen.iter().filter(|s| **s == f.name().as_str()).count();
            seen.push(f.name());
            (f.name().clone(), n)
        })
        .collect()
}

/// The combined schema of several parts (also used to describe a result before rows exist).
pub fn combined_schema(parts: &[(String, SchemaRef)]) -> SchemaRef {
    let mut cols: Vec<(ColKey, PgType)> = Vec::new();
    for (_, schema) in parts {
        for (key, field) in keys(schema).into_iter().zip(schema.fields().iter()) {
            let t = PgType::of_field(field);
            match cols.iter_mut().find(|(k, _)| *k == key) {
                Some((_, existing)) => *existing = existing.unify(t),
                None => cols.push((key, t)),
            }
        }
    }
    let mut fields = vec![Field::new(SOURCE_COLUMN, DataType::Utf8, false)];
    fields.extend(cols.iter().map(|((name, _), t)| t.arrow_field(name)));
    Arc::new(Schema::new(fields))
}

fn convert(array: &ArrayRef, from: &Field, to: &Field) -> Result<ArrayRef, CombineError> {
    let (ft, tt) = (PgType::of_field(from), PgType::of_field(to));
    if from.data_type() == to.data_type() && ft == tt {
        return Ok(array.clone());
    }
    // Text-like targets take PostgreSQL's text form, so dates and floats read the same
    // as they would on their own.
    if to.data_type() == &DataType::Utf8 {
        let values: StringArray = (0..array.len())
            .map(|i| text_value(array.as_ref(), i))
            .collect();
        return Ok(Arc::new(values));
    }
    cast_with_options(
        array,
        to.data_type(),
        &CastOptions {
            safe: false,
            ..Default::default()
        },
    )
    .map_err(|e| CombineError(format!("column {:?}: {e}", to.name())))
}

/// Combines parts into batches of `schema` (from [`combined_schema`]).
pub fn combine(parts: &[Part]) -> Result<(SchemaRef, Vec<RecordBatch>), CombineError> {
    let schema = combined_schema(
        &parts
            .iter()
            .map(|p| (p.source.clone(), p.schema.clone()))
            .collect::<Vec<_>>(),
    );
    let out_keys: Vec<ColKey> = keys(&schema).into_iter().skip(1).collect();
    let mut out = Vec::new();
    for part in parts {
        let part_keys = keys(&part.schema);
        for batch in &part.batches {
            let n = batch.num_rows();
            if n == 0 {
                continue;
            }
            let mut arrays: Vec<ArrayRef> =
                vec![Arc::new(StringArray::from(vec![part.source.as_str(); n]))];
            for (i, key) in out_keys.iter().enumerate() {
                let to = schema.field(i + 1);
                match part_keys.iter().position(|k| k == key) {
                    Some(src) => {
                        arrays.push(convert(batch.column(src), part.schema.field(src), to)?)
                    }
                    None => arrays.push(new_null_array(to.data_type(), n)),
                }
            }
            out.push(
                RecordBatch::try_new(schema.clone(), arrays)
                    .map_err(|e| CombineError(e.to_string()))?,
            );
        }
    }
    Ok((schema, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::types::{BatchBuilder, ColType, Value};

    fn part(source: &str, cols: &[(&str, ColType)], rows: Vec<Vec<Value>>) -> Part {
        let cols: Vec<(String, ColType)> = cols.iter().map(|(n, t)| (n.to_string(), *t)).collect();
        let mut b = BatchBuilder::new(&cols);
        for r in rows {
            b.push_row(r).expect("row");
        }
        Part {
            source: source.into(),
            schema: b.schema(),
            batches: vec![b.finish().expect("batch")],
        }
    }

    #[test]
    fn union_by_name_with_type_rules() {
        let a = part(
            "shop",
            &[("n", ColType::Int64), ("only_a", ColType::Text)],
            vec![vec![Value::Int(3), Value::Text("x".into())]],
        );
        let b = part(
            "wh",
            &[("n", ColType::Float64), ("d", ColType::Date)],
            vec![vec![Value::Float(2.5), Value::Date(19723)]],
        );
        let c = part(
            "pg",
            &[("d", ColType::Text), ("n", ColType::Numeric)],
            vec![vec![Value::Text("soon".into()), Value::Text("1.25".into())]],
        );
        let (schema, batches) = combine(&[a, b, c]).expect("combines");
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, vec!["source_db", "n", "only_a", "d"]);
        assert_eq!(PgType::of_field(schema.field(1)), PgType::Numeric);
        assert_eq!(PgType::of_field(schema.field(3)), PgType::Text);
        let text = |b: usize, c: usize| text_value(batches[b].column(c).as_ref(), 0);
        assert_eq!(text(0, 0).as_deref(), Some("shop"));
        assert_eq!(text(0, 1).as_deref(), Some("3"));
        assert_eq!(text(1, 1).as_deref(), Some("2.5"));
        assert_eq!(text(1, 2), None);
        assert_eq!(text(1, 3).as_deref(), Some("2024-01-01"));
        assert_eq!(text(2, 1).as_deref(), Some("1.25"));
    }

    #[test]
    fn int_and_float_become_float8() {
        let a = part("a", &[("v", ColType::Int32)], vec![vec![Value::Int(1)]]);
        let b = part(
            "b",
            &[("v", ColType::Float64)],
            vec![vec![Value::Float(0.5)]],
        );
        let (schema, _) = combine(&[a, b]).expect("combines");
        assert_eq!(PgType::of_field(schema.field(1)), PgType::Float8);
    }
}
