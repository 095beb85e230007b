//! The SDK's side: what it posts to the checkpoint endpoint and how it answers the call.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::support::{hash, CallBody, FakeDevServer, Recorded, Reply, Served};

const RUN: &str = "01JRUN00000000000000000000";

/// An Inngest API that answers checkpoints with `status`.
async fn api(status: u16) -> FakeDevServer {
    FakeDevServer::start_with(Arc::new(move |r: &Recorded, _| {
        if r.uri.starts_with("/v1/checkpoint/") {
            let body = if status == 200 {
                Value::Null
            } else {
                json!({"error": "refused", "data": {"run_id": RUN}, "status": status})
            };
            (status, body)
        } else {
            (200, json!({"ok": true}))
        }
    }))
    .await
}

fn checkpoints(api: &FakeDevServer) -> Vec<Recorded> {
    api.recorded()
        .into_iter()
        .filter(|r| r.uri.starts_with("/v1/checkpoint/"))
        .collect()
}

fn event(name: &str) -> CallBody {
    CallBody::new(name, json!({})).fn_id("fn-uuid", "qi-1")
}

async fn call(app: &Served, function: &str, body: CallBody) -> Reply {
    app.call(&format!("ck-{function}"), "step", &body.build())
        .await
}

/// The `op` and `id` of each op of a 206.
fn ops(reply: &Reply) -> Vec<(String, String)> {
    assert_eq!(reply.status, 206, "{reply:?}");
    reply
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|op| {
            (
                op["op"].as_str().unwrap().to_owned(),
                op["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn hashed(id: &str, index: usize) -> String {
    if index == 0 {
        hash(id)
    } else {
        hash(&format!("{id}:{index}"))
    }
}

#[tokio::test]
async fn ten_steps_run_in_one_call_each_saved_as_it_runs() {
    let api = api(200).await;
    let app = Served::start(inngest::App::new("ck").dev(api.origin.clone())).await;
    let reply = call(&app, "ten-steps", event("ck/ten")).await;
    assert_eq!(
        ops(&reply),
        vec![("RunComplete".to_owned(), hash("complete"))]
    );
    assert_eq!(reply.json()[0]["data"], json!(45));
    let posted = checkpoints(&api);
    assert_eq!(posted.len(), 10, "{posted:?}");
    for (i, c) in posted.iter().enumerate() {
        assert_eq!(c.method, "POST");
        assert_eq!(c.uri, format!("/v1/checkpoint/{RUN}/async"));
        assert_eq!(c.body["run_id"], RUN);
        assert_eq!(c.body["fn_id"], "fn-uuid");
        assert_eq!(c.body["qi_id"], "qi-1");
        assert!(c.body["ts"].as_i64().unwrap() > 0);
        assert!(c.body["request_started_at"].as_i64().unwrap() > 0);
        let steps = c.body["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0]["op"], "StepRun");
        assert_eq!(steps[0]["id"], hashed("add", i));
        assert_eq!(steps[0]["data"], json!(i));
    }
}

#[tokio::test]
async fn checkpointing_off_in_the_attribute_answers_one_step_per_call() {
    let api = api(200).await;
    let app = Served::start(inngest::App::new("ck").dev(api.origin.clone())).await;
    let reply = call(&app, "ten-steps-classic", event("ck/ten")).await;
    assert_eq!(ops(&reply), vec![("StepRun".to_owned(), hash("add"))]);
    assert!(checkpoints(&api).is_empty());
}

#[tokio::test]
async fn checkpointing_off_for_the_app() {
    let api = api(200).await;
    let app = Served::start(
        inngest::App::new("ck")
            .dev(api.origin.clone())
            .checkpointing(inngest::Checkpointing::OFF),
    )
    .await;
    let reply = call(&app, "ten-steps", event("ck/ten")).await;
    assert_eq!(ops(&reply), vec![("StepRun".to_owned(), hash("add"))]);
    assert!(checkpoints(&api).is_empty());
}

#[tokio::test]
async fn without_a_function_id_or_with_immediate_execution_disabled_nothing_is_checkpointed() {
    let api = api(200).await;
    let app = Served::start(inngest::App::new("ck").dev(api.origin.clone())).await;
    let no_fn_id = CallBody::new("ck/ten", json!({}));
    let reply = call(&app, "ten-steps", no_fn_id).await;
    assert_eq!(ops(&reply), vec![("StepRun".to_owned(), hash("add"))]);
    let reply = call(&app, "ten-steps", event("ck/ten").no_immediate()).await;
    assert_eq!(ops(&reply), vec![("StepPlanned".to_owned(), hash("add"))]);
    // A targeted call runs its step the classic way.
    let reply = app
        .call("ck-ten-steps", &hash("add"), &event("ck/ten").build())
        .await;
    assert_eq!(ops(&reply), vec![("StepRun".to_owned(), hash("add"))]);
    assert!(checkpoints(&api).is_empty());
}

#[tokio::test]
async fn buffered_steps_are_saved_three_at_a_time_and_the_rest_ends_the_run() {
    let api = api(200).await;
    let app = Served::start(inngest::App::new("ck").dev(api.origin.clone())).await;
    let reply = call(&app, "buffered", event("ck/buffered")).await;
    let mut expected = vec![("StepRun".to_owned(), hashed("add", 9))];
    expected.push(("RunComplete".to_owned(), hash("complete")));
    assert_eq!(ops(&reply), expected);
    let sizes: Vec<usize> = checkpoints(&api)
        .iter()
        .map(|c| c.body["steps"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![3, 3, 3]);
}

#[tokio::test]
async fn a_retry_answers_its_step_the_classic_way() {
    let api = api(200).await;
    let app = Served::start(inngest::App::new("ck").dev(api.origin.clone())).await;
    let reply = call(&app, "ten-steps", event("ck/ten").attempt(1, 4)).await;
    assert_eq!(ops(&reply), vec![("StepRun".to_owned(), hash("add"))]);
    assert!(checkpoints(&api).is_empty());
}

#[tokio::test]
async fn a_sleep_is_returned_after_the_steps_before_it_are_saved() {
    let api = api(200).await;
    let app = Served::start(inngest::App::new("ck").dev(api.origin.clone())).await;
    let reply = call(&app, "step-sleep", event("ck/sleep")).await;
    assert_eq!(ops(&reply), vec![("Sleep".to_owned(), hash("nap"))]);
    let posted = checkpoints(&api);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].body["steps"][0]["id"], hash("a"));
}

#[tokio::test]
async fn parallel_steps_are_returned_after_the_steps_before_them_are_saved() {
    let api = api(200).await;
    let app = Served::start(inngest::App::new("ck").dev(api.origin.clone())).await;
    let reply = call(&app, "then-parallel", event("ck/parallel")).await;
    assert_eq!(
        ops(&reply),
        vec![
            ("StepPlanned".to_owned(), hash("left")),
            ("StepPlanned".to_owned(), hash("right"))
        ]
    );
    assert_eq!(checkpoints(&api).len(), 1);
}

#[tokio::test]
async fn a_failed_step_is_answered_after_the_steps_before_it_are_saved() {
    let api = api(200).await;
    let app = Served::start(inngest::App::new("ck").dev(api.origin.clone())).await;
    let reply = call(&app, "then-fails", event("ck/then-fails").attempt(0, 3)).await;
    assert_eq!(ops(&reply), vec![("StepError".to_owned(), hash("flaky"))]);
    assert_eq!(reply.header("x-inngest-no-retry"), Some("false"));
    let posted = checkpoints(&api);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].body["steps"][0]["id"], hash("ok"));
}

#[tokio::test]
async fn a_function_error_is_answered_after_the_steps_before_it_are_saved() {
    let api = api(200).await;
    let app = Served::start(inngest::App::new("ck").dev(api.origin.clone())).await;
    let reply = call(&app, "step-then-error", event("ck/error")).await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.header("x-inngest-no-retry"), Some("true"));
    assert_eq!(reply.json()["message"], "gave up");
    assert_eq!(checkpoints(&api).len(), 1);
}

