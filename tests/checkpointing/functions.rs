//! The functions the checkpointing tests run.

use std::time::Duration;

use inngest::{Context, Error, NonRetriableError};

/// Ten `step.run`s one after another: 0 + 1 + ... + 9.
#[inngest::function(id = "ten-steps", event = "ck/ten")]
pub async fn ten_steps(ctx: Context) -> Result<u32, Error> {
    let mut total = 0;
    for i in 0..10_u32 {
        total += ctx.step.run("add", move || async move { Ok(i) }).await?;
    }
    Ok(total)
}

/// The same, with checkpointing off in its attribute.
#[inngest::function(id = "ten-steps-classic", event = "ck/ten", checkpointing = false)]
pub async fn ten_steps_classic(ctx: Context) -> Result<u32, Error> {
    let mut total = 0;
    for i in 0..10_u32 {
        total += ctx.step.run("add", move || async move { Ok(i) }).await?;
    }
    Ok(total)
}

/// Saves three steps at a time.
#[inngest::function(
    id = "buffered",
    event = "ck/buffered",
    checkpointing(buffered_steps = 3)
)]
pub async fn buffered(ctx: Context) -> Result<u32, Error> {
    let mut total = 0;
    for i in 0..10_u32 {
        total += ctx.step.run("add", move || async move { Ok(i) }).await?;
    }
    Ok(total)
}

/// A step, then a sleep, then a step.
#[inngest::function(id = "step-sleep", event = "ck/sleep")]
pub async fn step_sleep(ctx: Context) -> Result<String, Error> {
    let a: String = ctx.step.run("a", || async { Ok("a".to_owned()) }).await?;
    ctx.step.sleep("nap", Duration::from_millis(10)).await?;
    let b: String = ctx.step.run("b", || async { Ok("b".to_owned()) }).await?;
    Ok(a + &b)
}

/// A step that succeeds, then one that fails on the call's first attempt.
#[inngest::function(id = "then-fails", event = "ck/then-fails", retries = 2)]
pub async fn then_fails(ctx: Context) -> Result<String, Error> {
    let a: String = ctx
        .step
        .run("ok", || async { Ok("fine".to_owned()) })
        .await?;
    let first_attempt = ctx.attempt == 0;
    let b: String = ctx
        .step
        .run("flaky", || async move {
            if first_attempt {
                return Err(Error::msg("flaky failed"));
            }
            Ok("recovered".to_owned())
        })
        .await?;
    Ok(format!("{a} {b}"))
}

/// Stops running steps in the call once 1 ms has passed.
#[inngest::function(
    id = "short-runtime",
    event = "ck/short",
    checkpointing(max_runtime = "1ms")
)]
pub async fn short_runtime(ctx: Context) -> Result<u32, Error> {
    let a: u32 = ctx
        .step
        .run("slow", || async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(1)
        })
        .await?;
    let b: u32 = ctx.step.run("next", || async { Ok(2) }).await?;
    Ok(a + b)
}

/// Two parallel steps after a first one.
#[inngest::function(id = "then-parallel", event = "ck/parallel")]
pub async fn then_parallel(ctx: Context) -> Result<u32, Error> {
    let first: u32 = ctx.step.run("first", || async { Ok(1) }).await?;
    let (l, r) = tokio::join!(
        ctx.step.run("left", || async { Ok(2_u32) }),
        ctx.step.run("right", || async { Ok(3_u32) }),
    );
    Ok(first + l? + r?)
}

/// A step, then a function error that is not retried.
#[inngest::function(id = "step-then-error", event = "ck/error")]
pub async fn step_then_error(ctx: Context) -> Result<u32, Error> {
    let _: u32 = ctx.step.run("before", || async { Ok(1) }).await?;
    Err(NonRetriableError::new("gave up").into())
}

/// Buffers up to 100 steps, saved at least every 40 ms; each step takes 25 ms.
#[inngest::function(
    id = "interval",
    event = "ck/interval",
    checkpointing(buffered_steps = 100, max_interval = "40ms")
)]
pub async fn interval(ctx: Context) -> Result<u32, Error> {
    let mut total = 0;
    for i in 0..10_u32 {
        total += ctx
            .step
            .run("slow-add", move || async move {
                tokio::time::sleep(Duration::from_millis(25)).await;
                Ok(i)
            })
            .await?;
    }
    Ok(total)
}
