//! Protocol tests: `serve()` on a loopback port, real HTTP requests, and the status, headers
//! and JSON of each answer checked field by field against protocol.md.

mod support;

use serde_json::{json, Value};
use support::functions::Signup;
use support::{hash, CallBody, FakeDevServer, Served};

const APP: &str = "test-app";

async fn served() -> Served {
    Served::start(inngest::App::new(APP).dev("http://127.0.0.1:9")).await
}

fn signup(plan: &str) -> CallBody {
    CallBody::new("user/signup", json!({"user_id": "42", "plan": plan}))
}

#[tokio::test]
async fn get_answers_the_unauthenticated_introspection_body() {
    let s = served().await;
    let r = s.raw(reqwest::Method::GET, "", "").await;
    assert_eq!(r.status, 200);
    r.assert_sdk_headers();
    let body = r.json();
    let functions = inngest::App::new(APP)
        .into_service()
        .unwrap()
        .function_ids()
        .len();
    assert_eq!(
        body,
        json!({
            "authentication_succeeded": null,
            "extra": {"sdk_language": "rust", "sdk_version": inngest::VERSION, "embedded": false},
            "function_count": functions,
            "has_event_key": false,
            "has_signing_key": false,
            "has_signing_key_fallback": false,
            "mode": "dev",
            "schema_version": "2024-05-24",
        })
    );
}

#[tokio::test]
async fn a_function_without_steps_answers_200_with_its_output() {
    let s = served().await;
    let r = s
        .call(
            "test-app-hello",
            "step",
            &CallBody::new("test/hello", json!({"name": "Ada"})).build(),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    r.assert_sdk_headers();
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json(), json!({"greeting": "hi Ada"}));
}

#[tokio::test]
async fn the_contract_runs_its_step_immediately_then_completes() {
    let s = served().await;
    let r = s
        .call("test-app-send-welcome", "step", &signup("pro").build())
        .await;
    assert_eq!(r.status, 206, "{r:?}");
    r.assert_sdk_headers();
    assert_eq!(
        r.json(),
        json!([{
            "id": hash("load-user"),
            "op": "StepRun",
            "name": "load-user",
            "displayName": "load-user",
            "data": "user-42",
            "opts": {"type": "step.run"},
            "userland": {"id": "load-user"},
        }])
    );
    let r = s
        .call(
            "test-app-send-welcome",
            "step",
            &signup("pro")
                .memo("load-user", json!({"data": "user-42"}))
                .build(),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json(), json!("welcomed user-42"));
}

#[tokio::test]
async fn non_retriable_error_answers_400_no_retry() {
    let s = served().await;
    let r = s
        .call(
            "test-app-send-welcome",
            "step",
            &signup("banned")
                .memo("load-user", json!({"data": "user-42"}))
                .build(),
        )
        .await;
    r.assert_error(400, "true");
    let body = r.json();
    assert_eq!(body["name"], "NonRetriableError");
    assert_eq!(body["message"], "banned users get no welcome");
}

#[tokio::test]
async fn disabled_immediate_execution_plans_the_step() {
    let s = served().await;
    let r = s
        .call(
            "test-app-two-steps",
            "step",
            &CallBody::new("test/steps", json!({}))
                .no_immediate()
                .build(),
        )
        .await;
    assert_eq!(r.status, 206, "{r:?}");
    assert_eq!(
        r.json(),
        json!([{
            "id": hash("first"),
            "op": "StepPlanned",
            "name": "first",
            "displayName": "first",
            "opts": {"type": "step.run"},
            "userland": {"id": "first"},
        }])
    );
}

#[tokio::test]
async fn memoized_steps_replay_and_the_next_one_runs() {
    let s = served().await;
    let body = CallBody::new("test/steps", json!({})).memo("first", json!({"data": "one"}));
    let r = s.call("test-app-two-steps", "step", &body.build()).await;
    assert_eq!(r.status, 206);
    let ops = r.json();
    assert_eq!(ops.as_array().unwrap().len(), 1);
    assert_eq!(ops[0]["op"], "StepRun");
    assert_eq!(ops[0]["id"], hash("second"));
    assert_eq!(ops[0]["data"], "one-two");
    let body = body.memo("second", json!({"data": "one-two"}));
    let r = s.call("test-app-two-steps", "step", &body.build()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"a": "one", "b": "one-two"}));
}

