//! Foreign keys and secondary indexes of a PostgreSQL source (`Backend::introspect_keys`),
//! named as `introspect` names tables (`public` tables bare, others `schema.table`).

use tokio_postgres::Client;

use crate::keys::{ForeignKey, IndexInfo, KeyInfo};

const FOREIGN_KEYS: &str = "\
SELECT n.nspname::text, c.relname::text, con.conname::text,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o),
       pn.nspname::text, p.relname::text,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class p ON p.oid = con.confrelid
JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE con.contype = 'f'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
ORDER BY 1, 2, 3";

const INDEXES: &str = "\
SELECT n.nspname::text, c.relname::text, ic.relname::text, i.indisunique,
       ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o),
       i.indnkeyatts::int4
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT i.indisprimary AND i.indexprs IS NULL AND i.indpred IS NULL
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
ORDER BY 1, 2, 3";

fn qualified(schema: String, table: String) -> String {
    if schema == "public" {
        table
    } else {
        format!("{schema}.{table}")
    }
}

/// Reads the foreign keys and the plain-column indexes other than primary keys.
pub async fn introspect_keys(client: &Client) -> Result<KeyInfo, tokio_postgres::Error> {
    let mut out = KeyInfo::default();
    for row in client.query(FOREIGN_KEYS, &[]).await? {
        out.foreign_keys.push(ForeignKey {
            table: qualified(row.try_get(0)?, row.try_get(1)?),
            name: Some(row.try_get(2)?),
            columns: row.try_get(3)?,
            ref_table: qualified(row.try_get(4)?, row.try_get(5)?),
            ref_columns: row.try_get(6)?,
        });
    }
    for row in client.query(INDEXES, &[]).await? {
        let mut columns: Vec<String> = row.try_get(4)?;
        let key_columns: i32 = row.try_get(5)?;
        // INCLUDE columns are not key columns.
        columns.truncate(usize::try_from(key_columns).unwrap_or(0));
        if columns.is_empty() {
            continue;
        }
        out.indexes.push(IndexInfo {
            table: qualified(row.try_get(0)?, row.try_get(1)?),
            name: row.try_get(2)?,
            unique: row.try_get(3)?,
            columns,
        });
    }
    Ok(out)
}
