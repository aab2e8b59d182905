//! The prompt: the multi-database schema in the reference guide's format, each
//! database's dialect, the two reply forms (per-database blocks, and one federated
//! `DATABASE: *` block over schema-qualified names), the session's last turns, then the
//! question.

use crate::backends::{Dialect, TableInfo};
use crate::llm::{ChatMessage, DbSchema, Role};

use super::plan::{render, PlannedQuery};

/// One earlier exchange of the session.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// The question asked.
    pub question: String,
    /// The SQL that answered it, per database.
    pub plan: Vec<PlannedQuery>,
    /// A one-line summary of the outcome (`2 databases, 12 rows`).
    pub summary: String,
}

fn dialect_notes(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "PostgreSQL SQL",
        Dialect::Mysql => "MySQL/MariaDB SQL (backtick identifiers, LIMIT n)",
        Dialect::Sqlite => "SQLite SQL (dates are TEXT 'YYYY-MM-DD'; use strftime)",
        Dialect::Duckdb => "DuckDB SQL (PostgreSQL-like; date_trunc, strftime)",
        Dialect::Mongodb => MONGODB_NOTES,
    }
}

/// What a `DATABASE:` block for a MongoDB connection may contain.
const MONGODB_NOTES: &str = r#"MongoDB. Each collection is shown as a table whose columns are field paths found in sampled documents, with their type and the share of documents that have them; array<...> marks arrays; missing fields read as NULL.
Write EITHER one SQL SELECT on ONE collection: fields as paths (address.city or "address.city"), *, aliases, + - * /;
  WHERE with = <> < <= > >=, AND/OR/NOT, IN (...), BETWEEN, LIKE/ILIKE, IS [NOT] NULL (compare date fields with 'YYYY-MM-DD');
  GROUP BY with COUNT(*), COUNT(x), COUNT(DISTINCT x), SUM, AVG, MIN, MAX; HAVING; ORDER BY; LIMIT/OFFSET; SELECT DISTINCT.
  No JOIN, subqueries, CTEs, UNION, window functions, CASE or other functions.
OR, for what that SQL cannot say, a JSON aggregation pipeline in Extended JSON, e.g.
  {"collection": "events", "pipeline": [{"$unwind": "$tags"}, {"$group": {"_id": "$tags", "n": {"$sum": 1}}}]}
  (dates as {"$date": "2024-01-01T00:00:00Z"}; never $out, $merge, $function, $accumulator or $where)."#;

/// Renders the combined schema block.
pub fn schema_text(dbs: &[(i64, DbSchema)]) -> String {
    let tables: usize = dbs.iter().map(|(_, d)| d.schema.tables.len()).sum();
    let mut s = schema_title(tables, dbs.len());
    for (id, db) in dbs {
        s.push_str(&database_header(*id, db));
        for t in &db.schema.tables {
            s.push_str(&table_text(db, t));
        }
    }
    s
}

/// The first line of [`schema_text`].
pub fn schema_title(tables: usize, databases: usize) -> String {
    format!("# Multi-Database Schema ({tables} tables across {databases} databases)\n")
}

/// The lines that introduce one database in [`schema_text`].
pub fn database_header(id: i64, db: &DbSchema) -> String {
    format!(
        "\n--- Database: {} ({}) ---\nDatabase Name: {}\nConnection ID: {id}\nDialect: {}\nTables: {}\n",
        db.name,
        db.dialect.name(),
        db.schema.database,
        dialect_notes(db.dialect),
        db.schema.tables.len()
    )
}

/// One table of `db` in [`schema_text`]: its line (with its comment and row estimate),
/// then one line per column.
pub fn table_text(db: &DbSchema, t: &TableInfo) -> String {
    let mongo = db.dialect == Dialect::Mongodb;
    let mut s = format!("\nTable: {}.{}", db.name, t.name);
    if let Some(c) = &t.comment {
        s.push_str(&format!(" -- {}", one_line(c)));
    }
    if let Some(n) = t.rows.filter(|n| *n > 0) {
        s.push_str(&format!(" (~{n} rows)"));
    }
    s.push('\n');
    if mongo {
        s.push_str("  (MongoDB collection; columns are field paths: type, % of sampled documents that have it)\n");
    }
    for c in &t.columns {
        s.push_str(&format!("  - {} ({})", c.name, c.data_type));
        if c.primary_key {
            s.push_str(" PRIMARY KEY");
        }
        // A sample cannot promise NOT NULL; MongoDB columns carry their presence instead.
        if !c.nullable && !c.primary_key && !mongo {
            s.push_str(" NOT NULL");
        }
        let values = (!c.samples.is_empty()).then(|| {
            let quoted: Vec<String> = c
                .samples
                .iter()
                .map(|v| format!("'{}'", v.replace('\'', "''")))
                .collect();
            format!("values: {}", quoted.join(", "))
        });
        match (&c.comment, values) {
            (Some(cc), Some(v)) => s.push_str(&format!(" -- {}; {v}", one_line(cc))),
            (Some(cc), None) => s.push_str(&format!(" -- {}", one_line(cc))),
            (None, Some(v)) => s.push_str(&format!(" -- {v}")),
            (None, None) => {}
        }
        s.push('\n');
    }
    s
}

/// A comment on one line, at most 200 characters.
fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &flat[..at]),
        None => flat,
    }
}

const INSTRUCTIONS: &str = "You translate questions into SQL for one or more databases at once.
Answer ONLY with blocks of this exact form, one block per database that holds data needed for the answer, and nothing else (no prose, no explanations):

DATABASE: <database name exactly as listed>
<one SQL statement in that database's dialect>;

Rules:
- Exactly one read-only statement (SELECT or WITH ... SELECT) per block; never modify data.
- Use only tables and columns listed in the schema; write each statement in its database's dialect.
- Per-database blocks run independently on each database; the proxy unions the rows by column name and adds a source_db column, so give equivalent result columns the SAME alias in every block. Use them when each database answers on its own (counts per database, lists from each).
- When the answer needs rows of several databases COMBINED (a join across databases, a comparison side by side, customers in one database with no orders in another), write ONE federated block instead:

DATABASE: *
<one PostgreSQL SELECT that names every table as database.table, e.g. shop.orders, warehouse.fact_sales>;

  The proxy fetches the needed rows from each database and runs that statement over them: joins, LEFT/FULL JOIN, EXISTS/NOT EXISTS, IN subqueries, UNION, CTEs, GROUP BY and window functions all work across databases. Qualify EVERY table with its database name and give every table an alias. Both forms may appear in one reply.
- Leave out databases that do not hold relevant data.";

/// Builds the chat messages for a question.
/// `knowledge` is the business glossary and examples section (may be empty).
pub fn build(
    dbs: &[(i64, DbSchema)],
    knowledge: &str,
    history: &[Turn],
    question: &str,
) -> Vec<ChatMessage> {
    let mut content = format!("{INSTRUCTIONS}\n\n{}", schema_text(dbs));
    if !knowledge.is_empty() {
        content.push_str("\n\n");
        content.push_str(knowledge.trim_end());
    }
    let mut msgs = vec![ChatMessage {
        role: Role::System,
        content,
    }];
    for t in history {
        msgs.push(ChatMessage {
            role: Role::User,
            content: t.question.clone(),
        });
        msgs.push(ChatMessage {
            role: Role::Assistant,
            content: if t.plan.is_empty() {
                format!("-- {}", t.summary)
            } else {
                render(&t.plan)
            },
        });
    }
    msgs.push(ChatMessage {
        role: Role::User,
        content: question.to_string(),
    });
    msgs
}
