//! Foreign keys and secondary indexes of the sources (`crate::keys`) in the emulated
//! catalog: index relations in `pg_class`/`pg_attribute`/`pg_index`/`pg_indexes`,
//! foreign keys in `pg_constraint` and `information_schema.table_constraints`,
//! `key_column_usage`, `referential_constraints` and `constraint_column_usage`, with
//! the definitions `pg_get_indexdef`/`pg_get_constraintdef` print.

use std::collections::HashSet;

use rusqlite::{params, Connection};

use super::model::{quote_ident, Model, DATABASE};
use super::CatalogSchema;

fn fnv(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// A stable OID for `key` that no relation of `model` and nothing in `taken` uses.
fn oid_for(key: &str, taken: &mut HashSet<i64>) -> i64 {
    const FIRST: i64 = 16_384;
    const SPAN: i64 = 0x7FFF_FFFF - FIRST;
    let mut oid = FIRST + i64::from(fnv(key)) % SPAN;
    while !taken.insert(oid) {
        oid = FIRST + (oid - FIRST + 1) % SPAN;
    }
    oid
}

fn zeros(n: usize) -> String {
    vec!["0"; n].join(" ")
}

/// Adds the keys and indexes of `schemas` to the catalog database `conn` built from
/// `model`.
pub fn fill(model: &Model, schemas: &[CatalogSchema], conn: &Connection) -> rusqlite::Result<()> {
    let mut taken: HashSet<i64> = model.relations.iter().map(|r| r.oid).collect();
    taken.extend(model.namespaces.iter().map(|n| n.oid));
    // Every index row gets PostgreSQL's per-column vectors (default operator class,
    // ascending, default collation), so `unnest(indclass)` zips with `unnest(indkey)`.
    let existing: Vec<(i64, String)> = {
        let mut s = conn.prepare("SELECT indexrelid, indkey FROM pg_catalog.pg_index")?;
        let rows = s.query_map([], |r| Ok((r.get(0)?, r.get::<_, String>(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (oid, indkey) in existing {
        let n = indkey.split_whitespace().count();
        conn.execute(
            "UPDATE pg_catalog.pg_index SET indclass = ?1, indoption = ?1, indcollation = ?1 WHERE indexrelid = ?2",
            params![zeros(n), oid],
        )?;
    }
    for s in schemas {
        let Some(ns_idx) = model.namespaces.iter().position(|n| n.name == s.name) else {
            continue;
        };
        let ns = &model.namespaces[ns_idx];
        let table = |name: &str| {
            model
                .relations
                .iter()
                .find(|r| r.namespace == ns_idx && r.kind == 'r' && r.name == name)
        };
        let attnum = |r: &super::model::Relation, col: &str| {
            r.columns
                .iter()
                .position(|c| c.name == col)
                .map(|i| i as i64 + 1)
        };
        let mut names: HashSet<String> = model
            .relations
            .iter()
            .filter(|r| r.namespace == ns_idx)
            .map(|r| r.name.clone())
            .collect();
        for ix in &s.keys.indexes {
            let Some(t) = table(&ix.table) else { continue };
            let nums: Option<Vec<i64>> = ix.columns.iter().map(|c| attnum(t, c)).collect();
            let Some(nums) = nums else { continue };
            if nums.is_empty() || !names.insert(ix.name.clone()) {
                continue;
            }
            let oid = oid_for(&format!("x:{}.{}", s.name, ix.name), &mut taken);
            conn.execute(
                "INSERT INTO pg_catalog.pg_class (oid, relname, relnamespace, relkind, relam, relnatts) \
                 VALUES (?1, ?2, ?3, 'i', 403, ?4)",
                params![oid, ix.name, ns.oid, nums.len() as i64],
            )?;
            for (i, n) in nums.iter().enumerate() {
                conn.execute(
                    "INSERT INTO pg_catalog.pg_attribute (attrelid, attname, atttypid, attlen, attnum, atttypmod, \
                     attbyval, attalign, attstorage, attnotnull, attcollation) \
                     SELECT ?1, attname, atttypid, attlen, ?2, atttypmod, attbyval, attalign, attstorage, attnotnull, \
                     attcollation FROM pg_catalog.pg_attribute WHERE attrelid = ?3 AND attnum = ?4",
                    params![oid, i as i64 + 1, t.oid, n],
                )?;
            }
            let indkey: Vec<String> = nums.iter().map(i64::to_string).collect();
            conn.execute(
                "INSERT INTO pg_catalog.pg_index (indexrelid, indrelid, indnatts, indnkeyatts, indisunique, \
                 indisprimary, indkey, indclass, indoption, indcollation) VALUES (?1, ?2, ?3, ?3, ?4, 0, ?5, ?6, ?6, ?6)",
                params![oid, t.oid, nums.len() as i64, ix.unique, indkey.join(" "), zeros(nums.len())],
            )?;
            let cols: Vec<String> = ix.columns.iter().map(|c| quote_ident(c)).collect();
            let def = format!(
                "CREATE {}INDEX {} ON {} USING btree ({})",
                if ix.unique { "UNIQUE " } else { "" },
                quote_ident(&ix.name),
                model.qualified(t),
                cols.join(", ")
            );
            conn.execute(
                "INSERT INTO main.__indexdef (oid, def) VALUES (?1, ?2)",
                params![oid, def],
            )?;
            conn.execute(
                "INSERT INTO main.__regclass (oid, name) VALUES (?1, ?2)",
                params![
                    oid,
                    format!("{}.{}", quote_ident(&s.name), quote_ident(&ix.name))
                ],
            )?;
            conn.execute(
                "INSERT INTO pg_catalog.pg_indexes (schemaname, tablename, indexname, indexdef) VALUES (?1, ?2, ?3, ?4)",
                params![s.name, t.name, ix.name, def],
            )?;
            conn.execute(
                "UPDATE pg_catalog.pg_class SET relhasindex = 1 WHERE oid = ?1",
                params![t.oid],
            )?;
            conn.execute(
                "UPDATE pg_catalog.pg_tables SET hasindexes = 1 WHERE schemaname = ?1 AND tablename = ?2",
                params![s.name, t.name],
            )?;
        }
        for fk in &s.keys.foreign_keys {
            let (Some(t), Some(parent)) = (table(&fk.table), table(&fk.ref_table)) else {
                continue;
            };
            // The referenced key: the columns named, or the parent's primary key.
            let ref_nums: Option<Vec<i64>> = if fk.ref_columns.is_empty() {
                Some(parent.pk.clone())
            } else {
                fk.ref_columns.iter().map(|c| attnum(parent, c)).collect()
            };
            let nums: Option<Vec<i64>> = fk.columns.iter().map(|c| attnum(t, c)).collect();
            let (Some(nums), Some(ref_nums)) = (nums, ref_nums) else {
                continue;
            };
            if nums.is_empty() || nums.len() != ref_nums.len() {
                continue;
            }
            let name = fk
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("{}_{}_fkey", t.name, fk.columns.join("_")));
            if !names.insert(name.clone()) {
                continue;
            }
            // The referenced key's unique index: the parent's primary key when it is that.
            let (pk_index, pk_name) = match parent.pk_index {
                Some((i, _)) if parent.pk == ref_nums => (
                    model.relations[i].oid,
                    Some(model.relations[i].name.clone()),
                ),
                _ => (0, None),
            };
            let oid = oid_for(&format!("f:{}.{}", s.name, name), &mut taken);
            let braces = |v: &[i64]| {
                format!(
                    "{{{}}}",
                    v.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
                )
            };
            conn.execute(
                "INSERT INTO pg_catalog.pg_constraint (oid, conname, connamespace, contype, conrelid, conindid, \
                 confrelid, confupdtype, confdeltype, confmatchtype, conkey, confkey) \
                 VALUES (?1, ?2, ?3, 'f', ?4, ?5, ?6, 'a', 'a', 's', ?7, ?8)",
                params![oid, name, ns.oid, t.oid, pk_index, parent.oid, braces(&nums), braces(&ref_nums)],
            )?;
            let col_names = |r: &super::model::Relation, v: &[i64]| -> Vec<String> {
                v.iter()
                    .filter_map(|n| r.columns.get(*n as usize - 1).map(|c| c.name.clone()))
                    .collect()
            };
            let child_cols = col_names(t, &nums);
            let parent_cols = col_names(parent, &ref_nums);
            let q = |v: &[String]| {
                v.iter()
                    .map(|c| quote_ident(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let def = format!(
                "FOREIGN KEY ({}) REFERENCES {}({})",
                q(&child_cols),
                model.qualified(parent),
                q(&parent_cols)
            );
            conn.execute(
                "INSERT INTO main.__constraintdef (oid, def) VALUES (?1, ?2)",
                params![oid, def],
            )?;
            // PostgreSQL enforces a foreign key with triggers on both tables; psql's `\d`
            // lists "Foreign-key constraints" and "Referenced by" only when it sees them.
            conn.execute(
                "UPDATE pg_catalog.pg_class SET relhastriggers = 1 WHERE oid IN (?1, ?2)",
                params![t.oid, parent.oid],
            )?;
            conn.execute(
                "UPDATE pg_catalog.pg_tables SET hastriggers = 1 WHERE schemaname = ?1 AND tablename IN (?2, ?3)",
                params![s.name, t.name, parent.name],
            )?;
            conn.execute(
                "INSERT INTO information_schema.table_constraints (constraint_catalog, constraint_schema, \
                 constraint_name, table_catalog, table_schema, table_name, constraint_type) \
                 VALUES (?1, ?2, ?3, ?1, ?2, ?4, 'FOREIGN KEY')",
                params![DATABASE, s.name, name, t.name],
            )?;
            for (i, c) in child_cols.iter().enumerate() {
                conn.execute(
                    "INSERT INTO information_schema.key_column_usage (constraint_catalog, constraint_schema, \
                     constraint_name, table_catalog, table_schema, table_name, column_name, ordinal_position, \
                     position_in_unique_constraint) VALUES (?1, ?2, ?3, ?1, ?2, ?4, ?5, ?6, ?6)",
                    params![DATABASE, s.name, name, t.name, c, i as i64 + 1],
                )?;
            }
            for c in &parent_cols {
                conn.execute(
                    "INSERT INTO information_schema.constraint_column_usage (table_catalog, table_schema, \
                     table_name, column_name, constraint_catalog, constraint_schema, constraint_name) \
                     VALUES (?1, ?2, ?3, ?4, ?1, ?2, ?5)",
                    params![DATABASE, s.name, parent.name, c, name],
                )?;
            }
            conn.execute(
                "INSERT INTO information_schema.referential_constraints (constraint_catalog, constraint_schema, \
                 constraint_name, unique_constraint_catalog, unique_constraint_schema, unique_constraint_name, \
                 match_option, update_rule, delete_rule) VALUES (?1, ?2, ?3, ?1, ?2, ?4, 'NONE', 'NO ACTION', 'NO ACTION')",
                params![DATABASE, s.name, name, pk_name],
            )?;
        }
    }
    Ok(())
}
