//! JSON text known to be valid, held without a copy: a call request's events are slices of
//! the request body itself, read into the function's event type only when it runs.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::Value;

/// Valid JSON text. Cheap to clone (a reference count): a call's `events[0]` is usually its
/// `event` again, byte for byte, and then both share the same bytes.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RawJson(Bytes);

impl RawJson {
    /// `bytes`, which the caller has checked to be one valid JSON value (the call request's
    /// reader, `serving::fast`, checks every value it hands out).
    pub(crate) fn from_checked(bytes: Bytes) -> RawJson {
        RawJson(bytes)
    }

    /// `null`.
    pub(crate) fn null() -> RawJson {
        RawJson(Bytes::from_static(b"null"))
    }

    /// The text of a raw value serde has checked.
    pub(crate) fn from_raw(raw: &RawValue) -> RawJson {
        RawJson(Bytes::copy_from_slice(raw.get().as_bytes()))
    }

    /// `value` written as JSON text.
    pub(crate) fn from_value<T: serde::Serialize + ?Sized>(
        value: &T,
    ) -> Result<RawJson, serde_json::Error> {
        serde_json::to_vec(value).map(|text| RawJson(text.into()))
    }

    /// The text.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text read into `T`.
    pub(crate) fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.0)
    }

    /// The text read into a JSON value.
    pub(crate) fn value(&self) -> Result<Value, serde_json::Error> {
        self.decode()
    }
}

impl std::fmt::Debug for RawJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Valid JSON is UTF-8.
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl<'de> serde::Deserialize<'de> for RawJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<RawJson, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Ok(RawJson::from_raw(&raw))
    }
}
