//! The store's schema, one entry per version (applied in order, recorded in
//! `dbguru_migrations`): SQLite and PostgreSQL spell the same tables.
//!
//! 1. chat sessions, messages and the query history;
//! 2. the business knowledge: `glossary` and `examples`.

pub(super) const MIGRATIONS_SQLITE: &[&str] = &["CREATE TABLE chat_sessions (
        id TEXT PRIMARY KEY, name TEXT, owner TEXT NOT NULL, active_connection_ids TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, last_active_at TEXT NOT NULL);
     CREATE TABLE query_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT, chat_session_id TEXT NOT NULL, question TEXT NOT NULL,
        sql TEXT NOT NULL, success INTEGER NOT NULL, rows INTEGER NOT NULL, ms REAL NOT NULL,
        error TEXT, cached INTEGER NOT NULL, created_at TEXT NOT NULL);
     CREATE TABLE chat_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT, chat_session_id TEXT NOT NULL, role TEXT NOT NULL,
        content TEXT NOT NULL, query_history_id INTEGER, databases_used TEXT, created_at TEXT NOT NULL);
     CREATE INDEX chat_messages_session ON chat_messages (chat_session_id, id);
     CREATE INDEX query_history_session ON query_history (chat_session_id, id);",
    "CREATE TABLE glossary (
        id INTEGER PRIMARY KEY AUTOINCREMENT, term TEXT NOT NULL, definition TEXT NOT NULL,
        connection TEXT, created_by TEXT NOT NULL, created_at TEXT NOT NULL);
     CREATE UNIQUE INDEX glossary_term ON glossary (lower(term), coalesce(connection, ''));
     CREATE TABLE examples (
        id INTEGER PRIMARY KEY AUTOINCREMENT, question TEXT NOT NULL, connection TEXT NOT NULL,
        sql TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL);
     CREATE UNIQUE INDEX examples_question ON examples (lower(question), connection);"];

pub(super) const MIGRATIONS_POSTGRES: &[&str] = &["CREATE TABLE chat_sessions (
        id TEXT PRIMARY KEY, name TEXT, owner TEXT NOT NULL, active_connection_ids TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, last_active_at TEXT NOT NULL);
     CREATE TABLE query_history (
        id BIGSERIAL PRIMARY KEY, chat_session_id TEXT NOT NULL, question TEXT NOT NULL,
        sql TEXT NOT NULL, success BIGINT NOT NULL, rows BIGINT NOT NULL, ms DOUBLE PRECISION NOT NULL,
        error TEXT, cached BIGINT NOT NULL, created_at TEXT NOT NULL);
     CREATE TABLE chat_messages (
        id BIGSERIAL PRIMARY KEY, chat_session_id TEXT NOT NULL, role TEXT NOT NULL,
        content TEXT NOT NULL, query_history_id BIGINT, databases_used TEXT, created_at TEXT NOT NULL);
     CREATE INDEX chat_messages_session ON chat_messages (chat_session_id, id);
     CREATE INDEX query_history_session ON query_history (chat_session_id, id);",
    "CREATE TABLE glossary (
        id BIGSERIAL PRIMARY KEY, term TEXT NOT NULL, definition TEXT NOT NULL,
        connection TEXT, created_by TEXT NOT NULL, created_at TEXT NOT NULL);
     CREATE UNIQUE INDEX glossary_term ON glossary (lower(term), coalesce(connection, ''));
     CREATE TABLE examples (
        id BIGSERIAL PRIMARY KEY, question TEXT NOT NULL, connection TEXT NOT NULL,
        sql TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL);
     CREATE UNIQUE INDEX examples_question ON examples (lower(question), connection);"];
