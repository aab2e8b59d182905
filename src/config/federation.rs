//! `[federation]`: limits of statements that join tables of several connections.

use serde::Deserialize;

use super::size::byte_size;

/// `[federation]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// Rows one source subquery may return before the statement fails with `54000`.
    /// Default 1,000,000.
    #[serde(default = "default_max_source_rows")]
    pub max_source_rows: usize,
    /// Memory of the embedded engine that joins the fetched rows (`"1GB"`, `536870912`).
    /// Past it the statement fails with `54000`. Default 1 GiB.
    #[serde(default = "default_memory_limit", with = "byte_size")]
    pub memory_limit: usize,
    /// At most this many distinct join keys of one side are pushed to the other side's
    /// subquery as `IN (...)` (semi-join pushdown); more keys fetch the other side
    /// unreduced. Default 10,000; 0 turns semi-join pushdown off.
    #[serde(default = "default_pushdown_keys")]
    pub pushdown_keys: usize,
}

impl Default for FederationConfig {
    fn default() -> Self {
        FederationConfig {
            max_source_rows: default_max_source_rows(),
            memory_limit: default_memory_limit(),
            pushdown_keys: default_pushdown_keys(),
        }
    }
}

fn default_max_source_rows() -> usize {
    1_000_000
}
fn default_memory_limit() -> usize {
    1 << 30
}
fn default_pushdown_keys() -> usize {
    10_000
}
