//! DuckDB backend (duckdb-rs with the bundled DuckDB).
//!
//! - A connection opened with `read_only = true` uses `access_mode = READ_ONLY`, so DuckDB
//!   itself refuses writes. On a writable database, statements that may not write run
//!   inside `BEGIN TRANSACTION READ ONLY`. External access (files, network, extension
//!   installs) is switched off in both cases.
//! - One connection is kept; every query runs on its own `try_clone()` on tokio's blocking
//!   pool and streams native Arrow batches through a bounded channel, stopping at
//!   `row_limit` rows (the last batch is sliced; no further batch is pulled).
//! - Timeouts and dropped streams interrupt the statement through DuckDB's interrupt handle.
//! - Result batches are normalized ([`normalize_batch`]) to the Arrow types the rest of
//!   dbguru understands.

mod keys;
mod lease;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arrow::array::{
    make_array, new_null_array, Array, ArrayRef, AsArray, RecordBatchOptions, StringArray,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{array_value_to_string, ArrayFormatter, FormatOptions};
use async_trait::async_trait;
use duckdb::{AccessMode, Config, Connection};

use super::blocking::{
    file_stem, first_keyword, join_error, lock, spawn_query, Canceller, Head, Output,
};
use super::types::PG_TYPE_KEY;
use super::{
    Backend, BackendError, ColumnInfo, Dialect, QueryOptions, QueryResult, SchemaInfo, TableInfo,
};
use crate::config::ConnectionConfig;

/// Arrow field metadata key of extension types (`arrow.uuid`, `arrow.json`).
const EXTENSION_KEY: &str = "ARROW:extension:name";

/// Statement kinds that return no rows (unless they have a `RETURNING` clause); they run
/// to completion and report the number of rows they changed.
const COMMANDS: &[&str] = &[
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "ALTER",
    "TRUNCATE",
    "COPY",
    "ATTACH",
    "DETACH",
    "USE",
    "BEGIN",
    "START",
    "COMMIT",
    "END",
    "ROLLBACK",
    "ABORT",
    "CHECKPOINT",
    "FORCE",
    "SET",
    "RESET",
    "VACUUM",
    "ANALYZE",
    "LOAD",
    "INSTALL",
    "EXPORT",
    "IMPORT",
    "COMMENT",
    "MERGE",
    "PREPARE",
    "DEALLOCATE",
];

/// A DuckDB database file behind the proxy.
pub struct DuckdbBackend {
    conn: Mutex<Connection>,
    path: PathBuf,
    read_only: bool,
    database: String,
}

impl std::fmt::Debug for DuckdbBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DuckdbBackend")
            .field("path", &self.path)
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl DuckdbBackend {
    /// Opens the database file `cfg.path` (used as given; the caller resolves it).
    ///
    /// The file must exist: it is never created here. With `cfg.read_only` (the default)
    /// the database is opened with `access_mode = READ_ONLY`. Extension auto-loading and
    /// external access (reading files, `ATTACH`, `COPY`) are disabled.
    pub fn open(cfg: &ConnectionConfig) -> Result<Self, BackendError> {
        let path = cfg.path.clone().ok_or_else(|| {
            BackendError::Connect(format!("connection \"{}\" has no path", cfg.name))
        })?;
        let connect_error = |e: duckdb::Error| {
            BackendError::Connect(format!(
                "cannot open DuckDB database {}: {e}",
                path.display()
            ))
        };
        if !path.is_file() {
            return Err(BackendError::Connect(format!(
                "DuckDB database {} does not exist",
                path.display()
            )));
        }
        let mut config = Config::default()
            .enable_autoload_extension(false)
            .and_then(|c| c.enable_external_access(false))
            .map_err(connect_error)?;
        if cfg.read_only {
            config = config
                .access_mode(AccessMode::ReadOnly)
                .map_err(connect_error)?;
        }
        let conn = Connection::open_with_flags(&path, config).map_err(connect_error)?;
        tracing::debug!(connection = %cfg.name, read_only = cfg.read_only, "duckdb database opened");
        Ok(DuckdbBackend {
            conn: Mutex::new(conn),
            database: file_stem(&path),
            path,
            read_only: cfg.read_only,
        })
    }

    /// A private in-memory database for the federation engine: no file, no external
    /// access (files, network, `ATTACH`), no extension auto-loading or installing, at most
    /// `memory_limit` bytes of memory, spilling to a temporary directory only when it must.
    pub fn in_memory(memory_limit: usize) -> Result<Self, BackendError> {
        let connect_error =
            |e: duckdb::Error| BackendError::Connect(format!("cannot open in-memory DuckDB: {e}"));
        let config = Config::default()
            .enable_autoload_extension(false)
            .and_then(|c| c.with("autoinstall_known_extensions", "false"))
            .and_then(|c| c.enable_external_access(false))
            .and_then(|c| c.max_memory(&format!("{memory_limit}B")))
            .map_err(connect_error)?;
        let conn = Connection::open_in_memory_with_flags(config).map_err(connect_error)?;
        Ok(DuckdbBackend {
            conn: Mutex::new(conn),
            database: "federation".into(),
            path: PathBuf::new(),
            read_only: false,
        })
    }

    /// A new connection to the open database.
    pub(crate) fn connection(&self) -> Result<Connection, BackendError> {
        lock(&self.conn)
            .try_clone()
            .map_err(|e| BackendError::Connect(format!("cannot connect to DuckDB: {e}")))
    }

    /// Runs `f` on a new connection on the blocking pool (no timeout).
    async fn with_conn<T, F>(&self, f: F) -> Result<T, BackendError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> duckdb::Result<T> + Send + 'static,
    {
        let conn = self.connection()?;
        tokio::task::spawn_blocking(move || f(&conn))
            .await
            .map_err(join_error)?
            .map_err(|e| map_error(e, None))
    }
}

#[async_trait]
impl Backend for DuckdbBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Duckdb
    }

    async fn introspect(&self) -> Result<SchemaInfo, BackendError> {
        let database = self.database.clone();
        self.with_conn(move |conn| introspect_tables(conn, database))
            .await
    }

    async fn schema_version(&self) -> Result<Option<String>, BackendError> {
        self.with_conn(|conn| {
            conn.query_row(SCHEMA_VERSION_SQL, [], |r| r.get::<_, String>(0))
                .map(Some)
        })
        .await
    }

    async fn introspect_keys(&self) -> Result<crate::keys::KeyInfo, BackendError> {
        self.with_conn(keys::introspect_keys).await
    }

    async fn query(&self, sql: &str, opts: &QueryOptions) -> Result<QueryResult, BackendError> {
        let conn = self.connection()?;
        let interrupt = conn.interrupt_handle();
        let job = Job {
            sql: sql.to_owned(),
            row_limit: opts.row_limit,
            read_only_transaction: !self.read_only && !opts.allow_write,
        };
        spawn_query(
            opts.timeout,
            move || interrupt.interrupt(),
            move |canceller, out| {
                if let Err(e) = run_statement(&conn, &job, canceller, out) {
                    out.fail(e);
                }
            },
        )
        .await
    }

    async fn begin(&self, opts: &super::TxOptions) -> Result<Box<dyn super::Lease>, BackendError> {
        self.begin_lease(opts).await
    }

    async fn ping(&self) -> Result<(), BackendError> {
        self.with_conn(|conn| conn.query_row("SELECT 1", [], |r| r.get::<_, i32>(0)))
            .await
            .map(|_| ())
    }
}

