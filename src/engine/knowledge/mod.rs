//! Business knowledge: glossary terms and example questions with their SQL.
//!
//! Entries come from the store (admins `INSERT INTO dbguru.glossary …` over the wire,
//! see [`write`]) and from the files named in `[knowledge] files` (see [`files`]). The
//! engine keeps the whole set in memory, refreshed after every write and every
//! `[limits] schema_check` (several proxies may share a store). For each question the
//! entries that match it go into the prompt, inside `[llm] schema_budget`, and their
//! words count in table retrieval: "churn" brings in the table its definition names.

pub mod files;
pub mod write;

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use super::schema::retrieve::{terms, tokens};
pub use crate::llm::normalize_question;
pub use crate::store::{ExampleEntry, GlossaryEntry};

/// Errors of a write to the knowledge tables or of a knowledge file; each has the
/// SQLSTATE PostgreSQL would give the same mistake.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    /// A user without `admin` tried to write.
    #[error("permission denied for table {0}: only users with admin = true may change the business knowledge")]
    NotAdmin(String),
    /// A statement form dbguru does not run on these tables.
    #[error("{0}")]
    Unsupported(String),
    /// A column that does not exist or cannot be written.
    #[error("column \"{column}\" of relation \"{table}\" {why}")]
    Column {
        /// Table.
        table: String,
        /// Column.
        column: String,
        /// `does not exist` or `cannot be written`.
        why: &'static str,
    },
    /// A required value is NULL or empty.
    #[error(
        "null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"
    )]
    NotNull {
        /// Table.
        table: String,
        /// Column.
        column: String,
    },
    /// A value too long or of the wrong kind.
    #[error("{0}")]
    Invalid(String),
    /// The term (or question) already exists for that connection.
    #[error(
        "duplicate key value violates unique constraint \"{constraint}\": {what} already exists"
    )]
    Duplicate {
        /// `glossary_term` or `examples_question`.
        constraint: &'static str,
        /// Which entry.
        what: String,
    },
    /// A connection name that is not configured (or not the user's).
    #[error("connection \"{0}\" does not exist")]
    UnknownConnection(String),
    /// An example's SQL is not one read-only statement for its connection.
    #[error("the example's SQL is refused for connection \"{connection}\": {why}")]
    BadSql {
        /// Connection.
        connection: String,
        /// The guard's reason.
        why: String,
    },
    /// A `[knowledge] files` file could not be read or parsed.
    #[error("knowledge file {path}: {why}")]
    File {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl KnowledgeError {
    /// The SQLSTATE of this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            KnowledgeError::NotAdmin(_) => "42501",
            KnowledgeError::Unsupported(_) => "0A000",
            KnowledgeError::Column { why, .. } if why.starts_with("does") => "42703",
            KnowledgeError::Column { .. } => "428C9",
            KnowledgeError::NotNull { .. } => "23502",
            KnowledgeError::Invalid(_) => "22023",
            KnowledgeError::Duplicate { .. } => "23505",
            KnowledgeError::UnknownConnection(_) => "42704",
            KnowledgeError::BadSql { .. } => "42501",
            KnowledgeError::File { .. } => "F0000",
            KnowledgeError::Store(_) => "58000",
        }
    }
}

/// Glossary terms and examples, from files and the store.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeSet {
    /// Glossary terms.
    pub glossary: Vec<GlossaryEntry>,
    /// Examples.
    pub examples: Vec<ExampleEntry>,
}

/// The engine's current knowledge: the files' entries (read at start) plus the store's.
#[derive(Debug, Default)]
pub struct Knowledge {
    files: KnowledgeSet,
    current: RwLock<Arc<KnowledgeSet>>,
}

impl Knowledge {
    /// Knowledge holding the files' entries only (until the first [`Knowledge::refresh`]).
    pub fn new(files: KnowledgeSet) -> Knowledge {
        Knowledge {
            current: RwLock::new(Arc::new(files.clone())),
            files,
        }
    }

