//! The federated schema as a PostgreSQL catalog: each connection is a schema, its
//! tables and columns appear in `pg_namespace`, `pg_class`, `pg_attribute`, `pg_type`
//! and `information_schema`, so `psql \dn`, `\dt shop.*`, `\d shop.orders` and JDBC
//! `DatabaseMetaData.getTables/getColumns` browse it.

use crate::backends::SchemaInfo;

use super::probes::Table;

/// One schema of the federated catalog (a connection, or `dbguru`).
#[derive(Debug, Clone)]
pub struct CatalogSchema {
    /// Schema name (the connection name).
    pub name: String,
    /// Its tables.
    pub schema: SchemaInfo,
}

/// Whether `sql` reads the PostgreSQL catalog (`pg_catalog.*`, `pg_*` tables,
/// `information_schema.*`).
pub fn is_catalog_query(sql: &str) -> bool {
    let l = sql.to_ascii_lowercase();
    l.contains("pg_catalog.") || l.contains("information_schema.") || l.contains("pg_class") || l.contains("pg_namespace") || l.contains("pg_attribute")
}

/// Answers a catalog query over `schemas`; `Err` carries a message for a 0A000 error.
pub fn answer(_sql: &str, _schemas: &[CatalogSchema]) -> Result<Table, String> {
    Err("catalog queries are not supported yet".into())
}
