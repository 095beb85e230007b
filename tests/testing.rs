//! `inngest::testing`: unit tests of functions, in-process. Each capability the issue names is
//! tested here, including the three the TypeScript test tool lacks: retries, failure handlers,
//! and sleeps that do not hang.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use inngest::step::WaitForEvent;
use inngest::testing::RunStatus;
use inngest::testing::TestEngine;
use inngest::{
    Context, Error, Event, FunctionFailed, NonRetriableError, RetryAfterError, SerializedError,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Signup {
    user_id: String,
    plan: String,
}

fn signup(plan: &str) -> Event<Signup> {
    Event::new(
        "user/signup",
        Signup {
            user_id: "42".into(),
            plan: plan.into(),
        },
    )
}

#[inngest::function(id = "welcome", event = "user/signup", retries = 3)]
async fn welcome(ctx: Context<Signup>) -> Result<String, Error> {
    let name: String = ctx
        .step
        .run("load-user", || async {
            Ok(format!("user-{}", ctx.event.data.user_id))
        })
        .await?;
    if ctx.event.data.plan == "banned" {
        return Err(NonRetriableError::new("banned users get no welcome").into());
    }
    ctx.step.sleep("a-day-later", "1d").await?;
    let ids = ctx
        .step
        .send_event(
            "notify",
            vec![Event::new("user/welcomed", json!({"name": name}))],
        )
        .await?;
    Ok(format!("welcomed {name} ({})", ids.len()))
}

#[inngest::on_failure(welcome)]
async fn welcome_failed(ctx: Context<FunctionFailed<Signup>>) -> Result<String, Error> {
    let failed = &ctx.event.data;
    Ok(format!(
        "{} failed for {}: {}",
        failed.function_id, failed.event.data.user_id, failed.error.message
    ))
}

#[tokio::test]
async fn runs_steps_fast_forwards_sleeps_and_captures_sent_events() {
    let outcome = TestEngine::new::<welcome>().run(signup("pro")).await;
    assert_eq!(outcome.status, RunStatus::Completed, "{outcome:?}");
    assert_eq!(outcome.output, Some(json!("welcomed user-42 (1)")));
    let steps: Vec<(&str, &str)> = outcome
        .steps
        .iter()
        .map(|s| (s.id.as_str(), s.op.as_str()))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("load-user", "StepRun"),
            ("a-day-later", "Sleep"),
            ("notify", "StepRun")
        ]
    );
    assert_eq!(
        outcome.steps[1].output,
        Some(json!("1d")),
        "the sleep's duration is recorded"
    );
    assert_eq!(outcome.events_sent.len(), 1, "captured, not sent");
    assert_eq!(outcome.events_sent[0]["name"], "user/welcomed");
    assert_eq!(outcome.events_sent[0]["data"], json!({"name": "user-42"}));
}

#[tokio::test]
async fn mocks_steps_by_id_and_the_mock_sees_the_call() {
    let outcome = TestEngine::new::<welcome>()
        .mock_step("load-user", |call| {
            assert_eq!(call.id, "load-user");
            assert_eq!(call.opts["type"], "step.run");
            Ok(json!("mocked-user"))
        })
        .run(signup("pro"))
        .await;
    assert_eq!(outcome.output, Some(json!("welcomed mocked-user (1)")));
    assert_eq!(outcome.steps[0].op, "Mocked");
}

#[tokio::test]
async fn runs_the_failure_handler_with_the_real_failure_event() {
    let outcome = TestEngine::new::<welcome>().run(signup("banned")).await;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(outcome.attempts, 1, "a NonRetriableError is not retried");
    let error = outcome.error.as_ref().unwrap();
    assert_eq!(
        (error.name.as_str(), error.message.as_str()),
        ("NonRetriableError", "banned users get no welcome")
    );
    let handler = outcome.failure_handler.expect("the failure handler ran");
    assert_eq!(handler.status, RunStatus::Completed);
    assert_eq!(
        handler.output,
        Some(json!(
            "test-welcome failed for 42: banned users get no welcome"
        ))
    );
}

