//! Chat sessions for the front doors: the wire (`SET dbguru.session`, the session's name
//! and connections) and the HTTP API (`/api/chat/sessions…`) read and write them here, never
//! in the store directly, and share one ownership rule.

use uuid::Uuid;

use super::Engine;
use crate::config::UserConfig;
use crate::store::{LoadedSession, MessageRecord, SessionRecord, StoreError};

/// Why a chat session could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// No session has this id (`42704`).
    #[error("chat session {0} does not exist")]
    NotFound(Uuid),
    /// The session belongs to another user and the caller is no admin (`42501`).
    #[error("permission denied: chat session {0} belongs to another user")]
    NotYours(Uuid),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ChatError {
    /// The SQLSTATE of this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            ChatError::NotFound(_) => "42704",
            ChatError::NotYours(_) => "42501",
            ChatError::Store(_) => "58030",
        }
    }
}

impl Engine {
    /// A stored session with its turns, if `user` may see it (its owner, or an admin).
    pub async fn open_chat_session(
        &self,
        id: Uuid,
        user: &UserConfig,
    ) -> Result<LoadedSession, ChatError> {
        let loaded = self
            .store
            .load_session(id)
            .await?
            .ok_or(ChatError::NotFound(id))?;
        if loaded.session.owner != user.name && !user.admin {
            return Err(ChatError::NotYours(id));
        }
        Ok(loaded)
    }

    /// Creates or updates a session row (its name, connections and times).
    pub async fn save_chat_session(&self, rec: &SessionRecord) -> Result<(), StoreError> {
        self.store.save_session(rec).await
    }

    /// Deletes a session with its messages and query history; whether it existed.
    pub async fn delete_chat_session(&self, id: Uuid) -> Result<bool, StoreError> {
        self.store.delete_session(id).await
    }

    /// Sessions of `owner` (all when `None`), newest activity first, at most `limit`.
    pub async fn chat_session_page(
        &self,
        owner: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.store.session_page(owner, limit).await
    }

    /// Number of messages of each session that has any.
    pub async fn chat_message_counts(
        &self,
    ) -> Result<std::collections::HashMap<Uuid, i64>, StoreError> {
        self.store.message_counts().await
    }

    /// One session's messages, oldest first.
    pub async fn chat_messages(&self, id: Uuid) -> Result<Vec<MessageRecord>, StoreError> {
        self.store.session_messages(id).await
    }

    /// The store's kind (`sqlite`, `postgres`, `memory`), for health reports.
    pub fn store_kind(&self) -> &'static str {
        self.store.kind()
    }
}
