//! A linear, non-recursive SQL tokenizer.
//!
//! It knows just enough of each dialect's lexical rules to tell code from strings,
//! quoted identifiers and comments: quotes with doubling and (where the dialect has them)
//! backslash escapes, PostgreSQL dollar quotes and nested block comments, MySQL `#` and
//! executable `/*!…*/` / `/*M!…*/` comments, SQLite `[…]` identifiers. Whitespace is
//! skipped; comments are returned as tokens so callers can see them. Every token
//! boundary is an ASCII byte, so token texts are always valid `&str` slices; bytes of
//! multi-byte characters count as identifier characters, as in PostgreSQL.
//!
//! An unterminated string, identifier or comment runs to the end of the input (its token
//! is marked [`Token::unterminated`]); the lexer never fails.

/// The lexical rules to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// PostgreSQL and DuckDB: `--` and nested `/* */` comments, `'…'` strings (backslash
    /// escapes only in `E'…'`), `"…"` identifiers, `$tag$…$tag$` strings, `$1` parameters.
    Postgres,
    /// MySQL and MariaDB: `#`, `-- ` and non-nested `/* */` comments, `'…'` and `"…"`
    /// strings (backslash escapes when `backslash_escapes`, as in the default `sql_mode`),
    /// backtick identifiers, `$` inside identifiers.
    Mysql {
        /// Whether a backslash escapes the next character in strings.
        backslash_escapes: bool,
    },
    /// SQLite: `--` and non-nested `/* */` comments, `'…'` strings, `"…"`, backtick and
    /// `[…]` identifiers, `?`, `:name`, `@name`, `$name` parameters.
    Sqlite,
}

/// Every mode: a text whose meaning must not depend on how a server lexes it is checked
/// under all of them.
pub const ALL_MODES: [Mode; 4] = [
    Mode::Postgres,
    Mode::Mysql {
        backslash_escapes: true,
    },
    Mode::Mysql {
        backslash_escapes: false,
    },
    Mode::Sqlite,
];

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An unquoted identifier or keyword.
    Word,
    /// A quoted identifier (`"x"`, `` `x` ``, `[x]`).
    QuotedIdent,
    /// A string literal of any form (`'x'`, `E'x'`, `$$x$$`, MySQL `"x"`).
    String,
    /// A numeric literal.
    Number,
    /// A placeholder (`$1`, `?`, `:name`).
    Param,
    /// A run of operator characters (`+`, `||`, `::`, `<>`, `->>`).
    Operator,
    /// `(`, `[` or `{`.
    Open,
    /// `)`, `]` or `}`.
    Close,
    /// `,`
    Comma,
    /// `;`
    Semicolon,
    /// `.`
    Dot,
    /// A comment (`-- …`, `# …`, `/* … */`).
    Comment,
    /// A MySQL/MariaDB executable comment: `/*!…*/`, `/*!50000 …*/`, `/*M!…*/`.
    ExecutableComment,
    /// Any other character.
    Other,
}

/// One token: its kind and where it is in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// What it is.
    pub kind: Kind,
    /// Its text, quotes and comment markers included.
    pub text: &'a str,
    /// Byte offset in the input.
    pub start: usize,
    /// A string, quoted identifier or comment that runs to the end of the input.
    pub unterminated: bool,
}

impl Token<'_> {
    /// Whether this is the unquoted word `w` (ASCII case-insensitive).
    pub fn is_word(&self, w: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(w)
    }

    /// Whether this token is code (not a comment).
    pub fn is_code(&self) -> bool {
        !matches!(self.kind, Kind::Comment | Kind::ExecutableComment)
    }

    /// The name a word or quoted identifier stands for, lower-cased (quotes removed,
    /// doubled quote characters collapsed); `None` for other tokens.
    pub fn name(&self) -> Option<String> {
        match self.kind {
            Kind::Word => Some(self.text.to_lowercase()),
            Kind::QuotedIdent => {
                let t = self.text;
                let open = t.chars().next()?;
                let close = if open == '[' { ']' } else { open };
                let inner = t.get(1..)?;
                let inner = if self.unterminated {
                    inner
                } else {
                    inner.get(..inner.len().saturating_sub(1))?
                };
                let doubled: String = [close, close].iter().collect();
                Some(inner.replace(&doubled, &close.to_string()).to_lowercase())
            }
            _ => None,
        }
    }
}

