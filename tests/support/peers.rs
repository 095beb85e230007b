//! The official JS SDK as a peer: installed with `npm ci` when missing, started with
//! `node server.mjs` on a free loopback port.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Peer {
    child: Child,
    pub port: u16,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn required() -> bool {
    std::env::var("INNGEST_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

fn peer_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/js")
}

/// Installs (if needed) and starts the JS peer; `None` means skip (only when not required).
pub async fn start_peer() -> Option<Peer> {
    start_peer_with("1").await
}

/// Starts the peer with `INNGEST_DEV` set to `dev` (`1` or a dev server URL).
pub async fn start_peer_with(dev: &str) -> Option<Peer> {
    let dir = peer_dir();
    if !dir.join("node_modules/inngest").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .await;
        if !matches!(status, Ok(s) if s.success()) {
            assert!(
                !required(),
                "the JS peer could not be installed with `npm ci` in {}: {status:?}",
                dir.display()
            );
            eprintln!(
                "skipping the JS peer test: `npm ci` failed in {} ({status:?})",
                dir.display()
            );
            return None;
        }
    }
    let mut child = match Command::new("node")
        .arg("server.mjs")
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
            assert!(!required(), "node could not be started: {e}");
            eprintln!("skipping the JS peer test: node could not be started ({e})");
            return None;
        }
    };
    let stdout = child.stdout.take().unwrap();
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
    .flatten()
    .expect("the JS peer prints `LISTENING <port>` within 60 s");
    Some(Peer { child, port })
}
