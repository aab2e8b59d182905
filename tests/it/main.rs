//! dbguru's integration tests, in one test binary.
//!
//! One binary instead of one per file: each binary links the whole proxy (DuckDB, TLS,
//! every driver), and 27 of them cost about 20 minutes of a cold `cargo build
//! --all-targets` on two cores. The modules share one throwaway PostgreSQL and one MariaDB
//! server (`common`); every test works in its own database. `schema_cache` and `federation`
//! stay separate binaries: they assert what a server's statement log does *not* hold,
//! which another module's concurrent test could write.
//!
//! Run one module: `cargo test --release --test it -- store::`.

#[path = "../common/mod.rs"]
mod common;

mod ask_core;
mod auth;
mod bi;
mod bounds;
mod cancel;
mod catalog;
mod clients;
mod differential;
mod disconnect;
mod embedded_default;
mod extended_protocol;
mod harness_smoke;
mod hostile;
mod http;
mod knowledge;
mod mongodb;
mod planner;
mod postgres_like;
mod props;
mod retrieval;
mod role_check;
mod store;
mod tls;
