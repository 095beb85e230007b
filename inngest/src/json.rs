//! JSON text known to be valid, held without a copy: a call request's events are slices of
//! the request body itself, read into the function's event type only when it runs.

use std::ops::Range;

use bytes::Bytes;
use inngest_protocol::event::Event;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The largest scratch buffer a thread keeps between texts ([`RawJson::from_value`]); a larger
/// one, grown for a large text, is let go.
const SCRATCH_KEPT: usize = 64 * 1024;

std::thread_local! {
    /// Where [`RawJson::from_value`] writes a text before copying it out.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Valid JSON text. Cheap to clone (a reference count): a call's `events[0]` is usually its
/// `event` again, byte for byte, and then both share the same bytes.
#[derive(Clone)]
pub(crate) struct RawJson {
    text: Bytes,
    /// Where the fields of an event lie in `text`, when the call request's reader found them.
    event: Option<EventFields>,
}

/// Where an event's fields lie in its text (`Event<E>`'s fields, each given at most once and
/// of the type it must have), as the call request's reader found them: the event is then
/// built from them, and only `data` and a `user` other than `{}` are read by serde.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventFields {
    /// The text of `id` (a string without escapes), if given and not null.
    pub(crate) id: Option<Span>,
    /// The text of `name` (a string without escapes).
    pub(crate) name: Span,
    /// The value of `data`.
    pub(crate) data: Span,
    /// The value of `user`, if given.
    pub(crate) user: Option<Span>,
    /// `ts`, if given and not null.
    pub(crate) ts: Option<i64>,
    /// The text of `v` (a string without escapes), if given and not null.
    pub(crate) v: Option<Span>,
}

/// A range of bytes of a text (`u32`s: a call request is far below 4 GiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

impl Span {
    /// `range`, or `None` if it does not fit in `u32`.
    pub(crate) fn new(range: Range<usize>) -> Option<Span> {
        Some(Span {
            start: u32::try_from(range.start).ok()?,
            end: u32::try_from(range.end).ok()?,
        })
    }

    fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl PartialEq for RawJson {
    /// The same text (where its fields were found does not count).
    fn eq(&self, other: &RawJson) -> bool {
        self.text == other.text
    }
}

impl Eq for RawJson {}

impl RawJson {
    /// `bytes`, which the caller has checked to be one valid JSON value (the call request's
    /// reader, `serving::fast`, checks every value it hands out).
    pub(crate) fn from_checked(bytes: Bytes) -> RawJson {
        RawJson {
            text: bytes,
            event: None,
        }
    }

    /// [`RawJson::from_checked`] of an event whose fields lie at `fields` in `bytes`.
    pub(crate) fn event_from_checked(bytes: Bytes, fields: EventFields) -> RawJson {
        RawJson {
            text: bytes,
            event: Some(fields),
        }
    }

    /// `null`.
    pub(crate) fn null() -> RawJson {
        RawJson::from_checked(Bytes::from_static(b"null"))
    }

    /// The text of a raw value serde has checked.
    pub(crate) fn from_raw(raw: &RawValue) -> RawJson {
        RawJson::from_checked(Bytes::copy_from_slice(raw.get().as_bytes()))
    }

    /// `value` written as JSON text.
    ///
    /// Written into this thread's scratch buffer, then copied out at its exact length: a
    /// `Bytes` made from a vector with room to spare allocates a second block to share it
    /// (an allocation and a free more per answer than the copy of a small text costs).
    pub(crate) fn from_value<T: serde::Serialize + ?Sized>(
        value: &T,
    ) -> Result<RawJson, serde_json::Error> {
        SCRATCH.with(|scratch| {
            // A `Serialize` of the user's that writes JSON itself finds the buffer taken.
            let Ok(mut buffer) = scratch.try_borrow_mut() else {
                return serde_json::to_vec(value).map(|text| RawJson::from_checked(text.into()));
            };
            buffer.clear();
            let written = serde_json::to_writer(&mut *buffer, value);
            let text = written.map(|()| RawJson::from_checked(Bytes::copy_from_slice(&buffer)));
            if buffer.capacity() > SCRATCH_KEPT {
                *buffer = Vec::new();
            }
            text
        })
    }

    /// The JSON text, taken.
    pub(crate) fn into_bytes(self) -> Bytes {
        self.text
    }

    /// The JSON text.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.text
    }

    /// The text read into `T`.
    pub(crate) fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.text)
    }

    /// The event built from its fields, when the reader found them and its `data` (and
    /// `user`) read; else `None`, and it is read as any text ([`RawJson::decode`]), which
    /// gives the same event or the error.
    pub(crate) fn read_event<E: DeserializeOwned>(&self) -> Option<Event<E>> {
        let fields = self.event.as_ref()?;
        let text = |span: Span| &self.text[span.range()];
        // Checked UTF-8 without escapes: the string is its text.
        let string = |span: Span| std::str::from_utf8(text(span)).ok().map(str::to_owned);
        let optional = |span: Option<Span>| match span {
            None => Some(None),
            Some(span) => string(span).map(Some),
        };
        let user = match fields.user.map(text) {
            None | Some(b"{}") => Value::Object(Map::new()),
            Some(user) => serde_json::from_slice(user).ok()?,
        };
        Some(Event {
            id: optional(fields.id)?,
            name: string(fields.name)?,
            data: serde_json::from_slice(text(fields.data)).ok()?,
            user,
            ts: fields.ts,
            v: optional(fields.v)?,
        })
    }

    /// The text read into a JSON value.
    pub(crate) fn value(&self) -> Result<Value, serde_json::Error> {
        self.decode()
    }
}

/// A string of a call request kept as its text in the body (a slice of it, shared): the few
/// strings of `ctx` the handler keeps (the function's id, the step to run, the run's id for the
/// step tools) cost no copy of their own.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Text(Bytes);

impl Text {
    /// `bytes`, which the caller has checked to be UTF-8.
    pub(crate) fn from_checked(bytes: Bytes) -> Text {
        Text(bytes)
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text(Bytes::from(text))
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

impl std::fmt::Debug for RawJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Valid JSON is UTF-8.
        f.write_str(&String::from_utf8_lossy(&self.text))
    }
}

impl<'de> serde::Deserialize<'de> for RawJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<RawJson, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Ok(RawJson::from_raw(&raw))
    }
}
