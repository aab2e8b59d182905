//! The federated schema as a PostgreSQL catalog: each connection is a schema, its
//! tables and columns appear in `pg_namespace`, `pg_class`, `pg_attribute`, `pg_type`
//! and `information_schema`, so `psql \dn`, `\dt shop.*`, `\d shop.orders` and JDBC
//! `DatabaseMetaData.getTables/getColumns` browse it.
//!
//! How a catalog query is answered:
//!
//! 1. `model` builds an in-memory SQLite database holding emulated catalog tables
//!    (`pg_namespace`, `pg_class`, `pg_attribute`, `pg_type`, `pg_index`, `pg_constraint`,
//!    `pg_am`, `pg_roles`, `pg_database`, … and `information_schema.schemata/tables/
//!    columns/…`), attached as the SQLite databases `pg_catalog` and `information_schema`
//!    so qualified and unqualified names resolve. Every connection the user may use is a
//!    schema; its tables' OIDs are stable hashes of their names, so a client that reads an
//!    OID in one query and uses it in the next (psql's `\d`) finds the same table.
//! 2. `translate` parses the client's SQL with sqlparser's PostgreSQL dialect and rewrites
//!    it into SQLite: casts (`'shop.orders'::regclass` becomes that table's OID,
//!    `c.oid::regclass::text` its name), psql's anchored regular expressions into `GLOB`,
//!    `LIKE` kept case-sensitive, `= ANY(ARRAY[…])` into `IN`, and the catalog functions
//!    (`format_type`, `pg_get_userbyid`, `pg_get_indexdef`, `pg_table_is_visible`, …) into
//!    lookups or constants. A query over catalogs that are always empty here (policies,
//!    publications, inheritance, extended statistics) is answered with no rows without
//!    translating it. Anything it cannot translate faithfully is refused with a message;
//!    the caller turns that into SQLSTATE 0A000 — never a wrong answer.
//! 3. `exec` runs the SQLite statement and converts the rows to Arrow with the
//!    PostgreSQL-visible column names and types.
//!
//! What the emulation says, where PostgreSQL would know more:
//!
//! - Every table is `relkind = 'r'`, owned by the role `dbguru`, visible
//!   (`pg_table_is_visible` is true, so `\dt` without a pattern lists every schema).
//! - A table with a primary key has a `<table>_pkey` btree index and constraint
//!   (`pg_index`, `pg_constraint`, `pg_get_indexdef`, `pg_get_constraintdef`,
//!   `information_schema.table_constraints/key_column_usage`); there are no other indexes,
//!   defaults, comments, foreign keys, views, sequences or functions.
//! - `pg_type` holds the built-in types dbguru emits and their array types.
//! - Unqualified table names are `pg_catalog`'s; results sort NULLs as PostgreSQL does.
//!
//! Source type names map to built-in PostgreSQL types with [`pg_type_of_decl`].

mod exec;
mod keys;
mod model;
mod regex;
mod translate;

use crate::backends::SchemaInfo;
use crate::pgtypes::PgType;

use super::probes::Table;

/// One schema of the federated catalog (a connection, or `dbguru`).
#[derive(Debug, Clone)]
pub struct CatalogSchema {
    /// Schema name (the connection name).
    pub name: String,
    /// Its tables.
    pub schema: SchemaInfo,
    /// Its foreign keys and secondary indexes.
    pub keys: crate::keys::KeyInfo,
}

/// Whether `sql` reads the PostgreSQL catalog: a single query that names a relation of
/// `pg_catalog` or `information_schema` (qualified, or an unqualified `pg_*` catalog table
/// dbguru emulates), or that reads no relation at all and calls a `pg_catalog.` or catalog
/// function (`format_type`, `obj_description`, …) or casts to a `reg*` type.
pub fn is_catalog_query(sql: &str) -> bool {
    let l = sql.to_ascii_lowercase();
    // Cheap test first: passthrough SQL rarely mentions any of these.
    let hints = [
        "pg_",
        "information_schema",
        "::reg",
        "as reg",
        "to_reg",
        "format_type",
        "_description",
        "current_schemas",
        "txid_current",
        "current_setting",
    ];
    if !hints.iter().any(|h| l.contains(h)) {
        return false;
    }
    match translate::references_catalog(sql) {
        Some(yes) => yes,
        // Unparsable: claim it only when it names the catalog schemas explicitly, so the
        // client gets a clear 0A000 instead of a backend's confusing error.
        None => l.contains("pg_catalog.") || l.contains("information_schema."),
    }
}

/// Whether `sql` reads the catalog only through functions (`SELECT pg_backend_pid()`,
/// `current_setting('…')`), naming no catalog table: on a PostgreSQL target such a query
/// is relayed, so the database answers with its own values.
pub fn functions_only(sql: &str) -> bool {
    translate::functions_only(sql)
}

