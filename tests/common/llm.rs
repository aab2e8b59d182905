//! `ScriptedLlm`: a tiny OpenAI-compatible chat-completions server with scripted replies.
//!
//! Hand-written HTTP/1.1 on tokio: one request per connection (`Connection: close`),
//! `Content-Length` or chunked request bodies, `Expect: 100-continue`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// What the scripted server answers to one chat-completions request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// HTTP 200 with a proper chat completion whose assistant content is this text
    /// (as server-sent events when the request asked for `"stream": true`).
    Text(String),
    /// This HTTP status with this body (sent as `application/json` when it parses as JSON).
    Status(u16, String),
    /// Wait, then answer with the inner reply.
    Delay(Duration, Box<Reply>),
    /// Never answer (the connection stays open until the client gives up).
    Hang,
    /// HTTP 200, `Content-Type: application/json`, with a body that is not JSON.
    Garbage,
}

impl Reply {
    /// `Reply::Text` from anything string-like.
    pub fn text(s: impl Into<String>) -> Reply {
        Reply::Text(s.into())
    }

    /// `Reply::Delay(d, Box::new(r))`.
    pub fn delayed(d: Duration, r: Reply) -> Reply {
        Reply::Delay(d, Box::new(r))
    }

    /// An OpenAI-style error: `{"error":{"message":..,"type":..}}` with this status.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::Status(
            status,
            json!({"error": {"message": message, "type": "scripted_error", "code": status}})
                .to_string(),
        )
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// `POST`, `GET`, ...
    pub method: String,
    /// Request target, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON (`Value::String` of the raw text when it was not JSON).
    pub body: Value,
}

impl RecordedRequest {
    /// First header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All message contents of the chat request, joined with blank lines.
    pub fn prompt_text(&self) -> String {
        prompt_text(&self.body)
    }
}

/// All `messages[*].content` of a chat request joined with blank lines (array contents:
/// their `text` parts).
pub fn prompt_text(body: &Value) -> String {
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return String::new();
    };
    messages
        .iter()
        .map(|m| match m.get("content") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

type Responder = Arc<dyn Fn(&Value) -> Reply + Send + Sync>;

struct State {
    requests: Mutex<Vec<RecordedRequest>>,
    queue: Mutex<VecDeque<Reply>>,
    responder: Mutex<Option<Responder>>,
    default: Mutex<Reply>,
    changed: tokio::sync::Notify,
}

/// A scripted OpenAI-compatible server on 127.0.0.1 (random port), alive until dropped.
///
/// Reply order for each chat request: the [`ScriptedLlm::push_reply`] queue first, then the
/// [`ScriptedLlm::set_responder`] closure, then the default ([`ScriptedLlm::set_default`];
/// initially a 500 error saying no reply was scripted).
pub struct ScriptedLlm {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptedLlm {
    fn drop(&mut self) {
        self.task.abort(); // also aborts every connection task (they live in its JoinSet)
    }
}

impl ScriptedLlm {
    /// Starts the server on the current tokio runtime.
    pub async fn start() -> ScriptedLlm {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("ScriptedLlm: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("ScriptedLlm: local_addr");
        let state = Arc::new(State {
            requests: Mutex::new(Vec::new()),
            queue: Mutex::new(VecDeque::new()),
            responder: Mutex::new(None),
            default: Mutex::new(Reply::error(
                500,
                "ScriptedLlm: no reply scripted for this request",
            )),
            changed: tokio::sync::Notify::new(),
        });
        let st = state.clone();
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((sock, _)) => {
                            let st = st.clone();
                            conns.spawn(async move {
                                if let Err(e) = serve(sock, st).await {
                                    eprintln!("[ScriptedLlm] connection error: {e}");
                                }
                            });
                        }
                        Err(e) => {
                            eprintln!("[ScriptedLlm] accept failed: {e}");
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    },
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        ScriptedLlm { addr, state, task }
    }

    /// `http://127.0.0.1:PORT/v1`
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A `[llm]` TOML section pointing the proxy at this server (provider `openai`, model
    /// `scripted`, timeout `timeout`, `retries` retries).
    pub fn llm_toml(&self, timeout: &str, retries: u32) -> String {
        format!(
            "[llm]\nprovider = \"openai\"\nbase_url = \"{}\"\nmodel = \"scripted\"\napi_key = \"sk-scripted-test-key\"\ntimeout = \"{timeout}\"\nretries = {retries}\n",
            self.base_url()
        )
    }

    /// Queues a reply; queued replies are served first, in order.
    pub fn push_reply(&self, reply: Reply) {
        self.state
            .queue
            .lock()
            .expect("ScriptedLlm queue lock")
            .push_back(reply);
    }

    /// Queues `Reply::Text(text)`.
    pub fn push_text(&self, text: impl Into<String>) {
        self.push_reply(Reply::Text(text.into()));
    }

    /// Replies still queued.
    pub fn pending_replies(&self) -> usize {
        self.state
            .queue
            .lock()
            .expect("ScriptedLlm queue lock")
            .len()
    }

    /// The reply used when the queue is empty and no responder is set.
    pub fn set_default(&self, reply: Reply) {
        *self.state.default.lock().expect("ScriptedLlm default lock") = reply;
    }

    /// Answers requests (after the queue is empty) by looking at the request body.
    pub fn set_responder(&self, f: impl Fn(&Value) -> Reply + Send + Sync + 'static) {
        *self
            .state
            .responder
            .lock()
            .expect("ScriptedLlm responder lock") = Some(Arc::new(f));
    }

    /// Every chat-completions request body received so far, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.recorded().into_iter().map(|r| r.body).collect()
    }

    /// Every chat-completions request (method, path, headers, body) received so far.
    pub fn recorded(&self) -> Vec<RecordedRequest> {
        self.state
            .requests
            .lock()
            .expect("ScriptedLlm requests lock")
            .clone()
    }

    /// How many chat-completions requests arrived.
    pub fn request_count(&self) -> usize {
        self.state
            .requests
            .lock()
            .expect("ScriptedLlm requests lock")
            .len()
    }

    /// All message contents of the last request joined (empty when there was none).
    pub fn last_prompt_text(&self) -> String {
        self.state
            .requests
            .lock()
            .expect("ScriptedLlm requests lock")
            .last()
            .map(RecordedRequest::prompt_text)
            .unwrap_or_default()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.state
            .requests
            .lock()
            .expect("ScriptedLlm requests lock")
            .clear();
    }

    /// Waits until at least `n` requests arrived; panics after `timeout`.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.state.changed.notified();
            if self.request_count() >= n {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "ScriptedLlm: expected {n} requests within {timeout:?}, got {}",
                    self.request_count()
                );
            }
        }
    }
}

