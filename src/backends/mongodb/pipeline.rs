//! The JSON pipeline form of a MongoDB statement and its guard.
//!
//! `{"collection": "events", "pipeline": [{"$match": {...}}, ...]}` runs as an
//! `aggregate` on `events`. Values are MongoDB Extended JSON, so `{"$date": "..."}` and
//! `{"$oid": "..."}` work. Stages and operators that write, or run server-side code, are
//! refused wherever they appear (nested in `$lookup`, `$facet`, `$unionWith`...):
//! see [`FORBIDDEN_OPERATORS`].

use mongodb::bson::{Bson, Document};
use serde_json::Value as Json;

/// Operators refused anywhere in a pipeline: `$out` and `$merge` write collections;
/// `$function`, `$accumulator` and `$where` run JavaScript on the server.
pub const FORBIDDEN_OPERATORS: &[&str] = &["$out", "$merge", "$function", "$accumulator", "$where"];

/// Why a pipeline statement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    /// The text is not JSON, or not of the form `{"collection": ..., "pipeline": [...]}`.
    #[error("invalid MongoDB pipeline: {0} (expected {{\"collection\": \"name\", \"pipeline\": [{{\"$match\": ...}}, ...]}})")]
    Invalid(String),
    /// A forbidden operator appears in the pipeline.
    #[error(
        "pipeline operator {0} is not allowed (it writes data or runs server-side JavaScript)"
    )]
    Forbidden(String),
}

/// A parsed and checked pipeline statement.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineQuery {
    /// The collection the pipeline runs on.
    pub collection: String,
    /// The stages.
    pub pipeline: Vec<Document>,
}

