//! Signatures (protocol.md section 6.2-6.3): `X-Inngest-Signature: t=<unix secs>&s=<hex>` on
//! calls from Inngest and on the SDK's answers, and the hashed signing key sent as
//! `Authorization: Bearer ...` to the Inngest API.
//!
//! The HMAC is SHA-256 over the raw body bytes followed by the decimal timestamp, keyed by the
//! signing key's text without its `signkey-<env>-` prefix. Pure: the time is passed in.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// How far a signature's timestamp may be from now, either way.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

/// Why a signature was refused. Never says anything about the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
pub struct SignatureHeader {
    /// Unix seconds.
    pub t: i64,
    /// The HMAC.
    pub s: [u8; 32],
}

/// Parses `t=<unix seconds>&s=<hex>`, read as a query string the way the JS SDK reads it
/// (`URLSearchParams`): order free, other keys ignored, names and values form-decoded (`+` is a
/// space, `%XX` a byte), each of `t` and `s` exactly once.
pub fn parse_header(value: &str) -> Result<SignatureHeader, SignatureError> {
    let (mut t, mut s) = (None, None);
    for pair in value.trim().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match form_decode(k).as_ref() {
            "t" => &mut t,
            "s" => &mut s,
            _ => continue,
        };
        if slot.is_some() {
            return Err(SignatureError::Malformed("`t` or `s` is given twice"));
        }
        *slot = Some(form_decode(v));
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

/// `application/x-www-form-urlencoded` decoding of one name or value: `+` is a space, `%XX` is
/// that byte (a `%` not followed by two hex digits stays as it is), and bytes that are not
/// UTF-8 become U+FFFD.
fn form_decode(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['+', '%']) {
        return std::borrow::Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(byte) if bytes[i + 1].is_ascii_hexdigit() => {
                    out.push(byte);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    std::borrow::Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn mac(key: &str, body: &[u8], t: i64) -> HmacSha256 {
    let key = split_prefix(key).1.as_bytes();
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.update(t.to_string().as_bytes());
    mac
}

/// The hex signature of `body` at unix time `t` with `key`.
pub fn sign(key: &str, body: &[u8], t: i64) -> String {
    hex(&mac(key, body, t).finalize().into_bytes())
}

/// The `X-Inngest-Signature` value for `body` signed at unix time `t`.
pub fn signature_header(key: &str, body: &[u8], t: i64) -> String {
    format!("t={t}&s={}", sign(key, body, t))
}

/// Checks a signature against the keys in order (the signing key, then the fallback);
/// returns the index of the key that matched. The comparison is constant-time.
pub fn verify(
    keys: &[&str],
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

/// `signkey-<env>-<hex(sha256(hex_decode(key body)))>`: the prefix is kept, the body is
/// hex-decoded and hashed. A body that is not hex is hashed as its bytes.
pub fn hashed_signing_key(key: &str) -> String {
    let (prefix, body) = split_prefix(key);
    let bytes = hex_decode(body).unwrap_or_else(|| body.as_bytes().to_vec());
    format!("{prefix}{}", hex(&Sha256::digest(&bytes)))
}

/// Hex SHA-256 of a text, to show a secret's identity without the secret.
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
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

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR_S: &str = "073ba089083d1b5825d78beec35b482862de474e016af50769c33fbb94fb962c";

    #[test]
    fn protocol_signature_vector() {
        assert_eq!(
            sign(
                "signkey-test-0123456789abcdef",
                br#"{"a":1}"#,
                1_700_000_000
            ),
            VECTOR_S
        );
        // The prefix is stripped, so the bare key signs the same.
        assert_eq!(
            sign("0123456789abcdef", br#"{"a":1}"#, 1_700_000_000),
            VECTOR_S
        );
        let header = signature_header("0123456789abcdef", br#"{"a":1}"#, 1_700_000_000);
        assert_eq!(
            verify(
                &["x", "0123456789abcdef"],
                Some(&header),
                br#"{"a":1}"#,
                1_700_000_100
            ),
            Ok(1)
        );
        assert_eq!(
            verify(
                &["0123456789abcdef"],
                Some(&header),
                br#"{"a":1}"#,
                1_700_001_000
            ),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn verifies_with_either_key_and_says_which() {
        let keys = ["signkey-prod-aaaa", "signkey-test-0123456789abcdef"];
        let header = format!("t=1700000000&s={VECTOR_S}");
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
        let k = ["signkey-test-0123456789abcdef"];
        let header = format!("t=1700000000&s={VECTOR_S}");
        let body = br#"{"a":1}"#;
        assert_eq!(verify(&k, Some(&header), body, 1_700_000_300), Ok(0));
        assert_eq!(verify(&k, Some(&header), body, 1_699_999_700), Ok(0));
        assert_eq!(
            verify(&k, Some(&header), body, 1_700_000_301),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            verify(&k, Some(&header), body, 1_699_999_699),
            Err(SignatureError::Expired)
        );
    }

    /// Regression: `now - t` overflowed (a panic in debug builds) for `t` near `i64::MIN`.
    #[test]
    fn extreme_timestamps_are_expired_not_a_panic() {
        let k = ["signkey-test-0123456789abcdef"];
        for t in [i64::MIN, i64::MIN + 1, -1, i64::MAX] {
            let header = format!("t={t}&s={VECTOR_S}");
            assert_eq!(
                verify(&k, Some(&header), b"", 1_700_000_000),
                Err(SignatureError::Expired),
                "{header}"
            );
        }
        // And `now` itself at the extremes.
        let header = format!("t=0&s={VECTOR_S}");
        for now in [i64::MIN, i64::MAX] {
            assert_eq!(
                verify(&k, Some(&header), b"", now),
                Err(SignatureError::Expired)
            );
        }
    }

    #[test]
    fn garbage_headers_are_malformed() {
        let k = ["k"];
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
            // A `+` is a space: ` 1` is not a number.
            "t=+1&s=073ba089083d1b5825d78beec35b482862de474e016af50769c33fbb94fb962c",
            // `%74` is `t`, so `t` is given twice.
            "t=1&%74=1&s=073ba089083d1b5825d78beec35b482862de474e016af50769c33fbb94fb962c",
            // Regression: `from_str_radix` accepted a sign, so `%2Bf` (`+f`) passed as a byte.
            "t=1&s=%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf%2Bf",
        ];
        for h in bad {
            assert!(
                matches!(
                    verify(&k, Some(h), b"", 1),
                    Err(SignatureError::Malformed(_))
                ),
                "{h:?}"
            );
        }
        assert_eq!(verify(&k, None, b"", 1), Err(SignatureError::Missing));
    }

    /// The header is read as a query string, as the JS SDK reads it.
    #[test]
    fn names_and_values_are_form_decoded() {
        let header = format!("%74=1700000000&s={}", &VECTOR_S.replace('0', "%30"));
        assert_eq!(
            parse_header(&header).map(|h| h.t),
            Ok(1_700_000_000),
            "{header}"
        );
        assert_eq!(form_decode("a+b%2B%zz%4"), "a b+%zz%4");
        assert_eq!(form_decode("%FF"), "\u{fffd}");
    }

    #[test]
    fn spec_vector() {
        assert_eq!(
            hashed_signing_key("signkey-prod-12345678"),
            "signkey-prod-b2ed992186a5cb19f6668aade821f502c1d00970dfd0e35128d51bac4649916c"
        );
    }

    #[test]
    fn bare_keys_have_no_prefix() {
        assert_eq!(
            hashed_signing_key("12345678"),
            "b2ed992186a5cb19f6668aade821f502c1d00970dfd0e35128d51bac4649916c"
        );
    }
}
