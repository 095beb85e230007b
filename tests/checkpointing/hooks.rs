//! Middleware with checkpointed steps: each step that runs in the call goes through the step
//! hooks as it would alone, the run through the run hooks once; with streaming on, through
//! `wrap_request` too.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use inngest::middleware::{Middleware, Next, Request, Response, RunInfo, StepInfo};
use inngest::{Context, Error};
use serde_json::{json, Value};

use crate::support::{hash, FakeDevServer, Recorded, Served};

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn log(line: impl Into<String>) {
    LOG.lock().unwrap().push(line.into());
}

/// Records the hooks that matter here.
#[derive(Default)]
struct Recorder;

impl Middleware for Recorder {
    async fn wrap_request(&self, _req: &Request, next: Next<'_, Response>) -> Response {
        log("wrap_request: before");
        let res = next.await;
        log(format!("wrap_request: after {}", res.status().as_u16()));
        res
    }
    async fn on_step_start(&self, _run: &RunInfo, step: &StepInfo) {
        log(format!("on_step_start {}", step.id));
    }
    async fn wrap_step(
        &self,
        _run: &RunInfo,
        step: &StepInfo,
        next: Next<'_, Result<Value, Error>>,
    ) -> Result<Value, Error> {
        let out = next.await;
        log(format!("wrap_step {} -> {:?}", step.id, out.as_ref().ok()));
        out
    }
    async fn on_step_complete(&self, _run: &RunInfo, step: &StepInfo, output: &Value) {
        log(format!("on_step_complete {} {output}", step.id));
    }
    async fn on_run_complete(&self, _run: &RunInfo, output: &Value) {
        log(format!("on_run_complete {output}"));
    }
}

#[inngest::function(id = "hooked", event = "ck/hooked", middleware = [Recorder])]
pub async fn hooked(ctx: Context) -> Result<String, Error> {
    let a: String = ctx.step.run("a", || async { Ok("x".to_owned()) }).await?;
    let b: String = ctx
        .step
        .run("b", || async move { Ok(format!("{a}y")) })
        .await?;
    Ok(b)
}

#[tokio::test]
async fn each_checkpointed_step_goes_through_the_hooks_and_streaming_wraps_the_request() {
    let api = FakeDevServer::start_with(Arc::new(|_: &Recorded, _| (200, Value::Null))).await;
    let app = Served::start(
        inngest::App::new("ck")
            .dev(api.origin.clone())
            .streaming(true)
            .streaming_keepalive(Duration::from_millis(50)),
    )
    .await;
    let body = crate::support::CallBody::new("ck/hooked", json!({}))
        .fn_id("fn-uuid", "qi-1")
        .build();
    let reply = app.call("ck-hooked", "step", &body).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let envelope: Value = serde_json::from_str(&reply.text).unwrap();
    assert_eq!(envelope["status"], 206);
    let ops: Value = serde_json::from_str(envelope["body"].as_str().unwrap()).unwrap();
    assert_eq!(ops[0]["op"], "RunComplete");
    assert_eq!(ops[0]["id"], hash("complete"));
    assert_eq!(ops[0]["data"], "xy");
    assert_eq!(
        *LOG.lock().unwrap(),
        vec![
            "wrap_request: before",
            "on_step_start a",
            "on_step_complete a \"x\"",
            "wrap_step a -> Some(String(\"x\"))",
            "on_step_start b",
            "on_step_complete b \"xy\"",
            "wrap_step b -> Some(String(\"xy\"))",
            "on_run_complete \"xy\"",
            "wrap_request: after 206",
        ]
    );
}
