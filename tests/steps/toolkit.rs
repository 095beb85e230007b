//! The steps Inngest does itself or through its API (protocol-2.md sections 3-5):
//! `wait_for_signal` and `send_signal`, `fetch`, `ai().infer` and `ai().wrap`,
//! `realtime_publish`, and a step's display name.

use std::time::Duration;

use inngest::step::ai::{anthropic, openai, Model};
use inngest::step::{FetchRequest, OnConflict};
use inngest::{Context, Error, StepError};
use serde_json::{json, Value};

use crate::support::{hash, CallBody, FakeDevServer, Served};
use crate::{ops, served, APP};

#[inngest::function(id = "signal-waiter", event = "test/signal-wait")]
async fn signal_waiter(ctx: Context) -> Result<String, Error> {
    let signal = ctx.event.data["signal"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let conflict = match ctx.event.data["replace"].as_bool() {
        Some(true) => OnConflict::Replace,
        _ => OnConflict::Fail,
    };
    let got = ctx
        .step
        .wait_for_signal::<Value>("approval", &signal, Duration::from_secs(3600), conflict)
        .await?;
    Ok(match got {
        Some(s) => format!("{} by {}", s.signal, s.data["by"]),
        None => "timed out".to_owned(),
    })
}

#[tokio::test]
async fn wait_for_signal_reports_its_signal_and_resumes_with_its_data_or_null() {
    let s = served().await;
    let body = CallBody::new("test/signal-wait", json!({"signal": "order-1-approved"}));
    let r = s
        .call("steps-app-signal-waiter", "step", &body.build())
        .await;
    assert_eq!(
        ops(&r),
        vec![json!({
            "id": hash("approval"), "op": "WaitForSignal", "name": "order-1-approved",
            "displayName": "approval", "userland": {"id": "approval"},
            "opts": {"signal": "order-1-approved", "timeout": "1h", "conflict": "fail"},
        })]
    );
    let replace = CallBody::new("test/signal-wait", json!({"signal": "s", "replace": true}));
    let r = s
        .call("steps-app-signal-waiter", "step", &replace.build())
        .await;
    assert_eq!(ops(&r)[0]["opts"]["conflict"], "replace");
    let got = body.clone().memo(
        "approval",
        json!({"data": {"signal": "order-1-approved", "data": {"by": "ann"}}}),
    );
    let r = s
        .call("steps-app-signal-waiter", "step", &got.build())
        .await;
    assert_eq!(r.json(), json!("order-1-approved by \"ann\""));
    let timed_out = body.memo("approval", Value::Null);
    let r = s
        .call("steps-app-signal-waiter", "step", &timed_out.build())
        .await;
    assert_eq!(r.json(), json!("timed out"));
}

#[tokio::test]
async fn a_wait_for_a_signal_without_a_name_fails_without_retries() {
    let s = served().await;
    let body = CallBody::new("test/signal-wait", json!({"signal": " "}));
    let r = s
        .call("steps-app-signal-waiter", "step", &body.build())
        .await;
    r.assert_error(400, "true");
    assert_eq!(r.json()["name"], "NonRetriableError");
    assert_eq!(
        r.json()["message"],
        "step `approval`: wait for which signal? The name is empty"
    );
}

#[inngest::function(id = "signal-sender", event = "test/signal-send")]
async fn signal_sender(ctx: Context) -> Result<Option<String>, Error> {
    ctx.step
        .send_signal("approve", "order-1-approved", json!({"by": "ann"}))
        .await
}

#[tokio::test]
async fn send_signal_is_a_run_step_that_posts_to_the_signals_api() {
    let dev = FakeDevServer::start_with(std::sync::Arc::new(|req, _| {
        match req.body["signal"].as_str() {
            Some("order-1-approved") => (200, json!({"data": {"run_id": "01RUN"}})),
            _ => (
                404,
                json!({"error": "No signal found", "data": null, "status": 404}),
            ),
        }
    }))
    .await;
    let s = Served::start(inngest::App::new(APP).dev(dev.origin.clone())).await;
    let body = CallBody::new("test/signal-send", json!({}));
    let r = s
        .call("steps-app-signal-sender", "step", &body.build())
        .await;
    assert_eq!(
        ops(&r),
        vec![json!({
            "id": hash("approve"), "op": "StepRun", "name": "sendSignal",
            "displayName": "approve", "data": {"runId": "01RUN"},
            "opts": {"type": "step.sendSignal", "signal": "order-1-approved"},
            "userland": {"id": "approve"},
        })]
    );
    let sent = dev.recorded();
    assert_eq!(
        (sent[0].method.as_str(), sent[0].uri.as_str()),
        ("POST", "/v1/signals")
    );
    assert_eq!(
        sent[0].body,
        json!({"signal": "order-1-approved", "data": {"by": "ann"}})
    );
    let r = s
        .call(
            "steps-app-signal-sender",
            "step",
            &body.memo("approve", json!({"data": {}})).build(),
        )
        .await;
    assert_eq!(r.json(), Value::Null, "no run waited");
    // The client outside a function: 404 is `None`, other errors are errors.
    let client = inngest::Client::dev(dev.origin.clone());
    assert_eq!(client.send_signal("nobody", json!(1)).await.unwrap(), None);
    assert_eq!(
        client
            .send_signal("", json!(1))
            .await
            .unwrap_err()
            .to_string(),
        "a signal needs a name"
    );
    let down = inngest::Client::dev("http://127.0.0.1:9");
    let error = down.send_signal("s", json!(1)).await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("calling http://127.0.0.1:9/v1/signals failed"),
        "{error}"
    );
}

