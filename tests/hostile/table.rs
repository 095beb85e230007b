//! The vocabulary of the tables: a row (one hostile request and what must come back), its
//! body, signature, framing and expectation, and the calls the rows vary.

use crate::KEY;

/// One hostile request and what must come back.
#[derive(Clone, Copy)]
pub struct Row {
    pub name: &'static str,
    pub method: &'static str,
    /// Path and query.
    pub target: &'static str,
    /// Extra raw header lines, `name: value` (written as they are, bytes and all).
    pub headers: &'static [&'static str],
    /// `X-Inngest-Signature`.
    pub sig: Sig,
    pub body: Body,
    /// How the body goes on the wire.
    pub wire: Wire,
    pub expect: Expect,
}

#[derive(Clone, Copy)]
pub enum Body {
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
pub enum Wire {
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
pub enum Sig {
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
pub enum Expect {
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
pub const CALL: Row = Row {
    name: "a normal call",
    method: "POST",
    target: "/api/inngest?fnId=hostile-app-echo&stepId=step",
    headers: &[],
    sig: Sig::None,
    body: Valid,
    wire: Wire::Exact,
    expect: Json(200, None, ECHOED),
};
pub const ECHOED: &str = r#"{"echo":{"qty":3}}"#;
pub const MEMO_CALL: Row = Row {
    target: "/api/inngest?fnId=hostile-app-memo&stepId=step",
    ..CALL
};
pub const TYPED_CALL: Row = Row {
    target: "/api/inngest?fnId=hostile-app-typed&stepId=step",
    ..CALL
};
pub const SIGNED_CALL: Row = Row {
    sig: Sig::Signed(KEY, 0),
    ..CALL
};

/// 400, retriable, `BadRequest`.
pub const fn bad(message: &'static str) -> Expect {
    Fails(400, "false", "BadRequest", message)
}
/// 400, not retriable, `NonRetriableError`: the function failed for good.
pub const fn unretriable(message: &'static str) -> Expect {
    Fails(400, "true", "NonRetriableError", message)
}
pub const NOT_ALLOWED: Expect = Fails(405, "true", "MethodNotAllowed", "answers GET, PUT and POST");
pub const TIMED_OUT: Expect = Fails(
    408,
    "false",
    "RequestTimeout",
    "the request body did not arrive within 300ms",
);
pub const UNAUTHORIZED: Expect = Json(401, Some("false"), r#"{"message":"Unauthorized"}"#);
/// The op `memo` reports when its step `fetch` runs now.
pub const FETCH_RAN: &str = r#"[{"id":"ad8cee67138e73009d4e22831ec6eb3b7f9e60da","op":"StepRun","name":"fetch","displayName":"fetch","data":"fresh","opts":{"type":"step.run"},"userland":{"id":"fetch"}}]"#;