#[tokio::test]
async fn past_max_runtime_the_next_step_goes_back_to_inngest() {
    let api = api(200).await;
    let app = Served::start(inngest::App::new("ck").dev(api.origin.clone())).await;
    let reply = call(&app, "short-runtime", event("ck/short")).await;
    assert_eq!(ops(&reply), vec![("StepPlanned".to_owned(), hash("next"))]);
    let posted = checkpoints(&api);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].body["steps"][0]["id"], hash("slow"));
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_five_times_then_the_step_goes_back_to_inngest() {
    let api = api(500).await;
    let app = Served::start(inngest::App::new("ck").dev(api.origin.clone())).await;
    let reply = call(&app, "ten-steps", event("ck/ten")).await;
    assert_eq!(ops(&reply), vec![("StepRun".to_owned(), hash("add"))]);
    assert_eq!(reply.json()[0]["data"], json!(0));
    let posted = checkpoints(&api);
    assert_eq!(posted.len(), 5, "five attempts: {posted:?}");
    assert!(posted.iter().all(|c| c.body == posted[0].body));
}

#[tokio::test]
async fn an_unreachable_endpoint_returns_the_step_to_inngest() {
    let app = Served::start(inngest::App::new("ck").dev("http://127.0.0.1:9")).await;
    let reply = call(&app, "ten-steps", event("ck/ten")).await;
    assert_eq!(ops(&reply), vec![("StepRun".to_owned(), hash("add"))]);
}

