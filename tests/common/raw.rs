//! A raw PostgreSQL frontend for protocol-level tests: the messages a driver would send,
//! written by hand, and every backend message read back (tag, status byte, fields).
//! Works against the proxy (trust auth) and against the throwaway PostgreSQL.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One backend message.
#[derive(Debug, Clone)]
pub struct RawMsg {
    /// Message type byte (`T`, `D`, `C`, `E`, `Z`, ...).
    pub kind: u8,
    /// Body without the length.
    pub body: Vec<u8>,
}

impl RawMsg {
    /// CommandComplete's tag.
    pub fn tag(&self) -> Option<String> {
        (self.kind == b'C').then(|| cstr(&self.body))
    }

    /// An ErrorResponse/NoticeResponse field (`C` = SQLSTATE, `M` = message, ...).
    pub fn field(&self, code: u8) -> Option<String> {
        if self.kind != b'E' && self.kind != b'N' {
            return None;
        }
        let mut i = 0;
        while i < self.body.len() && self.body[i] != 0 {
            let c = self.body[i];
            let v = cstr(&self.body[i + 1..]);
            i += 2 + v.len();
            if c == code {
                return Some(v);
            }
        }
        None
    }

    /// DataRow values as text (`None` for NULL).
    pub fn values(&self) -> Vec<Option<String>> {
        if self.kind != b'D' {
            return vec![];
        }
        let n = u16::from_be_bytes([self.body[0], self.body[1]]) as usize;
        let mut out = Vec::with_capacity(n);
        let mut i = 2;
        for _ in 0..n {
            let len = i32::from_be_bytes([
                self.body[i],
                self.body[i + 1],
                self.body[i + 2],
                self.body[i + 3],
            ]);
            i += 4;
            if len < 0 {
                out.push(None);
            } else {
                let len = len as usize;
                out.push(Some(
                    String::from_utf8_lossy(&self.body[i..i + len]).into_owned(),
                ));
                i += len;
            }
        }
        out
    }

    /// RowDescription column names and type OIDs.
    pub fn columns(&self) -> Vec<(String, u32)> {
        if self.kind != b'T' {
            return vec![];
        }
        let n = u16::from_be_bytes([self.body[0], self.body[1]]) as usize;
        let mut out = Vec::with_capacity(n);
        let mut i = 2;
        for _ in 0..n {
            let name = cstr(&self.body[i..]);
            i += name.len() + 1;
            let oid = u32::from_be_bytes([
                self.body[i + 6],
                self.body[i + 7],
                self.body[i + 8],
                self.body[i + 9],
            ]);
            i += 18;
            out.push((name, oid));
        }
        out
    }
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// A raw connection after startup (trust authentication).
pub struct RawConn {
    stream: TcpStream,
}

fn msg(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn cstring(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

impl RawConn {
    /// Connects and completes startup as `user` on `database`; panics on failure.
    pub async fn connect(addr: SocketAddr, user: &str, database: &str) -> RawConn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let mut c = RawConn { stream };
        let mut body = Vec::new();
        body.extend_from_slice(&196608i32.to_be_bytes());
        cstring(&mut body, "user");
        cstring(&mut body, user);
        cstring(&mut body, "database");
        cstring(&mut body, database);
        body.push(0);
        let mut startup = ((body.len() + 4) as i32).to_be_bytes().to_vec();
        startup.extend_from_slice(&body);
        c.stream.write_all(&startup).await.expect("startup");
        let msgs = c.until_ready().await;
        assert!(
            msgs.iter().all(|m| m.kind != b'E'),
            "startup failed: {:?}",
            msgs.iter().find_map(|m| m.field(b'M'))
        );
        c
    }

    /// Sends raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// Reads one message.
    pub async fn read(&mut self) -> RawMsg {
        let kind = self.stream.read_u8().await.expect("read type");
        let len = self.stream.read_i32().await.expect("read length") as usize;
        let mut body = vec![0; len - 4];
        self.stream.read_exact(&mut body).await.expect("read body");
        RawMsg { kind, body }
    }

    /// Reads messages up to and including ReadyForQuery.
    pub async fn until_ready(&mut self) -> Vec<RawMsg> {
        let mut out = Vec::new();
        loop {
            let m = tokio::time::timeout(std::time::Duration::from_secs(30), self.read())
                .await
                .expect("a backend message within 30 s");
            let done = m.kind == b'Z';
            out.push(m);
            if done {
                return out;
            }
        }
    }

    /// A simple query; returns every message up to ReadyForQuery.
    pub async fn query(&mut self, sql: &str) -> Vec<RawMsg> {
        let mut body = Vec::new();
        cstring(&mut body, sql);
        self.send(&msg(b'Q', &body)).await;
        self.until_ready().await
    }

    /// Parse(name, sql, no parameter types).
    pub fn parse(name: &str, sql: &str) -> Vec<u8> {
        let mut body = Vec::new();
        cstring(&mut body, name);
        cstring(&mut body, sql);
        body.extend_from_slice(&0i16.to_be_bytes());
        msg(b'P', &body)
    }

    /// Bind(portal, statement, text parameters, text results).
    pub fn bind(portal: &str, statement: &str, params: &[Option<&str>]) -> Vec<u8> {
        let mut body = Vec::new();
        cstring(&mut body, portal);
        cstring(&mut body, statement);
        body.extend_from_slice(&0i16.to_be_bytes());
        body.extend_from_slice(&(params.len() as i16).to_be_bytes());
        for p in params {
            match p {
                Some(v) => {
                    body.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    body.extend_from_slice(v.as_bytes());
                }
                None => body.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        body.extend_from_slice(&0i16.to_be_bytes());
        msg(b'B', &body)
    }

    /// Describe of a statement (`S`) or portal (`P`).
    pub fn describe(kind: u8, name: &str) -> Vec<u8> {
        let mut body = vec![kind];
        cstring(&mut body, name);
        msg(b'D', &body)
    }

    /// Execute(portal, all rows).
    pub fn execute(portal: &str) -> Vec<u8> {
        let mut body = Vec::new();
        cstring(&mut body, portal);
        body.extend_from_slice(&0i32.to_be_bytes());
        msg(b'E', &body)
    }

    /// Sync.
    pub fn sync() -> Vec<u8> {
        msg(b'S', &[])
    }

    /// Close of a statement (`S`) or portal (`P`).
    pub fn close(kind: u8, name: &str) -> Vec<u8> {
        let mut body = vec![kind];
        cstring(&mut body, name);
        msg(b'C', &body)
    }
}

/// The status byte of the last ReadyForQuery in `msgs` (`I`, `T`, `E`).
pub fn status_of(msgs: &[RawMsg]) -> char {
    msgs.iter()
        .rev()
        .find(|m| m.kind == b'Z')
        .map(|m| m.body[0] as char)
        .unwrap_or('?')
}

/// The SQLSTATE of the first ErrorResponse in `msgs`.
pub fn error_code(msgs: &[RawMsg]) -> Option<String> {
    msgs.iter()
        .find(|m| m.kind == b'E')
        .and_then(|m| m.field(b'C'))
}

/// Every CommandComplete tag in `msgs`.
pub fn tags(msgs: &[RawMsg]) -> Vec<String> {
    msgs.iter().filter_map(RawMsg::tag).collect()
}

/// Every DataRow in `msgs`, values as text.
pub fn rows(msgs: &[RawMsg]) -> Vec<Vec<Option<String>>> {
    msgs.iter()
        .filter(|m| m.kind == b'D')
        .map(RawMsg::values)
        .collect()
}
