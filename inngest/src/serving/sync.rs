//! `PUT`: syncing the app's configuration with Inngest. Out-of-band, the SDK posts it to
//! `<api>/fn/register` (protocol.md section 1.2) and answers with what the server said;
//! in-band (cloud mode, a signed PUT with `X-Inngest-Sync-Kind: in_band`), it answers with the
//! configuration itself (section 1.3).

use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};

use crate::config::{var, Config};
use crate::sdk::{SDK_LANGUAGE, SDK_NAME};
use crate::serving::handler::{Auth, Inner};
use crate::serving::introspection::capabilities;
use crate::serving::response::{self, Body, X_INNGEST_SERVER_KIND, X_INNGEST_SYNC_KIND};
use inngest_protocol::headers;
use inngest_protocol::register::{RegisterRequest, RegisterResponse};
use inngest_protocol::sync::{InBandSync, SyncRequest, SyncResponse};

/// The framework name sent in the register payload.
pub(crate) const FRAMEWORK: &str = "hyper";

/// Answers a PUT.
pub(crate) async fn handle(
    inner: &Inner,
    auth: &Auth<'_>,
    parts: &Parts,
    body: &[u8],
) -> Response<Body> {
    let (config, app_id, registry) = (&inner.config, inner.app_id.as_str(), &inner.registry);
    let put: SyncRequest = if body.iter().all(u8::is_ascii_whitespace) {
        SyncRequest::default()
    } else {
        match serde_json::from_slice(body) {
            Ok(p) => p,
            Err(e) => {
                return sync_reply(
                    StatusCode::BAD_REQUEST,
                    format!("the sync request body is not valid JSON: {e}"),
                    false,
                )
            }
        }
    };
    let url = match serve_url(config, parts, put.url.as_deref()) {
        Ok(u) => u,
        Err(message) => return sync_reply(StatusCode::BAD_REQUEST, message, false),
    };
    let in_band_asked = parts
        .headers
        .get(X_INNGEST_SYNC_KIND)
        .is_some_and(|v| v.as_bytes() == b"in_band");
    let in_band_allowed =
        var("INNGEST_ALLOW_IN_BAND_SYNC").is_none_or(|v| !matches!(v.trim(), "0" | "false"));
    if in_band_asked && in_band_allowed && matches!(auth, Auth::Verified(_)) {
        return in_band(inner, url);
    }
    let payload = RegisterRequest {
        url: url.clone(),
        v: "0.1".to_owned(),
        deploy_type: "ping".to_owned(),
        sdk: SDK_NAME.to_owned(),
        framework: Some(FRAMEWORK.to_owned()),
        app_name: app_id.to_owned(),
        app_version: inner.app_version.clone(),
        capabilities: None,
        functions: registry.configs(&url),
    };
    let mut register_url = format!("{}/fn/register", config.api_origin);
    if let Some(deploy_id) = query_param(parts, "deployId") {
        register_url.push_str("?deployId=");
        register_url.extend(url::form_urlencoded::byte_serialize(deploy_id.as_bytes()));
    }
    tracing::debug!(url = %register_url, functions = payload.functions.len(), "syncing with Inngest");
    let outcome = match register(inner, parts, &register_url, &payload).await {
        Ok(res) => {
            let status = res.status();
            let text = res.text().await.unwrap_or_default();
            let parsed: RegisterResponse = serde_json::from_str(&text).unwrap_or_default();
            if status.is_success() {
                Ok(parsed.modified)
            } else {
                Err(parsed
                    .error
                    .or(parsed.message)
                    .unwrap_or_else(|| format!("the register endpoint answered {status}: {text}")))
            }
        }
        Err(e) => Err(format!("could not reach {register_url}: {e}")),
    };
    match outcome {
        Ok(modified) => {
            tracing::info!(app = app_id, modified, "synced with Inngest");
            sync_reply(
                StatusCode::OK,
                "Successfully registered".to_owned(),
                modified,
            )
        }
        Err(message) => {
            tracing::warn!(app = app_id, %message, "sync with Inngest failed");
            sync_reply(StatusCode::INTERNAL_SERVER_ERROR, message, false)
        }
    }
}

