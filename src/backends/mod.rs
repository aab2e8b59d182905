//! Backends: one module per database kind behind the [`Backend`] trait.
//!
//! A backend knows its driver and nothing else: it never sees pgwire or the LLM.
//! Results leave a backend as Arrow [`RecordBatch`]es (see [`types`] for how
//! database types map onto Arrow, and how the extra PostgreSQL types that Arrow
//! lacks — numeric, json, uuid — are tagged in field metadata).

mod blocking;
pub mod duckdb;
pub mod mongodb;
pub mod mysql;
pub mod params;
pub mod postgres;
pub mod sqlite;
pub mod types;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use futures::stream::BoxStream;

use crate::config::{ConnectionConfig, ConnectionKind};

/// Errors a backend reports. Messages never contain passwords or connection strings.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The database could not be reached or the connection broke.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The database rejected the statement; `sqlstate` is the database's own code when it has one.
    #[error("{message}")]
    Query {
        /// SQLSTATE reported by the database (PostgreSQL) or mapped from its error (others).
        sqlstate: Option<String>,
        /// The database's message.
        message: String,
    },
    /// PostgreSQL rejected the statement: its SQLSTATE, message and every field of its
    /// ErrorResponse (detail, hint, position, schema, table, column, constraint), so the
    /// client sees what PostgreSQL would have told it.
    #[error("{}", .0.message)]
    Server(Box<ServerError>),
    /// The statement ran longer than the allowed time and was cancelled on the server.
    #[error("statement timed out after {0:?} and was cancelled")]
    Timeout(Duration),
    /// The database refused a write because it was opened read-only.
    #[error("the connection is read-only: {0}")]
    ReadOnly(String),
    /// A value could not be converted to Arrow.
    #[error("cannot convert result: {0}")]
    Convert(String),
    /// Anything else (I/O on a database file, a panicked worker thread).
    #[error("{0}")]
    Other(String),
    /// The database kind cannot do this (transactions on MongoDB).
    #[error("{0}")]
    Unsupported(String),
}

/// The fields of a PostgreSQL ErrorResponse beyond severity (see
/// [`BackendError::Server`]); secrets already scrubbed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerError {
    /// SQLSTATE.
    pub sqlstate: String,
    /// Primary message.
    pub message: String,
    /// `DETAIL`.
    pub detail: Option<String>,
    /// `HINT`.
    pub hint: Option<String>,
    /// Cursor position in the statement (1-based characters), as PostgreSQL sent it.
    pub position: Option<String>,
    /// Schema of the object concerned.
    pub schema: Option<String>,
    /// Table concerned.
    pub table: Option<String>,
    /// Column concerned.
    pub column: Option<String>,
    /// Data type concerned.
    pub datatype: Option<String>,
    /// Constraint concerned.
    pub constraint: Option<String>,
}

impl BackendError {
    /// Shorthand for a query error without SQLSTATE.
    pub fn query(message: impl Into<String>) -> Self {
        BackendError::Query {
            sqlstate: None,
            message: message.into(),
        }
    }
}

/// One column of an introspected table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ColumnInfo {
    /// Column name as the database spells it.
    pub name: String,
    /// The database's own type name (`INTEGER`, `varchar(255)`, `DECIMAL(10,2)`...).
    pub data_type: String,
    /// Whether the column is (part of) the primary key.
    pub primary_key: bool,
    /// Whether the column accepts NULL.
    pub nullable: bool,
    /// The column's comment in the database, where it has one.
    pub comment: Option<String>,
    /// Its distinct values when it is a low-cardinality text column (filled by the
    /// schema cache; empty when not sampled).
    pub samples: Vec<String>,
}

/// One introspected table (or view, or MongoDB collection).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableInfo {
    /// Table name, unqualified (PostgreSQL tables outside `public` are `schema.table`).
    pub name: String,
    /// Columns in ordinal order.
    pub columns: Vec<ColumnInfo>,
    /// The table's comment in the database, where it has one.
    pub comment: Option<String>,
    /// The database's estimate of its rows, where it keeps one cheaply.
    pub rows: Option<i64>,
}

/// What a database holds: its tables and their columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchemaInfo {
    /// The database's own name (PostgreSQL/MySQL database, file name for SQLite/DuckDB).
    pub database: String,
    /// Tables sorted by name.
    pub tables: Vec<TableInfo>,
}