/// One statement to run.
struct Job {
    sql: String,
    row_limit: Option<usize>,
    read_only_transaction: bool,
}

/// Runs one statement on the worker thread, reporting through `out`. The connection is a
/// per-query clone, so a read-only transaction it opens ends when it is dropped.
fn run_statement(
    conn: &Connection,
    job: &Job,
    canceller: &Canceller,
    out: &mut Output,
) -> Result<(), BackendError> {
    let err = |e: duckdb::Error| map_error(e, Some(canceller));
    if job.read_only_transaction {
        conn.execute_batch("BEGIN TRANSACTION READ ONLY")
            .map_err(err)?;
    }
    let mut stmt = conn.prepare(&job.sql).map_err(err)?;
    let tag = first_keyword(&job.sql);
    if is_command(&tag, &job.sql) {
        let rows = stmt.execute([]).map_err(err)?;
        out.head(Ok(Head::Command {
            tag,
            rows: rows as u64,
        }));
        return Ok(());
    }

    // DuckDB runs most of the query when the first chunk is fetched (an aggregate runs
    // completely), so the first batch is fetched before the head: errors and timeouts up to
    // that point are returned by `query()` itself, not in the middle of the stream.
    let mut stream = stmt.stream_arrow([]).map_err(err)?;
    let schema = normalize_schema(&stream.get_schema());
    let mut remaining = job.row_limit;
    let mut next = match remaining {
        Some(0) => None,
        _ => stream.next().transpose().map_err(err)?,
    };
    out.head(Ok(Head::Rows(Arc::clone(&schema))));
    while let Some(batch) = next.take() {
        let batch = conform(&schema, &batch)?;
        let batch = match remaining.as_mut() {
            Some(left) => {
                let take = batch.num_rows().min(*left);
                *left -= take;
                batch.slice(0, take)
            }
            None => batch,
        };
        if batch.num_rows() > 0 && !out.send(Ok(batch)) {
            break; // the consumer went away
        }
        if remaining != Some(0) {
            next = stream.next().transpose().map_err(err)?;
        }
    }
    Ok(())
}

/// Whether a statement returns no rows: a command keyword without `RETURNING`.
fn is_command(tag: &str, sql: &str) -> bool {
    COMMANDS.contains(&tag)
        && !sql
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|w| w.eq_ignore_ascii_case("RETURNING"))
}

/// Normalizes a batch and puts it under the stream's schema.
fn conform(schema: &SchemaRef, batch: &RecordBatch) -> Result<RecordBatch, BackendError> {
    let columns = normalize_columns(batch)?;
    make_batch(Arc::clone(schema), columns, batch.num_rows())
}