#[tokio::test]
async fn parallel_steps_are_planned_together_and_targeted_one_by_one() {
    let s = served().await;
    let base = CallBody::new("test/parallel", json!({}));
    let r = s.call("test-app-parallel", "step", &base.build()).await;
    assert_eq!(r.status, 206);
    let ops = r.json();
    let ops = ops.as_array().unwrap();
    assert_eq!(ops.len(), 2, "{ops:?}");
    assert_eq!(ops[0]["op"], "StepPlanned");
    assert_eq!(ops[0]["id"], hash("left"));
    assert_eq!(ops[1]["op"], "StepPlanned");
    assert_eq!(ops[1]["id"], hash("right"));

    // The executor calls each planned step by its hashed id.
    let r = s
        .call(
            "test-app-parallel",
            &hash("right"),
            &base.no_immediate().build(),
        )
        .await;
    assert_eq!(r.status, 206, "{r:?}");
    let ops = r.json();
    assert_eq!(ops.as_array().unwrap().len(), 1);
    assert_eq!(ops[0]["op"], "StepRun");
    assert_eq!(ops[0]["id"], hash("right"));
    assert_eq!(ops[0]["data"], 2);

    let done = CallBody::new("test/parallel", json!({}))
        .memo("right", json!({"data": 2}))
        .memo("left", json!({"data": 1}));
    let r = s.call("test-app-parallel", "step", &done.build()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!(3));
}

#[tokio::test]
async fn a_target_that_is_never_reached_is_a_retriable_500() {
    let s = served().await;
    let r = s
        .call(
            "test-app-two-steps",
            &hash("nope"),
            &CallBody::new("test/steps", json!({})).build(),
        )
        .await;
    r.assert_error(500, "false");
    let body = r.json();
    assert_eq!(body["name"], "StepNotFound");
    assert_eq!(body["requestedStep"], hash("nope"));
    assert_eq!(
        body["foundSteps"],
        json!([{"id": hash("first"), "name": "first", "displayName": "first"}])
    );
    assert_eq!(body["totalFoundSteps"], 1);
    assert_eq!(
        body["message"],
        format!(
            "could not find the step `{}` to run; found first ({})",
            hash("nope"),
            hash("first")
        )
    );
}

#[tokio::test]
async fn a_step_error_is_retried_until_the_last_attempt_then_fails() {
    let s = served().await;
    let r = s
        .call(
            "test-app-step-throws",
            "step",
            &CallBody::new("test/step-throws", json!({}))
                .attempt(0, 3)
                .build(),
        )
        .await;
    assert_eq!(r.status, 206, "{r:?}");
    r.assert_sdk_headers();
    assert_eq!(r.header("x-inngest-no-retry"), Some("false"));
    let ops = r.json();
    assert_eq!(ops[0]["op"], "StepError");
    assert_eq!(ops[0]["id"], hash("flaky"));
    assert_eq!(ops[0]["name"], "flaky");
    assert_eq!(ops[0]["error"]["name"], "FlakyError");
    assert_eq!(ops[0]["error"]["message"], "flaky failed");

    let r = s
        .call(
            "test-app-step-throws",
            "step",
            &CallBody::new("test/step-throws", json!({}))
                .attempt(2, 3)
                .build(),
        )
        .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("x-inngest-no-retry"), Some("true"));
    let ops = r.json();
    assert_eq!(ops[0]["op"], "StepFailed");
    assert_eq!(ops[0]["error"]["name"], "FlakyError");
}

