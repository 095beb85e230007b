//! Signatures (protocol.md section 6): the SDK's side of `X-Inngest-Signature` and of the
//! hashed signing key. The HMAC and the hashing are `inngest_protocol::signature`'s; this
//! module holds the keys as [`Secret`]s and reads the clock.

use std::time::{SystemTime, UNIX_EPOCH};

use inngest_protocol::signature;
pub(crate) use inngest_protocol::signature::SignatureError;

use crate::config::Secret;

/// Checks a request's signature, now, against the keys in order (the signing key, then the
/// fallback); returns the key that matched.
pub(crate) fn verify<'k>(
    keys: &[&'k Secret],
    header: Option<&str>,
    body: &[u8],
) -> Result<&'k Secret, SignatureError> {
    let exposed: Vec<&str> = keys.iter().map(|key| key.expose()).collect();
    signature::verify(&exposed, header, body, now()).map(|i| keys[i])
}

/// The `X-Inngest-Signature` value for a response body, signed now.
pub(crate) fn signature_header(key: &Secret, body: &[u8]) -> String {
    signature::signature_header(key.expose(), body, now())
}

/// The hashed signing key sent as `Authorization: Bearer ...` to the Inngest API.
pub(crate) fn hashed_signing_key(key: &Secret) -> String {
    signature::hashed_signing_key(key.expose())
}

/// Seconds since the Unix epoch.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_headers_verify_now_with_the_key_that_signed() {
        let key = Secret::new("signkey-prod-abcdef".to_owned());
        let other = Secret::new("signkey-prod-0123".to_owned());
        let h = signature_header(&key, b"body");
        let verified = verify(&[&other, &key], Some(&h), b"body").map(Secret::expose);
        assert_eq!(verified, Ok("signkey-prod-abcdef"));
        assert_eq!(
            verify(&[&other], Some(&h), b"body").map(Secret::expose),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_hashed_key_is_the_protocols() {
        let key = Secret::new("signkey-prod-12345678".to_owned());
        assert_eq!(
            hashed_signing_key(&key),
            "signkey-prod-b2ed992186a5cb19f6668aade821f502c1d00970dfd0e35128d51bac4649916c"
        );
    }
}
