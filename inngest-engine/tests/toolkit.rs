//! The step toolkit the server handles itself, driven on the core directly (sans I/O): the
//! test plays both the SDK (answering each call) and the network (answering each HTTP request
//! the core asks for), and moves the clock by hand. Signals (`WaitForSignal`, `POST
//! /v1/signals`), `step.fetch` (`Gateway`) and `step.ai.infer` (`AIGateway`), protocol-2.md
//! sections 3 and 4.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use inngest_engine::core::{Core, CoreConfig, Output};
use inngest_engine::{
    Call, CallResponse, Fetch, FetchResponse, RunStatus, SignalError, TransportError,
};
use inngest_protocol::call::CallRequest;
use inngest_protocol::register::RegisterRequest;
use inngest_protocol::step_id::hash;
use serde_json::{json, Value};

/// The core, with what it asked for and not answered yet.
struct Harness {
    core: Core,
    now: SystemTime,
    calls: Vec<Call>,
    fetches: Vec<Fetch>,
}

impl Harness {
    /// A core with one app whose functions (`app-<id>`, triggered by `<id>/go`) have
    /// `attempts` attempts.
    fn new(functions: &[&str], attempts: u32) -> Harness {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut core = Core::new(CoreConfig::default().with_jitter(false), 7);
        let functions: Vec<Value> = functions
            .iter()
            .map(|id| {
                let slug = format!("app-{id}");
                json!({"id": slug, "name": id, "triggers": [{"event": format!("{id}/go")}],
                    "steps": {"step": {"id": "step", "name": "step", "retries": {"attempts": attempts - 1},
                    "runtime": {"type": "http", "url": format!("http://app/api?fnId={slug}&stepId=step")}}}})
            })
            .collect();
        let app: RegisterRequest = serde_json::from_value(
            json!({"appName": "app", "url": "http://app/api", "functions": functions}),
        )
        .unwrap();
        core.register(&app, now).unwrap();
        let mut h = Harness {
            core,
            now,
            calls: Vec::new(),
            fetches: Vec::new(),
        };
        h.pump();
        h
    }

    fn pump(&mut self) {
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::Call(call) => self.calls.push(call),
                Output::Fetch(fetch) => self.fetches.push(fetch),
                _ => {}
            }
        }
    }

    /// Starts a run of `app-<id>`; returns its id.
    fn start(&mut self, id: &str) -> String {
        let ids = self
            .core
            .send(
                vec![json!({"name": format!("{id}/go"), "data": {}})],
                self.now,
            )
            .unwrap();
        self.pump();
        self.core.runs_for_event(&ids[0])[0].run_id.clone()
    }

    /// The oldest call not answered yet, with its request.
    fn next_call(&mut self) -> (Call, CallRequest) {
        assert!(!self.calls.is_empty(), "a call is due");
        let call = self.calls.remove(0);
        let request = serde_json::from_slice(&call.body).unwrap();
        (call, request)
    }

    /// Answers the oldest call as an SDK would.
    fn answer(&mut self, status: u16, body: Value) -> (Call, CallRequest) {
        let (call, request) = self.next_call();
        let mut headers = BTreeMap::new();
        headers.insert("x-inngest-sdk".to_owned(), "fake:v1".to_owned());
        let res = CallResponse {
            status,
            headers,
            body: Bytes::from(serde_json::to_vec(&body).unwrap()),
        };
        self.core.call_finished(call.id, Ok(res), self.now);
        self.pump();
        (call, request)
    }

    /// Answers the oldest HTTP request the core asked for.
    fn fetched(&mut self, result: Result<FetchResponse, TransportError>) -> Fetch {
        assert!(!self.fetches.is_empty(), "a request is due");
        let fetch = self.fetches.remove(0);
        self.core.fetch_finished(fetch.id, result, self.now);
        self.pump();
        fetch
    }

    /// Moves the clock and fires what is due.
    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.core.tick(self.now);
        self.pump();
    }

    /// Fires every timer (retries, timeouts) due in the next day.
    fn retry_now(&mut self) {
        self.advance(Duration::from_secs(86_400));
    }

    fn status(&self, run_id: &str) -> (RunStatus, Value) {
        let run = self.core.run(run_id).unwrap();
        (run.status, run.output.unwrap_or(Value::Null))
    }
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> FetchResponse {
    FetchResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: Bytes::from(body.to_owned()),
    }
}

fn signal_op(step: &str, signal: &str, timeout: &str, conflict: &str) -> Value {
    json!([{"id": hash(step), "op": "WaitForSignal", "name": signal,
        "opts": {"signal": signal, "timeout": timeout, "conflict": conflict}}])
}

