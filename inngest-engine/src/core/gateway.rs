//! The HTTP calls Inngest makes on a function's behalf (protocol-2.md section 4): `Gateway`
//! (`step.fetch`) and `AIGateway` (`step.ai.infer`). The core builds the request as the
//! server does (`pkg/util/gateway`, `pkg/util/aigateway`), asks its driver to make it
//! ([`Output::Fetch`](super::Output::Fetch)), and is told how it went
//! ([`Core::fetch_finished`]).
//!
//! As on the server, the call belongs to the queue item that reported the op: when it fails
//! and attempts remain, that item is retried (the SDK is called again and reports the op
//! again); on the last attempt the step resumes with the error. A `Gateway` response of any
//! status is a success; an `AIGateway` response above 299 is a failure.

use std::collections::BTreeMap;
use std::time::SystemTime;

use bytes::Bytes;
use inngest_protocol::gateway::{
    canonical_header, GatewayResponse, AI_GATEWAY_ERROR, FORMAT_ANTHROPIC, FORMAT_BEDROCK,
    FORMAT_GEMINI, GATEWAY_ERROR,
};
use inngest_protocol::op::{AiGatewayOpts, GatewayOpts, Op};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::queue::QueueItem;
use super::tracked::TrackedTree;
use super::types::{Output, TransportError};
use super::Core;

/// Identifies one outbound HTTP call the core asked for, to match its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FetchId(pub u64);

/// An HTTP call for the driver to make on a run's behalf.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Fetch {
    /// Answer it with [`Core::fetch_finished`].
    pub id: FetchId,
    /// The run it is for.
    pub run_id: String,
    /// The step's id as the user wrote it.
    pub step: String,
    /// The request.
    pub request: FetchRequest,
}

/// An HTTP request, as the server's gateway sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchRequest {
    /// The method (`GET`, `POST`, ...).
    pub method: String,
    /// The URL.
    pub url: String,
    /// The headers, in order (a name may repeat).
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Bytes>,
}

/// The response to a [`FetchRequest`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers, in order (a name may repeat).
    pub headers: Vec<(String, String)>,
    /// The body (the driver stops reading at 8 MiB and reports an error instead).
    pub body: Bytes,
}

/// Which gateway a call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum GatewayKind {
    /// `step.fetch`: any response is the step's result.
    Fetch,
    /// `step.ai.infer`: a 2xx JSON response is the step's result.
    Ai,
}

/// A call out, with the queue item that reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PendingFetch {
    pub kind: GatewayKind,
    /// The run.
    pub run_id: String,
    /// The hashed id of the step it resumes.
    pub step: String,
    /// The queue item that reported the op: its step id, attempt, job id and generation.
    pub item_step: String,
    pub item_attempt: u32,
    #[serde(default)]
    pub item_job: u64,
    #[serde(default)]
    pub item_generation: u32,
    /// The URL, for the memo of a `Gateway` response.
    pub url: String,
}

impl PendingFetch {
    /// The queue item that reported the op.
    pub(crate) fn item(&self) -> QueueItem {
        QueueItem {
            run_id: self.run_id.clone(),
            step_id: self.item_step.clone(),
            attempt: self.item_attempt,
            job: self.item_job,
            generation: self.item_generation,
        }
    }
}

/// The calls out (stored).
#[derive(Debug, Default)]
pub(crate) struct Gateways {
    pub(super) next: u64,
    pub(super) pending: TrackedTree<u64, PendingFetch>,
}

impl Gateways {
    /// How many calls are out.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether `run_id` has a call out for `step`.
    fn has(&self, run_id: &str, step: &str) -> bool {
        self.pending
            .values()
            .any(|p| p.run_id == run_id && p.step == step)
    }
}

/// What acting on an op asks of the queue item that reported it.
#[derive(Debug)]
pub(crate) enum OpOutcome {
    /// Done (or under way).
    Ok,
    /// The server's handler returned an error: the item is retried while attempts remain.
    Retry(Value),
    /// The run fails at once, without retries (server "fail early").
    FailRun(Value),
}