#[tokio::test]
async fn a_non_retriable_error_in_a_step_fails_the_step_at_once() {
    let s = served().await;
    let r = s
        .call(
            "test-app-step-nonretriable",
            "step",
            &CallBody::new("test/step-nonretriable", json!({})).build(),
        )
        .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("x-inngest-no-retry"), Some("true"));
    let ops = r.json();
    assert_eq!(ops[0]["op"], "StepFailed");
    assert_eq!(ops[0]["error"]["name"], "NonRetriableError");
    assert_eq!(ops[0]["error"]["message"], "fatal step");
}

#[tokio::test]
async fn an_unhandled_failed_step_fails_the_function_without_retries() {
    let s = served().await;
    let body = CallBody::new("test/step-throws", json!({})).memo(
        "flaky",
        json!({"error": {"name": "FlakyError", "message": "flaky failed"}}),
    );
    let r = s.call("test-app-step-throws", "step", &body.build()).await;
    r.assert_error(400, "true");
    let body = r.json();
    assert_eq!(body["name"], "StepError");
    assert_eq!(body["message"], "flaky failed");
    assert_eq!(body["cause"]["name"], "FlakyError");
}

#[tokio::test]
async fn a_handled_failed_step_lets_the_function_go_on() {
    let s = served().await;
    let body = CallBody::new("test/swallow", json!({}))
        .memo("ignored", json!({"data": 1}))
        .memo(
            "caught",
            json!({"error": {"name": "FlakyError", "message": "flaky failed"}}),
        );
    let r = s.call("test-app-swallow", "step", &body.build()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json(), json!("handled: flaky failed (StepError)"));
}

#[tokio::test]
async fn a_swallowed_new_step_still_suspends_the_function() {
    let s = served().await;
    let r = s
        .call(
            "test-app-swallow",
            "step",
            &CallBody::new("test/swallow", json!({})).build(),
        )
        .await;
    assert_eq!(r.status, 206, "{r:?}");
    let ops = r.json();
    assert_eq!(ops[0]["op"], "StepRun");
    assert_eq!(ops[0]["id"], hash("ignored"));
}

#[tokio::test]
async fn function_errors_keep_their_type_name_and_are_retriable() {
    let s = served().await;
    let r = s
        .call(
            "test-app-fn-throws",
            "step",
            &CallBody::new("test/fn-throws", json!({})).build(),
        )
        .await;
    r.assert_error(500, "false");
    let body = r.json();
    assert_eq!(body["name"], "FunctionError");
    assert_eq!(body["message"], "function failed");
}

#[tokio::test]
async fn any_function_error_on_the_last_attempt_is_final() {
    let s = served().await;
    let body = CallBody::new("test/fn-throws", json!({})).attempt(3, 4);
    let r = s.call("test-app-fn-throws", "step", &body.build()).await;
    r.assert_error(400, "true");
    assert_eq!(r.json()["name"], "FunctionError");
}

#[tokio::test]
async fn retry_after_sets_the_header() {
    let s = served().await;
    let r = s
        .call(
            "test-app-fn-retry-after",
            "step",
            &CallBody::new("test/fn-retry-after", json!({})).build(),
        )
        .await;
    r.assert_error(500, "false");
    assert_eq!(r.header("retry-after"), Some("30"));
    assert_eq!(r.json()["name"], "RetryAfterError");
}

#[tokio::test]
async fn repeated_step_ids_are_hashed_with_an_index() {
    let s = served().await;
    let body = CallBody::new("test/repeat-ids", json!({}))
        .memo("same", json!({"data": 0}))
        .memo("same:1", json!({"data": 1}));
    let r = s.call("test-app-repeat-ids", "step", &body.build()).await;
    assert_eq!(r.status, 206);
    assert_eq!(
        r.json(),
        json!([{
            "id": hash("same:2"),
            "op": "StepRun",
            "name": "same",
            "displayName": "same",
            "data": 2,
            "opts": {"type": "step.run"},
            "userland": {"id": "same", "index": 2},
        }])
    );
}