#[test]
fn a_signal_resumes_the_waiting_run_once() {
    let mut h = Harness::new(&["a"], 1);
    let run = h.start("a");
    assert_eq!(
        h.core.signal("approved", json!(1), h.now),
        Ok(None),
        "nobody waits yet"
    );
    h.answer(206, signal_op("approval", "approved", "1h", "fail"));
    assert!(h.calls.is_empty(), "the run waits");
    assert_eq!(
        h.core.signal("approved", json!({"by": "ann"}), h.now),
        Ok(Some(run.clone()))
    );
    h.pump();
    let (_, request) = h.answer(200, json!("done"));
    assert_eq!(
        request.steps[&hash("approval")],
        json!({"data": {"signal": "approved", "data": {"by": "ann"}}})
    );
    assert_eq!(h.status(&run), (RunStatus::Completed, json!("done")));
    assert_eq!(
        h.core.signal("approved", json!(2), h.now),
        Ok(None),
        "a signal resumes once"
    );
    assert_eq!(h.core.signal("", json!(2), h.now), Err(SignalError::Empty));
}

#[test]
fn a_wait_that_times_out_resumes_with_null_and_forgets_its_signal() {
    let mut h = Harness::new(&["a"], 1);
    let run = h.start("a");
    h.answer(206, signal_op("approval", "approved", "30m", "fail"));
    h.advance(Duration::from_secs(29 * 60));
    assert!(h.calls.is_empty(), "still waiting after 29 minutes");
    h.advance(Duration::from_secs(60));
    let (_, request) = h.answer(200, json!("timed out"));
    assert_eq!(request.steps[&hash("approval")], Value::Null);
    assert_eq!(h.core.signal("approved", json!(1), h.now), Ok(None));
    assert_eq!(h.status(&run).0, RunStatus::Completed);
}

#[test]
fn a_second_wait_for_a_signal_fails_its_run_unless_it_replaces_the_first() {
    let mut h = Harness::new(&["a", "b", "c"], 3);
    let first = h.start("a");
    h.answer(206, signal_op("w", "s", "1h", "fail"));
    let second = h.start("b");
    h.answer(206, signal_op("w", "s", "1h", "fail"));
    assert_eq!(
        h.status(&second),
        (
            RunStatus::Failed,
            json!({
                "error": "Error: Signal conflict; signal wait already exists for another run",
                "name": "Error",
                "message": "Signal conflict; signal wait already exists for another run",
            })
        ),
        "failed at once, without retries"
    );
    assert!(h.calls.is_empty());
    let third = h.start("c");
    h.answer(206, signal_op("w", "s", "2h", "replace"));
    assert_eq!(
        h.core.signal("s", json!("x"), h.now),
        Ok(Some(third.clone()))
    );
    h.pump();
    h.answer(200, json!("third"));
    // The replaced wait is never signalled: it times out.
    h.advance(Duration::from_secs(3600));
    let (_, request) = h.answer(200, json!("first timed out"));
    assert_eq!(request.ctx.run_id, first);
    assert_eq!(request.steps[&hash("w")], Value::Null);
}

#[test]
fn a_malformed_signal_wait_is_retried_then_fails_the_run() {
    let mut h = Harness::new(&["a"], 2);
    let run = h.start("a");
    h.answer(206, signal_op("w", "", "1h", "fail"));
    h.retry_now();
    let (call, _) = h.answer(206, signal_op("w", "", "1h", "fail"));
    assert_eq!(call.attempt, 1);
    let (status, output) = h.status(&run);
    assert_eq!(status, RunStatus::Failed);
    assert_eq!(output["message"], json!("signal name is empty"));
    let bad_timeout = h.start("a");
    h.answer(206, signal_op("w", "s", "soon", "fail"));
    h.retry_now();
    h.answer(206, signal_op("w", "s", "soon", "fail"));
    let (_, output) = h.status(&bad_timeout);
    assert!(
        output["message"]
            .as_str()
            .unwrap()
            .starts_with("unable to parse signal expires:"),
        "{output}"
    );
}

fn gateway_op(step: &str, opts: Value) -> Value {
    json!([{"id": hash(step), "op": "Gateway", "displayName": step, "opts": opts}])
}

