//! Faults in user code, and shutting down: a function that panics, hangs past the call
//! timeout, or returns something that cannot be serialized gets a clear answer, and the
//! server goes on serving. A graceful shutdown refuses new connections but finishes the
//! requests in flight.

mod support;

use std::collections::HashMap;
use std::future::IntoFuture;
use std::time::Duration;

use inngest::{Context, Error};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Value};
use support::{hash, CallBody, Served};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

const APP: &str = "faults";

/// How long any awaited condition may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(10);

#[inngest::function(id = "fine", event = "test/fine")]
async fn fine(ctx: Context) -> Result<Value, Error> {
    let n: i64 = ctx
        .step
        .run("double", || async {
            Ok(ctx.event.data["n"].as_i64().unwrap_or(0) * 2)
        })
        .await?;
    Ok(json!({ "doubled": n }))
}

#[inngest::function(id = "panics", event = "test/panics")]
async fn panics(ctx: Context) -> Result<Value, Error> {
    if ctx.event.data["panic"] == true {
        panic!("the body panicked on purpose");
    }
    Ok(json!("did not panic"))
}

/// Event data whose `Deserialize` panics when asked to: the event is read before the
/// function's first poll.
#[derive(Debug)]
struct PanickyData;

impl<'de> Deserialize<'de> for PanickyData {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        if value["panic"] == true {
            panic!("the event's Deserialize panicked on purpose");
        }
        Ok(PanickyData)
    }
}

#[inngest::function(id = "event-panics", event = "test/event-panics")]
async fn event_panics(_ctx: Context<PanickyData>) -> Result<&'static str, Error> {
    Ok("read")
}

#[inngest::function(id = "step-panics", event = "test/step-panics")]
async fn step_panics(ctx: Context) -> Result<String, Error> {
    let out: String = ctx
        .step
        .run("explode", || async {
            if ctx.event.data["panic"] == true {
                panic!("the step panicked on purpose");
            }
            Ok("no explosion".to_owned())
        })
        .await?;
    Ok(out)
}

/// Set when the future of `hangs` is dropped.
static HANG_DROPPED: Notify = Notify::const_new();

struct NotifyOnDrop(&'static Notify);

impl Drop for NotifyOnDrop {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

#[inngest::function(id = "hangs", event = "test/hangs")]
async fn hangs(_ctx: Context) -> Result<(), Error> {
    let _guard = NotifyOnDrop(&HANG_DROPPED);
    std::future::pending::<()>().await;
    Ok(())
}

#[inngest::function(id = "step-hangs", event = "test/step-hangs")]
async fn step_hangs(ctx: Context) -> Result<(), Error> {
    ctx.step
        .run("forever", || async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        })
        .await
}

/// A local whose destructor panics, dropped when the call ends with the function suspended.
struct PanicsOnDrop(&'static str);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

#[inngest::function(id = "drop-panics", event = "test/drop-panics")]
async fn drop_panics(ctx: Context) -> Result<i64, Error> {
    let _guard = PanicsOnDrop("a destructor panicked");
    let n: i64 = ctx.step.run("one", || async { Ok(1) }).await?;
    Ok(n)
}

#[inngest::function(id = "hangs-drop-panics", event = "test/hangs-drop-panics")]
async fn hangs_drop_panics(_ctx: Context) -> Result<(), Error> {
    let _guard = PanicsOnDrop("a destructor panicked after the timeout");
    std::future::pending::<()>().await;
    Ok(())
}

/// A map whose keys are tuples: JSON object keys must be strings.
#[inngest::function(id = "bad-output", event = "test/bad-output")]
async fn bad_output(_ctx: Context) -> Result<HashMap<(u8, u8), u8>, Error> {
    Ok(HashMap::from([((1, 2), 3)]))
}

/// A value whose `Serialize` implementation fails.
#[derive(Debug, Deserialize)]
struct Refuses;

impl Serialize for Refuses {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("Refuses will not be serialized"))
    }
}

