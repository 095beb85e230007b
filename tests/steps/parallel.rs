//! Parallel steps: branches planned together, and races.

use inngest::step::Either;
use inngest::{Context, Error};
use serde_json::json;

use crate::support::{hash, CallBody};
use crate::{ops, served};

#[inngest::function(id = "three", event = "test/three")]
async fn three(ctx: Context) -> Result<u32, Error> {
    let (a, b, c) = tokio::join!(
        ctx.step.run("a", || async { Ok(1_u32) }),
        ctx.step.run("b", || async { Ok(2_u32) }),
        ctx.step.run("c", || async { Ok(3_u32) }),
    );
    Ok(a? + b? + c?)
}

#[inngest::function(id = "twenty", event = "test/twenty")]
async fn twenty(ctx: Context) -> Result<u32, Error> {
    let branches = (0..20_u32).map(|i| {
        let step = ctx.step.clone();
        async move {
            step.run(&format!("branch-{i}"), || async move { Ok(i) })
                .await
        }
    });
    let results = futures::future::join_all(branches).await;
    results.into_iter().try_fold(0, |acc, r| Ok(acc + r?))
}

#[inngest::function(id = "yielder", event = "test/yield")]
async fn yielder(ctx: Context) -> Result<u32, Error> {
    // The second branch wakes itself and yields before it reaches its step: the executor must
    // poll again before it judges what the call found.
    let (a, b) = tokio::join!(ctx.step.run("a", || async { Ok(1_u32) }), async {
        WakeOnce(false).await;
        ctx.step.run("b", || async { Ok(2_u32) }).await
    });
    Ok(a? + b?)
}

/// Pending once, having woken its task at once (as a large join does when it runs out of its
/// budget; tokio's `yield_now` defers its wake-up to after the poll instead).
struct WakeOnce(bool);

impl std::future::Future for WakeOnce {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            return std::task::Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

#[inngest::function(id = "tokio-yielder", event = "test/tokio-yield")]
async fn tokio_yielder(ctx: Context) -> Result<u32, Error> {
    // The second branch yields to tokio before it reaches its step: tokio wakes it only after
    // the poll (`yield_now` defers its wake-up), so the executor must give the runtime a turn
    // before it judges what the call found.
    let (a, b) = tokio::join!(ctx.step.run("a", || async { Ok(1_u32) }), async {
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        ctx.step.run("b", || async { Ok(20_u32) }).await
    });
    Ok(a? + b?)
}

#[inngest::function(id = "spinner", event = "test/spin")]
async fn spinner(ctx: Context) -> Result<u32, Error> {
    // The second branch yields to tokio until the first branch's step has run: the executor's
    // turns for the runtime are bounded, so it still lets step `a` run.
    let done = std::sync::atomic::AtomicBool::new(false);
    let (a, ()) = tokio::join!(
        ctx.step.run("a", || async {
            done.store(true, std::sync::atomic::Ordering::Release);
            Ok(1_u32)
        }),
        async {
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                tokio::task::yield_now().await;
            }
        }
    );
    a
}

#[inngest::function(id = "racer", event = "test/race")]
async fn racer(ctx: Context) -> Result<String, Error> {
    let winner = ctx
        .step
        .race(
            ctx.step.run("fast", || async { Ok(1_u32) }),
            ctx.step.run("slow", || async { Ok("two".to_owned()) }),
        )
        .await;
    Ok(match winner {
        Either::Left(n) => format!("fast won: {}", n?),
        Either::Right(s) => format!("slow won: {}", s?),
    })
}

#[tokio::test]
async fn three_branches_are_planned_together() {
    let s = served().await;
    let r = s
        .call(
            "steps-app-three",
            "step",
            &CallBody::new("test/three", json!({})).build(),
        )
        .await;
    let ops = ops(&r);
    let ids: Vec<&str> = ops.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![hash("a"), hash("b"), hash("c")]);
    assert!(ops.iter().all(|o| o["op"] == "StepPlanned"));
}