#[tokio::test]
async fn a_stale_call_409_ends_the_call_with_an_error_not_retried() {
    let api = api(409).await;
    let app = Served::start(inngest::App::new("ck").dev(api.origin.clone())).await;
    let reply = call(&app, "ten-steps", event("ck/ten")).await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.header("x-inngest-no-retry"), Some("true"));
    assert_eq!(reply.json()["name"], "StaleDispatchError");
    assert_eq!(checkpoints(&api).len(), 1, "409 is not retried");
}

#[tokio::test]
async fn checkpoints_are_signed_with_the_hashed_key_and_the_fallback_after_401() {
    let api = FakeDevServer::start_with(Arc::new(|r: &Recorded, _| {
        let auth = r
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        let fallback = format!(
            "Bearer {}",
            inngest_protocol::signature::hashed_signing_key("signkey-test-22222222")
        );
        if auth.as_deref() == Some(fallback.as_str()) {
            (200, Value::Null)
        } else {
            (401, json!({"error": "Unauthorized"}))
        }
    }))
    .await;
    let app = Served::start(
        inngest::App::new("ck")
            .base_url(api.origin.clone())
            .signing_key("signkey-test-11111111")
            .signing_key_fallback("signkey-test-22222222"),
    )
    .await;
    let body = serde_json::to_vec(&event("ck/ten").build()).unwrap();
    let signature = crate::support::sign("signkey-test-11111111", &body, crate::support::now());
    let res = app
        .client
        .post(format!("{}?fnId=ck-ten-steps&stepId=step", app.url()))
        .header("x-inngest-signature", signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let reply = Reply::read(res).await;
    assert_eq!(
        ops(&reply),
        vec![("RunComplete".to_owned(), hash("complete"))]
    );
    let posted = checkpoints(&api);
    assert_eq!(
        posted.len(),
        20,
        "each checkpoint: the key, then the fallback"
    );
    let first = posted[0].headers["authorization"].to_str().unwrap();
    assert_eq!(
        first,
        format!(
            "Bearer {}",
            inngest_protocol::signature::hashed_signing_key("signkey-test-11111111")
        )
    );
}

#[tokio::test]
async fn max_interval_saves_the_buffer_on_time() {
    let api = api(200).await;
    let app = Served::start(inngest::App::new("ck").dev(api.origin.clone())).await;
    let reply = call(&app, "interval", event("ck/interval")).await;
    let ops = ops(&reply);
    assert_eq!(ops.last().unwrap().0, "RunComplete");
    let saved: Vec<usize> = checkpoints(&api)
        .iter()
        .map(|c| c.body["steps"].as_array().unwrap().len())
        .collect();
    // 250 ms of steps, saved every 40 ms rather than all at the end (100 steps would be
    // needed to fill the buffer); every step saved once, in a checkpoint or with the end.
    assert!(saved.len() >= 2, "{saved:?}");
    assert!(saved.iter().all(|n| *n >= 1), "{saved:?}");
    assert_eq!(
        saved.iter().sum::<usize>() + ops.len() - 1,
        10,
        "{saved:?} {ops:?}"
    );
}