#[test]
fn a_fetch_is_made_by_the_engine_and_any_status_is_its_result() {
    let mut h = Harness::new(&["a"], 1);
    let run = h.start("a");
    h.answer(
        206,
        gateway_op(
            "get-user",
            json!({"url": "http://api.example/users/7", "method": "GET", "headers": {"accept": "application/json"}}),
        ),
    );
    assert!(h.calls.is_empty(), "no call while the request is out");
    let fetch = h.fetched(Ok(response(
        404,
        &[
            ("content-type", "application/json"),
            ("x-a", "1"),
            ("x-a", "2"),
        ],
        r#"{"error":"no such user"}"#,
    )));
    assert_eq!(fetch.step, "get-user");
    assert_eq!(fetch.request.method, "GET");
    assert_eq!(fetch.request.url, "http://api.example/users/7");
    assert_eq!(
        fetch.request.headers,
        vec![
            ("accept".to_owned(), "application/json".to_owned()),
            ("user-agent".to_owned(), "Inngest".to_owned())
        ]
    );
    let (_, request) = h.answer(200, json!("ok"));
    assert_eq!(
        request.steps[&hash("get-user")],
        json!({"data": {"url": "http://api.example/users/7", "status_code": 404,
            "headers": {"Content-Type": "application/json", "X-A": "1,2"},
            "body": r#"{"error":"no such user"}"#}})
    );
    assert_eq!(h.status(&run).0, RunStatus::Completed);
}

#[test]
fn a_fetch_to_an_unreachable_host_is_retried_then_resumes_with_a_gateway_error() {
    let mut h = Harness::new(&["a"], 2);
    let run = h.start("a");
    let op = gateway_op(
        "call",
        json!({"url": "http://127.0.0.1:1/x", "method": "POST", "body": "hi"}),
    );
    h.answer(206, op.clone());
    let fetch = h.fetched(Err(TransportError::new("connection refused")));
    assert_eq!(fetch.request.body.as_deref(), Some(&b"\"hi\""[..]));
    assert!(h.calls.is_empty(), "the call is retried after the backoff");
    h.retry_now();
    let (call, _) = h.answer(206, op);
    assert_eq!((call.step_id.as_str(), call.attempt), ("step", 1));
    h.fetched(Err(TransportError::new("connection refused")));
    let (_, request) = h.answer(200, json!("handled"));
    assert_eq!(
        request.steps[&hash("call")],
        json!({"error": {"name": "GatewayError",
            "message": "Error making gateway request: connection refused"}})
    );
    assert_eq!(h.status(&run).0, RunStatus::Completed);
}

#[test]
fn a_fetch_with_a_bad_method_or_url_is_a_handler_error() {
    let mut h = Harness::new(&["a"], 1);
    let run = h.start("a");
    h.answer(
        206,
        gateway_op("call", json!({"url": "not a url", "method": "GET"})),
    );
    assert!(h.fetches.is_empty());
    let (status, output) = h.status(&run);
    assert_eq!(status, RunStatus::Failed);
    assert!(
        output["message"]
            .as_str()
            .unwrap()
            .starts_with("error creating gateway request: parse \"not a url\""),
        "{output}"
    );
}

fn ai_op(step: &str) -> Value {
    json!([{"id": hash(step), "op": "AIGateway", "displayName": step, "opts": {
        "type": "step.ai.infer", "url": "http://ai.example/v1/chat/completions",
        "auth_key": "sk-test", "format": "openai-chat",
        "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}}}])
}

#[test]
fn an_inference_resumes_with_the_providers_answer() {
    let mut h = Harness::new(&["a"], 1);
    let run = h.start("a");
    h.answer(206, ai_op("ask"));
    let fetch = h.fetched(Ok(response(
        200,
        &[],
        r#"{"choices":[{"message":{"content":"hello"}}]}"#,
    )));
    assert_eq!(fetch.request.method, "POST");
    assert!(fetch
        .request
        .headers
        .contains(&("authorization".to_owned(), "Bearer sk-test".to_owned())));
    assert_eq!(
        fetch.request.body.as_deref(),
        Some(&br#"{"messages":[{"content":"hi","role":"user"}],"model":"gpt-4o"}"#[..])
    );
    let (_, request) = h.answer(200, json!("ok"));
    assert_eq!(
        request.steps[&hash("ask")],
        json!({"data": {"choices": [{"message": {"content": "hello"}}]}})
    );
    assert_eq!(h.status(&run).0, RunStatus::Completed);
}

#[test]
fn a_rate_limited_inference_is_retried_then_fails_its_step_with_an_ai_gateway_error() {
    let mut h = Harness::new(&["a"], 3);
    let run = h.start("a");
    for attempt in 0..3 {
        let (call, _) = h.answer(206, ai_op("ask"));
        assert_eq!(call.attempt, attempt);
        h.fetched(Ok(response(429, &[], r#"{"error":"rate limited"}"#)));
        h.retry_now();
    }
    let (_, request) = h.answer(200, json!("gave up"));
    assert_eq!(
        request.steps[&hash("ask")],
        json!({"error": {"name": "AIGatewayError",
            "message": "Error making AI request: unsuccessful status code: 429",
            "data": {"error": "rate limited"}, "stack": r#"{"error":"rate limited"}"#}})
    );
    assert_eq!(h.status(&run).0, RunStatus::Completed);
}

#[test]
fn an_inference_answered_with_garbage_is_retried_then_fails_the_run() {
    let mut h = Harness::new(&["a"], 2);
    let run = h.start("a");
    h.answer(206, ai_op("ask"));
    h.fetched(Ok(response(200, &[], "<html>oops</html>")));
    h.retry_now();
    h.answer(206, ai_op("ask"));
    h.fetched(Ok(response(200, &[], "<html>oops</html>")));
    let (status, output) = h.status(&run);
    assert_eq!(status, RunStatus::Failed);
    assert!(
        output["message"]
            .as_str()
            .unwrap()
            .starts_with("error wrapping ai result in map:"),
        "{output}"
    );
}

#[test]
fn a_response_for_a_run_cancelled_meanwhile_is_dropped() {
    let mut h = Harness::new(&["a"], 1);
    let run = h.start("a");
    h.answer(206, ai_op("ask"));
    assert!(h.core.cancel(&run, h.now));
    h.pump();
    h.fetched(Ok(response(200, &[], "{}")));
    assert!(h.calls.is_empty());
    assert_eq!(h.status(&run).0, RunStatus::Cancelled);
}
