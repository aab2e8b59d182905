//! Turns statement text into a [`Command`]: dbguru's own statements (`ASK`,
//! `EXPLAIN ASK`, `SET/SHOW/RESET`, transaction control) or SQL to pass through.

/// Where the question of an `ASK` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// A string literal in the statement.
    Literal(String),
    /// A bound parameter (`$1` → 1).
    Param(usize),
}

/// Transaction-control statements, acknowledged by the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxControl {
    /// BEGIN / START TRANSACTION
    Begin,
    /// COMMIT / END
    Commit,
    /// ROLLBACK / ABORT
    Rollback,
    /// SAVEPOINT x
    Savepoint,
    /// RELEASE [SAVEPOINT] x
    Release,
    /// ROLLBACK TO [SAVEPOINT] x
    RollbackTo,
}

/// One parsed statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `[EXPLAIN] ASK question [ON a, b]`
    Ask {
        /// The question.
        question: Question,
        /// Explicit connections.
        on: Option<Vec<String>>,
        /// Plan only.
        explain: bool,
    },
    /// `SET [SESSION|LOCAL] name = value`
    Set {
        /// Parameter name, lower-cased.
        name: String,
        /// Value, unquoted.
        value: String,
    },
    /// `RESET name` (`all` for RESET ALL)
    Reset {
        /// Parameter name, lower-cased.
        name: String,
    },
    /// `SHOW name`
    Show {
        /// Parameter name, lower-cased.
        name: String,
    },
    /// Transaction control.
    Tx(TxControl),
    /// `DISCARD ALL` and friends: reset session state, keep the connection.
    Discard,
    /// `DEALLOCATE [PREPARE] name | ALL`: acknowledged (prepared statements live in the protocol layer).
    Deallocate,
    /// `SELECT * FROM dbguru.ask('question' [, 'a, b']) [AS x] [LIMIT n]` (and
    /// `dbguru.explain_ask`): the `ASK` in `ask`, for SQL editors that parse what they send
    /// (Superset SQL Lab, Metabase, DBeaver); at most `limit` rows of its answer.
    AskTable {
        /// The equivalent `Command::Ask`.
        ask: Box<Command>,
        /// `LIMIT n` of the wrapping SELECT.
        limit: Option<u64>,
    },
    /// Anything else: SQL for the target connection (or a catalog probe).
    Sql(String),
}

/// `SELECT * FROM dbguru.ask('question' [, 'connections']) [[AS] alias] [LIMIT n]`, or
/// `None` when `toks` is not that shape (it is then ordinary SQL).
fn parse_ask_table(toks: &[Tok]) -> Option<Command> {
    let word = |t: Option<&Tok>, w: &str| word_is(t, w);
    if !(word(toks.first(), "select")
        && matches!(toks.get(1), Some(Tok::Punct('*')))
        && word(toks.get(2), "from"))
    {
        return None;
    }
    // The lexer keeps `dbguru.ask` as one word.
    let explain = match toks.get(3) {
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("dbguru.ask") => false,
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("dbguru.explain_ask") => true,
        _ => return None,
    };
    let mut i = 4;
    if !matches!(toks.get(i), Some(Tok::Punct('('))) {
        return None;
    }
    i += 1;
    let question = match toks.get(i) {
        Some(Tok::Str(s)) => Question::Literal(s.clone()),
        Some(Tok::Param(n)) => Question::Param(*n),
        _ => return None,
    };
    i += 1;
    let mut on = None;
    if matches!(toks.get(i), Some(Tok::Punct(','))) {
        let Some(Tok::Str(list)) = toks.get(i + 1) else {
            return None;
        };
        let names: Vec<String> = list
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect();
        if names.is_empty() {
            return None;
        }
        on = Some(names);
        i += 2;
    }
    if !matches!(toks.get(i), Some(Tok::Punct(')'))) {
        return None;
    }
    i += 1;
    if word(toks.get(i), "as") {
        i += 1;
    }
    if matches!(toks.get(i), Some(Tok::Word(w) | Tok::Quoted(w)) if !w.eq_ignore_ascii_case("limit"))
    {
        i += 1;
    }
    let mut limit = None;
    if word(toks.get(i), "limit") {
        let Some(Tok::Num(n)) = toks.get(i + 1) else {
            return None;
        };
        limit = Some(n.parse::<u64>().ok()?);
        i += 2;
    }
    if i != toks.len() {
        return None;
    }
    Some(Command::AskTable {
        ask: Box::new(Command::Ask {
            question,
            on,
            explain,
        }),
        limit,
    })
}

