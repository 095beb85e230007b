//! The two tables: the dev-mode rows and the cloud-mode rows.

use crate::bodies::*;
use crate::table::{
    bad, unretriable, Body::*, Expect::*, Row, Sig, Wire, CALL, FETCH_RAN, MEMO_CALL, NOT_ALLOWED,
    TIMED_OUT, TYPED_CALL, UNAUTHORIZED,
};
use crate::{KEY, OTHER_KEY};

// ---- the dev-mode table ----

#[rustfmt::skip]
pub static DEV_ROWS: &[Row] = &[
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
    Row { name: "memo {error: {name, message}} raises a StepError", body: Memo("fetch", r#"{"error": {"name": "MailError", "message": "refused"}}"#), expect: Json(400, Some("true"), r#"{"name":"StepError","message":"refused","cause":{"name":"MailError","message":"refused"},"stepId":"fetch"}"#), ..MEMO_CALL },
    Row { name: "memo {error: \"string\"} raises a StepError", body: Memo("fetch", r#"{"error": "string"}"#), expect: Json(400, Some("true"), r#"{"name":"StepError","message":"string","cause":{"name":"Error","message":"string"},"stepId":"fetch"}"#), ..MEMO_CALL },
    Row { name: "memo {error: 5} raises a StepError", body: Memo("fetch", r#"{"error": 5}"#), expect: Json(400, Some("true"), r#"{"name":"StepError","message":"5","cause":{"name":"Error","message":"5"},"stepId":"fetch"}"#), ..MEMO_CALL },
    Row { name: "memo {error: null} raises a StepError", body: Memo("fetch", r#"{"error": null}"#), expect: Json(400, Some("true"), r#"{"name":"StepError","message":"null","cause":{"name":"Error","message":"null"},"stepId":"fetch"}"#), ..MEMO_CALL },
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
pub const NESTED_100: &str = "{\"echo\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}";

// ---- the cloud-mode table ----

#[rustfmt::skip]
pub static CLOUD_ROWS: &[Row] = &[
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
