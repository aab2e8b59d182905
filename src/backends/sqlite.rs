//! SQLite backend (rusqlite with the bundled SQLite).
//!
//! - A connection opened with `read_only = true` uses `SQLITE_OPEN_READ_ONLY`, so SQLite
//!   itself refuses writes; otherwise every statement that may not write runs with
//!   `PRAGMA query_only = ON`.
//! - All SQLite calls run on tokio's blocking pool. Rows travel to the async side as Arrow
//!   batches of [`BATCH_ROWS`] rows through a bounded channel, and stepping stops at
//!   `row_limit` rows.
//! - Timeouts and dropped streams interrupt the running statement through SQLite's
//!   interrupt handle.
//! - SQLite is dynamically typed: a column's Arrow type comes from its declared type when
//!   rusqlite exposes one (feature `column_decltype`), widened by the values of the first
//!   batch; later values are converted into that type (see [`fit`]).
//!
//! The blocking-worker machinery in the second half of this file ([`Canceller`],
//! [`spawn_query`], [`first_keyword`]) is shared with the DuckDB backend.

mod keys;
mod lease;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::blocking::{
    file_stem, first_keyword, join_error, lock, spawn_query, Canceller, Head, Output,
};
use super::types::{BatchBuilder, ColType, Value, BATCH_ROWS};
use super::{
    Backend, BackendError, ColumnInfo, Dialect, QueryOptions, QueryResult, SchemaInfo, TableInfo,
};
use crate::config::ConnectionConfig;

/// How long a statement waits for a lock held by another connection before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// A SQLite database file behind the proxy.
pub struct SqliteBackend {
    pool: Arc<Pool>,
    database: String,
}

impl std::fmt::Debug for SqliteBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBackend")
            .field("path", &self.pool.path)
            .field("read_only", &self.pool.read_only)
            .finish()
    }
}

impl SqliteBackend {
    /// Opens the database file `cfg.path` (used as given; the caller resolves it).
    ///
    /// The file must exist: it is never created here. With `cfg.read_only` (the default)
    /// the file is opened with `SQLITE_OPEN_READ_ONLY`. Up to `cfg.pool_size` idle
    /// connections are kept for reuse; one is opened now, so a missing or corrupt file is
    /// reported at once as [`BackendError::Connect`].
    pub fn open(cfg: &ConnectionConfig) -> Result<Self, BackendError> {
        let path = cfg.path.clone().ok_or_else(|| {
            BackendError::Connect(format!("connection \"{}\" has no path", cfg.name))
        })?;
        let pool = Arc::new(Pool {
            path,
            read_only: cfg.read_only,
            max_idle: cfg.pool_size.max(1),
            idle: Mutex::new(Vec::new()),
        });
        let first = pool.open()?;
        pool.put(first);
        let database = file_stem(&pool.path);
        tracing::debug!(connection = %cfg.name, read_only = cfg.read_only, "sqlite database opened");
        Ok(SqliteBackend { pool, database })
    }

    /// A connection from the pool, or a new one.
    async fn checkout(&self) -> Result<Connection, BackendError> {
        if let Some(conn) = self.pool.take() {
            return Ok(conn);
        }
        let pool = Arc::clone(&self.pool);
        tokio::task::spawn_blocking(move || pool.open())
            .await
            .map_err(join_error)?
    }

    /// Runs `f` on a pooled connection on the blocking pool (no timeout).
    async fn with_conn<T, F>(&self, f: F) -> Result<T, BackendError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.checkout().await?;
        let pool = Arc::clone(&self.pool);
        tokio::task::spawn_blocking(move || {
            let result = f(&conn);
            pool.put(conn);
            result
        })
        .await
        .map_err(join_error)?
        .map_err(|e| map_error(e, None))
    }
}

