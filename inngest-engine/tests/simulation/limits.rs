//! The server's limits on runs, with its error names and messages (protocol-2.md section 9),
//! and the run paths that end at once instead of hanging.

use bytes::Bytes;
use inngest_engine::RunStatus;
use inngest_protocol::step_id::hash;
use serde_json::{json, Value};

use crate::sdk::*;

/// A function that runs one new step per call, forever.
fn endless(req: &inngest_protocol::call::CallRequest, _: &str) -> inngest_engine::CallResponse {
    let n = req.steps.len();
    let id = hash(&format!("page-{n}"));
    answer(
        206,
        json!([{"id": id, "op": "StepRun", "name": format!("page-{n}"), "data": n}]),
    )
}

#[tokio::test]
async fn a_run_fails_at_its_1000th_step() {
    let sdk = FakeSdk::default();
    sdk.function("app-l", endless);
    let mut sim = sim(json!([function("app-l", json!([{"event": "l/go"}]))]));
    send(&mut sim, json!({"name": "l/go", "data": {}}));
    sim.run_until_idle(&sdk, 2_000).await.unwrap();
    assert_eq!(
        ended(&sim)[0].2,
        json!({
            "error": "function has too many steps",
            "name": "InngestErrFunctionOverflowed",
            "message": "The function run exceeded the step limit of 1000 steps."
        })
    );
    assert_eq!(sdk.calls_of("app-l").len(), 1000);
}

#[tokio::test]
async fn sleeps_and_waits_past_a_year_fail_the_run_at_once() {
    let sdk = FakeSdk::default();
    sdk.function("app-s", |_, _| {
        answer(206, json!([{"id": hash("nap"), "op": "Sleep", "name": "nap", "opts": {"duration": "400d"}}]))
    });
    sdk.function("app-w", |_, _| {
        answer(206, json!([{"id": hash("w"), "op": "WaitForEvent", "name": "w", "opts": {"event": "x", "timeout": "367d"}}]))
    });
    let mut sim = sim(json!([
        function("app-s", json!([{"event": "s/go"}])),
        function("app-w", json!([{"event": "s/go"}]))
    ]));
    send(&mut sim, json!({"name": "s/go", "data": {}}));
    sim.run_until_idle(&sdk, 10).await.unwrap();
    let ends = ended(&sim);
    assert_eq!(ends[0].1, RunStatus::Failed);
    assert_eq!(
        ends[0].2,
        json!({
            "error": "InngestErrTimeoutTooLong: The sleep \"400d\" ends more than one year in the future; sleeps may last at most one year.",
            "name": "InngestErrTimeoutTooLong",
            "message": "The sleep \"400d\" ends more than one year in the future; sleeps may last at most one year."
        })
    );
    assert_eq!(ends[1].2["message"], "The wait-for-event timeout \"367d\" expires more than one year in the future; timeouts may last at most one year.");
    assert_eq!(sdk.calls.lock().unwrap().len(), 2, "no retries");
}

#[tokio::test]
async fn a_wait_if_that_does_not_compile_fails_the_run() {
    let sdk = FakeSdk::default();
    sdk.function("app-x", |_, _| {
        answer(
            206,
            json!([{"id": hash("w"), "op": "WaitForEvent", "name": "w",
            "opts": {"event": "x", "timeout": "1h", "if": "event.data.a == "}}]),
        )
    });
    let mut sim = sim(json!([function("app-x", json!([{"event": "x/go"}]))]));
    send(&mut sim, json!({"name": "x/go", "data": {}}));
    sim.run_until_idle(&sdk, 10).await.unwrap();
    let error = &ended(&sim)[0].2;
    assert_eq!(error["name"], "InvalidExpression");
    assert_eq!(
        error["error"],
        "InvalidExpression: Wait for event If expression failed to compile"
    );
    assert_eq!(secs(&sim), 0, "it did not wait for the hour");
}

#[tokio::test]
async fn a_step_output_over_4_mib_is_an_error_that_is_retried() {
    let sdk = FakeSdk::default();
    let big = "x".repeat(4 * 1024 * 1024 + 1);
    sdk.function("app-big", move |_, _| {
        answer(
            206,
            json!([{"id": hash("a"), "op": "StepRun", "name": "a", "data": big}]),
        )
    });
    let mut sim = sim(json!([function("app-big", json!([{"event": "big/go"}]))]));
    send(&mut sim, json!({"name": "big/go", "data": {}}));
    sim.run_until_idle(&sdk, 10).await.unwrap();
    let message = format!(
        "error validating generator opcode {}: step output size is greater than the limit",
        hash("a")
    );
    assert_eq!(
        ended(&sim)[0].2,
        json!({"error": message, "name": "Error", "message": message})
    );
    assert_eq!(sdk.calls_of("app-big").len(), 3, "retried twice");
}

#[tokio::test]
async fn a_run_over_32_mib_of_state_fails() {
    let sdk = FakeSdk::default();
    let chunk = "x".repeat(4 * 1024 * 1024 - 100);
    sdk.function("app-st", move |req, _| {
        let n = req.steps.len();
        answer(
            206,
            json!([{"id": hash(&format!("s{n}")), "op": "StepRun", "name": "s", "data": chunk}]),
        )
    });
    let mut sim = sim(json!([function("app-st", json!([{"event": "st/go"}]))]));
    send(&mut sim, json!({"name": "st/go", "data": {}}));
    sim.run_until_idle(&sdk, 20).await.unwrap();
    let error = &ended(&sim)[0].2;
    assert_eq!(error["name"], "InngestErrStateOverflowed");
    assert_eq!(
        error["message"],
        "The function run exceeded the state size limit of 33554432 bytes."
    );
    assert_eq!(
        sdk.calls_of("app-st").len(),
        9,
        "8 steps fit, the 9th does not"
    );
}

