//! Foreign keys and secondary indexes of a MySQL/MariaDB source
//! (`Backend::introspect_keys`), from `information_schema` of the current database.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use crate::keys::{ForeignKey, IndexInfo, KeyInfo};

const FOREIGN_KEYS: &str = "\
SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE k
WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
  AND k.REFERENCED_TABLE_SCHEMA = DATABASE()
ORDER BY BINARY k.TABLE_NAME, BINARY k.CONSTRAINT_NAME, k.ORDINAL_POSITION";

const INDEXES: &str = "\
SELECT s.TABLE_NAME, s.INDEX_NAME, s.NON_UNIQUE, s.COLUMN_NAME
FROM information_schema.STATISTICS s
WHERE s.TABLE_SCHEMA = DATABASE() AND s.INDEX_NAME <> 'PRIMARY'
ORDER BY BINARY s.TABLE_NAME, BINARY s.INDEX_NAME, s.SEQ_IN_INDEX";

/// Reads the foreign keys and the indexes other than primary keys (an index with an
/// expression part is left out).
pub async fn introspect_keys(conn: &mut Conn) -> Result<KeyInfo, mysql_async::Error> {
    let mut out = KeyInfo::default();
    let rows: Vec<(String, String, String, String, String)> = conn.query(FOREIGN_KEYS).await?;
    for (table, name, column, parent, ref_column) in rows {
        match out.foreign_keys.last_mut() {
            Some(fk) if fk.table == table && fk.name.as_deref() == Some(name.as_str()) => {
                fk.columns.push(column);
                fk.ref_columns.push(ref_column);
            }
            _ => out.foreign_keys.push(ForeignKey {
                name: Some(name),
                table,
                columns: vec![column],
                ref_table: parent,
                ref_columns: vec![ref_column],
            }),
        }
    }
    let rows: Vec<(String, String, i64, Option<String>)> = conn.query(INDEXES).await?;
    let mut skip: Option<(String, String)> = None;
    for (table, name, non_unique, column) in rows {
        let key = (table.clone(), name.clone());
        let Some(column) = column else {
            // A functional index part: drop the whole index.
            if matches!(out.indexes.last(), Some(ix) if ix.table == table && ix.name == name) {
                out.indexes.pop();
            }
            skip = Some(key);
            continue;
        };
        if skip.as_ref() == Some(&key) {
            continue;
        }
        match out.indexes.last_mut() {
            Some(ix) if ix.table == table && ix.name == name => ix.columns.push(column),
            _ => out.indexes.push(IndexInfo {
                name,
                table,
                columns: vec![column],
                unique: non_unique == 0,
            }),
        }
    }
    Ok(out)
}
