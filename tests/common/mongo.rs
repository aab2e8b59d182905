//! A throwaway MongoDB-protocol server (nx-27017), one per call, and a recording relay.
//!
//! Debian has no `mongod`; `nx-27017` (`pip install nx-27017`) speaks the MongoDB wire
//! protocol on top of SQLite. It is looked up in `$DBGURU_NX_27017`, `$DBGURU_VENV/bin`,
//! `$HOME/.cache/dbguru-venv/bin` (where scripts/test installs it) and `$PATH`; when it is
//! missing the test FAILS, naming `pip install nx-27017`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mongodb::bson::Document;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::util::{find_executable, free_port, poll_until, read_lossy, spawn_watchdog};

const INSTALL_HINT: &str = "nx-27017 (a MongoDB wire-protocol server) was not found: \
    pip install nx-27017 pymongo (scripts/test installs both into $HOME/.cache/dbguru-venv), \
    or point DBGURU_NX_27017 at the executable";

/// Where the `nx-27017` executable is; panics (fails the test) naming `pip install nx-27017`.
pub fn nx_27017_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("DBGURU_NX_27017").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return p;
        }
        panic!(
            "DBGURU_NX_27017={} does not exist; {INSTALL_HINT}",
            p.display()
        );
    }
    let mut dirs = Vec::new();
    if let Some(v) = std::env::var_os("DBGURU_VENV").filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(v).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        dirs.push(
            PathBuf::from(home)
                .join(".cache")
                .join("dbguru-venv")
                .join("bin"),
        );
    }
    find_executable("nx-27017", &dirs).unwrap_or_else(|| panic!("{INSTALL_HINT}"))
}

/// A running nx-27017 server on 127.0.0.1 with an in-memory store. Killed when dropped
/// (or by a watchdog when the test process dies).
pub struct MongoServer {
    /// TCP port.
    pub port: u16,
    /// Its private directory (logs, pid file).
    pub dir: PathBuf,
    child: Mutex<Option<Child>>,
}

impl std::fmt::Debug for MongoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoServer")
            .field("port", &self.port)
            .finish()
    }
}

/// Starts a fresh server (about half a second).
pub async fn start_mongo() -> MongoServer {
    match tokio::task::spawn_blocking(start_blocking).await {
        Ok(s) => s,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("starting nx-27017 was cancelled: {e}"),
    }
}

fn start_blocking() -> MongoServer {
    let bin = nx_27017_bin();
    let dir = tempfile::Builder::new()
        .prefix("dbguru-mongo-")
        .tempdir()
        .expect("create a temp dir for nx-27017")
        .keep();
    let pid_file = dir.join("child.pid");
    spawn_watchdog(
        "[ -f \"$1/child.pid\" ] && kill -9 \"$(cat \"$1/child.pid\")\" 2>/dev/null; sleep 0.2; rm -rf \"$1\"",
        &[&dir.display().to_string()],
    );
    for attempt in 1..=5 {
        let port = free_port();
        let out_path = dir.join("out.log");
        let out = std::fs::File::create(&out_path).expect("create nx-27017 output log");
        let err = out.try_clone().expect("clone log handle");
        let mut cmd = Command::new(&bin);
        cmd.args([
            "--host",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--db",
            "memory",
        ])
        .arg("--log-file")
        .arg(dir.join("nx.log"))
        .arg("--pid-file")
        .arg(dir.join("nx.pid"))
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}; {INSTALL_HINT}", bin.display()));
        let _ = std::fs::write(&pid_file, child.id().to_string());
        let exited = poll_until(
            Duration::from_secs(30),
            "nx-27017 to accept connections",
            || {
                if let Ok(Some(status)) = child.try_wait() {
                    return Some(Some(status));
                }
                std::net::TcpStream::connect_timeout(
                    &([127, 0, 0, 1], port).into(),
                    Duration::from_millis(200),
                )
                .is_ok()
                .then_some(None)
            },
        );
        match exited {
            None => {
                return MongoServer {
                    port,
                    dir,
                    child: Mutex::new(Some(child)),
                }
            }
            Some(status) => {
                let log = read_lossy(&out_path);
                if attempt < 5 && log.contains("in use") {
                    continue;
                }
                panic!("nx-27017 exited during startup ({status}):\n{log}");
            }
        }
    }
    unreachable!("the loop above returns or panics")
}

impl MongoServer {
    /// `mongodb://127.0.0.1:PORT/<db>`
    pub fn url(&self, db: &str) -> String {
        format!("mongodb://127.0.0.1:{}/{db}", self.port)
    }

    /// A driver client for seeding and direct computation (5 s server selection).
    pub async fn client(&self) -> mongodb::Client {
        client_for_port(self.port).await
    }

