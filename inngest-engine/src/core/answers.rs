//! Calls out and answers back: building a call request for a queue item, and reading an SDK's
//! answer the way the server's HTTP driver does (`httpdriver.go`, `parse.go`).

use std::collections::BTreeMap;

use bytes::Bytes;
use inngest_protocol::call::{CallContext, CallRequest, CallStack};
use inngest_protocol::headers::{
    RETRY_AFTER, X_INNGEST_NO_RETRY, X_INNGEST_REQ_VERSION, X_INNGEST_SDK,
};
use inngest_protocol::limits::MAX_SDK_REQUEST_BYTES;
use inngest_protocol::op::{Op, Opcode};
use inngest_protocol::time::from_unix_millis;
use serde_json::{json, Value};

use std::collections::HashSet;

use super::limits;
use super::queue::QueueItem;
use super::timers::Timer;
use super::types::{Call, CallId, CallResponse, Output, RunStatus, TransportError};
use super::Core;

impl Core {
    /// Turns the ready queue items into calls, backlog by backlog in the order of their first
    /// items: a backlog whose concurrency is full waits for a call to end, one that is
    /// throttled waits for its time.
    pub(crate) fn dispatch(&mut self) {
        let mut blocked = HashSet::new();
        while let Some((backlog, gate)) = self.ready.first_open(&blocked) {
            if !self.flow.concurrency.has_capacity(&gate.limits) {
                blocked.insert(backlog);
                continue;
            }
            if let Some((key, rate)) = &gate.throttle {
                if let Err(retry_at) = self.flow.throttle.admit(key, self.now, *rate) {
                    if self.wakes.insert(retry_at) {
                        self.timers.add(retry_at, Timer::Wake);
                    }
                    blocked.insert(backlog);
                    continue;
                }
            }
            let Some(mut item) = self.ready.pop_from(&backlog) else {
                blocked.insert(backlog);
                continue;
            };
            if item.job == 0 {
                item.job = self.next_call + 1; // from the id of its first call (0 is unset)
            }
            item.generation = item.generation.max(1);
            if let Some(call) = self.call_for(&item) {
                self.flow.concurrency.take(&gate.limits);
                self.mark_started(&item.run_id);
                self.calls_by_job.insert(item.job, call.id);
                self.in_flight.insert(call.id, (item, gate.limits));
                self.outputs.push_back(Output::Call(call));
            }
        }
    }

    /// The call request for a queue item, from the run's state now.
    fn call_for(&mut self, item: &QueueItem) -> Option<Call> {
        if self.over_step_limit(&item.run_id) {
            return None;
        }
        let run = self.runs.get(&item.run_id)?;
        if !run.status.is_active() {
            return None;
        }
        let Some(function) = self.registry.functions.get(&run.function_id) else {
            let error = json!({"name": "Error", "message": "the function is no longer registered"});
            self.finish(&item.run_id, RunStatus::Failed, error);
            return None;
        };
        let max_attempts = function.retries + 1;
        let no_steps = BTreeMap::new();
        // As the server's driver: the whole state when it fits in a request, else `use_api`
        // without the steps (the SDK fetches them with `GET /v0/runs/{id}/actions`), and
        // without the events too when those alone are too large (`/v0/runs/{id}/batch`).
        let mut body = Bytes::new();
        for (with_steps, with_events) in [(true, true), (false, true), (false, false)] {
            let use_api = !(with_steps && with_events);
            let request = CallRequest {
                event: &run.event,
                events: if with_events {
                    run.events.iter().collect()
                } else {
                    Vec::new()
                },
                steps: if with_steps { &run.steps } else { &no_steps },
                version: Some(run.version),
                use_api,
                ctx: CallContext {
                    fn_id: Some(run.function_id.clone()),
                    run_id: run.id.clone(),
                    env: None,
                    step_id: Some(item.step_id.clone()),
                    attempt: item.attempt,
                    max_attempts: Some(max_attempts),
                    stack: Some(CallStack {
                        stack: run.stack.clone(),
                        current: Some(run.stack.len() as i64),
                    }),
                    disable_immediate_execution: run.disable_immediate,
                    use_api,
                    qi_id: Some(super::checkpoint::queue_item_ref(item.job)),
                },
            };
            body = Bytes::from(serde_json::to_vec(&request).unwrap_or_default());
            if body.len() <= MAX_SDK_REQUEST_BYTES {
                break;
            }
        }
        let call = Call {
            id: CallId(self.next_call),
            app_id: function.app_id.clone(),
            function_id: run.function_id.clone(),
            run_id: run.id.clone(),
            step_id: item.step_id.clone(),
            attempt: item.attempt,
            generation: item.generation,
            job_id: item.job.to_string(),
            request_id: dispatch_request_id(self.now, item.job, item.generation),
            url: step_url(&function.url, &item.step_id),
            version: run.version,
            body,
            trace: run.trace.clone(),
        };
        self.next_call += 1;
        Some(call)
    }

