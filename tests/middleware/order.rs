//! The order of every hook across the three calls of a run with a step and a sleep, with
//! two middleware (one on the app, one on the function): the order the official TypeScript
//! SDK asserts (`allHooks.test.ts`), without checkpointing.

use std::sync::{Arc, Mutex};

use inngest::middleware::{
    FunctionInfo, FunctionInput, Middleware, Next, Request, Response, RunInfo, StepInfo,
};
use inngest::{Context, Error};
use serde_json::{json, Value};

use crate::support::CallBody;
use crate::{app, call};

type Log = Arc<Mutex<Vec<String>>>;

/// The log the function and the function's middleware write to (a function's middleware is
/// built with `Default`, so it finds its log here).
static FN_LOG: Mutex<Option<Log>> = Mutex::new(None);

fn fn_log() -> Log {
    FN_LOG
        .lock()
        .unwrap()
        .clone()
        .expect("the test set the log")
}

fn push(log: &Log, line: String) {
    log.lock().unwrap().push(line);
}

/// Records every hook, as `<hook> (<name>)`.
struct Recorder {
    name: &'static str,
    log: Log,
}

/// The function's own middleware.
struct Mw2(Recorder);

impl Default for Mw2 {
    fn default() -> Self {
        Mw2(Recorder {
            name: "mw2",
            log: fn_log(),
        })
    }
}

fn memo(step: &StepInfo) -> &'static str {
    if step.memoized {
        "memo"
    } else {
        "fresh"
    }
}

impl Recorder {
    fn rec(&self, hook: impl std::fmt::Display) {
        push(&self.log, format!("{hook} ({})", self.name));
    }
}

/// Both middleware record through this.
macro_rules! recording {
    ($ty:ty, $rec:expr) => {
        impl Middleware for $ty {
            fn on_register(&self, _app: &str, function: Option<&FunctionInfo>) {
                let at = function.map_or("app".to_owned(), |f| f.id.clone());
                $rec(self).rec(format!("on_register {at}"));
            }
            async fn wrap_request(&self, _req: &Request, next: Next<'_, Response>) -> Response {
                $rec(self).rec("wrap_request: before");
                let res = next.await;
                $rec(self).rec("wrap_request: after");
                res
            }
            async fn transform_function_input(
                &self,
                _input: &mut FunctionInput,
            ) -> Result<(), Error> {
                $rec(self).rec("transform_function_input");
                Ok(())
            }
            async fn on_memoization_end(&self, _run: &RunInfo) {
                $rec(self).rec("on_memoization_end");
            }
            async fn on_run_start(&self, _run: &RunInfo) {
                $rec(self).rec("on_run_start");
            }
            async fn wrap_function_handler(
                &self,
                _run: &RunInfo,
                next: Next<'_, Result<Value, Error>>,
            ) -> Result<Value, Error> {
                $rec(self).rec("wrap_function_handler: before");
                let out = next.await;
                $rec(self).rec("wrap_function_handler: after");
                out
            }
            async fn on_run_complete(&self, _run: &RunInfo, _output: &Value) {
                $rec(self).rec("on_run_complete");
            }
            async fn on_run_error(&self, _run: &RunInfo, _error: &Error, _final: bool) {
                $rec(self).rec("on_run_error");
            }
            async fn transform_step_input(
                &self,
                _run: &RunInfo,
                step: &StepInfo,
                _input: &mut Value,
            ) -> Result<(), Error> {
                $rec(self).rec(format!("transform_step_input({})", memo(step)));
                Ok(())
            }
            async fn wrap_step(
                &self,
                _run: &RunInfo,
                step: &StepInfo,
                next: Next<'_, Result<Value, Error>>,
            ) -> Result<Value, Error> {
                $rec(self).rec(format!("wrap_step({} {}): before", memo(step), step.kind));
                let out = next.await;
                $rec(self).rec(format!("wrap_step({} {}): after", memo(step), step.kind));
                out
            }
            async fn on_step_start(&self, _run: &RunInfo, _step: &StepInfo) {
                $rec(self).rec("on_step_start");
            }
            async fn wrap_step_handler(
                &self,
                _run: &RunInfo,
                _step: &StepInfo,
                next: Next<'_, Result<Value, Error>>,
            ) -> Result<Value, Error> {
                $rec(self).rec("wrap_step_handler: before");
                let out = next.await;
                $rec(self).rec("wrap_step_handler: after");
                out
            }
            async fn on_step_complete(&self, _run: &RunInfo, _step: &StepInfo, _out: &Value) {
                $rec(self).rec("on_step_complete");
            }
            async fn on_step_error(
                &self,
                _run: &RunInfo,
                _step: &StepInfo,
                _error: &Error,
                _final: bool,
            ) {
                $rec(self).rec("on_step_error");
            }
        }
    };
}

fn itself(r: &Recorder) -> &Recorder {
    r
}

fn inner(m: &Mw2) -> &Recorder {
    &m.0
}

recording!(Recorder, itself);
recording!(Mw2, inner);

#[inngest::function(id = "ordered", event = "t/ordered", retries = 0, middleware = [Mw2])]
async fn ordered(ctx: Context) -> Result<&'static str, Error> {
    let log = fn_log();
    push(&log, "fn: top".into());
    let _: String = ctx
        .step
        .run("my-step", || async {
            push(&fn_log(), "step: inside".into());
            Ok("result".to_owned())
        })
        .await?;
    ctx.step.sleep("sleep", "1s").await?;
    push(&log, "fn: bottom".into());
    Ok("done")
}

