//! Reading a MySQL/MariaDB database's tables and columns (keys are `keys.rs`), and the
//! checksum the schema cache compares to know whether to read them again.

use std::collections::HashSet;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::is_mariadb;
use crate::backends::{ColumnInfo, SchemaInfo, TableInfo};

/// A checksum of the current database's columns, comments, constraints and indexes
/// (what introspection reads); NULL when no database is selected.
pub(super) const SCHEMA_VERSION_SQL: &str = "\
SELECT CONCAT(COUNT(*), ':',
    COALESCE(SUM(CRC32(CONCAT_WS('|', TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE,
                                 IS_NULLABLE, COLUMN_KEY, COLUMN_COMMENT))), 0), ':',
    (SELECT COALESCE(SUM(CRC32(CONCAT_WS('|', TABLE_NAME, TABLE_COMMENT))), 0)
       FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()), ':',
    (SELECT COALESCE(SUM(CRC32(CONCAT_WS('|', TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME))), 0)
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()), ':',
    (SELECT COALESCE(SUM(CRC32(CONCAT_WS('|', TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME,
                                         REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME))), 0)
       FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE()))
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND DATABASE() IS NOT NULL";

/// Columns of the current database's tables and views, in ordinal order. The primary key
/// comes from the `PRIMARY` index ([`PRIMARY_KEYS_SQL`]; COLUMN_KEY also says PRI for some
/// unique keys).
const INTROSPECT_SQL: &str = "\
SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.DATA_TYPE, c.IS_NULLABLE,
       c.COLUMN_COMMENT, t.TABLE_COMMENT, CAST(t.TABLE_ROWS AS SIGNED)
FROM information_schema.COLUMNS c
LEFT JOIN information_schema.TABLES t
       ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
WHERE c.TABLE_SCHEMA = DATABASE()
ORDER BY BINARY c.TABLE_NAME, c.ORDINAL_POSITION";

/// The columns of every primary key of the current database. Read apart from the columns
/// (and joined in Rust): a correlated subquery per column over `information_schema`
/// costs MariaDB seconds on a few thousand columns.
const PRIMARY_KEYS_SQL: &str = "\
SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'PRIMARY'";

/// MariaDB stores JSON columns as `longtext` with a `json_valid(`col`)` check: the
/// checks that say so, to call those columns `json`.
const JSON_CHECKS_SQL: &str = "\
SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE() AND CHECK_CLAUSE LIKE 'json_valid(%'";

/// The tables and columns of the connection's current database (none when no database
/// is selected), sorted by table name.
pub(super) async fn read_schema(conn: &mut Conn) -> Result<SchemaInfo, mysql_async::Error> {
    let database: Option<Option<String>> = conn.query_first("SELECT DATABASE()").await?;
    let Some(database) = database.flatten() else {
        return Ok(SchemaInfo::default());
    };
    type Row = (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<i64>,
    );
    let rows: Vec<Row> = conn.query(INTROSPECT_SQL).await?;
    let primary: Vec<(String, String)> = conn.query(PRIMARY_KEYS_SQL).await?;
    let primary: HashSet<(String, String)> = primary.into_iter().collect();
    let json: HashSet<(String, String)> = if is_mariadb(conn) {
        let checks: Vec<(String, String)> = conn.query(JSON_CHECKS_SQL).await?;
        checks
            .into_iter()
            .filter_map(|(t, clause)| {
                let col = clause
                    .strip_prefix("json_valid(`")?
                    .strip_suffix("`)")?
                    .to_string();
                Some((t, col))
            })
            .collect()
    } else {
        Default::default()
    };
    let text = |s: Option<String>| s.filter(|s| !s.is_empty());
    let mut tables: Vec<TableInfo> = Vec::new();
    for (table, column, column_type, data_type, nullable, comment, table_comment, rows) in rows {
        let key = (table, column);
        let data_type = if data_type == "longtext" && json.contains(&key) {
            "json".to_string()
        } else {
            column_type
        };
        let primary_key = primary.contains(&key);
        let (table, column) = key;
        let column = ColumnInfo {
            name: column,
            data_type,
            primary_key,
            nullable: nullable.eq_ignore_ascii_case("YES"),
            comment: text(comment),
            samples: Vec::new(),
        };
        match tables.last_mut() {
            Some(t) if t.name == table => t.columns.push(column),
            _ => tables.push(TableInfo {
                name: table,
                columns: vec![column],
                // MySQL comments every view "VIEW".
                comment: text(table_comment).filter(|c| c != "VIEW"),
                rows,
            }),
        }
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(SchemaInfo { database, tables })
}