#[tokio::test]
async fn a_panic_is_a_retriable_500_and_the_server_keeps_serving() {
    let s = served().await;
    let r = s
        .call(
            "test-app-panics",
            "step",
            &CallBody::new("test/panics", json!({})).build(),
        )
        .await;
    r.assert_error(500, "false");
    assert_eq!(
        r.json(),
        json!({"name": "Panic", "message": "the function panicked on purpose"})
    );
    let r = s
        .call(
            "test-app-panics",
            "step",
            &CallBody::new("test/panics", json!({"in_step": true})).build(),
        )
        .await;
    r.assert_error(500, "false");
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("the step found nothing"));
    let r = s
        .call(
            "test-app-hello",
            "step",
            &CallBody::new("test/hello", json!({"name": "x"})).build(),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn the_failure_handler_receives_the_failure_event_and_runs_steps() {
    let s = served().await;
    let fixture: Value = serde_json::from_str(include_str!(
        "../inngest-protocol/tests/fixtures/function_failed_js_sdk.json"
    ))
    .unwrap();
    let mut event = fixture.clone();
    event["data"]["function_id"] = json!("test-app-send-welcome");
    event["data"]["event"]["name"] = json!("user/signup");
    event["data"]["event"]["data"] = json!({"user_id": "42", "plan": "banned"});
    let mut body = CallBody::new("inngest/function.failed", json!({}));
    body.event = event;
    let r = s
        .call("test-app-send-welcome-failure", "step", &body.build())
        .await;
    assert_eq!(r.status, 206, "{r:?}");
    let ops = r.json();
    assert_eq!(ops[0]["op"], "StepRun");
    assert_eq!(ops[0]["data"], "notified test-app-send-welcome");
    let body = body.memo("notify", json!({"data": "notified test-app-send-welcome"}));
    let r = s
        .call("test-app-send-welcome-failure", "step", &body.build())
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json(),
        json!("test-app-send-welcome failed: taylor@ok.com is already a list member. Use PUT to insert or update list members. (notified test-app-send-welcome)")
    );
}

#[tokio::test]
async fn a_function_on_inngest_function_failed_receives_every_failure() {
    let s = served().await;
    let mut body = CallBody::new("inngest/function.failed", json!({}));
    body.event = serde_json::from_str(include_str!(
        "../inngest-protocol/tests/fixtures/function_failed_elixir_sdk.json"
    ))
    .unwrap();
    let r = s.call("test-app-all-failures", "step", &body.build()).await;
    assert_eq!(r.status, 200, "{r:?}");
    let out = r.json();
    assert_eq!(out["function_id"], "retriable-fn");
    assert_eq!(out["run_id"], "01HGF86PM90KRQQP27VJZK4BXP");
    assert_eq!(out["error"], "Error");
    assert_eq!(out["event_name"], "test/plug.retriable");
}

#[tokio::test]
async fn an_event_that_does_not_fit_the_type_fails_without_retries() {
    let s = served().await;
    let r = s
        .call(
            "test-app-send-welcome",
            "step",
            &CallBody::new("user/signup", json!({"user_id": 42})).build(),
        )
        .await;
    r.assert_error(400, "true");
    let message = r.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("user/signup") && message.contains("Signup"),
        "{message}"
    );
}

