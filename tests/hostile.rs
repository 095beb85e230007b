//! Hostile and malformed requests, one row of a table each, sent over a raw TCP socket to a
//! served app. Every row is answered with a clear JSON error (or, for the few valid oddities,
//! runs as it should), every answer carries the SDK headers, and after every row a normal
//! call still succeeds: the process keeps serving. The exceptions are spelled out in their
//! rows: trickled headers get the connection closed, and HTTP that hyper itself cannot frame
//! gets hyper's bare 400 before the SDK sees a request.
//!
//! `DEV_ROWS` runs against a dev-mode app (`body_limit` 64 KiB, `body_timeout` 300 ms);
//! `CLOUD_ROWS` against a cloud-mode app, where every unsigned or badly signed request is
//! refused with `401 {"message":"Unauthorized"}` (protocol.md sections 2, 3 and 6).

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use inngest::{Context, Error};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use support::{hash, now, sign, CallBody, Served};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const APP: &str = "hostile-app";
const KEY: &str = "signkey-prod-5e4d3c2b1a09f8e7d6c5b4a3f2e1d0c9";
const OTHER_KEY: &str = "signkey-prod-00112233445566778899aabbccddeeff";
/// How long any answer may take before a row fails (the slowest rows wait 300 ms).
const DEADLINE: Duration = Duration::from_secs(10);
const BODY_LIMIT: usize = 64 * 1024;
const BODY_TIMEOUT: Duration = Duration::from_millis(300);

// ---- the functions the rows call ----

/// Answers with its event's data.
#[inngest::function(id = "echo", event = "hostile/echo")]
async fn echo(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "echo": ctx.event.data }))
}

/// One step, `fetch`, whose memo the memo rows vary.
#[inngest::function(id = "memo", event = "hostile/memo")]
async fn memo(ctx: Context) -> Result<Value, Error> {
    let fetched: Value = ctx
        .step
        .run("fetch", || async { Ok(json!("fresh")) })
        .await?;
    Ok(json!({ "fetched": fetched }))
}

#[derive(Debug, Serialize, Deserialize)]
struct Order {
    qty: u32,
}

/// Typed event data and a typed step, `count`.
#[inngest::function(id = "typed", event = "hostile/typed")]
async fn typed(ctx: Context<Order>) -> Result<u32, Error> {
    let qty = ctx.event.data.qty;
    let n: u32 = ctx.step.run("count", || async move { Ok(qty) }).await?;
    Ok(n * 2)
}

/// `sha1("fetch")` and `sha1("count")`, the hashed ids of the steps above.
const FETCH: &str = "ad8cee67138e73009d4e22831ec6eb3b7f9e60da";
const COUNT: &str = "ee9f38e186ba06f57b7b74d7e626b94e13ce2556";

// ---- the table's vocabulary ----

/// One hostile request and what must come back.
#[derive(Clone, Copy)]
struct Row {
    name: &'static str,
    method: &'static str,
    /// Path and query.
    target: &'static str,
    /// Extra raw header lines, `name: value` (written as they are, bytes and all).
    headers: &'static [&'static str],
    /// `X-Inngest-Signature`.
    sig: Sig,
    body: Body,
    /// How the body goes on the wire.
    wire: Wire,
    expect: Expect,
}