/// Limits for one query.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// Never fetch more than this many rows from the database (`None`: no limit).
    /// Callers that want to detect truncation ask for one row more than they show.
    pub row_limit: Option<usize>,
    /// Wall-clock limit; past it the statement is cancelled on the server and
    /// [`BackendError::Timeout`] is returned.
    pub timeout: Duration,
    /// Whether the statement may write. Backends run reads inside read-only
    /// transactions (where the database has them) unless this is true.
    pub allow_write: bool,
    /// Session parameters applied to this statement only (`SET LOCAL name = literal`
    /// inside its transaction; PostgreSQL only — the proxy refuses them for other
    /// kinds). Values are SQL literals, already quoted.
    pub settings: Arc<Vec<(String, String)>>,
}

impl Default for QueryOptions {
    /// No row limit, a 30 s timeout, read-only, no settings.
    fn default() -> Self {
        QueryOptions {
            row_limit: None,
            timeout: Duration::from_secs(30),
            allow_write: false,
            settings: Arc::default(),
        }
    }
}

/// A stream of Arrow batches with a known schema.
pub struct BatchStream {
    /// Schema of every batch in `batches`.
    pub schema: SchemaRef,
    /// The batches; dropping the stream stops fetching (and cancels the query where possible).
    pub batches: BoxStream<'static, Result<RecordBatch, BackendError>>,
}

impl std::fmt::Debug for BatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchStream")
            .field("schema", &self.schema)
            .finish()
    }
}

/// The outcome of running one statement.
#[derive(Debug)]
pub enum QueryResult {
    /// A row-returning statement.
    Rows(BatchStream),
    /// A statement without rows (only when writes were allowed): its command tag and row count.
    Command {
        /// Command tag such as `INSERT`, `UPDATE`, `CREATE TABLE`.
        tag: String,
        /// Rows affected.
        rows: u64,
    },
}

/// The SQL dialect a backend speaks (used by the guard and named in the prompt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL / MariaDB.
    Mysql,
    /// SQLite 3.
    Sqlite,
    /// DuckDB.
    Duckdb,
    /// MongoDB (SQL subset translated to find/aggregate).
    Mongodb,
}

impl Dialect {
    /// Human name used in prompts and `EXPLAIN ASK`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgresql",
            Dialect::Mysql => "mysql",
            Dialect::Sqlite => "sqlite",
            Dialect::Duckdb => "duckdb",
            Dialect::Mongodb => "mongodb",
        }
    }
}

/// One database behind the proxy.
#[async_trait]
pub trait Backend: Send + Sync {
    /// The dialect of SQL this backend runs.
    fn dialect(&self) -> Dialect;

    /// Tables, columns, types and primary keys.
    async fn introspect(&self) -> Result<SchemaInfo, BackendError>;

    /// A cheap token that changes whenever what [`Backend::introspect`] and
    /// [`Backend::introspect_keys`] would return changes (SQLite's `PRAGMA
    /// schema_version`, a catalog checksum elsewhere). `None`: the backend cannot tell
    /// cheaply (MongoDB samples documents), so callers re-introspect on a timer.
    async fn schema_version(&self) -> Result<Option<String>, BackendError> {
        Ok(None)
    }

    /// Foreign keys and (non-primary) indexes; a backend that cannot tell returns none.
    async fn introspect_keys(&self) -> Result<crate::keys::KeyInfo, BackendError> {
        Ok(crate::keys::KeyInfo::default())
    }

    /// Runs one statement. Row-returning statements stream; the stream yields at most
    /// `opts.row_limit` rows and the database is not asked for more.
    async fn query(&self, sql: &str, opts: &QueryOptions) -> Result<QueryResult, BackendError>;

    /// Cheap liveness check (`SELECT 1`).
    async fn ping(&self) -> Result<(), BackendError>;

    /// How the database role behind this connection could write (superuser, write
    /// grants...), one short phrase each; empty when it cannot or nothing is checked.
    /// Used to warn about `read_only` connections. Default: nothing checked.
    async fn write_privileges(&self) -> Result<Vec<String>, BackendError> {
        Ok(Vec::new())
    }

    /// Parameter types and result columns of `sql` without running it, where the
    /// database can tell (PostgreSQL prepares it). Default: `None` (unknown).
    async fn describe(&self, _sql: &str) -> Result<Option<Described>, BackendError> {
        Ok(None)
    }

    /// Starts a transaction block on a connection pinned to the caller until
    /// [`Lease::finish`]. Default: unsupported (MongoDB).
    async fn begin(&self, _opts: &TxOptions) -> Result<Box<dyn Lease>, BackendError> {
        Err(BackendError::Unsupported(format!(
            "transactions are not supported on {} connections",
            self.dialect().name()
        )))
    }

