//! The emulated catalog: relations with stable OIDs, and the in-memory SQLite database
//! holding `pg_catalog` and `information_schema` tables filled from them.

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;

use crate::pgtypes::PgType;

use super::{pg_decl, CatalogSchema, PgDecl};

/// `pg_catalog`'s namespace OID.
pub const PG_CATALOG_OID: i64 = 11;
/// `information_schema`'s namespace OID.
pub const INFORMATION_SCHEMA_OID: i64 = 13_000;
/// The one role every object belongs to.
pub const OWNER_OID: i64 = 10;
/// The owner's name, as `pg_get_userbyid` prints it.
pub const OWNER_NAME: &str = "dbguru";
/// The database's name (`current_database()`).
pub const DATABASE: &str = "dbguru";
/// `pg_am` OIDs.
const HEAP_AM: i64 = 2;
const BTREE_AM: i64 = 403;
/// The `default` collation.
const DEFAULT_COLLATION: i64 = 100;

/// Every built-in type dbguru emits.
pub const ALL_TYPES: [PgType; 15] = [
    PgType::Bool,
    PgType::Bytea,
    PgType::Int8,
    PgType::Int2,
    PgType::Int4,
    PgType::Text,
    PgType::Json,
    PgType::Float4,
    PgType::Float8,
    PgType::Date,
    PgType::Time,
    PgType::Timestamp,
    PgType::TimestampTz,
    PgType::Numeric,
    PgType::Uuid,
];

/// `pg_type` facts of one built-in type.
pub struct TypeFacts {
    /// `typname` (`int4`).
    pub typname: &'static str,
    /// `typbyval`.
    pub byval: bool,
    /// `typcategory` (`N`, `S`, …).
    pub category: &'static str,
    /// `typalign`.
    pub align: &'static str,
    /// `typstorage` (also `attstorage` of columns of this type).
    pub storage: &'static str,
    /// `typarray`: the OID of the array type.
    pub array_oid: i64,
    /// `typispreferred`.
    pub preferred: bool,
    /// `information_schema.columns.numeric_precision` (and radix 2 or 10).
    pub precision: Option<(i64, i64)>,
    /// `information_schema.columns.datetime_precision`.
    pub datetime_precision: Option<i64>,
}

/// The `pg_type` facts of `t`.
pub fn type_facts(t: PgType) -> TypeFacts {
    let f = |typname, byval, category, align, storage, array_oid, preferred| TypeFacts {
        typname,
        byval,
        category,
        align,
        storage,
        array_oid,
        preferred,
        precision: None,
        datetime_precision: None,
    };
    match t {
        PgType::Bool => f("bool", true, "B", "c", "p", 1000, true),
        PgType::Int2 => TypeFacts {
            precision: Some((16, 2)),
            ..f("int2", true, "N", "s", "p", 1005, false)
        },
        PgType::Int4 => TypeFacts {
            precision: Some((32, 2)),
            ..f("int4", true, "N", "i", "p", 1007, false)
        },
        PgType::Int8 => TypeFacts {
            precision: Some((64, 2)),
            ..f("int8", true, "N", "d", "p", 1016, false)
        },
        PgType::Float4 => TypeFacts {
            precision: Some((24, 2)),
            ..f("float4", true, "N", "i", "p", 1021, false)
        },
        PgType::Float8 => TypeFacts {
            precision: Some((53, 2)),
            ..f("float8", true, "N", "d", "p", 1022, true)
        },
        PgType::Numeric => f("numeric", false, "N", "i", "m", 1231, false),
        PgType::Text => f("text", false, "S", "i", "x", 1009, true),
        PgType::Bytea => f("bytea", false, "U", "i", "x", 1001, false),
        PgType::Date => TypeFacts {
            datetime_precision: Some(0),
            ..f("date", true, "D", "i", "p", 1182, false)
        },
        PgType::Timestamp => TypeFacts {
            datetime_precision: Some(6),
            ..f("timestamp", true, "D", "d", "p", 1115, false)
        },
        PgType::TimestampTz => TypeFacts {
            datetime_precision: Some(6),
            ..f("timestamptz", true, "D", "d", "p", 1185, true)
        },
        PgType::Time => TypeFacts {
            datetime_precision: Some(6),
            ..f("time", true, "D", "d", "p", 1183, false)
        },
        PgType::Json => f("json", false, "U", "i", "x", 199, false),
        PgType::Uuid => f("uuid", false, "U", "c", "p", 2951, false),
    }
}

fn collation_of(t: PgType) -> i64 {
    if t == PgType::Text {
        DEFAULT_COLLATION
    } else {
        0
    }
}

/// OIDs of the system catalogs themselves (for `'pg_class'::regclass`).
pub const SYSTEM_RELATIONS: &[(&str, i64)] = &[
    ("pg_type", 1247),
    ("pg_attribute", 1249),
    ("pg_proc", 1255),
    ("pg_class", 1259),
    ("pg_authid", 1260),
    ("pg_database", 1262),
    ("pg_tablespace", 1213),
    ("pg_am", 2601),
    ("pg_attrdef", 2604),
    ("pg_constraint", 2606),
    ("pg_depend", 2608),
    ("pg_description", 2609),
    ("pg_index", 2610),
    ("pg_inherits", 2611),
    ("pg_language", 2612),
    ("pg_namespace", 2615),
    ("pg_rewrite", 2618),
    ("pg_trigger", 2620),
    ("pg_sequence", 2224),
    ("pg_extension", 3079),
    ("pg_foreign_table", 3118),
    ("pg_policy", 3256),
    ("pg_statistic_ext", 3381),
    ("pg_collation", 3456),
    ("pg_enum", 3501),
    ("pg_publication", 6104),
    ("pg_roles", 12_001),
    ("pg_user", 12_002),
    ("pg_settings", 12_003),
    ("pg_tables", 12_004),
    ("pg_indexes", 12_005),
];

/// One column of a relation.
#[derive(Debug, Clone)]
pub struct Column {
    /// Column name as the database spells it.
    pub name: String,
    /// Its PostgreSQL type.
    pub decl: PgDecl,
    /// `attnotnull`.
    pub not_null: bool,
}

