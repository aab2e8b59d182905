//! OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, llama.cpp server, LM Studio).

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{Llm, LlmError, LlmRequest};
use crate::config::LlmConfig;

/// A client for `POST {base_url}/chat/completions`.
pub struct OpenAiClient {
    http: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<String>,
    timeout: Duration,
    retries: u32,
    temperature: f32,
}

impl std::fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("OpenAiClient")
            .field("url", &self.url)
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
            api_key: cfg.api_key.clone().filter(|k| !k.is_empty()),
            timeout: cfg.timeout,
            retries: cfg.retries,
            temperature: cfg.temperature,
        })
    }

    async fn once(&self, body: &Value) -> Result<String, (LlmError, bool)> {
        let mut rb = self.http.post(&self.url).json(body).timeout(self.timeout);
        if let Some(k) = &self.api_key {
            rb = rb.bearer_auth(k);
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
            let message: String = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| {
                    v.pointer("/error/message")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_else(|| text.chars().take(200).collect());
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
                    text.chars().take(80).collect::<String>()
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
