//! Business knowledge (issue 13, item 4): glossary terms and examples that admins add
//! over the wire or in `[knowledge] files` reach the prompt when they match the question
//! (the scripted LLM records it), a glossary term's definition brings its table into a
//! prompt cut to the budget, the builtin planner answers an example's question with its
//! SQL, and a user without `admin` cannot change any of it.

use crate::common;

use common::*;

/// A shop with 40 tables (far past a 300-token budget): `orders` and `customers`,
/// `subscription_events` (what "churn" means), and 37 unrelated tables.
fn shop(dir: &std::path::Path) -> std::path::PathBuf {
    let mut sql = String::from(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, country TEXT);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL, placed_on TEXT);
         CREATE TABLE subscription_events (id INTEGER PRIMARY KEY, customer_id INTEGER, kind TEXT, happened_on TEXT);
         INSERT INTO customers VALUES (1, 'Ada', 'DE'), (2, 'Bob', 'FR'), (3, 'Cy', 'DE');
         INSERT INTO orders VALUES (1, 1, 10.0, '2024-01-02'), (2, 1, 5.5, '2024-02-01'), (3, 2, 7.0, '2024-02-03');",
    );
    for i in 0..37 {
        sql.push_str(&format!(
            "CREATE TABLE warehouse_bin_{i} (id INTEGER PRIMARY KEY, shelf TEXT, aisle TEXT, capacity INTEGER, zone TEXT);"
        ));
    }
    sqlite_file(dir, "shop.sqlite", &sql)
}

const KNOWLEDGE_FILE: &str = r#"
[[glossary]]
term = "big spender"
definition = "a customer whose orders total more than 10"
connection = "shop"

[[examples]]
question = "orders per country"
connection = "shop"
sql = "SELECT c.country, count(*) AS orders FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.country ORDER BY c.country"
"#;

