//! Copies the emulated catalog's tables (built by `wire::catalog`'s model in SQLite) into
//! a private in-memory DuckDB database: `pg_catalog` tables into the schema `pgc`,
//! `information_schema` into `isc` (DuckDB reserves both real names for its own catalog),
//! the helper tables (`__regclass`, `__format_type`, …) into `main`. PostgreSQL array
//! columns (`indkey`, `conkey`, …) become DuckDB lists, so `unnest`, subscripts,
//! `array_agg` and `= ANY(...)` work on them as PostgreSQL runs them.

use duckdb::Connection;
use rusqlite::types::Value as SqlValue;

use super::VirtualError;

/// Columns that are arrays in PostgreSQL: (table, column, DuckDB list type).
const ARRAY_COLUMNS: &[(&str, &str, &str)] = &[
    ("pg_index", "indkey", "SMALLINT[]"),
    ("pg_index", "indoption", "SMALLINT[]"),
    ("pg_index", "indclass", "BIGINT[]"),
    ("pg_index", "indcollation", "BIGINT[]"),
    ("pg_constraint", "conkey", "SMALLINT[]"),
    ("pg_constraint", "confkey", "SMALLINT[]"),
    ("pg_constraint", "confdelsetcols", "SMALLINT[]"),
    ("pg_constraint", "conpfeqop", "BIGINT[]"),
    ("pg_constraint", "conppeqop", "BIGINT[]"),
    ("pg_constraint", "conffeqop", "BIGINT[]"),
    ("pg_constraint", "conexclop", "BIGINT[]"),
    ("pg_proc", "proargtypes", "BIGINT[]"),
    ("pg_proc", "proallargtypes", "BIGINT[]"),
    ("pg_proc", "proargmodes", "VARCHAR[]"),
    ("pg_proc", "proargnames", "VARCHAR[]"),
    ("pg_proc", "proconfig", "VARCHAR[]"),
    ("pg_proc", "proacl", "VARCHAR[]"),
    ("pg_class", "relacl", "VARCHAR[]"),
    ("pg_class", "reloptions", "VARCHAR[]"),
    ("pg_attribute", "attacl", "VARCHAR[]"),
    ("pg_attribute", "attoptions", "VARCHAR[]"),
    ("pg_attribute", "attfdwoptions", "VARCHAR[]"),
    ("pg_namespace", "nspacl", "VARCHAR[]"),
    ("pg_type", "typacl", "VARCHAR[]"),
    ("pg_database", "datacl", "VARCHAR[]"),
    ("pg_roles", "rolconfig", "VARCHAR[]"),
    ("pg_tablespace", "spcacl", "VARCHAR[]"),
    ("pg_tablespace", "spcoptions", "VARCHAR[]"),
    ("pg_extension", "extconfig", "BIGINT[]"),
    ("pg_extension", "extcondition", "VARCHAR[]"),
    ("pg_statistic_ext", "stxkeys", "SMALLINT[]"),
    ("pg_trigger", "tgattr", "SMALLINT[]"),
    ("pg_publication_rel", "prattrs", "SMALLINT[]"),
    ("pg_foreign_table", "ftoptions", "VARCHAR[]"),
];

/// The list type of `table.column` when it is a PostgreSQL array.
pub fn array_type(table: &str, column: &str) -> Option<&'static str> {
    ARRAY_COLUMNS
        .iter()
        .find(|(t, c, _)| *t == table && *c == column)
        .map(|(_, _, ty)| *ty)
}

/// Whether `column` names an array column of some catalog table.
pub fn is_array_column(column: &str) -> bool {
    ARRAY_COLUMNS.iter().any(|(_, c, _)| *c == column)
}

/// Whether `column` is an `int2vector`/`oidvector` (subscripts start at 0 in PostgreSQL).
pub fn is_zero_based(column: &str) -> bool {
    matches!(
        column,
        "indkey" | "indoption" | "indclass" | "indcollation" | "proargtypes"
    )
}

fn duck_type(decl: &str) -> &'static str {
    match decl.to_ascii_uppercase().as_str() {
        "INT8" => "BIGINT",
        "INT4" => "INTEGER",
        "INT2" => "SMALLINT",
        "BOOL" => "BOOLEAN",
        "FLOAT4" => "REAL",
        "FLOAT8" => "DOUBLE",
        _ => "VARCHAR",
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The elements of a PostgreSQL array or vector in text form (`{1,2}`, `1 2`, `{a,"b c"}`).
pub fn array_elements(text: &str) -> Vec<String> {
    let t = text.trim();
    let inner = t
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(t);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = inner.chars();
    let braces = t.starts_with('{');
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' if !quoted && braces => {
                out.push(std::mem::take(&mut cur));
                was_quoted = false;
            }
            c if c.is_whitespace() && !quoted && !braces => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() || was_quoted || (braces && !out.is_empty()) {
        out.push(cur);
    }
    out
}

