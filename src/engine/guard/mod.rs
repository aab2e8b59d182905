//! The first safety layer: every statement is checked before it reaches a database.
//!
//! In order: its size and shape are bounded ([`crate::sql::limits`], before anything
//! recursive touches it); its token stream, under every lexical mode, must hold no
//! executable comment, no `INTO OUTFILE`/`TO PROGRAM`-style word pair, no call of a
//! denied function and exactly one statement ([`text`]); then it is parsed in its
//! connection's dialect and must be one statement of a read-only kind (unless writes
//! are allowed) whose every function call passes the deny-list ([`deny`], [`inspect`]).
//! A row-capped rewrite is checked again before it is used, so the text sent to the
//! database is always a text that passed every check. It also caps the rows a query may
//! return.

mod cap;
mod copy;
mod deny;
mod inspect;
#[cfg(test)]
mod tests;
mod text;

use sqlparser::ast::{Statement, Visit};
use sqlparser::dialect::{
    Dialect as SqlDialect, DuckDbDialect, GenericDialect, MySqlDialect, PostgreSqlDialect,
    SQLiteDialect,
};
use sqlparser::parser::{Parser, ParserError};

use crate::backends::Dialect;
use crate::sql::limits::{self, LimitError};

pub use self::copy::copy_out_query;
use self::inspect::{is_read_only_kind, Inspector};

/// Why a statement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// The SQL did not parse, so it could not be checked.
    #[error("statement could not be verified ({dialect} syntax): {message}")]
    Unparsable {
        /// Dialect it was parsed in.
        dialect: &'static str,
        /// Parser message.
        message: String,
    },
    /// Empty statement.
    #[error("empty statement")]
    Empty,
    /// More than one statement.
    #[error("only one statement per database is allowed, got {0}")]
    MultipleStatements(usize),
    /// A statement kind that writes or administers, while writes are not allowed.
    #[error("{0} is not allowed: the session is read-only (writes need SET dbguru.allow_write = on where permitted)")]
    WriteNotAllowed(String),
    /// A statement kind never allowed through dbguru.
    #[error("{0} is never allowed through dbguru")]
    Forbidden(String),
    /// A function that reaches files, the network, other servers or processes, takes
    /// locks, changes settings, or runs SQL given as a string.
    #[error("function {0}() is not allowed (it reaches files, the network or other sessions, takes locks, changes settings or runs SQL from a string)")]
    ForbiddenFunction(String),
    /// The statement is too long (SQLSTATE 54000) or too complex (54001) to check.
    #[error(transparent)]
    Limit(#[from] LimitError),
}

/// The result of a successful check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The SQL to run: the original text, or a rewrite of it (row cap, `TABLE t`) that
    /// passed every check itself.
    pub sql: String,
    /// Whether the statement returns rows as far as the parser can tell.
    pub is_query: bool,
}

pub(crate) fn parser_dialect(d: Dialect) -> Box<dyn SqlDialect> {
    match d {
        Dialect::Postgres => Box::new(PostgreSqlDialect {}),
        Dialect::Mysql => Box::new(MySqlDialect {}),
        Dialect::Sqlite => Box::new(SQLiteDialect {}),
        Dialect::Duckdb => Box::new(DuckDbDialect {}),
        Dialect::Mongodb => Box::new(GenericDialect {}),
    }
}

/// Whether `sql` calls a function the guard refuses in every session (files, locks,
/// settings, SQL from a string), judged from its tokens alone. For the proxy's own
/// emulations (the catalog), which must leave such statements to [`check`].
pub fn calls_forbidden_function(sql: &str, dialect: Dialect) -> bool {
    text::calls_forbidden_function(sql, dialect)
}

/// Checks one statement for `dialect`. With `row_cap`, a query whose top level has no
/// LIMIT (or a larger literal one) is rewritten to `LIMIT row_cap`, so the database
/// itself stops producing rows.
pub fn check(
    sql: &str,
    dialect: Dialect,
    allow_write: bool,
    row_cap: Option<usize>,
) -> Result<Checked, GuardError> {
    let trimmed = sql.trim().trim_end_matches(';').trim();
    if trimmed.is_empty() {
        return Err(GuardError::Empty);
    }
    // Size first: every later step is linear or bounded by it.
    if trimmed.len() > limits::STATEMENT.max_bytes {
        return Err(LimitError::TooLong {
            bytes: trimmed.len(),
            limit: limits::STATEMENT.max_bytes,
        }
        .into());
    }
    // A MongoDB JSON pipeline is not SQL: its own guard refuses $out, $merge, $function,
    // $accumulator and $where at any depth (the backend checks again, and never sends a
    // write command). SQL for MongoDB goes through the SQL checks below.
    if dialect == Dialect::Mongodb && crate::backends::mongodb::pipeline::is_pipeline(trimmed) {
        use crate::backends::mongodb::pipeline::{check_text, PipelineError};
        return match check_text(trimmed) {
            Ok(()) => Ok(Checked {
                sql: trimmed.to_string(),
                is_query: true,
            }),
            Err(PipelineError::Forbidden(op)) => {
                Err(GuardError::Forbidden(format!("pipeline operator {op}")))
            }
            Err(e @ PipelineError::Invalid(_)) => Err(GuardError::Unparsable {
                dialect: dialect.name(),
                message: e.to_string(),
            }),
        };
    }
    let shorthand = text::table_shorthand(trimmed, dialect);
    let sql = shorthand.as_deref().unwrap_or(trimmed);
    let (mut statement, is_query) = check_text(sql, dialect, allow_write)?;
    if let (Some(cap), Statement::Query(q)) = (row_cap, &mut statement) {
        if cap::cap_limit(q, cap) {
            let capped = statement.to_string();
            // The rewrite is printed by sqlparser (comments dropped, text normalized):
            // it runs only if it passes every check itself.
            return match check_text(&capped, dialect, allow_write) {
                Ok(_) => Ok(Checked {
                    sql: capped,
                    is_query,
                }),
                Err(GuardError::Unparsable { message, .. }) => {
                    tracing::debug!(%message, "row-capped rewrite does not parse; running the checked original");
                    Ok(Checked {
                        sql: sql.to_string(),
                        is_query,
                    })
                }
                Err(e) => Err(e),
            };
        }
    }
    Ok(Checked {
        sql: sql.to_string(),
        is_query,
    })
}