#[async_trait]
impl Backend for SqliteBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn introspect(&self) -> Result<SchemaInfo, BackendError> {
        let database = self.database.clone();
        self.with_conn(move |conn| introspect_tables(conn, database))
            .await
    }

    async fn schema_version(&self) -> Result<Option<String>, BackendError> {
        self.with_conn(|conn| {
            conn.query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0))
                .map(|v| Some(v.to_string()))
        })
        .await
    }

    async fn introspect_keys(&self) -> Result<crate::keys::KeyInfo, BackendError> {
        self.with_conn(keys::introspect_keys).await
    }

    async fn query(&self, sql: &str, opts: &QueryOptions) -> Result<QueryResult, BackendError> {
        let conn = self.checkout().await?;
        let interrupt = conn.get_interrupt_handle();
        let pool = Arc::clone(&self.pool);
        let job = Job {
            sql: sql.to_owned(),
            row_limit: opts.row_limit,
            allow_write: opts.allow_write,
        };
        spawn_query(
            opts.timeout,
            move || interrupt.interrupt(),
            move |canceller, out| {
                if let Err(e) = run_statement(&conn, &job, canceller, out) {
                    out.fail(e);
                }
                // No interrupt may reach this connection once it is back in the pool.
                canceller.finish();
                pool.put(conn);
            },
        )
        .await
    }

    async fn begin(
        &self,
        opts: &crate::backends::TxOptions,
    ) -> Result<Box<dyn crate::backends::Lease>, BackendError> {
        self.begin_lease(opts).await
    }

    async fn ping(&self) -> Result<(), BackendError> {
        self.with_conn(|conn| conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)))
            .await
            .map(|_| ())
    }
}

/// Idle connections to one database file.
struct Pool {
    path: PathBuf,
    read_only: bool,
    max_idle: usize,
    idle: Mutex<Vec<Connection>>,
}

impl Pool {
    fn open(&self) -> Result<Connection, BackendError> {
        let access = if self.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        };
        let conn =
            Connection::open_with_flags(&self.path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| {
                    BackendError::Connect(format!(
                        "cannot open SQLite database {}: {}",
                        self.path.display(),
                        error_parts(&e).1
                    ))
                })?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| map_error(e, None))?;
        Ok(conn)
    }

    fn take(&self) -> Option<Connection> {
        lock(&self.idle).pop()
    }

    /// Returns a connection for reuse; one left inside a transaction is closed instead
    /// (which rolls the transaction back), so no session inherits another's transaction.
    fn put(&self, conn: Connection) {
        if !conn.is_autocommit() {
            tracing::warn!(path = %self.path.display(), "closing a SQLite connection left inside a transaction");
            return;
        }
        let mut idle = lock(&self.idle);
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
    }
}

/// One statement to run.
struct Job {
    sql: String,
    row_limit: Option<usize>,
    allow_write: bool,
}

/// Runs one statement on the worker thread, reporting through `out`.
fn run_statement(
    conn: &Connection,
    job: &Job,
    canceller: &Canceller,
    out: &mut Output,
) -> Result<(), BackendError> {
    let err = |e: rusqlite::Error| map_error(e, Some(canceller));
    conn.pragma_update(None, "query_only", !job.allow_write)
        .map_err(err)?;
    let mut stmt = conn.prepare(&job.sql).map_err(err)?;

    if stmt.column_count() == 0 {
        let changed = stmt.execute([]).map_err(err)?;
        let tag = first_keyword(&job.sql);
        let rows = if matches!(tag.as_str(), "INSERT" | "UPDATE" | "DELETE" | "REPLACE") {
            changed as u64
        } else {
            0
        };
        out.head(Ok(Head::Command { tag, rows }));
        return Ok(());
    }

    let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let declared = declared_types(&stmt);
    let mut rows = stmt.query([]).map_err(err)?;
    let mut remaining = job.row_limit;

    let (first, mut exhausted) = read_rows(&mut rows, names.len(), &mut remaining, err)?;
    let types = infer_types(&declared, &first);
    let columns: Vec<(String, ColType)> =
        names.iter().cloned().zip(types.iter().copied()).collect();
    let mut builder = BatchBuilder::new(&columns);
    let mut fitter = Fitter::new(columns);
    out.head(Ok(Head::Rows(builder.schema())));

    let mut pending = first;
    loop {
        if !pending.is_empty() {
            for row in pending {
                builder.push_row(fitter.fit_row(row))?;
            }
            if !out.send(Ok(builder.finish()?)) {
                return Ok(()); // the consumer went away
            }
        }
        if exhausted {
            return Ok(());
        }
        (pending, exhausted) = read_rows(&mut rows, names.len(), &mut remaining, err)?;
    }
}

