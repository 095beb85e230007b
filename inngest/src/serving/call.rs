//! `POST ?fnId=&stepId=`: a call request (protocol.md sections 2 and 3).

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http::request::Parts;
use http::{Response, StatusCode};
use inngest_protocol::call::{CallRequest, DISCOVERY_STEP_ID};
use inngest_protocol::op::Opcode;
use serde_json::{json, Value};

use crate::error::{Error, StepError};
use crate::execution::checkpoint::{Checkpoint, Checkpointer};
use crate::execution::memo::{Memos, Stack};
use crate::execution::{CallOutcome, CallState, Driver, Driving, SharedCall, StepOutcome, Target};
use crate::function::Call;
use crate::json::{RawJson, Text};
use crate::serving::checkpoint::CallCheckpoints;
use crate::serving::handler::Inner;
use crate::serving::registry::Entry;
use crate::serving::response::{self, Body};
use crate::step::Step;

/// The query of a call request, borrowed from the URI when it needs no decoding.
#[derive(Debug, Default)]
pub(crate) struct CallQuery<'a> {
    pub fn_id: Option<Cow<'a, str>>,
    pub step_id: Option<Cow<'a, str>>,
    /// `?probe=trust`: a trust probe, not a call.
    pub probe: Option<Cow<'a, str>>,
}

impl<'a> CallQuery<'a> {
    pub(crate) fn parse(query: Option<&'a str>) -> Result<CallQuery<'a>, String> {
        let query = query.unwrap_or("");
        // Nothing to decode (the query Inngest sends): borrowed as it is, each pair found in
        // one pass that looks at eight bytes at once for the next `&`, `=`, `%` or `+`.
        // Percent escapes and `+` decode as forms do: the first one found starts over with
        // the form decoder (the pairs before it read the same either way).
        let mut q = CallQuery::default();
        let bytes = query.as_bytes();
        let (mut start, mut eq) = (0, None);
        let mut at = 0;
        while at < bytes.len() {
            let mut marks = query_marks(eight_at(bytes, at));
            while marks != 0 {
                let i = at + marks.trailing_zeros() as usize / 8;
                marks &= marks - 1;
                match bytes.get(i) {
                    Some(b'&') => {
                        q.pair(query, start, eq, i)?;
                        (start, eq) = (i + 1, None);
                    }
                    Some(b'=') if eq.is_none() => eq = Some(i),
                    Some(b'%' | b'+') => {
                        return Self::from_pairs(url::form_urlencoded::parse(bytes));
                    }
                    // A second `=` in a pair, or a byte the word test marks wrongly (only
                    // ever after a true mark).
                    _ => {}
                }
            }
            at += 8;
        }
        q.pair(query, start, eq, bytes.len())?;
        Ok(q)
    }

    /// The pair of `query` from `start` to `end` (its `=` at `eq`), if it is not empty.
    #[inline]
    fn pair(
        &mut self,
        query: &'a str,
        start: usize,
        eq: Option<usize>,
        end: usize,
    ) -> Result<(), String> {
        if end > start {
            let (k, v) = match eq {
                Some(eq) => (&query[start..eq], &query[eq + 1..end]),
                None => (&query[start..end], ""),
            };
            self.put(k, Cow::Borrowed(v))?;
        }
        Ok(())
    }

    /// Sets the parameter `k` (one of those read) to `v`; a parameter given twice is an
    /// error.
    fn put(&mut self, k: &str, v: Cow<'a, str>) -> Result<(), String> {
        let slot = match k {
            "fnId" => &mut self.fn_id,
            "stepId" => &mut self.step_id,
            "probe" => &mut self.probe,
            _ => return Ok(()),
        };
        if slot.is_some() {
            return Err(format!("the query parameter `{k}` is given more than once"));
        }
        *slot = Some(v);
        Ok(())
    }

    fn from_pairs(
        pairs: impl Iterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
    ) -> Result<CallQuery<'a>, String> {
        let mut q = CallQuery::default();
        for (k, v) in pairs {
            q.put(&k, v)?;
        }
        Ok(q)
    }

    /// The query, owning what it borrowed.
    pub(crate) fn into_owned(self) -> CallQuery<'static> {
        let own = |s: Option<Cow<'a, str>>| s.map(|s| Cow::Owned(s.into_owned()));
        CallQuery {
            fn_id: own(self.fn_id),
            step_id: own(self.step_id),
            probe: own(self.probe),
        }
    }
}

