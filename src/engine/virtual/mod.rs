//! The virtual catalog engine: `pg_catalog` and `information_schema` queries that need
//! PostgreSQL's arrays and set-returning functions (`unnest(indkey)` with
//! `generate_subscripts`, `array_agg(… ORDER BY …)`, `= ANY(conkey)`,
//! `(information_schema._pg_expandarray(indkey)).n`, `generate_series(…) pos(n)` with
//! `confkey[pos.n]`, `current_schemas(false)[s.r]`, `regexp_split_to_table`) run on a
//! private in-memory DuckDB whose parser is PostgreSQL's own (libpg_query).
//!
//! The catalog's contents come from the emulated catalog (`wire::catalog`'s model),
//! copied into DuckDB per query ([`load`]); the client's statement is rewritten only
//! where DuckDB must differ ([`rewrite`]); PostgreSQL's catalog functions are DuckDB
//! macros ([`macros`]). The DuckDB instance has no file or network access, no
//! extensions, one thread and a memory cap. A statement DuckDB cannot run is refused
//! (the caller answers `0A000`), never answered approximately.

mod load;
mod macros;
pub mod names;
pub mod rewrite;
mod sources;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use duckdb::{Config, Connection};

use crate::backends::types::PG_OID_KEY;

/// A small in-memory result: a schema and its batches.
pub type Table = (SchemaRef, Vec<RecordBatch>);

/// Most rows a catalog query may return.
const MAX_ROWS: usize = 1_000_000;

/// Why the virtual catalog did not answer.
#[derive(Debug, thiserror::Error)]
pub enum VirtualError {
    /// The statement uses something the virtual catalog cannot answer exactly (0A000).
    #[error("{0}")]
    Unsupported(String),
    /// A name the statement casts (`'x'::regclass`) does not exist (42P01/42704).
    #[error("{0}")]
    Undefined(String),
    /// DuckDB refused or failed the statement (0A000: nothing is answered approximately).
    #[error("the virtual catalog cannot run it ({0})")]
    Engine(String),
}

/// What a catalog query may depend on besides the catalog tables.
pub struct Context<'a> {
    /// Login user (`current_user`).
    pub user: &'a str,
    /// The session's search path (`current_schemas(false)`; the target first).
    pub search_path: Vec<String>,
    /// The process id the client was given in BackendKeyData (`pg_backend_pid()`).
    pub backend_pid: i32,
    /// A transaction id for `txid_current()`.
    pub txid: i64,
    /// Reported server version.
    pub server_version: &'a str,
    /// Run-time parameters (`current_setting`), lower-case names.
    pub settings: Vec<(String, String)>,
    /// The OID of `'text'::regclass` / `regtype` / `regnamespace` / `regrole`.
    pub reg_oid: &'a dyn Fn(&str, &str) -> Option<i64>,
}

fn engine_err(e: duckdb::Error) -> VirtualError {
    VirtualError::Engine(e.to_string())
}

fn open() -> Result<Connection, VirtualError> {
    let config = Config::default()
        .enable_autoload_extension(false)
        .and_then(|c| c.enable_external_access(false))
        .and_then(|c| c.max_memory("256MB"))
        .and_then(|c| c.threads(1))
        .map_err(engine_err)?;
    Connection::open_in_memory_with_flags(config).map_err(engine_err)
}

/// The PostgreSQL array type OID of a list of `inner`.
fn array_oid(inner: &DataType) -> u32 {
    match inner {
        DataType::Boolean => 1000,
        DataType::Int8 | DataType::Int16 => 1005,
        DataType::Int32 => 1007,
        DataType::Int64 => 1016,
        DataType::Float32 => 1021,
        DataType::Float64 => 1022,
        _ => 1009,
    }
}

