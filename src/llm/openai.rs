//! OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, llama.cpp server, LM Studio).

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{Llm, LlmError, LlmRequest};
use crate::config::{LlmConfig, Secret};

/// The longest reason from an endpoint's error body that reaches the client.
const MAX_REASON_CHARS: usize = 200;

/// A client for `POST {base_url}/chat/completions`.
pub struct OpenAiClient {
    http: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<Secret>,
    /// The base URL as configured (it may carry credentials): scrubbed from reasons.
    base_url: Secret,
    timeout: Duration,
    retries: u32,
    temperature: f32,
}

impl std::fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("OpenAiClient")
            .field("url", &redact_url_credentials(&self.url))
            .field("model", &self.model)
            .finish()
    }
}

impl OpenAiClient {
    /// Builds the client from `[llm]`; `base_url` is required (checked by config validation).
    pub fn new(cfg: &LlmConfig) -> Result<Self, LlmError> {
        let base = cfg
            .base_url
            .as_deref()
            .ok_or_else(|| LlmError::Unreachable("llm.base_url is not set".into()))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| LlmError::Unreachable(e.without_url().to_string()))?;
        Ok(OpenAiClient {
            http,
            url: format!("{}/chat/completions", base.trim_end_matches('/')),
            model: cfg.model.clone(),
            base_url: Secret::new(base),
            api_key: cfg.api_key.clone().filter(|k| !k.is_empty()),
            timeout: cfg.timeout,
            retries: cfg.retries,
            temperature: cfg.temperature,
        })
    }

    async fn once(&self, body: &Value) -> Result<String, (LlmError, bool)> {
        let mut rb = self.http.post(&self.url).json(body).timeout(self.timeout);
        if let Some(k) = &self.api_key {
            rb = rb.bearer_auth(k.expose());
        }
        let resp = rb.send().await.map_err(|e| {
            if e.is_timeout() {
                (LlmError::Timeout(self.timeout), false)
            } else {
                (LlmError::Unreachable(e.without_url().to_string()), true)
            }
        })?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| {
            if e.is_timeout() {
                (LlmError::Timeout(self.timeout), false)
            } else {
                (LlmError::Unreachable(e.without_url().to_string()), true)
            }
        })?;
        if !status.is_success() {
            let retry = status.as_u16() == 429 || status.is_server_error();
            // Only a short, scrubbed reason leaves the proxy: the endpoint's body may echo
            // the request, the key or an internal URL.
            let reason = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| {
                    v.pointer("/error/message")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or(text);
            let message = self.scrub(&reason);
            return Err((
                LlmError::Http {
                    status: status.as_u16(),
                    message,
                },
                retry,
            ));
        }
        let v: Value = serde_json::from_str(&text).map_err(|_| {
            (
                LlmError::Malformed(format!(
                    "not JSON: {:?}",
                    self.scrub(&text.chars().take(80).collect::<String>())
                )),
                false,
            )
        })?;
        v.pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                (
                    LlmError::Malformed("no choices[0].message.content in the reply".into()),
                    false,
                )
            })
    }
}

impl OpenAiClient {
    /// `text` as a short reason: the API key and the configured URL replaced by `***`,
    /// credentials in any URL and bearer tokens removed, control characters turned into
    /// spaces, at most [`MAX_REASON_CHARS`] characters.
    fn scrub(&self, text: &str) -> String {
        let mut secrets: Vec<&str> = vec![self.base_url.expose(), self.url.as_str()];
        if let Some(k) = &self.api_key {
            secrets.push(k.expose());
        }
        scrub_reason(text, &secrets)
    }
}

/// See [`OpenAiClient::scrub`].
fn scrub_reason(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s, "***");
    }
    let out = redact_url_credentials(&out);
    // Key-like words (`sk-…`, `Bearer …`) are dropped whatever key they are.
    let mut words: Vec<String> = Vec::new();
    let mut bearer = false;
    for w in out.split_whitespace() {
        let bare = w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_');
        let keyish = (bare.starts_with("sk-") && bare.len() > 8)
            || (bare.len() >= 32
                && bare
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        if bearer || keyish {
            words.push("***".into());
        } else {
            words.push(
                w.chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect(),
            );
        }
        bearer = bare.eq_ignore_ascii_case("bearer");
    }
    let joined = words.join(" ");
    if joined.chars().count() <= MAX_REASON_CHARS {
        return joined;
    }
    let mut cut: String = joined.chars().take(MAX_REASON_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// `scheme://user:password@host…` → `scheme://***@host…`, for every URL in `text`.
fn redact_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '?' | '#' | '"' | '\''))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[async_trait]
impl Llm for OpenAiClient {
    async fn complete(&self, req: &LlmRequest) -> Result<String, LlmError> {
        let body = json!({
            "model": self.model,
            "temperature": self.temperature,
            "messages": req.messages.iter().map(|m| json!({"role": m.role.as_str(), "content": m.content})).collect::<Vec<_>>(),
        });
        let mut attempt = 0;
        loop {
            match self.once(&body).await {
                Ok(s) => return Ok(s),
                Err((e, retry)) if retry && attempt < self.retries => {
                    let wait = Duration::from_millis(200u64 << attempt.min(6));
                    tracing::warn!(error = %e, attempt, wait_ms = wait.as_millis() as u64, "LLM request failed; retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    fn name(&self) -> String {
        format!("openai:{}", self.model)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_scrubbed_and_short() {
        let body = format!(
            "Incorrect API key provided: sk-live-abcdef123456. Call https://u:p4ss@llm.internal/v1 \
             with Authorization: Bearer topsecret\n\u{7} {}",
            "word ".repeat(100)
        );
        let r = scrub_reason(
            &body,
            &["https://u:p4ss@llm.internal/v1", "sk-live-abcdef123456"],
        );
        assert!(r.chars().count() <= MAX_REASON_CHARS, "{r}");
        for secret in ["sk-live-abcdef123456", "p4ss", "topsecret", "\u{7}"] {
            assert!(!r.contains(secret), "{r}");
        }
        assert!(r.starts_with("Incorrect API key provided: ***"), "{r}");
        assert_eq!(
            redact_url_credentials("see http://a:b@h:1/x and https://h/y"),
            "see http://***@h:1/x and https://h/y"
        );
        let unknown = scrub_reason("key sk-0123456789abcdef leaked", &[]);
        assert_eq!(unknown, "key *** leaked");
    }
}
