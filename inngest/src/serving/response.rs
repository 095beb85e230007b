//! Building responses: every one carries `X-Inngest-SDK` and `X-Inngest-Req-Version: 2`; every
//! error carries `X-Inngest-No-Retry`.

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};
use inngest_protocol::headers;
use serde::Serialize;

use crate::json::RawJson;

pub(crate) const X_INNGEST_SDK: HeaderName = HeaderName::from_static(headers::X_INNGEST_SDK);
pub(crate) const X_INNGEST_REQ_VERSION: HeaderName =
    HeaderName::from_static(headers::X_INNGEST_REQ_VERSION);
pub(crate) const X_INNGEST_NO_RETRY: HeaderName =
    HeaderName::from_static(headers::X_INNGEST_NO_RETRY);
pub(crate) const X_INNGEST_SYNC_KIND: HeaderName =
    HeaderName::from_static(headers::X_INNGEST_SYNC_KIND);
pub(crate) const X_INNGEST_SERVER_KIND: HeaderName =
    HeaderName::from_static(headers::X_INNGEST_SERVER_KIND);
const X_INNGEST_SIGNATURE: HeaderName = HeaderName::from_static(headers::X_INNGEST_SIGNATURE);
const RETRY_AFTER: HeaderName = HeaderName::from_static(headers::RETRY_AFTER);
/// `X-Inngest-Req-Version`: the request version this SDK speaks (`call::REQUEST_VERSION`).
const REQ_VERSION_VALUE: &str = "2";

pub(crate) use super::body::Body;

/// A JSON response with the SDK headers.
pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|e| {
        serde_json::to_vec(&serde_json::json!({
            "name": "SerializationError",
            "message": format!("the response could not be serialized: {e}"),
        }))
        .unwrap_or_default()
    });
    with_headers(status, Bytes::from(bytes))
}

/// A response whose body is JSON text already written (a function's output), sent as it is.
pub(crate) fn json_text(status: StatusCode, text: RawJson) -> Response<Body> {
    with_headers(status, text.into_bytes())
}

/// A JSON body with the SDK headers.
fn with_headers(status: StatusCode, bytes: Bytes) -> Response<Body> {
    let mut res = Response::new(Body::whole(bytes));
    *res.status_mut() = status;
    // Built once and cloned: a clone copies the map's two tables and hashes nothing, where
    // three inserts hash and place each header (every call request answers with these).
    *res.headers_mut() = SDK_HEADERS.clone();
    res
}

/// The headers of every JSON answer: `Content-Type`, `X-Inngest-SDK`, `X-Inngest-Req-Version`.
static SDK_HEADERS: std::sync::LazyLock<HeaderMap> = std::sync::LazyLock::new(|| {
    let mut h = HeaderMap::with_capacity(3);
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        X_INNGEST_SDK,
        HeaderValue::from_static(crate::sdk::SDK_HEADER_VALUE),
    );
    h.insert(
        X_INNGEST_REQ_VERSION,
        HeaderValue::from_static(REQ_VERSION_VALUE),
    );
    h
});

/// `401 {"message":"Unauthorized"}` with no SDK header: tells nothing about the app.
pub(crate) fn unauthorized() -> Response<Body> {
    let mut res = Response::new(Body::whole(Bytes::from_static(
        br#"{"message":"Unauthorized"}"#,
    )));
    *res.status_mut() = StatusCode::UNAUTHORIZED;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// An error response: a JSON body, and whether Inngest may retry.
pub(crate) fn error<T: Serialize + ?Sized>(
    status: StatusCode,
    no_retry: bool,
    body: &T,
) -> Response<Body> {
    let mut res = json(status, body);
    set_no_retry(&mut res, no_retry);
    res
}

/// A `{"name","message"}` error response.
pub(crate) fn error_message(
    status: StatusCode,
    no_retry: bool,
    name: &str,
    message: impl Into<String>,
) -> Response<Body> {
    error(
        status,
        no_retry,
        &serde_json::json!({ "name": name, "message": message.into() }),
    )
}

pub(crate) fn set_no_retry(res: &mut Response<Body>, no_retry: bool) {
    res.headers_mut().insert(
        X_INNGEST_NO_RETRY,
        HeaderValue::from_static(if no_retry { "true" } else { "false" }),
    );
}

pub(crate) fn set_retry_after(res: &mut Response<Body>, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().insert(RETRY_AFTER, v);
    }
}

/// Signs a response body with the key that verified the request (protocol.md 6.2):
/// `X-Inngest-Signature: t=<now>&s=<hmac>` over the exact body bytes.
pub(crate) async fn sign(res: Response<Body>, key: &crate::config::Secret) -> Response<Body> {
    use http_body_util::BodyExt;
    let (mut parts, body) = res.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    let header = crate::serving::signature::signature_header(key, &bytes);
    if let Ok(value) = HeaderValue::from_str(&header) {
        parts.headers.insert(X_INNGEST_SIGNATURE, value);
    }
    Response::from_parts(parts, Body::whole(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_version_header_is_the_protocols() {
        assert_eq!(
            REQ_VERSION_VALUE,
            inngest_protocol::call::REQUEST_VERSION.to_string()
        );
    }
}