/// A statement that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax error: {0}")]
pub struct SyntaxError(pub String);

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Str(String),
    Param(usize),
    Num(String),
    Punct(char),
}

fn lex(s: &str) -> Result<Vec<Tok>, SyntaxError> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            let start = i;
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            if i + 1 >= chars.len() {
                return Err(SyntaxError(format!(
                    "unterminated /* comment at position {}",
                    start + 1
                )));
            }
            i += 2;
        } else if c == '\'' || ((c == 'E' || c == 'e') && chars.get(i + 1) == Some(&'\'')) {
            let escapes = c != '\'';
            let start = i;
            i += if escapes { 2 } else { 1 };
            let mut v = String::new();
            loop {
                match chars.get(i) {
                    None => {
                        return Err(SyntaxError(format!(
                            "unterminated quoted string at or near position {}",
                            start + 1
                        )))
                    }
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        v.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some('\\') if escapes => {
                        let n = chars.get(i + 1).copied().unwrap_or('\\');
                        v.push(match n {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            other => other,
                        });
                        i += 2;
                    }
                    Some(ch) => {
                        v.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(v));
        } else if c == '$' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
            let start = i + 1;
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let n: String = chars[start..i].iter().collect();
            out.push(Tok::Param(
                n.parse()
                    .map_err(|_| SyntaxError(format!("bad parameter ${n}")))?,
            ));
        } else if c == '$' {
            // Dollar quoting: $$...$$ or $tag$...$tag$
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            if chars.get(j) != Some(&'$') {
                out.push(Tok::Punct('$'));
                i += 1;
                continue;
            }
            let tag = &chars[i..=j];
            let body_start = j + 1;
            match find_chars(&chars, body_start, tag) {
                Some(end) => {
                    out.push(Tok::Str(chars[body_start..end].iter().collect()));
                    i = end + tag.len();
                }
                None => {
                    return Err(SyntaxError(format!(
                        "unterminated dollar-quoted string at or near position {}",
                        i + 1
                    )))
                }
            }
        } else if c == '"' {
            let start = i;
            i += 1;
            let mut v = String::new();
            loop {
                match chars.get(i) {
                    None => {
                        return Err(SyntaxError(format!(
                            "unterminated quoted identifier at or near position {}",
                            start + 1
                        )))
                    }
                    Some('"') if chars.get(i + 1) == Some(&'"') => {
                        v.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        v.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Quoted(v));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num(chars[start..i].iter().collect()));
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    Ok(out)
}

/// Position of the first `tag` in `chars` at or after `from` (a linear scan: dollar-quote
/// tags are short), so that many dollar quotes cost linear time, not quadratic.
fn find_chars(chars: &[char], from: usize, tag: &[char]) -> Option<usize> {
    if tag.is_empty() || from > chars.len() {
        return None;
    }
    (from..=chars.len().saturating_sub(tag.len())).find(|&k| chars[k..k + tag.len()] == *tag)
}

/// Splits a simple-query string into statements at top-level semicolons
/// (quotes, dollar quotes, identifiers and comments respected). Empty pieces are dropped.
pub fn split_statements(s: &str) -> Result<Vec<String>, SyntaxError> {
    // Past the message bound the text is not split but handed on whole; the guard then
    // refuses it as too long (54000).
    if s.len() > crate::sql::limits::MESSAGE_BYTES {
        return Ok(vec![s.trim().to_string()]);
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ';' => {
                if !cur.trim().is_empty() {
                    out.push(cur.trim().to_string());
                }
                cur.clear();
                i += 1;
            }
            '\'' | '"' => {
                let start = i;
                cur.push(c);
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(SyntaxError(format!(
                                "unterminated quoted {} at or near position {}",
                                if c == '\'' { "string" } else { "identifier" },
                                start + 1
                            )))
                        }
                        Some(&ch) => {
                            cur.push(ch);
                            i += 1;
                            if ch == c {
                                if chars.get(i) == Some(&c) {
                                    cur.push(c);
                                    i += 1;
                                } else {
                                    break;
                                }
                            } else if ch == '\\'
                                && c == '\''
                                && start > 0
                                && matches!(chars[start - 1], 'E' | 'e')
                            {
                                if let Some(&n) = chars.get(i) {
                                    cur.push(n);
                                    i += 1;
                                }
                            }
                        }
                    }
                }
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    cur.push(chars[i]);
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let start = i;
                while i < chars.len()
                    && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/') && i > start)
                {
                    cur.push(chars[i]);
                    i += 1;
                }
                if i >= chars.len() {
                    return Err(SyntaxError(format!(
                        "unterminated /* comment at position {}",
                        start + 1
                    )));
                }
                cur.push_str("*/");
                i += 2;
            }
            '$' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let prev_is_ident =
                    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
                if chars.get(j) == Some(&'$')
                    && !prev_is_ident
                    && !chars[i + 1..j].first().is_some_and(|d| d.is_ascii_digit())
                {
                    let tag = &chars[i..=j];
                    match find_chars(&chars, j + 1, tag) {
                        Some(end) => {
                            let take = end + tag.len() - i;
                            cur.extend(chars[i..i + take].iter());
                            i += take;
                        }
                        None => {
                            return Err(SyntaxError(format!(
                                "unterminated dollar-quoted string at or near position {}",
                                i + 1
                            )))
                        }
                    }
                } else {
                    cur.push(c);
                    i += 1;
                }
            }
            _ => {
                cur.push(c);
                i += 1;
            }
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    Ok(out)
}