#[tokio::test]
async fn twenty_branches_are_planned_together_and_complete() {
    let s = served().await;
    let r = s
        .call(
            "steps-app-twenty",
            "step",
            &CallBody::new("test/twenty", json!({})).build(),
        )
        .await;
    let ops = ops(&r);
    assert_eq!(ops.len(), 20);
    for (i, op) in ops.iter().enumerate() {
        assert_eq!(op["op"], "StepPlanned");
        assert_eq!(op["id"], hash(&format!("branch-{i}")));
    }
    let mut body = CallBody::new("test/twenty", json!({}));
    for i in 0..20 {
        body = body.memo(&format!("branch-{i}"), json!({"data": i}));
    }
    let r = s.call("steps-app-twenty", "step", &body.build()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json(), json!(190));
}

/// A discovery call of `fn_id` (triggered by `event`) plans both its steps, `a` and `b`.
async fn assert_a_and_b_planned(fn_id: &str, event: &str) {
    let s = served().await;
    let r = s
        .call(fn_id, "step", &CallBody::new(event, json!({})).build())
        .await;
    let ops = ops(&r);
    let ids: Vec<&str> = ops.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![hash("a"), hash("b")]);
    assert!(ops.iter().all(|o| o["op"] == "StepPlanned"));
}

#[tokio::test]
async fn a_branch_that_wakes_itself_first_is_planned_with_the_others() {
    assert_a_and_b_planned("steps-app-yielder", "test/yield").await;
}

#[tokio::test]
async fn a_branch_that_yields_to_tokio_first_is_planned_with_the_others() {
    assert_a_and_b_planned("steps-app-tokio-yielder", "test/tokio-yield").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_targeted_step_behind_a_tokio_yield_runs() {
    // Inngest asks for step `b` alone (`stepId`); its branch yields first. Judged before the
    // runtime's turn, the call would answer that `b` was not found. (On tokio's multi-thread
    // runtime, where another worker may poll the call before the turn's wake-up comes.)
    let s = served().await;
    let r = s
        .call(
            "steps-app-tokio-yielder",
            &hash("b"),
            &CallBody::new("test/tokio-yield", json!({})).build(),
        )
        .await;
    let ops = ops(&r);
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0]["op"], "StepRun");
    assert_eq!(ops[0]["id"], hash("b"));
    assert_eq!(ops[0]["data"], 20);
}

#[tokio::test]
async fn a_branch_that_spins_on_tokio_yields_does_not_hold_the_call() {
    let s = served().await;
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        s.call(
            "steps-app-spinner",
            "step",
            &CallBody::new("test/spin", json!({})).build(),
        ),
    )
    .await
    .expect("the call is answered");
    let ops = ops(&r);
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0]["op"], "StepRun");
    assert_eq!(ops[0]["id"], hash("a"));
    assert_eq!(ops[0]["data"], 1);
}

#[tokio::test]
async fn a_race_marks_its_ops_and_the_first_finished_branch_wins() {
    let s = served().await;
    let r = s
        .call(
            "steps-app-racer",
            "step",
            &CallBody::new("test/race", json!({})).build(),
        )
        .await;
    let ops = ops(&r);
    assert_eq!(ops.len(), 2);
    for op in &ops {
        assert_eq!(op["op"], "StepPlanned");
        assert_eq!(
            op["opts"],
            json!({"type": "step.run", "parallelMode": "race"})
        );
    }
    let slow_first = CallBody::new("test/race", json!({})).memo("slow", json!({"data": "two"}));
    let r = s.call("steps-app-racer", "step", &slow_first.build()).await;
    assert_eq!(r.json(), json!("slow won: two"));
    // Both finished later: the one Inngest recorded first still wins, on every replay.
    let both = slow_first.memo("fast", json!({"data": 1}));
    let r = s.call("steps-app-racer", "step", &both.build()).await;
    assert_eq!(r.json(), json!("slow won: two"));
}