/// A table (from a connection) or the primary-key index of one.
#[derive(Debug, Clone)]
pub struct Relation {
    /// Stable OID.
    pub oid: i64,
    /// `relname`.
    pub name: String,
    /// Index of its schema in [`Model::namespaces`].
    pub namespace: usize,
    /// `'r'` or `'i'`.
    pub kind: char,
    /// Columns in `attnum` order.
    pub columns: Vec<Column>,
    /// Tables: attnums of the primary key, in key order.
    pub pk: Vec<i64>,
    /// Tables: the primary-key index's relation index in [`Model::relations`] and the
    /// constraint's OID.
    pub pk_index: Option<(usize, i64)>,
}

/// A schema.
#[derive(Debug, Clone)]
pub struct Namespace {
    /// Stable OID (fixed for `pg_catalog` and `information_schema`).
    pub oid: i64,
    /// `nspname`.
    pub name: String,
}

/// The catalog's contents, before they go into SQLite.
#[derive(Debug)]
pub struct Model {
    /// `pg_catalog`, `information_schema`, then one schema per connection.
    pub namespaces: Vec<Namespace>,
    /// Tables and their primary-key indexes.
    pub relations: Vec<Relation>,
    /// The schemas it was built from (their keys and indexes fill the catalog too).
    pub schemas: Vec<CatalogSchema>,
}

