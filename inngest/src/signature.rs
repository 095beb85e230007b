//! Signatures (protocol.md section 6): `X-Inngest-Signature: t=<unix secs>&s=<hex hmac>` on
//! requests from Inngest and on the SDK's responses, and the hashed signing key sent as
//! `Authorization: Bearer ...` to the Inngest API.
//!
//! The HMAC is SHA-256 over the raw body bytes followed by the decimal timestamp, keyed by the
//! signing key's text without its `signkey-<env>-` prefix.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::config::Secret;

type HmacSha256 = Hmac<Sha256>;

/// How far a signature's timestamp may be from now, either way.
pub(crate) const MAX_SKEW_SECS: i64 = 5 * 60;

/// Why a signature was refused. Never says anything about the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Inngest-Signature` header.
    #[error("the request is not signed")]
    Missing,
    /// The header is not `t=<unix seconds>&s=<64 hex digits>`.
    #[error("the signature header is malformed: {0}")]
    Malformed(&'static str),
    /// The timestamp is more than 5 minutes from now.
    #[error("the signature's timestamp is more than 5 minutes from now")]
    Expired,
    /// No configured key produced this signature.
    #[error("the signature does not match")]
    Mismatch,
}

/// A parsed `X-Inngest-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignatureHeader {
    pub t: i64,
    pub s: [u8; 32],
}

/// Parses `t=<unix seconds>&s=<hex>` (a query string: order free, other keys ignored, each of
/// `t` and `s` exactly once).
pub(crate) fn parse_header(value: &str) -> Result<SignatureHeader, SignatureError> {
    let (mut t, mut s) = (None, None);
    for (k, v) in url::form_urlencoded::parse(value.trim().as_bytes()) {
        let slot = match k.as_ref() {
            "t" => &mut t,
            "s" => &mut s,
            _ => continue,
        };
        if slot.is_some() {
            return Err(SignatureError::Malformed("`t` or `s` is given twice"));
        }
        *slot = Some(v.into_owned());
    }
    let t = t.ok_or(SignatureError::Malformed("no `t`"))?;
    let s = s.ok_or(SignatureError::Malformed("no `s`"))?;
    let t: i64 = t
        .parse()
        .map_err(|_| SignatureError::Malformed("`t` is not a number of seconds"))?;
    let bytes = hex_decode(&s).ok_or(SignatureError::Malformed("`s` is not hex"))?;
    let s: [u8; 32] = bytes
        .try_into()
        .map_err(|_| SignatureError::Malformed("`s` is not 32 bytes"))?;
    Ok(SignatureHeader { t, s })
}

/// The key's HMAC bytes: its text without the `signkey-<env>-` prefix.
fn hmac_key(key: &Secret) -> &[u8] {
    split_prefix(key.expose()).1.as_bytes()
}

fn mac(key: &Secret, body: &[u8], t: i64) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(hmac_key(key)).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.update(t.to_string().as_bytes());
    mac
}

/// The hex signature of `body` at time `t`.
pub(crate) fn sign(key: &Secret, body: &[u8], t: i64) -> String {
    format!("{:x}", mac(key, body, t).finalize().into_bytes())
}

/// The `X-Inngest-Signature` value for a response body, signed now.
pub(crate) fn signature_header(key: &Secret, body: &[u8]) -> String {
    let t = now();
    format!("t={t}&s={}", sign(key, body, t))
}

