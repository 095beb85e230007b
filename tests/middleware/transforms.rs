//! What each `transform_*` and `wrap_*` hook can change, and dependency injection: a value a
//! middleware puts into the context is read in the function by type.

use inngest::middleware::{FunctionInput, Middleware, Next, RunInfo, StepInfo, StepKind};
use inngest::testing::{RunStatus, TestEngine};
use inngest::{Context, Error, Event};
use serde_json::{json, Value};

use crate::support::CallBody;
use crate::{app, call};

/// A database pool, as a middleware would provide it.
#[derive(Debug, Clone)]
struct Pool {
    url: String,
}

/// Changes what the function gets and what it gives.
#[derive(Default)]
struct Shapes;

impl Middleware for Shapes {
    async fn transform_function_input(&self, input: &mut FunctionInput) -> Result<(), Error> {
        let plan = input.event()["data"]["plan"]
            .as_str()
            .unwrap_or("")
            .to_uppercase();
        input.event()["data"]["plan"] = json!(plan);
        input.insert(Pool {
            url: format!("postgres://db/{}", input.run_id()),
        });
        Ok(())
    }

    async fn wrap_function_handler(
        &self,
        _run: &RunInfo,
        next: Next<'_, Result<Value, Error>>,
    ) -> Result<Value, Error> {
        Ok(json!({ "wrapped": next.await? }))
    }

    async fn transform_step_input(
        &self,
        _run: &RunInfo,
        step: &StepInfo,
        input: &mut Value,
    ) -> Result<(), Error> {
        match step.kind {
            StepKind::Sleep => input["duration"] = json!("2h"),
            StepKind::Invoke => input["payload"]["data"]["added"] = json!(true),
            _ => {}
        }
        Ok(())
    }

    async fn wrap_step(
        &self,
        _run: &RunInfo,
        step: &StepInfo,
        next: Next<'_, Result<Value, Error>>,
    ) -> Result<Value, Error> {
        let value = next.await?;
        // What Inngest memoized ×10 is what the function gets, for `step.run`.
        Ok(match (step.kind, value.as_i64()) {
            (StepKind::Run, Some(n)) => json!(n / 10),
            _ => value,
        })
    }

    async fn wrap_step_handler(
        &self,
        _run: &RunInfo,
        _step: &StepInfo,
        next: Next<'_, Result<Value, Error>>,
    ) -> Result<Value, Error> {
        let value = next.await?;
        Ok(match value.as_i64() {
            Some(n) => json!(n * 10),
            None => value,
        })
    }
}

#[inngest::function(id = "shaped", event = "t/shaped", middleware = [Shapes])]
async fn shaped(ctx: Context) -> Result<Value, Error> {
    let pool = ctx.get::<Pool>()?;
    let n: i64 = ctx.step.run("count", || async { Ok(7) }).await?;
    ctx.step.sleep("nap", "1s").await?;
    let child: Value = ctx
        .step
        .invoke_by_id("child", "other-app-child", json!({"x": 1}), None)
        .await?;
    Ok(json!({"plan": ctx.event.data["plan"], "pool": pool.url, "n": n, "child": child}))
}

#[tokio::test]
async fn hooks_change_the_input_the_steps_and_the_output() {
    let mut service = app("shapes").register::<shaped>().into_service().unwrap();
    let id = "shapes-shaped";
    let body = CallBody::new("t/shaped", json!({"plan": "pro"}));

    // The step's output, as sent to Inngest, is what `wrap_step_handler` made of it.
    let answer = call(&mut service, id, "step", &body.build()).await;
    assert_eq!(answer.body[0]["op"], "StepRun", "{answer:?}");
    assert_eq!(answer.body[0]["data"], 70);

    // The sleep's duration is what `transform_step_input` made of it (the op's name too).
    let body = body.memo("count", json!({"data": 70}));
    let answer = call(&mut service, id, "step", &body.build()).await;
    assert_eq!(answer.body[0]["op"], "Sleep", "{answer:?}");
    assert_eq!(answer.body[0]["opts"]["duration"], "2h");
    assert_eq!(answer.body[0]["name"], "2h");

    // So is the invoke's payload.
    let body = body.memo("nap", Value::Null);
    let answer = call(&mut service, id, "step", &body.build()).await;
    assert_eq!(answer.body[0]["op"], "InvokeFunction", "{answer:?}");
    assert_eq!(
        answer.body[0]["opts"]["payload"]["data"],
        json!({"x": 1, "added": true})
    );

    // The function gets the event `transform_function_input` changed, the pool it put in,
    // and the memo as `wrap_step` gives it; its output is wrapped.
    let body = body.memo("child", json!({"data": "kid"}));
    let answer = call(&mut service, id, "step", &body.build()).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.body,
        json!({"wrapped": {
            "plan": "PRO",
            "pool": "postgres://db/01JRUN00000000000000000000",
            "n": 7,
            "child": "kid",
        }})
    );
}

#[inngest::function(id = "needs-pool", event = "t/needs-pool")]
async fn needs_pool(ctx: Context) -> Result<String, Error> {
    Ok(ctx.get::<Pool>()?.url.clone())
}

#[tokio::test]
async fn a_missing_value_is_a_clear_error() {
    let mut service = app("no-pool")
        .register::<needs_pool>()
        .into_service()
        .unwrap();
    let body = CallBody::new("t/needs-pool", json!({}));
    let answer = call(&mut service, "no-pool-needs-pool", "step", &body.build()).await;
    assert_eq!(answer.status, 500, "{answer:?}");
    assert_eq!(
        answer.body["message"],
        "no `middleware::transforms::Pool` in the context: a middleware puts it there with \
         `FunctionInput::insert` in `transform_function_input`; register that middleware on the \
         app (`App::middleware`) or on this function (`middleware = [..]`) (the context holds \
         no values)"
    );
}

/// Tags what is sent, and the ids sent back.
#[derive(Default)]
struct Tagger;

impl Middleware for Tagger {
    async fn transform_send_event(
        &self,
        run: Option<&RunInfo>,
        events: &mut Vec<Value>,
    ) -> Result<(), Error> {
        for event in events.iter_mut() {
            event["data"]["sent_by"] = json!(run.map(|r| r.function_id.clone()));
        }
        Ok(())
    }

    async fn wrap_send_event(
        &self,
        _run: Option<&RunInfo>,
        events: &[Value],
        next: Next<'_, Result<Vec<String>, Error>>,
    ) -> Result<Vec<String>, Error> {
        assert_eq!(events[0]["data"]["sent_by"], "test-sender");
        let ids = next.await?;
        Ok(ids.into_iter().map(|id| format!("tagged-{id}")).collect())
    }
}

#[inngest::function(id = "sender", event = "t/sender", middleware = [Tagger])]
async fn sender(ctx: Context) -> Result<Vec<String>, Error> {
    ctx.step
        .send_event("notify", vec![Event::new("t/notified", json!({"n": 1}))])
        .await
}

#[tokio::test]
async fn send_hooks_change_the_events_and_the_ids() {
    let outcome = TestEngine::new::<sender>()
        .run(Event::new("t/sender", json!({})))
        .await;
    assert_eq!(outcome.status, RunStatus::Completed, "{outcome:?}");
    assert_eq!(
        outcome.events_sent[0]["data"],
        json!({"n": 1, "sent_by": "test-sender"})
    );
    let ids = outcome.output.unwrap();
    assert!(ids[0].as_str().unwrap().starts_with("tagged-"), "{ids:?}");
}