/// Whether `text` is meant as a JSON pipeline (it starts with `{`) rather than SQL.
pub fn is_pipeline(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// Finds the first forbidden operator in a JSON value (any key at any depth).
pub fn forbidden_in_json(value: &Json) -> Option<String> {
    match value {
        Json::Object(map) => map.iter().find_map(|(k, v)| {
            if is_forbidden(k) {
                Some(k.clone())
            } else {
                forbidden_in_json(v)
            }
        }),
        Json::Array(items) => items.iter().find_map(forbidden_in_json),
        _ => None,
    }
}

/// Finds the first forbidden operator in BSON (any key at any depth).
pub fn forbidden_in_bson(value: &Bson) -> Option<String> {
    match value {
        Bson::Document(d) => forbidden_in_document(d),
        Bson::Array(items) => items.iter().find_map(forbidden_in_bson),
        _ => None,
    }
}

/// Finds the first forbidden operator in a document (any key at any depth).
pub fn forbidden_in_document(doc: &Document) -> Option<String> {
    doc.iter().find_map(|(k, v)| {
        if is_forbidden(k) {
            Some(k.clone())
        } else {
            forbidden_in_bson(v)
        }
    })
}

fn is_forbidden(key: &str) -> bool {
    FORBIDDEN_OPERATORS
        .iter()
        .any(|f| key.eq_ignore_ascii_case(f))
}

/// Checks the text of a pipeline statement without converting it: valid JSON of the
/// expected shape and no forbidden operator. Used by the engine's guard.
pub fn check_text(text: &str) -> Result<(), PipelineError> {
    parse(text).map(|_| ())
}

/// Parses and checks a pipeline statement (a trailing `;` is ignored).
pub fn parse(text: &str) -> Result<PipelineQuery, PipelineError> {
    let text = text.trim().trim_end_matches(';').trim();
    let json: Json = serde_json::from_str(text)
        .map_err(|e| PipelineError::Invalid(format!("not valid JSON: {e}")))?;
    // Refuse forbidden operators before anything else, whatever the shape.
    if let Some(op) = forbidden_in_json(&json) {
        return Err(PipelineError::Forbidden(op));
    }
    let Json::Object(mut map) = json else {
        return Err(PipelineError::Invalid(
            "the statement is not a JSON object".into(),
        ));
    };
    let collection = match map.remove("collection") {
        Some(Json::String(s)) if !s.trim().is_empty() => s,
        Some(_) => {
            return Err(PipelineError::Invalid(
                "\"collection\" must be a non-empty string".into(),
            ))
        }
        None => return Err(PipelineError::Invalid("\"collection\" is missing".into())),
    };
    let stages = match map.remove("pipeline") {
        Some(Json::Array(stages)) => stages,
        Some(_) => {
            return Err(PipelineError::Invalid(
                "\"pipeline\" must be an array of stages".into(),
            ))
        }
        None => return Err(PipelineError::Invalid("\"pipeline\" is missing".into())),
    };
    if let Some(extra) = map.keys().next() {
        return Err(PipelineError::Invalid(format!(
            "unexpected key \"{extra}\""
        )));
    }
    let mut pipeline = Vec::with_capacity(stages.len());
    for (i, stage) in stages.into_iter().enumerate() {
        let bson =
            Bson::try_from(stage).map_err(|e| PipelineError::Invalid(format!("stage {i}: {e}")))?;
        match bson {
            Bson::Document(d) if d.len() == 1 && d.keys().all(|k| k.starts_with('$')) => pipeline.push(d),
            _ => {
                return Err(PipelineError::Invalid(format!(
                    "stage {i} must be an object with exactly one $-operator key, e.g. {{\"$match\": {{...}}}}"
                )))
            }
        }
    }
    // The Extended JSON conversion cannot introduce keys, but check what runs, too.
    if let Some(op) = pipeline.iter().find_map(forbidden_in_document) {
        return Err(PipelineError::Forbidden(op));
    }
    Ok(PipelineQuery {
        collection,
        pipeline,
    })
}

/// Whether the output of this pipeline is meant to carry `_id`: some stage names `_id`
/// (a `$group` key, a `$project` of `_id`...). Otherwise an `_id` that only holds the
/// documents' ObjectIds is left out of the result.
pub fn mentions_id(pipeline: &[Document]) -> bool {
    fn in_bson(b: &Bson) -> bool {
        match b {
            Bson::Document(d) => in_doc(d),
            Bson::Array(items) => items.iter().any(in_bson),
            Bson::String(s) => s == "$_id" || s.starts_with("$_id."),
            _ => false,
        }
    }
    fn in_doc(d: &Document) -> bool {
        d.iter().any(|(k, v)| k == "_id" || in_bson(v))
    }
    pipeline.iter().any(in_doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_extended_json() {
        let q = parse(
            r#"{"collection": "events", "pipeline": [{"$match": {"ts": {"$gte": {"$date": "2024-01-01T00:00:00Z"}}}}, {"$count": "n"}]};"#,
        )
        .expect("valid");
        assert_eq!(q.collection, "events");
        assert_eq!(q.pipeline.len(), 2);
        let ts = q.pipeline[0]
            .get_document("$match")
            .and_then(|m| m.get_document("ts"))
            .map(|t| t.get("$gte").cloned());
        assert!(matches!(ts, Ok(Some(Bson::DateTime(_)))), "{ts:?}");
    }

    #[test]
    fn forbidden_anywhere() {
        for text in [
            r#"{"collection": "e", "pipeline": [{"$out": "x"}]}"#,
            r#"{"collection": "e", "pipeline": [{"$match": {}}, {"$merge": {"into": "x"}}]}"#,
            r#"{"collection": "e", "pipeline": [{"$lookup": {"from": "f", "pipeline": [{"$out": "x"}], "as": "y"}}]}"#,
            r#"{"collection": "e", "pipeline": [{"$facet": {"a": [{"$merge": "x"}]}}]}"#,
            r#"{"collection": "e", "pipeline": [{"$match": {"$where": "sleep(1000)"}}]}"#,
            r#"{"collection": "e", "pipeline": [{"$addFields": {"x": {"$function": {"body": "f", "args": [], "lang": "js"}}}}]}"#,
            r#"{"collection": "e", "pipeline": [{"$group": {"_id": null, "x": {"$accumulator": {}}}}]}"#,
            r#"{"collection": "e", "pipeline": [{"$OUT": "x"}]}"#,
            r#"[{"$out": "x"}]"#,
        ] {
            assert!(
                matches!(parse(text), Err(PipelineError::Forbidden(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_shapes_are_invalid() {
        for text in [
            "{not json",
            r#"{"pipeline": []}"#,
            r#"{"collection": "e"}"#,
            r#"{"collection": "e", "pipeline": {}}"#,
            r#"{"collection": "e", "pipeline": [{"$match": {}, "$limit": 1}]}"#,
            r#"{"collection": "e", "pipeline": [], "extra": 1}"#,
        ] {
            assert!(
                matches!(parse(text), Err(PipelineError::Invalid(_))),
                "{text}"
            );
        }
        assert!(is_pipeline("  {\"collection\": 1}"));
        assert!(!is_pipeline("SELECT 1"));
    }

    #[test]
    fn id_mentions() {
        let q = parse(
            r#"{"collection": "e", "pipeline": [{"$group": {"_id": "$kind", "n": {"$sum": 1}}}]}"#,
        )
        .expect("ok");
        assert!(mentions_id(&q.pipeline));
        let q =
            parse(r#"{"collection": "e", "pipeline": [{"$match": {"kind": "x"}}]}"#).expect("ok");
        assert!(!mentions_id(&q.pipeline));
    }
}