/// Tokens of `src` under `mode`, whitespace skipped, comments included.
pub fn tokens(src: &str, mode: Mode) -> Lexer<'_> {
    Lexer { src, pos: 0, mode }
}

/// The iterator [`tokens`] returns.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    mode: Mode,
}

fn is_ident_start(c: u8, mode: Mode) -> bool {
    c.is_ascii_alphabetic()
        || c == b'_'
        || c >= 0x80
        || (c == b'$' && matches!(mode, Mode::Mysql { .. }))
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

const OPERATOR_CHARS: &[u8] = b"+-*/<>=~!@#%^&|`?:";

/// Position of the first `needle` in `b` at or after `from` (naive search: `needle` is a
/// short dollar-quote tag, so this is linear in practice).
fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || from > b.len() {
        return None;
    }
    let first = needle[0];
    let mut i = from;
    while i + needle.len() <= b.len() {
        if b[i] == first && &b[i..i + needle.len()] == needle {
            return Some(i);
        }
        i += 1;
    }
    None
}

impl<'a> Lexer<'a> {
    fn byte(&self, i: usize) -> Option<u8> {
        self.src.as_bytes().get(i).copied()
    }

    /// End of a quoted run opened at `start` by `quote` (the opening quote excluded from
    /// `start + skip`), and whether it is unterminated.
    fn quoted(&self, body: usize, quote: u8, backslash: bool) -> (usize, bool) {
        let b = self.src.as_bytes();
        let mut i = body;
        while i < b.len() {
            let c = b[i];
            if backslash && c == b'\\' {
                i += 2;
                continue;
            }
            if c == quote {
                if b.get(i + 1) == Some(&quote) {
                    i += 2;
                    continue;
                }
                return (i + 1, false);
            }
            i += 1;
        }
        (b.len(), true)
    }

