//! Introspection (`GET`, protocol.md 1.1), sync (`PUT`, 1.2) and in-band sync (1.3) bodies.

use serde::{Deserialize, Serialize};

use crate::register::FunctionConfig;

/// The schema version of introspection bodies.
pub const SCHEMA_VERSION: &str = "2024-05-24";

/// The unauthenticated introspection body of `GET` (protocol.md section 1.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Introspection {
    /// `null`: the request was not signed.
    pub authentication_succeeded: Option<bool>,
    /// Extra facts about this SDK.
    pub extra: IntrospectionExtra,
    /// How many functions are served (failure handlers included).
    pub function_count: usize,
    /// Whether an event key is configured.
    pub has_event_key: bool,
    /// Whether a signing key is configured.
    pub has_signing_key: bool,
    /// Whether a fallback signing key is configured.
    pub has_signing_key_fallback: bool,
    /// `"dev"` or `"cloud"`.
    pub mode: String,
    /// `"2024-05-24"`.
    pub schema_version: String,
}

/// `extra` of the introspection body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntrospectionExtra {
    /// `"rust"`.
    pub sdk_language: String,
    /// The SDK's version.
    pub sdk_version: String,
    /// Whether the Inngest server is embedded in this process.
    pub embedded: bool,
}

/// The body of a PUT (sync) request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The URL Inngest wants the app to register with.
    #[serde(default)]
    pub url: Option<String>,
}

/// The body of the answer to a PUT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// What happened.
    pub message: String,
    /// Whether the app's configuration changed.
    pub modified: bool,
}

/// The authenticated introspection body of `GET`, for a request signed with a valid key
/// (protocol.md section 1.1). Keys appear only as hashes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthenticatedIntrospection {
    /// `true`.
    pub authentication_succeeded: bool,
    /// The Inngest API origin.
    pub api_origin: String,
    /// The app id.
    pub app_id: String,
    /// What this SDK supports.
    pub capabilities: Capabilities,
    /// The branch environment.
    pub env: Option<String>,
    /// The event API origin.
    pub event_api_origin: String,
    /// Hex SHA-256 of the event key.
    pub event_key_hash: Option<String>,
    /// The HTTP framework.
    pub framework: String,
    /// How many functions are served.
    pub function_count: usize,
    /// Whether an event key is configured.
    pub has_event_key: bool,
    /// Whether a signing key is configured.
    pub has_signing_key: bool,
    /// Whether a fallback signing key is configured.
    pub has_signing_key_fallback: bool,
    /// `"cloud"`.
    pub mode: String,
    /// `"2024-05-24"`.
    pub schema_version: String,
    /// `"rust"`.
    pub sdk_language: String,
    /// The SDK's version.
    pub sdk_version: String,
    /// The configured serve origin.
    pub serve_origin: Option<String>,
    /// The serve path.
    pub serve_path: String,
    /// The hashed signing key (as sent in `Authorization`).
    pub signing_key_hash: Option<String>,
    /// The hashed fallback signing key.
    pub signing_key_fallback_hash: Option<String>,
}

/// `capabilities` of the introspection and in-band sync bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capabilities {
    /// `"v1"`.
    pub in_band_sync: String,
    /// `"v1"`.
    pub trust_probe: String,
}

/// The body of an in-band sync answer (protocol.md section 1.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InBandSync {
    /// The app id.
    pub app_id: String,
    /// The app's version, when the app sets one.
    #[serde(
        rename = "appVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub app_version: Option<String>,
    /// What this SDK supports.
    pub capabilities: Capabilities,
    /// The branch environment.
    pub env: Option<String>,
    /// The HTTP framework.
    pub framework: String,
    /// The functions.
    pub functions: Vec<FunctionConfig>,
    /// The authenticated introspection.
    pub inspection: AuthenticatedIntrospection,
    /// The hosting platform, if known.
    pub platform: Option<String>,
    /// `"inngest"`.
    pub sdk_author: String,
    /// `"rust"`.
    pub sdk_language: String,
    /// The SDK's version.
    pub sdk_version: String,
    /// The URL Inngest calls.
    pub url: String,
}
