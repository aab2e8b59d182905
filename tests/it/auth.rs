//! Authentication: trust, cleartext and SCRAM-SHA-256 users from `[[users]]`, and
//! per-user connection limits.

use crate::common;

use common::*;

async fn proxy() -> (Proxy, tempfile::TempDir) {
    let dir = temp_dir();
    let lite = sqlite_file(
        dir.path(),
        "a.sqlite",
        "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (7);",
    );
    let duck = duckdb_file(
        dir.path(),
        "b.duckdb",
        "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (8);",
    );
    std::env::set_var("DBGURU_TEST_SCRAM_PW", "s3cret-scram");
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n\
         [[users]]\nname = \"guru\"\nauth = \"trust\"\n\n\
         [[users]]\nname = \"sam\"\npassword = \"${{DBGURU_TEST_SCRAM_PW}}\"\n\n\
         [[users]]\nname = \"clara\"\nauth = \"cleartext\"\npassword = \"clear-pw\"\nconnections = [\"a\"]\n\n\
         {}{}",
        file_connection_toml("a", "sqlite", &lite),
        file_connection_toml("b", "duckdb", &duck)
    );
    (start_proxy(&toml).await, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_user_connects_with_the_right_password_only() {
    let (p, _d) = proxy().await;
    let c = p
        .connect_as("sam", "s3cret-scram")
        .await
        .expect("SCRAM login");
    assert_eq!(
        simple(&c, "SELECT a FROM t")
            .await
            .expect("query")
            .scalar()
            .as_deref(),
        Some("7")
    );
    let err = p
        .connect_as("sam", "wrong")
        .await
        .expect_err("wrong password refused");
    assert!(sqlstate(&err).is_some_and(|s| s.starts_with("28")), "{err}");
    assert!(
        error_message(&err).contains("\"sam\""),
        "the error names the user: {}",
        error_message(&err)
    );
    let err = p
        .connect_as("nobody", "x")
        .await
        .expect_err("unknown user refused");
    assert!(sqlstate(&err).is_some_and(|s| s.starts_with("28")), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleartext_user_is_limited_to_their_connections() {
    let (p, _d) = proxy().await;
    let c = p
        .connect_as("clara", "clear-pw")
        .await
        .expect("cleartext login");
    assert_eq!(
        simple(&c, "SHOW dbguru.connections")
            .await
            .expect("show")
            .scalar()
            .as_deref(),
        Some("a")
    );
    let err = simple(&c, "SET dbguru.target = 'b'")
        .await
        .expect_err("not allowed");
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("42501"),
        "{}",
        error_message(&err)
    );
    let err = simple(&c, "ASK 'anything' ON b")
        .await
        .expect_err("not allowed");
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("42501"),
        "{}",
        error_message(&err)
    );
    let err = simple(&c, "SET dbguru.allow_write = on")
        .await
        .expect_err("may not write");
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("42501"),
        "{}",
        error_message(&err)
    );
    assert!(p.connect_as("clara", "nope").await.is_err());
}
