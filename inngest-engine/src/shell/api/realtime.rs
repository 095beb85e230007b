//! Realtime, as the server's realtime API (protocol-2.md section 5): `POST
//! /v1/realtime/publish?channel=&topic=` publishes a message, `POST /v1/realtime/token`
//! issues a subscription token for a list of topics, and `GET /v1/realtime/sse?token=` (or,
//! on this engine, `?channel=&topic=`) streams the messages as server-sent events: `data:
//! <message JSON>` per message and a `:` comment every 30 s to keep the connection open, for
//! at most 15 minutes.

use std::convert::Infallible;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use inngest_protocol::realtime::{RealtimeMessage, Topic, KIND_DATA, MAX_MESSAGE_BYTES};
use serde_json::{json, Value};

use super::reply::{error, json_response, with_type};
use super::{ApiBody, Req};
use crate::shell::engine::Engine;

/// How often an idle stream sends a comment.
const KEEPALIVE: Duration = Duration::from_secs(30);
/// How long a stream lasts (the server's `SSEConnectionTimeout`).
const STREAM_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// `POST /v1/realtime/publish`: `200` with an empty body; the body (at most 512 KiB, more is
/// cut off) is published as it is when it is JSON, else as a JSON string.
pub(crate) fn publish(engine: &Engine, req: &Req<'_>) -> Response<Full<Bytes>> {
    if req.header("content-type") == Some("text/stream") {
        return plain(
            StatusCode::BAD_REQUEST,
            "streamed publishing (text/stream) is not supported by this engine\n",
        );
    }
    let channel = req.param("channel").unwrap_or_default();
    let topic = req.param("topic").unwrap_or_default();
    let body = &req.body[..req.body.len().min(MAX_MESSAGE_BYTES)];
    let data = serde_json::from_slice::<Value>(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
    let metadata = req
        .param("metadata")
        .map(|m| serde_json::from_str(&m).unwrap_or(Value::String(m)));
    engine.realtime().publish(RealtimeMessage {
        kind: KIND_DATA.to_owned(),
        data,
        metadata,
        created_at: inngest_protocol::time::rfc3339_millis(SystemTime::now()),
        channel,
        topic,
        run_id: req.param("run_id").filter(|r| !r.is_empty()),
    });
    with_type(StatusCode::OK, "text/plain; charset=utf-8", Bytes::new())
}

/// `POST /v1/realtime/token`: `201 {"jwt": <token>}` for a list of `{"channel", "name"}`.
pub(crate) fn token(engine: &Engine, req: &Req<'_>) -> Response<Full<Bytes>> {
    let Ok(topics) = serde_json::from_slice::<Vec<Topic>>(req.body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid request: must provide a list of topics",
        );
    };
    let jwt = engine.realtime().issue_token(topics);
    json_response(StatusCode::CREATED, &json!({ "jwt": jwt }))
}

/// `GET /v1/realtime/sse`: the messages of the token's topics (or of `channel` and each
/// `topic` given; no topic means the whole channel) as server-sent events.
pub(crate) fn sse(engine: &Engine, req: &Req<'_>) -> Response<ApiBody> {
    let topics = match req.param("token") {
        Some(token) => match engine.realtime().token_topics(&token) {
            Some(topics) => topics,
            None => {
                return error(StatusCode::UNAUTHORIZED, "Not authenticated").map(boxed);
            }
        },
        None => {
            let Some(channel) = req.param("channel").filter(|c| !c.is_empty()) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "give a subscription `token`, or a `channel` and its `topic`s",
                )
                .map(boxed);
            };
            let mut names: Vec<String> = req.params("topic");
            if names.is_empty() {
                names.push(String::new());
            }
            names
                .into_iter()
                .map(|name| Topic {
                    channel: channel.clone(),
                    name,
                    kind: "run".to_owned(),
                })
                .collect()
        }
    };
    let subscription = engine.realtime().subscribe(topics);
    let deadline = tokio::time::Instant::now() + STREAM_LIFETIME;
    let stream = futures::stream::unfold(Some(subscription), move |sub| async move {
        let mut sub = sub?;
        let frame = tokio::select! {
            next = sub.next() => match next {
                Some(message) => {
                    let json = serde_json::to_string(&*message).unwrap_or_default();
                    Some(format!("data: {json}\n\n"))
                }
                None => None,
            },
            () = tokio::time::sleep(KEEPALIVE) => Some(":\n\n".to_owned()),
            () = tokio::time::sleep_until(deadline) => None,
        }?;
        let frame: Result<http_body::Frame<Bytes>, Infallible> =
            Ok(http_body::Frame::data(Bytes::from(frame)));
        Some((frame, Some(sub)))
    });
    let mut res = Response::new(StreamBody::new(stream).boxed_unsync());
    let h = res.headers_mut();
    for (name, value) in [
        ("content-type", "text/event-stream"),
        ("cache-control", "no-cache"),
        ("access-control-allow-origin", "*"),
        ("access-control-expose-headers", "Content-Type"),
    ] {
        h.insert(name, http::HeaderValue::from_static(value));
    }
    res
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    with_type(
        status,
        "text/plain; charset=utf-8",
        Bytes::from_static(text.as_bytes()),
    )
}

fn boxed(body: Full<Bytes>) -> ApiBody {
    body.boxed_unsync()
}
