//! `dbguru check` (and the startup log) warn when a connection marked `read_only` uses a
//! database role that could write; a read-only role gets no warning.

use crate::common;

use common::*;

/// Runs `dbguru check` on `config_toml`; returns (success, stdout).
fn check(config_toml: &str) -> (bool, String) {
    let dir = temp_dir();
    let path = dir.path().join("proxy.toml");
    std::fs::write(&path, config_toml).expect("write the config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dbguru"))
        .arg("check")
        .arg("--config")
        .arg(&path)
        .env("DBGURU_LOG", "error")
        .output()
        .expect("run dbguru check");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writable_roles_are_reported_read_only_roles_are_not() {
    let pg = postgres().await;
    let (db, url) = pg.fresh_database("rolecheck").await;
    pg.exec_in(
        &db,
        "CREATE TABLE t (x int); \
         DROP ROLE IF EXISTS dbguru_ro; DROP ROLE IF EXISTS dbguru_rw; \
         CREATE ROLE dbguru_ro LOGIN; GRANT SELECT ON t TO dbguru_ro; \
         CREATE ROLE dbguru_rw LOGIN; GRANT SELECT, INSERT ON t TO dbguru_rw;",
    )
    .await;
    let as_role = |role: &str| url.replace("postgres@", &format!("{role}@"));

    let my = mariadb().await;
    let (mdb, murl) = my.fresh_database("rolecheck").await;
    let ro_password = "ro-pw-not-shown";
    my.exec(&format!(
        "CREATE TABLE `{mdb}`.t (x INT); \
         DROP USER IF EXISTS 'dbguru_ro'@'%'; \
         CREATE USER 'dbguru_ro'@'%' IDENTIFIED BY '{ro_password}'; \
         GRANT SELECT ON `{mdb}`.* TO 'dbguru_ro'@'%';"
    ))
    .await;
    let mro = format!(
        "mysql://dbguru_ro:{ro_password}@127.0.0.1:{}/{mdb}",
        my.port
    );

    let (ok, out) = check(&base_config(&format!(
        "{}{}{}{}{}",
        url_connection_toml("pg_super", "postgres", &url),
        url_connection_toml("pg_rw", "postgres", &as_role("dbguru_rw")),
        url_connection_toml("pg_ro", "postgres", &as_role("dbguru_ro")),
        url_connection_toml("my_all", "mysql", &murl),
        url_connection_toml("my_ro", "mysql", &mro),
    )));
    assert!(ok, "{out}");
    let warned = |name: &str| {
        out.lines()
            .any(|l| l.starts_with("WARN") && l.contains(&format!("\"{name}\"")))
    };
    assert!(warned("pg_super") && out.contains("superuser"), "{out}");
    assert!(warned("pg_rw") && out.contains("public.t"), "{out}");
    assert!(!warned("pg_ro"), "{out}");
    assert!(warned("my_all") && out.contains("ALL PRIVILEGES"), "{out}");
    assert!(!warned("my_ro"), "{out}");
    assert!(
        !out.contains(&my.password) && !out.contains(ro_password),
        "{out}"
    );

    // A connection that may write (read_only = false) is not warned about.
    let (ok, out) = check(&base_config(&format!(
        "{}read_only = false\n",
        url_connection_toml("pg_writer", "postgres", &url)
    )));
    assert!(ok, "{out}");
    assert!(!out.contains("WARN"), "{out}");
}
