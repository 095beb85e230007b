//! End-to-end encryption of what a function sends to Inngest, byte-compatible with the
//! official `@inngest/middleware-encryption` (feature `encryption`).
//!
//! [`Encryption`] is a [middleware](crate::middleware): data is encrypted in your process
//! before it reaches Inngest, and decrypted when Inngest sends it back, so Inngest (and its
//! dashboard) only ever holds ciphertext:
//!
//! ```no_run
//! # fn main() -> Result<(), inngest::Error> {
//! let encryption = inngest::encryption::Encryption::from_env()?; // INNGEST_ENCRYPTION_KEY
//! let app = inngest::App::new("my-app").middleware(encryption.clone());
//! // Events sent outside functions: the same middleware on the client.
//! let client = inngest::Client::from_env()?.with_middleware(encryption);
//! # Ok(()) }
//! ```
//!
//! What it encrypts, as the official package does: each step's output (`step.run`,
//! `step.send_event`; not `null`), the function's output (not `null`), the field `encrypted`
//! of each sent event's `data` (`step.send_event` and [`Client::send`](crate::Client::send)),
//! and that field of a `step.invoke`'s data. It decrypts every top-level field of the
//! triggering events' `data` that is encrypted, and each memoized step output that is.
//!
//! The format: `{"__ENCRYPTED__": true, "__STRATEGY__": "inngest/libsodium", "data":
//! "<base64>"}`, where `data` is the 24-byte nonce then libsodium's `crypto_secretbox_easy`
//! (XSalsa20-Poly1305) of the value's JSON, under the key `BLAKE2b-256(key.trim())`. Data
//! encrypted by the package's legacy AES strategy (an envelope without `__STRATEGY__`) is
//! decrypted too. The key encrypts; fallback keys only decrypt, for rotation.
//!
//! Data that no key decrypts fails the run without retries, with an error that names the
//! field (`event.data.encrypted`, the output of step `charge`); a key is never shown, in an
//! error or in `Debug`.

mod cipher;

use serde_json::{json, Map, Value};

use crate::error::{Error, NonRetriableError};
use crate::middleware::{FunctionInput, Middleware, Next, RunInfo, StepInfo, StepKind};
use cipher::SodiumKey;

/// `__ENCRYPTED__`: marks an encrypted value.
const MARKER: &str = "__ENCRYPTED__";
/// `__STRATEGY__`: names the cipher.
const STRATEGY_KEY: &str = "__STRATEGY__";
/// The strategy this SDK writes.
const STRATEGY: &str = "inngest/libsodium";
/// The event field encrypted by default.
const DEFAULT_FIELD: &str = "encrypted";

/// The encryption middleware (see the [module documentation](self)). Cheap to clone.
#[derive(Clone)]
pub struct Encryption {
    /// The key first, then the fallback keys.
    keys: Vec<SodiumKey>,
    field: String,
    decrypt_only: bool,
}

impl std::fmt::Debug for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encryption")
            .field("keys", &format_args!("<{} redacted>", self.keys.len()))
            .field("field", &self.field)
            .field("decrypt_only", &self.decrypt_only)
            .finish()
    }
}

impl Encryption {
    /// Encrypts with `key` (any string; it is trimmed and hashed into a 32-byte key, as the
    /// official package does). An empty key is an error.
    pub fn new(key: impl AsRef<str>) -> Result<Encryption, Error> {
        let key = SodiumKey::derive(key.as_ref())
            .ok_or_else(|| Error::msg("the encryption key is empty"))?;
        Ok(Encryption {
            keys: vec![key],
            field: DEFAULT_FIELD.to_owned(),
            decrypt_only: false,
        })
    }

    /// The key from `INNGEST_ENCRYPTION_KEY`, and fallback keys from
    /// `INNGEST_ENCRYPTION_FALLBACK_KEYS` (comma-separated), if set.
    pub fn from_env() -> Result<Encryption, Error> {
        let key = crate::config::var("INNGEST_ENCRYPTION_KEY").ok_or_else(|| {
            Error::msg("INNGEST_ENCRYPTION_KEY is not set: the encryption middleware needs a key")
        })?;
        let mut encryption = Encryption::new(key)?;
        if let Some(fallbacks) = crate::config::var("INNGEST_ENCRYPTION_FALLBACK_KEYS") {
            for key in fallbacks.split(',') {
                encryption = encryption.fallback_key(key);
            }
        }
        Ok(encryption)
    }