#[derive(Clone, Copy)]
enum Body {
    /// The valid call request: event `hostile/echo` with data `{"qty": 3}`.
    Valid,
    /// Exactly these bytes.
    Raw(&'static [u8]),
    /// The valid call with the value at this JSON pointer replaced by this JSON text.
    Set(&'static str, &'static str),
    /// The valid call without the value at this JSON pointer.
    Without(&'static str),
    /// The valid call with this JSON text memoized for the step with this user id.
    Memo(&'static str, &'static str),
    /// Bytes made by this function.
    Made(fn() -> Vec<u8>),
}

#[derive(Clone, Copy)]
enum Wire {
    /// `Content-Length` tells the truth.
    Exact,
    /// `Transfer-Encoding: chunked`, 8 KiB chunks.
    Chunked,
    /// `Content-Length` says half of what is sent.
    Shorter,
    /// `Content-Length` says twice what is sent, then the client stops writing.
    LongerThenClose,
    /// The headers and 8 bytes of the body, then nothing; the connection stays open.
    StallBody,
    /// The request line and headers, one byte every 20 ms.
    TrickleHeaders,
}

#[derive(Clone, Copy)]
enum Sig {
    None,
    /// This header value.
    Text(&'static str),
    /// A header value made by this function.
    Made(fn() -> String),
    /// A correct signature by this key over the body sent, this many seconds from now.
    Signed(&'static str, i64),
    /// A correct signature by the key, over another body.
    OtherBody,
}

#[derive(Clone, Copy)]
enum Expect {
    /// A JSON error: status, `X-Inngest-No-Retry`, its `name`, a fragment of its `message`.
    Fails(u16, &'static str, &'static str, &'static str),
    /// This status, `X-Inngest-No-Retry` (`None`: absent) and exactly this JSON.
    Json(u16, Option<&'static str>, &'static str),
    /// The connection is closed without an answer.
    Closed,
    /// Malformed HTTP that hyper refuses before the SDK sees the request: a bare 400 with an
    /// empty body and `connection: close` (so no SDK headers).
    BareHttp400,
}

use Body::*;
use Expect::*;

/// A call request that runs `echo`; the rows below change one thing each.
const CALL: Row = Row {
    name: "a normal call",
    method: "POST",
    target: "/api/inngest?fnId=hostile-app-echo&stepId=step",
    headers: &[],
    sig: Sig::None,
    body: Valid,
    wire: Wire::Exact,
    expect: Json(200, None, ECHOED),
};
const ECHOED: &str = r#"{"echo":{"qty":3}}"#;
const MEMO_CALL: Row = Row {
    target: "/api/inngest?fnId=hostile-app-memo&stepId=step",
    ..CALL
};
const TYPED_CALL: Row = Row {
    target: "/api/inngest?fnId=hostile-app-typed&stepId=step",
    ..CALL
};
const SIGNED_CALL: Row = Row {
    sig: Sig::Signed(KEY, 0),
    ..CALL
};

/// 400, retriable, `BadRequest`.
const fn bad(message: &'static str) -> Expect {
    Fails(400, "false", "BadRequest", message)
}
/// 400, not retriable, `NonRetriableError`: the function failed for good.
const fn unretriable(message: &'static str) -> Expect {
    Fails(400, "true", "NonRetriableError", message)
}
const NOT_ALLOWED: Expect = Fails(405, "true", "MethodNotAllowed", "answers GET, PUT and POST");
const TIMED_OUT: Expect = Fails(
    408,
    "false",
    "RequestTimeout",
    "the request body did not arrive within 300ms",
);
const UNAUTHORIZED: Expect = Json(401, Some("false"), r#"{"message":"Unauthorized"}"#);
/// The op `memo` reports when its step `fetch` runs now.
const FETCH_RAN: &str = r#"[{"id":"ad8cee67138e73009d4e22831ec6eb3b7f9e60da","op":"StepRun","name":"fetch","displayName":"fetch","data":"fresh","opts":{"type":"step.run"},"userland":{"id":"fetch"}}]"#;

// ---- the dev-mode table ----

#[rustfmt::skip]
static DEV_ROWS: &[Row] = &[
    // Not JSON, or not an object.
    Row { name: "invalid JSON", body: Raw(b"{not json"), expect: bad("the call request body is not valid: key must be a string at line 1 column 2"), ..CALL },
    Row { name: "empty body", body: Raw(b""), expect: bad("EOF while parsing a value at line 1 column 0"), ..CALL },
    Row { name: "invalid UTF-8 in a string", body: Raw(b"{\"event\": {\"name\": \"\xff\xfe\"}}"), expect: bad("invalid unicode code point at line 1 column 21"), ..CALL },
    Row { name: "invalid UTF-8 in an object key", body: Raw(b"{\"\xc3\x28\": 1}"), expect: bad("invalid unicode code point at line 1 column 3"), ..CALL },
    Row { name: "invalid UTF-8 before the object", body: Raw(b"\xff\xfe{}"), expect: bad("the call request body is not valid: expected a JSON object"), ..CALL },
    Row { name: "a lone surrogate escape in event.data", body: Set("/event/data", r#"{"s": "\ud800"}"#), expect: bad("event.data.s: unexpected end of hex escape"), ..CALL },
    Row { name: "a UTF-8 byte order mark", body: Made(with_bom), expect: bad("the call request body is not valid: expected a JSON object"), ..CALL },
    Row { name: "JSON null", body: Raw(b"null"), expect: bad("the call request body is not valid: expected a JSON object"), ..CALL },
    Row { name: "a JSON array", body: Raw(b"[]"), expect: bad("the call request body is not valid: expected a JSON object"), ..CALL },
    Row { name: "the fields as an array (serde's other form of a struct)", body: Made(fields_as_array), expect: bad("the call request body is not valid: expected a JSON object"), ..CALL },
    Row { name: "trailing bytes after the object", body: Made(trailing), expect: bad("trailing characters"), ..CALL },
    Row { name: "`ctx` twice", body: Made(duplicate_ctx), expect: bad("duplicate field `ctx`"), ..CALL },
    // Missing parts.
    Row { name: "no `ctx`", body: Without("/ctx"), expect: bad("missing field `ctx`"), ..CALL },
    Row { name: "no `event`", body: Without("/event"), expect: bad("missing field `event`"), ..CALL },
    Row { name: "no `ctx.run_id`", body: Without("/ctx/run_id"), expect: bad("ctx: missing field `run_id`"), ..CALL },
    // Wrong JSON types, field by field.
    Row { name: "event is a number", body: Set("/event", "5"), expect: unretriable("the event `<unnamed>` does not deserialize into `Event<serde_json::value::Value>`: invalid type: integer `5`, expected struct Event"), ..CALL },
    Row { name: "event is null", body: Set("/event", "null"), expect: unretriable("invalid type: null, expected struct Event"), ..CALL },
    Row { name: "event.name is a number", body: Set("/event/name", "7"), expect: unretriable("the event `<unnamed>` does not deserialize"), ..CALL },
    Row { name: "event.ts is a string", body: Set("/event/ts", r#""yesterday""#), expect: unretriable("the event `hostile/echo` does not deserialize into `Event<serde_json::value::Value>`: invalid type: string \"yesterday\", expected i64"), ..CALL },
    Row { name: "event.data does not fit the type", body: Set("/event/data", r#"{"qty": "three"}"#), expect: unretriable("invalid type: string \"three\", expected u32"), ..TYPED_CALL },
    Row { name: "events is an object", body: Set("/events", "{}"), expect: bad("events: invalid type: map, expected a sequence"), ..CALL },
    Row { name: "events holds a number", body: Set("/events", "[5]"), expect: unretriable("invalid type: integer `5`, expected struct Event"), ..CALL },
    Row { name: "events is null (Go's nil slice): the first event is used", body: Set("/events", "null"), ..CALL },
    Row { name: "a lone surrogate escape in events[0] (not a copy of event)", body: Set("/events", r#"[{"name": "hostile/echo", "data": {"s": "\ud800"}}]"#), expect: bad("events[0].data.s: unexpected end of hex escape"), ..CALL },
    Row { name: "steps is an array", body: Set("/steps", "[]"), expect: bad("steps: invalid type: sequence, expected a map"), ..CALL },
    Row { name: "steps is a string", body: Set("/steps", r#""{}""#), expect: bad("steps: invalid type: string \"{}\", expected a map"), ..CALL },
    Row { name: "steps is null (Go's nil map): no memos", body: Set("/steps", "null"), ..CALL },
    Row { name: "version is a string", body: Set("/version", r#""2""#), expect: bad("version: invalid type: string \"2\", expected i64"), ..CALL },
    Row { name: "version is a float", body: Set("/version", "1.5"), expect: bad("version: invalid type: floating point `1.5`, expected i64"), ..CALL },
    Row { name: "use_api is a string", body: Set("/use_api", r#""no""#), expect: bad("use_api: invalid type: string \"no\", expected a boolean"), ..CALL },
    Row { name: "ctx is a string", body: Set("/ctx", r#""ctx""#), expect: bad("ctx: invalid type: string \"ctx\", expected struct CallContext"), ..CALL },
    Row { name: "ctx is null", body: Set("/ctx", "null"), expect: bad("ctx: invalid type: null, expected struct CallContext"), ..CALL },
    Row { name: "ctx.run_id is a number", body: Set("/ctx/run_id", "5"), expect: bad("ctx.run_id: invalid type: integer `5`, expected a string"), ..CALL },
    Row { name: "ctx.fn_id is an object", body: Set("/ctx/fn_id", "{}"), expect: bad("ctx.fn_id: invalid type: map, expected a string"), ..CALL },
    Row { name: "ctx.env is an array", body: Set("/ctx/env", "[]"), expect: bad("ctx.env: invalid type: sequence, expected a string"), ..CALL },
    Row { name: "ctx.step_id is a number", body: Set("/ctx/step_id", "1"), expect: bad("ctx.step_id: invalid type: integer `1`, expected a string"), ..CALL },
    Row { name: "ctx.attempt is a string", body: Set("/ctx/attempt", r#""1""#), expect: bad("ctx.attempt: invalid type: string \"1\", expected u32"), ..CALL },
    Row { name: "ctx.attempt is negative", body: Set("/ctx/attempt", "-1"), expect: bad("ctx.attempt: invalid value: integer `-1`, expected u32"), ..CALL },
    Row { name: "ctx.attempt is 1e400", body: Set("/ctx/attempt", "1e400"), expect: bad("number out of range"), ..CALL },
    Row { name: "ctx.attempt is 2^64", body: Set("/ctx/attempt", "18446744073709551616"), expect: bad("ctx.attempt: invalid type: floating point `1.8446744073709552e+19`, expected u32"), ..CALL },
    Row { name: "ctx.attempt is 2^32", body: Set("/ctx/attempt", "4294967296"), expect: bad("ctx.attempt: invalid value: integer `4294967296`, expected u32"), ..CALL },
    Row { name: "ctx.attempt is a fraction", body: Set("/ctx/attempt", "0.5"), expect: bad("ctx.attempt: invalid type: floating point `0.5`, expected u32"), ..CALL },
    Row { name: "ctx.max_attempts is a string", body: Set("/ctx/max_attempts", r#""4""#), expect: bad("ctx.max_attempts: invalid type: string \"4\", expected u32"), ..CALL },
    Row { name: "ctx.max_attempts is negative", body: Set("/ctx/max_attempts", "-4"), expect: bad("ctx.max_attempts: invalid value: integer `-4`, expected u32"), ..CALL },
    Row { name: "ctx.max_attempts is 0: every attempt is the last, the call still runs", body: Set("/ctx/max_attempts", "0"), ..CALL },
    Row { name: "ctx.max_attempts is 4294967295", body: Set("/ctx/max_attempts", "4294967295"), ..CALL },
    Row { name: "ctx.attempt is u32::MAX: no overflow", body: Set("/ctx/attempt", "4294967295"), ..CALL },
    Row { name: "ctx.stack is a string", body: Set("/ctx/stack", r#""[]""#), expect: bad("ctx.stack: invalid type: string \"[]\", expected struct CallStack"), ..CALL },
    Row { name: "ctx.stack.stack is a string", body: Set("/ctx/stack/stack", r#""a""#), expect: bad("ctx.stack.stack: invalid type: string \"a\", expected a sequence"), ..CALL },
    Row { name: "ctx.stack.stack holds numbers", body: Set("/ctx/stack/stack", "[1, 2]"), expect: bad("ctx.stack.stack[0]: invalid type: integer `1`, expected a string"), ..CALL },
    Row { name: "ctx.stack.stack is null (older servers): empty", body: Set("/ctx/stack/stack", "null"), ..CALL },
    Row { name: "ctx.stack.current is a string", body: Set("/ctx/stack/current", r#""0""#), expect: bad("ctx.stack.current: invalid type: string \"0\", expected i64"), ..CALL },
    Row { name: "ctx.stack is null", body: Set("/ctx/stack", "null"), ..CALL },
    Row { name: "ctx.disable_immediate_execution is a string", body: Set("/ctx/disable_immediate_execution", r#""true""#), expect: bad("ctx.disable_immediate_execution: invalid type: string \"true\", expected a boolean"), ..CALL },
    Row { name: "ctx.use_api is a number", body: Set("/ctx/use_api", "1"), expect: bad("ctx.use_api: invalid type: integer `1`, expected a boolean"), ..CALL },
    Row { name: "a stack naming unknown ids", body: Set("/ctx/stack/stack", r#"["deadbeef", "", "not hex at all"]"#), ..CALL },
    Row { name: "memos under unknown ids are ignored", body: Set("/steps", r#"{"deadbeef": {"data": 1}, "": null, "x": {"error": 5}}"#), ..CALL },
    // Nesting and numbers.
    Row { name: "10,000-deep nesting in event.data", body: Made(deep_event), expect: bad("recursion limit exceeded"), ..CALL },
    Row { name: "10,000-deep nesting in a memo", body: Made(deep_memo), expect: bad("recursion limit exceeded"), ..CALL },
    Row { name: "10,000-deep nesting of unclosed arrays", body: Made(deep_unclosed), expect: bad("recursion limit exceeded"), ..CALL },
    Row { name: "100-deep nesting in event.data is fine", body: Made(nested_100), expect: Json(200, None, NESTED_100), ..CALL },
    Row { name: "a number over f64's range in event.data", body: Set("/event/data", r#"{"qty": 1e400}"#), expect: bad("event.data.qty: number out of range"), ..CALL },
    // Memo values of every shape (protocol.md section 2: only an object whose ONLY key is
    // `data`, `error` or `input` is wrapped; anything else is a raw value).
    Row { name: "memo {data} is the value", body: Memo("fetch", r#"{"data": [1, 2]}"#), expect: Json(200, None, r#"{"fetched":[1,2]}"#), ..MEMO_CALL },
    Row { name: "memo {data:null} is null", body: Memo("fetch", r#"{"data": null}"#), expect: Json(200, None, r#"{"fetched":null}"#), ..MEMO_CALL },
    Row { name: "memo {data, error} is a raw value", body: Memo("fetch", r#"{"data": 1, "error": 2}"#), expect: Json(200, None, r#"{"fetched":{"data":1,"error":2}}"#), ..MEMO_CALL },
    Row { name: "memo {Data} (other case) is a raw value", body: Memo("fetch", r#"{"Data": 1}"#), expect: Json(200, None, r#"{"fetched":{"Data":1}}"#), ..MEMO_CALL },
    Row { name: "memo {} is a raw value", body: Memo("fetch", "{}"), expect: Json(200, None, r#"{"fetched":{}}"#), ..MEMO_CALL },
    Row { name: "memo null (a finished sleep) is null", body: Memo("fetch", "null"), expect: Json(200, None, r#"{"fetched":null}"#), ..MEMO_CALL },
    Row { name: "memo array is a raw value", body: Memo("fetch", "[1, 2]"), expect: Json(200, None, r#"{"fetched":[1,2]}"#), ..MEMO_CALL },
    Row { name: "memo string is a raw value", body: Memo("fetch", r#""text""#), expect: Json(200, None, r#"{"fetched":"text"}"#), ..MEMO_CALL },
    Row { name: "memo {error: {name, message}} raises a StepError", body: Memo("fetch", r#"{"error": {"name": "MailError", "message": "refused"}}"#), expect: Json(400, Some("true"), r#"{"name":"StepError","message":"refused","cause":{"name":"MailError","message":"refused"}}"#), ..MEMO_CALL },
    Row { name: "memo {error: \"string\"} raises a StepError", body: Memo("fetch", r#"{"error": "string"}"#), expect: Json(400, Some("true"), r#"{"name":"StepError","message":"string","cause":{"name":"Error","message":"string"}}"#), ..MEMO_CALL },
    Row { name: "memo {error: 5} raises a StepError", body: Memo("fetch", r#"{"error": 5}"#), expect: Json(400, Some("true"), r#"{"name":"StepError","message":"5","cause":{"name":"Error","message":"5"}}"#), ..MEMO_CALL },
    Row { name: "memo {error: null} raises a StepError", body: Memo("fetch", r#"{"error": null}"#), expect: Json(400, Some("true"), r#"{"name":"StepError","message":"null","cause":{"name":"Error","message":"null"}}"#), ..MEMO_CALL },
    Row { name: "memo {input: \"not-array\"}: not finished, the step runs", body: Memo("fetch", r#"{"input": "not-array"}"#), expect: Json(206, None, FETCH_RAN), ..MEMO_CALL },
    Row { name: "memo {input: [1]}: not finished, the step runs", body: Memo("fetch", r#"{"input": [1]}"#), expect: Json(206, None, FETCH_RAN), ..MEMO_CALL },
    Row { name: "memo {data} of the wrong type for the step", body: Memo("count", r#"{"data": "three"}"#), expect: unretriable("the memoized result of step `count` does not deserialize into `u32`: invalid type: string \"three\", expected u32"), ..TYPED_CALL },
    // The query.
    Row { name: "fnId twice", target: "/api/inngest?fnId=hostile-app-echo&fnId=hostile-app-memo&stepId=step", expect: bad("the query parameter `fnId` is given more than once"), ..CALL },
    Row { name: "stepId twice", target: "/api/inngest?fnId=hostile-app-echo&stepId=step&stepId=x", expect: bad("the query parameter `stepId` is given more than once"), ..CALL },
    Row { name: "no fnId", target: "/api/inngest?stepId=step", expect: bad("a call request needs the `fnId` query parameter"), ..CALL },
    Row { name: "no query at all", target: "/api/inngest", expect: bad("a call request needs the `fnId` query parameter"), ..CALL },
    Row { name: "an unknown fnId", target: "/api/inngest?fnId=hostile-app-nope&stepId=step", expect: Fails(500, "false", "FunctionNotFound", "no function with the id `hostile-app-nope` in this app"), ..CALL },
    Row { name: "a fnId of invalid percent-encoded UTF-8", target: "/api/inngest?fnId=%FF%FE&stepId=step", expect: Fails(500, "false", "FunctionNotFound", "no function with the id `\u{FFFD}\u{FFFD}`"), ..CALL },
    Row { name: "a stepId the function never reaches", target: "/api/inngest?fnId=hostile-app-memo&stepId=0000000000000000000000000000000000000000", expect: Fails(500, "false", "StepNotFound", "could not find the step `0000000000000000000000000000000000000000` to run; found fetch (ad8cee67138e73009d4e22831ec6eb3b7f9e60da)"), ..CALL },
    Row { name: "probe twice", target: "/api/inngest?probe=trust&probe=trust", expect: bad("the query parameter `probe` is given more than once"), ..CALL },
    Row { name: "another path", target: "/api/inngest/../elsewhere?fnId=hostile-app-echo", expect: Fails(404, "true", "NotFound", "the Inngest endpoint is `/api/inngest`"), ..CALL },
    // Methods.
    Row { name: "DELETE", method: "DELETE", expect: NOT_ALLOWED, ..CALL },
    Row { name: "PATCH", method: "PATCH", expect: NOT_ALLOWED, ..CALL },
    Row { name: "OPTIONS", method: "OPTIONS", expect: NOT_ALLOWED, ..CALL },
    // Size, framing and time.
    Row { name: "a body over the limit (Content-Length)", body: Made(over_limit), expect: Fails(413, "true", "PayloadTooLarge", "the request body is over the limit of 65536 bytes"), ..CALL },
    Row { name: "a body over the limit (chunked, no length)", body: Made(over_limit), wire: Wire::Chunked, expect: Fails(413, "true", "PayloadTooLarge", "the request body is over the limit of 65536 bytes"), ..CALL },
    Row { name: "a valid chunked body", wire: Wire::Chunked, ..CALL },
    Row { name: "Content-Length declares less than sent", wire: Wire::Shorter, expect: bad("EOF while parsing"), ..CALL },
    Row { name: "Content-Length declares more than sent, then the client closes", wire: Wire::LongerThenClose, expect: bad("the request body could not be read"), ..CALL },
    Row { name: "a slow-loris body (headers and 8 bytes, then nothing)", wire: Wire::StallBody, expect: TIMED_OUT, ..CALL },
    Row { name: "two Content-Length headers", headers: &["content-length: 3"], expect: BareHttp400, ..CALL },
    Row { name: "Content-Length is not a number", headers: &["content-length: abc"], expect: BareHttp400, ..CALL },
    Row { name: "chunked and Content-Length, the body not chunked", headers: &["transfer-encoding: chunked"], expect: bad("the request body could not be read: error reading a body from connection"), ..CALL },
    Row { name: "a method with a control byte", method: "GET\x01", expect: BareHttp400, ..CALL },
    Row { name: "a header line without a colon", headers: &["no colon here"], expect: BareHttp400, ..CALL },
    Row { name: "trickled headers (slower than the header timeout)", wire: Wire::TrickleHeaders, expect: Closed, ..CALL },
];

/// What `echo` answers for [`nested_100`].
const NESTED_100: &str = "{\"echo\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}";

// ---- the cloud-mode table ----

#[rustfmt::skip]
static CLOUD_ROWS: &[Row] = &[
    Row { name: "no signature", expect: UNAUTHORIZED, ..CALL },
    Row { name: "empty t and s", sig: Sig::Text("t=&s="), expect: UNAUTHORIZED, ..CALL },
    Row { name: "an empty header", sig: Sig::Text(""), expect: UNAUTHORIZED, ..CALL },
    Row { name: "no t", sig: Sig::Made(no_t), expect: UNAUTHORIZED, ..CALL },
    Row { name: "no s", sig: Sig::Made(no_s), expect: UNAUTHORIZED, ..CALL },
    Row { name: "t is not a number", sig: Sig::Made(t_not_a_number), expect: UNAUTHORIZED, ..CALL },
    Row { name: "t is a float", sig: Sig::Made(t_float), expect: UNAUTHORIZED, ..CALL },
    Row { name: "t is i64::MIN", sig: Sig::Made(t_min), expect: UNAUTHORIZED, ..CALL },
    Row { name: "t is over i64", sig: Sig::Made(t_over), expect: UNAUTHORIZED, ..CALL },
    Row { name: "s is not hex", sig: Sig::Made(s_not_hex), expect: UNAUTHORIZED, ..CALL },
    Row { name: "s is one byte short", sig: Sig::Made(s_short), expect: UNAUTHORIZED, ..CALL },
    Row { name: "s is one byte long", sig: Sig::Made(s_long), expect: UNAUTHORIZED, ..CALL },
    Row { name: "s has a sign (%2B) in its hex", sig: Sig::Made(s_signed_hex), expect: UNAUTHORIZED, ..CALL },
    Row { name: "t twice", sig: Sig::Made(t_twice), expect: UNAUTHORIZED, ..CALL },
    Row { name: "s twice", sig: Sig::Made(s_twice), expect: UNAUTHORIZED, ..CALL },
    Row { name: "unicode in the header", sig: Sig::Text("t=١٧٠٠٠٠٠٠٠٠&s=ÿ€"), expect: UNAUTHORIZED, ..CALL },
    Row { name: "a 10 KB header", sig: Sig::Made(ten_kb), expect: UNAUTHORIZED, ..CALL },
    Row { name: "a bare garbage word", sig: Sig::Text("garbage"), expect: UNAUTHORIZED, ..CALL },
    Row { name: "signed by another key", sig: Sig::Signed(OTHER_KEY, 0), expect: UNAUTHORIZED, ..CALL },
    Row { name: "signed over another body", sig: Sig::OtherBody, expect: UNAUTHORIZED, ..CALL },
    Row { name: "replayed: signed 301 s ago", sig: Sig::Signed(KEY, -301), expect: UNAUTHORIZED, ..CALL },
    Row { name: "replayed: signed a day ago", sig: Sig::Signed(KEY, -86_400), expect: UNAUTHORIZED, ..CALL },
    Row { name: "from the future: 310 s ahead", sig: Sig::Signed(KEY, 310), expect: UNAUTHORIZED, ..CALL },
    Row { name: "from the future: a year ahead", sig: Sig::Signed(KEY, 366 * 86_400), expect: UNAUTHORIZED, ..CALL },
    Row { name: "a garbage header before a valid one", headers: &["x-inngest-signature: garbage"], sig: Sig::Signed(KEY, 0), expect: UNAUTHORIZED, ..CALL },
    Row { name: "an unsigned trust probe", target: "/api/inngest?probe=trust", expect: UNAUTHORIZED, ..CALL },
    Row { name: "an unsigned sync", method: "PUT", target: "/api/inngest", body: Raw(b"{\"url\":\"http://127.0.0.1:9/api/inngest\"}"), expect: UNAUTHORIZED, ..CALL },
    // Controls: inside the window is accepted. (The margins keep a second boundary passing
    // between signing and checking from deciding a row.)
    Row { name: "signed 290 s ago", sig: Sig::Signed(KEY, -290), ..CALL },
    Row { name: "signed 290 s ahead", sig: Sig::Signed(KEY, 290), ..CALL },
    // Size and time come before the signature is checked.
    Row { name: "a body over the limit, unsigned", body: Made(over_limit), expect: Fails(413, "true", "PayloadTooLarge", "the request body is over the limit of 65536 bytes"), ..CALL },
    Row { name: "a slow-loris body, unsigned", wire: Wire::StallBody, expect: TIMED_OUT, ..CALL },
];

// ---- bodies and signatures the table makes ----

fn valid_call() -> Value {
    CallBody::new("hostile/echo", json!({"qty": 3})).build()
}

fn with_bom() -> Vec<u8> {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend(serde_json::to_vec(&valid_call()).unwrap());
    bytes
}

fn trailing() -> Vec<u8> {
    let mut bytes = serde_json::to_vec(&valid_call()).unwrap();
    bytes.extend(b" {}");
    bytes
}

fn duplicate_ctx() -> Vec<u8> {
    let text = valid_call().to_string();
    let ctx = valid_call()["ctx"].to_string();
    format!("{},\"ctx\":{ctx}}}", &text[..text.len() - 1]).into_bytes()
}

fn fields_as_array() -> Vec<u8> {
    let call = valid_call();
    let fields = ["event", "events", "steps", "version", "use_api", "ctx"];
    serde_json::to_vec(&fields.map(|f| call[f].clone())).unwrap()
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn deep_event() -> Vec<u8> {
    substitute(valid_call(), "/event/data", &nested(10_000))
}

fn deep_memo() -> Vec<u8> {
    memo_body("fetch", &nested(10_000))
}

fn deep_unclosed() -> Vec<u8> {
    substitute(valid_call(), "/event/data", &"[".repeat(10_000))
}

fn nested_100() -> Vec<u8> {
    substitute(valid_call(), "/event/data", &nested(100))
}

fn over_limit() -> Vec<u8> {
    let mut call = valid_call();
    call["event"]["data"]["pad"] = json!("x".repeat(BODY_LIMIT));
    serde_json::to_vec(&call).unwrap()
}

const S64: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn no_t() -> String {
    format!("s={S64}")
}
fn no_s() -> String {
    format!("t={}", now())
}
fn t_not_a_number() -> String {
    format!("t=soon&s={S64}")
}
fn t_float() -> String {
    format!("t={}.5&s={S64}", now())
}
fn t_min() -> String {
    format!("t={}&s={S64}", i64::MIN)
}
fn t_over() -> String {
    format!("t=9223372036854775808&s={S64}")
}
fn s_not_hex() -> String {
    format!("t={}&s={}", now(), "zz".repeat(32))
}
fn s_short() -> String {
    format!("t={}&s={}", now(), &S64[..62])
}
fn s_long() -> String {
    format!("t={}&s={S64}00", now())
}
fn s_signed_hex() -> String {
    format!("t={}&s={}", now(), "%2Bf".repeat(32))
}
fn t_twice() -> String {
    format!("t={0}&t={0}&s={S64}", now())
}
fn s_twice() -> String {
    format!("t={}&s={S64}&s={S64}", now())
}
fn ten_kb() -> String {
    format!("t={}&s={S64}&pad={}", now(), "a".repeat(10 * 1024))
}

/// The JSON `value` serialized, with the value at `pointer` replaced by the raw JSON `text`.
fn substitute(mut value: Value, pointer: &str, text: &str) -> Vec<u8> {
    const HOLE: &str = "@@hole@@";
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = if parent.is_empty() {
        &mut value
    } else {
        value.pointer_mut(parent).unwrap()
    };
    parent[key] = json!(HOLE);
    let serialized = value.to_string();
    assert_eq!(serialized.matches(HOLE).count(), 1);
    serialized
        .replace(&format!("\"{HOLE}\""), text)
        .into_bytes()
}

/// The valid call with `text` memoized for the step `user_id`, listed in the stack.
fn memo_body(user_id: &str, text: &str) -> Vec<u8> {
    let mut call = valid_call();
    let hashed = hash(user_id);
    call["steps"] = json!({ &hashed: null });
    call["ctx"]["stack"] = json!({"stack": [hashed], "current": 1});
    substitute(call, &format!("/steps/{hashed}"), text)
}

impl Body {
    fn bytes(self) -> Vec<u8> {
        match self {
            Valid => serde_json::to_vec(&valid_call()).unwrap(),
            Raw(bytes) => bytes.to_vec(),
            Set(pointer, text) => substitute(valid_call(), pointer, text),
            Without(pointer) => {
                let mut call = valid_call();
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                let parent = if parent.is_empty() {
                    &mut call
                } else {
                    call.pointer_mut(parent).unwrap()
                };
                parent.as_object_mut().unwrap().remove(key).unwrap();
                serde_json::to_vec(&call).unwrap()
            }
            Memo(user_id, text) => memo_body(user_id, text),
            Made(make) => make(),
        }
    }
}

impl Sig {
    fn header(self, body: &[u8]) -> Option<String> {
        match self {
            Sig::None => None,
            Sig::Text(text) => Some(text.to_owned()),
            Sig::Made(make) => Some(make()),
            Sig::Signed(key, skew) => Some(sign(key, body, now() + skew)),
            Sig::OtherBody => Some(sign(KEY, b"{}", now())),
        }
    }
}

// ---- HTTP over a raw socket ----

/// What came back on the socket.
#[derive(Debug)]
enum Got {
    Answer(Answer),
    /// Closed before a single byte came back.
    Closed,
    /// Anything else: a timeout, a reset, a garbled answer.
    Broken(String),
}

#[derive(Debug)]
struct Answer {
    status: u16,
    /// Lower-cased names.
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The request head: request line, the row's headers, the signature, and the framing.
fn head(row: &Row, addr: SocketAddr, body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/json\r\n",
        row.method, row.target
    );
    for line in row.headers {
        head.push_str(line);
        head.push_str("\r\n");
    }
    if let Some(sig) = row.sig.header(body) {
        head.push_str(&format!("x-inngest-signature: {sig}\r\n"));
    }
    match row.wire {
        Wire::Chunked => head.push_str("transfer-encoding: chunked\r\n"),
        Wire::Shorter => head.push_str(&format!("content-length: {}\r\n", body.len() / 2)),
        Wire::LongerThenClose => head.push_str(&format!("content-length: {}\r\n", body.len() * 2)),
        _ => head.push_str(&format!("content-length: {}\r\n", body.len())),
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Sends one row's request on a new connection and reads what comes back.
async fn send(addr: SocketAddr, row: &Row) -> Got {
    let body = row.body.bytes();
    let head = head(row, addr, &body);
    let stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => return Got::Broken(format!("connect: {e}")),
    };
    let (mut reader, mut writer) = stream.into_split();
    let wire = row.wire;
    // Written in its own task: the server may answer (413) before it has read everything,
    // and a write error after that is not the row's concern.
    let writing = tokio::spawn(async move {
        match wire {
            Wire::Exact | Wire::Shorter => {
                writer.write_all(&[head, body].concat()).await?;
            }
            Wire::Chunked => {
                writer.write_all(&head).await?;
                for chunk in body.chunks(8 * 1024) {
                    writer
                        .write_all(
                            &[format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat(),
                        )
                        .await?;
                }
                writer.write_all(b"0\r\n\r\n").await?;
            }
            Wire::LongerThenClose => {
                writer.write_all(&[head, body].concat()).await?;
                writer.shutdown().await?;
            }
            Wire::StallBody => {
                writer.write_all(&[&head[..], &body[..8]].concat()).await?;
            }
            Wire::TrickleHeaders => {
                // The head, a byte at a time; slower than the header timeout in all.
                for byte in head {
                    writer.write_all(&[byte]).await?;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        // Keep the write half open until the answer is read.
        std::future::pending::<()>().await;
        Ok::<_, std::io::Error>(writer)
    });
    let got = read_answer(&mut reader).await;
    writing.abort();
    got
}

/// Reads one HTTP/1.1 answer (status line, headers, `Content-Length` body) within the
/// deadline.
async fn read_answer(reader: &mut (impl AsyncReadExt + Unpin)) -> Got {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(DEADLINE, async {
        let mut chunk = [0_u8; 16 * 1024];
        loop {
            if let Some(done) = complete(&buf) {
                return Ok(done);
            }
            match reader.read(&mut chunk).await {
                Ok(0) => return Err(None),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(Some(e.to_string())),
            }
        }
    })
    .await;
    match read {
        Err(_) => Got::Broken(format!(
            "no complete answer within {DEADLINE:?}; got {:?}",
            String::from_utf8_lossy(&buf)
        )),
        Ok(Ok(answer)) => answer,
        Ok(Err(None)) if buf.is_empty() => Got::Closed,
        Ok(Err(e)) => Got::Broken(format!(
            "the connection ended ({e:?}) after {:?}",
            String::from_utf8_lossy(&buf)
        )),
    }
}

/// The answer in `buf`, once it is all there.
fn complete(buf: &[u8]) -> Option<Got> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let Some(status) = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
    else {
        return Some(Got::Broken(format!("bad status line {status_line:?}")));
    };
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let body = buf.get(end + 4..end + 4 + length)?;
    Some(Got::Answer(Answer {
        status,
        headers,
        body: String::from_utf8_lossy(body).into_owned(),
    }))
}

/// Why `got` is not what `expect` says, if it is not.
fn mismatch(expect: Expect, got: &Got) -> Option<String> {
    let answer = match (expect, got) {
        (Closed, Got::Closed) => return None,
        (Closed, other) => return Some(format!("expected the connection closed, got {other:?}")),
        (BareHttp400, Got::Answer(a))
            if a.status == 400 && a.body.is_empty() && a.header("connection") == Some("close") =>
        {
            return None
        }
        (BareHttp400, other) => return Some(format!("expected hyper's bare 400, got {other:?}")),
        (_, Got::Answer(a)) => a,
        (_, Got::Closed) => return Some("closed without an answer".to_owned()),
        (_, Got::Broken(why)) => return Some(format!("no answer: {why}")),
    };
    let sdk = format!("inngest-rs:v{}", inngest::VERSION);
    if answer.header("x-inngest-sdk") != Some(sdk.as_str())
        || answer.header("x-inngest-req-version") != Some("2")
    {
        return Some(format!("the SDK headers are missing: {answer:?}"));
    }
    if answer.header("content-type") != Some("application/json") {
        return Some(format!("not JSON: {answer:?}"));
    }
    let Ok(body) = serde_json::from_str::<Value>(&answer.body) else {
        return Some(format!("the body is not JSON: {answer:?}"));
    };
    let (status, no_retry) = match expect {
        Fails(status, no_retry, name, fragment) => {
            let message = body["message"].as_str().unwrap_or_default();
            if body["name"] != name || !message.contains(fragment) {
                return Some(format!(
                    "expected {name} with a message containing {fragment:?}, got {}",
                    answer.body
                ));
            }
            (status, Some(no_retry))
        }
        Json(status, no_retry, text) => {
            let expected: Value = serde_json::from_str(text).unwrap();
            if body != expected {
                return Some(format!("expected the body {text}, got {}", answer.body));
            }
            (status, no_retry)
        }
        Closed | BareHttp400 => unreachable!(),
    };
    if answer.status != status || answer.header("x-inngest-no-retry") != no_retry {
        return Some(format!(
            "expected {status} with X-Inngest-No-Retry {no_retry:?}, got {} with {:?}: {}",
            answer.status,
            answer.header("x-inngest-no-retry"),
            answer.body
        ));
    }
    None
}

/// Runs every row, then a normal call, and fails listing every row that went wrong.
async fn run_table(server: &Served, rows: &[Row], normal: Row) {
    let mut failures = Vec::new();
    for row in rows {
        let got = send(server.addr, row).await;
        if let Some(why) = mismatch(row.expect, &got) {
            failures.push(format!("- {}: {why}", row.name));
        }
        let next = send(server.addr, &normal).await;
        if let Some(why) = mismatch(normal.expect, &next) {
            failures.push(format!("- after {}, a normal call: {why}", row.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

async fn dev_server() -> Served {
    Served::start(
        inngest::App::new(APP)
            .dev("http://127.0.0.1:9")
            .body_limit(BODY_LIMIT)
            .body_timeout(BODY_TIMEOUT),
    )
    .await
}

async fn cloud_server() -> Served {
    Served::start(
        inngest::App::new(APP)
            .signing_key(KEY)
            .body_limit(BODY_LIMIT)
            .body_timeout(BODY_TIMEOUT),
    )
    .await
}

// ---- the tests ----

#[test]
fn the_table_is_as_big_as_promised() {
    assert!(DEV_ROWS.len() + CLOUD_ROWS.len() >= 40);
    assert_eq!(hash("fetch"), FETCH);
    assert_eq!(hash("count"), COUNT);
    let mut names: Vec<&str> = DEV_ROWS.iter().chain(CLOUD_ROWS).map(|r| r.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names.len(),
        DEV_ROWS.len() + CLOUD_ROWS.len(),
        "row names are unique"
    );
}

#[tokio::test]
async fn dev_mode_answers_every_hostile_request_and_keeps_serving() {
    let server = dev_server().await;
    run_table(&server, DEV_ROWS, CALL).await;
}

#[tokio::test]
async fn cloud_mode_refuses_every_bad_signature_and_keeps_serving() {
    let server = cloud_server().await;
    run_table(&server, CLOUD_ROWS, SIGNED_CALL).await;
}

/// Stalled bodies hold their connections until the body timeout, and meanwhile others are
/// answered.
#[tokio::test]
async fn slow_bodies_time_out_while_others_are_served() {
    let server = dev_server().await;
    let body = Valid.bytes();
    let head = head(&CALL, server.addr, &body);
    // Four connections send their headers and 8 bytes of the body, then stall.
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let started = Instant::now();
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(&[&head[..], &body[..8]].concat())
            .await
            .unwrap();
        stalled.push((started, stream));
    }
    // Meanwhile, normal calls are answered.
    for _ in 0..3 {
        assert_eq!(mismatch(CALL.expect, &send(server.addr, &CALL).await), None);
    }
    // Each stalled request gets its 408, and not before the body timeout.
    for (started, mut stream) in stalled {
        assert_eq!(mismatch(TIMED_OUT, &read_answer(&mut stream).await), None);
        assert!(
            started.elapsed() >= BODY_TIMEOUT,
            "answered after {:?}, before the body timeout",
            started.elapsed()
        );
    }
    assert_eq!(mismatch(CALL.expect, &send(server.addr, &CALL).await), None);
}