/// FNV-1a: a stable hash, so OIDs survive restarts and other tables coming and going.
fn fnv(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

struct OidAlloc(HashSet<i64>);

impl OidAlloc {
    fn get(&mut self, key: &str) -> i64 {
        const FIRST: i64 = 16_384;
        const SPAN: i64 = 0x7FFF_FFFF - FIRST;
        let mut oid = FIRST + i64::from(fnv(key)) % SPAN;
        while !self.0.insert(oid) {
            oid = FIRST + (oid - FIRST + 1) % SPAN;
        }
        oid
    }
}

/// PostgreSQL's reserved key words (which `quote_ident` quotes).
pub const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

/// Quotes an identifier the way PostgreSQL's `quote_ident` does.
pub fn quote_ident(s: &str) -> String {
    let simple = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if simple && !RESERVED.contains(&s) {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

impl Model {
    /// The catalog of `schemas` (in the order given).
    pub fn new(schemas: &[CatalogSchema]) -> Model {
        let mut alloc = OidAlloc(HashSet::new());
        let mut namespaces = vec![
            Namespace {
                oid: PG_CATALOG_OID,
                name: "pg_catalog".into(),
            },
            Namespace {
                oid: INFORMATION_SCHEMA_OID,
                name: "information_schema".into(),
            },
        ];
        alloc.0.extend([PG_CATALOG_OID, INFORMATION_SCHEMA_OID]);
        let mut relations = Vec::new();
        for s in schemas {
            if namespaces.iter().any(|n| n.name == s.name) {
                continue;
            }
            let ns = namespaces.len();
            namespaces.push(Namespace {
                oid: alloc.get(&format!("n:{}", s.name)),
                name: s.name.clone(),
            });
            let mut names: HashSet<String> =
                s.schema.tables.iter().map(|t| t.name.clone()).collect();
            for t in &s.schema.tables {
                let key = format!("{}.{}", s.name, t.name);
                let columns: Vec<Column> = t
                    .columns
                    .iter()
                    .map(|c| Column {
                        name: c.name.clone(),
                        decl: pg_decl(&c.data_type),
                        not_null: !c.nullable || c.primary_key,
                    })
                    .collect();
                let pk: Vec<i64> = t
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.primary_key)
                    .map(|(i, _)| i as i64 + 1)
                    .collect();
                let table_idx = relations.len();
                relations.push(Relation {
                    oid: alloc.get(&format!("r:{key}")),
                    name: t.name.clone(),
                    namespace: ns,
                    kind: 'r',
                    columns,
                    pk: pk.clone(),
                    pk_index: None,
                });
                if !pk.is_empty() {
                    let mut index_name = format!("{}_pkey", t.name);
                    let mut n = 1;
                    while names.contains(&index_name) {
                        index_name = format!("{}_pkey{n}", t.name);
                        n += 1;
                    }
                    names.insert(index_name.clone());
                    let index_columns = pk
                        .iter()
                        .filter_map(|a| relations[table_idx].columns.get(*a as usize - 1).cloned())
                        .collect();
                    let index_idx = relations.len();
                    relations.push(Relation {
                        oid: alloc.get(&format!("i:{key}")),
                        name: index_name,
                        namespace: ns,
                        kind: 'i',
                        columns: index_columns,
                        pk: Vec::new(),
                        pk_index: None,
                    });
                    relations[table_idx].pk_index =
                        Some((index_idx, alloc.get(&format!("c:{key}"))));
                }
            }
        }
        Model {
            namespaces,
            relations,
            schemas: schemas.to_vec(),
        }
    }

    /// The schema-qualified, quoted name of relation `r` (`shop.orders`).
    pub fn qualified(&self, r: &Relation) -> String {
        format!(
            "{}.{}",
            quote_ident(&self.namespaces[r.namespace].name),
            quote_ident(&r.name)
        )
    }

    /// The OID `'name'::regclass` stands for (`schema.table`, `table`, or a system
    /// catalog), with PostgreSQL's identifier rules and a case-insensitive fallback.
    pub fn regclass(&self, text: &str) -> Option<i64> {
        let parts = split_qualified(text)?;
        let (schema, name) = match parts.as_slice() {
            [name] => (None, name.clone()),
            [schema, name] => (Some(schema.clone()), name.clone()),
            [_, schema, name] => (Some(schema.clone()), name.clone()),
            _ => return None,
        };
        if schema.as_deref().is_none_or(|s| s == "pg_catalog") {
            if let Some((_, oid)) = SYSTEM_RELATIONS.iter().find(|(n, _)| *n == name) {
                return Some(*oid);
            }
        }
        let find = |exact: bool| {
            let eq = |a: &str, b: &str| {
                if exact {
                    a == b
                } else {
                    a.eq_ignore_ascii_case(b)
                }
            };
            let hits: Vec<i64> = self
                .relations
                .iter()
                .filter(|r| {
                    eq(&r.name, &name)
                        && schema
                            .as_deref()
                            .is_none_or(|s| eq(&self.namespaces[r.namespace].name, s))
                })
                .map(|r| r.oid)
                .collect();
            (hits.len() == 1).then(|| hits[0])
        };
        find(true).or_else(|| find(false))
    }

    /// The OID of a namespace by name.
    pub fn regnamespace(&self, text: &str) -> Option<i64> {
        let parts = split_qualified(text)?;
        let [name] = parts.as_slice() else {
            return None;
        };
        self.namespaces
            .iter()
            .find(|n| n.name == *name)
            .map(|n| n.oid)
    }

    /// The OID `'name'::regtype` stands for (`int4`, `integer`, `pg_catalog.text`, …).
    pub fn regtype(text: &str) -> Option<i64> {
        let t = text.trim().to_ascii_lowercase();
        let t = t
            .strip_prefix("pg_catalog.")
            .unwrap_or(&t)
            .trim_matches('"');
        let alias = match t {
            "int" => "int4",
            "boolean" => "bool",
            "decimal" => "numeric",
            "float" => "float8",
            other => other,
        };
        ALL_TYPES
            .iter()
            .find(|ty| type_facts(**ty).typname == alias || ty.sql_name() == alias)
            .map(|ty| i64::from(ty.oid()))
    }

    /// Fills a fresh in-memory SQLite database with the catalog tables.
    pub fn database(&self) -> Result<Connection, String> {
        let conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
        // Double-quoted strings are identifiers, never string literals.
        for c in [
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_DQS_DML,
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_DQS_DDL,
        ] {
            conn.set_db_config(c, false).map_err(|e| e.to_string())?;
        }
        conn.execute_batch(
            "ATTACH DATABASE ':memory:' AS pg_catalog; ATTACH DATABASE ':memory:' AS information_schema; \
             PRAGMA case_sensitive_like = ON;",
        )
        .map_err(|e| e.to_string())?;
        conn.execute_batch(DDL)
            .map_err(|e| format!("catalog DDL: {e}"))?;
        self.fill(&conn).map_err(|e| format!("catalog rows: {e}"))?;
        super::keys::fill(self, &self.schemas, &conn).map_err(|e| format!("catalog keys: {e}"))?;
        conn.execute_batch("PRAGMA query_only = ON;")
            .map_err(|e| e.to_string())?;
        Ok(conn)
    }

    fn fill(&self, conn: &Connection) -> rusqlite::Result<()> {
        use SqlValue::{Integer as I, Null, Text as T};
        let b = |v: bool| I(i64::from(v));
        let t = |s: &str| T(s.to_string());
        let mut rows: HashMap<&'static str, Vec<Vec<SqlValue>>> = HashMap::new();
        let mut push =
            |table: &'static str, row: Vec<SqlValue>| rows.entry(table).or_default().push(row);

        for n in &self.namespaces {
            push("pg_namespace", vec![I(n.oid), t(&n.name)]);
            push("schemata", vec![t(DATABASE), t(&n.name), t(OWNER_NAME)]);
        }
        for ty in ALL_TYPES {
            let f = type_facts(ty);
            let oid = i64::from(ty.oid());
            push(
                "pg_type",
                vec![
                    I(oid),
                    t(f.typname),
                    I(i64::from(ty.typlen())),
                    b(f.byval),
                    t(f.category),
                    b(f.preferred),
                    I(0),
                    I(f.array_oid),
                    t(&format!("{}in", f.typname)),
                    t(&format!("{}out", f.typname)),
                    t(&format!("{}recv", f.typname)),
                    t(&format!("{}send", f.typname)),
                    t(f.align),
                    t(f.storage),
                    I(collation_of(ty)),
                    t("-"),
                ],
            );
            push(
                "pg_type",
                vec![
                    I(f.array_oid),
                    t(&format!("_{}", f.typname)),
                    I(-1),
                    b(false),
                    t("A"),
                    b(false),
                    I(oid),
                    I(0),
                    t("array_in"),
                    t("array_out"),
                    t("array_recv"),
                    t("array_send"),
                    t(if f.align == "d" { "d" } else { "i" }),
                    t("x"),
                    I(collation_of(ty)),
                    t("array_subscript_handler"),
                ],
            );
            push("__format_type", vec![I(oid), t(ty.sql_name())]);
            push(
                "__format_type",
                vec![I(f.array_oid), t(&format!("{}[]", ty.sql_name()))],
            );
        }
        for (name, oid) in SYSTEM_RELATIONS {
            push("__regclass", vec![I(*oid), t(name)]);
        }
        for r in &self.relations {
            let ns = &self.namespaces[r.namespace];
            let qualified = self.qualified(r);
            push("__regclass", vec![I(r.oid), t(&qualified)]);
            let has_index = r.pk_index.is_some();
            push(
                "pg_class",
                vec![
                    I(r.oid),
                    t(&r.name),
                    I(ns.oid),
                    t(&r.kind.to_string()),
                    I(if r.kind == 'i' { BTREE_AM } else { HEAP_AM }),
                    b(has_index),
                    I(r.columns.len() as i64),
                ],
            );
            for (i, c) in r.columns.iter().enumerate() {
                let ty = c.decl.ty;
                let f = type_facts(ty);
                let attnum = i as i64 + 1;
                push(
                    "pg_attribute",
                    vec![
                        I(r.oid),
                        t(&c.name),
                        I(i64::from(ty.oid())),
                        I(i64::from(ty.typlen())),
                        I(attnum),
                        I(i64::from(c.decl.typmod)),
                        b(f.byval),
                        t(f.align),
                        t(f.storage),
                        b(c.not_null),
                        I(collation_of(ty)),
                    ],
                );
                if r.kind != 'r' {
                    continue;
                }
                let (precision, radix, scale) = match (ty, f.precision) {
                    (PgType::Numeric, _) if c.decl.typmod >= 4 => {
                        let m = i64::from(c.decl.typmod) - 4;
                        (I((m >> 16) & 0xffff), I(10), I(m & 0xffff))
                    }
                    (PgType::Numeric, _) => (Null, I(10), Null),
                    (PgType::Float4 | PgType::Float8, Some((p, r))) => (I(p), I(r), Null),
                    (_, Some((p, r))) => (I(p), I(r), I(0)),
                    _ => (Null, Null, Null),
                };
                push(
                    "columns",
                    vec![
                        t(DATABASE),
                        t(&ns.name),
                        t(&r.name),
                        t(&c.name),
                        I(attnum),
                        t(if c.not_null { "NO" } else { "YES" }),
                        t(ty.sql_name()),
                        if ty == PgType::Text {
                            I(1_073_741_824)
                        } else {
                            Null
                        },
                        precision,
                        radix,
                        scale,
                        f.datetime_precision.map(I).unwrap_or(Null),
                        t(DATABASE),
                        t("pg_catalog"),
                        t(f.typname),
                        t(&attnum.to_string()),
                    ],
                );
            }
            if r.kind == 'r' {
                push(
                    "tables",
                    vec![
                        t(DATABASE),
                        t(&ns.name),
                        t(&r.name),
                        t("BASE TABLE"),
                        t("YES"),
                        t("NO"),
                    ],
                );
                push(
                    "pg_tables",
                    vec![t(&ns.name), t(&r.name), t(OWNER_NAME), b(has_index)],
                );
            }
            if let Some((index_idx, con_oid)) = r.pk_index {
                let index = &self.relations[index_idx];
                let cols: Vec<String> =
                    index.columns.iter().map(|c| quote_ident(&c.name)).collect();
                let indexdef = format!(
                    "CREATE UNIQUE INDEX {} ON {qualified} USING btree ({})",
                    quote_ident(&index.name),
                    cols.join(", ")
                );
                let condef = format!("PRIMARY KEY ({})", cols.join(", "));
                let indkey: Vec<String> = r.pk.iter().map(|a| a.to_string()).collect();
                push(
                    "pg_index",
                    vec![
                        I(index.oid),
                        I(r.oid),
                        I(r.pk.len() as i64),
                        t(&indkey.join(" ")),
                    ],
                );
                push(
                    "pg_constraint",
                    vec![
                        I(con_oid),
                        t(&index.name),
                        I(ns.oid),
                        t("p"),
                        I(r.oid),
                        I(index.oid),
                        t(&format!("{{{}}}", indkey.join(","))),
                    ],
                );
                push("__indexdef", vec![I(index.oid), t(&indexdef)]);
                push("__constraintdef", vec![I(con_oid), t(&condef)]);
                push(
                    "pg_indexes",
                    vec![t(&ns.name), t(&r.name), t(&index.name), t(&indexdef)],
                );
                push(
                    "table_constraints",
                    vec![
                        t(DATABASE),
                        t(&ns.name),
                        t(&index.name),
                        t(DATABASE),
                        t(&ns.name),
                        t(&r.name),
                        t("PRIMARY KEY"),
                    ],
                );
                for (pos, a) in r.pk.iter().enumerate() {
                    let col = r
                        .columns
                        .get(*a as usize - 1)
                        .map(|c| c.name.as_str())
                        .unwrap_or_default();
                    push(
                        "key_column_usage",
                        vec![
                            t(DATABASE),
                            t(&ns.name),
                            t(&index.name),
                            t(DATABASE),
                            t(&ns.name),
                            t(&r.name),
                            t(col),
                            I(pos as i64 + 1),
                        ],
                    );
                    push(
                        "constraint_column_usage",
                        vec![
                            t(DATABASE),
                            t(&ns.name),
                            t(&r.name),
                            t(col),
                            t(DATABASE),
                            t(&ns.name),
                            t(&index.name),
                        ],
                    );
                }
            }
        }
        for (name, setting) in SETTINGS {
            push("pg_settings", vec![t(name), t(setting)]);
        }

        let tx = conn.unchecked_transaction()?;
        for (table, sql) in INSERTS {
            let Some(rows) = rows.get(table) else {
                continue;
            };
            let mut stmt = tx.prepare(sql)?;
            for row in rows {
                stmt.execute(rusqlite::params_from_iter(row.iter()))?;
            }
        }
        tx.commit()
    }
}

/// Splits `schema.name` / `"Schema"."Name"` into parts, folding unquoted parts to
/// lower case.
pub fn split_qualified(text: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = text.trim().chars().peekable();
    let mut quoted_part = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted_part = true;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            cur.push('"');
                        }
                        Some('"') => break,
                        Some(c) => cur.push(c),
                        None => return None,
                    }
                }
            }
            '.' => {
                parts.push(std::mem::take(&mut cur));
                quoted_part = false;
            }
            // Text after a closing quote in the same part is malformed.
            _ if quoted_part => return None,
            c => cur.extend(c.to_lowercase()),
        }
    }
    parts.push(cur);
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    Some(parts)
}

