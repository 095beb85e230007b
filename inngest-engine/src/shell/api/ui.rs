//! The page of runs at `/`: hand-written HTML, CSS and JavaScript compiled into the engine
//! (no build step, no network), reading the GraphQL API, and `GET /ui/timeline?after=N`, which
//! waits (up to 20 s) for the timeline to move past line `N`, so the page updates as runs
//! progress.

use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::json;

use super::reply::{json_response, with_type};
use super::Req;
use crate::shell::engine::Engine;

const PAGE: &str = include_str!("../../../ui/index.html");
const SCRIPT: &str = include_str!("../../../ui/app.js");
const STYLE: &str = include_str!("../../../ui/style.css");

/// How long a request for the timeline waits for a new line.
const LONG_POLL: Duration = Duration::from_secs(20);

/// `GET /`.
pub(crate) fn page() -> Response<Full<Bytes>> {
    with_type(
        StatusCode::OK,
        "text/html; charset=utf-8",
        Bytes::from_static(PAGE.as_bytes()),
    )
}

/// `GET /ui/app.js`.
pub(crate) fn script() -> Response<Full<Bytes>> {
    with_type(
        StatusCode::OK,
        "text/javascript; charset=utf-8",
        Bytes::from_static(SCRIPT.as_bytes()),
    )
}

/// `GET /ui/style.css`.
pub(crate) fn style() -> Response<Full<Bytes>> {
    with_type(
        StatusCode::OK,
        "text/css; charset=utf-8",
        Bytes::from_static(STYLE.as_bytes()),
    )
}

/// `GET /ui/timeline?after=N`: the timeline lines after `N` once there are any (or after
/// 20 s): `{"seq": <latest>, "lines": [[n, "line"], ...]}`.
pub(crate) async fn timeline(engine: &Engine, req: &Req<'_>) -> Response<Full<Bytes>> {
    let after = req
        .param("after")
        .and_then(|a| a.parse::<u64>().ok())
        .unwrap_or(0);
    let (seq, _) = engine.timeline_since(after);
    if seq <= after {
        engine.timeline_changed(after, LONG_POLL).await;
    }
    let (seq, lines) = engine.timeline_since(after);
    json_response(StatusCode::OK, &json!({"seq": seq, "lines": lines}))
}
