//! Runs `examples/quickstart.rs` as a user would (`cargo run --example quickstart`, built by
//! `cargo test`), reads its timeline, and checks that it tells the failure-handling story:
//! a step, a failed attempt and its retry, a NonRetriableError, the failure event and the
//! failure handler's result. Then it checks the app keeps serving events.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples").join("quickstart")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_tells_the_failure_handling_story() {
    let bin = example_binary();
    assert!(
        bin.exists(),
        "cargo test builds the examples; missing {}",
        bin.display()
    );
    let mut child = Command::new(&bin)
        .env("PORT", "0")
        .env_remove("INNGEST_DEV")
        .env_remove("INNGEST_SIGNING_KEY")
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send(line);
            }
        });
    }
    let expected = [
        "started  quickstart-send-welcome (by user/signup)",
        "step     load-user: StepRun (attempt 1)",
        "Completed  quickstart-send-welcome: \"welcomed user-1\"",
        "step     push-to-crm: StepError (attempt 1)",
        "retry    attempt 1 failed (the mail server timed out); retrying in 1s",
        "step     push-to-crm: StepRun (attempt 2)",
        "FAILED   quickstart-send-welcome: NonRetriableError: banned users get no welcome",
        "event    inngest/function.failed",
        "started  quickstart-send-welcome-failure (by inngest/function.failed)",
        "Completed  quickstart-send-welcome-failure: \"support alerted: quickstart-send-welcome failed: banned users get no welcome\"",
    ];
    let mut seen: Vec<String> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !expected.iter().all(|e| seen.iter().any(|l| l.contains(e))) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(line)) => seen.push(line),
            _ => panic!(
                "the timeline is incomplete after 60 s:\n{}",
                seen.join("\n")
            ),
        }
    }
    let crm_done = seen
        .iter()
        .any(|l| l.contains("Completed  quickstart-sync-crm: \"crm updated for"));
    assert!(
        crm_done || {
            // The second sync-crm run may end a moment later.
            loop {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(line)) if line.contains("Completed  quickstart-sync-crm") => {
                        break true
                    }
                    Ok(Some(line)) => seen.push(line),
                    _ => break false,
                }
            }
        }
    );
    // It keeps serving: the address is in its start-up line.
    let serving = seen
        .iter()
        .find(|l| l.contains("serving 3 function(s) at http://"))
        .expect("a start-up line");
    let url = serving
        .split("at ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let origin = url.trim_end_matches("/api/inngest");
    let res = reqwest::Client::new()
        .post(format!("{origin}/e/any"))
        .body(r#"{"name":"user/signup","data":{"user_id":"9","plan":"pro"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(line)) if line.contains("\"welcomed user-9\"") => break,
            Ok(Some(_)) => {}
            _ => panic!("the event sent to the running quickstart was not run"),
        }
    }
    child.kill().await.unwrap();
}
