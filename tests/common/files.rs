//! SQLite and DuckDB files built from SQL scripts.

use std::path::{Path, PathBuf};

/// Creates (or replaces) `dir/name` as a SQLite database by running `sql` (a script);
/// returns its path.
pub fn sqlite_file(dir: &Path, name: &str, sql: &str) -> PathBuf {
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    let conn = rusqlite::Connection::open(&path)
        .unwrap_or_else(|e| panic!("create SQLite file {}: {e}", path.display()));
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("SQLite script failed on {}: {e}\n{sql}", path.display()));
    drop(conn);
    path
}

/// Creates (or replaces) `dir/name` as a DuckDB database by running `sql` (a script);
/// returns its path. The file is closed (checkpointed) on return.
pub fn duckdb_file(dir: &Path, name: &str, sql: &str) -> PathBuf {
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(PathBuf::from(format!("{}.wal", path.display())));
    let conn = duckdb::Connection::open(&path)
        .unwrap_or_else(|e| panic!("create DuckDB file {}: {e}", path.display()));
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("DuckDB script failed on {}: {e}\n{sql}", path.display()));
    conn.execute_batch("CHECKPOINT")
        .unwrap_or_else(|e| panic!("DuckDB CHECKPOINT on {}: {e}", path.display()));
    drop(conn);
    path
}
