//! `[limits]`: rows, time, concurrency and the intervals of the background checks.

use std::time::Duration;

use serde::Deserialize;

use super::duration_str;

/// `[limits]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Most rows returned per database per ASK, and per passthrough statement. Default 1000.
    #[serde(default = "default_max_rows")]
    pub max_rows: usize,
    /// Longest a statement may run on a database. Default 30s.
    #[serde(default = "default_timeout", with = "duration_str")]
    pub timeout: Duration,
    /// Most database queries running at once across all sessions. Default 32.
    #[serde(default = "default_concurrency")]
    pub max_concurrency: usize,
    /// How often every connection is pinged for `dbguru.connections`. Default 30s.
    #[serde(default = "default_health", with = "duration_str")]
    pub health_interval: Duration,
    /// Longest a transaction block may sit idle before the proxy rolls it back and
    /// returns its connection. Default 60s.
    #[serde(default = "default_idle_in_transaction", with = "duration_str")]
    pub idle_in_transaction: Duration,
    /// How often each connection's schema is re-checked with a cheap version query
    /// (SQLite `PRAGMA schema_version`, a catalog checksum for PostgreSQL, MySQL and
    /// DuckDB) and re-introspected when it changed; MongoDB collections are re-sampled
    /// every tenth check. DDL that passes through dbguru is seen at once. Default 30s.
    #[serde(default = "default_schema_check", with = "duration_str")]
    pub schema_check: Duration,
    /// Most tables read per connection; past it the first ones by name are kept and every
    /// ASK on the connection gets a WARNING saying how many were left out. Default 10000.
    #[serde(default = "default_max_tables")]
    pub max_tables: usize,
    /// Most columns read per table; past it the first ones are kept (with the same
    /// WARNING). Default 1000.
    #[serde(default = "default_max_columns")]
    pub max_columns: usize,
}

fn default_max_tables() -> usize {
    10_000
}

fn default_max_columns() -> usize {
    1000
}

fn default_schema_check() -> Duration {
    Duration::from_secs(30)
}

fn default_health() -> Duration {
    Duration::from_secs(30)
}

fn default_idle_in_transaction() -> Duration {
    Duration::from_secs(60)
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_rows: default_max_rows(),
            timeout: default_timeout(),
            max_concurrency: default_concurrency(),
            health_interval: default_health(),
            idle_in_transaction: default_idle_in_transaction(),
            schema_check: default_schema_check(),
            max_tables: default_max_tables(),
            max_columns: default_max_columns(),
        }
    }
}

fn default_max_rows() -> usize {
    1000
}
fn default_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_concurrency() -> usize {
    32
}
