//! The HTTP API of the reference guide and the chat page, driven with real HTTP
//! requests (reqwest) against the in-process proxy: the embedded default (demo SQLite +
//! DuckDB, builtin planner), and PostgreSQL + MariaDB with the scripted LLM; sessions
//! shared with the PostgreSQL wire; the page in headless Chromium.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The embedded default `proxy.toml` on free ports, relative paths in a temp dir.
async fn embedded_default() -> Proxy {
    let text = dbguru::config::EMBEDDED_DEFAULT
        .replace("127.0.0.1:6543", "127.0.0.1:0")
        .replace("127.0.0.1:8000", "127.0.0.1:0");
    assert_ne!(text, dbguru::config::EMBEDDED_DEFAULT, "listen addresses not found in the embedded default");
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
        self.send(self.req(reqwest::Method::POST, path).json(&body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.req(reqwest::Method::PATCH, path).json(&body)).await
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
    assert_eq!(got.1["error"]["code"], code, "unexpected error body {}", got.1);
    got.1["error"]["message"].as_str().expect("error message").to_string()
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
    let warehouse: i64 = duckdb::Connection::open_with_flags(
        proxy.base_dir().join("data/warehouse.duckdb"),
        cfg,
    )
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
    assert_eq!((conns[0]["id"].clone(), conns[0]["name"].clone(), conns[0]["database_type"].clone()), (json!(1), json!("shop"), json!("sqlite")));
    assert_eq!((conns[1]["id"].clone(), conns[1]["name"].clone(), conns[1]["database_type"].clone()), (json!(2), json!("warehouse"), json!("duckdb")));
    for c in &conns {
        assert!(["up", "down", "unknown"].contains(&c["status"].as_str().expect("status")), "{c}");
    }
    assert!(conns[1]["database_name"].as_str().expect("db name").ends_with("warehouse.duckdb"));

    // 1. Create a chat session with two connection ids.
    let created = api
        .ok("/api/chat/sessions", json!({"name": "E-commerce Analysis", "connection_ids": [1, 2], "user_id": "guru"}))
        .await;
    let sid = created["id"].as_str().expect("session id").to_string();
    assert!(uuid::Uuid::parse_str(&sid).is_ok(), "{created}");
    assert_eq!(created["name"], "E-commerce Analysis");
    assert_eq!(created["active_connection_ids"], json!([1, 2]));
    assert_eq!(created["message_count"], 0);
    assert_eq!(created["connections"][0]["name"], "shop");
    assert_eq!(created["connections"][1]["database_type"], "duckdb");
    assert!(created["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{created}");

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
    assert!(shop_r["sql"].as_str().expect("sql").to_lowercase().contains("count"), "{shop_r}");
    let shop_obj = shop_r["results"][0].as_object().expect("result object");
    assert_eq!(shop_obj.values().next(), Some(&json!(shop)), "{shop_r}");
    let wh_obj = result_of(&answer, "warehouse")["results"][0].as_object().expect("object").clone();
    assert_eq!(wh_obj.values().next(), Some(&json!(warehouse)));
    assert_eq!(answer["total_databases_queried"], 2);
    assert_eq!(answer["total_rows"], 2);
    assert_eq!(answer["chat_session_id"], sid.as_str());
    assert_eq!(answer["question"], "how many customers are there?");
    assert!(answer["total_execution_time_ms"].as_f64().is_some_and(|t| t > 0.0));
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
    let used = msgs[1]["databases_used"].as_array().expect("databases_used").clone();
    assert_eq!(used.len(), 2);
    assert_eq!((used[0]["conn_id"].clone(), used[0]["name"].clone(), used[0]["rows"].clone()), (json!(1), json!("shop"), json!(1)));
    assert_eq!(used[1]["name"], "warehouse");

    // 5. Update the session's connections: the next question asks only the warehouse.
    let (s, patched) = api.patch(&format!("/api/chat/sessions/{sid}"), json!({"connection_ids": [2]})).await;
    assert_eq!(s, StatusCode::OK, "{patched}");
    assert_eq!(patched["active_connection_ids"], json!([2]));
    assert_eq!(patched["message_count"], 2);
    let answer = api
        .ok("/api/multi-query/", json!({"question": "how many products are there?", "chat_session_id": sid}))
        .await;
    assert_eq!(names_of(&answer), ["warehouse"], "{answer}");

    // 6. List sessions by user.
    let (s, list) = api.get("/api/chat/sessions?user_id=guru&limit=10").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let mine = list.as_array().expect("list").iter().find(|x| x["id"] == sid.as_str()).expect("session listed").clone();
    assert_eq!(mine["message_count"], 4);
    assert_eq!(mine["name"], "E-commerce Analysis");
    let (_, one) = api.get("/api/chat/sessions?limit=1").await;
    assert_eq!(one.as_array().expect("list").len(), 1);

    // 3. Explicit connection ids, no session (a new session is made for them).
    let direct = api.ok("/api/multi-query/", json!({"question": "how many customers are there?", "connection_ids": [1], "allow_write": false})).await;
    assert_eq!(names_of(&direct), ["shop"]);
    assert_ne!(direct["chat_session_id"], sid.as_str());
    // Neither session nor ids: the user's default connections (both).
    let fallback = api.ok("/api/multi-query/", json!({"question": "how many customers are there?"})).await;
    assert_eq!(names_of(&fallback), ["shop", "warehouse"]);
    // Names work as ids too.
    let by_name = api.ok("/api/multi-query/", json!({"question": "how many customers are there?", "connection_ids": ["warehouse"]})).await;
    assert_eq!(names_of(&by_name), ["warehouse"]);

    // The single-connection endpoint.
    let single = api.ok("/api/query/", json!({"question": "how many customers are there?", "connection_id": 2})).await;
    assert_eq!(single["connection_name"], "warehouse");
    assert_eq!(single["success"], true);
    assert_eq!(single["results"][0].as_object().expect("row").values().next(), Some(&json!(warehouse)));
    let single = api.ok("/api/query/", json!({"question": "how many customers are there?"})).await;
    assert_eq!(single["connection_name"], "shop");

    // The guide's error cases, as JSON with 400/404.
    let m = expect_error(&api.post("/api/multi-query/", json!({"question": "how many customers?", "connection_ids": []})).await, StatusCode::BAD_REQUEST, "22023");
    assert!(m.contains("No database connections specified"), "{m}");
    let m = expect_error(&api.post("/api/multi-query/", json!({"question": "how many customers?", "connection_ids": [99]})).await, StatusCode::NOT_FOUND, "42704");
    assert!(m.contains("Connection not found") && m.contains("shop, warehouse"), "{m}");
    let missing = uuid::Uuid::new_v4();
    let m = expect_error(&api.post("/api/multi-query/", json!({"question": "x", "chat_session_id": missing.to_string()})).await, StatusCode::NOT_FOUND, "42704");
    assert!(m.contains("not found"), "{m}");
    expect_error(&api.post("/api/multi-query/", json!({"question": "   "})).await, StatusCode::BAD_REQUEST, "22023");
    expect_error(&api.post("/api/multi-query/", json!({"chat_session_id": sid})).await, StatusCode::UNPROCESSABLE_ENTITY, "22023");
    expect_error(&api.send(api.req(reqwest::Method::POST, "/api/multi-query/").header("content-type", "application/json").body("{not json")).await, StatusCode::BAD_REQUEST, "42601");
    expect_error(&api.post("/api/chat/sessions", json!({"connection_ids": [7]})).await, StatusCode::NOT_FOUND, "42704");
    expect_error(&api.get(&format!("/api/chat/sessions/{missing}")).await, StatusCode::NOT_FOUND, "42704");
    expect_error(&api.get("/api/no/such/thing").await, StatusCode::NOT_FOUND, "42704");
    // A question beyond the builtin planner.
    expect_error(&api.post("/api/multi-query/", json!({"question": "write me a poem about the sea"})).await, StatusCode::UNPROCESSABLE_ENTITY, "0A000");
    // Settings keep their caps: max_rows above [limits] max_rows.
    expect_error(&api.post("/api/multi-query/", json!({"question": "how many customers are there?", "max_rows": 1_000_000})).await, StatusCode::BAD_REQUEST, "22023");
    // The trusted demo user may not write.
    expect_error(&api.post("/api/multi-query/", json!({"question": "how many customers are there?", "allow_write": true})).await, StatusCode::FORBIDDEN, "42501");

    // A body over [http] max_body (1 MB by default).
    let big = "x".repeat(1_100_000);
    expect_error(&api.post("/api/multi-query/", json!({"question": big})).await, StatusCode::PAYLOAD_TOO_LARGE, "54000");

    // Delete: gone from the API and from the store.
    let (s, _) = api.delete(&format!("/api/chat/sessions/{sid}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    expect_error(&api.get(&format!("/api/chat/sessions/{sid}/messages")).await, StatusCode::NOT_FOUND, "42704");
    let (_, list) = api.get("/api/chat/sessions?limit=1000").await;
    assert!(list.as_array().expect("list").iter().all(|x| x["id"] != sid.as_str()));
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
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{doc}");
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
            assert!(paths.get(p).and_then(|x| x.get(*m)).is_some(), "{m} {p} missing from openapi.json");
        }
    }
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let mq = &schemas["MultiQueryResponse"]["properties"];
    for f in ["query_id", "database_results", "total_databases_queried", "total_rows", "total_execution_time_ms", "warnings", "cached", "timestamp"] {
        assert!(mq.get(f).is_some(), "MultiQueryResponse lacks {f}");
    }
    let r = api
        .req(reqwest::Method::GET, "/api/health")
        .header("Origin", "https://evil.example")
        .send()
        .await
        .expect("request");
    assert!(r.headers().get("access-control-allow-origin").is_none(), "CORS header without allow_origins");
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
    assert_eq!(allowed.headers().get("access-control-allow-origin").map(|v| v.to_str().expect("ascii")), Some("https://bi.example.com"));
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
    let lite = sqlite_file(dir.path(), "a.sqlite", "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1),(2);");
    let duck = duckdb_file(dir.path(), "b.duckdb", "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);");
    // A SCRAM verifier for "bob-secret", as PostgreSQL stores it.
    let salt = b"0123456789abcdef".to_vec();
    let salted = pgwire::api::auth::sasl::scram::gen_salted_password("bob-secret", &salt, 4096);
    let verifier = match pgwire::api::auth::sasl::scram::ScramSecret::verifier_from_salted_password(salt.clone(), salted, 4096) {
        pgwire::api::auth::sasl::scram::ScramSecret::Verifier { stored_key, server_key, .. } => {
            use base64::Engine as _;
            let b = base64::engine::general_purpose::STANDARD;
            format!("SCRAM-SHA-256$4096:{}${}:{}", b.encode(&salt), b.encode(stored_key), b.encode(server_key))
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
    let r = anon.req(reqwest::Method::GET, "/api/connections").send().await.expect("request");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("www-authenticate").is_some_and(|v| v.to_str().is_ok_and(|s| s.starts_with("Basic"))));
    expect_error(&anon.get("/api/chat/sessions").await, StatusCode::UNAUTHORIZED, "28000");
    expect_error(&Http::basic(&proxy, "alice", "wrong").get("/api/connections").await, StatusCode::UNAUTHORIZED, "28P01");
    expect_error(&Http::basic(&proxy, "bob", "wrong").get("/api/connections").await, StatusCode::UNAUTHORIZED, "28P01");
    expect_error(&Http::basic(&proxy, "nobody", "x").get("/api/connections").await, StatusCode::UNAUTHORIZED, "28P01");
    expect_error(&Http::bearer(&proxy, "carol-token-wrong-000000").get("/api/connections").await, StatusCode::UNAUTHORIZED, "28P01");
    // The health check needs no credentials.
    assert_eq!(anon.get("/api/health").await.0, StatusCode::OK);

    // Each user sees the connections they may use.
    let (s, c) = alice.get("/api/connections").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(c.as_array().expect("list").iter().map(|x| x["name"].clone()).collect::<Vec<_>>(), [json!("a")]);
    let (s, c) = bob.get("/api/connections").await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c.as_array().expect("list").len(), 2);
    let (s, c) = carol.get("/api/connections").await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c.as_array().expect("list").len(), 2);

    // Alice may not name connection b; her default is a only.
    expect_error(&alice.post("/api/multi-query/", json!({"question": "how many rows in t?", "connection_ids": [2]})).await, StatusCode::FORBIDDEN, "42501");
    let mine = alice.ok("/api/multi-query/", json!({"question": "how many rows in t?"})).await;
    assert_eq!(names_of(&mine), ["a"], "{mine}");
    assert_eq!(result_of(&mine, "a")["results"][0].as_object().expect("row").values().next(), Some(&json!(2)));
    let sid = mine["chat_session_id"].as_str().expect("sid").to_string();
    // may_write: alice may not, carol may.
    expect_error(&alice.post("/api/multi-query/", json!({"question": "how many rows in t?", "allow_write": true})).await, StatusCode::FORBIDDEN, "42501");
    let w = carol.ok("/api/multi-query/", json!({"question": "how many rows in t?", "allow_write": true, "connection_ids": ["b"]})).await;
    assert_eq!(names_of(&w), ["b"]);

    // Alice's session is hers: bob gets 403 everywhere.
    let (s, own) = alice.get(&format!("/api/chat/sessions/{sid}")).await;
    assert_eq!(s, StatusCode::OK, "{own}");
    assert_eq!(own["user_id"], "alice");
    expect_error(&bob.get(&format!("/api/chat/sessions/{sid}")).await, StatusCode::FORBIDDEN, "42501");
    expect_error(&bob.get(&format!("/api/chat/sessions/{sid}/messages")).await, StatusCode::FORBIDDEN, "42501");
    expect_error(&bob.patch(&format!("/api/chat/sessions/{sid}"), json!({"name": "mine now"})).await, StatusCode::FORBIDDEN, "42501");
    expect_error(&bob.delete(&format!("/api/chat/sessions/{sid}")).await, StatusCode::FORBIDDEN, "42501");
    expect_error(&bob.post("/api/multi-query/", json!({"question": "how many rows in t?", "chat_session_id": sid})).await, StatusCode::FORBIDDEN, "42501");
    expect_error(&bob.get("/api/chat/sessions?user_id=alice").await, StatusCode::FORBIDDEN, "42501");
    expect_error(&bob.post("/api/chat/sessions", json!({"user_id": "alice"})).await, StatusCode::FORBIDDEN, "42501");
    let (_, bobs) = bob.get("/api/chat/sessions").await;
    assert_eq!(bobs, json!([]), "bob sees only his own sessions");
    let (_, alices) = alice.get("/api/chat/sessions").await;
    assert_eq!(alices.as_array().expect("list").len(), 1);

    // The same session over the wire: bob may not resume it either.
    let wire = proxy.connect_as("bob", "bob-secret").await.expect("bob over the wire");
    let e = simple(&wire, &format!("SET dbguru.session = '{sid}'")).await.expect_err("foreign session");
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
    assert!(r.headers()["content-type"].to_str().expect("ascii").starts_with("text/event-stream"));
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
    let planned: Vec<&str> = events[0].1.as_array().expect("plan").iter().map(|p| p["connection_name"].as_str().expect("name")).collect();
    assert_eq!(planned, ["shop", "warehouse"]);
    let mut finished: Vec<&str> = events[1..3].iter().map(|(_, d)| d["connection_name"].as_str().expect("name")).collect();
    finished.sort();
    assert_eq!(finished, ["shop", "warehouse"]);
    assert!(events[1..3].iter().all(|(_, d)| d["success"] == true && d["row_count"] == 1));
    let (shop, warehouse) = demo_count(&proxy, "SELECT count(*) FROM customers");
    let result = &events[3].1;
    assert_eq!(result_of(result, "shop")["results"][0].as_object().expect("row").values().next(), Some(&json!(shop)));
    assert_eq!(result_of(result, "warehouse")["results"][0].as_object().expect("row").values().next(), Some(&json!(warehouse)));
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
    assert!(text.contains("event: error") && text.contains("42704"), "{text}");
    proxy.shutdown().await;
}