fn lines(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn every_hook_in_order_across_the_calls_of_a_run() {
    let log: Log = Arc::default();
    *FN_LOG.lock().unwrap() = Some(log.clone());
    let mut service = app("order")
        .middleware(Recorder {
            name: "mw1",
            log: log.clone(),
        })
        .register::<ordered>()
        .into_service()
        .unwrap();
    assert_eq!(
        std::mem::take(&mut *log.lock().unwrap()),
        lines(&["on_register app (mw1)", "on_register order-ordered (mw2)"])
    );

    // Call 1: nothing memoized; the step runs.
    let body = CallBody::new("t/ordered", json!({}));
    let answer = call(&mut service, "order-ordered", "step", &body.build()).await;
    assert_eq!(answer.status, 206, "{answer:?}");
    assert_eq!(answer.body[0]["op"], "StepRun");
    assert_eq!(answer.body[0]["data"], "result");
    assert_eq!(
        std::mem::take(&mut *log.lock().unwrap()),
        lines(&[
            "wrap_request: before (mw1)",
            "wrap_request: before (mw2)",
            "transform_function_input (mw1)",
            "transform_function_input (mw2)",
            "on_memoization_end (mw1)",
            "on_memoization_end (mw2)",
            "on_run_start (mw1)",
            "on_run_start (mw2)",
            "wrap_function_handler: before (mw1)",
            "wrap_function_handler: before (mw2)",
            "fn: top",
            "transform_step_input(fresh) (mw1)",
            "transform_step_input(fresh) (mw2)",
            "wrap_step(fresh run): before (mw1)",
            "wrap_step(fresh run): before (mw2)",
            "on_step_start (mw1)",
            "on_step_start (mw2)",
            "wrap_step_handler: before (mw1)",
            "wrap_step_handler: before (mw2)",
            "step: inside",
            "wrap_step_handler: after (mw2)",
            "wrap_step_handler: after (mw1)",
            "on_step_complete (mw1)",
            "on_step_complete (mw2)",
            // The call stops at the step: `wrap_step` and `wrap_function_handler` never
            // get past `next`.
            "wrap_request: after (mw2)",
            "wrap_request: after (mw1)",
        ])
    );

    // Call 2: the step is memoized; the sleep is new.
    let body = body.memo("my-step", json!({"data": "result"}));
    let answer = call(&mut service, "order-ordered", "step", &body.build()).await;
    assert_eq!(answer.status, 206, "{answer:?}");
    assert_eq!(answer.body[0]["op"], "Sleep");
    assert_eq!(
        std::mem::take(&mut *log.lock().unwrap()),
        lines(&[
            "wrap_request: before (mw1)",
            "wrap_request: before (mw2)",
            "transform_function_input (mw1)",
            "transform_function_input (mw2)",
            "wrap_function_handler: before (mw1)",
            "wrap_function_handler: before (mw2)",
            "fn: top",
            "transform_step_input(memo) (mw1)",
            "transform_step_input(memo) (mw2)",
            // The last memo is claimed: new work begins.
            "on_memoization_end (mw1)",
            "on_memoization_end (mw2)",
            "wrap_step(memo run): before (mw1)",
            "wrap_step(memo run): before (mw2)",
            "wrap_step(memo run): after (mw2)",
            "wrap_step(memo run): after (mw1)",
            "transform_step_input(fresh) (mw1)",
            "transform_step_input(fresh) (mw2)",
            "wrap_step(fresh sleep): before (mw1)",
            "wrap_step(fresh sleep): before (mw2)",
            "wrap_request: after (mw2)",
            "wrap_request: after (mw1)",
        ])
    );

    // Call 3: both memoized; the function returns.
    let body = body.memo("sleep", Value::Null);
    let answer = call(&mut service, "order-ordered", "step", &body.build()).await;
    assert_eq!((answer.status, &answer.body), (200, &json!("done")));
    assert_eq!(
        std::mem::take(&mut *log.lock().unwrap()),
        lines(&[
            "wrap_request: before (mw1)",
            "wrap_request: before (mw2)",
            "transform_function_input (mw1)",
            "transform_function_input (mw2)",
            "wrap_function_handler: before (mw1)",
            "wrap_function_handler: before (mw2)",
            "fn: top",
            "transform_step_input(memo) (mw1)",
            "transform_step_input(memo) (mw2)",
            "wrap_step(memo run): before (mw1)",
            "wrap_step(memo run): before (mw2)",
            "wrap_step(memo run): after (mw2)",
            "wrap_step(memo run): after (mw1)",
            "transform_step_input(memo) (mw1)",
            "transform_step_input(memo) (mw2)",
            "on_memoization_end (mw1)",
            "on_memoization_end (mw2)",
            "wrap_step(memo sleep): before (mw1)",
            "wrap_step(memo sleep): before (mw2)",
            "wrap_step(memo sleep): after (mw2)",
            "wrap_step(memo sleep): after (mw1)",
            "fn: bottom",
            "wrap_function_handler: after (mw2)",
            "wrap_function_handler: after (mw1)",
            "on_run_complete (mw1)",
            "on_run_complete (mw2)",
            "wrap_request: after (mw2)",
            "wrap_request: after (mw1)",
        ])
    );

    // A retry of call 1 (attempt 1): the run does not start again.
    let body = CallBody::new("t/ordered", json!({})).attempt(1, 4);
    call(&mut service, "order-ordered", "step", &body.build()).await;
    let log = std::mem::take(&mut *log.lock().unwrap());
    assert!(
        !log.iter().any(|l| l.starts_with("on_run_start")),
        "{log:?}"
    );
    assert!(log.contains(&"on_memoization_end (mw1)".to_owned()));
}