/// Answers a catalog query over `schemas`; `Err` carries a message for a 0A000 error.
pub fn answer(sql: &str, schemas: &[CatalogSchema]) -> Result<Table, String> {
    answer_for(sql, schemas, &SessionFacts::default())
}

/// Facts of the client's session a catalog query may read (`current_schemas`,
/// `pg_backend_pid()`, `current_setting(…)`, `current_user`).
#[derive(Debug, Clone, Default)]
pub struct SessionFacts {
    /// Login user.
    pub user: String,
    /// The search path, the target connection first.
    pub search_path: Vec<String>,
    /// The process id sent to the client in BackendKeyData.
    pub backend_pid: i32,
    /// Reported server version.
    pub server_version: String,
    /// Run-time parameters by lower-case name.
    pub settings: Vec<(String, String)>,
}

/// Answers a catalog query over `schemas` for a session. The SQLite translation answers
/// what it can; a query it refuses (arrays, set-returning functions, `array_agg(… ORDER
/// BY …)`, session functions) runs on the virtual catalog engine (embedded DuckDB, see
/// `engine::virtual`). `Err` carries a message for a 0A000 error.
pub fn answer_for(
    sql: &str,
    schemas: &[CatalogSchema],
    facts: &SessionFacts,
) -> Result<Table, String> {
    let model = model::Model::new(schemas);
    let first = match translate::translate(sql, &model) {
        Ok(plan) => {
            tracing::debug!(sql = %sql, plan = ?plan, "catalog query");
            match exec::run(&model, &plan) {
                Ok(t) => return Ok(t),
                Err(e) => e,
            }
        }
        Err(e) => e,
    };
    // The catalog's fingerprint: what it is built from.
    let key = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        format!("{schemas:?}").hash(&mut h);
        h.finish()
    };
    let load = || model.database();
    let reg = |kind: &str, text: &str| match kind {
        // `'16392'::regclass` is that OID, as on PostgreSQL.
        _ if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
        "regclass" => model.regclass(text),
        "regtype" => model::Model::regtype(text),
        "regnamespace" => model.regnamespace(text),
        "regrole" => (text == model::OWNER_NAME).then_some(model::OWNER_OID),
        _ => None,
    };
    let ctx = crate::engine::r#virtual::Context {
        user: if facts.user.is_empty() {
            model::OWNER_NAME
        } else {
            &facts.user
        },
        search_path: facts.search_path.clone(),
        backend_pid: facts.backend_pid,
        txid: i64::from(facts.backend_pid.unsigned_abs()) + 1_000,
        server_version: &facts.server_version,
        settings: facts.settings.clone(),
        reg_oid: &reg,
    };
    crate::engine::r#virtual::answer(key, &load, sql, &ctx).map_err(|e| {
        tracing::debug!(sql = %sql, sqlite = %first, virtual_engine = %e, "catalog query refused");
        format!("dbguru cannot answer this catalog query: {first} (virtual catalog engine: {e})")
    })
}

/// A source column type as PostgreSQL presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgDecl {
    /// The built-in type.
    pub ty: PgType,
    /// `pg_attribute.atttypmod` (-1 when the type has no modifier).
    pub typmod: i32,
    /// What `format_type(atttypid, atttypmod)` prints (`integer`, `numeric(10,2)`).
    pub display: String,
}

/// Maps a source database's own type name (`INTEGER`, `varchar(100)`, `DECIMAL(10,2)`,
/// `BIGINT`, `TEXT`, `DOUBLE`, `DATE`, `TIMESTAMP`, `BOOLEAN`, `json`, …) to the built-in
/// PostgreSQL type dbguru presents it as. Names are read the way PostgreSQL reads them
/// (`INTEGER` is `integer`, `REAL` is `real`), with the MySQL, SQLite and DuckDB spellings
/// added (`TINYINT`, `DATETIME`, `DOUBLE`, `HUGEINT`, unsigned integers widen); character
/// types of any length are `text`, unknown and composite types are `text`.
pub fn pg_type_of_decl(decl: &str) -> PgType {
    pg_decl(decl).ty
}