    /// Reads the answer to a call.
    pub(crate) fn answer(&mut self, item: QueueItem, answer: Result<CallResponse, TransportError>) {
        if !self.is_active(&item.run_id) {
            return; // the run ended while the call was out
        }
        let res = match answer {
            Ok(res) => res,
            Err(e) if e.message.starts_with(limits::OUTPUT_TOO_LARGE) => {
                return self.retry_or_fail(item, limits::output_too_large(), None, false);
            }
            Err(e) => {
                let error = json!({"name": "Error", "message": e.message, "error": e.message});
                return self.retry_or_fail(item, error, None, false);
            }
        };
        let res = match unstream(res) {
            Ok(res) => res,
            Err(message) => {
                let error = json!({"name": "Error", "message": message, "error": message});
                return self.retry_or_fail(item, error, None, false);
            }
        };
        let no_retry = res.header(X_INNGEST_NO_RETRY) == Some("true");
        let retry_after = res.header(RETRY_AFTER).and_then(|v| {
            inngest_protocol::retry::parse_retry_after(v, from_unix_millis(self.now))
        });
        if res.header(X_INNGEST_SDK).is_none() {
            let error = json!({
                "name": "Server returned a fatal error",
                "message": format!("Your server returned HTTP {} before the SDK responded.", res.status),
                "error": format!("Your server returned HTTP {} before the SDK responded.", res.status),
                "stack": String::from_utf8_lossy(&res.body[..res.body.len().min(8 * 1024)]),
            });
            return self.retry_or_fail(item, error, retry_after, no_retry);
        }
        if let Some(version) = res
            .header(X_INNGEST_REQ_VERSION)
            .and_then(|v| v.parse().ok())
        {
            if let Some(run) = self.runs.get_mut(&item.run_id) {
                if run.version == -1 {
                    run.version = version;
                }
            }
        }
        match res.status {
            200 => {
                let output = serde_json::from_slice(&res.body).unwrap_or_else(|_| {
                    Value::String(String::from_utf8_lossy(&res.body).into_owned())
                });
                self.finish(&item.run_id, RunStatus::Completed, output);
            }
            206 => match parse_ops(&res.body) {
                Ok(ops) => {
                    if let Some(error) = ops.iter().find_map(|op| limits::check_op(op).err()) {
                        return self.retry_or_fail(item, error, retry_after, no_retry);
                    }
                    if self.too_many_ops(&item.run_id, &ops) {
                        return;
                    }
                    self.apply_ops(item, ops, no_retry, retry_after)
                }
                Err(message) => {
                    let error = json!({"name": "Error", "message": message, "error": message});
                    self.retry_or_fail(item, error, retry_after, no_retry);
                }
            },
            status => {
                let mut error = match serde_json::from_slice::<Value>(&res.body) {
                    Ok(Value::Object(map)) => Value::Object(map),
                    Ok(other) => json!({"name": "Error", "message": other}),
                    Err(_) => {
                        json!({"name": "Error", "message": String::from_utf8_lossy(&res.body)})
                    }
                };
                if let Some(map) = error.as_object_mut() {
                    map.entry("name").or_insert_with(|| Value::from("Error"));
                    // The server's `error.error`: the body's own `error` text, else the
                    // driver's error: "NonRetriableError" when the SDK said not to retry,
                    // else the status (`httpdriver.go`, `StandardError`).
                    if !map.get("error").is_some_and(Value::is_string) {
                        let text = if no_retry {
                            "NonRetriableError".to_owned()
                        } else {
                            format!("invalid status code: {status}")
                        };
                        map.insert("error".into(), Value::from(text));
                    }
                }
                self.retry_or_fail(item, error, retry_after, no_retry);
            }
        }
    }
}