/// POSTs the register payload with the hashed signing key, once more with the fallback key
/// on 401/403 (protocol.md 6.3).
async fn register(
    inner: &Inner,
    parts: &Parts,
    url: &str,
    payload: &RegisterRequest,
) -> Result<reqwest::Response, reqwest::Error> {
    inner
        .send_signed(|| {
            let req = inner
                .client
                .post(url)
                .header(headers::X_INNGEST_SYNC_KIND, "out_of_band")
                .header(headers::X_INNGEST_FRAMEWORK, FRAMEWORK)
                .json(payload);
            match parts.headers.get(X_INNGEST_SERVER_KIND) {
                Some(kind) => req.header(headers::X_INNGEST_EXPECTED_SERVER_KIND, kind.clone()),
                None => req,
            }
        })
        .await
}

/// The in-band answer: the configuration itself, with the authenticated introspection.
fn in_band(inner: &Inner, url: String) -> Response<Body> {
    let body = InBandSync {
        app_id: inner.app_id.clone(),
        app_version: inner.app_version.clone(),
        capabilities: capabilities(),
        env: inner.config.env.clone(),
        framework: FRAMEWORK.to_owned(),
        functions: inner.registry.configs(&url),
        inspection: crate::serving::introspection::authenticated(inner),
        platform: None,
        sdk_author: "inngest".to_owned(),
        sdk_language: SDK_LANGUAGE.to_owned(),
        sdk_version: crate::sdk::VERSION.to_owned(),
        url,
    };
    let mut res = response::json(StatusCode::OK, &body);
    res.headers_mut()
        .insert(X_INNGEST_SYNC_KIND, HeaderValue::from_static("in_band"));
    res
}

fn sync_reply(status: StatusCode, message: String, modified: bool) -> Response<Body> {
    let mut res = response::json(status, &SyncResponse { message, modified });
    res.headers_mut()
        .insert(X_INNGEST_SYNC_KIND, HeaderValue::from_static("out_of_band"));
    if !status.is_success() {
        response::set_no_retry(&mut res, false);
    }
    res
}

fn query_param(parts: &Parts, name: &str) -> Option<String> {
    url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// The URL Inngest should call: the PUT body's `url`, else this request's own URL (from the
/// `Host` header), with `INNGEST_SERVE_ORIGIN` and `INNGEST_SERVE_PATH` overriding their parts.
/// Query and fragment are dropped.
pub(crate) fn serve_url(
    config: &Config,
    parts: &Parts,
    from_body: Option<&str>,
) -> Result<String, String> {
    let base = match from_body.filter(|u| !u.trim().is_empty()) {
        Some(u) => u.trim().to_owned(),
        None => {
            let host = parts
                .uri
                .authority()
                .map(|a| a.as_str().to_owned())
                .or_else(|| {
                    parts
                        .headers
                        .get(http::header::HOST)
                        .and_then(|h| h.to_str().ok())
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| format!("127.0.0.1:{}", config.port));
            format!("http://{host}{}", parts.uri.path())
        }
    };
    let mut url =
        url::Url::parse(&base).map_err(|e| format!("the app URL `{base}` is not valid: {e}"))?;
    if let Some(origin) = &config.serve_origin {
        let o = url::Url::parse(origin)
            .map_err(|e| format!("INNGEST_SERVE_ORIGIN is not valid: {e}"))?;
        url.set_scheme(o.scheme()).ok();
        url.set_host(o.host_str()).map_err(|e| e.to_string())?;
        url.set_port(o.port()).ok();
    }
    if config.serve_path != crate::config::DEFAULT_SERVE_PATH || from_body.is_none() {
        url.set_path(&config.serve_path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url.to_string())
}
