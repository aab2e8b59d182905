//! How database values become Arrow.
//!
//! Row-oriented drivers (PostgreSQL, MySQL, SQLite) decode each value into a
//! [`Value`] and push rows into a [`BatchBuilder`]; DuckDB hands over Arrow itself.
//! PostgreSQL types that Arrow has no type for travel as Utf8 with the field
//! metadata key [`PG_TYPE_KEY`] naming the PostgreSQL type (`numeric`, `json`,
//! `uuid`, `interval`), so the wire encoder can announce the right OID.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Float32Builder, Float64Builder,
    Int16Builder, Int32Builder, Int64Builder, StringBuilder, Time64MicrosecondBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;

use super::BackendError;

/// Field metadata key naming the PostgreSQL type of a Utf8 column that is not plain text.
pub const PG_TYPE_KEY: &str = "dbguru.pg_type";

/// Arrow field metadata key holding a PostgreSQL type OID for a text column whose values
/// are already in that type's text form (array columns of the virtual catalog: `1009`
/// for `text[]`); such a column is always sent in text format.
pub const PG_OID_KEY: &str = "dbguru.pg_oid";

/// Rows per Arrow batch produced by the row-oriented backends.
pub const BATCH_ROWS: usize = 1024;

/// The column types a row-oriented backend can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// boolean
    Bool,
    /// smallint
    Int16,
    /// integer
    Int32,
    /// bigint
    Int64,
    /// real
    Float32,
    /// double precision
    Float64,
    /// numeric / decimal, carried as its exact decimal text
    Numeric,
    /// text / varchar / char
    Text,
    /// bytea / blob
    Bytes,
    /// date
    Date,
    /// timestamp without time zone
    Timestamp,
    /// timestamp with time zone (values are UTC microseconds)
    TimestampTz,
    /// time without time zone
    Time,
    /// json / jsonb, carried as text
    Json,
    /// uuid, carried as text
    Uuid,
    /// interval, carried as PostgreSQL's text form
    Interval,
}

impl ColType {
    /// The Arrow field for a column of this type.
    pub fn field(self, name: &str) -> Field {
        let (dt, pg) = match self {
            ColType::Bool => (DataType::Boolean, None),
            ColType::Int16 => (DataType::Int16, None),
            ColType::Int32 => (DataType::Int32, None),
            ColType::Int64 => (DataType::Int64, None),
            ColType::Float32 => (DataType::Float32, None),
            ColType::Float64 => (DataType::Float64, None),
            ColType::Numeric => (DataType::Utf8, Some("numeric")),
            ColType::Text => (DataType::Utf8, None),
            ColType::Bytes => (DataType::Binary, None),
            ColType::Date => (DataType::Date32, None),
            ColType::Timestamp => (DataType::Timestamp(TimeUnit::Microsecond, None), None),
            ColType::TimestampTz => (
                DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
                None,
            ),
            ColType::Time => (DataType::Time64(TimeUnit::Microsecond), None),
            ColType::Json => (DataType::Utf8, Some("json")),
            ColType::Uuid => (DataType::Utf8, Some("uuid")),
            ColType::Interval => (DataType::Utf8, Some("interval")),
        };
        let field = Field::new(name, dt, true);
        match pg {
            Some(t) => {
                field.with_metadata(HashMap::from([(PG_TYPE_KEY.to_string(), t.to_string())]))
            }
            None => field,
        }
    }
}

/// One decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// boolean
    Bool(bool),
    /// any integer
    Int(i64),
    /// any float
    Float(f64),
    /// text, numeric text, json text, uuid text, interval text
    Text(String),
    /// raw bytes
    Bytes(Vec<u8>),
    /// days since 1970-01-01
    Date(i32),
    /// microseconds since 1970-01-01 00:00:00 (UTC for timestamptz)
    Timestamp(i64),
    /// microseconds since midnight
    Time(i64),
}

enum Col {
    Bool(BooleanBuilder),
    I16(Int16Builder),
    I32(Int32Builder),
    I64(Int64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    Str(StringBuilder),
    Bin(BinaryBuilder),
    Date(Date32Builder),
    Ts(TimestampMicrosecondBuilder, Option<Arc<str>>),
    Time(Time64MicrosecondBuilder),
}

/// Builds Arrow batches row by row.
pub struct BatchBuilder {
    schema: SchemaRef,
    cols: Vec<Col>,
    rows: usize,
}

impl BatchBuilder {
    /// A builder for columns `(name, type)`.
    pub fn new(columns: &[(String, ColType)]) -> Self {
        let fields: Vec<Field> = columns.iter().map(|(n, t)| t.field(n)).collect();
        let schema = Arc::new(Schema::new(fields));
        let mut b = BatchBuilder {
            schema,
            cols: Vec::new(),
            rows: 0,
        };
        b.reset();
        b
    }

