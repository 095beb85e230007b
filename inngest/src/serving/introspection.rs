//! `GET`: introspection (protocol.md section 1.1). Unsigned requests get the unauthenticated
//! body; in cloud mode, a request signed with a valid key gets the authenticated one, where
//! keys appear only as hashes.

use http::{Response, StatusCode};

use crate::serving::handler::{Auth, Inner};
use crate::serving::response::{self, Body};
use crate::serving::signature::hashed_signing_key;
use crate::serving::sync::FRAMEWORK;
use inngest_protocol::signature::sha256_hex;
use inngest_protocol::sync::{
    AuthenticatedIntrospection, Capabilities, Introspection, IntrospectionExtra, SCHEMA_VERSION,
};

/// What this SDK supports beyond the basics.
pub(crate) fn capabilities() -> Capabilities {
    Capabilities {
        in_band_sync: "v1".to_owned(),
        trust_probe: "v1".to_owned(),
    }
}

pub(crate) fn answer(inner: &Inner, auth: &Auth<'_>) -> Response<Body> {
    match auth {
        Auth::Verified(_) => response::json(StatusCode::OK, &authenticated(inner)),
        Auth::NotRequired => response::json(StatusCode::OK, &unauthenticated(inner, None)),
        // Cloud mode, not signed with a valid key: nothing an attacker could fingerprint (no
        // function count, key presence, mode or SDK), as the Go SDK v0.16 answers.
        Auth::Refused(_) => response::unauthorized(),
    }
}

fn unauthenticated(inner: &Inner, authentication_succeeded: Option<bool>) -> Introspection {
    let c = &inner.config;
    Introspection {
        authentication_succeeded,
        extra: IntrospectionExtra {
            sdk_language: crate::sdk::SDK_LANGUAGE.to_owned(),
            sdk_version: crate::sdk::VERSION.to_owned(),
            embedded: false,
        },
        function_count: inner.registry.entries().len(),
        has_event_key: c.event_key.is_some(),
        has_signing_key: c.signing_key.is_some(),
        has_signing_key_fallback: c.signing_key_fallback.is_some(),
        mode: c.mode_name().to_owned(),
        schema_version: SCHEMA_VERSION.to_owned(),
    }
}

pub(crate) fn authenticated(inner: &Inner) -> AuthenticatedIntrospection {
    let c = &inner.config;
    AuthenticatedIntrospection {
        authentication_succeeded: true,
        api_origin: c.api_origin.clone(),
        app_id: inner.app_id.clone(),
        capabilities: capabilities(),
        env: c.env.clone(),
        event_api_origin: c.event_origin.clone(),
        event_key_hash: c.event_key.as_ref().map(|k| sha256_hex(k.expose())),
        framework: FRAMEWORK.to_owned(),
        function_count: inner.registry.entries().len(),
        has_event_key: c.event_key.is_some(),
        has_signing_key: c.signing_key.is_some(),
        has_signing_key_fallback: c.signing_key_fallback.is_some(),
        mode: c.mode_name().to_owned(),
        schema_version: SCHEMA_VERSION.to_owned(),
        sdk_language: crate::sdk::SDK_LANGUAGE.to_owned(),
        sdk_version: crate::sdk::VERSION.to_owned(),
        serve_origin: c.serve_origin.clone(),
        serve_path: c.serve_path.clone(),
        signing_key_hash: c.signing_key.as_ref().map(hashed_signing_key),
        signing_key_fallback_hash: c.signing_key_fallback.as_ref().map(hashed_signing_key),
    }
}