fn word_is(t: Option<&Tok>, w: &str) -> bool {
    matches!(t, Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
}

fn value_text(toks: &[Tok]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for t in toks {
        match t {
            Tok::Word(w) => parts.push(w.clone()),
            Tok::Quoted(w) | Tok::Str(w) | Tok::Num(w) => parts.push(w.clone()),
            Tok::Param(n) => parts.push(format!("${n}")),
            Tok::Punct(',') => parts.push(",".into()),
            Tok::Punct(c) => parts.push(c.to_string()),
        }
    }
    parts.join(" ").replace(" ,", ",")
}

fn parse_ask(toks: &[Tok], explain: bool) -> Result<Command, SyntaxError> {
    // JDBC in simple mode interpolates `ASK ?` as `ASK ('question')`.
    let unwrapped;
    let toks = match toks {
        [Tok::Punct('('), q @ (Tok::Str(_) | Tok::Param(_)), Tok::Punct(')'), rest @ ..] => {
            unwrapped = std::iter::once(q.clone())
                .chain(rest.iter().cloned())
                .collect::<Vec<_>>();
            &unwrapped[..]
        }
        other => other,
    };
    let question = match toks.first() {
        Some(Tok::Str(s)) => Question::Literal(s.clone()),
        Some(Tok::Param(n)) => Question::Param(*n),
        Some(other) => {
            return Err(SyntaxError(format!(
                "ASK needs a quoted question, e.g. ASK 'how many customers are there?' (got {})",
                value_text(std::slice::from_ref(other))
            )))
        }
        None => {
            return Err(SyntaxError(
                "ASK needs a quoted question, e.g. ASK 'how many customers are there?'".into(),
            ))
        }
    };
    let rest = &toks[1..];
    let on = if rest.is_empty() {
        None
    } else if word_is(rest.first(), "on") {
        let mut names = Vec::new();
        let mut expect_name = true;
        for t in &rest[1..] {
            match (t, expect_name) {
                (Tok::Word(w) | Tok::Quoted(w) | Tok::Num(w), true) => {
                    names.push(w.clone());
                    expect_name = false;
                }
                (Tok::Str(s), true) => {
                    names.extend(
                        s.split(',')
                            .map(|x| x.trim().to_string())
                            .filter(|x| !x.is_empty()),
                    );
                    expect_name = false;
                }
                (Tok::Punct(','), false) => expect_name = true,
                _ => return Err(SyntaxError(
                    "ON takes a comma-separated list of connection names, e.g. ON shop, warehouse"
                        .into(),
                )),
            }
        }
        if names.is_empty() || expect_name {
            return Err(SyntaxError(
                "ON takes a comma-separated list of connection names, e.g. ON shop, warehouse"
                    .into(),
            ));
        }
        Some(names)
    } else {
        return Err(SyntaxError(format!(
            "unexpected {:?} after the question (did you mean ON <connections>?)",
            value_text(&rest[..1])
        )));
    };
    Ok(Command::Ask {
        question,
        on,
        explain,
    })
}

fn param_name(toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| match t {
            Tok::Word(w) | Tok::Quoted(w) => w.to_ascii_lowercase(),
            other => value_text(std::slice::from_ref(other)),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses one statement (no trailing semicolon needed).
pub fn parse(stmt: &str) -> Result<Command, SyntaxError> {
    let trimmed = stmt.trim().trim_end_matches(';').trim();
    // Past the statement bound nothing is lexed here: it goes on as SQL, which the
    // guard refuses as too long (54000).
    if trimmed.len() > crate::sql::limits::STATEMENT.max_bytes {
        return Ok(Command::Sql(trimmed.to_string()));
    }
    let first = trimmed
        .split(|c: char| c.is_whitespace() || c == '(' || c == '\'' || c == '$')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let second_is_ask = || {
        trimmed[first.len()..]
            .trim_start()
            .split(|c: char| c.is_whitespace() || c == '\'' || c == '$')
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("ask"))
    };
    match first.as_str() {
        "select"
            if trimmed.to_ascii_lowercase().contains("dbguru.ask")
                || trimmed.to_ascii_lowercase().contains("dbguru.explain_ask") =>
        {
            let toks = lex(trimmed)?;
            Ok(parse_ask_table(&toks).unwrap_or_else(|| Command::Sql(trimmed.to_string())))
        }
        "ask" => {
            let toks = lex(trimmed)?;
            parse_ask(&toks[1..], false)
        }
        "explain" if second_is_ask() => {
            let toks = lex(trimmed)?;
            parse_ask(&toks[2..], true)
        }
        "set" => {
            let toks = lex(trimmed)?;
            let mut rest = &toks[1..];
            if word_is(rest.first(), "session") && word_is(rest.get(1), "characteristics") {
                return Ok(Command::Set {
                    name: "transaction".into(),
                    value: value_text(&rest[1..]),
                });
            }
            if word_is(rest.first(), "session") || word_is(rest.first(), "local") {
                rest = &rest[1..];
            }
            if word_is(rest.first(), "time") && word_is(rest.get(1), "zone") {
                return Ok(Command::Set {
                    name: "timezone".into(),
                    value: value_text(&rest[2..]),
                });
            }
            // SET ROLE x / SET SESSION AUTHORIZATION x (no `=`): named so they can be refused.
            if word_is(rest.first(), "role") {
                return Ok(Command::Set {
                    name: "role".into(),
                    value: value_text(&rest[1..]),
                });
            }
            if word_is(rest.first(), "authorization") {
                return Ok(Command::Set {
                    name: "session_authorization".into(),
                    value: value_text(&rest[1..]),
                });
            }
            if word_is(rest.first(), "names") {
                return Ok(Command::Set {
                    name: "client_encoding".into(),
                    value: value_text(&rest[1..]),
                });
            }
            if word_is(rest.first(), "transaction") || word_is(rest.first(), "session") {
                return Ok(Command::Set {
                    name: "transaction".into(),
                    value: value_text(&rest[1..]),
                });
            }
            let eq = rest
                .iter()
                .position(|t| {
                    matches!(t, Tok::Punct('='))
                        || matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case("to"))
                })
                .ok_or_else(|| SyntaxError("SET needs a value: SET name = value".into()))?;
            let name = param_name(&rest[..eq]);
            if name.is_empty() {
                return Err(SyntaxError("SET needs a parameter name".into()));
            }
            Ok(Command::Set {
                name,
                value: value_text(&rest[eq + 1..]),
            })
        }
        "reset" => {
            let toks = lex(trimmed)?;
            Ok(Command::Reset {
                name: param_name(&toks[1..]),
            })
        }
        "show" => {
            let toks = lex(trimmed)?;
            let name = param_name(&toks[1..]);
            let name = match name.as_str() {
                "transaction isolation level" => "transaction_isolation".to_string(),
                "time zone" => "timezone".to_string(),
                _ => name,
            };
            Ok(Command::Show { name })
        }
        "begin" | "start" => Ok(Command::Tx(TxControl::Begin)),
        "commit" | "end" => Ok(Command::Tx(TxControl::Commit)),
        "abort" => Ok(Command::Tx(TxControl::Rollback)),
        "rollback" => {
            let lower = trimmed.to_ascii_lowercase();
            if lower.split_whitespace().nth(1) == Some("to") {
                Ok(Command::Tx(TxControl::RollbackTo))
            } else {
                Ok(Command::Tx(TxControl::Rollback))
            }
        }
        "savepoint" => Ok(Command::Tx(TxControl::Savepoint)),
        "release" => Ok(Command::Tx(TxControl::Release)),
        "discard" => Ok(Command::Discard),
        // Drivers (psqlODBC) deallocate their own prepared plans; the proxy keeps none.
        "deallocate" => Ok(Command::Deallocate),
        _ => Ok(Command::Sql(trimmed.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ask_forms() {
        assert_eq!(
            parse("ASK 'how many customers are there?'").expect("ok"),
            Command::Ask {
                question: Question::Literal("how many customers are there?".into()),
                on: None,
                explain: false
            }
        );
        assert_eq!(
            parse("ask 'it''s' ON shop, warehouse;").expect("ok"),
            Command::Ask {
                question: Question::Literal("it's".into()),
                on: Some(vec!["shop".into(), "warehouse".into()]),
                explain: false
            }
        );
        assert_eq!(
            parse("EXPLAIN ASK $1").expect("ok"),
            Command::Ask {
                question: Question::Param(1),
                on: None,
                explain: true
            }
        );
        assert_eq!(
            parse("ASK $$what's up$$").expect("ok"),
            Command::Ask {
                question: Question::Literal("what's up".into()),
                on: None,
                explain: false
            }
        );
        assert!(parse("ASK 'unterminated").is_err());
        assert!(parse("ASK how many").is_err());
        assert!(parse("ASK 'q' ON").is_err());
        assert!(parse("ASK 'q' shop").is_err());
        assert!(matches!(
            parse("EXPLAIN SELECT 1").expect("ok"),
            Command::Sql(_)
        ));
        assert_eq!(
            parse("ASK ('what''s up?') ON shop").expect("ok"),
            Command::Ask {
                question: Question::Literal("what's up?".into()),
                on: Some(vec!["shop".into()]),
                explain: false
            }
        );
        assert_eq!(
            parse("DEALLOCATE \"_PLAN0x1\"").expect("ok"),
            Command::Deallocate
        );
    }

    #[test]
    fn set_show_reset() {
        assert_eq!(
            parse("SET dbguru.connections = 'shop, warehouse'").expect("ok"),
            Command::Set {
                name: "dbguru.connections".into(),
                value: "shop, warehouse".into()
            }
        );
        assert_eq!(
            parse("SET dbguru.max_rows TO 500").expect("ok"),
            Command::Set {
                name: "dbguru.max_rows".into(),
                value: "500".into()
            }
        );
        assert_eq!(
            parse("set dbguru.max_rows = -1").expect("ok"),
            Command::Set {
                name: "dbguru.max_rows".into(),
                value: "-1".into()
            }
        );
        assert_eq!(
            parse("SHOW transaction isolation level").expect("ok"),
            Command::Show {
                name: "transaction_isolation".into()
            }
        );
        assert_eq!(
            parse("RESET dbguru.connections").expect("ok"),
            Command::Reset {
                name: "dbguru.connections".into()
            }
        );
        assert_eq!(
            parse("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY").expect("ok"),
            Command::Set {
                name: "transaction".into(),
                value: "CHARACTERISTICS AS TRANSACTION READ ONLY".into()
            }
        );
    }

    #[test]
    fn splitting() {
        assert_eq!(
            split_statements(
                "SET DateStyle = 'ISO';SET extra_float_digits = 2;show transaction_isolation"
            )
            .expect("ok"),
            vec![
                "SET DateStyle = 'ISO'",
                "SET extra_float_digits = 2",
                "show transaction_isolation"
            ]
        );
        assert_eq!(
            split_statements("ASK 'a;b'; SELECT $$x;y$$").expect("ok"),
            vec!["ASK 'a;b'", "SELECT $$x;y$$"]
        );
        assert_eq!(
            split_statements("SELECT 1 -- ; not\n").expect("ok"),
            vec!["SELECT 1 -- ; not"]
        );
        assert!(split_statements("ASK 'oops").is_err());
        assert_eq!(split_statements(";;").expect("ok"), Vec::<String>::new());
    }

    #[test]
    fn ask_as_a_table_function() {
        let ask =
            |q: &str, on: Option<Vec<&str>>, explain: bool, limit: Option<u64>| Command::AskTable {
                ask: Box::new(Command::Ask {
                    question: Question::Literal(q.into()),
                    on: on.map(|v| v.into_iter().map(String::from).collect()),
                    explain,
                }),
                limit,
            };
        assert_eq!(
            parse("SELECT * FROM dbguru.ask('how many orders?')").expect("parses"),
            ask("how many orders?", None, false, None)
        );
        assert_eq!(
            parse("select *\nfrom DBGURU.ask('it''s', 'shop, warehouse') AS a\nLIMIT 1001;")
                .expect("parses"),
            ask("it's", Some(vec!["shop", "warehouse"]), false, Some(1001))
        );
        assert_eq!(
            parse("SELECT * FROM dbguru.explain_ask('total revenue')").expect("parses"),
            ask("total revenue", None, true, None)
        );
        // Anything else naming it is SQL (the catalog or the target answers).
        assert!(matches!(
            parse("SELECT source_db FROM dbguru.ask('x')").expect("parses"),
            Command::Sql(_)
        ));
    }
}
