//! Bounded memory (issue 10, item 6) through the proxy: LLM replies are capped and a long
//! chat keeps only `[llm] history_turns` turns (prompts unchanged).

use crate::common;

use common::*;

const DB: &str = "CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2);";

#[tokio::test]
async fn an_llm_reply_over_max_reply_bytes_is_refused_with_58000() {
    let dir = temp_dir();
    let lite = sqlite_file(dir.path(), "b.sqlite", DB);
    let llm = ScriptedLlm::start().await;
    let proxy = start_proxy(&base_config(&format!(
        "{}{}",
        llm.llm_toml("10s", 0),
        file_connection_toml("lite", "sqlite", &lite)
    )))
    .await;
    let c = proxy.connect().await;
    // 2 MiB: a valid block followed by a 2 MiB SQL comment.
    llm.push_text(format!(
        "DATABASE: lite\nSELECT v FROM t -- {}\n",
        "x".repeat(2 << 20)
    ));
    let err = simple(&c, "ASK 'how many?'")
        .await
        .expect_err("a 2 MiB reply is refused");
    assert_eq!(sqlstate(&err).as_deref(), Some("58000"), "{err:?}");
    assert!(
        error_message(&err).contains("max_reply_bytes"),
        "{}",
        error_message(&err)
    );
    // The session and the proxy go on.
    llm.push_text("DATABASE: lite\nSELECT v FROM t;\n");
    let r = simple(&c, "ASK 'and now?'").await.expect("a normal reply");
    assert_eq!(r.rows.len(), 2);
}

#[tokio::test]
async fn a_small_max_reply_bytes_is_honoured() {
    let dir = temp_dir();
    let lite = sqlite_file(dir.path(), "b.sqlite", DB);
    let llm = ScriptedLlm::start().await;
    let proxy = start_proxy(&base_config(&format!(
        "{}max_reply_bytes = \"4kB\"\n\n{}",
        llm.llm_toml("10s", 0),
        file_connection_toml("lite", "sqlite", &lite)
    )))
    .await;
    let c = proxy.connect().await;
    llm.push_text(format!(
        "DATABASE: lite\nSELECT v FROM t -- {}\n",
        "x".repeat(5000)
    ));
    let err = simple(&c, "ASK 'q1'").await.expect_err("5 kB > 4 kB");
    assert_eq!(sqlstate(&err).as_deref(), Some("58000"), "{err:?}");
    llm.push_text(format!(
        "DATABASE: lite\nSELECT v FROM t -- {}\n",
        "x".repeat(3000)
    ));
    simple(&c, "ASK 'q2'").await.expect("3 kB < 4 kB");
}

#[tokio::test]
async fn a_session_with_100_asks_prompts_with_the_last_history_turns() {
    let dir = temp_dir();
    let lite = sqlite_file(dir.path(), "b.sqlite", DB);
    let llm = ScriptedLlm::start().await;
    llm.set_default(Reply::text("DATABASE: lite\nSELECT v FROM t;\n"));
    let proxy = start_proxy(&base_config(&format!(
        "{}history_turns = 3\n\n{}",
        llm.llm_toml("10s", 0),
        file_connection_toml("lite", "sqlite", &lite)
    )))
    .await;
    let c = proxy.connect().await;
    for i in 0..100 {
        simple(&c, &format!("ASK 'question number {i:03}'"))
            .await
            .expect("ask");
    }
    let prompt = llm.last_prompt_text();
    for i in 96..100 {
        assert!(prompt.contains(&format!("question number {i:03}")), "{i}");
    }
    assert!(!prompt.contains("question number 095"), "{prompt}");
    // The store keeps every turn.
    let r = simple(&c, "SELECT count(*) FROM dbguru.queries")
        .await
        .expect("queries");
    assert_eq!(r.scalar().as_deref(), Some("100"));
}
