//! BSON documents to Arrow batches.
//!
//! Column types are chosen from the first batch of values and what the translator knows
//! ([`Hint`]): int → integer, long → bigint, double → double precision, decimal →
//! numeric, bool → boolean, string and ObjectId → text, date → timestamptz, embedded
//! documents and arrays → json (Extended JSON, relaxed). Mixed columns widen (int with
//! double → double precision; documents with anything else → text). A later value that
//! does not fit its column's type becomes NULL, with one warning per column.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use mongodb::bson::{Bson, Document};

use super::introspect::FieldType;
use super::sql::{Hint, OutColumn, Source};
use crate::backends::types::{BatchBuilder, ColType, Value};
use crate::backends::BackendError;

/// The value at `source` in `doc` (`None`: missing).
pub fn extract(doc: &Document, source: &Source) -> Option<Bson> {
    match source {
        Source::Key(k) => doc.get(k).cloned(),
        Source::Path(p) => {
            // A server may answer a projection of `a.b` with a literal `"a.b"` key.
            if let Some(v) = doc.get(p) {
                return Some(v.clone());
            }
            let parts: Vec<&str> = p.split('.').collect();
            lookup_doc(doc, &parts)
        }
    }
}

fn lookup_doc(doc: &Document, parts: &[&str]) -> Option<Bson> {
    let (first, rest) = parts.split_first()?;
    let v = doc.get(*first)?;
    lookup(v, rest)
}

fn lookup(v: &Bson, parts: &[&str]) -> Option<Bson> {
    let Some((first, rest)) = parts.split_first() else {
        return Some(v.clone());
    };
    match v {
        Bson::Document(d) => lookup_doc(d, parts),
        Bson::Array(items) => {
            if let Ok(i) = first.parse::<usize>() {
                return items.get(i).and_then(|x| lookup(x, rest));
            }
            // `items.sku` over an array of documents: the array of their values.
            let values: Vec<Bson> = items
                .iter()
                .filter_map(|x| match x {
                    Bson::Document(d) => lookup_doc(d, parts),
                    _ => None,
                })
                .collect();
            (!values.is_empty()).then_some(Bson::Array(values))
        }
        _ => None,
    }
}

/// The column type for a column with these first values and this hint.
pub fn infer<'a>(values: impl Iterator<Item = &'a Bson>, hint: Hint) -> ColType {
    match hint {
        Hint::Count => return ColType::Int64,
        Hint::Float => return ColType::Float64,
        _ => {}
    }
    let mut seen: Vec<FieldType> = Vec::new();
    for v in values {
        let t = FieldType::of(v);
        if t != FieldType::Null && !seen.contains(&t) {
            seen.push(t);
        }
    }
    if seen.is_empty() {
        return match hint {
            Hint::Field(t) => t.col_type(),
            Hint::Sum => ColType::Int64,
            _ => ColType::Text,
        };
    }
    let all = |f: &dyn Fn(FieldType) -> bool| seen.iter().all(|t| f(*t));
    if all(&|t| matches!(t, FieldType::Int | FieldType::Long)) {
        let wide = hint == Hint::Sum
            || seen.contains(&FieldType::Long)
            || matches!(hint, Hint::Field(FieldType::Long));
        if matches!(hint, Hint::Field(FieldType::Double)) {
            return ColType::Float64;
        }
        if matches!(hint, Hint::Field(FieldType::Decimal)) {
            return ColType::Numeric;
        }
        return if wide { ColType::Int64 } else { ColType::Int32 };
    }
    if all(&|t| matches!(t, FieldType::Int | FieldType::Long | FieldType::Double)) {
        return ColType::Float64;
    }
    if all(&FieldType::is_numeric) {
        return ColType::Numeric;
    }
    if seen.len() == 1 {
        return seen[0].col_type();
    }
    if all(&|t| matches!(t, FieldType::Object | FieldType::Array)) {
        return ColType::Json;
    }
    if all(&|t| matches!(t, FieldType::String | FieldType::ObjectId)) {
        return ColType::Text;
    }
    ColType::Text
}

/// A BSON value as Extended JSON text (relaxed).
pub fn json_text(v: &Bson) -> String {
    v.clone().into_relaxed_extjson().to_string()
}

/// A BSON value as plain text (strings unquoted, ObjectIds as hex, dates RFC 3339).
pub fn plain_text(v: &Bson) -> String {
    match v {
        Bson::String(s) | Bson::Symbol(s) => s.clone(),
        Bson::ObjectId(o) => o.to_hex(),
        Bson::Int32(i) => i.to_string(),
        Bson::Int64(i) => i.to_string(),
        Bson::Double(f) => f.to_string(),
        Bson::Boolean(b) => b.to_string(),
        Bson::Decimal128(d) => d.to_string(),
        Bson::DateTime(d) => d
            .try_to_rfc3339_string()
            .unwrap_or_else(|_| d.timestamp_millis().to_string()),
        other => json_text(other),
    }
}

