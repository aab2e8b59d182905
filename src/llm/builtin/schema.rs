//! The schema as the planner sees it: tables by their name words, foreign-key hops,
//! column kinds.

use super::lexicon::*;
use crate::backends::{ColumnInfo, Dialect, TableInfo};
use crate::llm::DbSchema;

// ───────────────────────────── schema ─────────────────────────────

/// One table with the words its name is made of.
pub(super) struct TableView<'a> {
    pub(super) info: &'a TableInfo,
    pub(super) core: Vec<String>,
}

impl<'a> TableView<'a> {
    pub(super) fn column(&self, name: &str) -> Option<&'a ColumnInfo> {
        self.info
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The primary key (single column), or a column named `id`.
    pub(super) fn pk(&self) -> Option<&'a ColumnInfo> {
        let pks: Vec<&ColumnInfo> = self.info.columns.iter().filter(|c| c.primary_key).collect();
        match pks.as_slice() {
            [one] => Some(one),
            _ => self.column("id"),
        }
    }

    /// The column that names a row: `name`, `<entity>_name`, `title`, `label`, any `*_name`.
    pub(super) fn label(&self) -> Option<&'a ColumnInfo> {
        let mut entity_name = self.core.clone();
        entity_name.push("name".to_string());
        let texty = |c: &&ColumnInfo| !is_numeric(c) && !is_key(c);
        self.column("name")
            .or_else(|| {
                self.info
                    .columns
                    .iter()
                    .find(|c| name_tokens(&c.name) == entity_name)
            })
            .or_else(|| self.column("title"))
            .or_else(|| self.column("label"))
            .or_else(|| self.column("full_name"))
            .or_else(|| {
                self.info
                    .columns
                    .iter()
                    .filter(texty)
                    .find(|c| name_tokens(&c.name).last().is_some_and(|t| t == "name"))
            })
    }
}

/// One database as the planner sees it.
pub(super) struct DbView<'a> {
    pub(super) name: &'a str,
    pub(super) dialect: Dialect,
    pub(super) tables: Vec<TableView<'a>>,
}

impl<'a> DbView<'a> {
    pub(super) fn new(db: &'a DbSchema) -> Self {
        DbView {
            name: &db.name,
            dialect: db.dialect,
            tables: db
                .schema
                .tables
                .iter()
                .map(|t| TableView {
                    core: table_core(&t.name),
                    info: t,
                })
                .collect(),
        }
    }

    /// Foreign keys of table `base`: `<x>_id`/`<x>_key` columns pointing at the table whose
    /// name matches `<x>`, joined on its primary key.
    pub(super) fn hops(&self, base: usize) -> Vec<Hop<'a>> {
        let mut out = Vec::new();
        for c in &self.tables[base].info.columns {
            let toks = name_tokens(&c.name);
            let Some((last, entity)) = toks.split_last() else {
                continue;
            };
            if entity.is_empty() || !matches!(last.as_str(), "id" | "key" | "fk") {
                continue;
            }
            let best = self
                .tables
                .iter()
                .enumerate()
                .filter(|(ti, _)| *ti != base)
                .map(|(ti, t)| (match_subject(entity, &t.core), ti))
                .filter(|(s, _)| *s >= 3)
                .max_by_key(|(s, ti)| (*s, std::cmp::Reverse(*ti)));
            let Some((_, ti)) = best else {
                continue;
            };
            let target = &self.tables[ti];
            let pk = target
                .info
                .columns
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(&c.name))
                .or_else(|| target.pk());
            if let Some(pk) = pk {
                out.push(Hop {
                    fk: c,
                    target: ti,
                    pk,
                });
            }
        }
        out
    }
}

/// A foreign key from the base table to another table.
pub(super) struct Hop<'a> {
    pub(super) fk: &'a ColumnInfo,
    pub(super) target: usize,
    pub(super) pk: &'a ColumnInfo,
}

pub(super) fn type_has(c: &ColumnInfo, parts: &[&str]) -> bool {
    let t = c.data_type.to_lowercase();
    parts.iter().any(|p| t.contains(p))
}

pub(super) fn is_numeric(c: &ColumnInfo) -> bool {
    type_has(
        c,
        &[
            "int", "real", "float", "double", "decimal", "numeric", "number", "money", "serial",
        ],
    ) || c.data_type.trim().is_empty()
}

pub(super) fn is_texty(c: &ColumnInfo) -> bool {
    type_has(c, &["char", "text", "string", "clob"])
}

pub(super) fn is_date_typed(c: &ColumnInfo) -> bool {
    type_has(c, &["date", "time"]) && !type_has(c, &["interval"])
}

/// Keys are never measures nor groups: primary keys and `*_id`/`*_key` columns.
pub(super) fn is_key(c: &ColumnInfo) -> bool {
    let toks = name_tokens(&c.name);
    c.primary_key
        || toks.as_slice() == ["id"]
        || (toks.len() > 1
            && toks
                .last()
                .is_some_and(|t| matches!(t.as_str(), "id" | "key" | "fk")))
}

/// How date-like a column is (lower is better), for "latest" and "per month".
pub(super) fn date_rank(c: &ColumnInfo, core: &[String]) -> Option<i32> {
    if is_key(c) {
        return None;
    }
    let toks = name_tokens(&c.name);
    let has = |t: &str| toks.iter().any(|x| x == t);
    if has("date") && toks.iter().all(|t| t == "date" || core.contains(t)) {
        Some(0)
    } else if has("date") && (is_date_typed(c) || is_texty(c) || c.data_type.is_empty()) {
        Some(1)
    } else if is_date_typed(c) {
        Some(2)
    } else if (has("time") || has("timestamp") || toks.last().is_some_and(|t| t == "at"))
        && !is_numeric(c)
    {
        Some(3)
    } else {
        None
    }
}

// ───────────────────────────── queries ─────────────────────────────
