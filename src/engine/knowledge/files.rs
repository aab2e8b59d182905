//! Knowledge files: `[knowledge] files = ["business.toml"]`, each holding
//!
//! ```toml
//! [[glossary]]
//! term = "churned customer"
//! definition = "a customer whose last order is more than 90 days old (orders.order_date)"
//! connection = "shop"          # optional: every connection when left out
//!
//! [[examples]]
//! question = "revenue per month in 2024"
//! connection = "shop"          # or "*" for a statement over several connections
//! sql = "SELECT strftime('%Y-%m', order_date) AS month, sum(total_amount) FROM orders GROUP BY 1"
//! ```
//!
//! Read once at start; a file that cannot be read or names an unknown connection stops
//! the start with its path and the reason. File entries show in `dbguru.glossary` and
//! `dbguru.examples` with negative ids and `source = 'file:<path>'`, and cannot be
//! deleted over the wire.

use serde::Deserialize;

use super::write::{check_example, check_glossary};
use super::{ExampleEntry, GlossaryEntry, KnowledgeError, KnowledgeSet};
use crate::config::Config;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileGlossary {
    term: String,
    definition: String,
    #[serde(default)]
    connection: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileExample {
    question: String,
    connection: String,
    sql: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    glossary: Vec<FileGlossary>,
    #[serde(default)]
    examples: Vec<FileExample>,
}

/// Reads every `[knowledge] files` file, checking each entry as a wire insert is checked.
pub fn load(config: &Config) -> Result<KnowledgeSet, KnowledgeError> {
    let mut set = KnowledgeSet::default();
    for p in &config.knowledge.files {
        let path = config.resolve(p);
        let shown = p.display().to_string();
        let fail = |why: String| KnowledgeError::File {
            path: shown.clone(),
            why,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
        let file: File = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
        let source = format!("file:{shown}");
        for g in file.glossary {
            let entry = GlossaryEntry {
                id: Some(-(set.glossary.len() as i64) - 1),
                term: g.term,
                definition: g.definition,
                connection: g.connection,
                source: source.clone(),
                created_by: None,
                created_at: None,
            };
            let entry = check_glossary(config, None, entry, &set.glossary)
                .map_err(|e| fail(e.to_string()))?;
            set.glossary.push(entry);
        }
        for e in file.examples {
            let entry = ExampleEntry {
                id: Some(-(set.examples.len() as i64) - 1),
                question: e.question,
                connection: e.connection,
                sql: e.sql,
                source: source.clone(),
                created_by: None,
                created_at: None,
            };
            let entry = check_example(config, None, entry, &set.examples)
                .map_err(|e| fail(e.to_string()))?;
            set.examples.push(entry);
        }
    }
    Ok(set)
}
