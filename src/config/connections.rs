//! `[[connections]]`: the databases behind the proxy.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{opt_duration_str, LimitsConfig, Secret};

/// The kind of database behind a connection.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionKind {
    /// PostgreSQL
    Postgres,
    /// MySQL or MariaDB
    Mysql,
    /// SQLite file
    Sqlite,
    /// DuckDB file
    Duckdb,
    /// MongoDB
    Mongodb,
}

impl ConnectionKind {
    /// Lower-case name (`postgres`, `mysql`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ConnectionKind::Postgres => "postgres",
            ConnectionKind::Mysql => "mysql",
            ConnectionKind::Sqlite => "sqlite",
            ConnectionKind::Duckdb => "duckdb",
            ConnectionKind::Mongodb => "mongodb",
        }
    }
}

/// Demo data sets dbguru can create on first start.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DemoData {
    /// customers, products, orders, order_items (SQLite).
    Shop,
    /// a star schema: dim_customer, dim_product, dim_date, fact_sales (DuckDB).
    Warehouse,
}

/// `[[connections]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionConfig {
    /// Numeric id (unique). Default: position in the list, from 1.
    #[serde(default)]
    pub id: Option<i64>,
    /// Name used in `ON`, `SET dbguru.connections` and `source_db` (unique, case-insensitive).
    pub name: String,
    /// Database kind.
    pub kind: ConnectionKind,
    /// URL for network databases (`postgres://…`, `mysql://…`, `mongodb://…`); use `${ENV}` for
    /// passwords. TLS options travel in the URL: `sslmode`/`sslrootcert` (PostgreSQL),
    /// `ssl-mode`/`ssl-ca` (MySQL/MariaDB), `tls=true`/`tlsCAFile` (MongoDB).
    #[serde(default)]
    pub url: Option<Secret>,
    /// File for SQLite and DuckDB, relative to the config file.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Open read-only (database-enforced where the database can). Default true.
    #[serde(default = "default_true")]
    pub read_only: bool,
    /// Row cap for this connection (never above `[limits] max_rows`).
    #[serde(default)]
    pub max_rows: Option<usize>,
    /// Statement timeout for this connection (never above `[limits] timeout`).
    #[serde(default, with = "opt_duration_str")]
    pub timeout: Option<Duration>,
    /// Connection pool size. Default 4.
    #[serde(default = "default_pool")]
    pub pool_size: usize,
    /// Create this demo data set when the file does not exist yet.
    #[serde(default)]
    pub demo: Option<DemoData>,
    /// Free-text description shown to the LLM.
    #[serde(default)]
    pub description: Option<String>,
    /// Overrides `[llm] sample_values` for this connection (`0`: never read values).
    #[serde(default)]
    pub sample_values: Option<usize>,
}

fn default_true() -> bool {
    true
}
fn default_pool() -> usize {
    4
}

impl ConnectionConfig {
    /// The numeric id (set by validation).
    pub fn id(&self) -> i64 {
        self.id.unwrap_or(0)
    }
}

impl ConnectionConfig {
    /// Effective row cap: the connection's, never above the global one.
    pub fn effective_max_rows(&self, limits: &LimitsConfig) -> usize {
        self.max_rows
            .unwrap_or(limits.max_rows)
            .min(limits.max_rows)
    }

    /// Effective timeout: the connection's, never above the global one.
    pub fn effective_timeout(&self, limits: &LimitsConfig) -> Duration {
        self.timeout.unwrap_or(limits.timeout).min(limits.timeout)
    }
}
