//! Foreign keys and secondary indexes of a DuckDB source (`Backend::introspect_keys`).

use duckdb::Connection;

/// Foreign keys (`duckdb_constraints()`) and indexes (`duckdb_indexes()`, plain column
/// lists only) of the open database.
pub(super) fn introspect_keys(conn: &Connection) -> duckdb::Result<crate::keys::KeyInfo> {
    use crate::keys::{ForeignKey, IndexInfo, KeyInfo};
    let qualify = |schema: String, table: String| {
        if schema == "main" {
            table
        } else {
            format!("{schema}.{table}")
        }
    };
    let mut out = KeyInfo::default();
    let mut fks = conn.prepare(
        "SELECT schema_name, table_name, constraint_name, \
                array_to_string(constraint_column_names, chr(31)), referenced_table, \
                array_to_string(referenced_column_names, chr(31)) \
         FROM duckdb_constraints() \
         WHERE constraint_type = 'FOREIGN KEY' AND database_name = current_database() \
         ORDER BY schema_name, table_name, constraint_index",
    )?;
    let rows = fks
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?
        .collect::<duckdb::Result<Vec<_>>>()?;
    let split = |s: &str| -> Vec<String> {
        s.split('\u{1f}')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    };
    for (schema, table, name, cols, parent, ref_cols) in rows {
        // DuckDB generates names like `t_col_col_fkey`; PostgreSQL's default for an
        // unnamed key (`t_col_fkey`) is what clients compare against.
        let _ = name;
        out.foreign_keys.push(ForeignKey {
            name: None,
            table: qualify(schema.clone(), table),
            columns: split(&cols),
            ref_table: qualify(schema, parent),
            ref_columns: split(&ref_cols),
        });
    }
    let mut idx = conn.prepare(
        "SELECT schema_name, table_name, index_name, is_unique, CAST(expressions AS VARCHAR) \
         FROM duckdb_indexes() WHERE database_name = current_database() \
         ORDER BY schema_name, table_name, index_name",
    )?;
    let rows = idx
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?
        .collect::<duckdb::Result<Vec<_>>>()?;
    for (schema, table, name, unique, exprs) in rows {
        // `[status, "Created At"]`: plain (optionally quoted) column names only.
        let Some(list) = exprs.as_deref().and_then(|e| {
            e.trim()
                .strip_prefix('[')?
                .strip_suffix(']')
                .map(str::to_string)
        }) else {
            continue;
        };
        let columns: Vec<String> = list
            .split(',')
            .map(|c| c.trim().trim_matches('\'').trim_matches('"').to_string())
            .collect();
        let plain = columns.iter().all(|c| {
            !c.is_empty()
                && c.chars()
                    .all(|ch| ch.is_alphanumeric() || ch == '_' || ch == ' ')
        });
        if !plain {
            continue;
        }
        out.indexes.push(IndexInfo {
            name,
            table: qualify(schema, table),
            columns,
            unique,
        });
    }
    Ok(out)
}
