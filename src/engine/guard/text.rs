//! Checks made on the token stream rather than the parse tree: what a permissive parse
//! could hide or a server could read differently. Every check here runs under each
//! lexical mode that could apply ([`crate::sql::lexer::ALL_MODES`]), so a statement is
//! refused when *any* reading of its quotes and comments reveals something forbidden.

use crate::backends::Dialect;
use crate::sql::lexer::{tokens, Kind, Mode, Token, ALL_MODES};

use super::deny::{self, FunctionVerdict, FORBIDDEN_SEQUENCES};
use super::GuardError;

/// The lexical mode the dialect's own server uses.
pub(super) fn mode_for(d: Dialect) -> Mode {
    match d {
        Dialect::Postgres | Dialect::Duckdb | Dialect::Mongodb => Mode::Postgres,
        Dialect::Mysql => Mode::Mysql {
            backslash_escapes: true,
        },
        Dialect::Sqlite => Mode::Sqlite,
    }
}

/// The modes that decide how many statements a text holds for `d`'s server (MySQL
/// servers may run without backslash escapes).
fn statement_modes(d: Dialect) -> &'static [Mode] {
    match d {
        Dialect::Mysql => &[
            Mode::Mysql {
                backslash_escapes: true,
            },
            Mode::Mysql {
                backslash_escapes: false,
            },
        ],
        Dialect::Sqlite => &[Mode::Sqlite],
        _ => &[Mode::Postgres],
    }
}

/// Words after which `name (` declares a table's columns rather than calling a function.
const DECLARES: &[&str] = &["into", "table", "references", "exists", "view", "index"];

/// Refuses executable comments, forbidden word pairs, denied functions written as calls,
/// and more than one statement.
pub(super) fn check_tokens(
    sql: &str,
    dialect: Dialect,
    allow_write: bool,
) -> Result<(), GuardError> {
    for mode in ALL_MODES {
        check_mode(sql, mode, dialect, allow_write)?;
    }
    for &mode in statement_modes(dialect) {
        let n = statement_count(sql, mode);
        if n > 1 {
            return Err(GuardError::MultipleStatements(n));
        }
    }
    Ok(())
}

fn check_mode(
    sql: &str,
    mode: Mode,
    dialect: Dialect,
    allow_write: bool,
) -> Result<(), GuardError> {
    // The previous code token, and the one before the (possibly qualified) name it ends.
    let mut prev: Option<Token<'_>> = None;
    let mut before_name: Option<Token<'_>> = None;
    for t in tokens(sql, mode) {
        match t.kind {
            Kind::ExecutableComment => {
                return Err(GuardError::Forbidden(
                    "an executable comment (/*!…*/ or /*M!…*/)".into(),
                ))
            }
            Kind::Comment => continue,
            Kind::QuotedIdent if t.text.starts_with(['U', 'u']) => {
                return Err(GuardError::Forbidden(
                    "a Unicode-escaped identifier (U&\"…\")".into(),
                ))
            }
            Kind::Word => {
                if let Some(p) = prev.filter(|p| p.kind == Kind::Word) {
                    for (a, b) in FORBIDDEN_SEQUENCES {
                        if p.text.eq_ignore_ascii_case(a) && t.text.eq_ignore_ascii_case(b) {
                            return Err(GuardError::Forbidden(format!(
                                "{} {}",
                                a.to_ascii_uppercase(),
                                b.to_ascii_uppercase()
                            )));
                        }
                    }
                }
            }
            Kind::Open if t.text == "(" => {
                if let Some(name) = prev.as_ref().and_then(Token::name) {
                    let declares = before_name
                        .as_ref()
                        .is_some_and(|w| DECLARES.iter().any(|d| w.is_word(d)));
                    if !declares && deny::refused_by_token(&name) {
                        function_refusal(&name, dialect, allow_write)?;
                    }
                }
            }
            _ => {}
        }
        if matches!(t.kind, Kind::Word | Kind::QuotedIdent)
            && !prev.is_some_and(|p| p.kind == Kind::Dot)
        {
            before_name = prev;
        }
        prev = Some(t);
    }
    Ok(())
}

