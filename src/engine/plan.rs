//! The strict parser of the LLM's reply: one `DATABASE: name` block per database, and
//! at most one federated block, `DATABASE: *`, whose SQL (PostgreSQL syntax over
//! schema-qualified names such as `shop.orders`) the engine federates across databases
//! (`DATABASE: shop+warehouse`, the form history shows, is read the same way).

/// The connection name of a federated block.
pub const FEDERATED: &str = "*";

/// One statement for one database, as the LLM wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedQuery {
    /// Connection name (canonical spelling from the config).
    pub connection: String,
    /// The SQL text (trailing semicolon removed).
    pub sql: String,
}

/// Why a reply could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Nothing in the reply looked like a `DATABASE:` block.
    #[error("the reply has no \"DATABASE: <name>\" block")]
    NoBlocks,
    /// Text before the first block.
    #[error("the reply has text outside DATABASE blocks: {0:?}")]
    Prose(String),
    /// A block names a database that is not in scope.
    #[error("the reply names unknown database {name:?} (known: {known})")]
    UnknownDatabase {
        /// The name as written.
        name: String,
        /// Comma-separated known names.
        known: String,
    },
    /// A block has no SQL.
    #[error("the DATABASE block for {0:?} has no SQL")]
    EmptySql(String),
    /// Two blocks for the same database.
    #[error("the reply has two DATABASE blocks for {0:?}")]
    Duplicate(String),
}

fn is_fence(line: &str) -> bool {
    line.trim_start().starts_with("```")
}

fn block_header(line: &str) -> Option<&str> {
    let t = line.trim();
    let t = t.trim_start_matches(['#', '*', '-', ' ']);
    let (head, rest) = t.split_at(t.find(':')?);
    if head.trim().eq_ignore_ascii_case("database") {
        let raw = rest[1..].trim();
        if raw.trim_matches(['`', '"', '\'']) == FEDERATED {
            return Some(FEDERATED);
        }
        Some(raw.trim_matches(['*', '`', '"', '\'']).trim())
    } else {
        None
    }
}

/// Parses `reply` against the connection names in scope (`known`, canonical spelling).
/// Markdown code fences around the SQL are tolerated; anything else outside blocks is not.
pub fn parse_reply(reply: &str, known: &[String]) -> Result<Vec<PlannedQuery>, PlanError> {
    let mut blocks: Vec<(String, Vec<&str>)> = Vec::new();
    for line in reply.lines() {
        if is_fence(line) {
            continue;
        }
        if let Some(name) = block_header(line) {
            let federated = name == FEDERATED
                || (name.contains('+')
                    && name
                        .split('+')
                        .all(|p| known.iter().any(|k| k.eq_ignore_ascii_case(p.trim()))));
            let fed = FEDERATED.to_string();
            let canonical = if federated {
                &fed
            } else {
                known
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(name))
                    .ok_or_else(|| PlanError::UnknownDatabase {
                        name: name.to_string(),
                        known: known.join(", "),
                    })?
            };
            if blocks.iter().any(|(n, _)| n == canonical) {
                return Err(PlanError::Duplicate(canonical.clone()));
            }
            blocks.push((canonical.clone(), Vec::new()));
            continue;
        }
        match blocks.last_mut() {
            Some((_, lines)) => lines.push(line),
            None if line.trim().is_empty() => {}
            None => return Err(PlanError::Prose(line.trim().chars().take(120).collect())),
        }
    }
    if blocks.is_empty() {
        return Err(PlanError::NoBlocks);
    }
    blocks
        .into_iter()
        .map(|(connection, lines)| {
            let sql = lines.join("\n");
            let sql = sql.trim().trim_end_matches(';').trim().to_string();
            if sql.is_empty() {
                Err(PlanError::EmptySql(connection))
            } else {
                Ok(PlannedQuery { connection, sql })
            }
        })
        .collect()
}

/// Renders a plan back into the reply format (used for history in prompts).
pub fn render(plan: &[PlannedQuery]) -> String {
    plan.iter()
        .map(|q| format!("DATABASE: {}\n{};", q.connection, q.sql))
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        vec!["shop".into(), "warehouse".into()]
    }

    #[test]
    fn parses_blocks_and_fences() {
        let r = "DATABASE: shop\nSELECT count(*) AS c FROM customers;\n\n```sql\nDATABASE: Warehouse\nSELECT count(*) AS c\nFROM dim_customer;\n```\n";
        let p = parse_reply(r, &known()).expect("parses");
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].connection, "warehouse");
        assert_eq!(p[1].sql, "SELECT count(*) AS c\nFROM dim_customer");
    }

    #[test]
    fn federated_blocks() {
        let r = "DATABASE: shop\nSELECT 1 AS n;\nDATABASE: *\nSELECT c.country FROM shop.customers c JOIN warehouse.dim_customer d ON d.email = c.email;";
        let p = parse_reply(r, &known()).expect("parses");
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].connection, FEDERATED);
        assert!(p[1].sql.starts_with("SELECT c.country"));
        let again = parse_reply(&render(&p), &known()).expect("round trip");
        assert_eq!(again, p);
        let p = parse_reply("DATABASE: shop+Warehouse\nSELECT 1", &known()).expect("label");
        assert_eq!(p[0].connection, FEDERATED);
        assert!(matches!(
            parse_reply("DATABASE: shop+crm\nSELECT 1", &known()),
            Err(PlanError::UnknownDatabase { .. })
        ));
        assert_eq!(
            parse_reply("DATABASE: *\nSELECT 1\nDATABASE: *\nSELECT 2", &known()),
            Err(PlanError::Duplicate(FEDERATED.into()))
        );
    }

    #[test]
    fn strictness() {
        assert_eq!(parse_reply("", &known()), Err(PlanError::NoBlocks));
        assert!(matches!(
            parse_reply("Sure! Here it is:\nDATABASE: shop\nSELECT 1", &known()),
            Err(PlanError::Prose(_))
        ));
        assert!(matches!(
            parse_reply("DATABASE: shp\nSELECT 1", &known()),
            Err(PlanError::UnknownDatabase { .. })
        ));
        assert_eq!(
            parse_reply("DATABASE: shop\n;\n", &known()),
            Err(PlanError::EmptySql("shop".into()))
        );
        assert_eq!(
            parse_reply(
                "DATABASE: shop\nSELECT 1\nDATABASE: shop\nSELECT 2",
                &known()
            ),
            Err(PlanError::Duplicate("shop".into()))
        );
    }
}