/// One element in an array's text form: quoted where PostgreSQL quotes.
fn array_element(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.eq_ignore_ascii_case("null")
        && !s
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '{' | '}' | ',' | '"' | '\\'));
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Lists become PostgreSQL array text (`{a,b}`) announced as the array type.
fn pg_arrays(batch: &RecordBatch) -> Result<RecordBatch, VirtualError> {
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for (f, col) in batch.schema().fields().iter().zip(batch.columns()) {
        match f.data_type() {
            DataType::List(inner) | DataType::LargeList(inner) => {
                let oid = array_oid(inner.data_type());
                let mut b = StringBuilder::new();
                for r in 0..col.len() {
                    if col.is_null(r) {
                        b.append_null();
                        continue;
                    }
                    let values = match f.data_type() {
                        DataType::List(_) => col.as_list::<i32>().value(r),
                        _ => col.as_list::<i64>().value(r),
                    };
                    let mut items = Vec::with_capacity(values.len());
                    for i in 0..values.len() {
                        items.push(match crate::pgtypes::text_value(values.as_ref(), i) {
                            None => "NULL".to_string(),
                            Some(t) => array_element(&t),
                        });
                    }
                    b.append_value(format!("{{{}}}", items.join(",")));
                }
                let mut meta = std::collections::HashMap::new();
                meta.insert(PG_OID_KEY.to_string(), oid.to_string());
                fields.push(Field::new(f.name(), DataType::Utf8, true).with_metadata(meta));
                cols.push(Arc::new(b.finish()));
            }
            DataType::Struct(_) | DataType::Map(_, _) | DataType::Union(_, _) => {
                return Err(VirtualError::Unsupported(format!(
                    "column \"{}\" is a composite value",
                    f.name()
                )))
            }
            _ => {
                fields.push(f.as_ref().clone());
                cols.push(col.clone());
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
        .map_err(|e| VirtualError::Engine(e.to_string()))
}

/// Catalogs kept loaded, most recently used first.
const CACHED: usize = 4;

/// Loaded catalogs by key (see [`answer`]); each is the root connection of a private
/// in-memory DuckDB database, cloned per query.
static CACHE: std::sync::Mutex<Vec<(u64, Connection)>> = std::sync::Mutex::new(Vec::new());

/// A connection to the loaded catalog `key`, loading it with `load` when it is not cached.
fn catalog_connection(
    key: u64,
    load: &dyn Fn() -> Result<rusqlite::Connection, String>,
) -> Result<Connection, VirtualError> {
    {
        let mut cache = CACHE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(i) = cache.iter().position(|(k, _)| *k == key) {
            let entry = cache.remove(i);
            let conn = entry.1.try_clone().map_err(engine_err);
            cache.insert(0, entry);
            return conn;
        }
    }
    let catalog = load().map_err(VirtualError::Engine)?;
    let root = open()?;
    load::copy_catalog(&catalog, &root)?;
    root.execute_batch(macros::STATIC)
        .map_err(|e| VirtualError::Engine(format!("macros: {e}")))?;
    let conn = root.try_clone().map_err(engine_err)?;
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !cache.iter().any(|(k, _)| *k == key) {
        cache.insert(0, (key, root));
        cache.truncate(CACHED);
    }
    Ok(conn)
}

/// Answers `sql` over the emulated catalog `key` (a fingerprint of its contents); `load`
/// builds it (SQLite, as `wire::catalog`'s model does) when it is not loaded yet.
pub fn answer(
    key: u64,
    load: &dyn Fn() -> Result<rusqlite::Connection, String>,
    sql: &str,
    ctx: &Context<'_>,
) -> Result<Table, VirtualError> {
    let rewritten = rewrite::rewrite(sql, ctx)?;
    let conn = catalog_connection(key, load)?;
    conn.execute_batch(&macros::session(ctx))
        .map_err(|e| VirtualError::Engine(format!("session macros: {e}")))?;
    conn.execute_batch("SET search_path = 'main,pgc'")
        .map_err(engine_err)?;
    tracing::debug!(sql = %rewritten, "virtual catalog query");
    let mut stmt = conn.prepare(&rewritten).map_err(engine_err)?;
    let batches: Vec<RecordBatch> = stmt.query_arrow([]).map_err(engine_err)?.collect();
    let schema = match batches.first() {
        Some(b) => b.schema(),
        None => stmt.schema(),
    };
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if rows > MAX_ROWS {
        return Err(VirtualError::Unsupported(format!(
            "it returns more than {MAX_ROWS} rows"
        )));
    }
    let batches: Vec<RecordBatch> = if batches.is_empty() {
        vec![RecordBatch::new_empty(schema)]
    } else {
        batches
    };
    let out: Vec<RecordBatch> = batches.iter().map(pg_arrays).collect::<Result<_, _>>()?;
    let schema = out
        .first()
        .map(RecordBatch::schema)
        .ok_or_else(|| VirtualError::Engine("no result".into()))?;
    Ok((schema, out))
}