    fn block_comment(&self, start: usize) -> (usize, bool) {
        let b = self.src.as_bytes();
        let nested = self.mode == Mode::Postgres;
        let mut depth = 1usize;
        let mut i = start + 2;
        while i < b.len() {
            if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return (i, false);
                }
            } else if nested && b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                depth += 1;
                i += 2;
            } else {
                i += 1;
            }
        }
        (b.len(), true)
    }

    fn line_end(&self, from: usize) -> usize {
        let b = self.src.as_bytes();
        b[from..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |p| from + p)
    }

    /// A `$tag$` opening at `i` (PostgreSQL/DuckDB): the end of the whole dollar-quoted
    /// string, or `None` when `i` does not open one.
    fn dollar_quote(&self, i: usize) -> Option<(usize, bool)> {
        let b = self.src.as_bytes();
        if i > 0 && is_ident_char(b[i - 1]) {
            return None;
        }
        let mut j = i + 1;
        if b.get(j).is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
        while j < b.len() && is_ident_char(b[j]) && b[j] != b'$' {
            j += 1;
        }
        if b.get(j) != Some(&b'$') {
            return None;
        }
        let tag = &b[i..=j];
        Some(match find(b, j + 1, tag) {
            Some(end) => (end + tag.len(), false),
            None => (b.len(), true),
        })
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let b = self.src.as_bytes();
        while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        let i = self.pos;
        let c = *b.get(i)?;
        let next = self.byte(i + 1);
        let mysql = matches!(self.mode, Mode::Mysql { .. });
        let (kind, end, unterminated) = match c {
            b'-' if next == Some(b'-')
                && (!mysql || self.byte(i + 2).is_none_or(|d| d <= b' ')) =>
            {
                (Kind::Comment, self.line_end(i), false)
            }
            b'#' if mysql => (Kind::Comment, self.line_end(i), false),
            b'/' if next == Some(b'*') => {
                let executable = match self.byte(i + 2) {
                    Some(b'!') => true,
                    Some(b'M' | b'm') => self.byte(i + 3) == Some(b'!'),
                    _ => false,
                };
                let (end, open) = self.block_comment(i);
                let kind = if executable {
                    Kind::ExecutableComment
                } else {
                    Kind::Comment
                };
                (kind, end, open)
            }
            b'\'' => {
                let backslash = matches!(
                    self.mode,
                    Mode::Mysql {
                        backslash_escapes: true
                    }
                );
                let (end, open) = self.quoted(i + 1, b'\'', backslash);
                (Kind::String, end, open)
            }
            b'"' => {
                let backslash = matches!(
                    self.mode,
                    Mode::Mysql {
                        backslash_escapes: true
                    }
                );
                let (end, open) = self.quoted(i + 1, b'"', backslash);
                (
                    if mysql {
                        Kind::String
                    } else {
                        Kind::QuotedIdent
                    },
                    end,
                    open,
                )
            }
            b'`' if self.mode != Mode::Postgres => {
                let (end, open) = self.quoted(i + 1, b'`', false);
                (Kind::QuotedIdent, end, open)
            }
            b'[' if self.mode == Mode::Sqlite => match b[i + 1..].iter().position(|&x| x == b']') {
                Some(p) => (Kind::QuotedIdent, i + p + 2, false),
                None => (Kind::QuotedIdent, b.len(), true),
            },
            b'$' if self.mode == Mode::Postgres => {
                if next.is_some_and(|d| d.is_ascii_digit()) {
                    let mut j = i + 1;
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    (Kind::Param, j, false)
                } else if let Some((end, open)) = self.dollar_quote(i) {
                    (Kind::String, end, open)
                } else {
                    (Kind::Other, i + 1, false)
                }
            }
            b'$' | b':' | b'@' | b'?'
                if self.mode == Mode::Sqlite
                    && (c == b'?' || next.is_some_and(|d| is_ident_start(d, self.mode))) =>
            {
                let mut j = i + 1;
                while j < b.len() && (is_ident_char(b[j]) || b[j].is_ascii_digit()) {
                    j += 1;
                }
                (Kind::Param, j, false)
            }
            b'?' if mysql => (Kind::Param, i + 1, false),
            b'0'..=b'9' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'.')
                {
                    j += 1;
                }
                (Kind::Number, j, false)
            }
            b'.' if next.is_some_and(|d| d.is_ascii_digit()) => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                (Kind::Number, j, false)
            }
            c if is_ident_start(c, self.mode) => {
                let mut j = i + 1;
                while j < b.len() && is_ident_char(b[j]) {
                    j += 1;
                }
                // A one-letter prefix glued to a quote is part of the literal:
                // E'…' (backslash escapes), N'…', X'…', B'…', U&'…' / U&"…".
                let word = &b[i..j];
                let after = self.byte(j);
                let prefix_amp = word.eq_ignore_ascii_case(b"u")
                    && after == Some(b'&')
                    && matches!(self.byte(j + 1), Some(b'\'' | b'"'));
                if prefix_amp {
                    let quote = b[j + 1];
                    let (end, open) = self.quoted(j + 2, quote, false);
                    let kind = if quote == b'"' {
                        Kind::QuotedIdent
                    } else {
                        Kind::String
                    };
                    (kind, end, open)
                } else if word.len() == 1
                    && after == Some(b'\'')
                    && matches!(word[0].to_ascii_lowercase(), b'e' | b'n' | b'x' | b'b')
                {
                    let backslash = word[0].eq_ignore_ascii_case(&b'e')
                        || matches!(
                            self.mode,
                            Mode::Mysql {
                                backslash_escapes: true
                            }
                        );
                    let (end, open) = self.quoted(j + 1, b'\'', backslash);
                    (Kind::String, end, open)
                } else {
                    (Kind::Word, j, false)
                }
            }
            b'(' | b'[' | b'{' => (Kind::Open, i + 1, false),
            b')' | b']' | b'}' => (Kind::Close, i + 1, false),
            b',' => (Kind::Comma, i + 1, false),
            b';' => (Kind::Semicolon, i + 1, false),
            b'.' => (Kind::Dot, i + 1, false),
            c if OPERATOR_CHARS.contains(&c) && !(c == b'#' && mysql) => {
                let mut j = i + 1;
                while j < b.len()
                    && OPERATOR_CHARS.contains(&b[j])
                    && !(b[j] == b'#' && mysql)
                    && !(b[j] == b'-' && b.get(j + 1) == Some(&b'-'))
                    && !(b[j] == b'/' && b.get(j + 1) == Some(&b'*'))
                    && !(b[j] == b'`' && mysql)
                {
                    j += 1;
                }
                (Kind::Operator, j, false)
            }
            _ => (Kind::Other, i + 1, false),
        };
        // `end` is always at an ASCII byte or the end of the input; be defensive anyway.
        let mut end = end.min(b.len()).max(i + 1);
        while !self.src.is_char_boundary(end) {
            end += 1;
        }
        self.pos = end;
        Some(Token {
            kind,
            text: self.src.get(i..end).unwrap_or(""),
            start: i,
            unterminated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str, mode: Mode) -> Vec<(Kind, &str)> {
        tokens(s, mode).map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn strings_comments_and_quotes() {
        let t = kinds(
            "SELECT 'a''b', E'x\\'y', $q$ ; $q$ -- c\n/* a /* b */ c */ 1",
            Mode::Postgres,
        );
        assert_eq!(
            t,
            vec![
                (Kind::Word, "SELECT"),
                (Kind::String, "'a''b'"),
                (Kind::Comma, ","),
                (Kind::String, "E'x\\'y'"),
                (Kind::Comma, ","),
                (Kind::String, "$q$ ; $q$"),
                (Kind::Comment, "-- c"),
                (Kind::Comment, "/* a /* b */ c */"),
                (Kind::Number, "1"),
            ]
        );
        // MySQL: comments do not nest; `#` comments; backslash escapes; executable comments.
        let t = kinds(
            "SELECT 'a\\'b' # x\n/*M!100000 , 2 */ /*!, 3*/ 1--1",
            Mode::Mysql {
                backslash_escapes: true,
            },
        );
        assert_eq!(
            t,
            vec![
                (Kind::Word, "SELECT"),
                (Kind::String, "'a\\'b'"),
                (Kind::Comment, "# x"),
                (Kind::ExecutableComment, "/*M!100000 , 2 */"),
                (Kind::ExecutableComment, "/*!, 3*/"),
                (Kind::Number, "1"),
                (Kind::Operator, "--"),
                (Kind::Number, "1"),
            ]
        );
        let t = kinds("SELECT [a b], \"set_config\"(1)", Mode::Sqlite);
        assert_eq!(t[1], (Kind::QuotedIdent, "[a b]"));
        let q = tokens("\"set_\"\"config\"", Mode::Postgres)
            .next()
            .expect("token");
        assert_eq!(q.name().as_deref(), Some("set_\"config"));
    }

    #[test]
    fn unterminated_runs_to_the_end_and_never_panics() {
        for s in [
            "'abc", "/* x", "$a$ b", "\"x", "E'\\", "é'", "U&\"x", "[x", "`x",
        ] {
            for m in ALL_MODES {
                let v: Vec<_> = tokens(s, m).collect();
                assert!(!v.is_empty(), "{s}");
                assert!(v.iter().map(|t| t.text.len()).sum::<usize>() <= s.len());
            }
        }
    }

    #[test]
    fn operators_stop_before_comments() {
        let t = kinds("1+--x\n2 */*c*/3", Mode::Postgres);
        assert_eq!(
            t,
            vec![
                (Kind::Number, "1"),
                (Kind::Operator, "+"),
                (Kind::Comment, "--x"),
                (Kind::Number, "2"),
                (Kind::Operator, "*"),
                (Kind::Comment, "/*c*/"),
                (Kind::Number, "3"),
            ]
        );
    }
}
