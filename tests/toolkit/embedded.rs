//! The embedded engine: realtime streams, and signals sent by a step into the app's engine.

use std::time::Duration;

use inngest::engine::Happening;
use serde_json::{json, Value};

use crate::support;
use crate::support::Served;

#[inngest::function(id = "progress", event = "test/progress")]
async fn progress(ctx: inngest::Context) -> Result<String, inngest::Error> {
    let channel = format!("order-{}", ctx.event.data["order"]);
    for done in [50, 100] {
        ctx.step
            .realtime_publish(
                &format!("at-{done}"),
                &channel,
                "status",
                json!({"done": done}),
            )
            .await?;
    }
    Ok("published".to_owned())
}

/// Reads server-sent events from `res` until `count` `data:` lines have come.
async fn read_events(res: &mut reqwest::Response, count: usize) -> Vec<Value> {
    let mut text = String::new();
    let mut events = Vec::new();
    while events.len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(10), res.chunk())
            .await
            .expect("a message within 10 s")
            .unwrap()
            .expect("the stream stays open");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = text.find("\n\n") {
            let frame: String = text.drain(..end + 2).collect();
            if let Some(data) = frame.strip_prefix("data: ") {
                events.push(serde_json::from_str(data.trim()).unwrap());
            }
        }
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_watches_a_runs_realtime_messages_arrive() {
    let app = Served::start(
        inngest::App::new("realtime-app")
            .register::<progress>()
            .embedded(),
    )
    .await;
    let origin = format!("http://{}", app.addr);
    let client = reqwest::Client::new();
    // A subscription by token, as a browser gets one, and one by channel.
    let token: Value = client
        .post(format!("{origin}/v1/realtime/token"))
        .json(&json!([{"channel": "order-7", "name": "status", "kind": "run"}]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["jwt"].as_str().unwrap().to_owned();
    let mut by_token = client
        .get(format!("{origin}/v1/realtime/sse?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_token.status(), 200);
    assert_eq!(by_token.headers()["content-type"], "text/event-stream");
    let mut by_channel = client
        .get(format!("{origin}/v1/realtime/sse?channel=order-7"))
        .send()
        .await
        .unwrap();
    // Another channel's message is not seen.
    let res = client
        .post(format!(
            "{origin}/v1/realtime/publish?channel=order-8&topic=status"
        ))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client
        .post(format!("{origin}/e/key"))
        .json(&json!({"name": "test/progress", "data": {"order": 7}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let events = read_events(&mut by_token, 2).await;
    let run_id = events[0]["run_id"].as_str().unwrap().to_owned();
    for (event, done) in events.iter().zip([50, 100]) {
        assert_eq!(
            (
                &event["kind"],
                &event["channel"],
                &event["topic"],
                &event["data"]
            ),
            (
                &json!("data"),
                &json!("order-7"),
                &json!("status"),
                &json!({"done": done})
            )
        );
        assert_eq!(event["run_id"], json!(run_id));
        assert!(event["created_at"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(read_events(&mut by_channel, 2).await, events);
    let bad = client
        .get(format!("{origin}/v1/realtime/sse?token=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let none = client
        .get(format!("{origin}/v1/realtime/sse"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 400);
    // The streams end when the server shuts down.
    app.stop().await.unwrap();
    let rest = tokio::time::timeout(Duration::from_secs(10), by_token.chunk())
        .await
        .expect("the stream ends with the server");
    assert!(matches!(rest, Ok(None) | Err(_)), "{rest:?}");
}

#[inngest::function(id = "approver", event = "test/approve")]
async fn approver(ctx: inngest::Context) -> Result<Option<String>, inngest::Error> {
    let signal = ctx.event.data["signal"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    ctx.step
        .send_signal("approve", &signal, json!({"value": "yes"}))
        .await
}

#[tokio::test]
async fn a_step_sends_a_signal_into_the_apps_engine_in_embedded_mode() {
    let app = inngest::App::new("embedded-signals")
        .register::<support::functions::peer_signal>()
        .register::<approver>()
        .embedded()
        .into_service()
        .unwrap();
    let engine = app.engine().unwrap();
    let mut happenings = engine.subscribe();
    engine
        .send(vec![json!({"name": "test/peer-signal", "data": {}})])
        .unwrap();
    let waiting = loop {
        if let Happening::RunStarted { run_id, .. } = happenings.recv().await.unwrap() {
            break run_id;
        }
    };
    let signal = format!("peer-signal-{waiting}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    // An approver that runs before the wait begins finds nobody waiting (`None`): send again.
    let (mut resumed, mut waited) = (None, None);
    while resumed.is_none() {
        engine
            .send(vec![
                json!({"name": "test/approve", "data": {"signal": signal}}),
            ])
            .unwrap();
        loop {
            let happening = tokio::time::timeout_at(deadline, happenings.recv())
                .await
                .expect("the signal resumes the run within 10 s")
                .unwrap();
            let Happening::RunEnded { run_id, output, .. } = happening else {
                continue;
            };
            if run_id == waiting {
                waited = Some(output);
            } else {
                resumed = output.as_str().map(str::to_owned);
                break;
            }
        }
    }
    assert_eq!(resumed.as_deref(), Some(waiting.as_str()));
    while waited.is_none() {
        let happening = tokio::time::timeout_at(deadline, happenings.recv())
            .await
            .expect("the resumed run ends")
            .unwrap();
        if let Happening::RunEnded { run_id, output, .. } = happening {
            if run_id == waiting {
                waited = Some(output);
            }
        }
    }
    assert_eq!(waited, Some(json!("got yes")));
}
