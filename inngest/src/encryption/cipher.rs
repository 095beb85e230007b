//! The ciphers of `@inngest/middleware-encryption`: libsodium's secretbox (strategy
//! `inngest/libsodium`) to encrypt and decrypt, and CryptoJS's AES passphrase format (the
//! legacy v0 envelope) to decrypt old data (protocol-2.md section 7.2).

use base64::Engine as _;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;

const NONCE: usize = 24;

/// A key as libsodium's `crypto_generichash(32, key)` derives it: unkeyed BLAKE2b-256 of the
/// trimmed key's UTF-8 bytes.
#[derive(Clone)]
pub(crate) struct SodiumKey {
    cipher: XSalsa20Poly1305,
    /// The trimmed passphrase, for legacy AES data only (never shown).
    passphrase: String,
}

impl SodiumKey {
    /// The key derived from `key` (trimmed); `None` when it is empty.
    pub(crate) fn derive(key: &str) -> Option<SodiumKey> {
        let key = key.trim();
        if key.is_empty() {
            return None;
        }
        let hash = Blake2b::<U32>::digest(key.as_bytes());
        Some(SodiumKey {
            cipher: XSalsa20Poly1305::new(&hash),
            passphrase: key.to_owned(),
        })
    }

    /// `base64(nonce ‖ MAC ‖ ciphertext)` of `plaintext`, with this nonce.
    pub(crate) fn seal(&self, plaintext: &[u8], nonce: [u8; NONCE]) -> String {
        let sealed = self
            .cipher
            .encrypt(&nonce.into(), plaintext)
            .expect("secretbox encrypts any message that fits in memory");
        let mut out = Vec::with_capacity(NONCE + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    /// The plaintext of `data` (`base64(nonce ‖ MAC ‖ ciphertext)`), if this key sealed it.
    pub(crate) fn open(&self, data: &str) -> Option<Vec<u8>> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .ok()?;
        if bytes.len() < NONCE + 16 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE);
        let nonce: [u8; NONCE] = nonce.try_into().ok()?;
        self.cipher.decrypt(&nonce.into(), sealed).ok()
    }

    /// The plaintext of legacy v0 data: CryptoJS `AES.encrypt(text, passphrase)`, that is
    /// `base64("Salted__" ‖ salt ‖ AES-256-CBC(text))` with key and IV from OpenSSL's
    /// `EVP_BytesToKey` (MD5, one round).
    pub(crate) fn open_legacy(&self, data: &str) -> Option<Vec<u8>> {
        use aes::cipher::{BlockDecryptMut, KeyIvInit};
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .ok()?;
        let rest = bytes.strip_prefix(b"Salted__")?;
        if rest.len() < 8 + 16 {
            return None;
        }
        let (salt, ciphertext) = rest.split_at(8);
        let (key, iv) = evp_bytes_to_key(self.passphrase.as_bytes(), salt);
        cbc::Decryptor::<aes::Aes256>::new(&key.into(), &iv.into())
            .decrypt_padded_vec_mut::<aes::cipher::block_padding::Pkcs7>(ciphertext)
            .ok()
    }
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one round: a 32-byte key and a 16-byte IV.
fn evp_bytes_to_key(passphrase: &[u8], salt: &[u8]) -> ([u8; 32], [u8; 16]) {
    let mut derived = Vec::with_capacity(48);
    let mut previous: Vec<u8> = Vec::new();
    while derived.len() < 48 {
        let mut md5 = md5::Md5::new();
        md5.update(&previous);
        md5.update(passphrase);
        md5.update(salt);
        previous = md5.finalize().to_vec();
        derived.extend_from_slice(&previous);
    }
    let mut key = [0; 32];
    let mut iv = [0; 16];
    key.copy_from_slice(&derived[..32]);
    iv.copy_from_slice(&derived[32..48]);
    (key, iv)
}

/// 24 random bytes.
pub(crate) fn random_nonce() -> [u8; NONCE] {
    use crypto_secretbox::aead::rand_core::RngCore;
    let mut nonce = [0; NONCE];
    crypto_secretbox::aead::OsRng.fill_bytes(&mut nonce);
    nonce
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SodiumKey {
        SodiumKey::derive("test-fixture-key").unwrap()
    }

    /// protocol-2.md 7.4: the derived key.
    #[test]
    fn keys_are_derived_with_blake2b_256_of_the_trimmed_key() {
        let hash = Blake2b::<U32>::digest(b"test-fixture-key");
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "f87d3d2980d5e8580a55b48f20d4fa474d9315e10af565076a350a697b009c36"
        );
        let padded = SodiumKey::derive("  test-fixture-key\n").unwrap();
        assert_eq!(
            padded.open(&key().seal(b"x", [7; 24])).as_deref(),
            Some(&b"x"[..])
        );
        assert!(SodiumKey::derive("   ").is_none());
    }

    /// protocol-2.md 7.4: the deterministic vector.
    #[test]
    fn seals_as_libsodium_does() {
        let nonce: [u8; 24] = std::array::from_fn(|i| i as u8);
        assert_eq!(
            key().seal(br#"{"hello":"world"}"#, nonce),
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXOALpsG1o5DVLLGHV28AIvPDemLAr9POgdzpRlHxuJvVz"
        );
    }

    /// protocol-2.md 7.4: the fixtures of `@inngest/middleware-encryption`'s tests.
    #[test]
    fn opens_the_official_fixtures() {
        let step = "pSiSWo5S7sref48gdYmMkyJW9UmqFMDbmmVULbtmKFRHlWIoa52qb7CINe3cXmT5X8bvLfsg20S+6qLTzAMK7GPrcSPdYcFYI3IiYGY=";
        assert_eq!(
            key().open(step).as_deref(),
            Some(&br#"{"hello":"world","nested":{"num":42}}"#[..])
        );
        let event = "q3FWFqO1qIEXK/u9ullLh+rJbxVrHWJ+6VZAsGjc6cWdnP28KSb6Z0NqN+nDyAHZXPfIpN4OXS4+8+1ZI4wMvkaWlOo/VrzYXwYltV7w1/Q=";
        assert_eq!(
            key().open(event).as_deref(),
            Some(&br#"{"userId":"usr_123","plan":"enterprise"}"#[..])
        );
        let aes = "U2FsdGVkX1/2ji5c3rSBYndk4+QMtYtyP9fB1lwFVqIq7F9nqMz47d1A/W9qGA9F";
        assert_eq!(
            key().open_legacy(aes).as_deref(),
            Some(&br#"{"secret":"v0-data","count":99}"#[..])
        );
        let other = SodiumKey::derive("another-key").unwrap();
        assert_eq!(other.open(step), None, "a wrong key does not open it");
        assert_eq!(other.open_legacy(aes), None);
        assert_eq!(key().open("not base64!"), None);
        assert_eq!(key().open("AAAA"), None, "too short");
    }

    #[test]
    fn random_nonces_differ() {
        assert_ne!(random_nonce(), random_nonce());
    }
}