/// An app whose answers are all over the 8 MiB limit (as the transports report it).
struct TooLarge;

impl inngest_engine::Transport for TooLarge {
    fn call(
        &self,
        call: &inngest_engine::Call,
    ) -> inngest_engine::BoxFuture<
        Result<inngest_engine::CallResponse, inngest_engine::TransportError>,
    > {
        let message = format!(
            "output_too_large: the answer of {} is over 8388608 bytes",
            call.url
        );
        Box::pin(async move { Err(inngest_engine::TransportError::new(message)) })
    }
}

#[tokio::test]
async fn an_answer_over_8_mib_is_the_servers_output_too_large() {
    let mut sim = sim(json!([function("app-o", json!([{"event": "o/go"}]))]));
    send(&mut sim, json!({"name": "o/go", "data": {}}));
    sim.run_until_idle(&TooLarge, 10).await.unwrap();
    assert_eq!(
        ended(&sim)[0].2,
        json!({
            "error": "output_too_large: Your function's response body exceeds the maximum size limit",
            "name": "output_too_large",
            "message": "Your function's response body exceeds the maximum size limit"
        })
    );
}

#[tokio::test]
async fn a_race_discovers_as_soon_as_one_branch_ends() {
    let sdk = FakeSdk::default();
    sdk.function("app-race", |req, _| {
        let (nap, wait) = (hash("nap"), hash("wait"));
        if req.steps.contains_key(&nap) {
            return answer(200, json!("the sleep won"));
        }
        answer(206, json!([
            {"id": nap, "op": "Sleep", "name": "nap", "opts": {"duration": "1s", "parallelMode": "race"}},
            {"id": wait, "op": "WaitForEvent", "name": "wait", "opts": {"event": "never", "timeout": "7d", "parallelMode": "race"}}
        ]))
    });
    let mut sim = sim(json!([function("app-race", json!([{"event": "race/go"}]))]));
    send(&mut sim, json!({"name": "race/go", "data": {}}));
    sim.run_until_idle(&sdk, 10).await.unwrap();
    assert_eq!(ended(&sim)[0].2, json!("the sleep won"));
    assert_eq!(secs(&sim), 1, "about a second, not 7 days");
}

#[tokio::test]
async fn function_failed_carries_non_retriable_error_as_the_server_sets_it() {
    let sdk = FakeSdk::default();
    sdk.function("app-n", |_, _| {
        no_retry(answer(
            400,
            json!({"name": "NonRetriableError", "message": "banned"}),
        ))
    });
    sdk.function("app-n-failure", |req, _| {
        answer(200, req.event["data"]["error"].clone())
    });
    let mut sim = sim(json!([
        function("app-n", json!([{"event": "n/go"}])),
        function(
            "app-n-failure",
            json!([{"event": "inngest/function.failed", "expression": "event.data.function_id == 'app-n'"}])
        )
    ]));
    send(&mut sim, json!({"name": "n/go", "data": {}}));
    sim.run_until_idle(&sdk, 10).await.unwrap();
    assert_eq!(
        ended(&sim)[1].2,
        json!({"error": "NonRetriableError", "name": "NonRetriableError", "message": "banned"})
    );
}

#[tokio::test]
async fn runs_triggered_by_function_cancelled_emit_lifecycle_events() {
    let sdk = FakeSdk::default();
    sdk.function("app-c", sleeper("1h"));
    sdk.function("app-c-cancel", |_, _| {
        no_retry(answer(400, json!({"name": "Error", "message": "x"})))
    });
    sdk.function("app-c-cancel-failure", |_, _| answer(200, json!("handled")));
    let mut sim = sim(json!([
        with("app-c", "c/go", json!({"cancel": [{"event": "c/stop"}]})),
        function(
            "app-c-cancel",
            json!([{"event": "inngest/function.cancelled", "expression": "event.data.function_id == 'app-c'"}])
        ),
        function(
            "app-c-cancel-failure",
            json!([{"event": "inngest/function.failed", "expression": "event.data.function_id == 'app-c-cancel'"}])
        )
    ]));
    send(&mut sim, json!({"name": "c/go", "data": {}}));
    let calls = sim.take_calls();
    answer_calls(&mut sim, &sdk, calls).await;
    send(&mut sim, json!({"name": "c/stop", "data": {}}));
    sim.run_until_idle(&sdk, 10).await.unwrap();
    let last = ended(&sim).pop().unwrap();
    assert_eq!(last.0, "app-c-cancel-failure");
    assert_eq!(last.2, json!("handled"));
}

#[tokio::test]
async fn an_empty_or_unknown_206_body_is_retried_not_left_hanging() {
    let sdk = FakeSdk::default();
    sdk.function("app-e", |_, _| {
        let mut res = answer(206, Value::Null);
        res.body = Bytes::from_static(b"");
        res
    });
    let mut sim = sim(json!([function("app-e", json!([{"event": "e/go"}]))]));
    send(&mut sim, json!({"name": "e/go", "data": {}}));
    sim.run_until_idle(&sdk, 10).await.unwrap();
    assert_eq!(ended(&sim)[0].1, RunStatus::Failed);
}
