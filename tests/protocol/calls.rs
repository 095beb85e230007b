//! Call requests: a function runs, its steps run, are planned, replayed and targeted.

use serde_json::json;

use crate::support::{hash, CallBody};
use crate::{served, signup};

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
