//! `COPY … TO STDOUT`: the one form of COPY a client may send, checked as the query
//! whose rows it copies.

use sqlparser::ast::{CopySource, CopyTarget, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::sql::limits;

/// For `COPY (query) TO STDOUT …` or `COPY table [(columns)] TO STDOUT …` (PostgreSQL):
/// the query whose rows it copies (`SELECT columns FROM table`), for the guard to check
/// like any other query. `None` for every other statement, and for every other COPY
/// (to or from a file or a program, `FROM STDIN`), which stays refused.
pub fn copy_out_query(sql: &str) -> Option<String> {
    let trimmed = sql.trim().trim_end_matches(';').trim();
    if !trimmed.get(..4)?.eq_ignore_ascii_case("copy") {
        return None;
    }
    limits::check(trimmed).ok()?;
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, trimmed).ok()?;
    if statements.len() != 1 {
        return None;
    }
    match statements.pop()? {
        Statement::Copy {
            source,
            to: true,
            target: CopyTarget::Stdout,
            ..
        } => Some(match source {
            CopySource::Query(q) => q.to_string(),
            CopySource::Table {
                table_name,
                columns,
            } => {
                let cols = if columns.is_empty() {
                    "*".to_string()
                } else {
                    columns
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                format!("SELECT {cols} FROM {table_name}")
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::copy_out_query;

    #[test]
    fn only_copy_to_stdout_yields_its_query() {
        assert_eq!(
            copy_out_query("COPY (SELECT id FROM t ORDER BY id) TO STDOUT").as_deref(),
            Some("SELECT id FROM t ORDER BY id")
        );
        assert_eq!(
            copy_out_query("copy t (a, b) to stdout with (format csv, header)").as_deref(),
            Some("SELECT a, b FROM t")
        );
        assert_eq!(
            copy_out_query("COPY s.t TO STDOUT").as_deref(),
            Some("SELECT * FROM s.t")
        );
        for refused in [
            "COPY t TO '/tmp/x'",
            "COPY t TO PROGRAM 'id'",
            "COPY t FROM STDIN",
            "COPY t FROM '/etc/passwd'",
            "COPY (SELECT 1) TO STDOUT; SELECT 2",
            "SELECT 1",
        ] {
            assert_eq!(copy_out_query(refused), None, "{refused}");
        }
    }
}
