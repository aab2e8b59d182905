//! Language models: anything that turns a prompt into `DATABASE:` blocks.
//!
//! [`openai`] speaks the OpenAI chat-completions protocol (OpenAI, Ollama, vLLM,
//! llama.cpp server, LM Studio); [`builtin`] is an offline schema-aware planner.

pub mod builtin;
pub mod openai;

use async_trait::async_trait;

use crate::backends::{Dialect, SchemaInfo};

/// Errors from a language model. Messages never contain the API key.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The endpoint could not be reached (after retries).
    #[error("LLM endpoint unreachable: {0}")]
    Unreachable(String),
    /// The endpoint answered with an HTTP error status (after retries).
    #[error("LLM endpoint answered HTTP {status}: {message}")]
    Http {
        /// HTTP status code.
        status: u16,
        /// Short description (never the request, never the key).
        message: String,
    },
    /// No answer within the configured timeout.
    #[error("LLM did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The endpoint answered something that is not a chat completion.
    #[error("LLM reply malformed: {0}")]
    Malformed(String),
    /// The builtin planner does not understand the question.
    #[error("{0}")]
    Unsupported(String),
}

/// Who said a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Instructions.
    System,
    /// The user's question (or a repair request).
    User,
    /// The model's earlier answer.
    Assistant,
}

impl Role {
    /// The role's name in the OpenAI protocol.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessage {
    /// Speaker.
    pub role: Role,
    /// Text.
    pub content: String,
}

/// One database as the planner sees it.
#[derive(Debug, Clone)]
pub struct DbSchema {
    /// Connection name (what goes after `DATABASE:`).
    pub name: String,
    /// SQL dialect of the connection.
    pub dialect: Dialect,
    /// Tables and columns (shared with the schema cache).
    pub schema: std::sync::Arc<SchemaInfo>,
}

/// What the engine asks a model.
#[derive(Debug, Clone)]
pub struct LlmRequest {
    /// The full prompt as chat messages (system, history, question).
    pub messages: Vec<ChatMessage>,
    /// The databases in scope (structured, for planners that do not read prose).
    pub databases: Vec<DbSchema>,
    /// The current question (also the last user message).
    pub question: String,
    /// Earlier questions of this session, oldest first (for follow-ups).
    pub previous_questions: Vec<String>,
    /// Answered examples close to the question (`dbguru.examples`), closest first; also
    /// in the prompt.
    pub examples: Vec<Example>,
}

/// A question folded for exact comparison: lower case, single spaces, no end punctuation.
pub fn normalize_question(q: &str) -> String {
    q.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(['?', '.', '!', ';'])
        .trim()
        .to_lowercase()
}

/// An answered example: a question and the SQL known to answer it on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The question.
    pub question: String,
    /// The connection (`*` for a federated statement).
    pub connection: String,
    /// The SQL.
    pub sql: String,
}

/// The leading `-- ` comment lines of one reply block's SQL: how the model read the
/// question (the builtin planner writes one per block, "interpreted as: …"). The engine
/// shows each as a NOTICE naming the database.
pub fn block_notes(sql: &str) -> Vec<String> {
    sql.lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with("--"))
        .filter_map(|l| l.strip_prefix("--"))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// A language model.
#[async_trait]
pub trait Llm: Send + Sync {
    /// Returns the model's reply text (expected to be `DATABASE:` blocks).
    async fn complete(&self, req: &LlmRequest) -> Result<String, LlmError>;

    /// Short name for logs and `EXPLAIN ASK` (`builtin`, `openai:gpt-4o-mini`).
    fn name(&self) -> String;
}