fn literal(v: &SqlValue, list: Option<&str>) -> String {
    match (v, list) {
        (SqlValue::Null, _) => "NULL".into(),
        (SqlValue::Text(s), Some(ty)) => {
            let elems: Vec<String> = array_elements(s)
                .iter()
                .map(|e| {
                    if ty == "VARCHAR[]" {
                        quote(e)
                    } else if e.parse::<i64>().is_ok() {
                        e.clone()
                    } else {
                        "NULL".into()
                    }
                })
                .collect();
            format!("CAST([{}] AS {ty})", elems.join(", "))
        }
        (SqlValue::Integer(i), _) => i.to_string(),
        (SqlValue::Real(f), _) => {
            if f.is_finite() {
                format!("{f:?}")
            } else {
                "NULL".into()
            }
        }
        (SqlValue::Text(s), None) => quote(s),
        (SqlValue::Blob(b), _) => quote(&String::from_utf8_lossy(b)),
    }
}

fn sqlite_err(e: rusqlite::Error) -> VirtualError {
    VirtualError::Engine(format!("reading the emulated catalog: {e}"))
}

/// Copies one SQLite table into `target.name` in DuckDB.
fn copy_table(
    src: &rusqlite::Connection,
    dst: &Connection,
    db: &str,
    name: &str,
    target: &str,
) -> Result<(), VirtualError> {
    let mut info = src
        .prepare(&format!("PRAGMA \"{db}\".table_info(\"{name}\")"))
        .map_err(sqlite_err)?;
    let cols: Vec<(String, String)> = info
        .query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
        .map_err(sqlite_err)?
        .collect::<Result<_, _>>()
        .map_err(sqlite_err)?;
    if cols.is_empty() {
        return Ok(());
    }
    let lists: Vec<Option<&str>> = cols.iter().map(|(c, _)| array_type(name, c)).collect();
    let ddl: Vec<String> = cols
        .iter()
        .zip(&lists)
        .map(|((c, decl), l)| format!("\"{c}\" {}", l.unwrap_or_else(|| duck_type(decl))))
        .collect();
    let mut sql = format!("CREATE TABLE {target}.\"{name}\" ({});\n", ddl.join(", "));
    let mut stmt = src
        .prepare(&format!("SELECT * FROM \"{db}\".\"{name}\""))
        .map_err(sqlite_err)?;
    let mut rows = stmt.query([]).map_err(sqlite_err)?;
    let mut values = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite_err)? {
        let mut vals = Vec::with_capacity(cols.len());
        for (i, l) in lists.iter().enumerate() {
            let v: SqlValue = row.get(i).map_err(sqlite_err)?;
            vals.push(literal(&v, *l));
        }
        values.push(format!("({})", vals.join(", ")));
    }
    if !values.is_empty() {
        sql.push_str(&format!(
            "INSERT INTO {target}.\"{name}\" VALUES {};\n",
            values.join(",\n")
        ));
    }
    dst.execute_batch(&sql)
        .map_err(|e| VirtualError::Engine(format!("loading {name}: {e}")))
}

/// Copies every catalog table of `src` into `dst`.
pub fn copy_catalog(src: &rusqlite::Connection, dst: &Connection) -> Result<(), VirtualError> {
    dst.execute_batch("CREATE SCHEMA pgc; CREATE SCHEMA isc;")
        .map_err(|e| VirtualError::Engine(e.to_string()))?;
    for (db, target) in [
        ("pg_catalog", "pgc"),
        ("information_schema", "isc"),
        ("main", "main"),
    ] {
        let mut stmt = src
            .prepare(&format!(
                "SELECT name FROM \"{db}\".sqlite_master WHERE type = 'table' ORDER BY name"
            ))
            .map_err(sqlite_err)?;
        let names: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .map_err(sqlite_err)?
            .collect::<Result<_, _>>()
            .map_err(sqlite_err)?;
        for n in names {
            copy_table(src, dst, db, &n, target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::array_elements;

    #[test]
    fn reads_vectors_and_arrays() {
        assert_eq!(array_elements("1 2"), vec!["1", "2"]);
        assert_eq!(array_elements("{1,2}"), vec!["1", "2"]);
        assert_eq!(array_elements("{a,\"b c\",\"\"}"), vec!["a", "b c", ""]);
        assert!(array_elements("{}").is_empty());
        assert!(array_elements("").is_empty());
    }
}