static FLAKY: AtomicU32 = AtomicU32::new(0);

#[derive(Debug, thiserror::Error)]
#[error("timed out")]
struct Timeout;

#[inngest::function(id = "flaky", event = "t/flaky", retries = 2)]
async fn flaky(ctx: Context) -> Result<u32, Error> {
    let n = ctx
        .step
        .run("call", || async {
            let n = FLAKY.fetch_add(1, Ordering::SeqCst);
            if n < 2 {
                return Err(Timeout.into());
            }
            Ok(n)
        })
        .await?;
    Ok(n)
}

#[tokio::test]
async fn retries_failed_steps_until_they_succeed() {
    let outcome = TestEngine::new::<flaky>()
        .run(Event::new("t/flaky", json!({})))
        .await;
    assert_eq!(outcome.status, RunStatus::Completed, "{outcome:?}");
    assert_eq!(outcome.output, Some(json!(2)));
    let ops: Vec<(&str, u32)> = outcome
        .steps
        .iter()
        .map(|s| (s.op.as_str(), s.attempt))
        .collect();
    assert_eq!(
        ops,
        vec![("StepError", 0), ("StepError", 1), ("StepRun", 2)]
    );
    assert_eq!(outcome.steps[0].error.as_ref().unwrap().name, "Timeout");
}

#[inngest::function(id = "always-fails", event = "t/fails", retries = 2)]
async fn always_fails(_ctx: Context) -> Result<(), Error> {
    Err(RetryAfterError::new("rate limited", Duration::from_secs(30)).into())
}

#[tokio::test]
async fn models_function_retries_and_retry_after() {
    let outcome = TestEngine::new::<always_fails>()
        .run(Event::new("t/fails", json!({})))
        .await;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(outcome.attempts, 3, "retries + 1 attempts");
    assert_eq!(
        outcome.retry_after,
        vec!["30", "30"],
        "the last attempt is final"
    );
    assert_eq!(outcome.error.unwrap().name, "RetryAfterError");
    assert!(
        outcome.failure_handler.is_none(),
        "no #[on_failure] for this function"
    );
}

#[derive(Debug, Serialize, Deserialize)]
struct Qty {
    qty: u32,
}

#[inngest::function(id = "child", event = "t/child")]
async fn child(ctx: Context<Qty>) -> Result<u32, Error> {
    Ok(ctx.event.data.qty * 2)
}

#[inngest::function(id = "orchestrator", event = "t/orchestrate")]
async fn orchestrator(ctx: Context) -> Result<Value, Error> {
    let paid = ctx
        .step
        .wait_for_event::<Value>(
            "wait-paid",
            WaitForEvent::new("t/paid", Duration::from_secs(60)),
        )
        .await?;
    let doubled = ctx.step.invoke::<child>("double", Qty { qty: 21 }).await?;
    Ok(json!({"paid": paid.map(|e| e.data), "doubled": doubled}))
}

#[tokio::test]
async fn resolves_or_times_out_waits_and_stubs_invokes() {
    let paid = TestEngine::new::<orchestrator>()
        .resolve_wait("wait-paid", Event::new("t/paid", json!({"amount": 5})))
        .stub_invoke("double", 42)
        .run(Event::new("t/orchestrate", json!({})))
        .await;
    assert_eq!(
        paid.output,
        Some(json!({"paid": {"amount": 5}, "doubled": 42})),
        "{paid:?}"
    );
    let invoke = paid
        .steps
        .iter()
        .find(|s| s.op == "InvokeFunction")
        .unwrap();
    assert_eq!(invoke.id, "double");

    let timed_out = TestEngine::new::<orchestrator>()
        .time_out_wait("wait-paid")
        .fail_invoke(
            "double",
            SerializedError {
                name: "ChildError".into(),
                message: "no".into(),
                stack: None,
                cause: None,
                step_id: None,
            },
        )
        .run(Event::new("t/orchestrate", json!({})))
        .await;
    assert_eq!(timed_out.status, RunStatus::Failed);
    let error = timed_out.error.unwrap();
    assert_eq!(
        (error.name.as_str(), error.message.as_str()),
        ("StepError", "no")
    );

    // An unstubbed invoke fails clearly instead of hanging.
    let unstubbed = TestEngine::new::<orchestrator>()
        .run(Event::new("t/orchestrate", json!({})))
        .await;
    assert!(unstubbed
        .error
        .unwrap()
        .message
        .contains("no stub for the invoke step `double`"));
}

