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
    max_reply_bytes: usize,
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
            max_reply_bytes: cfg.max_reply_bytes,
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
        let (body, complete) = read_capped(resp, self.max_reply_bytes).await.map_err(|e| {
            if e.is_timeout() {
                (LlmError::Timeout(self.timeout), false)
            } else {
                (LlmError::Unreachable(e.without_url().to_string()), true)
            }
        })?;
        if status.is_success() && !complete {
            return Err((
                LlmError::Malformed(format!(
                    "the reply is larger than [llm] max_reply_bytes ({} bytes); it was not read",
                    self.max_reply_bytes
                )),
                false,
            ));
        }
        let text = String::from_utf8_lossy(&body);
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
                .unwrap_or_else(|| text.to_string());
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

/// Reads a reply body chunk by chunk, keeping at most `cap` bytes: `(body, true)` when it
/// fit, `(first bytes, false)` when it is longer (the rest is never read; nothing is read
/// when `Content-Length` already says it is longer).
async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let declared = resp.content_length().unwrap_or(0);
    if declared > cap as u64 {
        return Ok((Vec::new(), false));
    }
    let mut body = Vec::with_capacity(usize::try_from(declared).unwrap_or(cap));
    while let Some(chunk) = resp.chunk().await? {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, false));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, true))
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
mod reply_cap_tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An endpoint that answers every request with `body_len` bytes of a chat completion
    /// sent chunked (no `Content-Length`); returns its base URL.
    async fn chunked_endpoint(body_len: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    let _ = sock.read(&mut buf).await; // the request (small; one read)
                    let json = serde_json::json!({
                        "choices": [{"message": {"role": "assistant",
                            "content": "x".repeat(body_len.saturating_sub(60))}}]
                    })
                    .to_string();
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
                    if sock.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    for part in json.as_bytes().chunks(16 * 1024) {
                        let chunk =
                            [format!("{:x}\r\n", part.len()).as_bytes(), part, b"\r\n"].concat();
                        if sock.write_all(&chunk).await.is_err() {
                            return; // the client stopped reading
                        }
                    }
                    let _ = sock.write_all(b"0\r\n\r\n").await;
                });
            }
        });
        format!("http://{addr}/v1")
    }

    fn client(base: String, cap: usize) -> OpenAiClient {
        let cfg = LlmConfig {
            provider: crate::config::LlmProvider::Openai,
            base_url: Some(base.into()),
            max_reply_bytes: cap,
            retries: 0,
            ..LlmConfig::default()
        };
        OpenAiClient::new(&cfg).expect("client")
    }

    fn request() -> LlmRequest {
        LlmRequest {
            messages: vec![],
            databases: vec![],
            question: "q".into(),
            previous_questions: vec![],
            examples: vec![],
        }
    }

    #[tokio::test]
    async fn a_chunked_reply_past_the_cap_is_refused() {
        let base = chunked_endpoint(2 << 20).await;
        let err = client(base, 1 << 20)
            .complete(&request())
            .await
            .expect_err("2 MiB reply over a 1 MiB cap");
        assert!(matches!(err, LlmError::Malformed(_)), "{err:?}");
        assert!(err.to_string().contains("max_reply_bytes"), "{err}");
    }

    #[tokio::test]
    async fn a_chunked_reply_under_the_cap_is_read() {
        let base = chunked_endpoint(100 << 10).await;
        let reply = client(base, 1 << 20)
            .complete(&request())
            .await
            .expect("100 KiB reply under a 1 MiB cap");
        assert!(reply.len() > 90 << 10);
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
