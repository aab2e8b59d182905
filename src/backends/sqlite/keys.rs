//! Foreign keys and secondary indexes of a SQLite source (`Backend::introspect_keys`).

use rusqlite::Connection;

/// Foreign keys (`pragma_foreign_key_list`) and the indexes other than the primary
/// key's (`pragma_index_list`, `pragma_index_info`) of every table.
pub(super) fn introspect_keys(conn: &Connection) -> rusqlite::Result<crate::keys::KeyInfo> {
    use crate::keys::{ForeignKey, IndexInfo, KeyInfo};
    let mut list = conn.prepare(
        "SELECT name FROM sqlite_master \
         WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )?;
    let names = list
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = KeyInfo::default();
    let mut fks = conn.prepare(
        "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
    )?;
    let mut idx = conn.prepare(
        "SELECT name, \"unique\" FROM pragma_index_list(?1) WHERE origin <> 'pk' AND partial = 0 ORDER BY name",
    )?;
    let mut cols = conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
    for table in names {
        let rows = fks
            .query_map([&table], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut current: Option<(i64, ForeignKey)> = None;
        for (id, parent, from, to) in rows {
            match &mut current {
                Some((cid, fk)) if *cid == id => {
                    fk.columns.push(from);
                    fk.ref_columns.extend(to);
                }
                _ => {
                    if let Some((_, fk)) = current.take() {
                        out.foreign_keys.push(fk);
                    }
                    current = Some((
                        id,
                        ForeignKey {
                            name: None,
                            table: table.clone(),
                            columns: vec![from],
                            ref_table: parent,
                            ref_columns: to.into_iter().collect(),
                        },
                    ));
                }
            }
        }
        if let Some((_, fk)) = current {
            out.foreign_keys.push(fk);
        }
        let indexes = idx
            .query_map([&table], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (name, unique) in indexes {
            let columns = cols
                .query_map([&name], |r| r.get::<_, Option<String>>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            // An expression index has a NULL column: it is left out.
            if columns.iter().any(Option::is_none) || columns.is_empty() {
                continue;
            }
            out.indexes.push(IndexInfo {
                name,
                table: table.clone(),
                columns: columns.into_iter().flatten().collect(),
                unique: unique != 0,
            });
        }
    }
    Ok(out)
}