    /// The current set.
    pub fn snapshot(&self) -> Arc<KnowledgeSet> {
        self.current
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Re-reads the store's entries and puts them after the files'.
    pub async fn refresh(&self, store: &crate::store::Store) -> Result<(), KnowledgeError> {
        let (glossary, examples) = tokio::try_join!(store.glossary(), store.examples())?;
        let mut set = self.files.clone();
        set.glossary.extend(glossary);
        set.examples.extend(examples);
        match self.current.write() {
            Ok(mut g) => *g = Arc::new(set),
            Err(p) => *p.into_inner() = Arc::new(set),
        }
        Ok(())
    }
}

/// Examples sent at most, however many match.
const MAX_EXAMPLES: usize = 3;
/// Share of the example question's terms the question must contain (and at least two
/// of them, or its only one).
const EXAMPLE_OVERLAP: f64 = 0.5;

/// The entries relevant to one question, in the order they go into the prompt.
#[derive(Debug, Clone, Default)]
pub struct Relevant {
    /// Glossary terms the question (or the last one) uses.
    pub glossary: Vec<GlossaryEntry>,
    /// Examples whose question is close to this one, closest first.
    pub examples: Vec<ExampleEntry>,
}

/// Whether an entry of `connection` (`None`/`*`: every connection) applies to a question
/// over `scope`.
fn in_scope(connection: Option<&str>, scope: &[String]) -> bool {
    match connection {
        None | Some("*") => true,
        Some(c) => scope.iter().any(|s| s.eq_ignore_ascii_case(c)),
    }
}

/// Whether every term of `phrase` is among `have`.
fn contains_all(have: &HashSet<String>, phrase: &[String]) -> bool {
    !phrase.is_empty() && phrase.iter().all(|t| have.contains(t))
}

/// Chooses the entries for `question` (with the session's `previous` questions, newest
/// last) over the connections in `scope`, within `budget` tokens of prompt text.
pub fn relevant(
    set: &KnowledgeSet,
    question: &str,
    previous: &[String],
    scope: &[String],
    budget: usize,
) -> Relevant {
    let asked: HashSet<String> = terms(question).into_iter().collect();
    let before: HashSet<String> = previous
        .last()
        .map(|q| terms(q).into_iter().collect())
        .unwrap_or_default();
    let mut out = Relevant::default();
    let mut used = 0;
    let fits = |text: &str, used: &mut usize| {
        let t = tokens(text);
        if *used + t > budget {
            return false;
        }
        *used += t;
        true
    };
    // Terms of this question first, then those of the last one (a follow-up keeps them).
    for pass in [&asked, &before] {
        for g in &set.glossary {
            if !in_scope(g.connection.as_deref(), scope)
                || out
                    .glossary
                    .iter()
                    .any(|o| o.term.eq_ignore_ascii_case(&g.term))
                || !contains_all(pass, &terms(&g.term))
            {
                continue;
            }
            let head = if out.glossary.is_empty() {
                GLOSSARY_HEADER
            } else {
                ""
            };
            if fits(&format!("{head}{}", glossary_line(g)), &mut used) {
                out.glossary.push(g.clone());
            }
        }
    }
    let exact = normalize_question(question);
    let mut scored: Vec<(f64, &ExampleEntry)> = set
        .examples
        .iter()
        .filter(|e| in_scope(Some(&e.connection), scope))
        .filter_map(|e| {
            if normalize_question(&e.question) == exact {
                return Some((2.0, e));
            }
            let et: HashSet<String> = terms(&e.question).into_iter().collect();
            if et.is_empty() {
                return None;
            }
            let shared = et.intersection(&asked).count();
            let overlap = shared as f64 / et.len() as f64;
            (shared >= et.len().min(2) && overlap >= EXAMPLE_OVERLAP).then_some((overlap, e))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, e) in scored.into_iter().take(MAX_EXAMPLES) {
        let head = if out.examples.is_empty() {
            EXAMPLES_HEADER
        } else {
            ""
        };
        if fits(&format!("{head}{}", example_text(e)), &mut used) {
            out.examples.push(e.clone());
        }
    }
    out
}

const GLOSSARY_HEADER: &str = "Business glossary (what these words mean in this data):\n";
const EXAMPLES_HEADER: &str =
    "Answered examples (questions like this one, with SQL known to be right):\n\n";

fn glossary_line(g: &GlossaryEntry) -> String {
    match &g.connection {
        Some(c) => format!("- {} ({c}): {}\n", g.term, one_line(&g.definition)),
        None => format!("- {}: {}\n", g.term, one_line(&g.definition)),
    }
}

fn example_text(e: &ExampleEntry) -> String {
    format!(
        "Question: {}\nDATABASE: {}\n{};\n\n",
        one_line(&e.question),
        e.connection,
        e.sql.trim().trim_end_matches(';')
    )
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Relevant {
    /// Whether nothing matched.
    pub fn is_empty(&self) -> bool {
        self.glossary.is_empty() && self.examples.is_empty()
    }

    /// The prompt section (empty when nothing matched).
    pub fn prompt_text(&self) -> String {
        let mut out = String::new();
        if !self.glossary.is_empty() {
            out.push_str(GLOSSARY_HEADER);
            for g in &self.glossary {
                out.push_str(&glossary_line(g));
            }
        }
        if !self.examples.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(EXAMPLES_HEADER);
            for e in &self.examples {
                out.push_str(&example_text(e));
            }
        }
        out
    }

    /// Words that should count in table retrieval: the definitions and the examples' SQL.
    pub fn retrieval_text(&self) -> String {
        let mut out = String::new();
        for g in &self.glossary {
            out.push_str(&g.definition);
            out.push('\n');
        }
        for e in &self.examples {
            out.push_str(&e.sql);
            out.push('\n');
        }
        out
    }

    /// One line for `EXPLAIN ASK`: which terms and examples were sent.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.glossary.is_empty() {
            parts.push(format!(
                "glossary: {}",
                self.glossary
                    .iter()
                    .map(|g| g.term.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !self.examples.is_empty() {
            parts.push(format!(
                "examples: {}",
                self.examples
                    .iter()
                    .map(|e| format!("\"{}\"", one_line(&e.question)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        format!("knowledge sent: {}", parts.join("; "))
    }
}

#[cfg(test)]
mod tests;