/// A streamed answer (status 201, protocol.md 3.6) read as the answer it carries: whitespace
/// keep-alives, then `{"status", "body", "headers"}`; a `body` given as a JSON string is the
/// JSON it spells.
fn unstream(res: CallResponse) -> Result<CallResponse, String> {
    if res.status != 201 {
        return Ok(res);
    }
    let envelope: Value = serde_json::from_slice(res.body.trim_ascii())
        .map_err(|e| format!("the streamed answer is not a JSON envelope: {e}"))?;
    if let Some(error) = envelope.get("error").filter(|e| !e.is_null()) {
        return Err(format!("the streamed answer failed: {error}"));
    }
    let status = envelope["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .ok_or("the streamed answer has no status")?;
    let body = match &envelope["body"] {
        Value::String(text) => Bytes::from(text.clone().into_bytes()),
        other => Bytes::from(serde_json::to_vec(other).unwrap_or_default()),
    };
    let mut headers = res.headers;
    if let Some(map) = envelope["headers"].as_object() {
        for (k, v) in map {
            if let Some(v) = v.as_str() {
                headers.insert(k.to_ascii_lowercase(), v.to_owned());
            }
        }
    }
    Ok(CallResponse {
        status,
        headers,
        body,
    })
}

/// The ops of a 206 body, as the server reads them: an array (`[]` is one `None` op) or a
/// single object; anything else, or an unknown opcode, is an error.
fn parse_ops(body: &[u8]) -> Result<Vec<Op>, String> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the SDK's 206 answer is not JSON: {e}"))?;
    let ops: Vec<Op> = match value {
        Value::Array(items) if items.is_empty() => Ok(vec![Op::new(Opcode::None, "")]),
        Value::Array(_) => serde_json::from_value(value),
        Value::Object(_) => serde_json::from_value(value).map(|op| vec![op]),
        _ => return Err("the SDK's 206 answer is not a list of ops".to_owned()),
    }
    .map_err(|e| format!("the SDK's 206 answer has an invalid op: {e}"))?;
    Ok(ops)
}

/// The `x-request-id` of a dispatch of queue item `job` at generation `generation`, at `now`
/// (ms): a ULID of the time whose random part is the start of a hash of
/// `"<job>:<generation>"`, as the server's `DispatchRequestID` makes it (the server hashes with
/// SHA-256; the id is opaque to SDKs, so the SHA-1 this crate has serves).
fn dispatch_request_id(now: u64, job: u64, generation: u32) -> String {
    let hex = inngest_protocol::step_id::hash(&format!("{job}:{generation}"));
    // 20 hex digits: the 80 random bits of a ULID.
    let random = u128::from_str_radix(&hex[..20], 16).unwrap_or_default();
    ulid::Ulid::from_parts(now, random).to_string()
}

/// The function's step URL with `stepId` set to `step_id`.
fn step_url(url: &str, step_id: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != "stepId" && k != "step")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed
        .query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair("stepId", step_id);
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dispatch_request_id_is_a_ulid_of_its_time_and_differs_by_item_and_generation() {
        let id = dispatch_request_id(1_712_345_678_901, 7, 1);
        let ulid = ulid::Ulid::from_string(&id).unwrap();
        assert_eq!(ulid.timestamp_ms(), 1_712_345_678_901);
        // The same dispatch gives the same id; another generation or item, another one.
        assert_eq!(dispatch_request_id(1_712_345_678_901, 7, 1), id);
        let others = [
            dispatch_request_id(1_712_345_678_901, 7, 2),
            dispatch_request_id(1_712_345_678_901, 8, 1),
        ];
        for other in others {
            assert_ne!(
                ulid::Ulid::from_string(&other).unwrap().random(),
                ulid.random()
            );
        }
    }

    #[test]
    fn step_urls() {
        assert_eq!(
            step_url("http://a/api?fnId=x&step=step", "abc"),
            "http://a/api?fnId=x&stepId=abc"
        );
    }

    #[test]
    fn ops_as_the_server_reads_them() {
        assert_eq!(parse_ops(b"[]").unwrap()[0].op, Opcode::None);
        assert!(parse_ops(b"\"x\"").is_err());
        assert!(parse_ops(b"not json").is_err());
        assert!(parse_ops(br#"[{"op": "Nope"}]"#)
            .unwrap_err()
            .contains("unknown opcode"));
        assert_eq!(
            parse_ops(br#"{"op": "StepRun", "id": "a", "data": 1}"#)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn streamed_answers() {
        let res = CallResponse {
            status: 201,
            headers: Default::default(),
            body: Bytes::from_static(b"  \n {\"status\":206,\"body\":\"[]\",\"headers\":{\"X-Inngest-No-Retry\":\"true\"}}"),
        };
        let res = unstream(res).unwrap();
        assert_eq!((res.status, &res.body[..]), (206, &b"[]"[..]));
        assert_eq!(res.header("x-inngest-no-retry"), Some("true"));
    }
}
