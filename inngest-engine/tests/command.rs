//! The `inngest-engine dev` command: its flags, and the official JS and Python SDKs' apps
//! synced with `-u`, run to the same outcomes and read back through GraphQL and `/v1`, as
//! with the Inngest dev server. A peer that is not installed is skipped unless
//! `INNGEST_REQUIRE_PEERS=1`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_inngest-engine");

#[test]
fn unknown_flags_and_values_are_clear_errors() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(BIN).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["dev", "--queue-workers", "4"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("unexpected argument '--queue-workers'"),
        "{err}"
    );
    let (code, err) = run(&["dev", "--port", "eighty"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("invalid value 'eighty' for '--port <PORT>'"),
        "{err}"
    );
    let (code, err) = run(&["dev", "--retry-interval", "0"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--retry-interval"), "{err}");
    let (code, err) = run(&["dev", "--signing-key", "not-hex"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("hex string"), "{err}");
    let out = std::process::Command::new(BIN)
        .args(["dev", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--sdk-url",
        "--no-discovery",
        "--no-poll",
        "--poll-interval",
        "--port",
        "--host",
        "--retry-interval",
        "--tick",
        "--persist",
        "--sqlite-dir",
        "--event-key",
        "--signing-key",
        "--log-level",
        "--json",
    ] {
        assert!(help.contains(flag), "--help lists {flag}:\n{help}");
    }
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts an official SDK's peer app (`tests/peers/<dir>`) pointed at the engine; `None` to skip.
async fn peer(dir: &str, program: &str, installed: &str, engine: &str) -> Option<(Kill, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/peers")
        .join(dir);
    let required = std::env::var("INNGEST_REQUIRE_PEERS").is_ok_and(|v| v == "1");
    if !root.join(installed).exists() {
        assert!(
            !required,
            "the {dir} peer is not installed in {}",
            root.display()
        );
        eprintln!("skipping the {dir} peer: not installed (see tests/peers/{dir})");
        return None;
    }
    let program = if program.contains('/') {
        root.join(program)
    } else {
        PathBuf::from(program)
    };
    let mut child = Command::new(program)
        .arg(if dir == "js" {
            "server.mjs"
        } else {
            "server.py"
        })
        .current_dir(&root)
        .env("PORT", "0")
        .env("INNGEST_DEV", engine)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let mut lines = BufReader::new(child.stdout.take()?).lines();
    let port = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(p) = line.strip_prefix("LISTENING ") {
                return p.trim().parse::<u16>().ok();
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("the peer prints LISTENING <port>");
    Some((Kill(child), format!("http://127.0.0.1:{port}/api/inngest")))
}

async fn gql(client: &reqwest::Client, origin: &str, query: &str, vars: Value) -> Value {
    let res = client
        .post(format!("{origin}/v0/gql"))
        .json(&json!({"query": query, "variables": vars}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Sends an event and waits until the runs it started have ended; returns them
/// (`{id, status, output, function}`) as GraphQL shows them.
async fn run(client: &reqwest::Client, origin: &str, event: Value, runs: usize) -> Vec<Value> {
    let sent: Value = client
        .post(format!("{origin}/e/key"))
        .json(&event)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = sent["ids"][0].as_str().unwrap().to_owned();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let body = gql(
            client,
            origin,
            "query($id: ID!) { event(query: {eventId: $id}) { functionRuns { id status output functionID } } }",
            json!({"id": id}),
        )
        .await;
        let found = body["data"]["event"]["functionRuns"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if found.len() >= runs && found.iter().all(|r| r["status"] != "RUNNING") {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "runs of {event} end: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await; // polling, as the SDKs' harnesses do
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_and_python_apps_synced_with_u_run_to_the_same_ends() {
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let peers = [
        ("js", "node", "node_modules/inngest", "peer-app"),
        ("py", ".venv/bin/python", ".venv/bin/python", "py-app"),
    ];
    let mut started = Vec::new();
    for (dir, program, installed, app) in peers {
        if let Some((child, url)) = peer(dir, program, installed, &origin).await {
            started.push((child, url, app));
        }
    }
    if started.is_empty() {
        return;
    }
    let mut args = vec![
        "dev".to_owned(),
        "-p".into(),
        port.to_string(),
        "--retry-interval".into(),
        "1".into(),
    ];
    for (_, url, _) in &started {
        args.extend(["-u".to_owned(), url.clone()]);
    }
    let _engine = Kill(
        Command::new(BIN)
            .args(&args)
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    // The engine syncs each app (PUT), which registers itself.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let apps = match client
            .post(format!("{origin}/v0/gql"))
            .json(&json!({"query": "{ apps { name functionCount } }"}))
            .send()
            .await
        {
            Ok(res) => res.json::<Value>().await.unwrap_or_default(),
            Err(_) => Value::Null,
        };
        let names: Vec<&str> = apps["data"]["apps"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x["name"].as_str()).collect())
            .unwrap_or_default();
        if started.iter().all(|(_, _, app)| names.contains(app)) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the apps sync: {apps}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let apps = started.len();
    let ends = |runs: &[Value], function: &str| -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = runs
            .iter()
            .filter(|r| {
                r["functionID"]
                    .as_str()
                    .is_some_and(|f| f.ends_with(&format!("-{function}")))
            })
            .map(|r| {
                let output: Value =
                    serde_json::from_str(r["output"].as_str().unwrap_or("null")).unwrap();
                let output = if r["status"] == "FAILED" {
                    output["message"].clone()
                } else {
                    output
                };
                (r["status"].as_str().unwrap().to_owned(), output)
            })
            .collect();
        out.sort_by_key(|a| a.1.to_string());
        out
    };
    let steps = run(
        &client,
        &origin,
        json!({"name": "test/steps", "data": {}}),
        apps,
    )
    .await;
    assert_eq!(
        ends(&steps, "two-steps"),
        vec![("COMPLETED".to_owned(), json!({"a": "one", "b": "one-two"})); apps]
    );
    // Each SDK's steps, named by the user's ids, with their outputs.
    for r in &steps {
        let body = gql(
            &client,
            &origin,
            "query($id: String!) { run(runID: $id) { trace { childrenSpans { name outputID } } } }",
            json!({"id": r["id"]}),
        )
        .await;
        let spans = body["data"]["run"]["trace"]["childrenSpans"]
            .as_array()
            .unwrap();
        let names: Vec<&str> = spans.iter().filter_map(|s| s["name"].as_str()).collect();
        assert_eq!(names, ["first", "second"], "{}: {body}", r["functionID"]);
        let out = gql(
            &client,
            &origin,
            "query($id: String!) { runTraceSpanOutputByID(outputID: $id) { data } }",
            json!({"id": spans[1]["outputID"]}),
        )
        .await;
        assert_eq!(
            out["data"]["runTraceSpanOutputByID"]["data"], "\"one-two\"",
            "{}",
            r["functionID"]
        );
    }
    let flaky = run(
        &client,
        &origin,
        json!({"name": "test/engine-flaky", "data": {}}),
        apps,
    )
    .await;
    assert_eq!(
        ends(&flaky, "engine-flaky"),
        vec![("COMPLETED".to_owned(), json!("recovered")); apps]
    );
    let fails = run(
        &client,
        &origin,
        json!({"name": "test/fails", "data": {}}),
        apps,
    )
    .await;
    assert_eq!(
        ends(&fails, "with-failure"),
        vec![("FAILED".to_owned(), json!("boom")); apps]
    );
    // The failure handlers, started by inngest/function.failed, read through /v1.
    for r in &fails {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let body = gql(
                &client,
                &origin,
                "query($id: String!) { run(runID: $id) { triggeredRuns { status output } } }",
                json!({"id": r["id"]}),
            )
            .await;
            let handlers = body["data"]["run"]["triggeredRuns"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if handlers.iter().any(|h| h["status"] == "COMPLETED") {
                let output = handlers
                    .iter()
                    .find(|h| h["status"] == "COMPLETED")
                    .unwrap()["output"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                assert!(output.contains("failed: boom (notified"), "{output}");
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the failure handler of {} ends: {body}",
                r["functionID"]
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let res: Value = client
            .get(format!("{origin}/v1/runs/{}", r["id"].as_str().unwrap()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(res["data"]["status"], "Failed");
    }
}
