//! The metadata store (chat sessions, messages, query history).
//!
//! For now chat history lives with the wire session in memory ([`crate::session`]);
//! the durable SQLite/PostgreSQL store of DESIGN.md is the next step (issue 4).
