//! Reads and writes of one chat session, for the HTTP API: a session with its message
//! count, one session's messages, a page of sessions, and deleting a session.

use uuid::Uuid;

use super::{MessageRecord, SessionRecord, Store, StoreError, SELECT_SESSIONS};

const COUNT_MESSAGES: &str =
    "SELECT chat_session_id, count(*) FROM chat_messages GROUP BY chat_session_id";

impl Store {
    /// One session, when it exists.
    pub async fn session(&self, id: Uuid) -> Result<Option<SessionRecord>, StoreError> {
        let (sql, params) = Self::owner_filter(SELECT_SESSIONS, "", None, Some(id));
        match self.read(sql, params).await?.first() {
            Some(r) => Self::session_from_row(r).map(Some),
            None => Ok(None),
        }
    }

    /// Sessions of `owner` (all when `None`), newest activity first, at most `limit`.
    pub async fn session_page(
        &self,
        owner: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let (mut sql, params) = Self::owner_filter(SELECT_SESSIONS, "", owner, None);
        // An integer formatted by us, never user text.
        sql.push_str(&format!(" ORDER BY last_active_at DESC LIMIT {limit}"));
        self.read(sql, params)
            .await?
            .iter()
            .map(Self::session_from_row)
            .collect()
    }

    /// Number of messages of each session that has any.
    pub async fn message_counts(&self) -> Result<std::collections::HashMap<Uuid, i64>, StoreError> {
        Ok(self
            .read(COUNT_MESSAGES.into(), Vec::new())
            .await?
            .into_iter()
            .filter_map(|r| {
                let id = Uuid::parse_str(r.first().cloned().flatten()?.as_str()).ok()?;
                let n = r.get(1).cloned().flatten()?.parse().ok()?;
                Some((id, n))
            })
            .collect())
    }

    /// The messages of one session, oldest first.
    pub async fn session_messages(&self, id: Uuid) -> Result<Vec<MessageRecord>, StoreError> {
        let rows = self
            .read(
                "SELECT id, chat_session_id, role, content, query_history_id, databases_used, created_at \
                 FROM chat_messages WHERE chat_session_id = $1 ORDER BY id"
                    .into(),
                vec![id.to_string()],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let s = |i: usize| r.get(i).cloned().flatten();
                MessageRecord {
                    id: s(0).and_then(|v| v.parse().ok()).unwrap_or_default(),
                    session_id: id,
                    role: s(2).unwrap_or_default(),
                    content: s(3).unwrap_or_default(),
                    query_history_id: s(4).and_then(|v| v.parse().ok()),
                    databases_used: s(5),
                    created_at: s(6).unwrap_or_default(),
                }
            })
            .collect())
    }

    /// Deletes a session with its messages and query history; `false` when it did not exist.
    pub async fn delete_session(&self, id: Uuid) -> Result<bool, StoreError> {
        let existed = self.session(id).await?.is_some();
        let sid = id.to_string();
        self.write(vec![
            (
                "DELETE FROM chat_messages WHERE chat_session_id = $1",
                vec![super::P::T(sid.clone())],
            ),
            (
                "DELETE FROM query_history WHERE chat_session_id = $1",
                vec![super::P::T(sid.clone())],
            ),
            (
                "DELETE FROM chat_sessions WHERE id = $1",
                vec![super::P::T(sid)],
            ),
        ])
        .await?;
        Ok(existed)
    }
}
