//! Functions served by the end-to-end tests. Each has a twin in the JS peer
//! (`tests/peers/js/server.mjs`) with the same id and behaviour.

use std::time::Duration;

use inngest::{Context, Error, FunctionFailed, NonRetriableError, RetryAfterError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signup {
    pub user_id: String,
    pub plan: String,
}

/// The contract of design.md section 2.
#[inngest::function(
    id = "send-welcome",
    event = "user/signup",
    retries = 3,
    description = "Welcomes a new user"
)]
pub async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> {
    let name: String = ctx
        .step
        .run("load-user", || async {
            Ok(format!("user-{}", ctx.event.data.user_id))
        })
        .await?;
    if ctx.event.data.plan == "banned" {
        return Err(NonRetriableError::new("banned users get no welcome").into());
    }
    Ok(format!("welcomed {name}"))
}

/// A failure handler is a full function: it uses a step.
#[inngest::on_failure(send_welcome)]
pub async fn send_welcome_failed(ctx: Context<FunctionFailed<Signup>>) -> Result<String, Error> {
    let failed = &ctx.event.data;
    let note: String = ctx
        .step
        .run("notify", || async {
            Ok(format!("notified {}", failed.function_id))
        })
        .await?;
    Ok(format!(
        "{} failed: {} ({note})",
        failed.function_id, failed.error.message
    ))
}

#[inngest::function(id = "hello", event = "test/hello", retries = 3)]
pub async fn hello(ctx: Context) -> Result<Value, Error> {
    let name = ctx.event.data["name"].as_str().unwrap_or("nobody");
    Ok(json!({ "greeting": format!("hi {name}") }))
}

#[inngest::function(id = "two-steps", event = "test/steps", retries = 3)]
pub async fn two_steps(ctx: Context) -> Result<Value, Error> {
    let a: String = ctx
        .step
        .run("first", || async { Ok("one".to_owned()) })
        .await?;
    let b: String = ctx
        .step
        .run("second", || async { Ok(format!("{a}-two")) })
        .await?;
    Ok(json!({ "a": a, "b": b }))
}

#[inngest::function(id = "parallel", event = "test/parallel")]
pub async fn parallel(ctx: Context) -> Result<i64, Error> {
    let (x, y) = futures::join!(
        ctx.step.run("left", || async { Ok(1_i64) }),
        ctx.step.run("right", || async { Ok(2_i64) }),
    );
    Ok(x? + y?)
}

#[derive(Debug, thiserror::Error)]
#[error("flaky failed")]
pub struct FlakyError;

#[inngest::function(id = "step-throws", event = "test/step-throws", retries = 2)]
pub async fn step_throws(ctx: Context) -> Result<String, Error> {
    ctx.step
        .run("flaky", || async { Err::<(), _>(FlakyError.into()) })
        .await?;
    Ok("unreachable".to_owned())
}

#[inngest::function(id = "step-nonretriable", event = "test/step-nonretriable")]
pub async fn step_nonretriable(ctx: Context) -> Result<String, Error> {
    ctx.step
        .run("fatal", || async {
            Err::<(), _>(NonRetriableError::new("fatal step").into())
        })
        .await?;
    Ok("unreachable".to_owned())
}

#[derive(Debug, thiserror::Error)]
#[error("function failed")]
pub struct FunctionError;

#[inngest::function(id = "fn-throws", event = "test/fn-throws")]
pub async fn fn_throws(_ctx: Context) -> Result<String, Error> {
    Err(FunctionError.into())
}

#[inngest::function(id = "fn-nonretriable", event = "test/fn-nonretriable")]
pub async fn fn_nonretriable(_ctx: Context) -> Result<String, Error> {
    Err(NonRetriableError::new("no retry please").into())
}

#[inngest::function(id = "fn-retry-after", event = "test/fn-retry-after")]
pub async fn fn_retry_after(_ctx: Context) -> Result<String, Error> {
    Err(RetryAfterError::new("later", Duration::from_secs(30)).into())
}

#[inngest::function(id = "repeat-ids", event = "test/repeat-ids")]
pub async fn repeat_ids(ctx: Context) -> Result<Vec<u32>, Error> {
    let mut out = Vec::new();
    for i in 0..3_u32 {
        out.push(ctx.step.run("same", || async move { Ok(i) }).await?);
    }
    Ok(out)
}

#[inngest::function(id = "panics", event = "test/panics")]
pub async fn panics(ctx: Context) -> Result<String, Error> {
    if ctx.event.data["in_step"] == json!(true) {
        ctx.step
            .run("boom", || async {
                let found: Option<u8> = std::hint::black_box(None);
                Ok(found.expect("the step found nothing"))
            })
            .await?;
    }
    panic!("the function panicked on purpose");
}

/// Swallowing a step's result cannot break a run: a new step never resolves with an
/// "interrupted" error, so `let _ =` does not skip it.
#[inngest::function(id = "swallow", event = "test/swallow")]
pub async fn swallow(ctx: Context) -> Result<String, Error> {
    let _ = ctx.step.run("ignored", || async { Ok(1_u8) }).await;
    if let Err(e) = ctx
        .step
        .run("caught", || async { Err::<u8, _>(FlakyError.into()) })
        .await
    {
        return Ok(format!("handled: {} ({})", e, e.name()));
    }
    Ok("no error".to_owned())
}

/// Receives every failure in the environment.
#[inngest::function(id = "all-failures", event = "inngest/function.failed")]
pub async fn all_failures(ctx: Context<FunctionFailed>) -> Result<Value, Error> {
    let failed = &ctx.event.data;
    Ok(json!({
        "function_id": failed.function_id,
        "run_id": failed.run_id,
        "error": failed.error.name,
        "message": failed.error.message,
        "event_name": failed.event.name,
    }))
}