/// Converts a value into column type `ty`; `Err` when it has no faithful form there.
pub(super) fn to_value(v: &Bson, ty: ColType) -> Result<Value, ()> {
    use ColType as C;
    if matches!(v, Bson::Null | Bson::Undefined) {
        return Ok(Value::Null);
    }
    Ok(match (ty, v) {
        (C::Text, other) => Value::Text(plain_text(other)),
        (C::Json, Bson::Document(_) | Bson::Array(_)) => Value::Text(json_text(v)),
        (C::Json, other) => Value::Text(json_text(other)),
        (C::Int32 | C::Int64 | C::Int16, Bson::Int32(i)) => Value::Int(i64::from(*i)),
        (C::Int32 | C::Int64 | C::Int16, Bson::Int64(i)) => Value::Int(*i),
        (C::Int32 | C::Int64 | C::Int16, Bson::Double(f))
            if f.fract() == 0.0 && f.abs() < 9.0e15 =>
        {
            Value::Int(*f as i64)
        }
        (C::Int32 | C::Int64 | C::Int16, Bson::Boolean(b)) => Value::Int(i64::from(*b)),
        (C::Float64 | C::Float32, Bson::Int32(i)) => Value::Float(f64::from(*i)),
        (C::Float64 | C::Float32, Bson::Int64(i)) => Value::Float(*i as f64),
        (C::Float64 | C::Float32, Bson::Double(f)) => Value::Float(*f),
        (C::Float64 | C::Float32, Bson::Decimal128(d)) => {
            Value::Float(d.to_string().parse::<f64>().map_err(|_| ())?)
        }
        (C::Numeric, Bson::Int32(_) | Bson::Int64(_) | Bson::Decimal128(_)) => {
            Value::Text(plain_text(v))
        }
        (C::Numeric, Bson::Double(f)) if f.is_finite() => Value::Text(f.to_string()),
        (C::Bool, Bson::Boolean(b)) => Value::Bool(*b),
        (C::TimestampTz | C::Timestamp, Bson::DateTime(d)) => {
            Value::Timestamp(d.timestamp_millis().saturating_mul(1000))
        }
        (C::Bytes, Bson::Binary(b)) => Value::Bytes(b.bytes.clone()),
        _ => return Err(()),
    })
}

/// Builds batches for a fixed set of columns, converting each document.
pub struct Reader {
    columns: Vec<OutColumn>,
    types: Vec<ColType>,
    builder: BatchBuilder,
    warned: Vec<bool>,
}

impl Reader {
    /// Chooses the column types from `first` (the first documents) and the hints.
    pub fn new(columns: Vec<OutColumn>, first: &[Document]) -> Reader {
        let mut types = Vec::with_capacity(columns.len());
        for c in &columns {
            let values: Vec<Bson> = first.iter().filter_map(|d| extract(d, &c.source)).collect();
            types.push(infer(values.iter(), c.hint));
        }
        let spec: Vec<(String, ColType)> = columns
            .iter()
            .zip(&types)
            .map(|(c, t)| (c.name.clone(), *t))
            .collect();
        Reader {
            warned: vec![false; columns.len()],
            builder: BatchBuilder::new(&spec),
            columns,
            types,
        }
    }

    /// The schema of the batches.
    pub fn schema(&self) -> SchemaRef {
        self.builder.schema()
    }

    /// Appends one document as a row.
    pub fn push(&mut self, doc: &Document) -> Result<(), BackendError> {
        let values: Vec<Bson> = self
            .columns
            .iter()
            .map(|c| extract(doc, &c.source).unwrap_or(Bson::Null))
            .collect();
        let row = values
            .iter()
            .enumerate()
            .map(|(i, v)| self.fit(i, v))
            .collect();
        self.builder.push_row(row)
    }

    /// Appends the row an aggregate without GROUP BY has over no documents: counts 0,
    /// everything else NULL.
    pub fn push_empty_aggregate(&mut self) -> Result<(), BackendError> {
        let row = self
            .columns
            .iter()
            .map(|c| {
                if c.hint == Hint::Count {
                    Value::Int(0)
                } else {
                    Value::Null
                }
            })
            .collect();
        self.builder.push_row(row)
    }

    fn fit(&mut self, i: usize, v: &Bson) -> Value {
        let ty = self.types.get(i).copied().unwrap_or(ColType::Text);
        match to_value(v, ty) {
            Ok(x) => x,
            Err(()) => {
                if let Some(w) = self.warned.get_mut(i).filter(|w| !**w) {
                    *w = true;
                    let name = self.columns.get(i).map(|c| c.name.as_str()).unwrap_or("?");
                    tracing::warn!(column = %name, column_type = ?ty, value = %json_text(v),
                        "MongoDB value does not fit the column's type; returned as NULL");
                }
                Value::Null
            }
        }
    }

    /// Rows pushed since the last batch.
    pub fn len(&self) -> usize {
        self.builder.len()
    }

    /// Whether no row was pushed since the last batch.
    pub fn is_empty(&self) -> bool {
        self.builder.is_empty()
    }