#[tokio::test]
async fn put_syncs_with_the_dev_server() {
    let dev = FakeDevServer::start(200, json!({"ok": true, "modified": true})).await;
    let s = Served::start(inngest::App::new(APP).dev(dev.origin.clone())).await;
    let res = s
        .client
        .put(format!("{}?deployId=dep-1", s.url()))
        .header("x-inngest-server-kind", "dev")
        .json(&json!({"url": "http://app.example.com:8080/api/inngest"}))
        .send()
        .await
        .unwrap();
    let r = support::Reply::read(res).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.assert_sdk_headers();
    assert_eq!(r.header("x-inngest-sync-kind"), Some("out_of_band"));
    assert_eq!(
        r.json(),
        json!({"message": "Successfully registered", "modified": true})
    );

    let recorded = dev.recorded();
    assert_eq!(recorded.len(), 1);
    let reg = &recorded[0];
    assert_eq!(reg.method, "POST");
    assert_eq!(reg.uri, "/fn/register?deployId=dep-1");
    assert_eq!(reg.headers["x-inngest-expected-server-kind"], "dev");
    assert_eq!(
        reg.headers["x-inngest-sdk"],
        format!("inngest-rs:v{}", inngest::VERSION).as_str()
    );
    assert_eq!(reg.headers["content-type"], "application/json");
    let body = &reg.body;
    assert_eq!(body["url"], "http://app.example.com:8080/api/inngest");
    assert_eq!(body["v"], "0.1");
    assert_eq!(body["deployType"], "ping");
    assert_eq!(body["sdk"], format!("rust:v{}", inngest::VERSION));
    assert_eq!(body["framework"], "hyper");
    assert_eq!(body["appName"], APP);
    let functions = body["functions"].as_array().unwrap();
    let ids: Vec<&str> = functions
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "functions are sorted by id");
    let welcome = functions
        .iter()
        .find(|f| f["id"] == "test-app-send-welcome")
        .unwrap();
    assert_eq!(
        welcome,
        &json!({
            "id": "test-app-send-welcome",
            "name": "send-welcome",
            "triggers": [{"event": "user/signup"}],
            "steps": {"step": {
                "id": "step", "name": "step",
                "runtime": {"type": "http", "url": "http://app.example.com:8080/api/inngest?fnId=test-app-send-welcome&stepId=step"},
                "retries": {"attempts": 3},
            }},
        })
    );
    let failure = functions
        .iter()
        .find(|f| f["id"] == "test-app-send-welcome-failure")
        .unwrap();
    assert_eq!(
        failure,
        &json!({
            "id": "test-app-send-welcome-failure",
            "name": "send-welcome (failure)",
            "triggers": [{"event": "inngest/function.failed", "expression": "event.data.function_id == 'test-app-send-welcome'"}],
            "steps": {"step": {
                "id": "step", "name": "step",
                "runtime": {"type": "http", "url": "http://app.example.com:8080/api/inngest?fnId=test-app-send-welcome-failure&stepId=step"},
                "retries": {"attempts": 1},
            }},
        })
    );
    let all = functions
        .iter()
        .find(|f| f["id"] == "test-app-all-failures")
        .unwrap();
    assert_eq!(
        all["triggers"],
        json!([{"event": "inngest/function.failed"}])
    );
}

#[tokio::test]
async fn put_without_a_url_uses_the_request_host_and_serve_origin() {
    let dev = FakeDevServer::start(200, json!({"ok": true, "modified": false})).await;
    let s = Served::start(inngest::App::new(APP).dev(dev.origin.clone())).await;
    let r = s.raw(reqwest::Method::PUT, "", "").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json(),
        json!({"message": "Successfully registered", "modified": false})
    );
    assert_eq!(
        dev.recorded()[0].body["url"],
        format!("http://{}/api/inngest", s.addr)
    );

    let dev = FakeDevServer::start(200, json!({"ok": true})).await;
    let s = Served::start(
        inngest::App::new(APP)
            .dev(dev.origin.clone())
            .serve_origin("https://public.example.com"),
    )
    .await;
    let r = s.raw(reqwest::Method::PUT, "", "").await;
    assert_eq!(r.status, 200, "{r:?}");
    let body = &dev.recorded()[0].body;
    assert_eq!(body["url"], "https://public.example.com/api/inngest");
    assert!(body["functions"][0]["steps"]["step"]["runtime"]["url"]
        .as_str()
        .unwrap()
        .starts_with("https://public.example.com/api/inngest?fnId=test-app-"));
}

#[tokio::test]
async fn a_refused_sync_answers_500_with_the_servers_error() {
    let dev =
        FakeDevServer::start(400, json!({"error": "Expected server kind cloud, got dev"})).await;
    let s = Served::start(inngest::App::new(APP).dev(dev.origin.clone())).await;
    let r = s.raw(reqwest::Method::PUT, "", "").await;
    r.assert_error(500, "false");
    assert_eq!(r.header("x-inngest-sync-kind"), Some("out_of_band"));
    assert_eq!(
        r.json(),
        json!({"message": "Expected server kind cloud, got dev", "modified": false})
    );
}

