//! `inngest-engine dev --persist`: runs that are sleeping, waiting for an event, retrying
//! after an error and queued behind a concurrency limit survive a `kill -9`; started again on
//! the same directory, the engine finishes every one of them as it would have, and no step
//! whose result was stored runs again. A corrupt database is a clear error at start-up.

mod app;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use app::{App, Piece};
use serde_json::{json, Value};
use tokio::process::{Child, Command};
use tokio::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_inngest-engine");

/// A scratch directory, removed at the end.
struct Scratch(PathBuf);
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!(
        "inngest-engine-persist-{name}-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the command on `dir`, its logs in `log`; waits until it answers.
async fn start(dir: &Path, port: u16, log: &Path, client: &reqwest::Client) -> Child {
    let log = std::fs::File::create(log).unwrap();
    let child = Command::new(BIN)
        .args([
            "dev",
            "--persist",
            "--no-discovery",
            "--retry-interval",
            "2",
            "-p",
        ])
        .arg(port.to_string())
        .arg("--sqlite-dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let origin = format!("http://127.0.0.1:{port}");
    wait_for("the engine answers", Duration::from_secs(30), || async {
        client
            .get(format!("{origin}/dev"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    child
}

/// Polls `check` until it holds, failing after `within`.
async fn wait_for<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(25)).await; // polling a condition
    }
}

async fn get(client: &reqwest::Client, url: String) -> Value {
    match client.get(url).send().await {
        Ok(res) => res.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

/// Sends an event; returns its internal id.
async fn send(client: &reqwest::Client, origin: &str, event: Value) -> String {
    let res = client
        .post(format!("{origin}/e/key"))
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{event} is accepted");
    let body: Value = res.json().await.unwrap();
    body["ids"][0].as_str().unwrap().to_owned()
}

/// The kinds of the jobs a run waits for (`sleep`, `pause`, `edge-error`, `start`, ...).
async fn jobs(client: &reqwest::Client, origin: &str, run: &str) -> Vec<String> {
    let body = get(client, format!("{origin}/v1/runs/{run}/jobs")).await;
    body["data"]
        .as_array()
        .map(|jobs| {
            jobs.iter()
                .filter_map(|j| j["kind"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn status(client: &reqwest::Client, origin: &str, run: &str) -> Value {
    get(client, format!("{origin}/v1/runs/{run}")).await["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_survive_kill_9_and_no_stored_step_runs_again() {
    let dir = scratch("kill");
    let db = dir.0.join("db");
    let client = reqwest::Client::new();

    let mut functions = BTreeMap::new();
    functions.insert(
        "sleeper",
        vec![Piece::Run("a"), Piece::Sleep("nap", "2s"), Piece::Run("b")],
    );
    functions.insert(
        "waiter",
        vec![
            Piece::Run("a"),
            Piece::Wait("w", "test/go", "async.data.n == event.data.n"),
            Piece::Run("b"),
        ],
    );
    functions.insert(
        "flaky",
        vec![Piece::Run("a"), Piece::FailOnce("boom"), Piece::Run("b")],
    );
    functions.insert("limited", vec![Piece::Gated("a"), Piece::Run("b")]);
    functions.insert("ticker", vec![Piece::Run("tick")]);
    let app = App::new(functions);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/api",
        listener.local_addr().unwrap().port()
    );
    app.serve(listener);

    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let mut engine = start(&db, port, &dir.0.join("first.log"), &client).await;
    let sync = app::register(
        &url,
        &[
            ("sleeper", json!([{"event": "test/sleep"}]), json!({})),
            ("waiter", json!([{"event": "test/wait"}]), json!({})),
            ("flaky", json!([{"event": "test/flaky"}]), json!({})),
            (
                "limited",
                json!([{"event": "test/limited"}]),
                json!({"concurrency": [{"limit": 1}]}),
            ),
            ("ticker", json!([{"cron": "* * * * *"}]), json!({})),
        ],
    );
    let res = client
        .post(format!("{origin}/fn/register"))
        .json(&sync)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    send(&client, &origin, json!({"name": "test/sleep", "data": {}})).await;
    send(
        &client,
        &origin,
        json!({"name": "test/wait", "data": {"n": 7}}),
    )
    .await;
    send(&client, &origin, json!({"name": "test/flaky", "data": {}})).await;
    let mut limited_events = Vec::new();
    for n in 1..=3 {
        limited_events.push(
            send(
                &client,
                &origin,
                json!({"name": "test/limited", "data": {"n": n}}),
            )
            .await,
        );
    }

    // Each run where it should be when the engine is killed.
    let one = |f: &'static str| {
        let app = app.clone();
        move || {
            let runs = app.runs(f);
            async move { runs.len() == 1 }
        }
    };
    for f in ["sleeper", "waiter", "flaky"] {
        wait_for(&format!("{f} is called"), Duration::from_secs(10), one(f)).await;
    }
    let sleeper = app.runs("sleeper")[0].clone();
    let waiter = app.runs("waiter")[0].clone();
    let flaky = app.runs("flaky")[0].clone();
    wait_for("the sleeper sleeps", Duration::from_secs(10), || async {
        jobs(&client, &origin, &sleeper).await == ["sleep"]
    })
    .await;
    let slept_at = Instant::now();
    wait_for("the waiter waits", Duration::from_secs(10), || async {
        jobs(&client, &origin, &waiter).await == ["pause"]
    })
    .await;
    wait_for(
        "the flaky run waits for its retry",
        Duration::from_secs(10),
        || async { jobs(&client, &origin, &flaky).await == ["edge-error"] },
    )
    .await;
    wait_for(
        "one limited run is in flight",
        Duration::from_secs(10),
        one("limited"),
    )
    .await;
    let limited_first = app.runs("limited")[0].clone();
    // The other two are queued behind the limit: their runs exist, the app never saw them.
    let mut limited_runs = Vec::new();
    for id in &limited_events {
        let found = get(&client, format!("{origin}/v1/events/{id}/runs")).await;
        limited_runs.push(
            found["data"][0]["run_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    assert_eq!(
        limited_runs.len(),
        3,
        "three limited runs: {limited_runs:?}"
    );
    for run in limited_runs.iter().filter(|r| **r != limited_first) {
        assert_eq!(
            jobs(&client, &origin, run).await,
            ["start"],
            "{run} is queued"
        );
    }

    // kill -9, then wait until the sleep is overdue.
    engine.start_kill().unwrap();
    engine.wait().await.unwrap();
    let overdue = slept_at + Duration::from_secs(2);
    wait_for("the sleep is overdue", Duration::from_secs(5), || async {
        Instant::now() > overdue
    })
    .await;

    let restarted = Instant::now();
    let _engine = start(&db, port, &dir.0.join("second.log"), &client).await;
    // The overdue sleep wakes at once.
    wait_for("the sleeper ends", Duration::from_secs(5), || async {
        status(&client, &origin, &sleeper).await["status"] == "Completed"
    })
    .await;
    let woke_after = restarted.elapsed();
    // The wait still matches a later event (and not one that does not match).
    send(
        &client,
        &origin,
        json!({"name": "test/go", "data": {"n": 8}}),
    )
    .await;
    send(
        &client,
        &origin,
        json!({"name": "test/go", "data": {"n": 7}}),
    )
    .await;
    wait_for("the waiter ends", Duration::from_secs(10), || async {
        status(&client, &origin, &waiter).await["status"] == "Completed"
    })
    .await;
    let output = status(&client, &origin, &waiter).await["output"].clone();
    assert_eq!(output["waited"]["data"]["n"], 7, "{output}");
    wait_for("the flaky run ends", Duration::from_secs(10), || async {
        status(&client, &origin, &flaky).await["status"] == "Completed"
    })
    .await;
    // The limited run that was in flight at the kill is called again (at least once).
    wait_for(
        "the limited run in flight is called again",
        Duration::from_secs(10),
        || async { app.executed(&limited_first, "a") == 2 },
    )
    .await;
    app.open_gate();
    for run in &limited_runs {
        wait_for(
            &format!("the limited run {run} ends"),
            Duration::from_secs(10),
            || async { status(&client, &origin, run).await["status"] == "Completed" },
        )
        .await;
    }

    // No stored step ran again.
    for (run, step, times) in [
        (&sleeper, "a", 1),
        (&sleeper, "b", 1),
        (&waiter, "a", 1),
        (&waiter, "b", 1),
        (&flaky, "a", 1),
        (&flaky, "boom", 2), // the failed attempt, then the retry
        (&flaky, "b", 1),
    ] {
        assert_eq!(app.executed(run, step), times, "{step} of {run}");
    }
    for run in &limited_runs {
        // The first one was in flight at the kill: it is called again (at least once).
        let times = if *run == limited_first { 2 } else { 1 };
        assert_eq!(app.executed(run, "a"), times, "a of {run}");
        assert_eq!(app.executed(run, "b"), 1, "b of {run}");
    }
    // No cron tick started two runs.
    let seen = app.seen.lock().unwrap();
    let mut ticks: Vec<&String> = seen.ticks.values().collect();
    let all = ticks.len();
    ticks.dedup();
    assert_eq!(ticks.len(), all, "one run per tick: {:?}", seen.ticks);
    drop(seen);
    eprintln!("the overdue sleep ended {woke_after:?} after the restart");
}

#[test]
fn a_corrupt_database_is_a_clear_error_at_start_up() {
    let dir = scratch("corrupt");
    std::fs::write(dir.0.join("inngest-engine.db"), vec![b'x'; 4096]).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["dev", "--persist", "-p", "0", "--sqlite-dir"])
        .arg(&dir.0)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("inngest-engine.db cannot be read as the engine's database: file is not a database (move it away to start afresh)"),
        "{err}"
    );
}