/// The eight bytes of `bytes` from `at` as a word, zeros past its end (no byte of a query
/// mark is zero).
#[inline]
fn eight_at(bytes: &[u8], at: usize) -> u64 {
    if let Some(word) = bytes.get(at..at + 8) {
        return word.try_into().map_or(0, u64::from_le_bytes);
    }
    let rest = &bytes[at..];
    let mut word = [0; 8];
    word[..rest.len()].copy_from_slice(rest);
    u64::from_le_bytes(word)
}

/// The high bit of each byte of `w` that is `&`, `=`, `%` or `+`, little end first: exact up
/// to the first one; a byte after a marked one may be marked wrongly (a borrow runs upwards).
#[inline]
fn query_marks(w: u64) -> u64 {
    use crate::serving::fast::{bytes_equal, HIGH};
    (bytes_equal(w, b'&') | bytes_equal(w, b'=') | bytes_equal(w, b'%') | bytes_equal(w, b'+'))
        & HIGH
}

/// Parses a call request body, tracking the path of every value: the error names the field
/// that is wrong (`ctx.attempt: invalid type: string "1", expected u32 at line 1 column 80`).
/// The handler reads a body with [`parse_call`], which comes here only for the message of a
/// body that fails (tracking the path costs about a third of the parse: it copies every key).
pub(crate) fn parse_request(body: &[u8]) -> Result<CallRequest, String> {
    // serde would also take a struct as an array of its fields, with a baffling message.
    if !is_object_or_empty(body) {
        return Err("expected a JSON object".to_owned());
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let request: CallRequest =
        serde_path_to_error::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(request)
}

/// A call request as the handler reads it: the events kept as JSON text (each is read once,
/// into the function's event type) and each memo classified as it is parsed, so that no JSON
/// object is built for the `{"data": ...}` of every finished step. It takes exactly the bodies
/// the plain [`CallRequest`] takes.
#[derive(Debug)]
pub(crate) struct Request {
    /// The request, but for `ctx.stack.stack` (empty), `ctx.fn_id` and `ctx.step_id` (`None`):
    /// those are below.
    pub body: CallRequest<RawJson, Memos>,
    /// `ctx.stack.stack`.
    pub stack: Stack,
    /// `ctx.fn_id`.
    pub fn_id: Option<Text>,
    /// `ctx.step_id`.
    pub step_id: Option<Text>,
    /// `ctx.run_id` again, shared: the step tools and the checkpoints keep it.
    pub run_id: Text,
}

impl Request {
    /// Whether the run is too large for the call request: its events and steps are to be
    /// fetched from the API (`use_api`, at the top or in `ctx`).
    fn uses_api(&self) -> bool {
        self.body.use_api || self.body.ctx.use_api
    }

    /// `body` with its stack taken out as keys, and its `ctx.fn_id` and `ctx.step_id` taken
    /// out.
    fn new(mut body: CallRequest<RawJson, Memos>) -> Request {
        one_event(&mut body);
        let stack = body
            .ctx
            .stack
            .as_mut()
            .map(|s| std::mem::take(&mut s.stack))
            .unwrap_or_default();
        Request {
            fn_id: body.ctx.fn_id.take().map(Text::from),
            step_id: body.ctx.step_id.take().map(Text::from),
            run_id: Text::from(body.ctx.run_id.clone()),
            body,
            stack: Stack::from_ids(&stack),
        }
    }
}

/// Leaves `events` empty when its one event is `event` again (as a function that does not
/// batch gets it): the call needs no vector for it.
pub(crate) fn one_event(body: &mut CallRequest<RawJson, Memos>) {
    if let [only] = &body.events[..] {
        if *only == body.event {
            body.events = Vec::new();
        }
    }
}

/// A call request read as JSON values, held as the handler holds one.
fn classified(r: CallRequest) -> Result<Request, String> {
    Ok(Request::new(CallRequest {
        event: raw(&r.event)?,
        events: r.events.iter().map(raw).collect::<Result<_, _>>()?,
        steps: Memos::from_values(r.steps),
        version: r.version,
        use_api: r.use_api,
        ctx: r.ctx,
    }))
}

/// A JSON value as JSON text.
fn raw(value: &Value) -> Result<RawJson, String> {
    RawJson::from_value(value).map_err(|e| e.to_string())
}

/// Parses a call request body as the handler does (`begin`): a valid body is read once; an
/// invalid one gets [`parse_request`]'s message.
#[cfg(test)]
fn parse_call(body: &Bytes) -> Result<Request, String> {
    if let Some(request) = crate::serving::fast::read(body) {
        return Ok(request);
    }
    parse_call_serde(body)
}

/// [`parse_call`] with serde alone: what the fast reader must agree with.
pub(crate) fn parse_call_serde(body: &[u8]) -> Result<Request, String> {
    if is_object_or_empty(body) {
        if let Ok(request) = serde_json::from_slice::<CallRequest<RawJson, Memos>>(body) {
            // Raw JSON is only skimmed as it is read: the events are checked as
            // `serde_json::Value` would read them (escapes, number ranges, nesting depth).
            let valid = |raw: &RawJson| serde_json::from_slice::<ValidJson>(raw.as_bytes()).is_ok();
            // `events[0]` is usually `event` again, byte for byte.
            let event = &request.event;
            if valid(event) && request.events.iter().all(|e| e == event || valid(e)) {
                return Ok(Request::new(request));
            }
        }
    }
    parse_request(body).and_then(classified)
}

/// Whether the body's first non-blank byte opens an object (or there is none: then the
/// parser names the missing value).
fn is_object_or_empty(body: &[u8]) -> bool {
    matches!(
        body.iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')),
        Some(b'{') | None
    )
}

/// Any JSON text that `serde_json::Value` reads, walked without building anything.
struct ValidJson;

impl<'de> serde::Deserialize<'de> for ValidJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ValidJson, D::Error> {
        deserializer.deserialize_any(ValidJsonVisitor)
    }
}