#[tokio::test]
async fn an_unreachable_dev_server_is_a_500_naming_it() {
    let s = served().await;
    let r = s.raw(reqwest::Method::PUT, "", "").await;
    r.assert_error(500, "false");
    let message = r.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("could not reach http://127.0.0.1:9/fn/register"),
        "{message}"
    );
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_the_server_keeps_serving() {
    let s = Served::start(
        inngest::App::new(APP)
            .dev("http://127.0.0.1:9")
            .body_limit(64 * 1024),
    )
    .await;

    let r = s
        .raw(
            reqwest::Method::POST,
            "?fnId=test-app-hello&stepId=step",
            "{not json",
        )
        .await;
    r.assert_error(400, "false");
    assert_eq!(r.json()["name"], "BadRequest");
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .starts_with("the call request body is not valid"));

    let r = s
        .raw(
            reqwest::Method::POST,
            "?fnId=test-app-hello&stepId=step",
            r#"{"event": {}, "ctx": {"run_id": 5}}"#,
        )
        .await;
    r.assert_error(400, "false");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("invalid type"),
        "{r:?}"
    );

    let r = s
        .raw(
            reqwest::Method::POST,
            "?fnId=test-app-nope&stepId=step",
            "{}",
        )
        .await;
    r.assert_error(500, "false");
    assert_eq!(r.json()["name"], "FunctionNotFound");
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("`test-app-nope`"));

    let r = s.raw(reqwest::Method::POST, "?stepId=step", "{}").await;
    r.assert_error(400, "false");

    let r = s.raw(reqwest::Method::POST, "?fnId=a&fnId=b", "{}").await;
    r.assert_error(400, "false");
    assert_eq!(
        r.json()["message"],
        "the query parameter `fnId` is given more than once"
    );

    let r = s.raw(reqwest::Method::DELETE, "", "").await;
    r.assert_error(405, "true");
    assert_eq!(r.header("allow"), Some("GET, PUT, POST"));

    let big = vec![b' '; 64 * 1024 + 1];
    let r = s
        .raw(
            reqwest::Method::POST,
            "?fnId=test-app-hello&stepId=step",
            big,
        )
        .await;
    r.assert_error(413, "true");
    assert_eq!(r.json()["name"], "PayloadTooLarge");

    let res = s
        .client
        .get(format!("http://{}/elsewhere", s.addr))
        .send()
        .await
        .unwrap();
    let r = support::Reply::read(res).await;
    r.assert_error(404, "true");

    let r = s
        .call(
            "test-app-hello",
            "step",
            &CallBody::new("test/hello", json!({"name": "still"})).build(),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"greeting": "hi still"}));
}

#[tokio::test]
async fn graceful_shutdown_returns_ok() {
    let s = served().await;
    let r = s.raw(reqwest::Method::GET, "", "").await;
    assert_eq!(r.status, 200);
    let addr = s.addr;
    s.stop().await.unwrap();
    assert!(
        reqwest::get(format!("http://{addr}/api/inngest"))
            .await
            .is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn the_handler_is_a_tower_service() {
    use tower::ServiceExt;
    let service = inngest::App::new(APP)
        .dev("http://127.0.0.1:9")
        .into_service()
        .unwrap();
    let body =
        serde_json::to_vec(&CallBody::new("test/hello", json!({"name": "tower"})).build()).unwrap();
    let req = http::Request::post("/anything?fnId=test-app-hello&stepId=step")
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap();
    let res = service.oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-inngest-req-version"], "2");
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(
        serde_json::from_slice::<Value>(&bytes).unwrap(),
        json!({"greeting": "hi tower"})
    );
}

#[tokio::test]
async fn the_users_functions_stay_callable() {
    // `#[inngest::function]` leaves the fn as written; it can be called directly.
    let _ = Signup {
        user_id: "1".into(),
        plan: "pro".into(),
    };
    let registered = inngest::App::new(APP).into_service().unwrap();
    assert!(registered
        .function_ids()
        .contains(&"test-app-send-welcome-failure"));
}
