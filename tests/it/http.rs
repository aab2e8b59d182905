//! The HTTP API of the reference guide and the chat page, driven with real HTTP
//! requests (reqwest) against the in-process proxy: the embedded default (demo SQLite +
//! DuckDB, builtin planner), and PostgreSQL + MariaDB with the scripted LLM; sessions
//! shared with the PostgreSQL wire; the page in headless Chromium.

use crate::common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The embedded default `proxy.toml` on free ports, relative paths in a temp dir.
async fn embedded_default() -> Proxy {
    let text = dbguru::config::EMBEDDED_DEFAULT
        .replace("127.0.0.1:6543", "127.0.0.1:0")
        .replace("127.0.0.1:8000", "127.0.0.1:0");
    assert_ne!(
        text,
        dbguru::config::EMBEDDED_DEFAULT,
        "listen addresses not found in the embedded default"
    );
    start_proxy(&text).await
}

struct Http {
    base: String,
    client: reqwest::Client,
    auth: Option<(String, String)>,
    bearer: Option<String>,
}

impl Http {
    fn new(proxy: &Proxy) -> Http {
        Http {
            base: proxy.http_url(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("reqwest client"),
            auth: None,
            bearer: None,
        }
    }

    fn basic(proxy: &Proxy, user: &str, password: &str) -> Http {
        Http {
            auth: Some((user.into(), password.into())),
            ..Http::new(proxy)
        }
    }

    fn bearer(proxy: &Proxy, token: &str) -> Http {
        Http {
            bearer: Some(token.into()),
            ..Http::new(proxy)
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.client.request(method, format!("{}{path}", self.base));
        if let Some((u, p)) = &self.auth {
            r = r.basic_auth(u, Some(p));
        }
        if let Some(t) = &self.bearer {
            r = r.bearer_auth(t);
        }
        r
    }

    async fn send(&self, r: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = r.send().await.expect("HTTP request");
        let status = resp.status();
        let text = resp.text().await.expect("HTTP body");
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        (status, v)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.req(reqwest::Method::GET, path)).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.req(reqwest::Method::POST, path).json(&body))
            .await
    }

    async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.req(reqwest::Method::PATCH, path).json(&body))
            .await
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.req(reqwest::Method::DELETE, path)).await
    }

    /// POST that must succeed with 200.
    async fn ok(&self, path: &str, body: Value) -> Value {
        let (s, v) = self.post(path, body).await;
        assert_eq!(s, StatusCode::OK, "POST {path}: {v}");
        v
    }
}

/// The `{"error": {"code", "message"}}` of a failed request, with its status.
#[track_caller]
fn expect_error(got: &(StatusCode, Value), status: StatusCode, code: &str) -> String {
    assert_eq!(got.0, status, "unexpected status, body {}", got.1);
    assert_eq!(
        got.1["error"]["code"], code,
        "unexpected error body {}",
        got.1
    );
    got.1["error"]["message"]
        .as_str()
        .expect("error message")
        .to_string()
}

fn demo_count(proxy: &Proxy, sql: &str) -> (i64, i64) {
    let shop: i64 = rusqlite::Connection::open(proxy.base_dir().join("data/shop.sqlite"))
        .expect("demo shop")
        .query_row(sql, [], |r| r.get(0))
        .expect("count shop");
    let cfg = duckdb::Config::default()
        .access_mode(duckdb::AccessMode::ReadOnly)
        .expect("duckdb cfg");
    let wh_sql = sql.replace("customers", "dim_customer");
    let warehouse: i64 =
        duckdb::Connection::open_with_flags(proxy.base_dir().join("data/warehouse.duckdb"), cfg)
            .expect("demo warehouse")
            .query_row(&wh_sql, [], |r| r.get(0))
            .expect("count warehouse");
    (shop, warehouse)
}

fn result_of<'a>(answer: &'a Value, name: &str) -> &'a Value {
    answer["database_results"]
        .as_array()
        .expect("database_results")
        .iter()
        .find(|d| d["connection_name"] == name)
        .unwrap_or_else(|| panic!("no result for {name} in {answer}"))
}

fn names_of(answer: &Value) -> Vec<String> {
    let mut v: Vec<String> = answer["database_results"]
        .as_array()
        .expect("database_results")
        .iter()
        .map(|d| d["connection_name"].as_str().expect("name").to_string())
        .collect();
    v.sort();
    v
}