/// The refusal for a call of `name`, if any.
pub(super) fn function_refusal(
    name: &str,
    dialect: Dialect,
    allow_write: bool,
) -> Result<(), GuardError> {
    match deny::function_verdict(name, dialect) {
        Some(FunctionVerdict::Forbidden) => {
            Err(GuardError::ForbiddenFunction(name.to_ascii_lowercase()))
        }
        Some(FunctionVerdict::Writes) if !allow_write => Err(GuardError::WriteNotAllowed(format!(
            "function {}()",
            name.to_ascii_lowercase()
        ))),
        _ => Ok(()),
    }
}

/// Statements in `sql` under `mode`: runs of code tokens separated by `;`.
fn statement_count(sql: &str, mode: Mode) -> usize {
    let mut count = 0;
    let mut in_statement = false;
    for t in tokens(sql, mode).filter(Token::is_code) {
        if t.kind == Kind::Semicolon {
            in_statement = false;
        } else if !in_statement {
            in_statement = true;
            count += 1;
        }
    }
    count
}

/// `TABLE name` (PostgreSQL and MySQL shorthand for `SELECT * FROM name`, which
/// sqlparser does not parse): the equivalent `SELECT`, which is then checked and run.
pub(super) fn table_shorthand(sql: &str, dialect: Dialect) -> Option<String> {
    let mut code = tokens(sql, mode_for(dialect)).filter(Token::is_code);
    if !code.next()?.is_word("table") {
        return None;
    }
    let mut first: Option<Token<'_>> = None;
    let mut last: Option<Token<'_>> = None;
    let mut want_name = true;
    for t in code {
        match (t.kind, want_name) {
            (Kind::Word | Kind::QuotedIdent, true) if !t.unterminated => {
                first.get_or_insert(t);
                last = Some(t);
                want_name = false;
            }
            (Kind::Dot, false) => want_name = true,
            _ => return None,
        }
    }
    if want_name {
        return None;
    }
    let (first, last) = (first?, last?);
    let name = sql.get(first.start..last.start + last.text.len())?;
    Some(format!("SELECT * FROM {name}"))
}

/// Statement words that write.
const WRITE_WORDS: &[&str] = &[
    "INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "UPSERT", "CREATE", "DROP", "ALTER",
    "TRUNCATE", "RENAME", "COMMENT", "REINDEX", "CLUSTER", "REFRESH", "OPTIMIZE", "ANALYZE",
];

/// The refusal for a statement the parser could not read, judged by its first words
/// alone: a kind that is never allowed, or a write in a read-only session. `None` when
/// the words say nothing (the statement is then refused as unverifiable).
pub(super) fn refusal_by_first_words(
    sql: &str,
    dialect: Dialect,
    allow_write: bool,
) -> Option<GuardError> {
    let mut words = tokens(sql, mode_for(dialect))
        .filter(Token::is_code)
        .take(2)
        .filter(|t| t.kind == Kind::Word)
        .map(|t| t.text.to_ascii_uppercase());
    let first = words.next()?;
    let kind = match first.as_str() {
        "CREATE" | "DROP" | "ALTER" | "TRUNCATE" | "GRANT" | "REVOKE" => match words.next() {
            Some(second) => format!("{first} {second}"),
            None => first.clone(),
        },
        _ => first.clone(),
    };
    if deny::never_allowed(&kind) {
        return Some(GuardError::Forbidden(kind));
    }
    (!allow_write && WRITE_WORDS.contains(&first.as_str()))
        .then_some(GuardError::WriteNotAllowed(kind))
}

/// Whether `sql`, read as `dialect`'s server reads it, calls a function refused in every
/// session (see [`super::calls_forbidden_function`]).
pub(super) fn calls_forbidden_function(sql: &str, dialect: Dialect) -> bool {
    let mut prev: Option<Token<'_>> = None;
    for t in tokens(sql, mode_for(dialect)).filter(Token::is_code) {
        if t.kind == Kind::Open && t.text == "(" {
            if let Some(name) = prev.as_ref().and_then(Token::name) {
                if deny::refused_by_token(&name)
                    && deny::function_verdict(&name, dialect) == Some(FunctionVerdict::Forbidden)
                {
                    return true;
                }
            }
        }
        prev = Some(t);
    }
    false
}
