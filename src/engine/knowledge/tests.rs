use super::*;

fn term(term: &str, definition: &str, connection: Option<&str>) -> GlossaryEntry {
    GlossaryEntry {
        id: Some(1),
        term: term.into(),
        definition: definition.into(),
        connection: connection.map(Into::into),
        source: "store".into(),
        created_by: None,
        created_at: None,
    }
}

fn example(question: &str, connection: &str, sql: &str) -> ExampleEntry {
    ExampleEntry {
        id: Some(1),
        question: question.into(),
        connection: connection.into(),
        sql: sql.into(),
        source: "store".into(),
        created_by: None,
        created_at: None,
    }
}

fn set() -> KnowledgeSet {
    KnowledgeSet {
        glossary: vec![
            term(
                "churn",
                "customers whose subscription_events show a cancellation",
                Some("crm"),
            ),
            term(
                "active customer",
                "a customer with an order in the last 90 days",
                None,
            ),
            term(
                "ARR",
                "annual recurring revenue: sum of plans.price * 12",
                Some("billing"),
            ),
        ],
        examples: vec![
            example("revenue per month in 2024", "shop", "SELECT 1"),
            example("top 5 customers by revenue", "shop", "SELECT 2"),
            example("open tickets per agent", "crm", "SELECT 3"),
        ],
    }
}

fn scope(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn terms_of_the_question_and_close_examples_are_chosen() {
    let r = relevant(
        &set(),
        "what was the churn among active customers?",
        &[],
        &scope(&["crm", "shop"]),
        1000,
    );
    let terms: Vec<&str> = r.glossary.iter().map(|g| g.term.as_str()).collect();
    assert_eq!(terms, ["churn", "active customer"]);
    assert!(r.examples.is_empty(), "{:?}", r.examples);
    let text = r.prompt_text();
    assert!(text.contains("- churn (crm): customers whose"), "{text}");
    assert!(text.contains("- active customer: a customer"), "{text}");
    // Their definitions count in table retrieval.
    assert!(r.retrieval_text().contains("subscription_events"));

    let r = relevant(
        &set(),
        "Revenue per month in 2024?",
        &[],
        &scope(&["shop"]),
        1000,
    );
    assert_eq!(r.examples.len(), 1);
    assert_eq!(r.examples[0].sql, "SELECT 1");
    assert!(r
        .prompt_text()
        .contains("Question: revenue per month in 2024\nDATABASE: shop\nSELECT 1;"));
}

#[test]
fn entries_of_connections_out_of_scope_are_left_out() {
    let r = relevant(&set(), "ARR and churn", &[], &scope(&["shop"]), 1000);
    assert!(r.is_empty(), "{r:?}");
    let r = relevant(
        &set(),
        "open tickets per agent",
        &[],
        &scope(&["shop"]),
        1000,
    );
    assert!(r.examples.is_empty());
}

#[test]
fn a_follow_up_keeps_the_last_questions_terms() {
    let r = relevant(
        &set(),
        "and per country?",
        &["what is the churn".to_string()],
        &scope(&["crm"]),
        1000,
    );
    assert_eq!(r.glossary.len(), 1);
    assert_eq!(r.glossary[0].term, "churn");
}

#[test]
fn the_budget_is_never_exceeded() {
    let r = relevant(
        &set(),
        "churn of active customers",
        &[],
        &scope(&["crm"]),
        40,
    );
    assert!(tokens(&r.prompt_text()) <= 40, "{}", r.prompt_text());
    assert_eq!(r.glossary.len(), 1);
    let r = relevant(&set(), "churn", &[], &scope(&["crm"]), 10);
    assert!(r.is_empty());
}

#[test]
fn questions_compare_without_case_spaces_or_end_punctuation() {
    assert_eq!(
        normalize_question("  Top 5   customers by Revenue?! "),
        "top 5 customers by revenue"
    );
}
