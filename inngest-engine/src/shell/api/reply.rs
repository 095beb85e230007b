//! Responses in the dev server's shapes: JSON, the `/v1` envelope `{"data", "metadata"}`,
//! and its public errors `{"error", "data", "status"}`.

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;
use serde_json::json;

/// A JSON response.
pub(crate) fn json_response<T: Serialize + ?Sized>(
    status: StatusCode,
    body: &T,
) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    with_type(status, "application/json", Bytes::from(bytes))
}

/// A response with a content type.
pub(crate) fn with_type(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    res
}

/// `{"data": ..., "metadata": {"fetched_at": ...}}`, as the `/v1` API answers.
pub(crate) fn data<T: Serialize + ?Sized>(body: &T) -> Response<Full<Bytes>> {
    let fetched_at = inngest_protocol::time::rfc3339_millis(std::time::SystemTime::now());
    json_response(
        StatusCode::OK,
        &json!({"data": body, "metadata": {"fetched_at": fetched_at}}),
    )
}

/// A public error: `{"error": message, "data": null, "status": status}`.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response<Full<Bytes>> {
    json_response(
        status,
        &json!({"error": message.into(), "data": null, "status": status.as_u16()}),
    )
}
