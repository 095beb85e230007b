//! Modes, and where `inngest::send` delivers in embedded mode: into the engine of the app this
//! process serves, whether it is called before `serve()` starts, while it serves, or after one
//! app stopped and another started (nothing is cached for the life of the process).
//!
//! The mode rules (`INNGEST_DEV`, a signing key, debug or release build, the `engine` feature)
//! are unit-tested in `inngest/src/config.rs` and shown through `App` in `tests/engine.rs`.
//! This binary starts engines one at a time: `inngest::send` follows the app that last started
//! one, so it holds no other test that starts an engine.

use std::future::IntoFuture;
use std::time::Duration;

use inngest::{Context, Error, Event};
use serde_json::{json, Value};
use tokio::sync::oneshot;

#[inngest::function(id = "ping", event = "modes/ping")]
async fn ping(ctx: Context) -> Result<String, Error> {
    Ok(format!("pong {}", ctx.event.data["n"]))
}

/// Serves an app in embedded mode on a free port; returns its origin and a stop switch.
async fn start() -> (
    String,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), Error>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        inngest::App::new("modes")
            .embedded()
            .serve()
            .listener(listener)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    (origin, stop, server)
}

/// The output of the run the event `id` started on the app at `origin`, once it completed.
async fn output(origin: &str, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let runs: Value = reqwest::get(format!("{origin}/v1/events/{id}/runs"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(run) = runs["data"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["status"] == "Completed"))
        {
            return run["output"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run of {id} did not complete: {runs}"
        );
        tokio::task::yield_now().await;
    }
}

fn ping_event(n: u32) -> Event {
    Event::new("modes/ping", json!({ "n": n }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_reaches_the_engine_of_the_app_before_during_and_after_serve() {
    // Before: the send starts while no app serves; it waits for the engine.
    let before = tokio::spawn(async { inngest::send(&ping_event(1)).await });
    tokio::task::yield_now().await;
    assert!(!before.is_finished(), "the send waits for an engine");
    let (origin, stop, server) = start().await;
    let id = before.await.unwrap().unwrap();
    assert_eq!(output(&origin, &id).await, json!("pong 1"));

    // During: the app serves.
    let id = inngest::send(&ping_event(2)).await.unwrap();
    assert_eq!(output(&origin, &id).await, json!("pong 2"));

    // After: that app stops and another starts; sends go to the new one.
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    let (origin, stop, server) = start().await;
    let id = inngest::send(&ping_event(3)).await.unwrap();
    assert_eq!(output(&origin, &id).await, json!("pong 3"));
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
