//! The servers under test: how to start each, a running one (stopped with SIGTERM, then
//! SIGKILL), and the check that it answers every bench request exactly.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::http::http;
use crate::opts::target_dir;
use crate::Res;

/// How to start one server.
pub struct Spec {
    pub name: String,
    pub label: &'static str,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
}

pub fn spec(name: &str) -> Spec {
    let release = target_dir().join("release");
    let node = |adapter: &str, label| Spec {
        name: name.to_owned(),
        label,
        program: "node".into(),
        args: vec!["tests/peers/js/bench-server.mjs".into()],
        env: vec![("BENCH_ADAPTER", adapter.to_owned())],
    };
    match name {
        "rust" => Spec {
            name: name.to_owned(),
            label: "Rust SDK (hyper)",
            program: std::env::var_os("BENCH_SDK_SERVER")
                .map(PathBuf::from)
                .unwrap_or_else(|| release.join("bench-sdk-server")),
            args: vec![],
            env: vec![],
        },
        "rust-before" => Spec {
            name: name.to_owned(),
            label: "Rust SDK, before the fix",
            program: std::env::var_os("BENCH_SDK_SERVER_BEFORE")
                .map(PathBuf::from)
                .unwrap_or_default(),
            args: vec![],
            env: vec![],
        },
        "hyper" => Spec {
            name: name.to_owned(),
            label: "bare hyper",
            program: release.join("bench-hyper-server"),
            args: vec![],
            env: vec![],
        },
        "node" => node("node", "JS SDK, node:http"),
        "express" => node("express", "JS SDK, Express"),
        _ => Spec {
            name: name.to_owned(),
            label: "Python SDK, FastAPI/uvicorn",
            program: "tests/peers/py/.venv/bin/python".into(),
            args: vec!["tests/peers/py/bench_server.py".into()],
            env: vec![],
        },
    }
}

/// A running server.
pub struct Running {
    pub name: String,
    child: Child,
    pub port: u16,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then SIGKILL after 5 s.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `spec` on `port` (0: a free one) and waits for its `LISTENING <port>` line.
pub fn start(spec: &Spec, port: u16, logs: &Path) -> Res<Running> {
    let err = std::fs::File::create(logs.join(format!("{}.stderr", spec.name)))
        .map_err(|e| e.to_string())?;
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .env("PORT", port.to_string())
        .env_remove("INNGEST_SIGNING_KEY")
        .env_remove("INNGEST_BASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(err);
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|e| {
        format!(
            "cannot start {} ({}): {e}",
            spec.name,
            spec.program.display()
        )
    })?;
    let rx = inngest_bench::first_stdout_line(&mut child);
    let line = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{} did not print LISTENING within 60 s (see {})",
                spec.name,
                logs.join(format!("{}.stderr", spec.name)).display()
            ));
        }
    };
    let port = line
        .strip_prefix("LISTENING ")
        .and_then(|p| p.trim().parse().ok())
        .ok_or_else(|| format!("{} printed `{line}`, not `LISTENING <port>`", spec.name))?;
    Ok(Running {
        name: spec.name.clone(),
        child,
        port,
    })
}

pub fn free_port() -> Res<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// Checks that `server` answers every bench request exactly (200 and the expected object).
pub fn verify(server: &Running, bodies: &BTreeMap<u64, PathBuf>) -> Res<()> {
    for (&n, path) in bodies {
        let body = std::fs::read(path).map_err(|e| e.to_string())?;
        let a = http(
            server.port,
            "POST",
            inngest_bench::CALL_PATH,
            &body,
            Duration::from_secs(30),
        )
        .map_err(|e| format!("{}: the {n}-step call request failed: {e}", server.name))?;
        let got: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
        let want = if server.name == "hyper" {
            serde_json::from_slice(inngest_bench::FIXED_ANSWER).expect("JSON")
        } else {
            inngest_bench::expected(n)
        };
        if a.status != 200 || got != want {
            return Err(format!(
                "{}: the {n}-step call request got {} {}, expected 200 {want}",
                server.name,
                a.status,
                String::from_utf8_lossy(&a.body)
            ));
        }
    }
    let a = http(
        server.port,
        "GET",
        inngest_bench::SERVE_PATH,
        b"",
        Duration::from_secs(10),
    )
    .map_err(|e| format!("{}: GET failed: {e}", server.name))?;
    if a.status != 200 {
        return Err(format!("{}: GET answered {}", server.name, a.status));
    }
    Ok(())
}
