//! PostgreSQL regular expressions of the shape psql and drivers send for name patterns
//! (`'^(orders)$'`, `'^(ord.*)$'`, `'^pg_'`, `'^(a|b)$'`) as SQLite `GLOB` patterns.
//!
//! Supported: an optional `^` and `$`, one optional outer group with `|` alternatives,
//! literal characters, `\`-escaped characters, `.` and `.*`. Anything else (classes,
//! quantifiers other than `.*`, nested groups, backreferences) is refused, so a pattern is
//! either translated exactly or not at all.

/// The GLOB patterns (OR-ed) equivalent to the regular expression `re` (a match anywhere
/// in the string, as PostgreSQL's `~` does), or why there is none.
pub fn to_globs(re: &str) -> Result<Vec<String>, String> {
    let refuse =
        || format!("the regular expression '{re}' is not a name pattern dbguru can translate");
    let mut body = re;
    let anchored_start = body.starts_with('^');
    if anchored_start {
        body = &body[1..];
    }
    let anchored_end = body.ends_with('$') && !ends_escaped(&body[..body.len() - 1]);
    if anchored_end {
        body = &body[..body.len() - 1];
    }
    // One outer group spanning the whole body.
    if body.starts_with('(') && matching_paren(body) == Some(body.len() - 1) {
        body = &body[1..body.len() - 1];
    }
    let mut globs = Vec::new();
    for alt in split_alternatives(body).ok_or_else(refuse)? {
        let mut g = String::new();
        if !anchored_start {
            g.push('*');
        }
        let chars: Vec<char> = alt.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '\\' => {
                    let next = *chars.get(i + 1).ok_or_else(refuse)?;
                    if next.is_ascii_alphanumeric() {
                        // \d, \w, \m, … are classes or constraints, not literals.
                        return Err(refuse());
                    }
                    push_literal(&mut g, next);
                    i += 2;
                    continue;
                }
                '.' if chars.get(i + 1) == Some(&'*') => {
                    if !g.ends_with('*') || g.ends_with("[*]") {
                        g.push('*');
                    }
                    i += 2;
                    continue;
                }
                '.' => g.push('?'),
                '*' | '+' | '?' | '{' | '}' | '(' | ')' | '[' | ']' | '^' | '$' | '|' => {
                    return Err(refuse())
                }
                c => push_literal(&mut g, c),
            }
            i += 1;
        }
        if !anchored_end && (!g.ends_with('*') || g.ends_with("[*]")) {
            g.push('*');
        }
        globs.push(g);
    }
    Ok(globs)
}

fn push_literal(g: &mut String, c: char) {
    match c {
        '*' => g.push_str("[*]"),
        '?' => g.push_str("[?]"),
        '[' => g.push_str("[[]"),
        c => g.push(c),
    }
}

/// Whether `s` ends with an odd number of backslashes (so the next character is escaped).
fn ends_escaped(s: &str) -> bool {
    s.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

/// Index of the `)` closing the `(` at position 0.
fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits on unescaped `|`; `None` when a group remains (nested groups are not supported).
fn split_alternatives(s: &str) -> Option<Vec<String>> {
    let mut out = vec![String::new()];
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            escaped = false;
            if let Some(last) = out.last_mut() {
                last.push('\\');
                last.push(c);
            }
            continue;
        }
        match c {
            '\\' => escaped = true,
            '|' => out.push(String::new()),
            '(' | ')' => return None,
            c => {
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    if escaped {
        return None;
    }
    Some(out)
}
