//! `step.run`: the shapes and types of its memo, the run's data fetched with `use_api`, and a
//! retry-after error.

use std::time::Duration;

use inngest::{Context, Error};
use serde_json::{json, Value};

use crate::support::{self, hash, CallBody, FakeDevServer, Served};
use crate::{ops, served, APP};

#[inngest::function(id = "rate-limited-step", event = "test/rate-limited")]
async fn rate_limited_step(ctx: Context) -> Result<(), Error> {
    ctx.step
        .run("call-api", || async {
            Err::<(), _>(inngest::RetryAfterError::new("slow down", Duration::from_secs(42)).into())
        })
        .await
}

#[inngest::function(id = "typed", event = "test/typed")]
async fn typed(ctx: Context) -> Result<u32, Error> {
    ctx.step.run("count", || async { Ok(1_u32) }).await
}

#[tokio::test]
async fn input_memos_and_raw_values() {
    let s = served().await;
    // `{"input": [...]}`: recorded but not finished, so the step runs.
    let r = s
        .call(
            "steps-app-typed",
            "step",
            &CallBody::new("test/typed", json!({}))
                .memo("count", json!({"input": []}))
                .build(),
        )
        .await;
    assert_eq!(ops(&r)[0]["op"], "StepRun");
    // A raw legacy value is the step's output.
    let r = s
        .call(
            "steps-app-typed",
            "step",
            &CallBody::new("test/typed", json!({}))
                .memo("count", json!(7))
                .build(),
        )
        .await;
    assert_eq!(r.json(), json!(7));
}

#[tokio::test]
async fn a_memo_that_no_longer_fits_its_type_names_the_step_and_type() {
    let s = served().await;
    let body = CallBody::new("test/typed", json!({})).memo("count", json!({"data": "seven"}));
    let r = s.call("steps-app-typed", "step", &body.build()).await;
    r.assert_error(400, "true");
    let message = r.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("the memoized result of step `count` does not deserialize into `u32`: invalid type: string \"seven\""),
        "{message}"
    );
}

#[tokio::test]
async fn use_api_fetches_the_runs_events_and_steps() {
    let dev =
        FakeDevServer::start_with(std::sync::Arc::new(|req: &support::Recorded, _| match req
            .uri
            .as_str()
        {
            "/v0/runs/01JRUN00000000000000000000/batch" => (
                200,
                json!([{"id": "01E", "name": "test/steps", "data": {}, "user": {}, "ts": 1}]),
            ),
            "/v0/runs/01JRUN00000000000000000000/actions" => {
                (200, json!({ hash("first"): {"data": "from-api"} }))
            }
            _ => (404, json!({})),
        }))
        .await;
    let s = Served::start(inngest::App::new(APP).dev(dev.origin.clone())).await;
    let mut body = CallBody::new("test/typed", json!({})).build();
    body["use_api"] = json!(true);
    body["ctx"]["use_api"] = json!(true);
    body["events"] = json!([]);
    let r = s.call("steps-app-api-reader", "step", &body).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json(),
        json!({"first": "from-api", "event": "test/steps"})
    );
    let uris: Vec<String> = dev.recorded().iter().map(|r| r.uri.clone()).collect();
    assert_eq!(
        uris,
        vec![
            "/v0/runs/01JRUN00000000000000000000/batch",
            "/v0/runs/01JRUN00000000000000000000/actions"
        ]
    );

    // Data that cannot be fetched: a retriable 500 naming the URL.
    let gone = FakeDevServer::start(410, json!({"error": "state gone"})).await;
    let s = Served::start(inngest::App::new(APP).dev(gone.origin.clone())).await;
    let r = s.call("steps-app-api-reader", "step", &body).await;
    r.assert_error(500, "false");
    assert_eq!(
        r.json()["message"],
        format!("fetching the run's data from {}/v0/runs/01JRUN00000000000000000000/batch failed with 410 Gone", gone.origin)
    );
}

#[inngest::function(id = "api-reader", event = "test/steps")]
async fn api_reader(ctx: Context) -> Result<Value, Error> {
    let first: String = ctx
        .step
        .run("first", || async { Ok("ran".to_owned()) })
        .await?;
    Ok(json!({ "first": first, "event": ctx.event.name }))
}

#[tokio::test]
async fn a_retry_after_error_in_a_step_is_a_step_error_with_retry_after() {
    let s = served().await;
    let body = CallBody::new("test/rate-limited", json!({})).attempt(0, 4);
    let r = s
        .call("steps-app-rate-limited-step", "step", &body.build())
        .await;
    let first = ops(&r);
    assert_eq!(first[0]["op"], "StepError");
    assert_eq!(first[0]["error"]["name"], "RetryAfterError");
    assert_eq!(r.header("retry-after"), Some("42"));
    assert_eq!(r.header("x-inngest-no-retry"), Some("false"));
    // On the last attempt it is final.
    let body = CallBody::new("test/rate-limited", json!({})).attempt(3, 4);
    let r = s
        .call("steps-app-rate-limited-step", "step", &body.build())
        .await;
    assert_eq!(ops(&r)[0]["op"], "StepFailed");
    assert_eq!(r.header("x-inngest-no-retry"), Some("true"));
}
