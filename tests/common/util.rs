//! Process, path and polling helpers shared by the server starters.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Whether this process runs as root (uid 0). Read from `/proc/self/status`.
pub fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// A port that was free a moment ago on 127.0.0.1 (the OS picked it).
pub fn free_port() -> u16 {
    let l =
        std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0 to find a free port");
    l.local_addr().expect("local_addr of probe listener").port()
}

/// Finds an executable: the given directories first, then `$PATH`, then the usual system dirs.
pub fn find_executable(name: &str, preferred_dirs: &[PathBuf]) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = preferred_dirs.to_vec();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    for d in [
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
    ] {
        dirs.push(PathBuf::from(d));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Runs a command to completion, panicking with its output when it fails.
pub fn run_checked(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {:?}: {e}", cmd.get_program()));
    if !out.status.success() {
        panic!(
            "{what} failed ({}): {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            cmd,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// `cp -a SRC DST` (keeps owners and modes; PostgreSQL insists on 0700 data dirs).
pub fn copy_tree(src: &Path, dst: &Path) {
    run_checked(
        Command::new("cp").arg("-a").arg(src).arg(dst),
        &format!("copying {} to {}", src.display(), dst.display()),
    );
}

/// The cache root for server templates: `$DBGURU_TEST_CACHE`, else `$HOME/.cache/dbguru-test`,
/// else `/tmp/dbguru-test-cache`.
pub fn cache_root() -> PathBuf {
    if let Some(p) = std::env::var_os("DBGURU_TEST_CACHE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache").join("dbguru-test"),
        None => PathBuf::from("/tmp/dbguru-test-cache"),
    }
}

/// Turns a version banner into a safe directory name.
pub fn cache_key(banner: &str) -> String {
    let key: String = banner
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    key.chars().take(120).collect()
}

/// Stores `fresh` (a just-initialised data dir) as the template `<cache>/<kind>/<key>/data`,
/// atomically (copy to a staging dir, then rename), so parallel test processes never see a
/// half-written template. Failures only cost speed, so they are reported and ignored.
pub fn store_template(kind: &str, key: &str, fresh: &Path) {
    let parent = cache_root().join(kind);
    let final_dir = parent.join(key);
    if final_dir.join("data").exists() {
        return;
    }
    if let Err(e) = std::fs::create_dir_all(&parent) {
        eprintln!(
            "[harness] not caching {kind} template in {}: {e}",
            parent.display()
        );
        return;
    }
    let staging = parent.join(format!(
        ".staging-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    if let Err(e) = std::fs::create_dir_all(&staging) {
        eprintln!("[harness] not caching {kind} template: {e}");
        return;
    }
    let ok = Command::new("cp")
        .arg("-a")
        .arg(fresh)
        .arg(staging.join("data"))
        .stdin(Stdio::null())
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok || std::fs::rename(&staging, &final_dir).is_err() {
        // Another process won the race, or the copy failed: drop our staging copy.
        let _ = std::fs::remove_dir_all(&staging);
    }
}

/// The cached template data dir, when present and complete (`marker` exists inside it).
pub fn cached_template(kind: &str, key: &str, marker: &str) -> Option<PathBuf> {
    let data = cache_root().join(kind).join(key).join("data");
    data.join(marker).exists().then_some(data)
}

/// Polls `check` every 20 ms until it returns `Some`, or panics after `timeout` with `what`.
pub fn poll_until<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Spawns a detached watchdog (own session via `setsid`, all stdio to /dev/null) that runs
/// `cleanup` (a shell snippet) once this test process has exited. Extra args are available to
/// the snippet as `$1`, `$2`, ... (`$0` is this process's pid).
pub fn spawn_watchdog(cleanup: &str, args: &[&str]) {
    let script =
        format!("trap '' INT HUP; while kill -0 \"$0\" 2>/dev/null; do sleep 0.5; done; {cleanup}");
    let pid = std::process::id().to_string();
    let spawn = |with_setsid: bool| {
        let mut cmd = if with_setsid {
            let mut c = Command::new("setsid");
            c.arg("sh");
            c
        } else {
            Command::new("sh")
        };
        cmd.arg("-c").arg(&script).arg(&pid).args(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        {
            use std::os::unix::process::CommandExt;
            if !with_setsid {
                cmd.process_group(0);
            }
        }
        cmd.spawn()
    };
    match spawn(true).or_else(|_| spawn(false)) {
        Ok(child) => {
            // Reaped by init after we exit; never waited for here.
            std::mem::forget(child);
        }
        Err(e) => panic!("cannot spawn the cleanup watchdog (sh): {e}"),
    }
}

/// Reads a file to a string (lossy UTF-8); empty when it does not exist yet.
pub fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}
