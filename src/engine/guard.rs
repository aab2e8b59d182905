//! The first safety layer: every statement is parsed in its connection's dialect and
//! must be exactly one statement of a read-only kind (unless writes are allowed), free
//! of file, network and extension functions. It also caps the rows a query may return.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, LimitClause, ObjectName, Query, Statement, TableFactor, Value, Visit, Visitor,
};
use sqlparser::dialect::{
    Dialect as SqlDialect, DuckDbDialect, GenericDialect, MySqlDialect, PostgreSqlDialect,
    SQLiteDialect,
};
use sqlparser::parser::Parser;

use crate::backends::Dialect;

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
    /// A function that reaches files, the network, other processes or extensions.
    #[error("function {0}() is not allowed (file, network or extension access)")]
    ForbiddenFunction(String),
}

/// Functions that read or write files, reach the network or other servers, load code,
/// or change server state. Checked in every dialect (names are distinctive enough).
const DENIED_FUNCTIONS: &[&str] = &[
    // PostgreSQL
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "pg_ls_logdir",
    "pg_ls_waldir",
    "pg_ls_tmpdir",
    "pg_ls_archive_statusdir",
    "lo_import",
    "lo_export",
    "lo_from_bytea",
    "lo_put",
    "lo_unlink",
    "lo_create",
    "lo_open",
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "dblink_open",
    "dblink_send_query",
    "pg_file_write",
    "pg_file_rename",
    "pg_file_unlink",
    "pg_logdir_ls",
    "set_config",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_advisory_lock",
    "pg_notify",
    "pg_create_logical_replication_slot",
    "pg_create_physical_replication_slot",
    "pg_drop_replication_slot",
    "pg_import_system_collations",
    "txid_current",
    "nextval",
    "setval",
    // MySQL / MariaDB
    "load_file",
    "sys_exec",
    "sys_eval",
    // SQLite
    "load_extension",
    "readfile",
    "writefile",
    "edit",
    "fts3_tokenizer",
    // DuckDB
    "read_csv",
    "read_csv_auto",
    "read_parquet",
    "parquet_scan",
    "read_json",
    "read_json_auto",
    "read_json_objects",
    "read_ndjson",
    "read_ndjson_auto",
    "read_ndjson_objects",
    "read_text",
    "read_blob",
    "glob",
    "sniff_csv",
    "parquet_metadata",
    "parquet_schema",
    "parquet_file_metadata",
    "parquet_kv_metadata",
    "read_xlsx",
    "st_read",
    "sqlite_scan",
    "sqlite_attach",
    "postgres_scan",
    "postgres_attach",
    "postgres_query",
    "postgres_execute",
    "mysql_query",
    "mysql_execute",
    "iceberg_scan",
    "delta_scan",
    "getenv",
    "install_extension",
    "load_extension",
    "duckdb_secrets",
    "which_secret",
    "query_table",
    "query",
];

/// The result of a successful check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The SQL to run: the original text, or a row-capped rewrite of it.
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

struct Inspector {
    allow_write: bool,
    top: bool,
    refusal: Option<GuardError>,
}

fn statement_kind(s: &Statement) -> String {
    let text = s.to_string();
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or("statement").to_ascii_uppercase();
    match first.as_str() {
        "CREATE" | "DROP" | "ALTER" | "TRUNCATE" | "GRANT" | "REVOKE" => format!(
            "{first} {}",
            words.next().unwrap_or("").to_ascii_uppercase()
        )
        .trim()
        .to_string(),
        _ => first,
    }
}

fn is_read_only_kind(s: &Statement) -> bool {
    match s {
        Statement::Query(_) => true,
        Statement::Explain {
            analyze, statement, ..
        } => !*analyze && matches!(**statement, Statement::Query(_)),
        Statement::ExplainTable { .. } => true,
        other => {
            let kind = statement_kind(other);
            kind == "SHOW" || kind == "DESCRIBE" || kind == "DESC"
        }
    }
}

/// Statement kinds refused even when writes are allowed: they reach files, load
/// code, attach other databases or change the proxy's own connection state.
fn never_allowed(s: &Statement) -> Option<String> {
    let kind = statement_kind(s);
    let denied = [
        "COPY",
        "ATTACH",
        "DETACH",
        "PRAGMA",
        "INSTALL",
        "LOAD",
        "EXPORT",
        "IMPORT",
        "SET",
        "RESET",
        "USE",
        "GRANT",
        "REVOKE",
        "CALL",
        "EXECUTE",
        "PREPARE",
        "DEALLOCATE",
        "LISTEN",
        "NOTIFY",
        "UNLISTEN",
        "BEGIN",
        "START",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
        "KILL",
        "VACUUM",
        "FLUSH",
        "LOCK",
        "UNLOCK",
        "CREATE EXTENSION",
        "CREATE SECRET",
        "CREATE FUNCTION",
        "CREATE PROCEDURE",
        "CREATE SERVER",
        "CREATE USER",
        "CREATE ROLE",
        "ALTER USER",
        "ALTER ROLE",
        "ALTER SYSTEM",
        "DROP DATABASE",
        "CREATE DATABASE",
        "DROP SCHEMA",
        "DROP USER",
        "DROP ROLE",
    ];
    denied
        .iter()
        .any(|d| kind == *d || kind.starts_with(&format!("{d} ")))
        .then_some(kind)
}