    /// A key that only decrypts (an earlier key, while keys are rotated); tried in the order
    /// added, after the key. An empty key is ignored.
    pub fn fallback_key(mut self, key: impl AsRef<str>) -> Encryption {
        self.keys.extend(SodiumKey::derive(key.as_ref()));
        self
    }

    /// The field of an event's `data` that is encrypted when sent, `"encrypted"` by default.
    pub fn event_field(mut self, field: impl Into<String>) -> Encryption {
        self.field = field.into();
        self
    }

    /// Only decrypts (encrypts nothing): to read encrypted data while moving away from it.
    pub fn decrypt_only(mut self, decrypt_only: bool) -> Encryption {
        self.decrypt_only = decrypt_only;
        self
    }

    /// The envelope of `value`, encrypted with the key.
    pub fn encrypt(&self, value: &Value) -> Value {
        let text = value.to_string();
        let data = self.keys[0].seal(text.as_bytes(), cipher::random_nonce());
        json!({ MARKER: true, STRATEGY_KEY: STRATEGY, "data": data })
    }

    /// The value inside an envelope, with the first key that opens it; `Ok(None)` when
    /// `value` is not an envelope; an error (naming `what`) when no key opens it.
    pub fn decrypt(&self, value: &Value, what: &str) -> Result<Option<Value>, Error> {
        let Some((data, legacy)) = envelope(value) else {
            return Ok(None);
        };
        let opened = self.keys.iter().find_map(|key| {
            let plain = if legacy {
                key.open_legacy(data)
            } else {
                key.open(data)
            }?;
            serde_json::from_slice::<Value>(&plain).ok()
        });
        match opened {
            Some(value) => Ok(Some(value)),
            None => Err(NonRetriableError::new(format!(
                "could not decrypt {what}: neither the encryption key nor any of the {} fallback keys decrypts it ({} envelope); check INNGEST_ENCRYPTION_KEY and the fallback keys",
                self.keys.len() - 1,
                if legacy { "legacy AES" } else { STRATEGY }
            ))
            .into()),
        }
    }

    /// Decrypts each top-level field of `data` that is encrypted; `at` names `data`.
    fn decrypt_fields(&self, data: &mut Value, at: &str) -> Result<(), Error> {
        if let Value::Object(map) = data {
            for (key, value) in map.iter_mut() {
                if let Some(plain) = self.decrypt(value, &format!("`{at}.{key}`"))? {
                    *value = plain;
                }
            }
        }
        Ok(())
    }

    /// Encrypts the event field of `data`, when it has one.
    fn encrypt_field(&self, data: &mut Value) {
        if let Some(value) = data.as_object_mut().and_then(|m| m.get_mut(&self.field)) {
            if envelope(value).is_some() {
                tracing::warn!(
                    field = %self.field,
                    "the encryption middleware is encrypting a value that is already encrypted; is it registered twice?"
                );
            }
            *value = self.encrypt(value);
        }
    }

    /// Encrypts a step's or function's output (`null` stays as it is).
    fn encrypt_output(&self, output: Value) -> Value {
        if self.decrypt_only || output.is_null() {
            output
        } else {
            self.encrypt(&output)
        }
    }
}

/// The `data` of an envelope, and whether it is the legacy (AES) one. As the official
/// package reads them: `__ENCRYPTED__` is `true` and `data` a string; any `__STRATEGY__` is
/// read with this cipher, none means legacy.
fn envelope(value: &Value) -> Option<(&str, bool)> {
    let map: &Map<String, Value> = value.as_object()?;
    if map.get(MARKER) != Some(&Value::Bool(true)) {
        return None;
    }
    let data = map.get("data")?.as_str()?;
    match map.get(STRATEGY_KEY) {
        Some(Value::String(_)) => Some((data, false)),
        None => Some((data, true)),
        Some(_) => None,
    }
}

impl Middleware for Encryption {
    fn name(&self) -> &str {
        "inngest:encryption"
    }

    async fn transform_function_input(&self, input: &mut FunctionInput) -> Result<(), Error> {
        self.decrypt_fields(&mut input.event()["data"], "event.data")?;
        for i in 0..input.events_len() {
            if let Some(event) = input.events(i) {
                self.decrypt_fields(&mut event["data"], &format!("events[{i}].data"))?;
            }
        }
        Ok(())
    }