fn make_batch(
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
    rows: usize,
) -> Result<RecordBatch, BackendError> {
    RecordBatch::try_new_with_options(
        schema,
        columns,
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .map_err(convert_error)
}

// ---------------------------------------------------------------------------------------
// Arrow normalization
// ---------------------------------------------------------------------------------------

/// How one column is converted.
#[derive(Debug, Clone)]
enum Conversion {
    /// Already one of the allowed types.
    Keep,
    /// An arrow cast to the target type.
    Cast(DataType),
    /// Timestamp to microseconds, relabelled with the target time zone (values stay UTC).
    Timestamp(Option<Arc<str>>),
    /// Exact decimal text (decimals, unsigned 64-bit integers).
    NumericText,
    /// 16-byte UUIDs to their canonical text.
    Uuid,
    /// Nested values (lists, structs, maps) to JSON text.
    Json,
    /// Anything else to its display text.
    Text,
    /// A NULL-typed column: all-NULL text.
    Null,
    /// A dictionary: unpacked to its value type, then converted.
    Dictionary(DataType, Box<Conversion>),
}

/// The target type, PostgreSQL type tag and conversion of a column.
fn plan(
    data_type: &DataType,
    extension: Option<&str>,
) -> (DataType, Option<&'static str>, Conversion) {
    use Conversion as C;
    use DataType as D;
    let cast_to = |t: D| (t.clone(), None, C::Cast(t));
    match data_type {
        D::Boolean
        | D::Int16
        | D::Int32
        | D::Int64
        | D::Float32
        | D::Float64
        | D::Binary
        | D::Date32
        | D::Time64(TimeUnit::Microsecond) => (data_type.clone(), None, C::Keep),
        D::Utf8 => (D::Utf8, text_tag(extension), C::Keep),
        D::LargeUtf8 | D::Utf8View => (D::Utf8, text_tag(extension), C::Cast(D::Utf8)),
        D::Int8 => cast_to(D::Int16),
        D::UInt8 | D::UInt16 => cast_to(D::Int32),
        D::UInt32 => cast_to(D::Int64),
        D::Float16 => cast_to(D::Float32),
        D::UInt64 | D::Decimal32(..) | D::Decimal64(..) | D::Decimal128(..) | D::Decimal256(..) => {
            (D::Utf8, Some("numeric"), C::NumericText)
        }
        D::FixedSizeBinary(16) if extension == Some("arrow.uuid") => {
            (D::Utf8, Some("uuid"), C::Uuid)
        }
        D::LargeBinary | D::BinaryView | D::FixedSizeBinary(_) => cast_to(D::Binary),
        D::Date64 => cast_to(D::Date32),
        D::Time32(_) | D::Time64(_) => cast_to(D::Time64(TimeUnit::Microsecond)),
        D::Timestamp(unit, tz) => {
            let target_tz: Option<Arc<str>> = tz.as_ref().map(|_| Arc::from("UTC"));
            let target = D::Timestamp(TimeUnit::Microsecond, target_tz.clone());
            if *unit == TimeUnit::Microsecond && tz.as_deref() == target_tz.as_deref() {
                (target, None, C::Keep)
            } else {
                (target, None, C::Timestamp(target_tz))
            }
        }
        D::List(_) | D::LargeList(_) | D::FixedSizeList(..) | D::Struct(_) | D::Map(..) => {
            (D::Utf8, Some("json"), C::Json)
        }
        D::Dictionary(_, value) => {
            let (target, tag, inner) = plan(value, extension);
            (
                target,
                tag,
                C::Dictionary(value.as_ref().clone(), Box::new(inner)),
            )
        }
        D::Null => (D::Utf8, None, C::Null),
        _ => (D::Utf8, None, C::Text),
    }
}

/// The PostgreSQL tag of a text column carrying an Arrow extension type.
fn text_tag(extension: Option<&str>) -> Option<&'static str> {
    match extension {
        Some("arrow.uuid") => Some("uuid"),
        Some("arrow.json") => Some("json"),
        _ => None,
    }
}

fn extension_of(field: &Field) -> Option<&str> {
    field.metadata().get(EXTENSION_KEY).map(String::as_str)
}

fn normalize_field(field: &Field) -> Field {
    let (data_type, tag, _) = plan(field.data_type(), extension_of(field));
    let out = Field::new(field.name(), data_type, true);
    match tag {
        Some(t) => out.with_metadata(HashMap::from([(PG_TYPE_KEY.to_string(), t.to_string())])),
        None => out,
    }
}

/// The schema [`normalize_batch`] produces for batches of `schema`: only Boolean, Int16/32/64,
/// Float32/64, Utf8, Binary, Date32, Timestamp(µs, none or UTC) and Time64(µs). Numeric,
/// UUID and JSON text columns carry [`PG_TYPE_KEY`] metadata. All fields are nullable.
pub fn normalize_schema(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| normalize_field(f))
            .collect::<Vec<_>>(),
    ))
}

/// Converts a DuckDB result batch to the Arrow types the rest of dbguru understands:
/// Int8 → Int16, UInt8/UInt16 → Int32, UInt32 → Int64; UInt64 and decimals → exact
/// decimal text tagged `numeric` (e.g. `"12.50"`); large and view strings/binaries → Utf8 /
/// Binary; timestamps → microseconds (time zones relabelled UTC, values unchanged); times →
/// Time64(µs); UUIDs → text tagged `uuid`; lists, structs and maps → JSON text tagged
/// `json`; anything else (intervals, durations, unions) → its display text.
pub fn normalize_batch(batch: &RecordBatch) -> Result<RecordBatch, BackendError> {
    let schema = normalize_schema(batch.schema_ref());
    let columns = normalize_columns(batch)?;
    make_batch(schema, columns, batch.num_rows())
}

fn normalize_columns(batch: &RecordBatch) -> Result<Vec<ArrayRef>, BackendError> {
    batch
        .schema_ref()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, array)| {
            let (_, _, conversion) = plan(field.data_type(), extension_of(field));
            convert(array, &conversion)
                .map_err(|e| BackendError::Convert(format!("column \"{}\": {e}", field.name())))
        })
        .collect()
}