impl OpOutcome {
    /// This outcome, or `other` when this one asks for nothing.
    pub(crate) fn or(self, other: OpOutcome) -> OpOutcome {
        match self {
            OpOutcome::Ok => other,
            asked => asked,
        }
    }
}

/// An error as the server's handler errors are stored.
pub(crate) fn handler_error(message: String) -> Value {
    json!({"name": "Error", "message": message, "error": message})
}

impl Core {
    /// A `Gateway` op: builds the request and asks the driver to make it.
    pub(crate) fn gateway(&mut self, item: &QueueItem, op: &Op) -> OpOutcome {
        let request = op
            .opts_as::<GatewayOpts>()
            .map_err(|e| format!("error parsing gateway step: {e}"))
            .and_then(|opts| {
                fetch_request(&opts).map_err(|e| format!("error creating gateway request: {e}"))
            });
        match request {
            Ok(request) => self.fetch_out(item, op, GatewayKind::Fetch, request),
            Err(message) => OpOutcome::Retry(handler_error(message)),
        }
    }

    /// An `AIGateway` op: builds the provider's request and asks the driver to make it.
    pub(crate) fn ai_gateway(&mut self, item: &QueueItem, op: &Op) -> OpOutcome {
        let request = op
            .opts_as::<AiGatewayOpts>()
            .map_err(|e| format!("error parsing ai gateway step: {e}"))
            .and_then(|opts| {
                ai_request(&opts).map_err(|e| format!("error creating ai gateway request: {e}"))
            });
        match request {
            Ok(request) => self.fetch_out(item, op, GatewayKind::Ai, request),
            Err(message) => OpOutcome::Retry(handler_error(message)),
        }
    }

    fn fetch_out(
        &mut self,
        item: &QueueItem,
        op: &Op,
        kind: GatewayKind,
        request: FetchRequest,
    ) -> OpOutcome {
        let pending = self
            .runs
            .get(&item.run_id)
            .is_some_and(|r| r.pending.contains(&op.id));
        if pending || self.gateways.has(&item.run_id, &op.id) {
            return OpOutcome::Ok; // reported again while its call is out
        }
        if let Some(run) = self.runs.get_mut(&item.run_id) {
            run.pending.insert(op.id.clone());
        }
        self.gateways.next += 1;
        let id = self.gateways.next;
        self.gateways.pending.insert(
            id,
            PendingFetch {
                kind,
                run_id: item.run_id.clone(),
                step: op.id.clone(),
                item_step: item.step_id.clone(),
                item_attempt: item.attempt,
                item_job: item.job,
                item_generation: item.generation,
                url: request.url.clone(),
            },
        );
        self.outputs.push_back(Output::Fetch(Fetch {
            id: FetchId(id),
            run_id: item.run_id.clone(),
            step: op.label().to_owned(),
            request,
        }));
        OpOutcome::Ok
    }

    /// Hands back how a call the core asked for went. A result for a run that has ended
    /// since is dropped.
    pub fn fetch_finished(
        &mut self,
        id: FetchId,
        result: Result<FetchResponse, TransportError>,
        now: SystemTime,
    ) {
        self.advance_clock(now);
        if let Some(pending) = self.gateways.pending.remove(&id.0) {
            if self.is_active(&pending.run_id) {
                self.fetched(pending, result);
            }
        }
        self.settle();
    }