fn next_reply(state: &State, body: &Value) -> Reply {
    if let Some(r) = state
        .queue
        .lock()
        .expect("ScriptedLlm queue lock")
        .pop_front()
    {
        return r;
    }
    let responder = state
        .responder
        .lock()
        .expect("ScriptedLlm responder lock")
        .clone();
    if let Some(f) = responder {
        return f(body);
    }
    state
        .default
        .lock()
        .expect("ScriptedLlm default lock")
        .clone()
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn read_more(sock: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut chunk = [0u8; 8192];
    let n = sock.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

/// Reads one HTTP/1.1 request; `None` when the client closed before sending one.
async fn read_request(sock: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 1 << 20 {
            return Err(bad("request head too large"));
        }
        if !read_more(sock, &mut buf).await? {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(bad("connection closed mid-head"))
            };
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut rest = buf[head_end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());

    if header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        sock.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    let body = if header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(&rest, b"\r\n") {
                    break i;
                }
                if !read_more(sock, &mut rest).await? {
                    return Err(bad("connection closed mid-chunk"));
                }
            };
            let size_text = String::from_utf8_lossy(&rest[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("bad chunk size"))?;
            rest.drain(..line_end + 2);
            if size == 0 {
                break;
            }
            while rest.len() < size + 2 {
                if !read_more(sock, &mut rest).await? {
                    return Err(bad("connection closed mid-chunk"));
                }
            }
            body.extend_from_slice(&rest[..size]);
            rest.drain(..size + 2);
        }
        body
    } else {
        let len: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while rest.len() < len {
            if !read_more(sock, &mut rest).await? {
                return Err(bad("connection closed mid-body"));
            }
        }
        rest.truncate(len);
        rest
    };
    Ok(Some(Request {
        method,
        path,
        headers,
        body,
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

async fn respond(
    sock: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(body).await?;
    sock.flush().await?;
    let _ = sock.shutdown().await;
    Ok(())
}

/// The chat completion JSON for an assistant text.
pub fn completion_json(content: &str) -> Value {
    json!({
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    })
}

fn sse_body(content: &str) -> String {
    let chunk = |delta: Value, finish: Value| {
        json!({
            "id": "x", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
        })
    };
    format!(
        "data: {}\n\ndata: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": content}), Value::Null),
        chunk(json!({}), json!("stop")),
    )
}

async fn serve(mut sock: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    let Some(req) = read_request(&mut sock).await? else {
        return Ok(());
    };
    let path = req.path.split('?').next().unwrap_or_default().to_string();
    if req.method == "GET" && path.ends_with("/models") {
        let body = json!({"object": "list", "data": [{"id": "scripted", "object": "model", "created": 0, "owned_by": "test"}]});
        return respond(
            &mut sock,
            200,
            "application/json",
            body.to_string().as_bytes(),
        )
        .await;
    }
    if req.method != "POST" || !(path == "/v1/chat/completions" || path == "/chat/completions") {
        let body = json!({"error": {"message": format!("ScriptedLlm: no route {} {}", req.method, req.path)}});
        return respond(
            &mut sock,
            404,
            "application/json",
            body.to_string().as_bytes(),
        )
        .await;
    }
    let body: Value = serde_json::from_slice(&req.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&req.body).into_owned()));
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    state
        .requests
        .lock()
        .expect("ScriptedLlm requests lock")
        .push(RecordedRequest {
            method: req.method,
            path: req.path,
            headers: req.headers,
            body: body.clone(),
        });
    state.changed.notify_waiters();

    let mut reply = next_reply(&state, &body);
    loop {
        match reply {
            Reply::Delay(d, inner) => {
                tokio::time::sleep(d).await;
                reply = *inner;
            }
            Reply::Text(content) => {
                return if stream {
                    respond(
                        &mut sock,
                        200,
                        "text/event-stream",
                        sse_body(&content).as_bytes(),
                    )
                    .await
                } else {
                    respond(
                        &mut sock,
                        200,
                        "application/json",
                        completion_json(&content).to_string().as_bytes(),
                    )
                    .await
                };
            }
            Reply::Status(code, text) => {
                let ct = if serde_json::from_str::<Value>(&text).is_ok() {
                    "application/json"
                } else {
                    "text/plain"
                };
                return respond(&mut sock, code, ct, text.as_bytes()).await;
            }
            Reply::Garbage => {
                return respond(
                    &mut sock,
                    200,
                    "application/json",
                    b"<html>this is {not json\x01 at all",
                )
                .await;
            }
            Reply::Hang => {
                // Keep the socket open until the client closes it (or the server is dropped).
                let mut sink = [0u8; 1024];
                while matches!(sock.read(&mut sink).await, Ok(n) if n > 0) {}
                return Ok(());
            }
        }
    }
}
