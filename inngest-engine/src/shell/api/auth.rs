//! Which routes need a key, and checking it, as the dev server started with
//! `--signing-key` (its `SigningKeyMiddleware`) and `--event-key`.

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;

use super::reply::{json_response, with_type};
use super::Req;
use crate::shell::engine::Engine;

/// The refusal of a request without the key it needs, or `None` when it may go on.
pub(crate) fn check(engine: &Engine, req: &Req<'_>) -> Option<Response<Full<Bytes>>> {
    if let Some(key) = req.path.strip_prefix("/e/") {
        return check_event_key(engine, key);
    }
    let signing_key = engine.signing_key()?;
    if !needs_signing_key(req.path) {
        return None;
    }
    if req.path == "/v1/realtime/sse" && req.param("token").is_some() {
        return None; // the subscription token is checked by the route
    }
    let token = req
        .header("authorization")
        .filter(|b| b.len() > 7 && b[..6].eq_ignore_ascii_case("bearer"))
        .map(|b| &b[7..])
        .unwrap_or_default();
    if signing_key_matches(token, signing_key) {
        None
    } else {
        Some(with_type(
            StatusCode::UNAUTHORIZED,
            "text/plain; charset=utf-8",
            Bytes::from_static(b"Authentication failed\n"),
        ))
    }
}

/// The dev server's authenticated routes: syncing, `/dev`, the REST API and the core API.
/// Events have their own keys; the page, `POST /v0/gql` and `GET /health` are open.
fn needs_signing_key(path: &str) -> bool {
    path == "/dev"
        || path.starts_with("/fn/")
        || path.starts_with("/invoke/")
        || path.starts_with("/v1/")
        || (path.starts_with("/v0/") && path != "/v0/gql")
}

fn check_event_key(engine: &Engine, key: &str) -> Option<Response<Full<Bytes>>> {
    let refuse = |error: &str| {
        Some(json_response(
            StatusCode::UNAUTHORIZED,
            &serde_json::json!({"status": 401, "message": "", "error": error}),
        ))
    };
    if key.is_empty() {
        return refuse("Event key is required");
    }
    let keys = engine.event_keys();
    if !keys.is_empty()
        && !keys
            .iter()
            .any(|k| constant_time_eq(k.as_bytes(), key.as_bytes()))
    {
        return refuse("Event key not found");
    }
    None
}

/// Whether `token` is the signing key or its hash (either with or without the
/// `signkey-<env>-` prefix).
fn signing_key_matches(token: &str, key: &str) -> bool {
    if token.is_empty() {
        return false;
    }
    let token = strip_prefix(token);
    let hashed = inngest_protocol::signature::hashed_signing_key(key);
    constant_time_eq(token.as_bytes(), strip_prefix(key).as_bytes())
        || constant_time_eq(token.as_bytes(), strip_prefix(&hashed).as_bytes())
}

fn strip_prefix(key: &str) -> &str {
    key.strip_prefix("signkey-")
        .and_then(|rest| rest.find('-').map(|dash| &rest[dash + 1..]))
        .unwrap_or(key)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_or_its_hash() {
        let key = "signkey-test-12345678";
        let hashed = inngest_protocol::signature::hashed_signing_key(key);
        assert!(signing_key_matches(key, key));
        assert!(signing_key_matches("12345678", key));
        assert!(signing_key_matches(&hashed, key));
        assert!(!signing_key_matches("signkey-test-1234567", key));
        assert!(!signing_key_matches("", key));
    }
}