fn convert(array: &ArrayRef, conversion: &Conversion) -> Result<ArrayRef, ArrowError> {
    Ok(match conversion {
        Conversion::Keep => Arc::clone(array),
        Conversion::Cast(to) => cast(array, to)?,
        Conversion::Timestamp(target_tz) => {
            // Same label first (a pure unit change), then relabel: the values are UTC
            // instants whatever the zone, so no time-zone arithmetic may happen.
            let DataType::Timestamp(_, tz) = array.data_type() else {
                return Err(ArrowError::CastError("not a timestamp".into()));
            };
            let micros = cast(
                array,
                &DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
            )?;
            let micros = micros
                .as_primitive_opt::<arrow::datatypes::TimestampMicrosecondType>()
                .ok_or_else(|| ArrowError::CastError("timestamp conversion failed".into()))?;
            Arc::new(micros.clone().with_timezone_opt(target_tz.clone()))
        }
        Conversion::NumericText => cast(array, &DataType::Utf8)?,
        Conversion::Uuid => {
            let bytes = array
                .as_fixed_size_binary_opt()
                .ok_or_else(|| ArrowError::CastError("uuid is not 16 bytes".into()))?;
            Arc::new(
                (0..bytes.len())
                    .map(|i| bytes.is_valid(i).then(|| uuid_text(bytes.value(i))))
                    .collect::<StringArray>(),
            )
        }
        Conversion::Json => {
            let mut texts = Vec::with_capacity(array.len());
            for i in 0..array.len() {
                texts.push(if array.is_valid(i) {
                    let mut s = String::new();
                    write_json(&mut s, array.as_ref(), i)?;
                    Some(s)
                } else {
                    None
                });
            }
            Arc::new(StringArray::from(texts))
        }
        Conversion::Text => {
            let formatter = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())?;
            let mut texts = Vec::with_capacity(array.len());
            for i in 0..array.len() {
                texts.push(if array.is_valid(i) {
                    Some(formatter.value(i).try_to_string()?)
                } else {
                    None
                });
            }
            Arc::new(StringArray::from(texts))
        }
        Conversion::Null => new_null_array(&DataType::Utf8, array.len()),
        Conversion::Dictionary(value_type, inner) => convert(&cast(array, value_type)?, inner)?,
    })
}

fn uuid_text(b: &[u8]) -> String {
    let h = hex::encode(b);
    if h.len() != 32 {
        return h;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Appends element `i` of `array` as JSON.
fn write_json(out: &mut String, array: &dyn Array, i: usize) -> Result<(), ArrowError> {
    use DataType as D;
    if array.is_null(i) {
        out.push_str("null");
        return Ok(());
    }
    match array.data_type() {
        D::Boolean
        | D::Int8
        | D::Int16
        | D::Int32
        | D::Int64
        | D::UInt8
        | D::UInt16
        | D::UInt32
        | D::UInt64
        | D::Decimal32(..)
        | D::Decimal64(..)
        | D::Decimal128(..)
        | D::Decimal256(..) => out.push_str(&array_value_to_string(array, i)?),
        D::Float16 | D::Float32 | D::Float64 => {
            let text = array_value_to_string(array, i)?;
            if text.parse::<f64>().is_ok_and(f64::is_finite) {
                out.push_str(&text);
            } else {
                push_json_string(out, &text);
            }
        }
        D::List(_) => match array.as_list_opt::<i32>() {
            Some(list) => write_json_array(out, list.value(i).as_ref())?,
            None => push_json_string(out, &array_value_to_string(array, i)?),
        },
        D::LargeList(_) => match array.as_list_opt::<i64>() {
            Some(list) => write_json_array(out, list.value(i).as_ref())?,
            None => push_json_string(out, &array_value_to_string(array, i)?),
        },
        D::FixedSizeList(..) => match array.as_fixed_size_list_opt() {
            Some(list) => write_json_array(out, list.value(i).as_ref())?,
            None => push_json_string(out, &array_value_to_string(array, i)?),
        },
        D::Struct(fields) => match array.as_struct_opt() {
            Some(s) => {
                out.push('{');
                for (k, (field, column)) in fields.iter().zip(s.columns()).enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    push_json_string(out, field.name());
                    out.push(':');
                    write_json(out, column.as_ref(), i)?;
                }
                out.push('}');
            }
            None => push_json_string(out, &array_value_to_string(array, i)?),
        },
        D::Map(..) => match array.as_map_opt() {
            Some(map) => {
                let entries = map.value(i);
                let (keys, values) = (entries.column(0), entries.column(1));
                out.push('{');
                for j in 0..entries.len() {
                    if j > 0 {
                        out.push(',');
                    }
                    push_json_string(out, &array_value_to_string(keys.as_ref(), j)?);
                    out.push(':');
                    write_json(out, values.as_ref(), j)?;
                }
                out.push('}');
            }
            None => push_json_string(out, &array_value_to_string(array, i)?),
        },
        _ => push_json_string(out, &display_value(array, i)?),
    }
    Ok(())
}

/// Element `i` as display text. Arrow cannot format a timestamp labelled with a named time
/// zone (such as `UTC`) without its `chrono-tz` feature; the values are UTC instants, so
/// they are formatted without the label and marked `Z`.
fn display_value(array: &dyn Array, i: usize) -> Result<String, ArrowError> {
    if let DataType::Timestamp(unit, Some(_)) = array.data_type() {
        let naive = array
            .slice(i, 1)
            .to_data()
            .into_builder()
            .data_type(DataType::Timestamp(*unit, None))
            .build()?;
        return Ok(format!(
            "{}Z",
            array_value_to_string(make_array(naive).as_ref(), 0)?
        ));
    }
    array_value_to_string(array, i)
}

fn write_json_array(out: &mut String, items: &dyn Array) -> Result<(), ArrowError> {
    out.push('[');
    for j in 0..items.len() {
        if j > 0 {
            out.push(',');
        }
        write_json(out, items, j)?;
    }
    out.push(']');
    Ok(())
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn convert_error(e: ArrowError) -> BackendError {
    BackendError::Convert(e.to_string())
}

// ---------------------------------------------------------------------------------------
// Introspection and errors
// ---------------------------------------------------------------------------------------

/// A checksum of the current database's columns (with comments) and constraints: what
/// introspection reads.
const SCHEMA_VERSION_SQL: &str = "\
SELECT count(*)::VARCHAR || ':' || coalesce(sum(hash(schema_name || '.' || table_name || '.'
           || column_index::VARCHAR || '.' || column_name || '.' || data_type || '.'
           || is_nullable::VARCHAR || '.' || coalesce(comment, '')) % 1000000007)::VARCHAR, '0')
    || ':' || (SELECT count(*)::VARCHAR || ':' || coalesce(sum(hash(coalesce(table_name, '') || constraint_text) % 1000000007)::VARCHAR, '0')
               FROM duckdb_constraints() WHERE database_name = current_database())
    || ':' || (SELECT coalesce(sum(hash(table_name || coalesce(comment, '')) % 1000000007)::VARCHAR, '0')
               FROM duckdb_tables() WHERE database_name = current_database())