#[inngest::function(id = "bad-step-output", event = "test/bad-step-output")]
async fn bad_step_output(ctx: Context) -> Result<&'static str, Error> {
    ctx.step.run("refuse", || async { Ok(Refuses) }).await?;
    Ok("unreachable")
}

/// Waits for the test to let it answer.
static SLOW_ENTERED: Notify = Notify::const_new();
static SLOW_RELEASE: Notify = Notify::const_new();

#[inngest::function(id = "slow", event = "test/slow")]
async fn slow(ctx: Context) -> Result<Value, Error> {
    SLOW_ENTERED.notify_one();
    SLOW_RELEASE.notified().await;
    Ok(json!({ "released": true, "echo": ctx.event.data }))
}

/// The body without the `stack` of its errors: one is captured only when `RUST_BACKTRACE` is
/// set, and its frames depend on the build.
fn without_stacks(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("stack");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

fn app() -> inngest::App {
    inngest::App::new(APP)
        .dev("http://127.0.0.1:9")
        .call_timeout(Duration::from_millis(200))
        .register::<fine>()
        .register::<panics>()
        .register::<event_panics>()
        .register::<step_panics>()
        .register::<hangs>()
        .register::<step_hangs>()
        .register::<drop_panics>()
        .register::<hangs_drop_panics>()
        .register::<bad_output>()
        .register::<bad_step_output>()
        .register::<slow>()
}

/// A normal call still works: the step runs, then the function completes.
async fn assert_still_serving(s: &Served) {
    let body = CallBody::new("test/fine", json!({"n": 21}));
    let r = s.call("faults-fine", "step", &body.build()).await;
    assert_eq!(r.status, 206, "{r:?}");
    r.assert_sdk_headers();
    assert_eq!(r.json()[0]["op"], "StepRun", "{r:?}");
    assert_eq!(r.json()[0]["data"], 42, "{r:?}");
    let r = s
        .call(
            "faults-fine",
            "step",
            &body.memo("double", json!({"data": 42})).build(),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    r.assert_sdk_headers();
    assert_eq!(r.json(), json!({"doubled": 42}));
}

#[tokio::test]
async fn a_panic_in_the_body_is_a_retriable_500_and_the_server_goes_on() {
    panics_then_answers(
        "faults-panics",
        "test/panics",
        "the body panicked on purpose",
        json!("did not panic"),
    )
    .await;
}

#[tokio::test]
async fn a_panic_in_the_events_deserialize_is_a_retriable_500_and_the_server_goes_on() {
    panics_then_answers(
        "faults-event-panics",
        "test/event-panics",
        "the event's Deserialize panicked on purpose",
        json!("read"),
    )
    .await;
}

/// `function`, called with an `event` that says to panic, answers a retriable `500` `Panic`
/// with `message`; called with one that does not, it answers `200` with `answer`; and the
/// server goes on serving.
async fn panics_then_answers(function: &str, event: &str, message: &str, answer: Value) {
    let s = Served::start(app()).await;
    let body = |panic: bool| CallBody::new(event, json!({ "panic": panic })).build();
    let r = s.call(function, "step", &body(true)).await;
    r.assert_error(500, "false");
    assert_eq!(r.json(), json!({"name": "Panic", "message": message}));
    // The same function answers normally when it does not panic.
    let r = s.call(function, "step", &body(false)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json(), answer);
    assert_still_serving(&s).await;
}

#[tokio::test]
async fn a_panic_in_a_step_is_a_retriable_500_and_the_server_goes_on() {
    let s = Served::start(app()).await;
    let r = s
        .call(
            "faults-step-panics",
            "step",
            &CallBody::new("test/step-panics", json!({"panic": true})).build(),
        )
        .await;
    r.assert_error(500, "false");
    assert_eq!(
        r.json(),
        json!({"name": "Panic", "message": "the step panicked on purpose"})
    );
    // A step targeted by its id panics the same way.
    let r = s
        .call(
            "faults-step-panics",
            &hash("explode"),
            &CallBody::new("test/step-panics", json!({"panic": true}))
                .no_immediate()
                .build(),
        )
        .await;
    r.assert_error(500, "false");
    assert_eq!(r.json()["name"], "Panic");
    // The retry of the same step, not panicking this time, reports its result.
    let r = s
        .call(
            "faults-step-panics",
            "step",
            &CallBody::new("test/step-panics", json!({"panic": false}))
                .attempt(1, 4)
                .build(),
        )
        .await;
    assert_eq!(r.status, 206, "{r:?}");
    assert_eq!(r.json()[0]["op"], "StepRun");
    assert_eq!(r.json()[0]["data"], "no explosion");
    assert_still_serving(&s).await;
}

#[tokio::test]
async fn a_destructor_that_panics_when_the_call_ends_is_a_retriable_500() {
    let s = Served::start(app()).await;
    // The step runs, then the suspended function is dropped: its guard panics.
    let body = CallBody::new("test/drop-panics", json!({}));
    let r = s.call("faults-drop-panics", "step", &body.build()).await;
    r.assert_error(500, "false");
    assert_eq!(
        r.json(),
        json!({"name": "Panic", "message": "a destructor panicked"})
    );
    // With the step memoized, the function returns, then its guard panics.
    let r = s
        .call(
            "faults-drop-panics",
            "step",
            &body.memo("one", json!({"data": 1})).build(),
        )
        .await;
    r.assert_error(500, "false");
    assert_eq!(
        r.json(),
        json!({"name": "Panic", "message": "a destructor panicked"})
    );
    assert_still_serving(&s).await;
}

/// Calls `function` with `event` and checks the call timeout's answer (200 ms in `app()`).
async fn assert_times_out(s: &Served, function: &str, event: &str) {
    let r = s
        .call(function, "step", &CallBody::new(event, json!({})).build())
        .await;
    r.assert_error(500, "false");
    assert_eq!(
        r.json(),
        json!({
            "name": "FunctionTimeout",
            "message": format!("the function `{function}` did not answer within 200ms"),
        })
    );
}

#[tokio::test]
async fn a_destructor_that_panics_after_the_call_timeout_still_gets_the_timeout_answer() {
    let s = Served::start(app()).await;
    assert_times_out(&s, "faults-hangs-drop-panics", "test/hangs-drop-panics").await;
    assert_still_serving(&s).await;
}

#[tokio::test]
async fn a_function_that_hangs_is_answered_at_the_call_timeout_and_dropped() {
    let s = Served::start(app()).await;
    assert_times_out(&s, "faults-hangs", "test/hangs").await;
    // The abandoned call's future is dropped, not left running.
    tokio::time::timeout(DEADLINE, HANG_DROPPED.notified())
        .await
        .expect("the hanging function's future is dropped after the timeout");
    assert_still_serving(&s).await;
}

#[tokio::test]
async fn a_step_that_hangs_is_answered_at_the_call_timeout() {
    let s = Served::start(app()).await;
    assert_times_out(&s, "faults-step-hangs", "test/step-hangs").await;
    assert_still_serving(&s).await;
}

#[tokio::test]
async fn hanging_calls_do_not_block_other_calls() {
    let s = Served::start(app()).await;
    // `step-hangs`: `hangs` signals its drop to another test.
    let hang = CallBody::new("test/step-hangs", json!({})).build();
    let (a, b, ()) = tokio::join!(
        s.call("faults-step-hangs", "step", &hang),
        s.call("faults-step-hangs", "step", &hang),
        assert_still_serving(&s),
    );
    for r in [a, b] {
        r.assert_error(500, "false");
        assert_eq!(r.json()["name"], "FunctionTimeout");
    }
}

#[tokio::test]
async fn an_output_that_cannot_serialize_is_a_non_retriable_400() {
    let s = Served::start(app()).await;
    let r = s
        .call(
            "faults-bad-output",
            "step",
            &CallBody::new("test/bad-output", json!({})).build(),
        )
        .await;
    r.assert_error(400, "true");
    assert_eq!(
        without_stacks(r.json()),
        json!({
            "name": "NonRetriableError",
            "message": "the output of `faults::bad_output` does not serialize to JSON: key must be a string",
        })
    );
    assert_still_serving(&s).await;
}

#[tokio::test]
async fn a_step_result_that_cannot_serialize_fails_the_step_for_good() {
    let s = Served::start(app()).await;
    let body = CallBody::new("test/bad-step-output", json!({}));
    let message =
        "the result of step `refuse` does not serialize to JSON: Refuses will not be serialized";
    let r = s
        .call("faults-bad-step-output", "step", &body.build())
        .await;
    assert_eq!(r.status, 206, "{r:?}");
    r.assert_sdk_headers();
    assert_eq!(r.header("x-inngest-no-retry"), Some("true"), "{r:?}");
    assert_eq!(
        without_stacks(r.json()),
        json!([{
            "id": hash("refuse"),
            "op": "StepFailed",
            "name": "refuse",
            "displayName": "refuse",
            "opts": {"type": "step.run"},
            "userland": {"id": "refuse"},
            "error": {"name": "NonRetriableError", "message": message},
        }])
    );
    // Inngest stores the failure and calls again: the step raises a StepError, which the
    // function does not handle, so the run fails without retries.
    let r = s
        .call(
            "faults-bad-step-output",
            "step",
            &body
                .memo(
                    "refuse",
                    json!({"error": {"name": "NonRetriableError", "message": message}}),
                )
                .build(),
        )
        .await;
    r.assert_error(400, "true");
    assert_eq!(
        without_stacks(r.json()),
        json!({
            "name": "StepError",
            "message": message,
            "cause": {"name": "NonRetriableError", "message": message},
            "stepId": "refuse",
        })
    );
    assert_still_serving(&s).await;
}

/// Waits until a TCP connection to `addr` is refused.
async fn refused(addr: std::net::SocketAddr) {
    loop {
        match TcpStream::connect(addr).await {
            Err(_) => return,
            // Still listening (or queued before the listener closed): try again shortly.
            Ok(stream) => drop(stream),
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn graceful_shutdown_refuses_new_connections_and_finishes_requests_in_flight() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("http://{addr}/api/inngest");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        app()
            .serve()
            .listener(listener)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .into_future(),
    );

    // A call that is in the function when shutdown begins.
    let in_flight = tokio::spawn({
        let url = format!("{url}?fnId=faults-slow&stepId=step");
        let body = CallBody::new("test/slow", json!({"order": 7})).build();
        async move {
            let res = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .expect("the request in flight is answered");
            support::Reply::read(res).await
        }
    });
    tokio::time::timeout(DEADLINE, SLOW_ENTERED.notified())
        .await
        .expect("the call reaches the function");

    stop.send(()).unwrap();
    tokio::time::timeout(DEADLINE, refused(addr))
        .await
        .expect("new connections are refused once shutdown has begun");
    let err = reqwest::Client::new()
        .post(format!("{url}?fnId=faults-fine&stepId=step"))
        .json(&CallBody::new("test/fine", json!({"n": 1})).build())
        .send()
        .await
        .expect_err("a new request after shutdown began is not served");
    assert!(err.is_connect(), "{err:?}");
    assert!(!in_flight.is_finished(), "the call waits for its function");
    assert!(!server.is_finished(), "serve waits for the call in flight");

    SLOW_RELEASE.notify_one();
    let r = tokio::time::timeout(DEADLINE, in_flight)
        .await
        .expect("the call in flight finishes once released")
        .unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    r.assert_sdk_headers();
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json(), json!({"released": true, "echo": {"order": 7}}));

    let served = tokio::time::timeout(DEADLINE, server)
        .await
        .expect("serve returns once the call in flight has finished")
        .unwrap();
    assert!(served.is_ok(), "{served:?}");
}