async fn proxy(dir: &std::path::Path, llm: &str) -> Proxy {
    let path = shop(dir);
    std::fs::write(dir.join("business.toml"), KNOWLEDGE_FILE).expect("knowledge file");
    start_proxy_in(
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\n\
             [[users]]\nname = \"guru\"\nauth = \"trust\"\nadmin = true\n\n\
             [[users]]\nname = \"ann\"\nauth = \"trust\"\n\n\
             {llm}\nschema_budget = 300\n\n\
             [knowledge]\nfiles = [\"business.toml\"]\n\n{}",
            file_connection_toml("shop", "sqlite", &path)
        ),
        dir,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_write_the_knowledge_and_it_reaches_the_prompt() {
    let dir = temp_dir();
    let llm = ScriptedLlm::start().await;
    let p = proxy(dir.path(), &llm.llm_toml("5s", 0)).await;
    let admin = p.connect().await;
    let ann = p.connect_as("ann", "").await.expect("ann connects");

    // The file's entries are there, with negative ids and their source.
    let r = simple(&admin, "SELECT id, term, source FROM dbguru.glossary")
        .await
        .expect("glossary");
    assert_eq!(r.get(0, "term").as_deref(), Some("big spender"));
    assert_eq!(r.get(0, "id").as_deref(), Some("-1"));
    assert_eq!(r.get(0, "source").as_deref(), Some("file:business.toml"));

    // Only an admin writes; the others read.
    let err = simple(
        &ann,
        "INSERT INTO dbguru.glossary (term, definition) VALUES ('churn', 'x')",
    )
    .await
    .expect_err("not an admin");
    assert_eq!(
        sqlstate(&err).as_deref(),
        Some("42501"),
        "{}",
        error_message(&err)
    );
    let err = simple(&ann, "DELETE FROM dbguru.glossary")
        .await
        .expect_err("not an admin");
    assert_eq!(sqlstate(&err).as_deref(), Some("42501"));
    simple(&ann, "SELECT count(*) FROM dbguru.examples")
        .await
        .expect("everyone reads");

    let r = simple(
        &admin,
        "INSERT INTO dbguru.glossary (term, definition, connection) VALUES \
         ('churn', 'a customer with a cancel row in subscription_events', 'shop')",
    )
    .await
    .expect("insert");
    assert_eq!(r.counts, [1], "INSERT 0 1");
    // The same term again: a unique violation, as PostgreSQL reports one.
    let err = simple(
        &admin,
        "INSERT INTO dbguru.glossary VALUES ('Churn', 'again', 'shop')",
    )
    .await
    .expect_err("duplicate");
    assert_eq!(sqlstate(&err).as_deref(), Some("23505"));
    for (sql, code) in [
        ("INSERT INTO dbguru.glossary (term) VALUES ('x')", "23502"),
        (
            "INSERT INTO dbguru.glossary VALUES ('x', 'y', 'nowhere')",
            "42704",
        ),
        (
            "INSERT INTO dbguru.glossary (id, term, definition) VALUES (5, 'x', 'y')",
            "428C9",
        ),
        ("UPDATE dbguru.glossary SET definition = 'z'", "0A000"),
        (
            "INSERT INTO dbguru.examples VALUES ('drop it', 'shop', 'DELETE FROM orders')",
            "42501",
        ),
        (
            "DELETE FROM dbguru.glossary WHERE term = 'big spender'",
            "0A000",
        ),
    ] {
        let err = simple(&admin, sql).await.expect_err(sql);
        assert_eq!(
            sqlstate(&err).as_deref(),
            Some(code),
            "{sql}: {}",
            error_message(&err)
        );
    }
    // Never inside a transaction block: the store write cannot be rolled back.
    simple(&admin, "BEGIN").await.expect("begin");
    let err = simple(
        &admin,
        "INSERT INTO dbguru.glossary VALUES ('a', 'b', NULL)",
    )
    .await
    .expect_err("in block");
    assert_eq!(sqlstate(&err).as_deref(), Some("25001"));
    simple(&admin, "ROLLBACK").await.expect("rollback");

    // A question using the term: the definition is in the prompt, and the table it names
    // made the cut although the question never names it.
    llm.push_text("DATABASE: shop\nSELECT count(*) AS n FROM subscription_events;");
    simple(&admin, "ASK 'how big is our churn?'")
        .await
        .expect("ask");
    let prompt = llm.last_prompt_text();
    assert!(
        prompt.contains("- churn (shop): a customer with a cancel row in subscription_events"),
        "{prompt}"
    );
    assert!(
        prompt.contains("Table: shop.subscription_events"),
        "{prompt}"
    );
    assert!(
        !prompt.contains("warehouse_bin_30"),
        "the schema was cut: {prompt}"
    );

    // Keep a good answer: INSERT … SELECT from the query history.
    llm.push_text("DATABASE: shop\nSELECT sum(total) AS revenue FROM orders;");
    simple(&admin, "ASK 'total revenue of all orders'")
        .await
        .expect("ask");
    let r = simple(
        &admin,
        "INSERT INTO dbguru.examples (question, connection, sql) \
         SELECT question, 'shop', sql FROM dbguru.queries WHERE question LIKE 'total revenue%'",
    )
    .await
    .expect("keep the answer");
    assert_eq!(r.counts, [1], "INSERT 0 1");
    let r = simple(
        &ann,
        "SELECT question, sql, created_by FROM dbguru.examples ORDER BY id",
    )
    .await
    .expect("examples");
    assert_eq!(r.rows.len(), 2, "{:?}", r.rows);
    assert_eq!(r.get(1, "created_by").as_deref(), Some("guru"));
    assert!(r.get(1, "sql").unwrap_or_default().contains("sum(total)"));

    // A close question gets the example in its prompt.
    llm.push_text("DATABASE: shop\nSELECT sum(total) AS revenue FROM orders;");
    simple(&admin, "ASK 'total revenue of orders in 2024'")
        .await
        .expect("ask");
    let prompt = llm.last_prompt_text();
    assert!(
        prompt.contains("Question: total revenue of all orders\nDATABASE: shop\nSELECT sum(total) AS revenue FROM orders"),
        "{prompt}"
    );

    // DELETE removes it, and it no longer reaches the prompt.
    let r = simple(&admin, "DELETE FROM dbguru.examples WHERE id > 0")
        .await
        .expect("delete");
    assert_eq!(r.counts, [1], "DELETE 1");
    llm.push_text("DATABASE: shop\nSELECT 1 AS one;");
    simple(&admin, "ASK 'total revenue of orders in 2024'")
        .await
        .expect("ask");
    assert!(!llm.last_prompt_text().contains("Question: total revenue"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builtin_planner_answers_an_examples_question_with_its_sql() {
    let dir = temp_dir();
    let p = proxy(dir.path(), "[llm]\nprovider = \"builtin\"").await;
    let (c, notices) = p.connect_with_notices().await;
    let r = simple(&c, "ASK 'Orders per country?'").await.expect("ask");
    assert_eq!(
        r.column("country"),
        [Some("DE".to_string()), Some("FR".to_string())]
    );
    assert_eq!(
        r.column("orders"),
        [Some("2".to_string()), Some("1".to_string())]
    );
    assert!(
        notices
            .messages()
            .iter()
            .any(|m| m.contains("answered by the example \"orders per country\"")),
        "{:?}",
        notices.messages()
    );
}