/// Like [`pg_type_of_decl`], with the type modifier and the `format_type` text
/// (`DECIMAL(10,2)` is `numeric(10,2)`).
pub fn pg_decl(decl: &str) -> PgDecl {
    let d = decl.trim().to_ascii_lowercase();
    let plain = |ty: PgType| PgDecl {
        ty,
        typmod: -1,
        display: ty.sql_name().to_string(),
    };
    if d.ends_with(']')
        || d.starts_with("struct")
        || d.starts_with("map(")
        || d.starts_with("union(")
        || d.starts_with("list")
    {
        return plain(PgType::Text);
    }
    // Base name (before any "(") and the modifiers inside the parentheses.
    let (base, mods) = match d.find('(') {
        Some(i) => {
            let close = d[i..].find(')').map(|j| i + j).unwrap_or(d.len());
            let rest = format!("{} {}", &d[..i], d.get(close + 1..).unwrap_or(""));
            (rest, d[i + 1..close].to_string())
        }
        None => (d.clone(), String::new()),
    };
    let words: Vec<&str> = base.split_whitespace().collect();
    let unsigned = words.contains(&"unsigned");
    let words: Vec<&str> = words
        .into_iter()
        .filter(|w| !matches!(*w, "unsigned" | "signed" | "zerofill"))
        .collect();
    let name = words.join(" ");
    let name = name
        .strip_prefix("pg_catalog.")
        .unwrap_or(&name)
        .trim_matches('"')
        .to_string();
    let ty = match name.as_str() {
        "bool" | "boolean" | "logical" => PgType::Bool,
        "tinyint" | "int1" => {
            if unsigned {
                PgType::Int2
            } else if mods == "1" {
                // MySQL's boolean spelling.
                PgType::Bool
            } else {
                PgType::Int2
            }
        }
        "utinyint" | "year" => PgType::Int2,
        "smallint" | "int2" | "short" | "smallserial" | "serial2" => {
            if unsigned {
                PgType::Int4
            } else {
                PgType::Int2
            }
        }
        "usmallint" => PgType::Int4,
        "integer" | "int" | "int4" | "mediumint" | "serial" | "serial4" => {
            if unsigned {
                PgType::Int8
            } else {
                PgType::Int4
            }
        }
        "uinteger" | "uint" => PgType::Int8,
        "bigint" | "int8" | "long" | "bigserial" | "serial8" | "oid" => {
            if unsigned {
                PgType::Numeric
            } else {
                PgType::Int8
            }
        }
        "ubigint" | "hugeint" | "uhugeint" | "int128" | "varint" => PgType::Numeric,
        "real" | "float4" | "float" => {
            // FLOAT(p) with p > 24 is double precision (PostgreSQL and MySQL).
            match mods
                .split(',')
                .next()
                .and_then(|p| p.trim().parse::<u32>().ok())
            {
                Some(p) if p > 24 => PgType::Float8,
                _ => PgType::Float4,
            }
        }
        "double" | "double precision" | "float8" | "double float" => PgType::Float8,
        "numeric" | "decimal" | "dec" | "number" | "money" | "fixed" => PgType::Numeric,
        "text"
        | "varchar"
        | "char"
        | "character"
        | "character varying"
        | "nvarchar"
        | "nchar"
        | "bpchar"
        | "name"
        | "string"
        | "clob"
        | "tinytext"
        | "mediumtext"
        | "longtext"
        | "citext"
        | "native character"
        | "varying character"
        | "nvarchar2"
        | "varchar2"
        | "enum"
        | "set"
        | "interval"
        | "bit"
        | "bit varying"
        | "varbit"
        | "inet"
        | "cidr"
        | "macaddr"
        | "xml"
        | "timetz"
        | "time with time zone" => PgType::Text,
        "bytea" | "blob" | "binary" | "varbinary" | "tinyblob" | "mediumblob" | "longblob"
        | "bytes" => PgType::Bytea,
        "date" => PgType::Date,
        "timestamp"
        | "datetime"
        | "timestamp without time zone"
        | "timestamp_s"
        | "timestamp_ms"
        | "timestamp_ns"
        | "smalldatetime"
        | "datetime2" => PgType::Timestamp,
        "timestamptz" | "timestamp with time zone" => PgType::TimestampTz,
        "time" | "time without time zone" => PgType::Time,
        "json" | "jsonb" => PgType::Json,
        "uuid" | "guid" | "uniqueidentifier" => PgType::Uuid,
        "" => PgType::Text,
        other => {
            // SQLite's affinity rules for anything else.
            if other.contains("int") {
                PgType::Int8
            } else if other.contains("char") || other.contains("clob") || other.contains("text") {
                PgType::Text
            } else if other.contains("blob") {
                PgType::Bytea
            } else if other.contains("real") || other.contains("floa") || other.contains("doub") {
                PgType::Float8
            } else {
                PgType::Text
            }
        }
    };
    if ty == PgType::Numeric
        && matches!(
            name.as_str(),
            "numeric" | "decimal" | "dec" | "number" | "fixed"
        )
    {
        let parts: Vec<Option<i32>> = mods
            .split(',')
            .map(|p| p.trim().parse::<i32>().ok())
            .collect();
        let (p, s) = match parts.as_slice() {
            [Some(p)] => (*p, 0),
            [Some(p), Some(s)] => (*p, *s),
            _ => (0, 0),
        };
        if (1..=1000).contains(&p) && (0..=p).contains(&s) {
            return PgDecl {
                ty,
                typmod: ((p << 16) | s) + 4,
                display: format!("numeric({p},{s})"),
            };
        }
    }
    plain(ty)
}
