//! Errors: what each answers, which are retried, and the last attempt.

use serde_json::json;

use crate::support::{hash, CallBody};
use crate::{served, signup};

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