    async fn transform_step_input(
        &self,
        _run: &RunInfo,
        step: &StepInfo,
        input: &mut Value,
    ) -> Result<(), Error> {
        if step.kind == StepKind::Invoke && !self.decrypt_only {
            self.encrypt_field(&mut input["payload"]["data"]);
        }
        Ok(())
    }

    async fn wrap_function_handler(
        &self,
        _run: &RunInfo,
        next: Next<'_, Result<Value, Error>>,
    ) -> Result<Value, Error> {
        Ok(self.encrypt_output(next.await?))
    }

    async fn wrap_step(
        &self,
        _run: &RunInfo,
        step: &StepInfo,
        next: Next<'_, Result<Value, Error>>,
    ) -> Result<Value, Error> {
        let value = next.await?;
        let what = format!("the output of step `{}`", step.id);
        Ok(self.decrypt(&value, &what)?.unwrap_or(value))
    }

    async fn wrap_step_handler(
        &self,
        _run: &RunInfo,
        _step: &StepInfo,
        next: Next<'_, Result<Value, Error>>,
    ) -> Result<Value, Error> {
        Ok(self.encrypt_output(next.await?))
    }

    async fn transform_send_event(
        &self,
        _run: Option<&RunInfo>,
        events: &mut Vec<Value>,
    ) -> Result<(), Error> {
        if !self.decrypt_only {
            for event in events.iter_mut() {
                self.encrypt_field(&mut event["data"]);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Encryption {
        Encryption::new("test-fixture-key").unwrap()
    }

    #[test]
    fn envelopes_round_trip_and_read_the_official_fixtures() {
        let value = json!({"hello": "world", "n": [1, 2.5, null]});
        let sealed = fixture().encrypt(&value);
        assert_eq!(sealed[MARKER], true);
        assert_eq!(sealed[STRATEGY_KEY], STRATEGY);
        assert_eq!(fixture().decrypt(&sealed, "x").unwrap(), Some(value));
        let js = json!({MARKER: true, STRATEGY_KEY: STRATEGY, "data": "q3FWFqO1qIEXK/u9ullLh+rJbxVrHWJ+6VZAsGjc6cWdnP28KSb6Z0NqN+nDyAHZXPfIpN4OXS4+8+1ZI4wMvkaWlOo/VrzYXwYltV7w1/Q="});
        assert_eq!(
            fixture().decrypt(&js, "x").unwrap(),
            Some(json!({"userId": "usr_123", "plan": "enterprise"}))
        );
        let v0 = json!({MARKER: true, "data": "U2FsdGVkX1/2ji5c3rSBYndk4+QMtYtyP9fB1lwFVqIq7F9nqMz47d1A/W9qGA9F"});
        assert_eq!(
            fixture().decrypt(&v0, "x").unwrap(),
            Some(json!({"secret": "v0-data", "count": 99}))
        );
        assert_eq!(fixture().decrypt(&json!({"data": "x"}), "x").unwrap(), None);
        assert_eq!(fixture().decrypt(&json!("plain"), "x").unwrap(), None);
    }

    #[test]
    fn fallback_keys_decrypt_and_a_wrong_key_names_the_field_not_the_key() {
        let old = Encryption::new("old-key").unwrap();
        let sealed = old.encrypt(&json!(1));
        let rotated = Encryption::new("new-key").unwrap().fallback_key("old-key");
        assert_eq!(rotated.decrypt(&sealed, "x").unwrap(), Some(json!(1)));
        let wrong = Encryption::new("wrong-key").unwrap();
        let error = wrong
            .decrypt(&sealed, "`event.data.encrypted`")
            .unwrap_err();
        assert!(!error.is_retriable());
        let message = error.to_string();
        assert!(
            message.starts_with("could not decrypt `event.data.encrypted`: neither the encryption key nor any of the 0 fallback keys decrypts it"),
            "{message}"
        );
        for shown in [message, format!("{wrong:?}"), format!("{rotated:?}")] {
            assert!(
                !shown.contains("wrong-key") && !shown.contains("old-key"),
                "{shown}"
            );
        }
        assert!(Encryption::new("  ").is_err());
    }
}
