//! The business knowledge admins add over the wire: glossary terms and example
//! questions with their SQL (`dbguru.glossary`, `dbguru.examples`).

use chrono::Utc;

use super::{ts, Row, Store, StoreError, P};

/// One glossary term: what a word of the business means in the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlossaryEntry {
    /// The store's id; negative for an entry from a `[knowledge] files` file, `None`
    /// before it is stored.
    pub id: Option<i64>,
    /// The word or phrase ("churn", "active customer").
    pub term: String,
    /// What it means, in words and names of tables and columns.
    pub definition: String,
    /// The connection it belongs to; `None` for every connection.
    pub connection: Option<String>,
    /// `store`, or `file:<path>` for an entry from a file.
    pub source: String,
    /// The user who added it (`None` for a file entry).
    pub created_by: Option<String>,
    /// When it was added (RFC 3339; `None` for a file entry).
    pub created_at: Option<String>,
}

/// One example: a question and the SQL that answers it on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleEntry {
    /// The store's id; negative for an entry from a `[knowledge] files` file, `None`
    /// before it is stored.
    pub id: Option<i64>,
    /// The question, as a user would ask it.
    pub question: String,
    /// The connection the SQL runs on, or `*` for a federated statement.
    pub connection: String,
    /// The SQL that answers it.
    pub sql: String,
    /// `store`, or `file:<path>` for an entry from a file.
    pub source: String,
    /// The user who added it (`None` for a file entry).
    pub created_by: Option<String>,
    /// When it was added (RFC 3339; `None` for a file entry).
    pub created_at: Option<String>,
}

const INSERT_GLOSSARY: &str =
    "INSERT INTO glossary (term, definition, connection, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5)";
const INSERT_EXAMPLE: &str =
    "INSERT INTO examples (question, connection, sql, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5)";
const DELETE_GLOSSARY: &str = "DELETE FROM glossary WHERE id = $1";
const DELETE_EXAMPLE: &str = "DELETE FROM examples WHERE id = $1";
const SELECT_GLOSSARY: &str =
    "SELECT id, term, definition, connection, created_by, created_at FROM glossary ORDER BY id";
const SELECT_EXAMPLES: &str =
    "SELECT id, question, connection, sql, created_by, created_at FROM examples ORDER BY id";

fn text(r: &Row, i: usize, table: &str) -> Result<String, StoreError> {
    r.get(i)
        .cloned()
        .flatten()
        .ok_or_else(|| StoreError::Corrupt(format!("{table} column {i} is NULL")))
}

fn id(r: &Row, table: &str) -> Result<i64, StoreError> {
    text(r, 0, table)?
        .parse()
        .map_err(|e| StoreError::Corrupt(format!("{table} id: {e}")))
}

impl Store {
    /// Every glossary term in the store, oldest first.
    pub async fn glossary(&self) -> Result<Vec<GlossaryEntry>, StoreError> {
        self.read(SELECT_GLOSSARY.into(), Vec::new())
            .await?
            .iter()
            .map(|r| {
                Ok(GlossaryEntry {
                    id: Some(id(r, "glossary")?),
                    term: text(r, 1, "glossary")?,
                    definition: text(r, 2, "glossary")?,
                    connection: r.get(3).cloned().flatten(),
                    source: "store".into(),
                    created_by: r.get(4).cloned().flatten(),
                    created_at: r.get(5).cloned().flatten(),
                })
            })
            .collect()
    }

    /// Every example in the store, oldest first.
    pub async fn examples(&self) -> Result<Vec<ExampleEntry>, StoreError> {
        self.read(SELECT_EXAMPLES.into(), Vec::new())
            .await?
            .iter()
            .map(|r| {
                Ok(ExampleEntry {
                    id: Some(id(r, "examples")?),
                    question: text(r, 1, "examples")?,
                    connection: text(r, 2, "examples")?,
                    sql: text(r, 3, "examples")?,
                    source: "store".into(),
                    created_by: r.get(4).cloned().flatten(),
                    created_at: r.get(5).cloned().flatten(),
                })
            })
            .collect()
    }

    /// Adds glossary terms, all or none, as `user`.
    pub async fn add_glossary(
        &self,
        entries: &[GlossaryEntry],
        user: &str,
    ) -> Result<(), StoreError> {
        let rows = entries.iter().map(|e| {
            vec![
                P::T(e.term.clone()),
                P::T(e.definition.clone()),
                P::OptT(e.connection.clone()),
            ]
        });
        self.insert_all(INSERT_GLOSSARY, rows, user).await
    }

    /// Adds examples, all or none, as `user`.
    pub async fn add_examples(
        &self,
        entries: &[ExampleEntry],
        user: &str,
    ) -> Result<(), StoreError> {
        let rows = entries.iter().map(|e| {
            vec![
                P::T(e.question.clone()),
                P::T(e.connection.clone()),
                P::T(e.sql.clone()),
            ]
        });
        self.insert_all(INSERT_EXAMPLE, rows, user).await
    }

    /// Deletes glossary terms by id, all or none.
    pub async fn delete_glossary(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.delete_ids(DELETE_GLOSSARY, ids).await
    }

    /// Deletes examples by id, all or none.
    pub async fn delete_examples(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.delete_ids(DELETE_EXAMPLE, ids).await
    }

    /// Runs `sql` once per row (its values, then `user` and the time), in one transaction.
    async fn insert_all(
        &self,
        sql: &'static str,
        rows: impl Iterator<Item = Vec<P>>,
        user: &str,
    ) -> Result<(), StoreError> {
        let now = ts(&Utc::now());
        let stmts = rows
            .map(|mut r| {
                r.push(P::T(user.to_string()));
                r.push(P::T(now.clone()));
                (sql, r)
            })
            .collect();
        self.write(stmts).await.map(|_| ())
    }

    /// Runs `sql` (`DELETE … WHERE id = $1`) once per id, in one transaction.
    async fn delete_ids(&self, sql: &'static str, ids: &[i64]) -> Result<(), StoreError> {
        let stmts = ids.iter().map(|i| (sql, vec![P::I(*i)])).collect();
        self.write(stmts).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn knowledge_round_trips() {
        let store = Store::memory().await.expect("store");
        let g = GlossaryEntry {
            id: None,
            term: "churn".into(),
            definition: "customers without an order in 90 days".into(),
            connection: Some("shop".into()),
            source: "store".into(),
            created_by: None,
            created_at: None,
        };
        store
            .add_glossary(std::slice::from_ref(&g), "admin")
            .await
            .expect("add");
        // The same term for the same connection is refused (any case).
        let mut again = g.clone();
        again.term = "CHURN".into();
        assert!(store.add_glossary(&[again], "admin").await.is_err());
        let read = store.glossary().await.expect("read");
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].term, "churn");
        assert_eq!(read[0].created_by.as_deref(), Some("admin"));
        let e = ExampleEntry {
            id: None,
            question: "revenue per month".into(),
            connection: "shop".into(),
            sql: "SELECT 1".into(),
            source: "store".into(),
            created_by: None,
            created_at: None,
        };
        store
            .add_examples(&[e.clone(), e], "admin")
            .await
            .expect_err("duplicate");
        assert!(
            store.examples().await.expect("read").is_empty(),
            "all or none"
        );
        store
            .delete_glossary(&[read[0].id.expect("id")])
            .await
            .expect("delete");
        assert!(store.glossary().await.expect("read").is_empty());
    }
}