FROM duckdb_columns() WHERE database_name = current_database() AND NOT internal";

fn introspect_tables(conn: &Connection, database: String) -> duckdb::Result<SchemaInfo> {
    let mut keys = conn.prepare(
        "SELECT schema_name, table_name, unnest(constraint_column_names) \
         FROM duckdb_constraints() \
         WHERE constraint_type = 'PRIMARY KEY' AND database_name = current_database()",
    )?;
    let primary: HashSet<(String, String, String)> = keys
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<duckdb::Result<_>>()?;

    let mut columns = conn.prepare(
        "SELECT table_schema, table_name, column_name, data_type, is_nullable \
         FROM information_schema.columns \
         WHERE table_catalog = current_database() \
           AND table_schema NOT IN ('information_schema', 'pg_catalog') \
         ORDER BY table_schema, table_name, ordinal_position",
    )?;
    let rows = columns
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?
        .collect::<duckdb::Result<Vec<_>>>()?;

    let mut column_comments = conn.prepare(
        "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns() \
         WHERE database_name = current_database() AND comment IS NOT NULL AND comment <> ''",
    )?;
    let mut column_comments: HashMap<(String, String, String), String> = column_comments
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?)))?
        .collect::<duckdb::Result<_>>()?;
    let mut table_facts = conn.prepare(
        "SELECT schema_name, table_name, nullif(comment, ''), estimated_size FROM duckdb_tables() \
         WHERE database_name = current_database()",
    )?;
    type Facts = (Option<String>, Option<i64>);
    let table_facts: HashMap<(String, String), Facts> = table_facts
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))))?
        .collect::<duckdb::Result<_>>()?;

    let mut tables: Vec<TableInfo> = Vec::new();
    for (schema, table, column, data_type, nullable) in rows {
        let name = if schema == "main" {
            table.clone()
        } else {
            format!("{schema}.{table}")
        };
        let key = (schema, table, column);
        let info = ColumnInfo {
            primary_key: primary.contains(&key),
            comment: column_comments.remove(&key),
            name: key.2.clone(),
            data_type,
            nullable: nullable.eq_ignore_ascii_case("YES"),
            samples: Vec::new(),
        };
        match tables.last_mut() {
            Some(t) if t.name == name => t.columns.push(info),
            _ => {
                let (comment, rows) = table_facts
                    .get(&(key.0, key.1))
                    .cloned()
                    .unwrap_or_default();
                tables.push(TableInfo {
                    name,
                    columns: vec![info],
                    comment,
                    rows,
                })
            }
        }
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(SchemaInfo { database, tables })
}

/// Maps a DuckDB error; an interruption becomes the canceller's timeout or cancel error.
fn map_error(e: duckdb::Error, canceller: Option<&Canceller>) -> BackendError {
    let message = e.to_string();
    let lower = message.to_ascii_lowercase();
    if lower.contains("interrupt") {
        if let Some(c) = canceller {
            return c.interrupted_error();
        }
    }
    if lower.contains("read-only mode") || lower.contains("read only mode") {
        return BackendError::ReadOnly(message);
    }
    BackendError::Query {
        sqlstate: sqlstate_for(&lower).map(str::to_owned),
        message,
    }
}

