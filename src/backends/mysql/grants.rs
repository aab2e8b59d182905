//! Whether the account behind a connection could write: its `SHOW GRANTS`.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// Privileges that change data, schema or files (`ALL` includes them all).
const WRITING: &[&str] = &[
    "ALL",
    "ALL PRIVILEGES",
    "INSERT",
    "UPDATE",
    "DELETE",
    "FILE",
    "SUPER",
    "CREATE",
    "DROP",
    "ALTER",
    "INDEX",
    "CREATE VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "TRIGGER",
    "EVENT",
    "LOCK TABLES",
];

/// The writing grants of the current account, one `PRIVS ON target` phrase per grant.
pub(super) async fn write_privileges(conn: &mut Conn) -> Result<Vec<String>, mysql_async::Error> {
    let grants: Vec<String> = conn.query("SHOW GRANTS").await?;
    Ok(grants.iter().filter_map(|g| writing(g)).collect())
}

/// `GRANT SELECT, INSERT ON `db`.* TO …` → `Some("INSERT ON `db`.*")`; `None` when the
/// grant cannot write. Nothing after ` TO ` (which may hold a password hash) is kept.
fn writing(grant: &str) -> Option<String> {
    let upper = grant.to_ascii_uppercase();
    let rest = upper.strip_prefix("GRANT ")?;
    let on = rest.find(" ON ")?;
    let privileges = &rest[..on];
    let after = &grant[6 + on + 4..];
    let target = after.split(" TO ").next().unwrap_or(after).trim();
    let mut found = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let mut consider = |p: &str| {
        let name = p.split('(').next().unwrap_or(p).trim();
        if WRITING.contains(&name) {
            found.push(name.to_string());
        }
    };
    for (i, c) in privileges.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                consider(&privileges[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    consider(&privileges[start..]);
    if found.is_empty() {
        None
    } else {
        Some(format!("{} ON {target}", found.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_that_write() {
        assert_eq!(
            writing("GRANT USAGE ON *.* TO `ro`@`%` IDENTIFIED BY PASSWORD '*AB'"),
            None
        );
        assert_eq!(writing("GRANT SELECT ON `shop`.* TO `ro`@`%`"), None);
        assert_eq!(
            writing("GRANT SELECT, INSERT, UPDATE (a, b) ON `shop`.* TO `rw`@`%`").as_deref(),
            Some("INSERT, UPDATE ON `shop`.*")
        );
        assert_eq!(
            writing("GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION")
                .as_deref(),
            Some("ALL PRIVILEGES ON *.*")
        );
        assert_eq!(
            writing("GRANT FILE ON *.* TO `f`@`%` IDENTIFIED BY PASSWORD '*SECRET'").as_deref(),
            Some("FILE ON *.*")
        );
        assert_eq!(writing("GRANT `role1` TO `u`@`%`"), None);
    }
}
