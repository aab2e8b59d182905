//! Bound parameters for databases that are not sent them separately: `$n` placeholders
//! become literals, quoted by the rules of the target's dialect, so a value can never end
//! its literal early (MySQL and MariaDB treat a backslash in a string as an escape; the
//! others do not). PostgreSQL binds parameters itself and never goes through here.

use super::Dialect;

/// Whether `dialect` reads a backslash inside a quoted string as an escape character.
fn backslash_escapes(dialect: Dialect) -> bool {
    matches!(dialect, Dialect::Mysql)
}

/// `v` as a literal of `dialect`: a plain number as it is (in parentheses when negative,
/// so `10 -$1` cannot become a comment), anything else as a quoted string.
fn literal(v: &str, dialect: Dialect) -> String {
    let numeric = !v.is_empty()
        && v.parse::<f64>().is_ok()
        && v.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    if numeric {
        return if v.starts_with('-') {
            format!("({v})")
        } else {
            v.to_string()
        };
    }
    let mut out = String::with_capacity(v.len() + 2);
    out.push('\'');
    for c in v.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if backslash_escapes(dialect) => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Substitutes the `$n` placeholders of `sql` (outside quotes and comments) with the
/// values of `params` as literals of `dialect`; `None` becomes `NULL`. A placeholder
/// without a value is left as it is (the database reports it).
pub fn interpolate(sql: &str, params: &[Option<String>], dialect: Dialect) -> String {
    let b: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len() + 16);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        // Quoted strings and identifiers are copied as they are.
        if c == '\'' || c == '"' || (c == '`' && dialect == Dialect::Mysql) {
            out.push(c);
            i += 1;
            while i < b.len() {
                let d = b[i];
                out.push(d);
                i += 1;
                if d == '\\' && c == '\'' && backslash_escapes(dialect) {
                    if let Some(&e) = b.get(i) {
                        out.push(e);
                        i += 1;
                    }
                } else if d == c {
                    break;
                }
            }
            continue;
        }
        // Comments too.
        if c == '-' && b.get(i + 1) == Some(&'-') {
            while i < b.len() && b[i] != '\n' {
                out.push(b[i]);
                i += 1;
            }
            continue;
        }
        if c == '/' && b.get(i + 1) == Some(&'*') {
            let end = (i + 2..b.len().saturating_sub(1))
                .find(|&j| b[j] == '*' && b[j + 1] == '/')
                .map_or(b.len(), |j| j + 2);
            out.extend(&b[i..end]);
            i = end;
            continue;
        }
        if c == '$' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let n: usize = b[i + 1..j].iter().collect::<String>().parse().unwrap_or(0);
            match params.get(n.wrapping_sub(1)) {
                Some(Some(v)) => out.push_str(&literal(v, dialect)),
                Some(None) => out.push_str("NULL"),
                None => out.extend(&b[i..j]),
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_literals_of_the_dialect() {
        let p = |v: &[Option<&str>]| v.iter().map(|x| x.map(String::from)).collect::<Vec<_>>();
        assert_eq!(
            interpolate(
                "SELECT $1, $2, $3",
                &p(&[Some("5"), None, Some("it's")]),
                Dialect::Sqlite
            ),
            "SELECT 5, NULL, 'it''s'"
        );
        // A negative number cannot turn `-` into a comment.
        assert_eq!(
            interpolate("SELECT 10 -$1", &p(&[Some("-5")]), Dialect::Duckdb),
            "SELECT 10 -(-5)"
        );
        // Numbers with exponents, NaN or infinity are strings.
        assert_eq!(
            interpolate(
                "SELECT $1, $2",
                &p(&[Some("1e5"), Some("NaN")]),
                Dialect::Sqlite
            ),
            "SELECT '1e5', 'NaN'"
        );
        // MySQL reads backslashes in strings as escapes: they are doubled, so a value
        // cannot close its literal early.
        assert_eq!(
            interpolate("SELECT $1", &p(&[Some(r"\' OR 1=1 -- ")]), Dialect::Mysql),
            r"SELECT '\\'' OR 1=1 -- '"
        );
        assert_eq!(
            interpolate("SELECT $1", &p(&[Some(r"a\b")]), Dialect::Sqlite),
            r"SELECT 'a\b'"
        );
        // Placeholders in strings, identifiers and comments stay; missing values stay.
        assert_eq!(
            interpolate(
                r#"SELECT '$1', "$1", `$1`, 'x\'$1' -- $1
/* $1 */ $1, $2"#,
                &p(&[Some("7")]),
                Dialect::Mysql
            ),
            r#"SELECT '$1', "$1", `$1`, 'x\'$1' -- $1
/* $1 */ 7, $2"#
        );
    }
}
