//! The official SDKs as peers, each served on a free loopback port:
//! * JS (`tests/peers/js`): installed with `npm ci` when missing, started with
//!   `node server.mjs`;
//! * Python (`tests/peers/py`): installed into `.venv` by `install.sh` when missing (or when
//!   `requirements.lock` changed), started with `.venv/bin/python server.py`.
//!
//! A peer that cannot be installed or started is skipped (`None`), unless
//! `INNGEST_REQUIRE_PEERS=1`, when the test fails instead.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

pub struct Peer {
    child: Child,
    pub port: u16,
}

impl Peer {
    /// The peer's serve URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/api/inngest", self.port)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// How to install and start one official SDK's peer.
pub struct PeerKind {
    /// For messages: "JS", "Python".
    pub name: &'static str,
    /// The peer's folder, relative to the workspace root.
    dir: &'static str,
    /// Whether the peer is installed (and up to date) in `dir`.
    installed: fn(&Path) -> bool,
    /// The install command (program, args), run in `dir`.
    install: (&'static str, &'static [&'static str]),
    /// The start command (program relative to `dir` when it has a `/`, args), run in `dir`.
    start: (&'static str, &'static [&'static str]),
    /// Only one install at a time per peer within a test binary.
    installing: &'static Mutex<()>,
}

static JS_INSTALL: Mutex<()> = Mutex::const_new(());
static PY_INSTALL: Mutex<()> = Mutex::const_new(());

/// Whether the JS peer's packages are installed (all of them: an install from before a package
/// was added to the lock is redone).
fn js_installed(dir: &Path) -> bool {
    dir.join("node_modules/inngest").exists()
        && dir
            .join("node_modules/@inngest/middleware-encryption")
            .exists()
}

/// The official TypeScript SDK (`inngest` on npm), app id `peer-app`.
pub static JS: PeerKind = PeerKind {
    name: "JS",
    dir: "tests/peers/js",
    installed: js_installed,
    install: (
        "npm",
        &["ci", "--no-audit", "--no-fund", "--loglevel=error"],
    ),
    start: ("node", &["server.mjs"]),
    installing: &JS_INSTALL,
};

/// The official TypeScript SDK with `@inngest/middleware-encryption`, app id `js-enc`
/// (`tests/peers/js/encryption.mjs`).
pub static JS_ENCRYPTION: PeerKind = PeerKind {
    name: "JS encryption",
    dir: "tests/peers/js",
    installed: js_installed,
    install: (
        "npm",
        &["ci", "--no-audit", "--no-fund", "--loglevel=error"],
    ),
    start: ("node", &["encryption.mjs", "serve"]),
    installing: &JS_INSTALL,
};

/// Runs `node <args>` in the JS peer's folder (installing it if needed) with `INNGEST_DEV`
/// set to `dev`; its standard output, trimmed. `None` means skip (only when not required).
pub async fn node(args: &[&str], dev: &str) -> Option<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(JS.dir);
    if !install(&JS, &dir).await {
        return None;
    }
    let out = Command::new("node")
        .args(args)
        .current_dir(&dir)
        .env("INNGEST_DEV", dev)
        .output()
        .await;
    match out {
        Ok(out) if out.status.success() => {
            Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        }
        other => {
            assert!(!required(), "`node {}` failed: {other:?}", args.join(" "));
            eprintln!("skipping: `node {}` failed: {other:?}", args.join(" "));
            None
        }
    }
}

/// Installs the peer of `kind` in `dir` unless it is; whether it is installed now (a failure
/// fails the test when peers are required).
async fn install(kind: &PeerKind, dir: &Path) -> bool {
    let _one_at_a_time = kind.installing.lock().await;
    if (kind.installed)(dir) {
        return true;
    }
    let (program, args) = kind.install;
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .await;
    if matches!(status, Ok(s) if s.success()) && (kind.installed)(dir) {
        return true;
    }
    skip(
        kind,
        format!(
            "`{program} {}` in {} failed: {status:?}",
            args.join(" "),
            dir.display()
        ),
    );
    false
}

/// The official Python SDK (`inngest` on PyPI, FastAPI on uvicorn), app id `py-app`.
pub static PY: PeerKind = PeerKind {
    name: "Python",
    dir: "tests/peers/py",
    // install.sh leaves a copy of the lock it installed; a changed lock reinstalls.
    installed: |dir| {
        dir.join(".venv/bin/python").exists()
            && std::fs::read(dir.join(".venv/.installed-lock")).ok()
                == std::fs::read(dir.join("requirements.lock")).ok()
    },
    install: ("bash", &["install.sh"]),
    start: (".venv/bin/python", &["server.py"]),
    installing: &PY_INSTALL,
};

fn required() -> bool {
    std::env::var("INNGEST_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// Fails the test when peers are required; otherwise says why the peer is skipped.
fn skip(kind: &PeerKind, why: String) -> Option<Peer> {
    assert!(!required(), "the {} peer: {why}", kind.name);
    eprintln!("skipping the {} peer: {why}", kind.name);
    None
}

/// Installs (if needed) and starts the JS peer; `None` means skip (only when not required).
pub async fn start_peer() -> Option<Peer> {
    start_peer_with("1").await
}

/// Starts the JS peer with `INNGEST_DEV` set to `dev` (`1` or a dev server URL).
pub async fn start_peer_with(dev: &str) -> Option<Peer> {
    start(&JS, dev).await
}

/// Installs (if needed) and starts the peer of `kind` with `INNGEST_DEV` set to `dev` (`1` or
/// a dev server URL); `None` means skip (only when not required).
pub async fn start(kind: &PeerKind, dev: &str) -> Option<Peer> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(kind.dir);
    if !install(kind, &dir).await {
        return None;
    }
    let (program, args) = kind.start;
    let program = if program.contains('/') {
        dir.join(program)
    } else {
        PathBuf::from(program)
    };
    let mut child = match Command::new(&program)
        .args(args)
        .current_dir(&dir)
        .env("PORT", "0")
        .env("INNGEST_DEV", dev)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            return skip(
                kind,
                format!("{} could not be started: {e}", program.display()),
            )
        }
    };
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let port = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(port) = line.strip_prefix("LISTENING ") {
                return port.trim().parse::<u16>().ok();
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    match port {
        Some(port) => Some(Peer { child, port }),
        None => skip(
            kind,
            format!(
                "`{} {}` did not print `LISTENING <port>` within 60 s",
                program.display(),
                args.join(" ")
            ),
        ),
    }
}
