//! dbguru: one PostgreSQL server in front of many databases.
//!
//! Data flows one way: [`wire`] (pgwire handlers) → [`session`] → [`engine`]
//! (prompt → [`llm`] → plan → guard → parallel execution on [`backends`] → combine)
//! → [`store`]. See `DESIGN.md`-style notes in the README.
#![deny(clippy::unwrap_used, clippy::todo, clippy::dbg_macro)]

pub mod backends;
pub mod config;
pub mod demo;
pub mod engine;
pub mod http;
pub mod keys;
pub mod llm;
pub mod pgtypes;
pub mod server;
pub mod session;
pub mod sql;
pub mod store;
pub mod wire;