/// Every check on one text: bounds, tokens, then the parse tree. Returns the parsed
/// statement and whether it returns rows.
fn check_text(
    sql: &str,
    dialect: Dialect,
    allow_write: bool,
) -> Result<(Statement, bool), GuardError> {
    limits::check(sql)?;
    text::check_tokens(sql, dialect, allow_write)?;
    let pd = parser_dialect(dialect);
    let mut statements = Parser::parse_sql(pd.as_ref(), sql).map_err(|e| match e {
        ParserError::RecursionLimitExceeded => GuardError::Limit(LimitError::ParserDepth),
        // What cannot be parsed is refused; say why in the clearest terms available.
        e => text::refusal_by_first_words(sql, dialect, allow_write).unwrap_or_else(|| {
            GuardError::Unparsable {
                dialect: dialect.name(),
                message: e.to_string(),
            }
        }),
    })?;
    let statement = match statements.len() {
        0 => return Err(GuardError::Empty),
        1 => statements.pop().ok_or(GuardError::Empty)?,
        n => return Err(GuardError::MultipleStatements(n)),
    };
    let mut inspector = Inspector {
        dialect,
        allow_write,
        refusal: None,
    };
    let _ = statement.visit(&mut inspector);
    if let Some(r) = inspector.refusal {
        return Err(r);
    }
    let is_query = is_read_only_kind(&statement);
    Ok((statement, is_query))
}

/// Most statement shapes [`VerdictCache`] remembers; it starts afresh when full.
const VERDICT_ENTRIES: usize = 4096;

/// Longest statement [`VerdictCache`] remembers the shape of (bytes): longer ones are
/// checked every time, so the cache holds at most about 32 MiB of keys.
const VERDICT_MAX_SQL_BYTES: usize = 8 << 10;

/// Dialect, write permission and statement shape.
type ShapeKey = (Dialect, bool, Vec<u8>);

/// Remembers which statement *shapes* passed [`check`] without a row cap, so a
/// statement that differs from an accepted one only in its numbers (`WHERE id = 7`
/// after `WHERE id = 3`, the usual shape of application and BI traffic) is not parsed
/// again.
///
/// The shape is the text with every free-standing run of digits replaced by a NUL
/// byte, which never occurs in statement text on the wire; quoted strings,
/// identifiers and comments are kept byte for byte. Changing a number cannot change
/// a statement's kind, its function names, its locks or its statement count, so the
/// verdict holds for every statement of the shape. Only acceptances are cached:
/// refusals carry positions and names and are recomputed.
#[derive(Debug, Default)]
pub struct VerdictCache {
    map: std::sync::Mutex<std::collections::HashMap<ShapeKey, bool>>,
}

impl VerdictCache {
    /// [`check`] without a row cap, answered from the cache when the shape passed before.
    pub fn check(
        &self,
        sql: &str,
        dialect: Dialect,
        allow_write: bool,
    ) -> Result<Checked, GuardError> {
        let trimmed = sql.trim().trim_end_matches(';').trim();
        if dialect == Dialect::Mongodb
            || trimmed.is_empty()
            || trimmed.len() > VERDICT_MAX_SQL_BYTES
        {
            return check(sql, dialect, allow_write, None);
        }
        let key = (dialect, allow_write, shape(trimmed));
        let known = self.map.lock().ok().and_then(|m| m.get(&key).copied());
        if let Some(is_query) = known {
            return Ok(Checked {
                sql: trimmed.to_string(),
                is_query,
            });
        }
        let checked = check(trimmed, dialect, allow_write, None)?;
        // A rewritten statement (`TABLE t`) is not remembered: a hit returns the text as is.
        if checked.sql != trimmed {
            return Ok(checked);
        }
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= VERDICT_ENTRIES {
                m.clear();
            }
            m.insert(key, checked.is_query);
        }
        Ok(checked)
    }
}

/// The shape of `sql` for [`VerdictCache`]: free-standing digit runs become NUL.
fn shape(sql: &str) -> Vec<u8> {
    let b = sql.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let end = match c {
            b'\'' | b'"' | b'`' => b[i + 1..]
                .iter()
                .position(|&x| x == c)
                .map_or(b.len(), |p| i + p + 2),
            b'-' if b.get(i + 1) == Some(&b'-') => b[i..]
                .iter()
                .position(|&x| x == b'\n')
                .map_or(b.len(), |p| i + p + 1),
            b'/' if b.get(i + 1) == Some(&b'*') => b[i + 2..]
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(b.len(), |p| i + p + 4),
            b'0'..=b'9' if i == 0 || !word(b[i - 1]) => {
                let mut j = i;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j == b.len() || !word(b[j]) {
                    out.push(0);
                    i = j;
                    continue;
                }
                j
            }
            _ => i + 1,
        };
        out.extend_from_slice(&b[i..end]);
        i = end;
    }
    out
}
