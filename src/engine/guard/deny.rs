//! What the guard refuses by name: functions with side effects outside the query
//! (files, network, other servers, locks, settings, code that runs SQL given as a
//! string), and statement kinds that are never allowed through dbguru.

use crate::backends::Dialect;

/// What to do with a call to a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionVerdict {
    /// Refused in every session: it reaches files, the network, other servers or
    /// processes, takes locks or changes settings that outlive the statement on a pooled
    /// connection, or runs SQL given as a string (which the guard cannot see).
    Forbidden,
    /// A write (it assigns a sequence value or a transaction id): refused unless the
    /// session may write.
    Writes,
}

/// Functions refused in every session, by exact (lower-case, unqualified) name. Checked
/// in every dialect: the names are distinctive enough.
const FORBIDDEN: &[&str] = &[
    // PostgreSQL: files and server administration
    "pg_stat_file",
    "pg_logdir_ls",
    "loread",
    "lowrite",
    "set_config",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_wal_replay_pause",
    "pg_wal_replay_resume",
    "pg_log_backend_memory_contexts",
    "pg_notify",
    "pg_create_logical_replication_slot",
    "pg_create_physical_replication_slot",
    "pg_drop_replication_slot",
    "pg_replication_slot_advance",
    "pg_copy_logical_replication_slot",
    "pg_copy_physical_replication_slot",
    "pg_import_system_collations",
    "pg_stat_statements_reset",
    // PostgreSQL: run a query given as text
    "ts_stat",
    "ts_rewrite",
    // MySQL / MariaDB
    "load_file",
    "sys_exec",
    "sys_eval",
    "benchmark",
    "get_lock",
    "release_lock",
    "release_all_locks",
    "is_free_lock",
    "is_used_lock",
    "master_pos_wait",
    "source_pos_wait",
    "master_gtid_wait",
    // SQLite
    "load_extension",
    "readfile",
    "writefile",
    "edit",
    "fts3_tokenizer",
    // DuckDB: files, other databases, extensions, secrets
    "glob",
    "sniff_csv",
    "st_read",
    "sqlite_scan",
    "sqlite_attach",
    "iceberg_scan",
    "iceberg_metadata",
    "iceberg_snapshots",
    "delta_scan",
    "getenv",
    "install_extension",
    "duckdb_secrets",
    "which_secret",
    "query_table",
    "query",
];

/// Prefixes of function names refused in every session.
const FORBIDDEN_PREFIXES: &[&str] = &[
    // PostgreSQL
    "pg_read_",     // pg_read_file, pg_read_binary_file
    "pg_ls_",       // pg_ls_dir, pg_ls_logdir, pg_ls_waldir, ...
    "pg_file_",     // adminpack: pg_file_write, pg_file_rename, pg_file_unlink
    "lo_",          // large objects: lo_import, lo_export, lo_put, lo_unlink, ...
    "dblink",       // dblink, dblink_exec, dblink_connect, ...
    "pg_advisory_", // pg_advisory_lock, pg_advisory_xact_lock, pg_advisory_unlock_all, ...
    "pg_try_advisory_",
    "pg_stat_reset", // pg_stat_reset, pg_stat_reset_shared, ...
    "pg_replication_origin_",
    "pg_logical_",   // pg_logical_emit_message, pg_logical_slot_get_changes, ...
    "query_to_xml",  // query_to_xml, query_to_xmlschema, query_to_xml_and_xmlschema
    "cursor_to_xml", // cursor_to_xml, cursor_to_xmlschema
    "table_to_xml",
    "schema_to_xml",
    "database_to_xml",
    // DuckDB
    "read_csv",
    "read_json",
    "read_ndjson",
    "read_parquet",
    "parquet_",
    "postgres_", // postgres_scan, postgres_attach, postgres_query, postgres_execute
    "mysql_",    // mysql_query, mysql_execute
];

/// Prefixes refused in one dialect only (too generic for the others).
fn dialect_prefixes(d: Dialect) -> &'static [&'static str] {
    match d {
        // read_text, read_blob, read_xlsx, read_avro, ...: every DuckDB reader.
        Dialect::Duckdb => &["read_"],
        _ => &[],
    }
}

/// Functions that write: refused unless the session may write.
const WRITES: &[&str] = &["nextval", "setval", "txid_current", "pg_current_xact_id"];

/// Short, common-looking names that are only refused where the parser sees a call
/// (a table or column may be called `query`); every other name is also refused
/// wherever it is followed by `(` in the token stream.
const AST_ONLY: &[&str] = &["query", "edit", "glob"];

/// The verdict for a call of `name` (any case; schema and quotes already removed).
pub fn function_verdict(name: &str, dialect: Dialect) -> Option<FunctionVerdict> {
    let n = name.to_ascii_lowercase();
    let n = n.as_str();
    if FORBIDDEN.contains(&n)
        || FORBIDDEN_PREFIXES.iter().any(|p| n.starts_with(p))
        || dialect_prefixes(dialect).iter().any(|p| n.starts_with(p))
    {
        return Some(FunctionVerdict::Forbidden);
    }
    WRITES.contains(&n).then_some(FunctionVerdict::Writes)
}

/// Whether a denied `name` is refused wherever it is followed by `(` in the token
/// stream, not only where the parser sees a function call.
pub fn refused_by_token(name: &str) -> bool {
    !AST_ONLY.contains(&name.to_ascii_lowercase().as_str())
}

/// Statement kinds refused even when writes are allowed: they reach files, load code,
/// attach other databases, or change the proxy's own connection state.
const NEVER_ALLOWED: &[&str] = &[
    "COPY",
    "ATTACH",
    "DETACH",
    "PRAGMA",
    "INSTALL",
    "LOAD",
    "EXPORT",
    "IMPORT",
    "SET",
    "RESET",
    "USE",
    "GRANT",
    "REVOKE",
    "CALL",
    "EXECUTE",
    "PREPARE",
    "DEALLOCATE",
    "LISTEN",
    "NOTIFY",
    "UNLISTEN",
    "BEGIN",
    "START",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
    "KILL",
    "VACUUM",
    "FLUSH",
    "LOCK",
    "UNLOCK",
    "DO",
    "CREATE EXTENSION",
    "CREATE SECRET",
    "CREATE FUNCTION",
    "CREATE PROCEDURE",
    "CREATE SERVER",
    "CREATE USER",
    "CREATE ROLE",
    "ALTER USER",
    "ALTER ROLE",
    "ALTER SYSTEM",
    "DROP DATABASE",
    "CREATE DATABASE",
    "DROP SCHEMA",
    "DROP USER",
    "DROP ROLE",
];

/// Whether statement kind `kind` (upper-case first word or two, e.g. `CREATE TABLE`)
/// is never allowed.
pub fn never_allowed(kind: &str) -> bool {
    NEVER_ALLOWED
        .iter()
        .any(|d| kind == *d || (kind.starts_with(d) && kind[d.len()..].starts_with(' ')))
}

/// Word pairs refused wherever they appear as code, whatever separates them (spaces,
/// tabs, newlines, comments) and in any case: they write or run files and programs.
pub const FORBIDDEN_SEQUENCES: &[(&str, &str)] = &[
    ("into", "outfile"),
    ("into", "dumpfile"),
    ("to", "program"),
    ("from", "program"),
];
