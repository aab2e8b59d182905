//! Property-based tests: every function that reads client or LLM text (the statement
//! splitter and command parser, the guard, the LLM plan parser, the MongoDB SQL
//! translator, the catalog translator, the shared lexer and bounds) never panics and
//! finishes in bounded time, on arbitrary strings and on generated SQL-ish strings.
//!
//! Plus deterministic hostile shapes (huge flat expressions, deep brackets, many dollar
//! quotes) run on a thread with a 2 MiB stack, the smallest any runtime thread has.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use dbguru::backends::mongodb::introspect::{CollectionSchema, FieldInfo, FieldType};
use dbguru::backends::{ColumnInfo, Dialect, SchemaInfo, TableInfo};
use dbguru::engine::{guard, plan};
use dbguru::sql::{lexer, limits};
use dbguru::wire::{catalog, command};

const DIALECTS: [Dialect; 5] = [
    Dialect::Postgres,
    Dialect::Mysql,
    Dialect::Sqlite,
    Dialect::Duckdb,
    Dialect::Mongodb,
];

/// Pieces SQL is made of, including every quoting and comment form and known attacks.
const PIECES: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "TABLE",
    "VALUES",
    "WITH",
    "AS",
    "UNION",
    "EXPLAIN",
    "ASK",
    "EXPLAIN ASK",
    "ON",
    "SET",
    "SHOW",
    "RESET",
    "BEGIN",
    "INTO",
    "OUTFILE",
    "TO",
    "PROGRAM",
    "COPY",
    "DELETE",
    "INSERT",
    "LIMIT",
    "ORDER BY",
    "GROUP BY",
    "JOIN",
    "AND",
    "OR",
    "NOT",
    "IS NULL",
    "IN",
    "CASE",
    "WHEN",
    "THEN",
    "END",
    "t",
    "customers",
    "a",
    "b",
    "events",
    "pg_catalog.pg_class",
    "information_schema.tables",
    "dbguru.sessions",
    "1",
    "42",
    "1.5",
    "-1",
    "+",
    "-",
    "*",
    "/",
    "||",
    "=",
    "<>",
    "::",
    "->>",
    "?",
    "$1",
    "$2",
    "@",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ".",
    "'",
    "''",
    "'x'",
    "'it''s'",
    "E'\\''",
    "\\",
    "\"",
    "\"q\"",
    "`",
    "`b`",
    "$$",
    "$a$",
    "$$x;y$$",
    "--",
    "-- c\n",
    "#",
    "/*",
    "*/",
    "/* c */",
    "/*!",
    "/*M!",
    "/*!50000",
    "/*+ h */",
    "set_config",
    "query_to_xml",
    "pg_sleep",
    "load_file",
    "read_csv",
    "'/etc/passwd'",
    "count(*)",
    "sum(a)",
    "U&\"x\"",
    "é",
    "\u{0}",
    "\u{feff}",
    "{\"collection\": \"events\", \"pipeline\": []}",
    "DATABASE: shop",
    "DATABASE: other",
    "```sql",
    "```",
];

fn sqlish() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(PIECES);
    let sep = prop::sample::select(&["", " ", " ", " ", "\t", "\n"][..]);
    prop::collection::vec((piece, sep), 0..40)
        .prop_map(|v| v.into_iter().map(|(p, s)| format!("{p}{s}")).collect())
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), sqlish(), "[ -~\\n\\t]{0,120}"]
}

/// Fails when `f` takes longer than `limit`.
fn bounded<T>(what: &str, input: &str, limit: Duration, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let r = f();
    let took = started.elapsed();
    assert!(
        took < limit,
        "{what} took {took:?} on {} bytes: {:?}",
        input.len(),
        input.chars().take(200).collect::<String>()
    );
    r
}

const QUICK: Duration = Duration::from_secs(2);