// Twins of the step kinds in the JS peer (`peer-*`).

#[inngest::function(id = "peer-sleep", event = "test/peer-sleep")]
pub async fn peer_sleep(ctx: Context) -> Result<String, Error> {
    ctx.step.sleep("nap", Duration::from_secs(90)).await?;
    ctx.step.sleep("long-nap", "2h45m").await?;
    Ok("rested".to_owned())
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Paid {
    pub invoice_id: String,
}

#[inngest::function(id = "peer-wait", event = "test/peer-wait")]
pub async fn peer_wait(ctx: Context) -> Result<String, Error> {
    let paid = ctx
        .step
        .wait_for_event::<Paid>(
            "wait-for-payment",
            inngest::step::WaitForEvent::new("app/invoice.paid", Duration::from_secs(3600))
                .matching("event.data.invoice_id == async.data.invoice_id"),
        )
        .await?;
    Ok(match paid {
        Some(e) => format!("paid {}", e.data.invoice_id),
        None => "timed out".to_owned(),
    })
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Order {
    pub qty: u32,
}

#[inngest::function(id = "peer-child", event = "test/peer-child")]
pub async fn peer_child(ctx: Context<Order>) -> Result<u32, Error> {
    Ok(ctx.event.data.qty * 2)
}

#[inngest::function(id = "peer-invoke", event = "test/peer-invoke")]
pub async fn peer_invoke(ctx: Context) -> Result<u32, Error> {
    ctx.step
        .invoke::<peer_child>("call-child", Order { qty: 21 })
        .await
}

#[inngest::function(id = "peer-send", event = "test/peer-send")]
pub async fn peer_send(ctx: Context) -> Result<Vec<String>, Error> {
    ctx.step
        .send_event(
            "fan-out",
            vec![
                inngest::Event::new("app/one", json!({"n": 1})),
                inngest::Event::new("app/two", json!({"n": 2})),
            ],
        )
        .await
}

#[inngest::function(id = "peer-three", event = "test/peer-three")]
pub async fn peer_three(ctx: Context) -> Result<u32, Error> {
    let (a, b, c) = futures::join!(
        ctx.step.run("a", || async { Ok(1_u32) }),
        ctx.step.run("b", || async { Ok(2_u32) }),
        ctx.step.run("c", || async { Ok(3_u32) }),
    );
    Ok(a? + b? + c?)
}

// Twins for the engine compatibility test (tests/engine_peers.rs).

#[inngest::function(id = "with-failure", event = "test/fails")]
pub async fn with_failure(_ctx: Context) -> Result<String, Error> {
    Err(NonRetriableError::new("boom").into())
}

#[inngest::on_failure(with_failure)]
pub async fn with_failure_failed(ctx: Context<FunctionFailed>) -> Result<String, Error> {
    let failed = &ctx.event.data;
    let note: String = ctx
        .step
        .run("notify", || async {
            Ok(format!("notified {}", failed.function_id))
        })
        .await?;
    Ok(format!(
        "{} failed: {} ({note})",
        failed.function_id, failed.error.message
    ))
}

#[inngest::function(id = "engine-sleep", event = "test/engine-sleep")]
pub async fn engine_sleep(ctx: Context) -> Result<String, Error> {
    ctx.step.sleep("nap", Duration::from_secs(1)).await?;
    Ok("rested".to_owned())
}

static ENGINE_FLAKY_CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

#[derive(Debug, thiserror::Error)]
#[error("flaky once")]
pub struct FlakyOnce;

#[inngest::function(id = "engine-flaky", event = "test/engine-flaky", retries = 2)]
pub async fn engine_flaky(ctx: Context) -> Result<String, Error> {
    ctx.step
        .run("call-api", || async {
            if ENGINE_FLAKY_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                return Err(FlakyOnce.into());
            }
            Ok("recovered".to_owned())
        })
        .await
}

// Twins of the step toolkit the engine speaks (tests/toolkit.rs).

#[inngest::function(id = "peer-signal", event = "test/peer-signal", retries = 0)]
pub async fn peer_signal(ctx: Context) -> Result<String, Error> {
    let signal = format!("peer-signal-{}", ctx.run_id);
    let got = ctx
        .step
        .wait_for_signal::<Value>(
            "wait-for-signal",
            &signal,
            Duration::from_secs(3600),
            inngest::step::OnConflict::Replace,
        )
        .await?;
    Ok(match got {
        Some(s) => format!("got {}", s.data["value"].as_str().unwrap_or_default()),
        None => "timed out".to_owned(),
    })
}

#[inngest::function(id = "peer-fetch", event = "test/peer-fetch", retries = 1)]
pub async fn peer_fetch(ctx: Context) -> Result<Value, Error> {
    let url = ctx.event.data["url"].as_str().unwrap_or_default();
    let res = ctx
        .step
        .fetch(
            "step.fetch: 127.0.0.1",
            inngest::step::FetchRequest::post(url)
                .header("content-type", "application/json")
                .body(r#"{"n":1}"#),
        )
        .await?;
    Ok(json!({"status": res.status, "body": res.json::<Value>()?}))
}

#[inngest::function(id = "peer-ai", event = "test/peer-ai", retries = 1)]
pub async fn peer_ai(ctx: Context) -> Result<String, Error> {
    use inngest::step::ai::{openai, Model};
    let model = Model::openai(ctx.event.data["model"].as_str().unwrap_or_default())
        .base_url(ctx.event.data["base_url"].as_str().unwrap_or_default())
        .api_key("sk-peer");
    let answer: openai::ChatResponse = ctx
        .step
        .ai()
        .infer(
            "ask",
            &model,
            openai::ChatRequest::new(vec![openai::Message::user("hi")]),
        )
        .await?;
    Ok(answer.text().to_owned())
}