/// Reads up to one batch of rows, never more than `remaining`; returns the rows and whether
/// nothing more should be read (result exhausted or row limit reached).
fn read_rows(
    rows: &mut rusqlite::Rows<'_>,
    width: usize,
    remaining: &mut Option<usize>,
    err: impl Fn(rusqlite::Error) -> BackendError,
) -> Result<(Vec<Vec<Value>>, bool), BackendError> {
    let want = remaining.map_or(BATCH_ROWS, |r| r.min(BATCH_ROWS));
    let mut out = Vec::with_capacity(want);
    let mut exhausted = false;
    while out.len() < want {
        match rows.next().map_err(&err)? {
            Some(row) => {
                let values = (0..width)
                    .map(|i| row.get_ref(i).map(to_value))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(&err)?;
                out.push(values);
            }
            None => {
                exhausted = true;
                break;
            }
        }
    }
    if let Some(r) = remaining.as_mut() {
        *r -= out.len();
        exhausted |= *r == 0;
    }
    Ok((out, exhausted))
}

fn to_value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    }
}

// ---------------------------------------------------------------------------------------
// Column types
// ---------------------------------------------------------------------------------------

/// The declared type of each result column, where it names one we map.
fn declared_types(stmt: &rusqlite::Statement<'_>) -> Vec<Option<ColType>> {
    stmt.columns()
        .map(|c| c.decl_type().and_then(decl_col_type))
        .collect()
}

/// Maps a declared SQLite type (`INTEGER`, `VARCHAR(20)`, `DECIMAL(10,2)`...) to a column
/// type, following SQLite's affinity rules; `None` when nothing is declared or recognised.
fn decl_col_type(decl: &str) -> Option<ColType> {
    let d = decl.to_ascii_uppercase();
    let has = |s: &str| d.contains(s);
    Some(if has("BOOL") {
        ColType::Bool
    } else if has("INT") {
        ColType::Int64
    } else if has("CHAR") || has("CLOB") || has("TEXT") || has("DATE") || has("TIME") {
        ColType::Text
    } else if has("BLOB") {
        ColType::Bytes
    } else if has("REAL") || has("FLOA") || has("DOUB") || has("NUMERIC") || has("DEC") {
        ColType::Float64
    } else {
        return None;
    })
}

/// Chooses each column's type: the declared type widened by every value of the first batch;
/// a column with neither a declared type nor a value is text.
fn infer_types(declared: &[Option<ColType>], rows: &[Vec<Value>]) -> Vec<ColType> {
    declared
        .iter()
        .enumerate()
        .map(|(i, decl)| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .fold(*decl, widen)
                .unwrap_or(ColType::Text)
        })
        .collect()
}

/// The narrowest type holding both `current` and `v` without loss.
fn widen(current: Option<ColType>, v: &Value) -> Option<ColType> {
    use ColType::{Bool, Bytes, Float64, Int64, Text};
    let observed = match v {
        Value::Null => return current,
        Value::Int(_) => Int64,
        Value::Float(_) => Float64,
        Value::Bytes(_) => Bytes,
        _ => Text,
    };
    Some(match (current, observed) {
        (None, t) => t,
        (Some(c), t) if c == t => c,
        (Some(Bool), Int64) if matches!(v, Value::Int(0 | 1)) => Bool,
        (Some(Bool | Int64), Int64) => Int64,
        (Some(Bool | Int64 | Float64), Int64 | Float64) => Float64,
        _ => Text,
    })
}

/// Converts values into their column's chosen type, warning once per column about values
/// that cannot be represented (those become NULL).
struct Fitter {
    columns: Vec<(String, ColType)>,
    warned: Vec<bool>,
}

impl Fitter {
    fn new(columns: Vec<(String, ColType)>) -> Self {
        let warned = vec![false; columns.len()];
        Fitter { columns, warned }
    }

    fn fit_row(&mut self, row: Vec<Value>) -> Vec<Value> {
        row.into_iter()
            .enumerate()
            .map(|(i, v)| {
                let Some((name, ty)) = self.columns.get(i) else {
                    return v;
                };
                fit(v, *ty).unwrap_or_else(|lost| {
                    if let Some(w) = self.warned.get_mut(i).filter(|w| !**w) {
                        *w = true;
                        tracing::warn!(column = %name, column_type = ?ty, value = ?lost,
                            "SQLite value does not fit the column's type; returned as NULL");
                    }
                    Value::Null
                })
            })
            .collect()
    }
}