fn mongo_schema() -> CollectionSchema {
    let field = |path: &str, ty| FieldInfo {
        path: path.into(),
        ty,
        element: None,
        present: 10,
        sampled: 10,
    };
    CollectionSchema {
        name: "events".into(),
        sampled: 10,
        fields: vec![
            field("kind", FieldType::String),
            field("a", FieldType::Int),
            field("b", FieldType::Double),
            field("at", FieldType::Date),
        ],
    }
}

fn catalog_schemas() -> Vec<catalog::CatalogSchema> {
    let col = |name: &str, ty: &str| ColumnInfo {
        name: name.into(),
        data_type: ty.into(),
        primary_key: name == "id",
        nullable: true,
        ..Default::default()
    };
    vec![catalog::CatalogSchema {
        keys: Default::default(),
        name: "shop".into(),
        schema: SchemaInfo {
            database: "shop".into(),
            tables: vec![TableInfo {
                name: "customers".into(),
                columns: vec![col("id", "integer"), col("name", "text")],
                ..Default::default()
            }],
        },
    }]
}

fn run_guard(s: &str) {
    for d in DIALECTS {
        for allow_write in [false, true] {
            if let Ok(c) = guard::check(s, d, allow_write, Some(11)) {
                // What is sent passes the checks itself.
                assert!(
                    guard::check(&c.sql, d, allow_write, None).is_ok(),
                    "{d:?}: {s:?} became {:?}, which fails its own check",
                    c.sql
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn lexer_tokens_cover_the_input_in_order(s in text()) {
        bounded("lexer", &s, QUICK, || {
            for mode in lexer::ALL_MODES {
                let mut end = 0;
                for t in lexer::tokens(&s, mode) {
                    prop_assert!(t.start >= end, "overlap at {}", t.start);
                    prop_assert!(!t.text.is_empty());
                    prop_assert_eq!(&s[t.start..t.start + t.text.len()], t.text);
                    end = t.start + t.text.len();
                }
                let _ = limits::check(&s);
            }
            Ok(())
        })?;
    }

    #[test]
    fn splitter_and_command_parser_never_panic(s in text()) {
        bounded("split/parse", &s, QUICK, || {
            let _ = command::parse(&s);
            if let Ok(parts) = command::split_statements(&s) {
                for p in parts {
                    let _ = command::parse(&p);
                }
            }
        });
    }

    #[test]
    fn guard_never_panics_and_sends_only_checked_text(
        prefix in prop::sample::select(&["", "SELECT ", "SELECT a FROM t WHERE ", "TABLE "][..]),
        s in text(),
    ) {
        let s = format!("{prefix}{s}");
        bounded("guard", &s, QUICK, || run_guard(&s));
    }

    #[test]
    fn plan_parser_never_panics(body in text(), header in prop::sample::select(&["DATABASE: shop\n", "database: SHOP\n", "", "DATABASE: nope\n", "## DATABASE: **warehouse**\n"][..])) {
        let reply = format!("{header}{body}");
        let known = vec!["shop".to_string(), "warehouse".to_string()];
        bounded("plan", &reply, QUICK, || {
            if let Ok(p) = plan::parse_reply(&reply, &known) {
                for q in &p {
                    let _ = guard::check(&q.sql, Dialect::Postgres, false, Some(11));
                }
                let _ = plan::render(&p);
            }
        });
    }

    #[test]
    fn mongodb_translator_never_panics(s in text()) {
        let schema = mongo_schema();
        bounded("mongodb sql", &s, QUICK, || {
            if let Ok(st) = dbguru::backends::mongodb::sql::parse(&s, &["shop"]) {
                let _ = st.translate(&schema);
            }
        });
    }

    #[test]
    fn mongodb_translator_on_selects(tail in sqlish()) {
        let s = format!("SELECT kind, a FROM events WHERE {tail}");
        let schema = mongo_schema();
        bounded("mongodb sql", &s, QUICK, || {
            if let Ok(st) = dbguru::backends::mongodb::sql::parse(&s, &["shop"]) {
                let _ = st.translate(&schema);
            }
        });
    }
}

proptest! {
    // The catalog translator runs its answer on an in-memory SQLite: fewer cases.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn catalog_translator_never_panics(s in text(), prefix in prop::sample::select(&["", "SELECT relname FROM pg_catalog.pg_class WHERE ", "SELECT * FROM information_schema.tables WHERE "][..])) {
        let s = format!("{prefix}{s}");
        let schemas = catalog_schemas();
        bounded("catalog", &s, QUICK, || {
            if catalog::is_catalog_query(&s) {
                let _ = catalog::answer(&s, &schemas);
            }
        });
    }
}

/// Runs `f` on a thread with a 2 MiB stack (a tokio worker's default).
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic");
}

fn hostile_shapes() -> Vec<(&'static str, String)> {
    vec![
        ("plus", format!("SELECT 1{}", "+1".repeat(100_000))),
        ("concat", format!("SELECT 'x'{}", " || 'x'".repeat(100_000))),
        (
            "or",
            format!("SELECT * FROM t WHERE a = 1{}", " OR a = 1".repeat(50_000)),
        ),
        (
            "union",
            format!("SELECT 1, 2{}", " UNION SELECT 1, 2".repeat(30_000)),
        ),
        ("cast", format!("SELECT 1{}", "::int".repeat(50_000))),
        (
            "parens",
            format!("SELECT {}1{}", "(".repeat(50_000), ")".repeat(50_000)),
        ),
        ("not", format!("SELECT {}1", "NOT ".repeat(50_000))),
        ("minus", format!("SELECT {}1", "- ".repeat(50_000))),
        ("subscript", format!("SELECT a{}", "[1]".repeat(50_000))),
        ("dollars", format!("SELECT {}", "$$$$".repeat(100_000))),
        ("tags", format!("SELECT {}", "$a$x$a$ ".repeat(50_000))),
        ("comments", format!("SELECT 1 {}", "/* ".repeat(100_000))),
        ("quotes", format!("SELECT {}", "'',".repeat(100_000))),
        (
            "nested joins",
            format!(
                "SELECT 1 FROM t0{}{}",
                " JOIN t".repeat(2000),
                " ON TRUE".repeat(2000)
            ),
        ),
        (
            "joins near the bound",
            format!(
                "SELECT 1 FROM t0{}{}",
                " JOIN t".repeat(99),
                " ON TRUE".repeat(99)
            ),
        ),
        ("near the bound", format!("SELECT 1{}", "+1".repeat(9_900))),
        (
            "union near the bound",
            format!("SELECT 1{}", " UNION SELECT 1".repeat(9_900)),
        ),
    ]
}

#[test]
fn hostile_shapes_are_bounded_everywhere_on_a_small_stack() {
    for (name, sql) in hostile_shapes() {
        on_small_stack(move || {
            let limit = Duration::from_secs(20);
            bounded(name, &sql, limit, || run_guard(&sql));
            bounded(name, &sql, limit, || {
                let _ = command::split_statements(&sql);
                let _ = command::parse(&sql);
            });
            bounded(name, &sql, limit, || {
                if let Ok(st) = dbguru::backends::mongodb::sql::parse(&sql, &["shop"]) {
                    let _ = st.translate(&mongo_schema());
                }
            });
            bounded(name, &sql, limit, || {
                let s = format!("{sql} FROM pg_catalog.pg_class");
                if catalog::is_catalog_query(&s) {
                    let _ = catalog::answer(&s, &catalog_schemas());
                }
            });
            let reply = format!("DATABASE: shop\n{sql}");
            bounded(name, &reply, limit, || {
                let p = plan::parse_reply(&reply, &["shop".to_string()]).expect("one block");
                let _ = guard::check(&p[0].sql, Dialect::Postgres, false, Some(11));
            });
        });
    }
}

#[test]
fn the_huge_expression_is_54001_everywhere() {
    let sql = format!("SELECT 1{}", "+1".repeat(100_000));
    for d in DIALECTS {
        match guard::check(&sql, d, false, Some(11)) {
            Err(guard::GuardError::Limit(l)) => assert_eq!(l.sqlstate(), "54001", "{d:?}"),
            other => panic!("{d:?}: {other:?}"),
        }
    }
}