    /// Kills the server (SIGKILL) and waits for it; later calls do nothing.
    pub fn stop(&self) {
        let child = self.child.lock().map(|mut c| c.take()).unwrap_or(None);
        if let Some(mut c) = child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for MongoServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A driver client for `127.0.0.1:port`.
pub async fn client_for_port(port: u16) -> mongodb::Client {
    let mut opts = mongodb::options::ClientOptions::parse(format!("mongodb://127.0.0.1:{port}/"))
        .await
        .expect("parse MongoDB test URL");
    opts.server_selection_timeout = Some(Duration::from_secs(5));
    opts.direct_connection = Some(true);
    mongodb::Client::with_options(opts).expect("MongoDB test client")
}

/// One command a client sent through a [`MongoRelay`].
#[derive(Debug, Clone)]
pub struct RelayedCommand {
    /// The command name (the first key of the command document).
    pub name: String,
    /// The whole command document.
    pub body: Document,
}

/// A TCP relay in front of a MongoDB server that records every command sent through it
/// (OP_MSG and legacy OP_QUERY), and can stall replies to simulate a hung server.
pub struct MongoRelay {
    /// Where the relay listens.
    pub addr: SocketAddr,
    commands: Arc<Mutex<Vec<RelayedCommand>>>,
    stalled: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MongoRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MongoRelay {
    /// Starts a relay to `127.0.0.1:target_port`.
    pub async fn start(target_port: u16) -> MongoRelay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("relay bind");
        let addr = listener.local_addr().expect("relay addr");
        let commands: Arc<Mutex<Vec<RelayedCommand>>> = Arc::default();
        let stalled = Arc::new(AtomicBool::new(false));
        let (cmds, stall) = (commands.clone(), stalled.clone());
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { continue };
                        let (cmds, stall) = (cmds.clone(), stall.clone());
                        conns.spawn(async move {
                            let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)).await else { return };
                            let (cr, cw) = client.into_split();
                            let (sr, sw) = server.into_split();
                            let up = pump_requests(cr, sw, cmds);
                            let down = pump_replies(sr, cw, stall);
                            let _ = tokio::join!(up, down);
                        });
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        MongoRelay {
            addr,
            commands,
            stalled,
            task,
        }
    }

    /// `mongodb://ADDR/<db>` (direct connection, so the driver does not look past the relay).
    pub fn url(&self, db: &str) -> String {
        format!("mongodb://{}/{db}?directConnection=true", self.addr)
    }

    /// Every command so far.
    pub fn commands(&self) -> Vec<RelayedCommand> {
        self.commands.lock().expect("relay lock").clone()
    }

    /// The names of every command so far.
    pub fn command_names(&self) -> Vec<String> {
        self.commands().into_iter().map(|c| c.name).collect()
    }

    /// Forgets the recorded commands.
    pub fn clear(&self) {
        self.commands.lock().expect("relay lock").clear();
    }

    /// Holds back (true) or forwards again (false) the server's replies.
    pub fn set_stalled(&self, on: bool) {
        self.stalled.store(on, Ordering::SeqCst);
    }
}

async fn pump_requests(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    commands: Arc<Mutex<Vec<RelayedCommand>>>,
) -> std::io::Result<()> {
    loop {
        let mut len_buf = [0u8; 4];
        from.read_exact(&mut len_buf).await?;
        let len = i32::from_le_bytes(len_buf);
        let len = usize::try_from(len).unwrap_or(0).max(4);
        let mut msg = vec![0u8; len];
        msg[..4].copy_from_slice(&len_buf);
        from.read_exact(&mut msg[4..]).await?;
        if let Some(body) = command_of(&msg) {
            let name = body.keys().next().cloned().unwrap_or_default();
            commands
                .lock()
                .expect("relay lock")
                .push(RelayedCommand { name, body });
        }
        to.write_all(&msg).await?;
    }
}

async fn pump_replies(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    stalled: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        while stalled.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        to.write_all(&buf[..n]).await?;
    }
}

/// The command document of one wire message (OP_MSG body section, or OP_QUERY query).
fn command_of(msg: &[u8]) -> Option<Document> {
    let opcode = i32::from_le_bytes(msg.get(12..16)?.try_into().ok()?);
    match opcode {
        2013 => {
            // flagBits, then sections; kind 0 is the body document.
            let mut pos = 20;
            while pos < msg.len() {
                let kind = *msg.get(pos)?;
                pos += 1;
                let size = i32::from_le_bytes(msg.get(pos..pos + 4)?.try_into().ok()?) as usize;
                if kind == 0 {
                    return Document::from_reader(msg.get(pos..pos + size)?).ok();
                }
                pos += size;
            }
            None
        }
        2004 => {
            let mut pos = 20; // header + flags
            let end = msg.get(pos..)?.iter().position(|b| *b == 0)?;
            pos += end + 1 + 8; // collection name, skip, return
            let size = i32::from_le_bytes(msg.get(pos..pos + 4)?.try_into().ok()?) as usize;
            Document::from_reader(msg.get(pos..pos + size)?).ok()
        }
        _ => None,
    }
}
