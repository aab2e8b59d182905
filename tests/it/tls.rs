//! TLS from dbguru to the databases: PostgreSQL (`sslmode`, `sslrootcert`) and MariaDB
//! (`ssl-mode`, `ssl-ca`) servers that accept nothing but TLS; MongoDB's `tls=true`
//! reaches the driver.

use crate::common;

use common::*;

/// A password in every URL (the servers trust everyone): it must never reach a message.
const PASSWORD: &str = "never-shown-pw";

async fn proxy_for(kind: &str, url: &str) -> Proxy {
    start_proxy(&base_config(&url_connection_toml("db", kind, url))).await
}

/// `SELECT count(*) FROM t` through the proxy.
async fn count(proxy: &Proxy) -> Result<String, tokio_postgres::Error> {
    let c = proxy.connect().await;
    let r = simple(&c, "SELECT count(*) AS n FROM t").await?;
    Ok(r.scalar().unwrap_or_default())
}

fn pg_url(server: &PgTlsServer, params: &str) -> String {
    server
        .url(params)
        .replace("postgres@", &format!("postgres:{PASSWORD}@"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls() {
    let server = postgres_tls().await;
    let ca = server.certs.ca.display().to_string();

    // require: encrypted, certificate not checked; the session really is TLS.
    let proxy = proxy_for("postgres", &pg_url(server, "sslmode=require")).await;
    assert_eq!(count(&proxy).await.expect("sslmode=require"), "3");
    let c = proxy.connect().await;
    let r = simple(
        &c,
        "SELECT ssl::text AS ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .await
    .expect("pg_stat_ssl");
    assert_eq!(r.scalar().as_deref(), Some("true"));

    // verify-full with the right CA; and the default (prefer) finds TLS too.
    for params in [
        format!("sslmode=verify-full&sslrootcert={ca}"),
        format!("sslmode=verify-ca&sslrootcert={ca}"),
        String::from("application_name=x"),
    ] {
        let proxy = proxy_for("postgres", &pg_url(server, &params)).await;
        assert_eq!(count(&proxy).await.expect(&params), "3", "{params}");
    }

    // disable against a server that requires TLS: the server's refusal, clearly.
    let proxy = proxy_for("postgres", &pg_url(server, "sslmode=disable")).await;
    let err = count(&proxy).await.expect_err("plain TCP must be refused");
    let msg = error_message(&err);
    assert!(sqlstate(&err).is_some(), "{msg}");
    assert!(
        msg.contains("no encryption") && msg.contains("28000"),
        "{msg}"
    );
    assert!(!msg.contains(PASSWORD), "{msg}");

    // verify-full against the wrong CA: the certificate is refused.
    let wrong = format!(
        "sslmode=verify-full&sslrootcert={}",
        server.certs.wrong_ca.display()
    );
    let proxy = proxy_for("postgres", &pg_url(server, &wrong)).await;
    let err = count(&proxy).await.expect_err("wrong CA must be refused");
    let msg = error_message(&err);
    assert!(sqlstate(&err).is_some(), "{msg}");
    assert!(msg.contains("certificate"), "{msg}");
    assert!(!msg.contains(PASSWORD), "{msg}");

    // An unreadable root certificate is a configuration error at start.
    let cfg = base_config(&url_connection_toml(
        "db",
        "postgres",
        &pg_url(
            server,
            "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        ),
    ));
    let dir = temp_dir();
    let err = try_start_proxy(&cfg, dir.path())
        .await
        .err()
        .expect("a missing sslrootcert must fail the start");
    assert!(err.contains("sslrootcert"), "{err}");
    assert!(!err.contains(PASSWORD), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_over_tls() {
    let server = mariadb_tls().await;
    let ca = server.certs.ca.display().to_string();
    let url = |params: &str| server.url(params);

    // The server refuses anything but TLS: each of these connected encrypted.
    for params in [
        String::from("ssl-mode=REQUIRED"),
        format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}"),
        format!("ssl-mode=VERIFY_CA&ssl-ca={ca}"),
        // No ssl-mode: PREFERRED, which finds TLS.
        String::from("prefer_socket=false"),
    ] {
        let proxy = proxy_for("mysql", &url(&params)).await;
        assert_eq!(count(&proxy).await.expect(&params), "3", "{params}");
    }
    // (The server refuses unencrypted connections, so each of these was TLS; its
    // session status cannot be read through the proxy, which answers SHOW and
    // information_schema itself.)

    // DISABLED against require_secure_transport: the server's refusal, clearly.
    let proxy = proxy_for("mysql", &url("ssl-mode=DISABLED")).await;
    let err = count(&proxy).await.expect_err("plain must be refused");
    let msg = error_message(&err);
    assert!(sqlstate(&err).is_some(), "{msg}");
    // MariaDB 10.11 answers an insecure login with "Access denied" (1045), others
    // with "insecure transport" (3159); the same account works over TLS above.
    assert!(
        msg.contains("insecure transport") || msg.contains("Access denied"),
        "{msg}"
    );
    assert!(!msg.contains(&server.server.password), "{msg}");

    // VERIFY_IDENTITY with the wrong CA.
    let wrong = format!(
        "ssl-mode=VERIFY_IDENTITY&ssl-ca={}",
        server.certs.wrong_ca.display()
    );
    let proxy = proxy_for("mysql", &url(&wrong)).await;
    let err = count(&proxy).await.expect_err("wrong CA must be refused");
    let msg = error_message(&err);
    assert!(sqlstate(&err).is_some(), "{msg}");
    assert!(msg.to_lowercase().contains("certificate"), "{msg}");
    assert!(!msg.contains(&server.server.password), "{msg}");
}

/// The plain MariaDB of the other tests still works with the default (PREFERRED): the
/// server offers no TLS, so the plain pool is used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_preferred_falls_back_to_plain() {
    let my = mariadb().await;
    let (db, url) = my.fresh_database("tlspref").await;
    my.exec_in(
        &db,
        "CREATE TABLE t (id INT); INSERT INTO t VALUES (1), (2), (3)",
    )
    .await;
    let proxy = proxy_for("mysql", &url).await;
    assert_eq!(count(&proxy).await.expect("preferred"), "3");
    // REQUIRED against a server without TLS fails clearly.
    let proxy = proxy_for("mysql", &format!("{url}?ssl-mode=REQUIRED")).await;
    let err = count(&proxy).await.expect_err("no TLS on this server");
    assert!(sqlstate(&err).is_some());
}

/// `tls=true` reaches the MongoDB driver: against a server that does not speak TLS the
/// connection fails in the TLS handshake (the plain URL works, see tests/mongodb.rs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongodb_tls_option_reaches_the_driver() {
    // A TCP server that accepts and answers garbage: a TLS client fails its handshake.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ =
                    tokio::io::AsyncWriteExt::write_all(&mut s, b"HTTP/1.0 400 nope\r\n\r\n").await;
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            });
        }
    });
    let url = format!(
        "mongodb://u:{PASSWORD}@127.0.0.1:{port}/db?tls=true&serverSelectionTimeoutMS=1500"
    );
    let proxy = proxy_for("mongodb", &url).await;
    let c = proxy.connect().await;
    let err = simple(&c, "SELECT * FROM things")
        .await
        .expect_err("no TLS server there");
    let msg = error_message(&err);
    assert!(!msg.contains(PASSWORD), "{msg}");
    assert!(
        msg.to_lowercase().contains("tls")
            || msg.to_lowercase().contains("handshake")
            || msg.to_lowercase().contains("certificate")
            || msg.contains("InvalidContentType")
            || msg.to_lowercase().contains("corrupt"),
        "{msg}"
    );
}