/// Checks a request's signature against the keys in order (the signing key, then the
/// fallback); returns the index of the key that matched. Comparison is constant-time.
pub(crate) fn verify(
    keys: &[&Secret],
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<usize, SignatureError> {
    let header = parse_header(header.ok_or(SignatureError::Missing)?)?;
    // `abs_diff`: a timestamp near `i64::MIN` or `i64::MAX` must not overflow the subtraction.
    if now.abs_diff(header.t) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(SignatureError::Expired);
    }
    keys.iter()
        .position(|key| mac(key, body, header.t).verify_slice(&header.s).is_ok())
        .ok_or(SignatureError::Mismatch)
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `signkey-<env>-<hex(sha256(hex_decode(key body)))>`: the prefix is kept, the body is
/// hex-decoded and hashed. A body that is not hex is hashed as its bytes.
pub(crate) fn hashed_signing_key(key: &Secret) -> String {
    let key = key.expose();
    let (prefix, body) = split_prefix(key);
    let bytes = hex_decode(body).unwrap_or_else(|| body.as_bytes().to_vec());
    format!("{prefix}{:x}", Sha256::digest(&bytes))
}

/// Splits `signkey-<env>-` off a key.
fn split_prefix(key: &str) -> (&str, &str) {
    if let Some(rest) = key.strip_prefix("signkey-") {
        if let Some(dash) = rest.find('-') {
            let cut = "signkey-".len() + dash + 1;
            return (&key[..cut], &key[cut..]);
        }
    }
    ("", key)
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    // Only hex digits: `u8::from_str_radix` alone would also take a sign (`"+f"`).
    if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Hex SHA-256 of a secret, for introspection (never the secret itself).
pub(crate) fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Secret {
        Secret::new(s.to_owned())
    }

    const VECTOR_S: &str = "073ba089083d1b5825d78beec35b482862de474e016af50769c33fbb94fb962c";

    #[test]
    fn protocol_signature_vector() {
        let k = key("signkey-test-0123456789abcdef");
        assert_eq!(sign(&k, br#"{"a":1}"#, 1_700_000_000), VECTOR_S);
        // The prefix is stripped, so the bare key signs the same.
        assert_eq!(
            sign(&key("0123456789abcdef"), br#"{"a":1}"#, 1_700_000_000),
            VECTOR_S
        );
    }

    #[test]
    fn verifies_with_either_key_and_says_which() {
        let primary = key("signkey-prod-aaaa");
        let fallback = key("signkey-test-0123456789abcdef");
        let header = format!("t=1700000000&s={VECTOR_S}");
        let keys = [&primary, &fallback];
        assert_eq!(
            verify(&keys, Some(&header), br#"{"a":1}"#, 1_700_000_000),
            Ok(1)
        );
        assert_eq!(
            verify(&keys[..1], Some(&header), br#"{"a":1}"#, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        // One changed byte of the body.
        assert_eq!(
            verify(&keys, Some(&header), br#"{"a":2}"#, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        // Order of the parts does not matter.
        let swapped = format!("s={VECTOR_S}&t=1700000000");
        assert_eq!(
            verify(&keys, Some(&swapped), br#"{"a":1}"#, 1_700_000_000),
            Ok(1)
        );
    }

    #[test]
    fn the_timestamp_window_is_five_minutes_either_way() {
        let k = key("signkey-test-0123456789abcdef");
        let header = format!("t=1700000000&s={VECTOR_S}");
        let body = br#"{"a":1}"#;
        assert_eq!(verify(&[&k], Some(&header), body, 1_700_000_300), Ok(0));
        assert_eq!(verify(&[&k], Some(&header), body, 1_699_999_700), Ok(0));
        assert_eq!(
            verify(&[&k], Some(&header), body, 1_700_000_301),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            verify(&[&k], Some(&header), body, 1_699_999_699),
            Err(SignatureError::Expired)
        );
    }

    /// Regression: `now - t` overflowed (a panic in debug builds) for `t` near `i64::MIN`.
    #[test]
    fn extreme_timestamps_are_expired_not_a_panic() {
        let k = key("signkey-test-0123456789abcdef");
        for t in [i64::MIN, i64::MIN + 1, -1, i64::MAX] {
            let header = format!("t={t}&s={VECTOR_S}");
            assert_eq!(
                verify(&[&k], Some(&header), b"", 1_700_000_000),
                Err(SignatureError::Expired),
                "{header}"
            );
        }
        // And `now` itself at the extremes.
        let header = format!("t=0&s={VECTOR_S}");
        for now in [i64::MIN, i64::MAX] {
            assert_eq!(
                verify(&[&k], Some(&header), b"", now),
                Err(SignatureError::Expired)
            );
        }
    }

    #[test]
    fn garbage_headers_are_malformed() {
        let k = key("k");
        let bad = [
            "",
            "t=1",
            "s=00",
            "t=x&s=00",
            "t=1&s=zz",
            "t=1&s=00",
            "t=1&t=2&s=00",
            "t=99999999999999999999&s=00",
            "garbage",
            "t=1&s=0",
            // Regression: `from_str_radix` accepted a sign, so `%2Bf` (`+f`) passed as a byte.
            "t=1&s=%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf",
        ];
        for h in bad {
            assert!(
                matches!(
                    verify(&[&k], Some(h), b"", 1),
                    Err(SignatureError::Malformed(_))
                ),
                "{h:?}"
            );
        }
        assert_eq!(verify(&[&k], None, b"", 1), Err(SignatureError::Missing));
    }

    #[test]
    fn response_headers_verify() {
        let k = key("signkey-prod-abcdef");
        let h = signature_header(&k, b"body");
        assert_eq!(verify(&[&k], Some(&h), b"body", now()), Ok(0));
    }

    #[test]
    fn spec_vector() {
        let key = Secret::new("signkey-prod-12345678".to_owned());
        assert_eq!(
            hashed_signing_key(&key),
            "signkey-prod-b2ed992186a5cb19f6668aade821f502c1d00970dfd0e35128d51bac4649916c"
        );
    }

    #[test]
    fn bare_keys_have_no_prefix() {
        let key = Secret::new("12345678".to_owned());
        assert_eq!(
            hashed_signing_key(&key),
            "b2ed992186a5cb19f6668aade821f502c1d00970dfd0e35128d51bac4649916c"
        );
    }
}