#[inngest::function(
    id = "step-fails",
    event = "t/step-fails",
    retries = 2,
    description = "Fails because its second step does"
)]
async fn step_fails(ctx: Context) -> Result<(), Error> {
    let attempts = ctx.max_attempts;
    ctx.step
        .run("first", || async move { Ok(attempts) })
        .await?;
    ctx.step
        .run("charge", || async {
            Err::<(), Error>(NonRetriableError::new("card declined").into())
        })
        .await?;
    Ok(())
}

#[inngest::on_failure(step_fails)]
async fn step_fails_failed(ctx: Context<FunctionFailed>) -> Result<Value, Error> {
    let error = &ctx.event.data.error;
    Ok(json!({"step": error.step_id, "message": error.message}))
}

/// The failure event says which step failed, and the context has the run's attempts.
#[tokio::test]
async fn the_failure_event_names_the_step_that_failed() {
    let outcome = TestEngine::new::<step_fails>()
        .run(Event::new("t/step-fails", json!({})))
        .await;
    assert_eq!(outcome.status, RunStatus::Failed, "{outcome:?}");
    assert_eq!(
        outcome.steps[0].output,
        Some(json!(3)),
        "max_attempts is retries + 1"
    );
    let error = outcome.error.as_ref().unwrap();
    assert_eq!(
        (error.name.as_str(), error.step_id.as_deref()),
        ("StepError", Some("charge"))
    );
    let handler = outcome.failure_handler.expect("the failure handler ran");
    assert_eq!(
        handler.output,
        Some(json!({"step": "charge", "message": "card declined"}))
    );
}

#[inngest::function(id = "approval-flow", event = "order/placed")]
async fn approval_flow(ctx: Context) -> Result<String, Error> {
    let stock = ctx
        .step
        .fetch(
            "check-stock",
            inngest::step::FetchRequest::get("https://stock.example.com/items/7"),
        )
        .await?;
    let approval = ctx
        .step
        .wait_for_signal::<Value>(
            "approval",
            "order-7-approved",
            Duration::from_secs(86_400),
            inngest::step::OnConflict::Fail,
        )
        .await?;
    Ok(format!(
        "{} in stock, {}",
        stock.json::<Value>()?["count"],
        match approval {
            Some(s) => format!("approved by {}", s.data["by"].as_str().unwrap_or_default()),
            None => "never approved".to_owned(),
        }
    ))
}

#[tokio::test]
async fn fetches_and_signal_waits_are_mocked_by_id_and_an_unanswered_wait_times_out() {
    let engine = TestEngine::new::<approval_flow>().mock_step("check-stock", |call| {
        assert_eq!(call.op, "Gateway");
        assert_eq!(call.opts["url"], "https://stock.example.com/items/7");
        Ok(json!({"status_code": 200, "body": "{\"count\":3}"}))
    });
    let approved = engine
        .clone()
        .mock_step("approval", |_| {
            Ok(json!({"signal": "order-7-approved", "data": {"by": "ann"}}))
        })
        .run(Event::new("order/placed", json!({})))
        .await;
    assert_eq!(approved.status, RunStatus::Completed, "{approved:?}");
    assert_eq!(approved.output, Some(json!("3 in stock, approved by ann")));
    let unanswered = engine.run(Event::new("order/placed", json!({}))).await;
    assert_eq!(
        unanswered.output,
        Some(json!("3 in stock, never approved")),
        "the wait times out on virtual time: {unanswered:?}"
    );
}