#[inngest::function(id = "fetcher", event = "test/fetch")]
async fn fetcher(ctx: Context) -> Result<Value, Error> {
    let url = ctx.event.data["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let request = FetchRequest::post(url)
        .header("x-api-key", "k")
        .json(&json!({"q": 1}))?;
    let res = match ctx.step.fetch("call-api", request).await {
        Ok(res) => res,
        Err(e) => match e.downcast_ref::<StepError>() {
            Some(failed) => return Ok(json!({"failed": failed.name, "message": failed.message})),
            None => return Err(e),
        },
    };
    Ok(json!({
        "status": res.status, "ok": res.is_success(),
        "type": res.header("content-type"), "body": res.json::<Value>().ok(),
    }))
}

#[tokio::test]
async fn fetch_reports_a_gateway_op_and_resumes_with_any_status() {
    let s = served().await;
    let body = CallBody::new("test/fetch", json!({"url": "https://api.example.com/q"}));
    let r = s.call("steps-app-fetcher", "step", &body.build()).await;
    assert_eq!(
        ops(&r),
        vec![json!({
            "id": hash("call-api"), "op": "Gateway", "name": "call-api",
            "displayName": "call-api", "userland": {"id": "call-api"},
            "opts": {"url": "https://api.example.com/q", "method": "POST",
                "headers": {"content-type": "application/json", "x-api-key": "k"},
                "body": "{\"q\":1}"},
        })]
    );
    let got = body.clone().memo(
        "call-api",
        json!({"data": {"url": "https://api.example.com/q", "status_code": 404,
            "headers": {"Content-Type": "application/json"}, "body": "{\"error\":\"nope\"}"}}),
    );
    let r = s.call("steps-app-fetcher", "step", &got.build()).await;
    assert_eq!(
        r.json(),
        json!({"status": 404, "ok": false, "type": "application/json", "body": {"error": "nope"}})
    );
    let failed = body.memo(
        "call-api",
        json!({"error": {"name": "GatewayError",
            "message": "Error making gateway request: connection refused"}}),
    );
    let r = s.call("steps-app-fetcher", "step", &failed.build()).await;
    assert_eq!(
        r.json(),
        json!({"failed": "GatewayError",
            "message": "Error making gateway request: connection refused"})
    );
}

#[tokio::test]
async fn fetch_refuses_what_inngest_cannot_send() {
    let s = served().await;
    for (url, message) in [
        (
            "not a url",
            "step `call-api`: cannot fetch `not a url`: relative URL without a base",
        ),
        (
            "ftp://x/y",
            "step `call-api`: cannot fetch `ftp://x/y`: only http and https URLs can be fetched",
        ),
    ] {
        let body = CallBody::new("test/fetch", json!({ "url": url }));
        let r = s.call("steps-app-fetcher", "step", &body.build()).await;
        r.assert_error(400, "true");
        assert_eq!(r.json()["message"], message);
    }
}

#[inngest::function(id = "thinker", event = "test/ai")]
async fn thinker(ctx: Context) -> Result<String, Error> {
    let model = Model::openai("gpt-4o")
        .base_url("http://127.0.0.1:9/v1")
        .api_key("sk-test")
        .default_parameter("temperature", 0.2);
    let answer: openai::ChatResponse = ctx
        .step
        .ai()
        .infer(
            "ask",
            &model,
            openai::ChatRequest::new(vec![openai::Message::user("hi")]),
        )
        .await?;
    let claude = Model::anthropic("claude").api_key("ak");
    let second: anthropic::MessagesResponse = ctx
        .step
        .ai()
        .infer(
            "ask-claude",
            &claude,
            anthropic::MessagesRequest::new(64, vec![anthropic::Message::user("hi")]),
        )
        .await?;
    let wrapped: String = ctx
        .step
        .ai()
        .wrap("own-call", || async { Ok("wrapped".to_owned()) })
        .await?;
    Ok(format!("{} {} {wrapped}", answer.text(), second.text()))
}

#[tokio::test]
async fn infer_reports_an_ai_gateway_op_and_resumes_with_the_providers_answer() {
    let s = served().await;
    let body = CallBody::new("test/ai", json!({}));
    let r = s.call("steps-app-thinker", "step", &body.build()).await;
    assert_eq!(
        ops(&r),
        vec![json!({
            "id": hash("ask"), "op": "AIGateway", "name": "ask", "displayName": "ask",
            "userland": {"id": "ask"},
            "opts": {"type": "step.ai.infer", "url": "http://127.0.0.1:9/v1/chat/completions",
                "auth_key": "sk-test", "format": "openai-chat",
                "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
                    "temperature": 0.2}},
        })]
    );
    let body = body.memo(
        "ask",
        json!({"data": {"choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}}]}}),
    );
    let r = s.call("steps-app-thinker", "step", &body.build()).await;
    let claude = &ops(&r)[0];
    assert_eq!(claude["opts"]["format"], "anthropic");
    assert_eq!(
        claude["opts"]["url"],
        "https://api.anthropic.com/v1/messages"
    );
    assert_eq!(
        claude["opts"]["headers"],
        json!({"anthropic-version": "2023-06-01"})
    );
    assert_eq!(claude["opts"]["body"]["max_tokens"], 64);
    let body = body.memo(
        "ask-claude",
        json!({"data": {"content": [{"type": "text", "text": "there"}]}}),
    );
    let r = s.call("steps-app-thinker", "step", &body.build()).await;
    assert_eq!(
        ops(&r),
        vec![json!({
            "id": hash("own-call"), "op": "StepRun", "name": "own-call",
            "displayName": "own-call", "data": "wrapped", "opts": {"type": "step.ai.wrap"},
            "userland": {"id": "own-call"},
        })]
    );
    let r = s
        .call(
            "steps-app-thinker",
            "step",
            &body.memo("own-call", json!({"data": "wrapped"})).build(),
        )
        .await;
    assert_eq!(r.json(), json!("hello there wrapped"));
}

#[tokio::test]
async fn an_inference_that_failed_for_good_is_a_step_error() {
    let s = served().await;
    let body = CallBody::new("test/ai", json!({})).memo(
        "ask",
        json!({"error": {"name": "AIGatewayError",
            "message": "Error making AI request: unsuccessful status code: 429",
            "stack": "{\"error\":\"rate limited\"}"}}),
    );
    let r = s.call("steps-app-thinker", "step", &body.build()).await;
    r.assert_error(400, "true");
    assert_eq!(
        (&r.json()["name"], &r.json()["cause"]["name"]),
        (&json!("StepError"), &json!("AIGatewayError"))
    );
    assert_eq!(
        r.json()["message"],
        "Error making AI request: unsuccessful status code: 429"
    );
}

#[inngest::function(id = "publisher", event = "test/publish")]
async fn publisher(ctx: Context) -> Result<Value, Error> {
    ctx.step
        .named("Tell the browser")
        .realtime_publish("progress", "order-1", "status", json!({"done": 50}))
        .await
}

#[tokio::test]
async fn realtime_publish_is_a_run_step_that_posts_to_the_publish_api() {
    let dev = FakeDevServer::start(200, Value::Null).await;
    let s = Served::start(inngest::App::new(APP).dev(dev.origin.clone())).await;
    let body = CallBody::new("test/publish", json!({}));
    let r = s.call("steps-app-publisher", "step", &body.build()).await;
    assert_eq!(
        ops(&r),
        vec![json!({
            "id": hash("progress"), "op": "StepRun", "name": "progress",
            "displayName": "Tell the browser", "data": {"done": 50},
            "opts": {"type": "step.realtime.publish"}, "userland": {"id": "progress"},
        })]
    );
    let sent = dev.recorded();
    assert_eq!(
        sent[0].uri,
        "/v1/realtime/publish?channel=order-1&topic=status&run_id=01JRUN00000000000000000000"
    );
    assert_eq!(sent[0].body, json!({"done": 50}));
    let down = FakeDevServer::start(500, json!({"error": "boom"})).await;
    let error = inngest::Client::dev(down.origin.clone())
        .publish("c", "t", 1)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("Failed to publish to realtime: 500"),
        "{error}"
    );
}

#[inngest::function(id = "named", event = "test/named")]
async fn named(ctx: Context) -> Result<(), Error> {
    let _: u8 = ctx
        .step
        .named("Load the user")
        .run("load-user", || async { Ok(1) })
        .await?;
    ctx.step.named("Take a nap").sleep("nap", "1m").await
}

#[tokio::test]
async fn a_display_name_is_shown_and_the_id_still_memoizes() {
    let s = served().await;
    let body = CallBody::new("test/named", json!({}));
    let r = s.call("steps-app-named", "step", &body.build()).await;
    let op = &ops(&r)[0];
    assert_eq!(
        (&op["id"], &op["name"], &op["displayName"]),
        (
            &json!(hash("load-user")),
            &json!("load-user"),
            &json!("Load the user")
        )
    );
    let r = s
        .call(
            "steps-app-named",
            "step",
            &body.memo("load-user", json!({"data": 1})).build(),
        )
        .await;
    let op = &ops(&r)[0];
    assert_eq!(
        (&op["op"], &op["displayName"]),
        (&json!("Sleep"), &json!("Take a nap"))
    );
}