    fn fetched(&mut self, pending: PendingFetch, result: Result<FetchResponse, TransportError>) {
        let item = pending.item();
        let last_attempt = item.attempt + 1 >= self.max_attempts(&item.run_id);
        let memo = match (pending.kind, result) {
            (GatewayKind::Fetch, Ok(res)) => json!({"data": gateway_response(&pending.url, res)}),
            (GatewayKind::Fetch, Err(e)) => {
                let message = format!("Error making gateway request: {}", e.message);
                if !last_attempt {
                    return self.fetch_retry(&pending, item, handler_error(message));
                }
                json!({"error": {"name": GATEWAY_ERROR, "message": message}})
            }
            (GatewayKind::Ai, Ok(res)) if res.status <= 299 => {
                match serde_json::from_slice::<Value>(&res.body) {
                    Ok(data) => json!({ "data": data }),
                    Err(e) => {
                        // The server cannot wrap a body that is not JSON: its handler errs.
                        let message = format!("error wrapping ai result in map: {e}");
                        return self.fetch_retry(&pending, item, handler_error(message));
                    }
                }
            }
            (GatewayKind::Ai, result) => {
                let (reason, body) = match result {
                    Ok(res) => (
                        format!("unsuccessful status code: {}", res.status),
                        res.body,
                    ),
                    Err(e) => (e.message, Bytes::new()),
                };
                let message = format!("Error making AI request: {reason}");
                if !last_attempt {
                    return self.fetch_retry(&pending, item, handler_error(message));
                }
                json!({"error": ai_error(message, &body)})
            }
        };
        self.resume(&pending.run_id, &pending.step, memo);
    }

    /// A failed call: the step is no longer out, and the queue item that reported it is
    /// called again after the backoff while attempts remain (else the run fails).
    fn fetch_retry(&mut self, pending: &PendingFetch, item: QueueItem, error: Value) {
        if let Some(run) = self.runs.get_mut(&pending.run_id) {
            run.pending.remove(&pending.step);
        }
        self.retry_or_fail(item, error, None, false);
    }
}

/// The memo data of a `Gateway` response: headers in Go's canonical form, repeated ones
/// joined with `,`; the body as text.
fn gateway_response(url: &str, res: FetchResponse) -> GatewayResponse {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in res.headers {
        headers
            .entry(canonical_header(&name))
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    GatewayResponse {
        url: url.to_owned(),
        headers,
        body: String::from_utf8_lossy(&res.body).into_owned(),
        status_code: res.status,
    }
}

/// The error of an `AIGateway` call that failed on its last attempt: the provider's body as
/// its `data` (when it is JSON) and its `stack`. An empty body reads as the server's
/// `{"error":"Error making AI request"}`.
fn ai_error(message: String, body: &[u8]) -> Value {
    let body: &[u8] = if body.is_empty() {
        br#"{"error":"Error making AI request"}"#
    } else {
        body
    };
    let mut error = json!({
        "name": AI_GATEWAY_ERROR,
        "message": message,
        "stack": String::from_utf8_lossy(body),
    });
    if let Ok(data) = serde_json::from_slice::<Value>(body) {
        error["data"] = data;
    }
    error
}

/// The methods the server's gateway accepts (`exechttp.validMethod`, case-sensitive).
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE",
];

/// A `Gateway` request as the server builds it: `POST` when no method is given, the body
/// sent as it is when it is JSON and JSON-encoded as a string otherwise, the op's headers
/// added, and `user-agent: Inngest`.
pub(crate) fn fetch_request(opts: &GatewayOpts) -> Result<FetchRequest, String> {
    let method = opts
        .method
        .as_deref()
        .filter(|m| !m.is_empty())
        .unwrap_or("POST");
    if !METHODS.contains(&method) {
        return Err(format!("invalid http method: {method}"));
    }
    check_url(&opts.url)?;
    let body = opts.body.as_deref().filter(|b| !b.is_empty()).map(|b| {
        if serde_json::from_str::<serde::de::IgnoredAny>(b).is_ok() {
            Bytes::from(b.to_owned())
        } else {
            Bytes::from(serde_json::to_vec(b).unwrap_or_default())
        }
    });
    let mut headers: Vec<(String, String)> = opts
        .headers
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    headers.push(("user-agent".to_owned(), "Inngest".to_owned()));
    Ok(FetchRequest {
        method: method.to_owned(),
        url: opts.url.clone(),
        headers,
        body,
    })
}

