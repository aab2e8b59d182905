//! Identifiers and string literals written for a database's dialect.

use crate::backends::Dialect;

/// `name` as an identifier of `d`, always quoted (quotes doubled inside): backticks for
/// MySQL/MariaDB, double quotes elsewhere.
pub fn ident(name: &str, d: Dialect) -> String {
    match d {
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// `s` as a string literal of `d` (quotes doubled; MySQL also doubles backslashes).
pub fn literal(s: &str, d: Dialect) -> String {
    let s = s.replace('\'', "''");
    match d {
        Dialect::Mysql => format!("'{}'", s.replace('\\', "\\\\")),
        _ => format!("'{s}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled_per_dialect() {
        assert_eq!(ident("a\"b", Dialect::Postgres), "\"a\"\"b\"");
        assert_eq!(ident("a`b", Dialect::Mysql), "`a``b`");
        assert_eq!(literal("it's", Dialect::Sqlite), "'it''s'");
        assert_eq!(literal("a\\'", Dialect::Mysql), "'a\\\\'''");
    }
}