/// Converts a SQLite value into column type `ty` without loss: integers into floats,
/// integral floats and numeric text into integers, anything into text. `Err` returns a value
/// that has no lossless form in `ty` (e.g. 2.5 in an integer column).
fn fit(v: Value, ty: ColType) -> Result<Value, Value> {
    const I64_RANGE: f64 = 9.223_372_036_854_775e18;
    Ok(match (ty, v) {
        (_, Value::Null) => Value::Null,
        (ColType::Int64, Value::Int(i)) => Value::Int(i),
        (ColType::Int64, Value::Float(f)) if f.fract() == 0.0 && f.abs() < I64_RANGE => {
            Value::Int(f as i64)
        }
        (ColType::Int64, Value::Text(s)) => match s.trim().parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => return Err(Value::Text(s)),
        },
        (ColType::Float64, Value::Int(i)) => Value::Int(i),
        (ColType::Float64, Value::Float(f)) => Value::Float(f),
        (ColType::Float64, Value::Text(s)) => match s.trim().parse::<f64>() {
            Ok(f) => Value::Float(f),
            Err(_) => return Err(Value::Text(s)),
        },
        (ColType::Bool, Value::Int(i)) => Value::Bool(i != 0),
        (ColType::Bool, Value::Float(f)) => Value::Bool(f != 0.0),
        (ColType::Bool, Value::Text(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "t" | "true" | "y" | "yes" | "on" => Value::Bool(true),
            "0" | "f" | "false" | "n" | "no" | "off" => Value::Bool(false),
            _ => return Err(Value::Text(s)),
        },
        (ColType::Text, Value::Int(i)) => Value::Text(i.to_string()),
        (ColType::Text, Value::Float(f)) => Value::Text(format!("{f:?}")),
        (ColType::Text, Value::Text(s)) => Value::Text(s),
        (ColType::Text, Value::Bytes(b)) => Value::Text(blob_text(b)),
        (ColType::Bytes, Value::Bytes(b)) => Value::Bytes(b),
        (ColType::Bytes, Value::Text(s)) => Value::Bytes(s.into_bytes()),
        (ColType::Bytes, Value::Int(i)) => Value::Bytes(i.to_string().into_bytes()),
        (ColType::Bytes, Value::Float(f)) => Value::Bytes(format!("{f:?}").into_bytes()),
        (_, other) => return Err(other),
    })
}

/// A blob shown as text: itself when it is UTF-8, else PostgreSQL's `\x` hex form.
fn blob_text(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap_or_else(|e| format!("\\x{}", hex::encode(e.as_bytes())))
}

// ---------------------------------------------------------------------------------------
// Introspection and errors
// ---------------------------------------------------------------------------------------