/// Run-time parameters in `pg_settings`.
const SETTINGS: &[(&str, &str)] = &[
    ("server_version", "16.6"),
    ("server_version_num", "160006"),
    ("server_encoding", "UTF8"),
    ("client_encoding", "UTF8"),
    ("standard_conforming_strings", "on"),
    ("integer_datetimes", "on"),
    ("DateStyle", "ISO, MDY"),
    ("TimeZone", "UTC"),
    ("IntervalStyle", "postgres"),
    ("search_path", "\"$user\", public"),
    ("max_identifier_length", "63"),
    ("max_index_keys", "32"),
    ("block_size", "8192"),
    ("lc_collate", "C.UTF-8"),
    ("lc_ctype", "C.UTF-8"),
    ("default_transaction_read_only", "off"),
    ("transaction_isolation", "read committed"),
];

/// Catalog tables that are always empty here. A query that inner-joins one of them has no
/// rows, whatever else it says.
pub const EMPTY_TABLES: &[&str] = &[
    "pg_aggregate",
    "pg_attrdef",
    "pg_auth_members",
    "pg_cast",
    "pg_conversion",
    "pg_db_role_setting",
    "pg_default_acl",
    "pg_depend",
    "pg_description",
    "pg_enum",
    "pg_event_trigger",
    "pg_extension",
    "pg_foreign_data_wrapper",
    "pg_foreign_server",
    "pg_foreign_table",
    "pg_inherits",
    "pg_init_privs",
    "pg_language",
    "pg_largeobject_metadata",
    "pg_matviews",
    "pg_opclass",
    "pg_operator",
    "pg_partitioned_table",
    "pg_policies",
    "pg_policy",
    "pg_proc",
    "pg_publication",
    "pg_publication_namespace",
    "pg_publication_rel",
    "pg_range",
    "pg_rewrite",
    "pg_rules",
    "pg_seclabel",
    "pg_sequence",
    "pg_sequences",
    "pg_shdescription",
    "pg_statistic_ext",
    "pg_statistic_ext_data",
    "pg_subscription",
    "pg_subscription_rel",
    "pg_transform",
    "pg_trigger",
    "pg_ts_config",
    "pg_ts_dict",
    "pg_ts_parser",
    "pg_ts_template",
    "pg_user_mapping",
    "pg_views",
    "check_constraints",
    "parameters",
    "routines",
    "sequences",
    "triggers",
    "views",
];