fn check_name(name: &ObjectName) -> Option<GuardError> {
    let last = name.0.last()?.to_string();
    let bare = last
        .trim_matches(|c| c == '"' || c == '`')
        .to_ascii_lowercase();
    DENIED_FUNCTIONS
        .contains(&bare.as_str())
        .then_some(GuardError::ForbiddenFunction(bare))
}

impl Visitor for Inspector {
    type Break = ();

    fn pre_visit_statement(&mut self, s: &Statement) -> ControlFlow<()> {
        // A query (SELECT, WITH, VALUES...) is never a denied kind and always a
        // read-only one; its parts are visited below. Skips printing the statement.
        if matches!(s, Statement::Query(_)) {
            self.top = false;
            return ControlFlow::Continue(());
        }
        if let Some(kind) = never_allowed(s) {
            self.refusal = Some(GuardError::Forbidden(kind));
            return ControlFlow::Break(());
        }
        if !self.allow_write && !is_read_only_kind(s) {
            self.refusal = Some(GuardError::WriteNotAllowed(statement_kind(s)));
            return ControlFlow::Break(());
        }
        self.top = false;
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if !self.allow_write {
            if !q.locks.is_empty() {
                self.refusal = Some(GuardError::WriteNotAllowed("SELECT ... FOR UPDATE".into()));
                return ControlFlow::Break(());
            }
            if let sqlparser::ast::SetExpr::Select(sel) = q.body.as_ref() {
                if sel.into.is_some() {
                    self.refusal = Some(GuardError::WriteNotAllowed("SELECT INTO".into()));
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<()> {
        // `FROM 'data.csv'`: DuckDB reads a file named by a string (replacement scan).
        if let TableFactor::Table { name, .. } = t {
            let quoted_string = name
                .0
                .iter()
                .any(|p| p.as_ident().is_some_and(|i| i.quote_style == Some('\'')));
            if quoted_string {
                self.refusal = Some(GuardError::Forbidden(format!(
                    "a table named by a string ({name}), which reads a file"
                )));
                return ControlFlow::Break(());
            }
        }
        let name = match t {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            } => Some(name),
            TableFactor::Function { name, .. } => Some(name),
            _ => None,
        };
        if let Some(err) = name.and_then(check_name) {
            self.refusal = Some(err);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if let Expr::Function(f) = e {
            if let Some(err) = check_name(&f.name) {
                self.refusal = Some(err);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
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
    // Textual checks that catch what a permissive parse could hide.
    let lower = trimmed.to_ascii_lowercase();
    for needle in [
        "into outfile",
        "into dumpfile",
        "to program",
        "from program",
    ] {
        if lower.contains(needle) {
            return Err(GuardError::Forbidden(needle.to_ascii_uppercase()));
        }
    }
    let pd = parser_dialect(dialect);
    let mut statements =
        Parser::parse_sql(pd.as_ref(), trimmed).map_err(|e| GuardError::Unparsable {
            dialect: dialect.name(),
            message: e.to_string(),
        })?;
    match statements.len() {
        0 => return Err(GuardError::Empty),
        1 => {}
        n => return Err(GuardError::MultipleStatements(n)),
    }
    let mut inspector = Inspector {
        allow_write,
        top: true,
        refusal: None,
    };
    let _ = statements[0].visit(&mut inspector);
    if let Some(r) = inspector.refusal {
        return Err(r);
    }
    let is_query = is_read_only_kind(&statements[0]);
    let mut out = trimmed.to_string();
    if let (Some(cap), Statement::Query(q)) = (row_cap, &mut statements[0]) {
        if cap_limit(q, cap) {
            out = statements[0].to_string();
        }
    }
    Ok(Checked { sql: out, is_query })
}

/// Most statement shapes [`VerdictCache`] remembers; it starts afresh when full.
const VERDICT_ENTRIES: usize = 4096;

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
        if dialect == Dialect::Mongodb || trimmed.is_empty() {
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

fn literal_usize(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.to_string().parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

fn number(n: usize) -> Expr {
    Expr::value(Value::Number(
        n.to_string().parse().unwrap_or_default(),
        false,
    ))
}

/// Lowers or adds the top-level LIMIT; returns whether the query changed.
fn cap_limit(q: &mut Query, cap: usize) -> bool {
    if q.fetch.is_some() {
        return false;
    }
    match &mut q.limit_clause {
        None => {
            q.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(number(cap)),
                offset: None,
                limit_by: vec![],
            });
            true
        }
        Some(LimitClause::LimitOffset {
            limit, limit_by, ..
        }) if limit_by.is_empty() => match limit.as_ref().map(literal_usize) {
            None => {
                *limit = Some(number(cap));
                true
            }
            Some(Some(n)) if n > cap => {
                *limit = Some(number(cap));
                true
            }
            _ => false,
        },
        Some(LimitClause::OffsetCommaLimit { limit, .. }) => match literal_usize(limit) {
            Some(n) if n > cap => {
                *limit = number(cap);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str, d: Dialect) -> GuardError {
        check(sql, d, false, None).expect_err(sql)
    }

    #[test]
    fn reads_pass_and_get_capped() {
        let c = check("SELECT * FROM t", Dialect::Postgres, false, Some(11)).expect("ok");
        assert_eq!(c.sql, "SELECT * FROM t LIMIT 11");
        let c = check("SELECT * FROM t LIMIT 5;", Dialect::Sqlite, false, Some(11)).expect("ok");
        assert_eq!(c.sql, "SELECT * FROM t LIMIT 5");
        let c = check(
            "SELECT * FROM t LIMIT 500",
            Dialect::Duckdb,
            false,
            Some(11),
        )
        .expect("ok");
        assert_eq!(c.sql, "SELECT * FROM t LIMIT 11");
        let c = check(
            "SELECT * FROM t LIMIT 10, 500",
            Dialect::Mysql,
            false,
            Some(11),
        )
        .expect("ok");
        assert!(c.sql.ends_with("LIMIT 10, 11"), "{}", c.sql);
        let c = check(
            "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
            Dialect::Postgres,
            false,
            None,
        )
        .expect("ok");
        assert!(c.is_query);
    }

    #[test]
    fn writes_and_dangerous_things_are_refused() {
        for (sql, d) in [
            ("DROP TABLE customers", Dialect::Postgres),
            ("DELETE FROM customers", Dialect::Mysql),
            ("UPDATE customers SET name = 'x'", Dialect::Sqlite),
            ("INSERT INTO t VALUES (1)", Dialect::Duckdb),
            (
                "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
                Dialect::Postgres,
            ),
            ("SELECT * FROM t FOR UPDATE", Dialect::Postgres),
            ("SELECT * INTO t2 FROM t", Dialect::Postgres),
        ] {
            assert!(
                matches!(refused(sql, d), GuardError::WriteNotAllowed(_)),
                "{sql}"
            );
        }
        assert!(matches!(
            refused("SELECT 1; SELECT 2", Dialect::Postgres),
            GuardError::MultipleStatements(2)
        ));
        assert!(matches!(
            refused("COPY t TO PROGRAM 'rm -rf /'", Dialect::Postgres),
            GuardError::Forbidden(_)
        ));
        assert!(matches!(
            refused("SELECT pg_read_file('/etc/passwd')", Dialect::Postgres),
            GuardError::ForbiddenFunction(_)
        ));
        assert!(matches!(
            refused("ATTACH DATABASE '/tmp/x.db' AS x", Dialect::Sqlite),
            GuardError::Forbidden(_)
        ));
        assert!(matches!(
            refused("SELECT * FROM t INTO OUTFILE '/tmp/x'", Dialect::Mysql),
            GuardError::Forbidden(_)
        ));
        assert!(matches!(
            refused("SELECT * FROM read_csv('/etc/passwd')", Dialect::Duckdb),
            GuardError::ForbiddenFunction(_)
        ));
        assert!(matches!(
            refused("SELECT load_file('/etc/passwd')", Dialect::Mysql),
            GuardError::ForbiddenFunction(_)
        ));
        assert!(matches!(
            refused("PRAGMA writable_schema = 1", Dialect::Sqlite),
            GuardError::Forbidden(_)
        ));
        assert!(matches!(refused("", Dialect::Sqlite), GuardError::Empty));
    }

    #[test]
    fn mongodb_pipelines_are_guarded_and_sql_is_checked() {
        let ok = r#"{"collection": "events", "pipeline": [{"$group": {"_id": "$kind", "n": {"$sum": 1}}}]}"#;
        let c = check(ok, Dialect::Mongodb, false, Some(11)).expect("pipeline passes");
        assert_eq!(c.sql, ok);
        assert!(c.is_query);
        for bad in [
            r#"{"collection": "events", "pipeline": [{"$out": "copy"}]}"#,
            r#"{"collection": "events", "pipeline": [{"$lookup": {"from": "x", "pipeline": [{"$merge": {"into": "y"}}], "as": "z"}}]}"#,
            r#"{"collection": "events", "pipeline": [{"$match": {"$where": "true"}}]}"#,
        ] {
            assert!(
                matches!(refused(bad, Dialect::Mongodb), GuardError::Forbidden(_)),
                "{bad}"
            );
            assert!(
                check(bad, Dialect::Mongodb, true, None).is_err(),
                "{bad} even with writes allowed"
            );
        }
        assert!(matches!(
            refused("{not json", Dialect::Mongodb),
            GuardError::Unparsable { .. }
        ));
        assert!(matches!(
            refused("UPDATE events SET kind = 'x'", Dialect::Mongodb),
            GuardError::WriteNotAllowed(_)
        ));
        let c = check("SELECT kind FROM events", Dialect::Mongodb, false, Some(11))
            .expect("sql passes");
        assert_eq!(c.sql, "SELECT kind FROM events LIMIT 11");
    }

    #[test]
    fn shapes_differ_only_in_free_standing_numbers() {
        let a = shape("SELECT a FROM t1 WHERE id = 14718 AND x = 1.5");
        assert_eq!(a, shape("SELECT a FROM t1 WHERE id = 7 AND x = 22.0"));
        assert_eq!(a, b"SELECT a FROM t1 WHERE id = \0 AND x = \0.\0".to_vec());
        // Digits inside words, parameters, strings, identifiers and comments stay.
        for (x, y) in [
            ("SELECT * FROM t1", "SELECT * FROM t2"),
            ("SELECT $1", "SELECT $2"),
            ("SELECT 1e5", "SELECT 1e6"),
            ("SELECT 0x1F", "SELECT 0x2F"),
            ("SELECT '1'", "SELECT '2'"),
            ("SELECT \"c1\"", "SELECT \"c2\""),
            ("SELECT 1 -- 1\n", "SELECT 1 -- 2\n"),
            ("SELECT 1 /* 1 */", "SELECT 1 /* 2 */"),
            ("SELECT 1 ? 2", "SELECT 1 ? ?"),
        ] {
            assert_ne!(shape(x), shape(y), "{x} / {y}");
        }
    }

    #[test]
    fn cached_verdicts_match_the_checks() {
        let cache = VerdictCache::default();
        for _ in 0..2 {
            let c = cache
                .check(
                    "SELECT abalance FROM a WHERE aid = 5;",
                    Dialect::Postgres,
                    false,
                )
                .expect("read passes");
            assert_eq!(c.sql, "SELECT abalance FROM a WHERE aid = 5");
            assert!(c.is_query);
        }
        // Same shape as the accepted statement, different number: answered from the cache.
        let c = cache
            .check(
                "SELECT abalance FROM a WHERE aid = 77",
                Dialect::Postgres,
                false,
            )
            .expect("same shape passes");
        assert_eq!(c.sql, "SELECT abalance FROM a WHERE aid = 77");
        // The verdict is per dialect and per write permission; refusals are never cached.
        for _ in 0..2 {
            assert!(cache
                .check("DELETE FROM a WHERE aid = 5", Dialect::Postgres, false)
                .is_err());
        }
        assert!(cache
            .check("DELETE FROM a WHERE aid = 5", Dialect::Postgres, true)
            .is_ok());
        assert!(cache
            .check("DELETE FROM a WHERE aid = 6", Dialect::Postgres, false)
            .is_err());
        assert!(cache
            .check(
                "SELECT pg_read_file('/etc/passwd', 0, 10)",
                Dialect::Postgres,
                false
            )
            .is_err());
        assert!(cache
            .check("SELECT 1; SELECT 2", Dialect::Postgres, false)
            .is_err());
    }

    #[test]
    fn duckdb_file_scans_by_string_are_refused() {
        for sql in [
            "SELECT * FROM '/etc/passwd'",
            "SELECT * FROM 'data.csv' AS d",
        ] {
            assert!(check(sql, Dialect::Duckdb, false, None).is_err(), "{sql}");
        }
    }

    #[test]
    fn writes_pass_when_allowed_but_files_never() {
        assert!(check("INSERT INTO t VALUES (1)", Dialect::Postgres, true, None).is_ok());
        assert!(check("COPY t TO '/tmp/x'", Dialect::Postgres, true, None).is_err());
    }
}