fn introspect_tables(conn: &Connection, database: String) -> rusqlite::Result<SchemaInfo> {
    let mut list = conn.prepare(
        "SELECT name FROM sqlite_master \
         WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         ORDER BY name",
    )?;
    let names = list
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut info =
        conn.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid")?;
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let columns = info
            .query_map([&name], |r| {
                let declared: String = r.get(1)?;
                let not_null: i64 = r.get(2)?;
                let pk: i64 = r.get(3)?;
                Ok(ColumnInfo {
                    name: r.get(0)?,
                    data_type: if declared.is_empty() {
                        "ANY".into()
                    } else {
                        declared
                    },
                    primary_key: pk > 0,
                    nullable: not_null == 0 && pk == 0,
                    ..Default::default()
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        tables.push(TableInfo {
            name,
            columns,
            ..Default::default()
        });
    }
    Ok(SchemaInfo { database, tables })
}

/// The SQLite error code (if any) and the bare message of an error.
fn error_parts(e: &rusqlite::Error) -> (Option<ErrorCode>, String) {
    match e {
        rusqlite::Error::SqliteFailure(f, msg) => {
            (Some(f.code), msg.clone().unwrap_or_else(|| f.to_string()))
        }
        rusqlite::Error::SqlInputError { error, msg, .. } => (Some(error.code), msg.clone()),
        rusqlite::Error::Empty => (None, "the statement is empty".into()),
        other => (None, other.to_string()),
    }
}

/// Maps a rusqlite error; an interruption becomes the canceller's timeout or cancel error.
fn map_error(e: rusqlite::Error, canceller: Option<&Canceller>) -> BackendError {
    let (code, message) = error_parts(&e);
    match code {
        Some(ErrorCode::ReadOnly) => BackendError::ReadOnly(message),
        Some(ErrorCode::OperationInterrupted) => match canceller {
            Some(c) => c.interrupted_error(),
            None => BackendError::Other(message),
        },
        Some(ErrorCode::CannotOpen | ErrorCode::NotADatabase) => BackendError::Connect(message),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => BackendError::Query {
            sqlstate: Some("55P03".into()),
            message,
        },
        _ => BackendError::Query {
            sqlstate: sqlstate_for(&message, matches!(e, rusqlite::Error::Empty))
                .map(str::to_owned),
            message,
        },
    }
}

/// The PostgreSQL SQLSTATE matching a SQLite error message, where one obviously does.
fn sqlstate_for(message: &str, empty: bool) -> Option<&'static str> {
    let m = message.to_ascii_lowercase();
    let table = [
        ("no such table", "42P01"),
        ("no such view", "42P01"),
        ("no such column", "42703"),
        ("no such function", "42883"),
        ("ambiguous column name", "42702"),
        ("syntax error", "42601"),
        ("incomplete input", "42601"),
        ("unrecognized token", "42601"),
        ("unique constraint failed", "23505"),
        ("not null constraint failed", "23502"),
        ("foreign key constraint failed", "23503"),
        ("check constraint failed", "23514"),
        ("datatype mismatch", "42804"),
    ];
    if empty {
        return Some("42601");
    }
    table
        .iter()
        .find(|(needle, _)| m.contains(needle))
        .map(|(_, state)| *state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    use crate::config::ConnectionKind;
    use arrow::array::{Array, BooleanArray, Float64Array, Int64Array, StringArray};
    use arrow::datatypes::SchemaRef;
    use arrow::record_batch::RecordBatch;
    use std::time::Instant;

    fn config(path: &Path, read_only: bool) -> ConnectionConfig {
        ConnectionConfig {
            id: Some(1),
            name: "t".into(),
            kind: ConnectionKind::Sqlite,
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
            timeout: Duration::from_secs(10),
            allow_write,
            ..Default::default()
        }
    }

    /// A temp database with a typed table and an untyped one.
    fn fixture() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("test.sqlite");
        let conn = Connection::open(&path).expect("create");
        conn.execute_batch(
            "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL, \
                                active BOOLEAN, added DATE, note);
             INSERT INTO items VALUES (1, 'pen', 1.5, 1, '2024-01-02', NULL),
                                      (2, 'book', 12, 0, '2024-02-03', NULL),
                                      (3, 'lamp', NULL, NULL, NULL, NULL);
             CREATE TABLE loose(a, b);
             CREATE VIEW cheap AS SELECT name FROM items WHERE price < 5;",
        )
        .expect("fixture");
        (dir, path)
    }

    async fn rows_of(
        backend: &SqliteBackend,
        sql: &str,
        o: &QueryOptions,
    ) -> (SchemaRef, Vec<RecordBatch>) {
        match backend.query(sql, o).await.expect("query") {
            QueryResult::Rows(s) => super::super::collect(s).await.expect("collect"),
            QueryResult::Command { .. } => panic!("expected rows"),
        }
    }

    fn total_rows(batches: &[RecordBatch]) -> usize {
        batches.iter().map(RecordBatch::num_rows).sum()
    }

    #[tokio::test]
    async fn reads_values_with_types() {
        let (_dir, path) = fixture();
        let b = SqliteBackend::open(&config(&path, true)).expect("open");
        let (schema, batches) = rows_of(
            &b,
            "SELECT id, name, price, active, added, count(*) OVER () AS n, note FROM items ORDER BY id",
            &opts(None, false),
        )
        .await;
        assert_eq!(batches.len(), 1);
        let batch = &batches[0];
        let ids = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("id int64");
        assert_eq!(ids.values(), &[1, 2, 3]);
        let names = batch
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("name text");
        assert_eq!(names.value(1), "book");
        let prices = batch
            .column(2)
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("price f64");
        assert_eq!(prices.value(0), 1.5);
        assert_eq!(prices.value(1), 12.0);
        assert!(prices.is_null(2));
        // count(*) has no declared type: inferred from its values.
        assert!(batch
            .column(5)
            .as_any()
            .downcast_ref::<Int64Array>()
            .is_some());
        // an all-NULL column without declared type (or with none) is text.
        assert_eq!(
            schema.field(6).data_type(),
            &arrow::datatypes::DataType::Utf8
        );
        // BOOLEAN is a Bool when declared types are available, else an integer 0/1.
        let active = batch.column(3);
        if let Some(a) = active.as_any().downcast_ref::<BooleanArray>() {
            assert!(a.value(0) && !a.value(1));
        } else {
            let a = active
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("active");
            assert_eq!(a.value(0), 1);
        }
        let added = batch
            .column(4)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("date as text");
        assert_eq!(added.value(0), "2024-01-02");
    }

    #[tokio::test]
    async fn widens_mixed_values_and_never_fails_on_late_surprises() {
        let (_dir, path) = fixture();
        let conn = Connection::open(&path).expect("open");
        // first batch: integers and a real -> Float64; text arrives only after 2000 rows.
        conn.execute_batch(
            "INSERT INTO loose(a, b) VALUES (1, 1), (2.5, 2);
             WITH RECURSIVE c(x) AS (SELECT 3 UNION ALL SELECT x + 1 FROM c WHERE x < 2000)
             INSERT INTO loose(a, b) SELECT x, x FROM c;
             INSERT INTO loose(a, b) VALUES ('x', 7.5), (X'FF00', 8);",
        )
        .expect("rows");
        drop(conn);
        let b = SqliteBackend::open(&config(&path, true)).expect("open");
        let (schema, batches) = rows_of(&b, "SELECT a, b FROM loose", &opts(None, false)).await;
        assert_eq!(
            schema.field(0).data_type(),
            &arrow::datatypes::DataType::Float64
        );
        assert_eq!(
            schema.field(1).data_type(),
            &arrow::datatypes::DataType::Int64
        );
        assert_eq!(total_rows(&batches), 2002);
        let last = batches.last().expect("batch");
        let b_col = last
            .column(1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("b");
        // 7.5 has no lossless integer form: NULL (and a warning), 8 stays.
        assert!(b_col.is_null(last.num_rows() - 2));
        assert_eq!(b_col.value(last.num_rows() - 1), 8);
    }

    #[tokio::test]
    async fn row_limit_cuts_the_stream() {
        let (_dir, path) = fixture();
        let b = SqliteBackend::open(&config(&path, true)).expect("open");
        let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c";
        let (_, batches) = rows_of(&b, sql, &opts(Some(1500), false)).await;
        assert_eq!(total_rows(&batches), 1500);
        assert_eq!(batches[0].num_rows(), BATCH_ROWS);
        let (schema, batches) = rows_of(&b, sql, &opts(Some(0), false)).await;
        assert_eq!(total_rows(&batches), 0);
        assert_eq!(schema.fields().len(), 1);
    }

    #[tokio::test]
    async fn read_only_is_enforced_by_sqlite() {
        let (_dir, path) = fixture();
        let insert = "INSERT INTO items(id, name) VALUES (10, 'x')";
        let ro = SqliteBackend::open(&config(&path, true)).expect("open");
        let err = ro
            .query(insert, &opts(None, true))
            .await
            .expect_err("read-only file");
        assert!(matches!(err, BackendError::ReadOnly(_)), "{err:?}");

        let rw = SqliteBackend::open(&config(&path, false)).expect("open");
        let err = rw
            .query(insert, &opts(None, false))
            .await
            .expect_err("query_only");
        assert!(matches!(err, BackendError::ReadOnly(_)), "{err:?}");
        let err = rw
            .query(
                "INSERT INTO items(id, name) VALUES (11, 'y') RETURNING id",
                &opts(None, false),
            )
            .await;
        let refused = match err {
            Err(BackendError::ReadOnly(_)) => true,
            Ok(QueryResult::Rows(s)) => matches!(
                super::super::collect(s).await,
                Err(BackendError::ReadOnly(_))
            ),
            _ => false,
        };
        assert!(refused, "RETURNING write must be refused");

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
        // the connection went back to the pool with writes still allowed: reads stay read-only
        let err = rw
            .query("DELETE FROM items", &opts(None, false))
            .await
            .expect_err("query_only again");
        assert!(matches!(err, BackendError::ReadOnly(_)), "{err:?}");
    }

    #[tokio::test]
    async fn slow_query_times_out() {
        let (_dir, path) = fixture();
        let b = SqliteBackend::open(&config(&path, true)).expect("open");
        let o = QueryOptions {
            row_limit: None,
            timeout: Duration::from_millis(200),
            allow_write: false,
            ..Default::default()
        };
        let sql =
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) \
                   SELECT count(*) FROM c";
        let started = Instant::now();
        let err = b.query(sql, &o).await.expect_err("timeout");
        assert!(matches!(err, BackendError::Timeout(_)), "{err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        // the pooled connection is usable afterwards
        b.ping().await.expect("ping after timeout");
        let (_, batches) = rows_of(&b, "SELECT 1", &opts(None, false)).await;
        assert_eq!(total_rows(&batches), 1);
    }

    #[tokio::test]
    async fn dropping_the_query_interrupts_it() {
        let (_dir, path) = fixture();
        let b = SqliteBackend::open(&config(&path, true)).expect("open");
        let sql =
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) \
                   SELECT count(*) FROM c";
        let o = QueryOptions {
            row_limit: None,
            timeout: Duration::from_secs(600),
            allow_write: false,
            ..Default::default()
        };
        let idle_before = lock(&b.pool.idle).len();
        let r = tokio::time::timeout(Duration::from_millis(200), b.query(sql, &o)).await;
        assert!(r.is_err(), "the query should still be running");
        // the worker stops and returns its connection to the pool quickly
        let started = Instant::now();
        while lock(&b.pool.idle).len() < idle_before {
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "worker was not interrupted"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn errors_carry_sqlstates() {
        let (_dir, path) = fixture();
        let b = SqliteBackend::open(&config(&path, true)).expect("open");
        for (sql, state) in [
            ("SELECT * FROM nope", "42P01"),
            ("SELECT nope FROM items", "42703"),
            ("SELEC 1", "42601"),
        ] {
            match b.query(sql, &opts(None, false)).await {
                Err(BackendError::Query { sqlstate, message }) => {
                    assert_eq!(sqlstate.as_deref(), Some(state), "{sql}: {message}")
                }
                other => panic!("{sql}: unexpected {other:?}"),
            }
        }
        let missing = config(&path.with_file_name("missing.sqlite"), true);
        assert!(matches!(
            SqliteBackend::open(&missing),
            Err(BackendError::Connect(_))
        ));
    }

    #[tokio::test]
    async fn introspects_tables_and_views() {
        let (_dir, path) = fixture();
        let b = SqliteBackend::open(&config(&path, true)).expect("open");
        let info = b.introspect().await.expect("introspect");
        assert_eq!(info.database, "test");
        let names: Vec<&str> = info.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["cheap", "items", "loose"]);
        let items = &info.tables[1];
        assert_eq!(items.columns[0].name, "id");
        assert!(items.columns[0].primary_key && !items.columns[0].nullable);
        assert_eq!(items.columns[1].data_type, "TEXT");
        assert!(!items.columns[1].nullable);
        assert!(items.columns[2].nullable && !items.columns[2].primary_key);
        assert_eq!(info.tables[2].columns[0].data_type, "ANY");
        b.ping().await.expect("ping");
    }

    #[test]
    fn keywords_and_types() {
        assert_eq!(first_keyword("  -- c\n /* x */ (insert into t"), "INSERT");
        assert_eq!(first_keyword("update t set a=1"), "UPDATE");
        assert_eq!(decl_col_type("VARCHAR(20)"), Some(ColType::Text));
        assert_eq!(decl_col_type("bigint"), Some(ColType::Int64));
        assert_eq!(decl_col_type("DECIMAL(10,2)"), Some(ColType::Float64));
        assert_eq!(decl_col_type("DATETIME"), Some(ColType::Text));
        assert_eq!(decl_col_type("BOOLEAN"), Some(ColType::Bool));
        assert_eq!(decl_col_type(""), None);
        assert_eq!(fit(Value::Float(3.0), ColType::Int64), Ok(Value::Int(3)));
        assert!(fit(Value::Float(3.5), ColType::Int64).is_err());
        assert_eq!(
            fit(Value::Bytes(vec![0xff]), ColType::Text),
            Ok(Value::Text("\\xff".into()))
        );
    }
}
