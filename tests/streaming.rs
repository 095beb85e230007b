//! Streaming keepalive (protocol-2.md section 2): with `App::streaming(true)` a call is
//! answered with `201`, keepalive spaces while the function runs, then the answer as a JSON
//! envelope, which the engine reads as the server does. Behind a proxy that cuts connections
//! idle for 300 ms, a step of 1 s completes with streaming and fails without it.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use inngest::engine::{Engine, EngineConfig, RunStatus};
use inngest::{Context, Error};
use serde_json::{json, Value};
use support::{CallBody, Reply, Served};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[inngest::function(id = "slow", event = "st/slow", retries = 0)]
async fn slow(ctx: Context) -> Result<String, Error> {
    ctx.step
        .run("wait-a-second", || async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok("done".to_owned())
        })
        .await
}

#[inngest::function(id = "quick", event = "st/quick")]
async fn quick(ctx: Context) -> Result<u32, Error> {
    ctx.step.run("one", || async { Ok(1_u32) }).await
}

/// A TCP proxy to `upstream` that cuts a connection once no byte has crossed it, either
/// way, for `idle`.
async fn idle_cutting_proxy(upstream: std::net::SocketAddr, idle: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let last = Arc::new(Mutex::new(Instant::now()));
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let pipe = |mut from: tokio::net::tcp::OwnedReadHalf,
                            mut to: tokio::net::tcp::OwnedWriteHalf,
                            last: Arc<Mutex<Instant>>| async move {
                    let mut buf = vec![0; 16 * 1024];
                    loop {
                        let n = match from.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        *last.lock().unwrap() = Instant::now();
                        if to.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                let up = tokio::spawn(pipe(cr, sw, last.clone()));
                let down = tokio::spawn(pipe(sr, cw, last.clone()));
                loop {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    if up.is_finished() && down.is_finished() {
                        return;
                    }
                    if last.lock().unwrap().elapsed() >= idle {
                        // Cut: both halves close.
                        up.abort();
                        down.abort();
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_step_survives_an_idle_cutting_proxy_only_with_streaming() {
    let engine = Engine::start(EngineConfig::default()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let engine_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(inngest::engine::serve(
        engine.clone(),
        listener,
        std::future::pending(),
    ));
    let idle = Duration::from_millis(300);
    let mut apps = Vec::new();
    for (id, streaming) in [("st-on", true), ("st-off", false)] {
        // The app's own port, and a proxy in front of it that Inngest calls through.
        let own = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = idle_cutting_proxy(own.local_addr().unwrap(), idle).await;
        let app = inngest::App::new(id)
            .dev(engine_url.clone())
            .serve_origin(proxy)
            .streaming(streaming)
            .streaming_keepalive(Duration::from_millis(100));
        let served = Served::start_with_listener(app, own);
        let res = served
            .client
            .put(served.url())
            .header("x-inngest-server-kind", "dev")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "sync of {id}");
        apps.push(served);
    }
    // Every app of this binary also runs `all-failures` (tests/support/functions.rs) on
    // each failure: wait for the two runs of `slow`.
    let mut happenings = engine.subscribe();
    engine
        .send(vec![json!({"name": "st/slow", "data": {}})])
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut runs = Vec::new();
    while runs.len() < 2 {
        let h = tokio::time::timeout_at(deadline, happenings.recv())
            .await
            .expect("both runs of `slow` end")
            .unwrap();
        if let inngest::engine::Happening::RunEnded {
            run_id,
            function_id,
            ..
        } = h
        {
            if function_id.ends_with("-slow") {
                runs.push(engine.run(&run_id).unwrap());
            }
        }
    }
    let on = runs.iter().find(|r| r.function_id == "st-on-slow").unwrap();
    let off = runs
        .iter()
        .find(|r| r.function_id == "st-off-slow")
        .unwrap();
    assert_eq!(
        (on.status, on.output.clone()),
        (RunStatus::Completed, Some(json!("done"))),
        "{on:?}"
    );
    assert_eq!(off.status, RunStatus::Failed, "{off:?}");
    // The proxy cut the connection before the answer came.
    let message = off.output.as_ref().unwrap()["message"].as_str().unwrap();
    assert!(message.contains("error sending request"), "{message}");
}

#[tokio::test]
async fn a_streamed_call_is_201_spaces_then_the_envelope() {
    let app = Served::start(
        inngest::App::new("st")
            .dev("http://127.0.0.1:9")
            .streaming(true)
            .streaming_keepalive(Duration::from_millis(100)),
    )
    .await;
    let body = CallBody::new("st/slow", json!({})).build();
    let res = app
        .client
        .post(format!("{}?fnId=st-slow&stepId=step", app.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    let reply = Reply::read(res).await;
    assert_eq!(reply.status, 201);
    assert!(reply.header("x-inngest-sdk").is_some());
    assert!(reply.header("x-inngest-req-version").is_none());
    assert!(
        reply.text.starts_with(' '),
        "keepalive first: {:?}",
        reply.text
    );
    let envelope: Value = serde_json::from_str(&reply.text).unwrap();
    assert_eq!(envelope["status"], 206);
    assert_eq!(envelope["headers"]["x-inngest-req-version"], "2");
    let ops: Value = serde_json::from_str(envelope["body"].as_str().unwrap()).unwrap();
    assert_eq!(ops[0]["op"], "StepRun");
    assert_eq!(ops[0]["data"], "done");
}
