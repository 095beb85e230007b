//! Signing keys: the hashed form sent as `Authorization: Bearer ...` to the Inngest API
//! (protocol.md section 6.3).

use sha2::{Digest, Sha256};

use crate::config::Secret;

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
    if s.len() % 2 != 0 {
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