/// An `AIGateway` request as the server builds it: always `POST` with a JSON body, the key
/// sent as the format says, then the op's headers.
pub(crate) fn ai_request(opts: &AiGatewayOpts) -> Result<FetchRequest, String> {
    let mut url = check_url(&opts.url)?;
    let key = opts.auth_key.clone().unwrap_or_default();
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    match opts.format.as_str() {
        FORMAT_GEMINI => {
            url.query_pairs_mut().append_pair("key", &key);
        }
        FORMAT_BEDROCK => headers.push(("authorization".to_owned(), key)),
        FORMAT_ANTHROPIC => headers.push(("x-api-key".to_owned(), key)),
        _ => headers.push(("authorization".to_owned(), format!("Bearer {key}"))),
    }
    headers.extend(
        opts.headers
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    headers.push(("user-agent".to_owned(), "Inngest".to_owned()));
    let body = serde_json::to_vec(&opts.body).map_err(|e| e.to_string())?;
    Ok(FetchRequest {
        method: "POST".to_owned(),
        url: url.to_string(),
        headers,
        body: Some(Bytes::from(body)),
    })
}

/// An absolute `http(s)` URL.
fn check_url(url: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("parse {url:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("unsupported protocol scheme {:?}", parsed.scheme()));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_requests_as_the_server_builds_them() {
        let opts = GatewayOpts {
            url: "http://example.com/a".into(),
            body: Some("hello".into()),
            ..GatewayOpts::default()
        };
        let req = fetch_request(&opts).unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.body.as_deref(), Some(&b"\"hello\""[..]));
        let json = GatewayOpts {
            method: Some("PUT".into()),
            body: Some(r#"{"a":1}"#.into()),
            ..opts.clone()
        };
        assert_eq!(
            fetch_request(&json).unwrap().body.as_deref(),
            Some(&br#"{"a":1}"#[..])
        );
        let lower = GatewayOpts {
            method: Some("get".into()),
            ..opts.clone()
        };
        assert_eq!(
            fetch_request(&lower).unwrap_err(),
            "invalid http method: get"
        );
        let relative = GatewayOpts {
            url: "/nowhere".into(),
            ..opts
        };
        assert!(fetch_request(&relative).unwrap_err().contains("/nowhere"));
    }

    #[test]
    fn ai_keys_go_where_the_format_says() {
        let opts = |format: &str| AiGatewayOpts {
            url: "https://ai.example/v1/x".into(),
            auth_key: Some("k".into()),
            format: format.into(),
            body: json!({"model": "m"}),
            ..AiGatewayOpts::default()
        };
        let header = |req: &FetchRequest, name: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let openai = ai_request(&opts("openai-chat")).unwrap();
        assert_eq!(
            header(&openai, "authorization").as_deref(),
            Some("Bearer k")
        );
        let anthropic = ai_request(&opts("anthropic")).unwrap();
        assert_eq!(header(&anthropic, "x-api-key").as_deref(), Some("k"));
        let bedrock = ai_request(&opts("bedrock")).unwrap();
        assert_eq!(header(&bedrock, "authorization").as_deref(), Some("k"));
        let gemini = ai_request(&opts("gemini")).unwrap();
        assert_eq!(gemini.url, "https://ai.example/v1/x?key=k");
        assert_eq!(gemini.body.as_deref(), Some(&br#"{"model":"m"}"#[..]));
    }

    #[test]
    fn responses_and_errors_as_the_server_stores_them() {
        let res = gateway_response(
            "http://x",
            FetchResponse {
                status: 404,
                headers: vec![
                    ("content-type".into(), "text/plain".into()),
                    ("set-cookie".into(), "a=1".into()),
                    ("set-cookie".into(), "b=2".into()),
                ],
                body: Bytes::from_static(b"gone"),
            },
        );
        assert_eq!(res.headers["Content-Type"], "text/plain");
        assert_eq!(res.headers["Set-Cookie"], "a=1,b=2");
        assert_eq!((res.status_code, res.body.as_str()), (404, "gone"));
        let error = ai_error("m".into(), br#"{"error":"slow down"}"#);
        assert_eq!(error["data"], json!({"error": "slow down"}));
        assert_eq!(error["stack"], json!(r#"{"error":"slow down"}"#));
        let garbage = ai_error("m".into(), b"<html>");
        assert_eq!(garbage.get("data"), None);
        assert_eq!(
            ai_error("m".into(), b"")["data"],
            json!({"error": "Error making AI request"})
        );
    }
}
