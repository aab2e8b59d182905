//! Keys and indexes of introspected tables: part of the shared schema model (beside
//! `backends::SchemaInfo`), read by the virtual catalog (`pg_constraint`, `pg_index`,
//! `information_schema` key tables) and by anyone describing a schema.
//!
//! Primary keys stay on the columns (`ColumnInfo::primary_key`); this adds foreign keys
//! and the other indexes (unique or not). Backends fill it with
//! `Backend::introspect_keys`; one that cannot tells nothing (an empty `KeyInfo`).

/// A foreign key of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// Constraint name where the database has one.
    pub name: Option<String>,
    /// The referencing table (as `TableInfo::name` spells it).
    pub table: String,
    /// Referencing columns, in key order.
    pub columns: Vec<String>,
    /// The referenced table (as `TableInfo::name` spells it).
    pub ref_table: String,
    /// Referenced columns, in key order (empty: the referenced table's primary key).
    pub ref_columns: Vec<String>,
}

/// An index that is not the primary key's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexInfo {
    /// Index name.
    pub name: String,
    /// The indexed table (as `TableInfo::name` spells it).
    pub table: String,
    /// Indexed columns, in index order (expression indexes are left out).
    pub columns: Vec<String>,
    /// Whether it is unique.
    pub unique: bool,
}

/// Foreign keys and indexes of one database.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyInfo {
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Indexes other than primary keys'.
    pub indexes: Vec<IndexInfo>,
}