    /// The raw-protocol connections of a PostgreSQL backend, whose answers the wire
    /// relays to the client as the server sent them (see [`postgres::relay`]).
    fn relay(&self) -> Option<&postgres::relay::RelayPool> {
        None
    }

    /// Whether the database binds `$n` parameters itself ([`Backend::query_params`]).
    /// Default: no — callers substitute the values as literals first
    /// ([`params::interpolate`]).
    fn binds_parameters(&self) -> bool {
        false
    }

    /// Runs `sql`, whose `$n` placeholders the database binds to `params` (text values;
    /// `None` is NULL). Default: the values substituted as literals.
    async fn query_params(
        &self,
        sql: &str,
        params: &[Option<String>],
        opts: &QueryOptions,
    ) -> Result<QueryResult, BackendError> {
        self.query(&params::interpolate(sql, params, self.dialect()), opts)
            .await
    }
}

/// How a transaction block starts.
#[derive(Debug, Clone, Default)]
pub struct TxOptions {
    /// Read-only: the database refuses writes for the whole block, and where it has
    /// them the block reads one snapshot (`REPEATABLE READ READ ONLY`).
    pub read_only: bool,
    /// Session parameters for the block (PostgreSQL: `SET LOCAL` after `BEGIN`), values
    /// already SQL literals.
    pub settings: Arc<Vec<(String, String)>>,
}

/// One database connection pinned to one client for a transaction block
/// (`BEGIN` … `COMMIT`/`ROLLBACK`). Dropping a lease without [`Lease::finish`] (the
/// client went away) rolls the transaction back and never returns a connection that
/// is inside a transaction to a pool.
#[async_trait]
pub trait Lease: Send + Sync {
    /// Runs one statement inside the block (as [`Backend::query_params`] does outside
    /// one). The next statement waits until this one's rows were read.
    async fn query(
        &self,
        sql: &str,
        params: &[Option<String>],
        opts: &QueryOptions,
    ) -> Result<QueryResult, BackendError>;

    /// Runs a transaction-control statement the proxy built itself (`SAVEPOINT x`,
    /// `ROLLBACK TO SAVEPOINT x`, `RELEASE SAVEPOINT x`).
    async fn control(&self, sql: &str) -> Result<(), BackendError>;

    /// Ends the block with `COMMIT` (`true`) or `ROLLBACK`, and gives the connection back.
    async fn finish(self: Box<Self>, commit: bool) -> Result<(), BackendError>;
}

/// How long [`Lease::finish`] waits for a statement of the block whose rows are still
/// being read (a suspended portal) before it gives up on the connection.
pub const FINISH_WAIT: Duration = Duration::from_secs(5);

/// What [`Lease::finish`] answers when a result of the block is still being read after
/// [`FINISH_WAIT`]: the connection is closed when that result goes (the server rolls the
/// block back), so a ROLLBACK succeeds and a COMMIT fails.
pub fn finish_while_busy(commit: bool) -> Result<(), BackendError> {
    if commit {
        Err(BackendError::Query {
            sqlstate: Some("55000".into()),
            message: "COMMIT failed: a result of this transaction block was still being read; the block was rolled back".into(),
        })
    } else {
        Ok(())
    }
}

/// What a database says about a statement before it runs.
#[derive(Debug, Clone)]
pub struct Described {
    /// One type per `$n` parameter.
    pub params: Vec<types::ColType>,
    /// The result columns (empty for statements without rows).
    pub schema: SchemaRef,
}

/// Opens the backend for a configured connection. Network backends connect lazily
/// (pools), so this succeeds even when the server is down; file backends open the file.
pub async fn open(cfg: &ConnectionConfig) -> Result<Arc<dyn Backend>, BackendError> {
    Ok(match cfg.kind {
        ConnectionKind::Postgres => Arc::new(postgres::PostgresBackend::new(cfg)?),
        ConnectionKind::Mysql => Arc::new(mysql::MysqlBackend::new(cfg)?),
        ConnectionKind::Sqlite => Arc::new(sqlite::SqliteBackend::open(cfg)?),
        ConnectionKind::Duckdb => Arc::new(duckdb::DuckdbBackend::open(cfg)?),
        ConnectionKind::Mongodb => Arc::new(mongodb::MongoBackend::new(cfg).await?),
    })
}

/// Drains a stream into batches, for callers that need the whole result.
pub async fn collect(stream: BatchStream) -> Result<(SchemaRef, Vec<RecordBatch>), BackendError> {
    use futures::TryStreamExt;
    let schema = stream.schema.clone();
    let batches: Vec<RecordBatch> = stream.batches.try_collect().await?;
    Ok((schema, batches))
}
