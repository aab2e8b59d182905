//! The one encoder: Arrow schemas become RowDescription fields, Arrow rows become
//! DataRow messages, in text or binary per column as the client asked.

use std::sync::Arc;

use arrow::datatypes::Schema;
use arrow::record_batch::RecordBatch;
use bytes::{BufMut, BytesMut};
use futures::stream::{self, BoxStream, StreamExt};
use pgwire::api::portal::Format;
use pgwire::api::results::{FieldFormat, FieldInfo};
use pgwire::api::Type;
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;

use crate::backends::BatchStream;
use crate::pgtypes::{text_value, write_binary, PgType};

/// Column types and formats of one result.
#[derive(Debug, Clone)]
pub struct RowShape {
    /// RowDescription fields.
    pub fields: Arc<Vec<FieldInfo>>,
    /// PostgreSQL type per column.
    pub types: Arc<Vec<PgType>>,
    /// Binary format per column.
    pub binary: Arc<Vec<bool>>,
}

/// The wire type of a [`PgType`].
pub fn wire_type(t: PgType) -> Type {
    Type::from_oid(t.oid()).unwrap_or(Type::TEXT)
}

/// Describes `schema` for a client that wants `format`.
pub fn shape(schema: &Schema, format: &Format) -> RowShape {
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut types = Vec::with_capacity(schema.fields().len());
    let mut binary = Vec::with_capacity(schema.fields().len());
    for (i, f) in schema.fields().iter().enumerate() {
        let t = PgType::of_field(f);
        let mut fmt = format.format_for(i);
        // A text column carrying another type's text form (an array): announced as that
        // type, always in text format.
        let oid_type = f
            .metadata()
            .get(crate::backends::types::PG_OID_KEY)
            .and_then(|o| o.parse::<u32>().ok())
            .and_then(Type::from_oid);
        if oid_type.is_some() {
            fmt = FieldFormat::Text;
        }
        fields.push(
            FieldInfo::new(
                f.name().clone(),
                None,
                None,
                oid_type.unwrap_or_else(|| wire_type(t)),
                fmt,
            )
            .with_type_size(t.typlen()),
        );
        types.push(t);
        binary.push(fmt == FieldFormat::Binary);
    }
    RowShape {
        fields: Arc::new(fields),
        types: Arc::new(types),
        binary: Arc::new(binary),
    }
}

fn encode_error(e: impl std::fmt::Display) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        "22P03".into(),
        e.to_string(),
    )))
}

/// Encodes every row of `batch`.
pub fn encode_batch(shape: &RowShape, batch: &RecordBatch) -> Vec<PgWireResult<DataRow>> {
    let ncols = batch.num_columns();
    let mut rows = Vec::with_capacity(batch.num_rows());
    for r in 0..batch.num_rows() {
        let mut buf = BytesMut::with_capacity(16 * ncols);
        let mut result = Ok(());
        for c in 0..ncols {
            let col = batch.column(c);
            if col.is_null(r) {
                buf.put_i32(-1);
                continue;
            }
            let at = buf.len();
            buf.put_i32(0);
            if shape.binary[c] {
                if let Err(e) = write_binary(shape.types[c], col.as_ref(), r, &mut buf) {
                    result = Err(encode_error(e));
                    break;
                }
            } else if let Some(t) = text_value(col.as_ref(), r) {
                buf.put_slice(t.as_bytes());
            }
            let len = (buf.len() - at - 4) as i32;
            buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
        }
        rows.push(result.map(|_| DataRow::new(buf, ncols as i16)));
    }
    rows
}

/// Rows of collected batches.
pub fn rows_of(
    shape: RowShape,
    batches: Vec<RecordBatch>,
) -> BoxStream<'static, PgWireResult<DataRow>> {
    stream::iter(batches)
        .flat_map(move |b| stream::iter(encode_batch(&shape, &b)))
        .boxed()
}

/// Rows of a live batch stream (backend errors end the stream with an ErrorResponse).
pub fn rows_of_stream(
    shape: RowShape,
    s: BatchStream,
    to_error: fn(crate::backends::BackendError) -> PgWireError,
) -> BoxStream<'static, PgWireResult<DataRow>> {
    s.batches
        .flat_map(move |b| match b {
            Ok(b) => stream::iter(encode_batch(&shape, &b)),
            Err(e) => stream::iter(vec![Err(to_error(e))]),
        })
        .boxed()
}
