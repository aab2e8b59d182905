//! Test harness for dbguru integration tests.
//!
//! `tests/it/main.rs` declares it (`#[path] mod common;`) and its modules `use crate::common;
//! use common::*;`; the two separate test binaries declare it with `mod common;`.
//!
//! - [`postgres`] / [`mariadb`]: one throwaway server per test binary, shared by its modules (each
//!   test makes its own database), started on first use,
//!   stopped and deleted by a watchdog process when the test binary exits. Both log every
//!   statement (to prove what ran). Missing server binaries FAIL the test, naming the Debian
//!   package.
//! - [`ScriptedLlm`]: an OpenAI-compatible chat-completions server with scripted [`Reply`]s
//!   that records every request.
//! - [`start_proxy`]: the proxy in-process on port 0; [`Proxy::connect`] and friends give
//!   tokio-postgres clients; [`simple`], [`Notices`], [`sqlstate`] help assert on results.
//! - [`temp_dir`], [`sqlite_file`], [`duckdb_file`]: file databases from SQL scripts.
//! - [`start_mongo`]: a throwaway MongoDB-protocol server (nx-27017) per call;
//!   [`MongoRelay`] records the commands sent to it.
#![allow(dead_code, unused_imports)]

mod files;
mod llm;
mod mariadb;
mod mongo;
mod pg;
mod proxy;
mod raw;
mod tls;
mod util;

use std::time::Duration;

pub use files::{duckdb_file, sqlite_file};
pub use llm::{completion_json, prompt_text, RecordedRequest, Reply, ScriptedLlm};
pub use mariadb::{mariadb, MyServer};
pub use mongo::{
    client_for_port, nx_27017_bin, start_mongo, MongoRelay, MongoServer, RelayedCommand,
};
pub use pg::{pg_bin_dir, postgres, PgServer};
pub use proxy::{
    base_config, connect_config, connect_config_with_notices, error_message, file_connection_toml,
    simple, simple_all, sqlstate, start_proxy, start_proxy_in, toml_str, try_start_proxy,
    url_connection_toml, Notices, Proxy, SimpleResult,
};
pub use raw::{error_code, rows, status_of, tags, RawConn, RawMsg};
pub use tls::{make_certs, mariadb_tls, postgres_tls, MyTlsServer, PgTlsServer, TestCerts};
pub use util::free_port;

/// The repository root, read when the test runs (cargo sets `CARGO_MANIFEST_DIR` for the
/// test process): a test binary reused from a clone at another path, which a shared
/// `CARGO_TARGET_DIR` allows, still finds this clone's files.
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// A fresh temporary directory, deleted when the returned value is dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("dbguru-test-")
        .tempdir()
        .expect("create a temporary directory")
}

/// Polls `check` every 20 ms until it is true; panics with `what` after `timeout`.
pub async fn eventually(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !check() {
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
