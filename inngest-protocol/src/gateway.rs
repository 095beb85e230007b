//! What Inngest stores for the HTTP calls it makes on a function's behalf (protocol-2.md
//! section 4): the response of a `Gateway` op (`step.fetch`) and the errors of both gateways.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The memo data of a `Gateway` op: the response, whatever its status (a 404 is a success
/// of the step).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayResponse {
    /// The URL called.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// The response headers, names in Go's canonical form (`Content-Type`), repeated values
    /// joined with `,`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The response body, as text.
    #[serde(default)]
    pub body: String,
    /// The HTTP status.
    #[serde(default)]
    pub status_code: u16,
}

/// The error name of a `Gateway` call that got no response on its last attempt.
pub const GATEWAY_ERROR: &str = "GatewayError";
/// The error name of an `AIGateway` call that failed (no response, or a status above 299) on
/// its last attempt.
pub const AI_GATEWAY_ERROR: &str = "AIGatewayError";

/// `format` of an `AIGateway` op: OpenAI's chat completions (and compatible APIs); the key
/// is sent as `Authorization: Bearer <key>`.
pub const FORMAT_OPENAI_CHAT: &str = "openai-chat";
/// `format`: Anthropic's messages API; the key is sent as `x-api-key`.
pub const FORMAT_ANTHROPIC: &str = "anthropic";
/// `format`: Google's Gemini; the key is sent as the `key` query parameter.
pub const FORMAT_GEMINI: &str = "gemini";
/// `format`: AWS Bedrock; the key is sent as `Authorization` as it is.
pub const FORMAT_BEDROCK: &str = "bedrock";

/// A header name in Go's canonical form, as the server's memo has it: each dash-separated
/// word capitalized (`content-type` is `Content-Type`).
pub fn canonical_header(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if upper {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        upper = c == '-';
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_names() {
        assert_eq!(canonical_header("content-type"), "Content-Type");
        assert_eq!(canonical_header("X-REQUEST-ID"), "X-Request-Id");
        assert_eq!(canonical_header("etag"), "Etag");
    }

    #[test]
    fn the_memo_of_a_fetch() {
        let res: GatewayResponse = serde_json::from_value(json!({
            "url": "http://x/y", "headers": {"Content-Type": "text/plain"},
            "body": "hi", "status_code": 404
        }))
        .unwrap();
        assert_eq!((res.status_code, res.body.as_str()), (404, "hi"));
    }
}