/// The guide's walk-through, step by step, on the embedded default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guide_walkthrough_on_the_embedded_default() {
    let proxy = embedded_default().await;
    let api = Http::new(&proxy);

    let (s, health) = api.get("/api/health").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["connections"], 2);

    let (s, conns) = api.get("/api/connections").await;
    assert_eq!(s, StatusCode::OK, "{conns}");
    let conns = conns.as_array().expect("connections list").clone();
    assert_eq!(conns.len(), 2);
    assert_eq!(
        (
            conns[0]["id"].clone(),
            conns[0]["name"].clone(),
            conns[0]["database_type"].clone()
        ),
        (json!(1), json!("shop"), json!("sqlite"))
    );
    assert_eq!(
        (
            conns[1]["id"].clone(),
            conns[1]["name"].clone(),
            conns[1]["database_type"].clone()
        ),
        (json!(2), json!("warehouse"), json!("duckdb"))
    );
    for c in &conns {
        assert!(
            ["up", "down", "unknown"].contains(&c["status"].as_str().expect("status")),
            "{c}"
        );
    }
    assert!(conns[1]["database_name"]
        .as_str()
        .expect("db name")
        .ends_with("warehouse.duckdb"));

    // 1. Create a chat session with two connection ids.
    let created = api
        .ok(
            "/api/chat/sessions",
            json!({"name": "E-commerce Analysis", "connection_ids": [1, 2], "user_id": "guru"}),
        )
        .await;
    let sid = created["id"].as_str().expect("session id").to_string();
    assert!(uuid::Uuid::parse_str(&sid).is_ok(), "{created}");
    assert_eq!(created["name"], "E-commerce Analysis");
    assert_eq!(created["active_connection_ids"], json!([1, 2]));
    assert_eq!(created["message_count"], 0);
    assert_eq!(created["connections"][0]["name"], "shop");
    assert_eq!(created["connections"][1]["database_type"], "duckdb");
    assert!(
        created["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{created}"
    );

    // 2. Query with chat context: both databases answer, with the real counts.
    let answer = api
        .ok("/api/multi-query/", json!({"question": "how many customers are there?", "chat_session_id": sid, "allow_write": false, "use_cache": true}))
        .await;
    let (shop, warehouse) = demo_count(&proxy, "SELECT count(*) FROM customers");
    assert_eq!(names_of(&answer), ["shop", "warehouse"], "{answer}");
    let shop_r = result_of(&answer, "shop");
    assert_eq!(shop_r["success"], true);
    assert_eq!(shop_r["connection_id"], 1);
    assert_eq!(shop_r["database_type"], "sqlite");
    assert_eq!(shop_r["row_count"], 1);
    assert!(
        shop_r["sql"]
            .as_str()
            .expect("sql")
            .to_lowercase()
            .contains("count"),
        "{shop_r}"
    );
    let shop_obj = shop_r["results"][0].as_object().expect("result object");
    assert_eq!(shop_obj.values().next(), Some(&json!(shop)), "{shop_r}");
    let wh_obj = result_of(&answer, "warehouse")["results"][0]
        .as_object()
        .expect("object")
        .clone();
    assert_eq!(wh_obj.values().next(), Some(&json!(warehouse)));
    assert_eq!(answer["total_databases_queried"], 2);
    assert_eq!(answer["total_rows"], 2);
    assert_eq!(answer["chat_session_id"], sid.as_str());
    assert_eq!(answer["question"], "how many customers are there?");
    assert!(answer["total_execution_time_ms"]
        .as_f64()
        .is_some_and(|t| t > 0.0));
    assert_eq!(answer["warnings"], json!([]));
    assert_eq!(answer["cached"], false);
    assert_eq!(answer["columns"][0], "source_db");
    let query_id = answer["query_id"].as_i64().expect("query_id");

    // 4. Chat history: the question and the answer with databases_used.
    let (s, msgs) = api.get(&format!("/api/chat/sessions/{sid}/messages")).await;
    assert_eq!(s, StatusCode::OK, "{msgs}");
    let msgs = msgs.as_array().expect("messages").clone();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_eq!(msgs[0]["role"], "user");
    assert_eq!(msgs[0]["content"], "how many customers are there?");
    assert_eq!(msgs[0]["chat_session_id"], sid.as_str());
    assert_eq!(msgs[1]["role"], "assistant");
    assert_eq!(msgs[1]["query_history_id"], query_id);
    let used = msgs[1]["databases_used"]
        .as_array()
        .expect("databases_used")
        .clone();
    assert_eq!(used.len(), 2);
    assert_eq!(
        (
            used[0]["conn_id"].clone(),
            used[0]["name"].clone(),
            used[0]["rows"].clone()
        ),
        (json!(1), json!("shop"), json!(1))
    );
    assert_eq!(used[1]["name"], "warehouse");

    // 5. Update the session's connections: the next question asks only the warehouse.
    let (s, patched) = api
        .patch(
            &format!("/api/chat/sessions/{sid}"),
            json!({"connection_ids": [2]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{patched}");
    assert_eq!(patched["active_connection_ids"], json!([2]));
    assert_eq!(patched["message_count"], 2);
    let answer = api
        .ok(
            "/api/multi-query/",
            json!({"question": "how many products are there?", "chat_session_id": sid}),
        )
        .await;
    assert_eq!(names_of(&answer), ["warehouse"], "{answer}");

    // 6. List sessions by user.
    let (s, list) = api.get("/api/chat/sessions?user_id=guru&limit=10").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let mine = list
        .as_array()
        .expect("list")
        .iter()
        .find(|x| x["id"] == sid.as_str())
        .expect("session listed")
        .clone();
    assert_eq!(mine["message_count"], 4);
    assert_eq!(mine["name"], "E-commerce Analysis");
    let (_, one) = api.get("/api/chat/sessions?limit=1").await;
    assert_eq!(one.as_array().expect("list").len(), 1);

    // 3. Explicit connection ids, no session (a new session is made for them).
    let direct = api.ok("/api/multi-query/", json!({"question": "how many customers are there?", "connection_ids": [1], "allow_write": false})).await;
    assert_eq!(names_of(&direct), ["shop"]);
    assert_ne!(direct["chat_session_id"], sid.as_str());
    // Neither session nor ids: the user's default connections (both).
    let fallback = api
        .ok(
            "/api/multi-query/",
            json!({"question": "how many customers are there?"}),
        )
        .await;
    assert_eq!(names_of(&fallback), ["shop", "warehouse"]);
    // Names work as ids too.
    let by_name = api
        .ok(
            "/api/multi-query/",
            json!({"question": "how many customers are there?", "connection_ids": ["warehouse"]}),
        )
        .await;
    assert_eq!(names_of(&by_name), ["warehouse"]);

    // The single-connection endpoint.
    let single = api
        .ok(
            "/api/query/",
            json!({"question": "how many customers are there?", "connection_id": 2}),
        )
        .await;
    assert_eq!(single["connection_name"], "warehouse");
    assert_eq!(single["success"], true);
    assert_eq!(
        single["results"][0]
            .as_object()
            .expect("row")
            .values()
            .next(),
        Some(&json!(warehouse))
    );
    let single = api
        .ok(
            "/api/query/",
            json!({"question": "how many customers are there?"}),
        )
        .await;
    assert_eq!(single["connection_name"], "shop");

    // The guide's error cases, as JSON with 400/404.
    let m = expect_error(
        &api.post(
            "/api/multi-query/",
            json!({"question": "how many customers?", "connection_ids": []}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "22023",
    );
    assert!(m.contains("No database connections specified"), "{m}");
    let m = expect_error(
        &api.post(
            "/api/multi-query/",
            json!({"question": "how many customers?", "connection_ids": [99]}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "42704",
    );
    assert!(
        m.contains("Connection not found") && m.contains("shop, warehouse"),
        "{m}"
    );
    let missing = uuid::Uuid::new_v4();
    let m = expect_error(
        &api.post(
            "/api/multi-query/",
            json!({"question": "x", "chat_session_id": missing.to_string()}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "42704",
    );
    assert!(m.contains("not found"), "{m}");
    expect_error(
        &api.post("/api/multi-query/", json!({"question": "   "}))
            .await,
        StatusCode::BAD_REQUEST,
        "22023",
    );
    expect_error(
        &api.post("/api/multi-query/", json!({"chat_session_id": sid}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "22023",
    );
    expect_error(
        &api.send(
            api.req(reqwest::Method::POST, "/api/multi-query/")
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "42601",
    );
    expect_error(
        &api.post("/api/chat/sessions", json!({"connection_ids": [7]}))
            .await,
        StatusCode::NOT_FOUND,
        "42704",
    );
    expect_error(
        &api.get(&format!("/api/chat/sessions/{missing}")).await,
        StatusCode::NOT_FOUND,
        "42704",
    );
    expect_error(
        &api.get("/api/no/such/thing").await,
        StatusCode::NOT_FOUND,
        "42704",
    );
    // A question beyond the builtin planner.
    expect_error(
        &api.post(
            "/api/multi-query/",
            json!({"question": "write me a poem about the sea"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "0A000",
    );
    // Settings keep their caps: max_rows above [limits] max_rows.
    expect_error(
        &api.post(
            "/api/multi-query/",
            json!({"question": "how many customers are there?", "max_rows": 1_000_000}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "22023",
    );
    // The trusted demo user may not write.
    expect_error(
        &api.post(
            "/api/multi-query/",
            json!({"question": "how many customers are there?", "allow_write": true}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "42501",
    );

    // A body over [http] max_body (1 MB by default).
    let big = "x".repeat(1_100_000);
    expect_error(
        &api.post("/api/multi-query/", json!({"question": big}))
            .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "54000",
    );

    // Delete: gone from the API and from the store.
    let (s, _) = api.delete(&format!("/api/chat/sessions/{sid}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    expect_error(
        &api.get(&format!("/api/chat/sessions/{sid}/messages")).await,
        StatusCode::NOT_FOUND,
        "42704",
    );
    let (_, list) = api.get("/api/chat/sessions?limit=1000").await;
    assert!(list
        .as_array()
        .expect("list")
        .iter()
        .all(|x| x["id"] != sid.as_str()));
    proxy.shutdown().await;
}

/// `GET /api/openapi.json` describes every endpoint, and no CORS header without
/// `[http] allow_origins`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_and_cors() {
    let proxy = embedded_default().await;
    let api = Http::new(&proxy);
    let (s, doc) = api.get("/api/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{doc}"
    );
    let paths = doc["paths"].as_object().expect("paths");
    for (p, methods) in [
        ("/api/chat/sessions", &["get", "post"][..]),
        ("/api/chat/sessions/{id}", &["get", "patch", "delete"][..]),
        ("/api/chat/sessions/{id}/messages", &["get"][..]),
        ("/api/multi-query/", &["post"][..]),
        ("/api/multi-query/stream", &["post"][..]),
        ("/api/query/", &["post"][..]),
        ("/api/connections", &["get"][..]),
        ("/api/health", &["get"][..]),
        ("/api/openapi.json", &["get"][..]),
    ] {
        for m in methods {
            assert!(
                paths.get(p).and_then(|x| x.get(*m)).is_some(),
                "{m} {p} missing from openapi.json"
            );
        }
    }
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let mq = &schemas["MultiQueryResponse"]["properties"];
    for f in [
        "query_id",
        "database_results",
        "total_databases_queried",
        "total_rows",
        "total_execution_time_ms",
        "warnings",
        "cached",
        "timestamp",
    ] {
        assert!(mq.get(f).is_some(), "MultiQueryResponse lacks {f}");
    }
    let r = api
        .req(reqwest::Method::GET, "/api/health")
        .header("Origin", "https://evil.example")
        .send()
        .await
        .expect("request");
    assert!(
        r.headers().get("access-control-allow-origin").is_none(),
        "CORS header without allow_origins"
    );
    proxy.shutdown().await;

    let proxy = start_proxy(&base_config(
        "[http]\nlisten = \"127.0.0.1:0\"\nallow_origins = [\"https://bi.example.com\"]\n",
    ))
    .await;
    let api = Http::new(&proxy);
    let allowed = api
        .req(reqwest::Method::OPTIONS, "/api/multi-query/")
        .header("Origin", "https://bi.example.com")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .expect("preflight");
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().expect("ascii")),
        Some("https://bi.example.com")
    );
    let other = api
        .req(reqwest::Method::GET, "/api/health")
        .header("Origin", "https://evil.example")
        .send()
        .await
        .expect("request");
    assert!(other.headers().get("access-control-allow-origin").is_none());
    proxy.shutdown().await;
}

/// The same users as the wire: Basic with a password or a SCRAM verifier, bearer tokens,
/// trust only from loopback, per-user allowlists, `may_write`, and sessions private to
/// their owner (403).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_tokens_allowlists_and_foreign_sessions() {
    let dir = temp_dir();
    let lite = sqlite_file(
        dir.path(),
        "a.sqlite",
        "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1),(2);",
    );
    let duck = duckdb_file(
        dir.path(),
        "b.duckdb",
        "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);",
    );
    // A SCRAM verifier for "bob-secret", as PostgreSQL stores it.
    let salt = b"0123456789abcdef".to_vec();
    let salted = pgwire::api::auth::sasl::scram::gen_salted_password("bob-secret", &salt, 4096);
    let verifier = match pgwire::api::auth::sasl::scram::ScramSecret::verifier_from_salted_password(
        salt.clone(),
        salted,
        4096,
    ) {
        pgwire::api::auth::sasl::scram::ScramSecret::Verifier {
            stored_key,
            server_key,
            ..
        } => {
            use base64::Engine as _;
            let b = base64::engine::general_purpose::STANDARD;
            format!(
                "SCRAM-SHA-256$4096:{}${}:{}",
                b.encode(&salt),
                b.encode(stored_key),
                b.encode(server_key)
            )
        }
        _ => panic!("expected a verifier"),
    };
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[http]\nlisten = \"127.0.0.1:0\"\n\n\
         [[users]]\nname = \"alice\"\npassword = \"alice-secret\"\nconnections = [\"a\"]\n\n\
         [[users]]\nname = \"bob\"\nscram_verifier = {}\n\n\
         [[users]]\nname = \"carol\"\npassword = \"carol-secret\"\napi_token = \"carol-token-0123456789\"\nmay_write = true\n\n\
         [llm]\nprovider = \"builtin\"\n\n{}{}",
        toml_str(&verifier),
        file_connection_toml("a", "sqlite", &lite),
        file_connection_toml("b", "duckdb", &duck),
    );
    let proxy = start_proxy(&toml).await;
    let anon = Http::new(&proxy);
    let alice = Http::basic(&proxy, "alice", "alice-secret");
    let bob = Http::basic(&proxy, "bob", "bob-secret");
    let carol = Http::bearer(&proxy, "carol-token-0123456789");

    // No trust user: credentials are required (and the browser is asked for them).
    let r = anon
        .req(reqwest::Method::GET, "/api/connections")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r
        .headers()
        .get("www-authenticate")
        .is_some_and(|v| v.to_str().is_ok_and(|s| s.starts_with("Basic"))));
    expect_error(
        &anon.get("/api/chat/sessions").await,
        StatusCode::UNAUTHORIZED,
        "28000",
    );
    expect_error(
        &Http::basic(&proxy, "alice", "wrong")
            .get("/api/connections")
            .await,
        StatusCode::UNAUTHORIZED,
        "28P01",
    );
    expect_error(
        &Http::basic(&proxy, "bob", "wrong")
            .get("/api/connections")
            .await,
        StatusCode::UNAUTHORIZED,
        "28P01",
    );
    expect_error(
        &Http::basic(&proxy, "nobody", "x")
            .get("/api/connections")
            .await,
        StatusCode::UNAUTHORIZED,
        "28P01",
    );
    expect_error(
        &Http::bearer(&proxy, "carol-token-wrong-000000")
            .get("/api/connections")
            .await,
        StatusCode::UNAUTHORIZED,
        "28P01",
    );
    // The health check needs no credentials.
    assert_eq!(anon.get("/api/health").await.0, StatusCode::OK);

    // Each user sees the connections they may use.
    let (s, c) = alice.get("/api/connections").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        c.as_array()
            .expect("list")
            .iter()
            .map(|x| x["name"].clone())
            .collect::<Vec<_>>(),
        [json!("a")]
    );
    let (s, c) = bob.get("/api/connections").await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c.as_array().expect("list").len(), 2);
    let (s, c) = carol.get("/api/connections").await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c.as_array().expect("list").len(), 2);

    // Alice may not name connection b; her default is a only.
    expect_error(
        &alice
            .post(
                "/api/multi-query/",
                json!({"question": "how many rows in t?", "connection_ids": [2]}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "42501",
    );
    let mine = alice
        .ok(
            "/api/multi-query/",
            json!({"question": "how many rows in t?"}),
        )
        .await;
    assert_eq!(names_of(&mine), ["a"], "{mine}");
    assert_eq!(
        result_of(&mine, "a")["results"][0]
            .as_object()
            .expect("row")
            .values()
            .next(),
        Some(&json!(2))
    );
    let sid = mine["chat_session_id"].as_str().expect("sid").to_string();
    // may_write: alice may not, carol may.
    expect_error(
        &alice
            .post(
                "/api/multi-query/",
                json!({"question": "how many rows in t?", "allow_write": true}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "42501",
    );
    let w = carol.ok("/api/multi-query/", json!({"question": "how many rows in t?", "allow_write": true, "connection_ids": ["b"]})).await;
    assert_eq!(names_of(&w), ["b"]);

    // Alice's session is hers: bob gets 403 everywhere.
    let (s, own) = alice.get(&format!("/api/chat/sessions/{sid}")).await;
    assert_eq!(s, StatusCode::OK, "{own}");
    assert_eq!(own["user_id"], "alice");
    expect_error(
        &bob.get(&format!("/api/chat/sessions/{sid}")).await,
        StatusCode::FORBIDDEN,
        "42501",
    );
    expect_error(
        &bob.get(&format!("/api/chat/sessions/{sid}/messages")).await,
        StatusCode::FORBIDDEN,
        "42501",
    );
    expect_error(
        &bob.patch(
            &format!("/api/chat/sessions/{sid}"),
            json!({"name": "mine now"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "42501",
    );
    expect_error(
        &bob.delete(&format!("/api/chat/sessions/{sid}")).await,
        StatusCode::FORBIDDEN,
        "42501",
    );
    expect_error(
        &bob.post(
            "/api/multi-query/",
            json!({"question": "how many rows in t?", "chat_session_id": sid}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "42501",
    );
    expect_error(
        &bob.get("/api/chat/sessions?user_id=alice").await,
        StatusCode::FORBIDDEN,
        "42501",
    );
    expect_error(
        &bob.post("/api/chat/sessions", json!({"user_id": "alice"}))
            .await,
        StatusCode::FORBIDDEN,
        "42501",
    );
    let (_, bobs) = bob.get("/api/chat/sessions").await;
    assert_eq!(bobs, json!([]), "bob sees only his own sessions");
    let (_, alices) = alice.get("/api/chat/sessions").await;
    assert_eq!(alices.as_array().expect("list").len(), 1);

    // The same session over the wire: bob may not resume it either.
    let wire = proxy
        .connect_as("bob", "bob-secret")
        .await
        .expect("bob over the wire");
    let e = simple(&wire, &format!("SET dbguru.session = '{sid}'"))
        .await
        .expect_err("foreign session");
    assert_eq!(sqlstate(&e).as_deref(), Some("42501"));
    proxy.shutdown().await;
}

/// Server-sent events of `/api/multi-query/stream`: the plan, each database as it
/// finishes, then the full answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_reports_each_database_then_the_answer() {
    let proxy = embedded_default().await;
    let api = Http::new(&proxy);
    let r = api
        .req(reqwest::Method::POST, "/api/multi-query/stream")
        .json(&json!({"question": "how many customers are there?"}))
        .send()
        .await
        .expect("stream request");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/event-stream"));
    let text = r.text().await.expect("stream body");
    let events: Vec<(String, Value)> = text
        .split("\n\n")
        .filter_map(|chunk| {
            let mut ev = None;
            let mut data = String::new();
            for line in chunk.lines() {
                if let Some(e) = line.strip_prefix("event:") {
                    ev = Some(e.trim().to_string());
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim());
                }
            }
            Some((ev?, serde_json::from_str(&data).ok()?))
        })
        .collect();
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["plan", "database", "database", "result"], "{text}");
    let planned: Vec<&str> = events[0]
        .1
        .as_array()
        .expect("plan")
        .iter()
        .map(|p| p["connection_name"].as_str().expect("name"))
        .collect();
    assert_eq!(planned, ["shop", "warehouse"]);
    let mut finished: Vec<&str> = events[1..3]
        .iter()
        .map(|(_, d)| d["connection_name"].as_str().expect("name"))
        .collect();
    finished.sort();
    assert_eq!(finished, ["shop", "warehouse"]);
    assert!(events[1..3]
        .iter()
        .all(|(_, d)| d["success"] == true && d["row_count"] == 1));
    let (shop, warehouse) = demo_count(&proxy, "SELECT count(*) FROM customers");
    let result = &events[3].1;
    assert_eq!(
        result_of(result, "shop")["results"][0]
            .as_object()
            .expect("row")
            .values()
            .next(),
        Some(&json!(shop))
    );
    assert_eq!(
        result_of(result, "warehouse")["results"][0]
            .as_object()
            .expect("row")
            .values()
            .next(),
        Some(&json!(warehouse))
    );
    // An error arrives as an `error` event.
    let text = api
        .req(reqwest::Method::POST, "/api/multi-query/stream")
        .json(&json!({"question": "how many customers?", "connection_ids": [42]}))
        .send()
        .await
        .expect("stream request")
        .text()
        .await
        .expect("body");
    assert!(
        text.contains("event: error") && text.contains("42704"),
        "{text}"
    );
    proxy.shutdown().await;
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    let mut dirs: Vec<std::path::PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(std::path::PathBuf::from));
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// The chat page in a real browser: Debian's headless Chromium opens `/`, asks "how many
/// customers are there?" from the keyboard and sees a table with `shop` and `warehouse`
/// rows, each database's progress and a bar chart; then renames the session, starts a new
/// chat (Alt+N), resumes the old one from the list and deletes it. Screenshots (laptop and
/// phone width) are kept under the test's output directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_page_in_headless_chromium() {
    let node = which("node").expect("`node` not found: install the Debian packages nodejs and npm");
    let chromium = std::env::var_os("DBGURU_CHROMIUM")
        .map(std::path::PathBuf::from)
        .or_else(|| which("chromium"))
        .expect("`chromium` not found: apt-get install chromium (scripts/test does)");
    let modules = std::env::var_os("DBGURU_NODE_MODULES")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| std::path::PathBuf::from(h).join(".cache/dbguru-node/node_modules"))
        })
        .expect("DBGURU_NODE_MODULES or HOME");
    assert!(
        modules.join("playwright-core/package.json").is_file(),
        "playwright-core not found in {}: npm install --prefix $HOME/.cache/dbguru-node playwright-core (scripts/test does)",
        modules.display()
    );
    let proxy = embedded_default().await;
    let out_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("http-chat-page");
    std::fs::create_dir_all(&out_dir).expect("output dir");
    let shot = out_dir.join("chat-page.png");
    let phone = out_dir.join("chat-page-phone.png");
    let _ = std::fs::remove_file(&shot);
    let script = manifest_dir().join("tests/http_page/chat_page.js");
    let out = tokio::process::Command::new(node)
        .arg(&script)
        .arg(proxy.http_url())
        .arg(&shot)
        .arg(&phone)
        .env("NODE_PATH", &modules)
        .env("DBGURU_CHROMIUM", &chromium)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "chat page check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot is not a real PNG"
    );
    eprintln!(
        "chat page screenshots: {} and {}",
        shot.display(),
        phone.display()
    );
    // The page renamed, resumed and finally deleted its session: the store agrees.
    let (_, sessions) = Http::new(&proxy).get("/api/chat/sessions").await;
    assert_eq!(sessions, json!([]), "the deleted session is still listed");
    proxy.shutdown().await;
}

/// PostgreSQL (id 1) and MariaDB (id 2) with orders, and the scripted LLM.
struct NetFixture {
    proxy: Proxy,
    llm: ScriptedLlm,
    pg_db: String,
}

async fn net_fixture() -> NetFixture {
    let pg = postgres().await;
    let (pg_db, pg_url) = pg.fresh_database("http").await;
    pg.exec_in(
        &pg_db,
        "CREATE TABLE orders (id int PRIMARY KEY, region text, total numeric(10,2));
         INSERT INTO orders VALUES (1,'EU',100.50),(2,'US',20.25),(3,'EU',4.25);",
    )
    .await;
    let my = mariadb().await;
    let (my_db, my_url) = my.fresh_database("http").await;
    my.exec_in(
        &my_db,
        "CREATE TABLE orders (id int PRIMARY KEY, region varchar(10), total decimal(10,2));
         INSERT INTO orders VALUES (1,'EU',10.00),(2,'APAC',5.50);",
    )
    .await;
    let llm = ScriptedLlm::start().await;
    let toml = base_config(&format!(
        "[http]\nlisten = \"127.0.0.1:0\"\n\n{}\n{}{}",
        llm.llm_toml("10s", 0),
        url_connection_toml("pg", "postgres", &pg_url),
        url_connection_toml("my", "mysql", &my_url),
    ));
    NetFixture {
        proxy: start_proxy(&toml).await,
        llm,
        pg_db,
    }
}

const REVENUE: &str = "DATABASE: pg\nSELECT sum(total) AS total_revenue FROM orders;\n\n\
DATABASE: my\nSELECT sum(total) AS total_revenue FROM orders;";

/// The guide's walk-through on PostgreSQL + MariaDB with the scripted LLM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guide_walkthrough_on_postgres_and_mariadb() {
    let f = net_fixture().await;
    let api = Http::new(&f.proxy);
    let (_, conns) = api.get("/api/connections").await;
    let types: Vec<Value> = conns
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["database_type"].clone())
        .collect();
    assert_eq!(types, [json!("postgresql"), json!("mysql")]);

    let created = api
        .ok(
            "/api/chat/sessions",
            json!({"name": "Revenue", "connection_ids": [1, 2]}),
        )
        .await;
    let sid = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["active_connection_ids"], json!([1, 2]));

    f.llm.push_text(REVENUE);
    let answer = api
        .ok(
            "/api/multi-query/",
            json!({"question": "Compare total revenue between databases", "chat_session_id": sid}),
        )
        .await;
    // The prompt showed both databases in the guide's format.
    let prompt = f.llm.last_prompt_text();
    assert!(
        prompt.contains("--- Database: pg") && prompt.contains("--- Database: my"),
        "{prompt}"
    );
    let pg = result_of(&answer, "pg");
    assert_eq!(pg["database_type"], "postgresql");
    assert_eq!(pg["results"], json!([{"total_revenue": 125.0}]));
    assert_eq!(
        pg["sql"]
            .as_str()
            .map(|s| s.to_lowercase().contains("sum(total)")),
        Some(true),
        "{pg}"
    );
    assert_eq!(
        result_of(&answer, "my")["results"],
        json!([{"total_revenue": 15.5}])
    );
    assert_eq!(answer["total_rows"], 2);
    // The combined table: source_db first.
    assert_eq!(answer["columns"], json!(["source_db", "total_revenue"]));
    let mut combined = answer["rows"].as_array().expect("rows").clone();
    combined.sort_by_key(|r| r[0].as_str().map(str::to_string));
    assert_eq!(combined, [json!(["my", 15.5]), json!(["pg", 125.0])]);

    // A follow-up carries the history; one database failing is a warning, not an error.
    f.llm.push_text("DATABASE: pg\nSELECT region, sum(total) AS revenue FROM orders GROUP BY region ORDER BY region;\n\nDATABASE: my\nSELECT no_such_column FROM orders;");
    f.llm
        .push_text("DATABASE: my\nSELECT still_missing FROM orders;");
    let answer = api
        .ok(
            "/api/multi-query/",
            json!({"question": "and per region?", "chat_session_id": sid}),
        )
        .await;
    assert!(f
        .llm
        .recorded()
        .iter()
        .rev()
        .nth(1)
        .expect("follow-up request")
        .prompt_text()
        .contains("Compare total revenue between databases"));
    assert_eq!(
        result_of(&answer, "pg")["results"],
        json!([{"region": "EU", "revenue": 104.75}, {"region": "US", "revenue": 20.25}])
    );
    let my = result_of(&answer, "my");
    assert_eq!(my["success"], false);
    assert!(
        my["error"]
            .as_str()
            .is_some_and(|e| e.contains("still_missing")),
        "{my}"
    );
    let warnings = answer["warnings"].as_array().expect("warnings");
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("\"my\""))),
        "{answer}"
    );

    let (_, msgs) = api.get(&format!("/api/chat/sessions/{sid}/messages")).await;
    let msgs = msgs.as_array().expect("messages").clone();
    assert_eq!(msgs.len(), 4);
    let used = msgs[3]["databases_used"].as_array().expect("used").clone();
    assert_eq!(used.len(), 2);
    assert!(
        used.iter()
            .any(|d| d["name"] == "my" && d["error"].is_string()),
        "{used:?}"
    );

    // Patch to PostgreSQL only: the prompt shows only pg.
    let (s, p) = api
        .patch(
            &format!("/api/chat/sessions/{sid}"),
            json!({"connection_ids": [1], "name": "Revenue (pg)"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(
        (p["active_connection_ids"].clone(), p["name"].clone()),
        (json!([1]), json!("Revenue (pg)"))
    );
    f.llm
        .push_text("DATABASE: pg\nSELECT count(*) AS orders FROM orders;");
    let answer = api
        .ok(
            "/api/multi-query/",
            json!({"question": "how many orders?", "chat_session_id": sid}),
        )
        .await;
    assert_eq!(names_of(&answer), ["pg"]);
    assert!(!f.llm.last_prompt_text().contains("--- Database: my"));

    // List by user, direct query without a session.
    let (_, list) = api.get("/api/chat/sessions?user_id=guru&limit=10").await;
    assert_eq!(list[0]["id"], sid.as_str());
    assert_eq!(list[0]["message_count"], 6);
    f.llm
        .push_text("DATABASE: my\nSELECT count(*) AS orders FROM orders;");
    let direct = api
        .ok(
            "/api/multi-query/",
            json!({"question": "how many orders?", "connection_ids": [2]}),
        )
        .await;
    assert_eq!(result_of(&direct, "my")["results"], json!([{"orders": 2}]));
    // Errors of the LLM reach the client as JSON too: a reply naming an unknown database.
    f.llm.push_text("DATABASE: nowhere\nSELECT 1;");
    f.llm.push_text("DATABASE: nowhere\nSELECT 1;");
    expect_error(
        &api.post(
            "/api/multi-query/",
            json!({"question": "anything?", "connection_ids": [1]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "42601",
    );
    // The guard: a write from the LLM on a read-only session.
    f.llm.push_text("DATABASE: pg\nDELETE FROM orders;");
    expect_error(
        &api.post(
            "/api/multi-query/",
            json!({"question": "drop it all", "connection_ids": [1]}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "25006",
    );
    let left: i64 = postgres()
        .await
        .client_for(&f.pg_db)
        .await
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(left, 3, "the guard let a DELETE through");
    f.proxy.shutdown().await;
}

/// A session started in psql continues over HTTP with its history, and the reverse;
/// both write the same store rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_and_http_continue_each_others_sessions() {
    let f = net_fixture().await;
    let api = Http::new(&f.proxy);
    f.llm.set_default(Reply::text(
        "DATABASE: pg\nSELECT count(*) AS orders FROM orders;",
    ));

    // psql → HTTP.
    let wire = f.proxy.connect().await;
    simple(&wire, "SET dbguru.connections = 'pg'")
        .await
        .expect("set connections");
    simple(&wire, "ASK 'first question from psql'")
        .await
        .expect("ask over the wire");
    let sid = simple(&wire, "SHOW dbguru.session")
        .await
        .expect("show session")
        .scalar()
        .expect("id");
    let answer = api
        .ok(
            "/api/multi-query/",
            json!({"question": "second question over http", "chat_session_id": sid}),
        )
        .await;
    assert_eq!(answer["chat_session_id"], sid.as_str());
    assert_eq!(
        names_of(&answer),
        ["pg"],
        "the session's connections came along"
    );
    let prompt = f.llm.last_prompt_text();
    assert!(
        prompt.contains("first question from psql"),
        "HTTP prompt lacks the psql turn:\n{prompt}"
    );
    let (_, msgs) = api.get(&format!("/api/chat/sessions/{sid}/messages")).await;
    let contents: Vec<&str> = msgs
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().expect("content"))
        .collect();
    assert_eq!(
        contents,
        ["first question from psql", "second question over http"]
    );
    // ... and back on the same psql connection after a reconnect.
    drop(wire);
    let wire = f.proxy.connect().await;
    simple(&wire, &format!("SET dbguru.session = '{sid}'"))
        .await
        .expect("resume");
    simple(&wire, "ASK 'third question from psql'")
        .await
        .expect("ask");
    assert!(f
        .llm
        .last_prompt_text()
        .contains("second question over http"));

    // HTTP → psql.
    let created = api
        .ok(
            "/api/chat/sessions",
            json!({"name": "from the page", "connection_ids": [2]}),
        )
        .await;
    let sid2 = created["id"].as_str().expect("id").to_string();
    f.llm
        .push_text("DATABASE: my\nSELECT count(*) AS orders FROM orders;");
    api.ok(
        "/api/multi-query/",
        json!({"question": "question one over http", "chat_session_id": sid2}),
    )
    .await;
    let wire2 = f.proxy.connect().await;
    simple(&wire2, &format!("SET dbguru.session = '{sid2}'"))
        .await
        .expect("resume the HTTP session");
    assert_eq!(
        simple(&wire2, "SHOW dbguru.connections")
            .await
            .expect("show")
            .scalar()
            .as_deref(),
        Some("my")
    );
    assert_eq!(
        simple(&wire2, "SHOW dbguru.session_name")
            .await
            .expect("show")
            .scalar()
            .as_deref(),
        Some("from the page")
    );
    f.llm
        .push_text("DATABASE: my\nSELECT count(*) AS orders FROM orders;");
    let r = simple(&wire2, "ASK 'question two from psql'")
        .await
        .expect("ask");
    assert_eq!(r.column("source_db"), [Some("my".to_string())]);
    assert!(f.llm.last_prompt_text().contains("question one over http"));
    let n = simple(
        &wire2,
        &format!("SELECT count(*) FROM dbguru.messages WHERE chat_session_id = '{sid2}'"),
    )
    .await
    .expect("messages")
    .scalar();
    assert_eq!(n.as_deref(), Some("4"));
    let (_, s) = api.get(&format!("/api/chat/sessions/{sid2}")).await;
    assert_eq!(s["message_count"], 4);
    let q = simple(
        &wire2,
        &format!(
            "SELECT count(*) FROM dbguru.queries WHERE chat_session_id = '{sid2}' AND success = 1"
        ),
    )
    .await
    .expect("queries")
    .scalar();
    assert_eq!(q.as_deref(), Some("2"));
    f.proxy.shutdown().await;
}

/// schemathesis (property-based, from `/api/openapi.json`) finds no server error and no
/// response that contradicts the document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_or_schema_drift() {
    let venv = std::env::var_os("DBGURU_VENV")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache/dbguru-venv"))
        })
        .expect("DBGURU_VENV or HOME");
    let st = venv.join("bin/schemathesis");
    assert!(
        st.is_file(),
        "schemathesis not found at {}: pip install schemathesis (scripts/test does)",
        st.display()
    );
    let proxy = embedded_default().await;
    let url = format!("{}/api/openapi.json", proxy.http_url());
    let work = temp_dir();
    let out = tokio::process::Command::new(&st)
        .current_dir(work.path())
        .args([
            "run",
            &url,
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance",
        ])
        .args([
            "--exclude-path",
            "/api/multi-query/stream",
            "--max-time",
            "60",
            "--workers",
            "2",
        ])
        .env("SCHEMATHESIS_HOOKS", "")
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    proxy.shutdown().await;
}