struct ValidJsonVisitor;

impl<'de> serde::de::Visitor<'de> for ValidJsonVisitor {
    type Value = ValidJson;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<ValidJson, E> {
        Ok(ValidJson)
    }
    fn visit_i64<E>(self, _: i64) -> Result<ValidJson, E> {
        Ok(ValidJson)
    }
    fn visit_u64<E>(self, _: u64) -> Result<ValidJson, E> {
        Ok(ValidJson)
    }
    fn visit_f64<E>(self, _: f64) -> Result<ValidJson, E> {
        Ok(ValidJson)
    }
    fn visit_str<E>(self, _: &str) -> Result<ValidJson, E> {
        Ok(ValidJson)
    }
    fn visit_unit<E>(self) -> Result<ValidJson, E> {
        Ok(ValidJson)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ValidJson, A::Error> {
        while seq.next_element::<ValidJson>()?.is_some() {}
        Ok(ValidJson)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ValidJson, A::Error> {
        while map.next_entry::<ValidJson, ValidJson>()?.is_some() {}
        Ok(ValidJson)
    }
}

/// The memos as the handler reads them, by hashed id (for the property tests).
#[cfg(test)]
pub(crate) fn parse_call_memos(
    body: &[u8],
) -> Result<std::collections::BTreeMap<String, crate::execution::memo::Memo>, String> {
    parse_call(&Bytes::copy_from_slice(body)).map(|r| r.body.steps.by_hashed_id())
}

/// Answers a call request: through the function's middleware's `wrap_request`, when it has
/// any.
pub(crate) async fn handle(
    inner: &Inner,
    query: &CallQuery<'_>,
    parts: &Parts,
    body: &Bytes,
) -> Response<Body> {
    let entry = match find(inner, query) {
        Ok(entry) => entry,
        Err(res) => return res,
    };
    if entry.middleware.is_empty() {
        return call(inner, entry, query, parts, body).await;
    }
    // Boxed: the plain call's future stays small (and bound first, so that the temporaries
    // that built it take no room in this future).
    let wrapped = Box::pin(crate::serving::run::wrap_request(
        entry,
        parts,
        body,
        call(inner, entry, query, parts, body),
    ));
    wrapped.await
}

/// The function a call request is for, or the answer that it names none.
#[allow(clippy::result_large_err)]
fn find<'a>(inner: &'a Inner, query: &CallQuery<'_>) -> Result<&'a Entry, Response<Body>> {
    let registry = &inner.registry;
    let Some(fn_id) = &query.fn_id else {
        return Err(response::error_message(
            StatusCode::BAD_REQUEST,
            false,
            "BadRequest",
            "a call request needs the `fnId` query parameter",
        ));
    };
    let Some(entry) = registry.get(fn_id) else {
        let known = registry.composite_ids();
        return Err(response::error_message(
            StatusCode::INTERNAL_SERVER_ERROR,
            false,
            "FunctionNotFound",
            format!(
                "no function with the id `{fn_id}` in this app (it serves: {})",
                if known.is_empty() {
                    "nothing".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    Ok(entry)
}

/// Answers a call request of `entry`'s function.
///
/// Its future holds little across its awaits (every request moves it into a box, and a box
/// of up to about 1 kB is the allocator's cheap kind): the body is read and the function's
/// future built by [`begin`], a plain function, and the call of a run whose data comes from
/// the API is boxed.
async fn call(
    inner: &Inner,
    entry: &Entry,
    query: &CallQuery<'_>,
    parts: &Parts,
    body: &Bytes,
) -> Response<Body> {
    match begin(inner, entry, query, parts, body) {
        Begun::Answer(res) => *res,
        Begun::ViaApi(call) => call.await,
        Begun::Started(started) => finish(inner, entry, started).await,
    }
}

/// How a call request begins.
enum Begun<'a> {
    /// Answered at once (boxed: rare, and this waits across the awaits of the others).
    Answer(Box<Response<Body>>),
    /// Its events and steps are to be fetched from the API first.
    ViaApi(Pin<Box<dyn Future<Output = Response<Body>> + Send + 'a>>),
    /// The function is ready to be driven.
    Started(Started<'a>),
}

/// A call whose function is ready to be driven.
struct Started<'a> {
    /// The function driven by the executor; it owns everything the call needs.
    driving: Driving<'a>,
    /// The call's span.
    span: tracing::Span,
    last_attempt: bool,
}

/// Reads the call request and starts its function.
fn begin<'a>(
    inner: &'a Inner,
    entry: &'a Entry,
    query: &'a CallQuery<'a>,
    parts: &'a Parts,
    body: &Bytes,
) -> Begun<'a> {
    // The fast reader's request goes to `start` as it is (not moved into a `Result` first).
    let parsed = match crate::serving::fast::read(body) {
        Some(request) if !request.uses_api() => {
            return Begun::Started(start(inner, entry, query, parts, request));
        }
        Some(request) => Ok(request),
        None => parse_call_serde(body),
    };
    match parsed {
        Err(e) => Begun::Answer(Box::new(response::error_message(
            StatusCode::BAD_REQUEST,
            false,
            "BadRequest",
            format!("the call request body is not valid: {e}"),
        ))),
        Ok(request) if request.uses_api() => {
            Begun::ViaApi(Box::pin(call_via_api(inner, entry, query, parts, request)))
        }
        Ok(request) => Begun::Started(start(inner, entry, query, parts, request)),
    }
}

/// A call of a run too large for the call request: its data fetched from the API first.
async fn call_via_api<'a>(
    inner: &'a Inner,
    entry: &'a Entry,
    query: &'a CallQuery<'a>,
    parts: &'a Parts,
    mut request: Request,
) -> Response<Body> {
    if let Err(message) = fetch_from_api(inner, &mut request.body).await {
        return response::error_message(
            StatusCode::INTERNAL_SERVER_ERROR,
            false,
            "ApiFetchError",
            message,
        );
    }
    let started = start(inner, entry, query, parts, request);
    finish(inner, entry, started).await
}

/// Drives a started call to its answer, within the call timeout.
async fn finish(inner: &Inner, entry: &Entry, started: Started<'_>) -> Response<Body> {
    let Started {
        mut driving,
        span,
        last_attempt,
    } = started;
    let timeout = inner.config.call_timeout;
    let Ok(outcome) = crate::serving::deadline::within(timeout, driving.as_mut()).await else {
        // Dropping the abandoned call runs the function's destructors: one that panics must
        // not take the connection down before the answer is sent.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(driving)));
        let fn_id = &entry.composite_id;
        tracing::error!(function = %fn_id, "an Inngest function did not finish within its call timeout");
        return response::error_message(
            StatusCode::INTERNAL_SERVER_ERROR,
            false,
            "FunctionTimeout",
            format!(
                "the function `{fn_id}` did not answer within {}",
                crate::timestr::format(timeout)
            ),
        );
    };
    span.in_scope(|| respond(outcome, last_attempt))
}

/// The call's state and the function's future, ready to be driven.
fn start<'a>(
    inner: &'a Inner,
    entry: &'a Entry,
    query: &'a CallQuery<'a>,
    parts: &'a Parts,
    request: Request,
) -> Started<'a> {
    let fn_id = &entry.composite_id;
    let Request {
        body: request,
        stack,
        fn_id: function_id,
        step_id: step_text,
        run_id,
    } = request;
    let step_id = match query.step_id.as_deref() {
        Some(step_id) => step_id,
        None => step_text.as_ref().map_or(DISCOVERY_STEP_ID, Text::as_str),
    };
    let span = tracing::info_span!(
        "inngest.call",
        function = %fn_id,
        run_id = %request.ctx.run_id,
        attempt = request.ctx.attempt,
        step_id = %step_id,
    );
    #[cfg(feature = "opentelemetry")]
    crate::otel::set_parent(&span, &parts.headers);
    let target = if step_id == DISCOVERY_STEP_ID {
        Target::Discovery {
            immediate: !request.ctx.disable_immediate_execution,
        }
    } else {
        Target::Step(step_id.to_owned())
    };
    let last_attempt = request
        .ctx
        .max_attempts
        .is_some_and(|max| request.ctx.attempt.saturating_add(1) >= max);
    // Checkpointing (protocol-2.md 1.2): a discovery call that may run a step, with the
    // function's id to checkpoint under.
    let settings = entry
        .registration
        .definition
        .options
        .checkpointing
        .unwrap_or(inner.checkpointing);
    let checkpointing = function_id.is_some()
        && matches!(target, Target::Discovery { immediate: true })
        && settings.is_enabled();
    // The first call of a run: nothing memoized, the first attempt, not a call for one step.
    let run_start = request.steps.len() == 0
        && request.ctx.attempt == 0
        && matches!(target, Target::Discovery { .. });
    let started = checkpointing.then(|| (std::time::SystemTime::now(), std::time::Instant::now()));
    let state = SharedCall::new(CallState::from_memos(
        request.steps,
        stack,
        target,
        last_attempt,
        request.ctx.attempt,
        started.map(|(_, started)| Checkpoint::new(&settings, started, request.ctx.attempt)),
    ));
    let checkpoints = match (started, function_id) {
        (Some((received, _)), Some(fn_id)) => Some(CallCheckpoints::new(
            inner,
            parts,
            run_id.clone(),
            fn_id,
            request.ctx.qi_id,
            received,
        )),
        _ => None,
    };
    // The run id moved, not cloned, into the step tools of a call that does not checkpoint.
    let step = Step::new(state.clone(), inner.step_env.clone()).for_run(run_id);
    let call = Call {
        event: request.event,
        // Empty: the one event is `event` (or the request named no other).
        events: request.events,
        step,
        run_id: request.ctx.run_id,
        attempt: request.ctx.attempt,
        max_attempts: request.ctx.max_attempts,
        hooks: None,
    };
    let hooked = (!entry.middleware.is_empty()).then(|| crate::serving::run::Hooked {
        runner: entry.registration.runner,
        stack: entry.middleware.clone(),
        function_id: fn_id.clone(),
        state: state.clone(),
        run_start,
    });
    let driver = Driver {
        state,
        checkpointer: checkpoints.map(|c| Box::new(c) as Box<dyn Checkpointer + 'a>),
        max_interval: settings.interval(),
        span: span.clone(),
    };
    // The function and its executor, in one box.
    let driving = match hooked {
        None => (entry.registration.driven)(call, driver),
        Some(hooked) => driver.drive(hooked.run(call)),
    };
    Started {
        driving,
        span,
        last_attempt,
    }
}

fn respond(outcome: CallOutcome, last_attempt: bool) -> Response<Body> {
    match outcome {
        CallOutcome::Completed(output) => response::json_text(StatusCode::OK, output),
        CallOutcome::Failed(error) => function_error(&error, last_attempt),
        CallOutcome::Panicked(message) => {
            tracing::error!(%message, "an Inngest function panicked");
            response::error_message(StatusCode::INTERNAL_SERVER_ERROR, false, "Panic", message)
        }
        CallOutcome::StepRan(ran) => {
            let StepOutcome { op, error } = *ran;
            let mut res = response::json(StatusCode::PARTIAL_CONTENT, &[&op]);
            match (op.op, &error) {
                (Opcode::StepError, Some(e)) => {
                    response::set_no_retry(&mut res, false);
                    if let Some(at) = e.retry_after() {
                        response::set_retry_after(&mut res, &at.header_value());
                    }
                }
                (Opcode::StepFailed, _) => response::set_no_retry(&mut res, true),
                _ => {}
            }
            res
        }
        CallOutcome::Planned(ops) => response::json(StatusCode::PARTIAL_CONTENT, &ops),
        CallOutcome::Rejected(error) => response::error(StatusCode::BAD_REQUEST, true, &error),
        CallOutcome::TargetNotFound { requested, found } => {
            let found_names: Vec<String> = found
                .iter()
                .map(|o| format!("{} ({})", o.display_name, o.id))
                .collect();
            let message = format!(
                "could not find the step `{requested}` to run; found {}",
                if found_names.is_empty() {
                    "no new steps".to_owned()
                } else {
                    found_names.join(", ")
                }
            );
            let found_steps: Vec<Value> = found
                .iter()
                .map(|o| json!({"id": o.id, "name": o.name, "displayName": o.display_name}))
                .collect();
            response::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                false,
                &json!({
                    "name": "StepNotFound",
                    "message": message,
                    "error": message,
                    "requestedStep": requested,
                    "foundSteps": found_steps,
                    "totalFoundSteps": found.len(),
                }),
            )
        }
    }
}

/// A function-level error: `400` with `X-Inngest-No-Retry: true` when it must not be retried
/// (a `NonRetriableError`, a `StepError` nobody handled, or any error on the last attempt, as
/// the JS SDK does), else `500` with `false` and any `Retry-After`.
fn function_error(error: &Error, last_attempt: bool) -> Response<Body> {
    let body = error.to_serialized();
    if error.is::<StepError>() {
        tracing::warn!(error = %error, "an Inngest function did not handle a failed step");
    }
    if !error.is_retriable() || last_attempt {
        return response::error(StatusCode::BAD_REQUEST, true, &body);
    }
    let mut res = response::error(StatusCode::INTERNAL_SERVER_ERROR, false, &body);
    if let Some(at) = error.retry_after() {
        response::set_retry_after(&mut res, &at.header_value());
    }
    res
}

/// A run too large for the call request (`use_api`): its events and memoized steps come from
/// `GET <api>/v0/runs/<run_id>/batch` and `/actions` (protocol.md section 2).
async fn fetch_from_api(
    inner: &Inner,
    request: &mut CallRequest<RawJson, Memos>,
) -> Result<(), String> {
    let run_id = &request.ctx.run_id;
    let base = format!(
        "{}/v0/runs/{}",
        inner.config.api_origin,
        url::form_urlencoded::byte_serialize(run_id.as_bytes()).collect::<String>()
    );
    let events: Vec<Value> = api_get(inner, &format!("{base}/batch")).await?;
    let steps: HashMap<String, Value> = api_get(inner, &format!("{base}/actions")).await?;
    if let Some(first) = events.first() {
        request.event = raw(first)?;
    }
    request.events = events.iter().map(raw).collect::<Result<_, _>>()?;
    request.steps = Memos::from_values(steps);
    Ok(())
}

/// GETs JSON from the Inngest API with the hashed signing key, once more with the fallback
/// key on 401/403.
async fn api_get<T: serde::de::DeserializeOwned>(inner: &Inner, url: &str) -> Result<T, String> {
    let res = inner
        .send_signed(|| inner.client.get(url))
        .await
        .map_err(|e| format!("could not fetch the run's data from {url}: {e}"))?;
    let status = res.status();
    if !status.is_success() {
        return Err(format!(
            "fetching the run's data from {url} failed with {status}"
        ));
    }
    res.json()
        .await
        .map_err(|e| format!("the run's data from {url} is not valid: {e}"))
}
