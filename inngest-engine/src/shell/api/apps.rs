//! Apps: syncing (`POST /fn/register`), removing one (`DELETE /fn/remove?url=`), and the dev
//! server's `GET /dev` (its version, options and functions).

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use inngest_protocol::register::{RegisterRequest, RegisterResponse};
use serde_json::{json, Value};

use super::reply::{error, json_response, with_type};
use super::Req;
use crate::shell::engine::Engine;

/// `POST /fn/register`.
///
/// A refusal has the dev server's shapes: `{"error"}` for a request it cannot read, and its
/// public error, `{"error","data","status"}`, for functions that are not valid (the server
/// says only "At least one function is invalid"; the engine adds which one and why).
pub(crate) fn register(engine: &Engine, req: &Req<'_>) -> Response<Full<Bytes>> {
    // The dev server's `devapi.err`: the message alone.
    let refused =
        |message: String| json_response(StatusCode::BAD_REQUEST, &json!({ "error": message }));
    if let Some(kind) = req
        .header("x-inngest-expected-server-kind")
        .filter(|k| !k.is_empty() && *k != "dev")
    {
        return refused(format!("Expected server kind dev, got {kind}"));
    }
    let request: RegisterRequest = match serde_json::from_slice(req.body) {
        Ok(r) => r,
        Err(e) => return refused(format!("Invalid request: {e}")),
    };
    match engine.register_http(&request) {
        Ok(synced) => json_response(
            StatusCode::OK,
            &RegisterResponse {
                ok: true,
                modified: true,
                message: Some(format!("registered {} functions", synced.functions)),
                error: None,
            },
        ),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

/// `DELETE /fn/remove?url=<the app's URL>`: removes the app and its functions.
pub(crate) fn remove(engine: &Engine, req: &Req<'_>) -> Response<Full<Bytes>> {
    let url = req
        .param("url")
        .or_else(|| {
            url::form_urlencoded::parse(req.body)
                .find(|(k, _)| k == "url")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    let removed = engine.act(|core, _| {
        let app = core
            .apps()
            .into_iter()
            .find(|a| a.url == url || same_url(&a.url, &url))?;
        core.remove_app(&app.id).then_some(app.id)
    });
    match removed {
        Some(_) => with_type(StatusCode::OK, "application/json", Bytes::new()),
        None => error(StatusCode::NOT_FOUND, format!("App not found: {url}")),
    }
}

/// Two app URLs that differ only in their query (`?fnId=`, ...) are the same app.
fn same_url(a: &str, b: &str) -> bool {
    let strip = |u: &str| {
        u.split(['?', '#'])
            .next()
            .unwrap_or(u)
            .trim_end_matches('/')
            .to_owned()
    };
    !b.is_empty() && strip(a) == strip(b)
}

/// `GET /dev`: the engine's version, options and functions, as the dev server's `InfoResponse`.
pub(crate) fn info(engine: &Engine) -> Response<Full<Bytes>> {
    let functions: Vec<Value> = engine.inspect(|core| {
        core.functions()
            .filter_map(|f| serde_json::to_value(f.config).ok())
            .collect()
    });
    json_response(
        StatusCode::OK,
        &json!({
            "version": concat!("inngest-engine ", env!("CARGO_PKG_VERSION")),
            "authed": false,
            "startOpts": {
                "dir": "",
                "urls": [],
                "autodiscover": false,
                "poll": false,
                "poll_interval": 0,
                "tick": 0,
                "retry_interval": 0,
                "queue_workers": 0,
                "require_keys": engine.signing_key().is_some() || !engine.event_keys().is_empty(),
            },
            "functions": functions,
            "handlers": [],
            "isSingleNodeService": false,
            "isMissingSigningKey": false,
            "isMissingEventKeys": false,
            "features": {},
        }),
    )
}
