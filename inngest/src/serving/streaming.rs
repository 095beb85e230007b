//! Streamed call responses (protocol-2.md section 2), with `App::streaming(true)` or
//! `INNGEST_STREAMING=true`: the call is answered at once with `201` and a chunked body; a
//! space is sent every 3 s while the function runs (the official TypeScript SDK's interval),
//! then the answer as a JSON envelope `{"status", "headers", "body", "version"}` whose
//! `body` is the answer's JSON as a string. Inngest reads the whole body as JSON, the spaces
//! being JSON whitespace. A connection that would sit idle through a long step stays busy,
//! so a load balancer or a serverless platform that cuts idle connections does not cut it.
//!
//! The answer is made exactly as without streaming (through the function's middleware,
//! `wrap_request` included, and signed in cloud mode: the signature covers the envelope's
//! `body` and travels in its `headers`); only its delivery changes.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::serving::response::{Body, X_INNGEST_SDK};

/// How often a keepalive space is sent, the first one after as long.
pub(crate) const KEEPALIVE: Duration = Duration::from_secs(3);

/// A `201` whose body streams a keepalive space `every` while `answer` is not ready, then
/// its envelope.
/// The answer is made in a task of its own, so it is finished even if Inngest goes away.
pub(crate) fn respond<F>(every: Duration, answer: F) -> Response<Body>
where
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Bytes>(2);
    tokio::spawn(async move {
        let mut answer = std::pin::pin!(answer);
        let start = tokio::time::Instant::now() + every;
        let mut keepalive = tokio::time::interval_at(start, every);
        let res = loop {
            tokio::select! {
                res = &mut answer => break res,
                _ = keepalive.tick() => {
                    // Inngest gone: the answer is still finished (its steps ran).
                    let _ = tx.send(Bytes::from_static(b" ")).await;
                }
            }
        };
        let _ = tx.send(envelope(res).await).await;
    });
    let mut res = Response::new(Body::streamed(Chunks(rx)));
    *res.status_mut() = StatusCode::CREATED;
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        X_INNGEST_SDK,
        HeaderValue::from_static(crate::sdk::SDK_HEADER_VALUE),
    );
    res
}

/// `{"status", "headers", "body", "version"}`: the answer as the stream's last chunk.
async fn envelope(res: Response<Body>) -> Bytes {
    let (parts, body) = res.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    let headers: Map<String, Value> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), Value::from(v.to_str().ok()?))))
        .collect();
    let envelope = serde_json::json!({
        "status": parts.status.as_u16(),
        "headers": headers,
        "body": String::from_utf8_lossy(&bytes),
        "version": inngest_protocol::call::REQUEST_VERSION,
    });
    Bytes::from(serde_json::to_vec(&envelope).unwrap_or_default())
}

/// The chunks sent through the channel, as a body.
struct Chunks(mpsc::Receiver<Bytes>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spaces_while_the_answer_is_made_then_the_envelope() {
        let answer = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            crate::serving::response::json(StatusCode::PARTIAL_CONTENT, &serde_json::json!([]))
        };
        let res = respond(Duration::from_millis(10), answer);
        assert_eq!(res.status(), 201);
        assert!(res.headers().get("x-inngest-req-version").is_none());
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let text = std::str::from_utf8(&body).unwrap();
        assert!(text.starts_with(" "), "{text:?}");
        assert!(text.trim_start().starts_with('{'), "{text:?}");
        let envelope: Value = serde_json::from_str(text).unwrap();
        assert_eq!(envelope["status"], 206);
        assert_eq!(envelope["body"], "[]");
        assert_eq!(envelope["version"], 2);
        assert_eq!(envelope["headers"]["x-inngest-req-version"], "2");
    }
}