/// The PostgreSQL SQLSTATE matching a DuckDB error message (lower-cased), where one
/// obviously does.
fn sqlstate_for(m: &str) -> Option<&'static str> {
    let has = |s: &str| m.contains(s);
    Some(
        if has("catalog error") && has("table") && has("does not exist") {
            "42P01"
        } else if has("catalog error") && has("function") && has("does not exist") {
            "42883"
        } else if has("catalog error") && has("schema") && has("does not exist") {
            "3F000"
        } else if has("must appear in the group by") {
            "42803"
        } else if has("ambiguous") && has("column") {
            "42702"
        } else if has("referenced column")
            || (has("binder error") && has("column") && (has("not found") || has("does not exist")))
        {
            "42703"
        } else if has("parser error") || has("syntax error") {
            "42601"
        } else if has("duplicate key") {
            "23505"
        } else if has("not null constraint") {
            "23502"
        } else if has("out of range") {
            "22003"
        } else if has("conversion error") || has("could not convert") {
            "22P02"
        } else {
            return None;
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConnectionKind;
    use arrow::array::{
        Decimal128Array, Int16Array, Int32Array, Int64Array, Int8Array, ListArray, StringArray,
        TimestampNanosecondArray, UInt64Array,
    };
    use arrow::datatypes::Int32Type;
    use std::path::Path;
    use std::time::{Duration, Instant};

    fn config(path: &Path, read_only: bool) -> ConnectionConfig {
        ConnectionConfig {
            id: Some(2),
            name: "w".into(),
            kind: ConnectionKind::Duckdb,
            url: None,
            path: Some(path.to_path_buf()),
            read_only,
            max_rows: None,
            timeout: None,
            pool_size: 2,
            demo: None,
            description: None,
            sample_values: None,
        }
    }

    fn opts(row_limit: Option<usize>, allow_write: bool) -> QueryOptions {
        QueryOptions {
            row_limit,
            timeout: Duration::from_secs(20),
            allow_write,
            ..Default::default()
        }
    }

    fn fixture() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("test.duckdb");
        let conn = Connection::open(&path).expect("create");
        conn.execute_batch(
            "CREATE TABLE sales(id INTEGER PRIMARY KEY, item VARCHAR NOT NULL, amount DECIMAL(10,2), \
                                sold DATE, sold_at TIMESTAMP, tags VARCHAR[], small TINYINT, big UBIGINT);
             INSERT INTO sales VALUES
               (1, 'pen', 12.50, DATE '2024-01-02', TIMESTAMP '2024-01-02 10:00:00', ['a', 'b'], 1, 18446744073709551615),
               (2, 'book', -0.05, NULL, NULL, [], -2, 0);
             CREATE SCHEMA extra;
             CREATE TABLE extra.notes(n VARCHAR);",
        )
        .expect("fixture");
        drop(conn);
        (dir, path)
    }

    async fn rows_of(
        b: &DuckdbBackend,
        sql: &str,
        o: &QueryOptions,
    ) -> (SchemaRef, Vec<RecordBatch>) {
        match b.query(sql, o).await.expect("query") {
            QueryResult::Rows(s) => super::super::collect(s).await.expect("collect"),
            QueryResult::Command { .. } => panic!("expected rows"),
        }
    }

    fn total_rows(batches: &[RecordBatch]) -> usize {
        batches.iter().map(RecordBatch::num_rows).sum()
    }

    fn pg_tag(schema: &Schema, i: usize) -> Option<&str> {
        schema
            .field(i)
            .metadata()
            .get(PG_TYPE_KEY)
            .map(String::as_str)
    }

    #[tokio::test]
    async fn reads_normalized_values() {
        let (_dir, path) = fixture();
        let b = DuckdbBackend::open(&config(&path, true)).expect("open");
        let (schema, batches) = rows_of(
            &b,
            "SELECT id, item, amount, sold, sold_at, tags, small, big, uuid '5f1b6c1e-0000-4000-8000-000000000001' AS u, \
             {'k': 1, 's': 'x\"y'} AS st, INTERVAL 3 DAY AS iv FROM sales ORDER BY id",
            &opts(None, false),
        )
        .await;
        assert_eq!(total_rows(&batches), 2);
        let batch = &batches[0];
        assert_eq!(batch.schema(), schema);
        assert_eq!(schema.field(0).data_type(), &DataType::Int32);
        let amount = batch
            .column(2)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("numeric text");
        assert_eq!(amount.value(0), "12.50");
        assert_eq!(amount.value(1), "-0.05");
        assert_eq!(pg_tag(&schema, 2), Some("numeric"));
        assert_eq!(schema.field(3).data_type(), &DataType::Date32);
        assert_eq!(
            schema.field(4).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, None)
        );
        let tags = batch
            .column(5)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("json");
        assert_eq!(tags.value(0), "[\"a\",\"b\"]");
        assert_eq!(tags.value(1), "[]");
        assert_eq!(pg_tag(&schema, 5), Some("json"));
        assert_eq!(schema.field(6).data_type(), &DataType::Int16);
        let big = batch
            .column(7)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("ubigint");
        assert_eq!(big.value(0), "18446744073709551615");
        let u = batch
            .column(8)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("uuid");
        assert_eq!(u.value(0), "5f1b6c1e-0000-4000-8000-000000000001");
        let st = batch
            .column(9)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("struct");
        assert_eq!(st.value(0), "{\"k\":1,\"s\":\"x\\\"y\"}");
        assert_eq!(schema.field(10).data_type(), &DataType::Utf8);
        let allowed = |t: &DataType| {
            matches!(
                t,
                DataType::Boolean
                    | DataType::Int16
                    | DataType::Int32
                    | DataType::Int64
                    | DataType::Float32
                    | DataType::Float64
                    | DataType::Utf8
                    | DataType::Binary
                    | DataType::Date32
                    | DataType::Timestamp(TimeUnit::Microsecond, _)
                    | DataType::Time64(TimeUnit::Microsecond)
            )
        };
        assert!(
            schema.fields().iter().all(|f| allowed(f.data_type())),
            "{schema:?}"
        );
    }

    fn allowed(t: &DataType) -> bool {
        matches!(
            t,
            DataType::Boolean
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::Float32
                | DataType::Float64
                | DataType::Utf8
                | DataType::Binary
                | DataType::Date32
                | DataType::Timestamp(TimeUnit::Microsecond, None)
                | DataType::Time64(TimeUnit::Microsecond)
        ) || t == &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    }

    #[tokio::test]
    async fn every_duckdb_type_is_normalized() {
        let (_dir, path) = fixture();
        let b = DuckdbBackend::open(&config(&path, true)).expect("open");
        let sql = "SELECT 170141183460469231731687303715884105727::HUGEINT AS h, \
                   340282366920938463463374607431768211455::UHUGEINT AS uh, \
                   TIMESTAMPTZ '2024-01-02 03:04:05.678+00' AS tz, TIMESTAMP_NS '2024-01-02 03:04:05.123456789' AS ns, \
                   TIMESTAMP_S '2024-01-02 03:04:05' AS s, TIMESTAMP_MS '2024-01-02 03:04:05.5' AS ms, \
                   TIME '12:34:56.5' AS t, INTERVAL '1 month 2 days 3 hours' AS iv, \
                   'b'::ENUM_T AS e, MAP {'a': 1, 'b': 2} AS m, '\\x01\\xff'::BLOB AS bl, \
                   '101'::BIT AS bits, 1.5::FLOAT AS f, 255::UTINYINT AS ut, 4000000000::UINTEGER AS ui, \
                   [[1, 2], [3]] AS nested, {'x': [1.5, NULL], 'y': DATE '2024-05-06'} AS st, \
                   'inf'::DOUBLE AS inf, NULL AS nothing, 123.456::DECIMAL(38,3) AS d38, true AS yes, \
                   union_value(num := 2) AS un, [1, 2]::INTEGER[2] AS arr";
        let rw = DuckdbBackend::open(&config(&path, false)).expect("open");
        drop(b);
        match rw
            .query("CREATE TYPE ENUM_T AS ENUM ('a', 'b')", &opts(None, true))
            .await
        {
            Ok(QueryResult::Command { .. }) => {}
            other => panic!("create type: {other:?}"),
        }
        let (schema, batches) = rows_of(&rw, sql, &opts(None, false)).await;
        assert!(
            schema.fields().iter().all(|f| allowed(f.data_type())),
            "{schema:#?}"
        );
        let batch = &batches[0];
        let col = |name: &str| {
            let i = schema.index_of(name).expect("column");
            display_value(batch.column(i).as_ref(), 0).expect("display")
        };
        assert_eq!(col("h"), "170141183460469231731687303715884105727");
        assert_eq!(col("d38"), "123.456");
        assert_eq!(col("nested"), "[[1,2],[3]]");
        assert_eq!(col("st"), "{\"x\":[1.5,null],\"y\":\"2024-05-06\"}");
        assert_eq!(col("m"), "{\"a\":1,\"b\":2}");
        assert_eq!(col("e"), "b");
        assert_eq!(col("ut"), "255");
        assert_eq!(col("ui"), "4000000000");
        assert_eq!(col("tz"), "2024-01-02T03:04:05.678Z");
        assert_eq!(col("ns"), "2024-01-02T03:04:05.123456");
        assert_eq!(col("arr"), "[1,2]");
        // a time zone inside a nested value is rendered, not an error
        let (_, batches) = rows_of(
            &rw,
            "SELECT [TIMESTAMPTZ '2024-01-02 03:04:05+00'] AS l",
            &opts(None, false),
        )
        .await;
        let l = display_value(batches[0].column(0).as_ref(), 0).expect("display");
        assert_eq!(l, "[\"2024-01-02T03:04:05Z\"]");
    }

    #[tokio::test]
    async fn timeout_while_streaming_ends_the_stream_with_an_error() {
        let (_dir, path) = fixture();
        let b = DuckdbBackend::open(&config(&path, true)).expect("open");
        let o = QueryOptions {
            row_limit: None,
            timeout: Duration::from_millis(300),
            allow_write: false,
            ..Default::default()
        };
        let started = Instant::now();
        let outcome = match b.query("SELECT range FROM range(10000000000)", &o).await {
            Ok(QueryResult::Rows(s)) => super::super::collect(s).await.map(|_| ()),
            Ok(QueryResult::Command { .. }) => panic!("expected rows"),
            Err(e) => Err(e),
        };
        assert!(
            matches!(outcome, Err(BackendError::Timeout(_))),
            "{outcome:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn row_limit_slices_and_stops() {
        let (_dir, path) = fixture();
        let b = DuckdbBackend::open(&config(&path, true)).expect("open");
        let sql = "SELECT range AS x FROM range(1000000000)";
        let started = Instant::now();
        let (_, batches) = rows_of(&b, sql, &opts(Some(5000), false)).await;
        assert_eq!(total_rows(&batches), 5000);
        assert!(started.elapsed() < Duration::from_secs(5));
        let (schema, batches) = rows_of(&b, sql, &opts(Some(0), false)).await;
        assert_eq!(total_rows(&batches), 0);
        assert_eq!(schema.field(0).data_type(), &DataType::Int64);
    }

    #[tokio::test]
    async fn writes_are_refused_unless_allowed() {
        let (_dir, path) = fixture();
        let insert = "INSERT INTO sales(id, item) VALUES (10, 'x')";
        {
            let ro = DuckdbBackend::open(&config(&path, true)).expect("open");
            let err = ro
                .query(insert, &opts(None, true))
                .await
                .expect_err("read-only db");
            assert!(matches!(err, BackendError::ReadOnly(_)), "{err:?}");
        }
        let rw = DuckdbBackend::open(&config(&path, false)).expect("open");
        let err = rw
            .query(insert, &opts(None, false))
            .await
            .expect_err("read-only transaction");
        assert!(matches!(err, BackendError::ReadOnly(_)), "{err:?}");
        match rw
            .query(insert, &opts(None, true))
            .await
            .expect("write allowed")
        {
            QueryResult::Command { tag, rows } => {
                assert_eq!(tag, "INSERT");
                assert_eq!(rows, 1);
            }
            QueryResult::Rows(_) => panic!("expected a command"),
        }
        let (_, batches) =
            rows_of(&rw, "SELECT count(*) AS n FROM sales", &opts(None, false)).await;
        let n = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("count");
        assert_eq!(n.value(0), 3);
        let (_, batches) = rows_of(
            &rw,
            "DELETE FROM sales WHERE id = 10 RETURNING id",
            &opts(None, true),
        )
        .await;
        assert_eq!(total_rows(&batches), 1);
    }

    #[tokio::test]
    async fn slow_query_times_out() {
        let (_dir, path) = fixture();
        let b = DuckdbBackend::open(&config(&path, true)).expect("open");
        let o = QueryOptions {
            row_limit: None,
            timeout: Duration::from_millis(300),
            allow_write: false,
            ..Default::default()
        };
        let started = Instant::now();
        let err = b
            .query(
                "SELECT count(*) FROM range(10000000000) t(x) WHERE x % 7 = 3",
                &o,
            )
            .await
            .expect_err("timeout");
        assert!(matches!(err, BackendError::Timeout(_)), "{err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        b.ping().await.expect("ping after timeout");
    }

    #[tokio::test]
    async fn errors_carry_sqlstates() {
        let (_dir, path) = fixture();
        let b = DuckdbBackend::open(&config(&path, true)).expect("open");
        for (sql, state) in [
            ("SELECT * FROM nope", "42P01"),
            ("SELECT nope FROM sales", "42703"),
            ("SELEC 1", "42601"),
        ] {
            match b.query(sql, &opts(None, false)).await {
                Err(BackendError::Query { sqlstate, message }) => {
                    assert_eq!(sqlstate.as_deref(), Some(state), "{sql}: {message}")
                }
                other => panic!("{sql}: unexpected {other:?}"),
            }
        }
        let missing = config(&path.with_file_name("missing.duckdb"), true);
        assert!(matches!(
            DuckdbBackend::open(&missing),
            Err(BackendError::Connect(_))
        ));
    }

    #[tokio::test]
    async fn introspects_tables() {
        let (_dir, path) = fixture();
        let b = DuckdbBackend::open(&config(&path, true)).expect("open");
        let info = b.introspect().await.expect("introspect");
        assert_eq!(info.database, "test");
        let names: Vec<&str> = info.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["extra.notes", "sales"]);
        let sales = &info.tables[1];
        assert_eq!(sales.columns[0].name, "id");
        assert!(sales.columns[0].primary_key && !sales.columns[0].nullable);
        assert_eq!(sales.columns[2].data_type, "DECIMAL(10,2)");
        assert!(!sales.columns[1].nullable && !sales.columns[1].primary_key);
        b.ping().await.expect("ping");
    }

    #[test]
    fn normalizes_synthetic_batches() {
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None]),
            None,
        ]);
        let ts = TimestampNanosecondArray::from(vec![Some(1_500_000_000_123_456_789), None])
            .with_timezone("Europe/Berlin");
        let dec = Decimal128Array::from(vec![Some(1250), Some(-5)])
            .with_precision_and_scale(10, 2)
            .expect("decimal");
        let batch = RecordBatch::try_from_iter(vec![
            ("i8", Arc::new(Int8Array::from(vec![1, -1])) as ArrayRef),
            (
                "u64",
                Arc::new(UInt64Array::from(vec![u64::MAX, 0])) as ArrayRef,
            ),
            ("dec", Arc::new(dec) as ArrayRef),
            ("ts", Arc::new(ts) as ArrayRef),
            ("list", Arc::new(list) as ArrayRef),
            (
                "large",
                Arc::new(arrow::array::LargeStringArray::from(vec!["a", "b"])) as ArrayRef,
            ),
            (
                "u16",
                Arc::new(arrow::array::UInt16Array::from(vec![65535, 0])) as ArrayRef,
            ),
        ])
        .expect("batch");
        let out = normalize_batch(&batch).expect("normalize");
        let s = out.schema();
        assert_eq!(
            out.column(0)
                .as_any()
                .downcast_ref::<Int16Array>()
                .expect("i16")
                .value(1),
            -1
        );
        let u64s = out
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("u64 text");
        assert_eq!(u64s.value(0), "18446744073709551615");
        assert_eq!(pg_tag(&s, 1), Some("numeric"));
        let decs = out
            .column(2)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("dec text");
        assert_eq!((decs.value(0), decs.value(1)), ("12.50", "-0.05"));
        let ts = out
            .column(3)
            .as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
        assert_eq!(ts.value(0), 1_500_000_000_123_456);
        assert!(ts.is_null(1));
        assert_eq!(
            s.field(3).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        let lists = out
            .column(4)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("json");
        assert_eq!(lists.value(0), "[1,null]");
        assert!(lists.is_null(1));
        assert_eq!(s.field(5).data_type(), &DataType::Utf8);
        let u16s = out
            .column(6)
            .as_any()
            .downcast_ref::<Int32Array>()
            .expect("u16");
        assert_eq!(u16s.value(0), 65535);
        assert_eq!(normalize_schema(batch.schema_ref()), s);
    }

    #[test]
    fn classifies_statements() {
        assert!(is_command("INSERT", "insert into t values (1)"));
        assert!(!is_command(
            "INSERT",
            "insert into t values (1) returning *"
        ));
        assert!(!is_command("SELECT", "select 1"));
        assert!(!is_command("PRAGMA", "pragma table_info('t')"));
    }
}