/// Every catalog table name dbguru knows (for deciding whether a query reads the catalog).
pub fn is_catalog_table(name: &str) -> bool {
    CATALOG_TABLES.contains(&name) || (EMPTY_TABLES.contains(&name) && name.starts_with("pg_"))
}

/// The `pg_catalog` tables that have rows (or columns other queries join on).
const CATALOG_TABLES: &[&str] = &[
    "pg_namespace",
    "pg_class",
    "pg_attribute",
    "pg_type",
    "pg_index",
    "pg_constraint",
    "pg_am",
    "pg_roles",
    "pg_user",
    "pg_authid",
    "pg_database",
    "pg_tablespace",
    "pg_collation",
    "pg_settings",
    "pg_tables",
    "pg_indexes",
];

/// INSERT statements for the tables [`Model::fill`] fills, column lists matching its rows.
const INSERTS: &[(&str, &str)] = &[
    ("pg_namespace", "INSERT INTO pg_catalog.pg_namespace (oid, nspname) VALUES (?, ?)"),
    (
        "pg_type",
        "INSERT INTO pg_catalog.pg_type (oid, typname, typlen, typbyval, typcategory, typispreferred, typelem, typarray, \
         typinput, typoutput, typreceive, typsend, typalign, typstorage, typcollation, typsubscript) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    (
        "pg_class",
        "INSERT INTO pg_catalog.pg_class (oid, relname, relnamespace, relkind, relam, relhasindex, relnatts) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    (
        "pg_attribute",
        "INSERT INTO pg_catalog.pg_attribute (attrelid, attname, atttypid, attlen, attnum, atttypmod, attbyval, attalign, \
         attstorage, attnotnull, attcollation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    (
        "pg_index",
        "INSERT INTO pg_catalog.pg_index (indexrelid, indrelid, indnatts, indkey, indnkeyatts, indisunique, indisprimary) \
         VALUES (?1, ?2, ?3, ?4, ?3, 1, 1)",
    ),
    (
        "pg_constraint",
        "INSERT INTO pg_catalog.pg_constraint (oid, conname, connamespace, contype, conrelid, conindid, conkey) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    ("pg_tables", "INSERT INTO pg_catalog.pg_tables (schemaname, tablename, tableowner, hasindexes) VALUES (?, ?, ?, ?)"),
    ("pg_indexes", "INSERT INTO pg_catalog.pg_indexes (schemaname, tablename, indexname, indexdef) VALUES (?, ?, ?, ?)"),
    ("pg_settings", "INSERT INTO pg_catalog.pg_settings (name, setting) VALUES (?, ?)"),
    ("__format_type", "INSERT INTO main.__format_type (typid, name) VALUES (?, ?)"),
    ("__regclass", "INSERT INTO main.__regclass (oid, name) VALUES (?, ?)"),
    ("__indexdef", "INSERT INTO main.__indexdef (oid, def) VALUES (?, ?)"),
    ("__constraintdef", "INSERT INTO main.__constraintdef (oid, def) VALUES (?, ?)"),
    (
        "schemata",
        "INSERT INTO information_schema.schemata (catalog_name, schema_name, schema_owner) VALUES (?, ?, ?)",
    ),
    (
        "tables",
        "INSERT INTO information_schema.tables (table_catalog, table_schema, table_name, table_type, is_insertable_into, is_typed) \
         VALUES (?, ?, ?, ?, ?, ?)",
    ),
    (
        "columns",
        "INSERT INTO information_schema.columns (table_catalog, table_schema, table_name, column_name, ordinal_position, \
         is_nullable, data_type, character_octet_length, numeric_precision, numeric_precision_radix, numeric_scale, \
         datetime_precision, udt_catalog, udt_schema, udt_name, dtd_identifier) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    (
        "table_constraints",
        "INSERT INTO information_schema.table_constraints (constraint_catalog, constraint_schema, constraint_name, \
         table_catalog, table_schema, table_name, constraint_type) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    (
        "key_column_usage",
        "INSERT INTO information_schema.key_column_usage (constraint_catalog, constraint_schema, constraint_name, \
         table_catalog, table_schema, table_name, column_name, ordinal_position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    (
        "constraint_column_usage",
        "INSERT INTO information_schema.constraint_column_usage (table_catalog, table_schema, table_name, column_name, \
         constraint_catalog, constraint_schema, constraint_name) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
];

/// The catalog tables. Declared types name the PostgreSQL type each column is announced
/// as (`INT8` for oid/bigint, `INT4`, `INT2`, `BOOL`, `FLOAT4`, `TEXT`; see `exec`), and
/// give SQLite the matching affinity, so `c.oid = '16392'` compares numbers.
const DDL: &str = r#"
CREATE TABLE main.__format_type (typid INT8, name TEXT);
CREATE TABLE main.__regclass (oid INT8 PRIMARY KEY, name TEXT);
CREATE TABLE main.__indexdef (oid INT8 PRIMARY KEY, def TEXT);
CREATE TABLE main.__constraintdef (oid INT8 PRIMARY KEY, def TEXT);

CREATE TABLE pg_catalog.pg_namespace (oid INT8 PRIMARY KEY, nspname TEXT, nspowner INT8 DEFAULT 10, nspacl TEXT);
CREATE TABLE pg_catalog.pg_class (oid INT8 PRIMARY KEY, relname TEXT, relnamespace INT8, reltype INT8 DEFAULT 0,
  reloftype INT8 DEFAULT 0, relowner INT8 DEFAULT 10, relam INT8 DEFAULT 0, relfilenode INT8 DEFAULT 0,
  reltablespace INT8 DEFAULT 0, relpages INT4 DEFAULT 0, reltuples FLOAT4 DEFAULT -1, relallvisible INT4 DEFAULT 0,
  reltoastrelid INT8 DEFAULT 0, relhasindex BOOL DEFAULT 0, relisshared BOOL DEFAULT 0, relpersistence TEXT DEFAULT 'p',
  relkind TEXT DEFAULT 'r', relnatts INT2 DEFAULT 0, relchecks INT2 DEFAULT 0, relhasrules BOOL DEFAULT 0,
  relhastriggers BOOL DEFAULT 0, relhassubclass BOOL DEFAULT 0, relrowsecurity BOOL DEFAULT 0,
  relforcerowsecurity BOOL DEFAULT 0, relispopulated BOOL DEFAULT 1, relreplident TEXT DEFAULT 'd',
  relispartition BOOL DEFAULT 0, relrewrite INT8 DEFAULT 0, relfrozenxid INT8 DEFAULT 0, relminmxid INT8 DEFAULT 1,
  relacl TEXT, reloptions TEXT, relpartbound TEXT, relhasoids BOOL DEFAULT 0);
CREATE TABLE pg_catalog.pg_attribute (attrelid INT8, attname TEXT, atttypid INT8, attstattarget INT4 DEFAULT -1,
  attlen INT2, attnum INT2, attndims INT4 DEFAULT 0, attcacheoff INT4 DEFAULT -1, atttypmod INT4 DEFAULT -1,
  attbyval BOOL, attalign TEXT, attstorage TEXT, attcompression TEXT DEFAULT '', attnotnull BOOL DEFAULT 0,
  atthasdef BOOL DEFAULT 0, atthasmissing BOOL DEFAULT 0, attidentity TEXT DEFAULT '', attgenerated TEXT DEFAULT '',
  attisdropped BOOL DEFAULT 0, attislocal BOOL DEFAULT 1, attinhcount INT4 DEFAULT 0, attcollation INT8 DEFAULT 0,
  attacl TEXT, attoptions TEXT, attfdwoptions TEXT, attmissingval TEXT);
CREATE TABLE pg_catalog.pg_type (oid INT8 PRIMARY KEY, typname TEXT, typnamespace INT8 DEFAULT 11,
  typowner INT8 DEFAULT 10, typlen INT2, typbyval BOOL, typtype TEXT DEFAULT 'b', typcategory TEXT,
  typispreferred BOOL DEFAULT 0, typisdefined BOOL DEFAULT 1, typdelim TEXT DEFAULT ',', typrelid INT8 DEFAULT 0,
  typsubscript TEXT DEFAULT '-', typelem INT8 DEFAULT 0, typarray INT8 DEFAULT 0, typinput TEXT, typoutput TEXT,
  typreceive TEXT, typsend TEXT, typmodin TEXT DEFAULT '-', typmodout TEXT DEFAULT '-', typanalyze TEXT DEFAULT '-',
  typalign TEXT, typstorage TEXT, typnotnull BOOL DEFAULT 0, typbasetype INT8 DEFAULT 0, typtypmod INT4 DEFAULT -1,
  typndims INT4 DEFAULT 0, typcollation INT8 DEFAULT 0, typdefaultbin TEXT, typdefault TEXT, typacl TEXT);
CREATE TABLE pg_catalog.pg_index (indexrelid INT8 PRIMARY KEY, indrelid INT8, indnatts INT2, indnkeyatts INT2,
  indisunique BOOL, indnullsnotdistinct BOOL DEFAULT 0, indisprimary BOOL, indisexclusion BOOL DEFAULT 0,
  indimmediate BOOL DEFAULT 1, indisclustered BOOL DEFAULT 0, indisvalid BOOL DEFAULT 1, indcheckxmin BOOL DEFAULT 0,
  indisready BOOL DEFAULT 1, indislive BOOL DEFAULT 1, indisreplident BOOL DEFAULT 0, indkey TEXT, indcollation TEXT,
  indclass TEXT, indoption TEXT, indexprs TEXT, indpred TEXT);
CREATE TABLE pg_catalog.pg_constraint (oid INT8 PRIMARY KEY, conname TEXT, connamespace INT8, contype TEXT,
  condeferrable BOOL DEFAULT 0, condeferred BOOL DEFAULT 0, convalidated BOOL DEFAULT 1, conrelid INT8,
  contypid INT8 DEFAULT 0, conindid INT8 DEFAULT 0, conparentid INT8 DEFAULT 0, confrelid INT8 DEFAULT 0,
  confupdtype TEXT DEFAULT ' ', confdeltype TEXT DEFAULT ' ', confmatchtype TEXT DEFAULT ' ',
  conislocal BOOL DEFAULT 1, coninhcount INT4 DEFAULT 0, connoinherit BOOL DEFAULT 1, conkey TEXT, confkey TEXT,
  conpfeqop TEXT, conppeqop TEXT, conffeqop TEXT, confdelsetcols TEXT, conexclop TEXT, conbin TEXT);
CREATE TABLE pg_catalog.pg_am (oid INT8 PRIMARY KEY, amname TEXT, amhandler TEXT, amtype TEXT);
INSERT INTO pg_catalog.pg_am VALUES (2, 'heap', 'heap_tableam_handler', 't'), (403, 'btree', 'bthandler', 'i');
CREATE TABLE pg_catalog.pg_roles (oid INT8 PRIMARY KEY, rolname TEXT, rolsuper BOOL, rolinherit BOOL,
  rolcreaterole BOOL, rolcreatedb BOOL, rolcanlogin BOOL, rolreplication BOOL, rolconnlimit INT4, rolpassword TEXT,
  rolvaliduntil TEXT, rolbypassrls BOOL, rolconfig TEXT);
INSERT INTO pg_catalog.pg_roles VALUES (10, 'dbguru', 0, 1, 0, 0, 1, 0, -1, '********', NULL, 0, NULL);
CREATE TABLE pg_catalog.pg_authid (oid INT8 PRIMARY KEY, rolname TEXT, rolsuper BOOL, rolinherit BOOL,
  rolcreaterole BOOL, rolcreatedb BOOL, rolcanlogin BOOL, rolreplication BOOL, rolbypassrls BOOL, rolconnlimit INT4,
  rolpassword TEXT, rolvaliduntil TEXT);
INSERT INTO pg_catalog.pg_authid VALUES (10, 'dbguru', 0, 1, 0, 0, 1, 0, 0, -1, NULL, NULL);
CREATE TABLE pg_catalog.pg_user (usename TEXT, usesysid INT8, usecreatedb BOOL, usesuper BOOL, userepl BOOL,
  usebypassrls BOOL, passwd TEXT, valuntil TEXT, useconfig TEXT);
INSERT INTO pg_catalog.pg_user VALUES ('dbguru', 10, 0, 0, 0, 0, '********', NULL, NULL);
CREATE TABLE pg_catalog.pg_database (oid INT8 PRIMARY KEY, datname TEXT, datdba INT8, encoding INT4,
  datlocprovider TEXT, datistemplate BOOL, datallowconn BOOL, datconnlimit INT4, datfrozenxid INT8, datminmxid INT8,
  dattablespace INT8, datcollate TEXT, datctype TEXT, daticulocale TEXT, datcollversion TEXT, datacl TEXT);
INSERT INTO pg_catalog.pg_database VALUES (16383, 'dbguru', 10, 6, 'c', 0, 1, -1, 0, 1, 1663, 'C.UTF-8', 'C.UTF-8',
  NULL, NULL, NULL);
CREATE TABLE pg_catalog.pg_tablespace (oid INT8 PRIMARY KEY, spcname TEXT, spcowner INT8, spcacl TEXT, spcoptions TEXT);
INSERT INTO pg_catalog.pg_tablespace VALUES (1663, 'pg_default', 10, NULL, NULL), (1664, 'pg_global', 10, NULL, NULL);
CREATE TABLE pg_catalog.pg_collation (oid INT8 PRIMARY KEY, collname TEXT, collnamespace INT8, collowner INT8,
  collprovider TEXT, collisdeterministic BOOL, collencoding INT4, collcollate TEXT, collctype TEXT, colliculocale TEXT,
  collversion TEXT);
INSERT INTO pg_catalog.pg_collation VALUES (100, 'default', 11, 10, 'd', 1, -1, NULL, NULL, NULL, NULL),
  (950, 'C', 11, 10, 'c', 1, -1, 'C', 'C', NULL, NULL), (951, 'POSIX', 11, 10, 'c', 1, -1, 'POSIX', 'POSIX', NULL, NULL);
CREATE TABLE pg_catalog.pg_settings (name TEXT, setting TEXT, unit TEXT, category TEXT DEFAULT 'dbguru',
  short_desc TEXT, extra_desc TEXT, context TEXT DEFAULT 'user', vartype TEXT DEFAULT 'string',
  source TEXT DEFAULT 'default', min_val TEXT, max_val TEXT, enumvals TEXT, boot_val TEXT, reset_val TEXT,
  sourcefile TEXT, sourceline INT4, pending_restart BOOL DEFAULT 0);
CREATE TABLE pg_catalog.pg_tables (schemaname TEXT, tablename TEXT, tableowner TEXT, tablespace TEXT,
  hasindexes BOOL, hasrules BOOL DEFAULT 0, hastriggers BOOL DEFAULT 0, rowsecurity BOOL DEFAULT 0);
CREATE TABLE pg_catalog.pg_indexes (schemaname TEXT, tablename TEXT, indexname TEXT, tablespace TEXT, indexdef TEXT);

CREATE TABLE pg_catalog.pg_views (schemaname TEXT, viewname TEXT, viewowner TEXT, definition TEXT);
CREATE TABLE pg_catalog.pg_matviews (schemaname TEXT, matviewname TEXT, matviewowner TEXT, tablespace TEXT,
  hasindexes BOOL, ispopulated BOOL, definition TEXT);
CREATE TABLE pg_catalog.pg_description (objoid INT8, classoid INT8, objsubid INT4, description TEXT);
CREATE TABLE pg_catalog.pg_shdescription (objoid INT8, classoid INT8, description TEXT);
CREATE TABLE pg_catalog.pg_attrdef (oid INT8, adrelid INT8, adnum INT2, adbin TEXT);
CREATE TABLE pg_catalog.pg_inherits (inhrelid INT8, inhparent INT8, inhseqno INT4, inhdetachpending BOOL);
CREATE TABLE pg_catalog.pg_trigger (oid INT8, tgrelid INT8, tgparentid INT8, tgname TEXT, tgfoid INT8, tgtype INT2,
  tgenabled TEXT, tgisinternal BOOL, tgconstrrelid INT8, tgconstrindid INT8, tgconstraint INT8, tgdeferrable BOOL,
  tginitdeferred BOOL, tgnargs INT2, tgattr TEXT, tgargs TEXT, tgqual TEXT, tgoldtable TEXT, tgnewtable TEXT);
CREATE TABLE pg_catalog.pg_rewrite (oid INT8, rulename TEXT, ev_class INT8, ev_type TEXT, ev_enabled TEXT,
  is_instead BOOL, ev_qual TEXT, ev_action TEXT);
CREATE TABLE pg_catalog.pg_depend (classid INT8, objid INT8, objsubid INT4, refclassid INT8, refobjid INT8,
  refobjsubid INT4, deptype TEXT);
CREATE TABLE pg_catalog.pg_proc (oid INT8, proname TEXT, pronamespace INT8, proowner INT8, prolang INT8,
  procost FLOAT4, prorows FLOAT4, provariadic INT8, prosupport TEXT, prokind TEXT, prosecdef BOOL, proleakproof BOOL,
  proisstrict BOOL, proretset BOOL, provolatile TEXT, proparallel TEXT, pronargs INT2, pronargdefaults INT2,
  prorettype INT8, proargtypes TEXT, proallargtypes TEXT, proargmodes TEXT, proargnames TEXT, proargdefaults TEXT,
  protrftypes TEXT, prosrc TEXT, probin TEXT, prosqlbody TEXT, proconfig TEXT, proacl TEXT);
CREATE TABLE pg_catalog.pg_extension (oid INT8, extname TEXT, extowner INT8, extnamespace INT8,
  extrelocatable BOOL, extversion TEXT, extconfig TEXT, extcondition TEXT);
CREATE TABLE pg_catalog.pg_sequence (seqrelid INT8, seqtypid INT8, seqstart INT8, seqincrement INT8, seqmax INT8,
  seqmin INT8, seqcache INT8, seqcycle BOOL);
CREATE TABLE pg_catalog.pg_enum (oid INT8, enumtypid INT8, enumsortorder FLOAT4, enumlabel TEXT);
CREATE TABLE pg_catalog.pg_foreign_table (ftrelid INT8, ftserver INT8, ftoptions TEXT);
CREATE TABLE pg_catalog.pg_partitioned_table (partrelid INT8, partstrat TEXT, partnatts INT2, partdefid INT8,
  partattrs TEXT, partclass TEXT, partcollation TEXT, partexprs TEXT);
CREATE TABLE pg_catalog.pg_policy (oid INT8, polname TEXT, polrelid INT8, polcmd TEXT, polpermissive BOOL,
  polroles TEXT, polqual TEXT, polwithcheck TEXT);
CREATE TABLE pg_catalog.pg_statistic_ext (oid INT8, stxrelid INT8, stxname TEXT, stxnamespace INT8, stxowner INT8,
  stxstattarget INT4, stxkeys TEXT, stxkind TEXT, stxexprs TEXT);
CREATE TABLE pg_catalog.pg_publication (oid INT8, pubname TEXT, pubowner INT8, puballtables BOOL, pubinsert BOOL,
  pubupdate BOOL, pubdelete BOOL, pubtruncate BOOL, pubviaroot BOOL);
CREATE TABLE pg_catalog.pg_publication_rel (oid INT8, prpubid INT8, prrelid INT8, prqual TEXT, prattrs TEXT);
CREATE TABLE pg_catalog.pg_publication_namespace (oid INT8, pnpubid INT8, pnnspid INT8);
CREATE TABLE pg_catalog.pg_language (oid INT8, lanname TEXT, lanowner INT8, lanispl BOOL, lanpltrusted BOOL,
  lanplcallfoid INT8, laninline INT8, lanvalidator INT8, lanacl TEXT);
CREATE TABLE pg_catalog.pg_event_trigger (oid INT8, evtname TEXT, evtevent TEXT, evtowner INT8, evtfoid INT8,
  evtenabled TEXT, evttags TEXT);
CREATE TABLE pg_catalog.pg_opclass (oid INT8, opcmethod INT8, opcname TEXT, opcnamespace INT8, opcowner INT8,
  opcfamily INT8, opcintype INT8, opcdefault BOOL, opckeytype INT8);
CREATE TABLE pg_catalog.pg_operator (oid INT8, oprname TEXT, oprnamespace INT8, oprowner INT8, oprkind TEXT,
  oprcanmerge BOOL, oprcanhash BOOL, oprleft INT8, oprright INT8, oprresult INT8, oprcom INT8, oprnegate INT8,
  oprcode TEXT, oprrest TEXT, oprjoin TEXT);
CREATE TABLE pg_catalog.pg_cast (oid INT8, castsource INT8, casttarget INT8, castfunc INT8, castcontext TEXT,
  castmethod TEXT);

CREATE TABLE information_schema.schemata (catalog_name TEXT, schema_name TEXT, schema_owner TEXT,
  default_character_set_catalog TEXT, default_character_set_schema TEXT, default_character_set_name TEXT,
  sql_path TEXT);
CREATE TABLE information_schema.tables (table_catalog TEXT, table_schema TEXT, table_name TEXT, table_type TEXT,
  self_referencing_column_name TEXT, reference_generation TEXT, user_defined_type_catalog TEXT,
  user_defined_type_schema TEXT, user_defined_type_name TEXT, is_insertable_into TEXT, is_typed TEXT,
  commit_action TEXT);
CREATE TABLE information_schema.columns (table_catalog TEXT, table_schema TEXT, table_name TEXT, column_name TEXT,
  ordinal_position INT4, column_default TEXT, is_nullable TEXT, data_type TEXT, character_maximum_length INT4,
  character_octet_length INT4, numeric_precision INT4, numeric_precision_radix INT4, numeric_scale INT4,
  datetime_precision INT4, interval_type TEXT, interval_precision INT4, character_set_catalog TEXT,
  character_set_schema TEXT, character_set_name TEXT, collation_catalog TEXT, collation_schema TEXT,
  collation_name TEXT, domain_catalog TEXT, domain_schema TEXT, domain_name TEXT, udt_catalog TEXT, udt_schema TEXT,
  udt_name TEXT, scope_catalog TEXT, scope_schema TEXT, scope_name TEXT, maximum_cardinality INT4,
  dtd_identifier TEXT, is_self_referencing TEXT DEFAULT 'NO', is_identity TEXT DEFAULT 'NO', identity_generation TEXT,
  identity_start TEXT, identity_increment TEXT, identity_maximum TEXT, identity_minimum TEXT,
  identity_cycle TEXT DEFAULT 'NO', is_generated TEXT DEFAULT 'NEVER', generation_expression TEXT,
  is_updatable TEXT DEFAULT 'YES');
CREATE TABLE information_schema.table_constraints (constraint_catalog TEXT, constraint_schema TEXT,
  constraint_name TEXT, table_catalog TEXT, table_schema TEXT, table_name TEXT, constraint_type TEXT,
  is_deferrable TEXT DEFAULT 'NO', initially_deferred TEXT DEFAULT 'NO', enforced TEXT DEFAULT 'YES',
  nulls_distinct TEXT);
CREATE TABLE information_schema.key_column_usage (constraint_catalog TEXT, constraint_schema TEXT,
  constraint_name TEXT, table_catalog TEXT, table_schema TEXT, table_name TEXT, column_name TEXT,
  ordinal_position INT4, position_in_unique_constraint INT4);
CREATE TABLE information_schema.constraint_column_usage (table_catalog TEXT, table_schema TEXT, table_name TEXT,
  column_name TEXT, constraint_catalog TEXT, constraint_schema TEXT, constraint_name TEXT);
CREATE TABLE information_schema.views (table_catalog TEXT, table_schema TEXT, table_name TEXT,
  view_definition TEXT, check_option TEXT, is_updatable TEXT, is_insertable_into TEXT, is_trigger_updatable TEXT,
  is_trigger_deletable TEXT, is_trigger_insertable_into TEXT);
CREATE TABLE information_schema.referential_constraints (constraint_catalog TEXT, constraint_schema TEXT,
  constraint_name TEXT, unique_constraint_catalog TEXT, unique_constraint_schema TEXT, unique_constraint_name TEXT,
  match_option TEXT, update_rule TEXT, delete_rule TEXT);
CREATE TABLE information_schema.routines (specific_catalog TEXT, specific_schema TEXT, specific_name TEXT,
  routine_catalog TEXT, routine_schema TEXT, routine_name TEXT, routine_type TEXT, data_type TEXT);
CREATE TABLE information_schema.sequences (sequence_catalog TEXT, sequence_schema TEXT, sequence_name TEXT,
  data_type TEXT, numeric_precision INT4, numeric_precision_radix INT4, numeric_scale INT4, start_value TEXT,
  minimum_value TEXT, maximum_value TEXT, increment TEXT, cycle_option TEXT);
CREATE TABLE information_schema.triggers (trigger_catalog TEXT, trigger_schema TEXT, trigger_name TEXT,
  event_manipulation TEXT, event_object_catalog TEXT, event_object_schema TEXT, event_object_table TEXT,
  action_order INT4, action_condition TEXT, action_statement TEXT, action_orientation TEXT, action_timing TEXT);
"#;