    /// The rows pushed so far as a batch.
    pub fn finish(&mut self) -> Result<RecordBatch, BackendError> {
        self.builder.finish()
    }
}

/// Result columns of a JSON pipeline: the top-level keys of the first documents, in
/// first-seen order (`_id` left out unless `keep_id`).
pub fn discover_columns(first: &[Document], keep_id: bool) -> Vec<OutColumn> {
    let mut names: Vec<String> = Vec::new();
    for d in first {
        for k in d.keys() {
            if (keep_id || k != "_id") && !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    // `_id` first, where MongoDB puts it.
    if let Some(pos) = names.iter().position(|n| n == "_id") {
        let id = names.remove(pos);
        names.insert(0, id);
    }
    names
        .into_iter()
        .map(|n| OutColumn {
            source: Source::Key(n.clone()),
            name: n,
            hint: Hint::Infer,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::{doc, oid::ObjectId, DateTime};

    #[test]
    fn paths_walk_documents_and_arrays() {
        let d =
            doc! {"a": {"b": {"c": 1}}, "items": [{"sku": "x"}, {"sku": "y"}, 3], "flat.key": 7};
        assert_eq!(
            extract(&d, &Source::Path("a.b.c".into())),
            Some(Bson::Int32(1))
        );
        assert_eq!(extract(&d, &Source::Path("a.x".into())), None);
        assert_eq!(
            extract(&d, &Source::Path("items.sku".into())),
            Some(Bson::Array(vec!["x".into(), "y".into()]))
        );
        assert_eq!(
            extract(&d, &Source::Path("items.1.sku".into())),
            Some(Bson::String("y".into()))
        );
        assert_eq!(
            extract(&d, &Source::Path("flat.key".into())),
            Some(Bson::Int32(7))
        );
    }

    #[test]
    fn inference() {
        let v = |xs: Vec<Bson>, h| infer(xs.iter(), h);
        assert_eq!(
            v(vec![Bson::Int32(1), Bson::Null], Hint::Infer),
            ColType::Int32
        );
        assert_eq!(
            v(vec![Bson::Int32(1), Bson::Int64(2)], Hint::Infer),
            ColType::Int64
        );
        assert_eq!(v(vec![Bson::Int32(1)], Hint::Sum), ColType::Int64);
        assert_eq!(
            v(vec![Bson::Int32(1), Bson::Double(2.5)], Hint::Infer),
            ColType::Float64
        );
        assert_eq!(
            v(vec![Bson::Int32(1)], Hint::Field(FieldType::Double)),
            ColType::Float64
        );
        assert_eq!(
            v(vec![], Hint::Field(FieldType::Date)),
            ColType::TimestampTz
        );
        assert_eq!(v(vec![], Hint::Infer), ColType::Text);
        assert_eq!(
            v(vec![Bson::ObjectId(ObjectId::new())], Hint::Infer),
            ColType::Text
        );
        assert_eq!(
            v(
                vec![Bson::Document(doc! {}), Bson::Array(vec![])],
                Hint::Infer
            ),
            ColType::Json
        );
        assert_eq!(
            v(vec![Bson::String("a".into()), Bson::Int32(1)], Hint::Infer),
            ColType::Text
        );
        assert_eq!(v(vec![Bson::Int32(1)], Hint::Count), ColType::Int64);
    }

    #[test]
    fn reader_builds_typed_batches() {
        let docs = vec![
            doc! {"c0": 1, "c1": "x", "c2": {"a": 1}, "c3": DateTime::from_millis(1500), "c4": true},
            doc! {"c0": 2.5, "c2": [1, 2]},
        ];
        let cols = (0..5)
            .map(|i| OutColumn {
                name: format!("n{i}"),
                source: Source::Key(format!("c{i}")),
                hint: Hint::Infer,
            })
            .collect();
        let mut r = Reader::new(cols, &docs);
        for d in &docs {
            r.push(d).expect("push");
        }
        let b = r.finish().expect("batch");
        assert_eq!(b.num_rows(), 2);
        let s = b.schema();
        assert_eq!(s.field(0).data_type(), &arrow::datatypes::DataType::Float64);
        assert_eq!(
            s.field(2)
                .metadata()
                .get(crate::backends::types::PG_TYPE_KEY)
                .map(String::as_str),
            Some("json")
        );
        assert!(matches!(
            s.field(3).data_type(),
            arrow::datatypes::DataType::Timestamp(_, Some(_))
        ));
        assert_eq!(s.field(4).data_type(), &arrow::datatypes::DataType::Boolean);
        assert!(b.column(1).is_null(1), "missing field is NULL");
    }

    #[test]
    fn pipeline_columns() {
        let docs = vec![doc! {"_id": "k", "n": 1}, doc! {"_id": "j", "m": 2, "n": 3}];
        let names: Vec<String> = discover_columns(&docs, true)
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, vec!["_id", "n", "m"]);
        let names: Vec<String> = discover_columns(&docs, false)
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, vec!["n", "m"]);
    }
}