    /// The schema of the batches this builder makes.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Rows pushed since the last [`BatchBuilder::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row was pushed since the last finish.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    fn reset(&mut self) {
        self.cols = self
            .schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Boolean => Col::Bool(BooleanBuilder::new()),
                DataType::Int16 => Col::I16(Int16Builder::new()),
                DataType::Int32 => Col::I32(Int32Builder::new()),
                DataType::Int64 => Col::I64(Int64Builder::new()),
                DataType::Float32 => Col::F32(Float32Builder::new()),
                DataType::Float64 => Col::F64(Float64Builder::new()),
                DataType::Binary => Col::Bin(BinaryBuilder::new()),
                DataType::Date32 => Col::Date(Date32Builder::new()),
                DataType::Timestamp(_, tz) => {
                    Col::Ts(TimestampMicrosecondBuilder::new(), tz.clone())
                }
                DataType::Time64(_) => Col::Time(Time64MicrosecondBuilder::new()),
                _ => Col::Str(StringBuilder::new()),
            })
            .collect();
        self.rows = 0;
    }

    /// Appends one row; `values` must have one entry per column. A value of the
    /// wrong kind for its column is converted when that is lossless (integer into
    /// float, anything into text) and is an error otherwise.
    pub fn push_row(&mut self, values: Vec<Value>) -> Result<(), BackendError> {
        if values.len() != self.cols.len() {
            return Err(BackendError::Convert(format!(
                "row has {} values for {} columns",
                values.len(),
                self.cols.len()
            )));
        }
        for (i, (col, v)) in self.cols.iter_mut().zip(values).enumerate() {
            push_value(col, v).map_err(|what| {
                BackendError::Convert(format!(
                    "column \"{}\": {what}",
                    self.schema.field(i).name()
                ))
            })?;
        }
        self.rows += 1;
        Ok(())
    }

    /// Finishes the current batch and starts a new, empty one.
    pub fn finish(&mut self) -> Result<RecordBatch, BackendError> {
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Col::Bool(b) => Arc::new(b.finish()),
                    Col::I16(b) => Arc::new(b.finish()),
                    Col::I32(b) => Arc::new(b.finish()),
                    Col::I64(b) => Arc::new(b.finish()),
                    Col::F32(b) => Arc::new(b.finish()),
                    Col::F64(b) => Arc::new(b.finish()),
                    Col::Str(b) => Arc::new(b.finish()),
                    Col::Bin(b) => Arc::new(b.finish()),
                    Col::Date(b) => Arc::new(b.finish()),
                    Col::Ts(b, tz) => Arc::new(b.finish().with_timezone_opt(tz.clone())),
                    Col::Time(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| BackendError::Convert(e.to_string()))
    }
}

fn push_value(col: &mut Col, v: Value) -> Result<(), String> {
    match (col, v) {
        (Col::Bool(b), Value::Null) => b.append_null(),
        (Col::Bool(b), Value::Bool(x)) => b.append_value(x),
        (Col::Bool(b), Value::Int(x)) => b.append_value(x != 0),
        (Col::I16(b), Value::Null) => b.append_null(),
        (Col::I16(b), Value::Int(x)) => {
            b.append_value(i16::try_from(x).map_err(|_| format!("{x} out of range for smallint"))?)
        }
        (Col::I16(b), Value::Bool(x)) => b.append_value(i16::from(x)),
        (Col::I32(b), Value::Null) => b.append_null(),
        (Col::I32(b), Value::Int(x)) => {
            b.append_value(i32::try_from(x).map_err(|_| format!("{x} out of range for integer"))?)
        }
        (Col::I32(b), Value::Bool(x)) => b.append_value(i32::from(x)),
        (Col::I64(b), Value::Null) => b.append_null(),
        (Col::I64(b), Value::Int(x)) => b.append_value(x),
        (Col::I64(b), Value::Bool(x)) => b.append_value(i64::from(x)),
        (Col::F32(b), Value::Null) => b.append_null(),
        (Col::F32(b), Value::Float(x)) => b.append_value(x as f32),
        (Col::F32(b), Value::Int(x)) => b.append_value(x as f32),
        (Col::F64(b), Value::Null) => b.append_null(),
        (Col::F64(b), Value::Float(x)) => b.append_value(x),
        (Col::F64(b), Value::Int(x)) => b.append_value(x as f64),
        (Col::Str(b), Value::Null) => b.append_null(),
        (Col::Str(b), Value::Text(s)) => b.append_value(s),
        (Col::Str(b), Value::Int(x)) => b.append_value(x.to_string()),
        (Col::Str(b), Value::Float(x)) => b.append_value(x.to_string()),
        (Col::Str(b), Value::Bool(x)) => b.append_value(if x { "true" } else { "false" }),
        (Col::Str(b), Value::Bytes(x)) => b.append_value(String::from_utf8_lossy(&x)),
        (Col::Bin(b), Value::Null) => b.append_null(),
        (Col::Bin(b), Value::Bytes(x)) => b.append_value(x),
        (Col::Bin(b), Value::Text(x)) => b.append_value(x.as_bytes()),
        (Col::Date(b), Value::Null) => b.append_null(),
        (Col::Date(b), Value::Date(x)) => b.append_value(x),
        (Col::Ts(b, _), Value::Null) => b.append_null(),
        (Col::Ts(b, _), Value::Timestamp(x)) => b.append_value(x),
        (Col::Time(b), Value::Null) => b.append_null(),
        (Col::Time(b), Value::Time(x)) => b.append_value(x),
        (_, v) => return Err(format!("unexpected value {v:?}")),
    }
    Ok(())
}

/// An empty batch stream with the given columns (for statements that return no rows).
pub fn schema_of(columns: &[(String, ColType)]) -> SchemaRef {
    Arc::new(Schema::new(
        columns.iter().map(|(n, t)| t.field(n)).collect::<Vec<_>>(),
    ))
}
