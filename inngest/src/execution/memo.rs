//! Memoized step results as the call request carries them (protocol.md section 2), decoded by
//! their exact key set: an object with only `data`, only `error` or only `input` is wrapped;
//! anything else (including `null`) is a raw value.

use inngest_protocol::step_id::HashedId;
use serde_json::Value;

/// One entry of the call request's `steps` map.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Memo {
    /// The step finished with this value (`{"data": v}`).
    Data(Value),
    /// Any other value: `null` (a sleep that ended, a wait that timed out), an unwrapped
    /// event (a wait that matched), legacy `Step` output, or a cancelled invoke's whole
    /// finished event.
    Raw(Value),
    /// The step failed for good (`{"error": {...}}`).
    Error(Value),
    /// The step's input was recorded but it has not finished (`{"input": [...]}`).
    Input(Value),
}

impl Memo {
    pub(crate) fn decode(value: Value) -> Memo {
        match value {
            Value::Object(mut map) if map.len() == 1 => {
                if let Some(data) = map.remove("data") {
                    Memo::Data(data)
                } else if let Some(error) = map.remove("error") {
                    Memo::Error(error)
                } else if let Some(input) = map.remove("input") {
                    Memo::Input(input)
                } else {
                    Memo::Raw(Value::Object(map))
                }
            }
            raw => Memo::Raw(raw),
        }
    }

    /// Whether the step finished (with data or an error).
    pub(crate) fn is_final(&self) -> bool {
        !matches!(self, Memo::Input(_))
    }
}

/// A memo's key (a hashed id) as the request wrote it: its 40 bytes, never decoded. A step's
/// [`HashedId`] is compared with it as text; a key that is not 40 lowercase hex digits equals
/// no hashed id, so no step ever claims its memo.
pub(crate) type MemoKey = [u8; 40];

/// The key that `text` is, if it is 40 bytes long (no other length can be a hashed id).
pub(crate) fn key_of(text: &[u8]) -> Option<MemoKey> {
    text.try_into().ok()
}

/// The call request's `steps`: each memo by its key, sorted by key (a binary search finds
/// one: no hashing, and no input makes it slow; lowercase hex sorts as the digests do). A key
/// that is not 40 bytes long can never be claimed, so it is not kept; one of 40 bytes is kept
/// and counted among the memos even if it is not hex, as the official TypeScript SDK counts
/// every key. Of a key given twice, the last memo is kept, as a JSON object reads.
#[derive(Debug, Default)]
pub(crate) struct Memos(Vec<(MemoKey, Option<Memo>)>, usize);

impl Memos {
    /// The memos of a `steps` map read as JSON values.
    pub(crate) fn from_values(steps: impl IntoIterator<Item = (String, Value)>) -> Memos {
        let memos: Vec<_> = steps
            .into_iter()
            .filter_map(|(k, v)| Some((key_of(k.as_bytes())?, Some(Memo::decode(v)))))
            .collect();
        let finished = memos
            .iter()
            .filter(|(_, m)| m.as_ref().is_some_and(Memo::is_final))
            .count();
        Memos::sorted(memos, finished)
    }

    /// Sorts memos given in the request's order; of equal keys, the last one stays.
    /// `finished` is how many of `memos` are of finished steps.
    pub(crate) fn sorted(mut memos: Vec<(MemoKey, Option<Memo>)>, mut finished: usize) -> Memos {
        // Inngest sends the keys sorted (and each once): one pass tells, and then there is
        // nothing to sort or merge.
        if memos
            .windows(2)
            .all(|w| key_order(&w[0].0, &w[1].0).is_lt())
        {
            return Memos(memos, finished);
        }
        // A stable sort keeps equal keys in the request's order; of a run of them, the
        // later memo replaces the kept one as the next is dropped. (Inngest sends them sorted
        // already; eight bytes as a number decide nearly every comparison.)
        memos.sort_by(|a, b| key_order(&a.0, &b.0));
        memos.dedup_by(|next, kept| {
            let same = next.0 == kept.0;
            if same {
                std::mem::swap(next, kept);
                if next.1.as_ref().is_some_and(Memo::is_final) {
                    finished -= 1;
                }
            }
            same
        });
        Memos(memos, finished)
    }

    /// How many memos there are.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// How many memos are of finished steps (not `{"input": ...}`), as read.
    pub(crate) fn finished(&self) -> usize {
        self.1
    }

    /// Takes the memo of the step whose hashed id is `id`.
    pub(crate) fn take(&mut self, id: &HashedId) -> Option<Memo> {
        self.slot(id)?.take()
    }

    /// Whether the memo of `id` was taken already (a step claimed its id).
    pub(crate) fn is_taken(&self, id: &HashedId) -> bool {
        self.position(id).is_some_and(|i| self.0[i].1.is_none())
    }

    /// The place of the memo of `id`: `Some(None)` once it was taken.
    #[inline]
    pub(crate) fn slot(&mut self, id: &HashedId) -> Option<&mut Option<Memo>> {
        let i = self.position(id)?;
        Some(&mut self.0[i].1)
    }

    #[inline]
    fn position(&self, wanted_id: &HashedId) -> Option<usize> {
        // Searched by the first eight bytes as a number (keys sort as their bytes do, so as
        // those), then compared whole: cheaper than comparing 40 bytes at every step.
        let wanted = prefix(wanted_id.as_bytes());
        let from = self.0.partition_point(|(k, _)| prefix(k) < wanted);
        self.0[from..]
            .iter()
            .take_while(|(k, _)| prefix(k) == wanted)
            .position(|(k, _)| wanted_id.is_spelled_by(k))
            .map(|i| from + i)
    }

    /// The memos by hashed id (for the property tests).
    #[cfg(test)]
    pub(crate) fn by_hashed_id(self) -> std::collections::BTreeMap<String, Memo> {
        self.0
            .into_iter()
            .filter_map(|(key, memo)| Some((String::from_utf8_lossy(&key).into_owned(), memo?)))
            .collect()
    }
}

/// Reads the `steps` object without building a `String` for each key or a JSON object for
/// each `{"data": v}`.
impl<'de> serde::Deserialize<'de> for Memos {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Memos, D::Error> {
        struct MemosVisitor;
        impl<'de> serde::de::Visitor<'de> for MemosVisitor {
            type Value = Memos;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Memos, A::Error> {
                let mut memos = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
                let mut finished = 0;
                while let Some(ReadKey(key)) = map.next_key()? {
                    let memo: Memo = map.next_value()?;
                    if let Some(key) = key {
                        finished += usize::from(memo.is_final());
                        memos.push((key, Some(memo)));
                    }
                }
                Ok(Memos::sorted(memos, finished))
            }
        }
        deserializer.deserialize_map(MemosVisitor)
    }
}

/// A key of `steps`, if it can be a hashed id ([`key_of`]).
struct ReadKey(Option<MemoKey>);

impl<'de> serde::Deserialize<'de> for ReadKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ReadKey, D::Error> {
        struct ReadKeyVisitor;
        impl serde::de::Visitor<'_> for ReadKeyVisitor {
            type Value = ReadKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a step id")
            }
            fn visit_str<E>(self, v: &str) -> Result<ReadKey, E> {
                Ok(ReadKey(key_of(v.as_bytes())))
            }
        }
        deserializer.deserialize_str(ReadKeyVisitor)
    }
}

/// Reads a memo straight from JSON, as [`Memo::decode`] classifies the value it would read:
/// the common `{"data": v}` is unwrapped without building an object for it (a call request
/// carries one per finished step).
impl<'de> serde::Deserialize<'de> for Memo {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Memo, D::Error> {
        deserializer.deserialize_any(MemoVisitor)
    }
}

struct MemoVisitor;

impl<'de> serde::de::Visitor<'de> for MemoVisitor {
    type Value = Memo;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }

    // Everything but an object is a raw value, read as `serde_json::Value` reads it.
    fn visit_bool<E>(self, v: bool) -> Result<Memo, E> {
        Ok(Memo::Raw(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Memo, E> {
        Ok(Memo::Raw(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Memo, E> {
        Ok(Memo::Raw(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Memo, E> {
        Ok(Memo::Raw(
            serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_str<E>(self, v: &str) -> Result<Memo, E> {
        Ok(Memo::Raw(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Memo, E> {
        Ok(Memo::Raw(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Memo, E> {
        Ok(Memo::Raw(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Memo, E> {
        Ok(Memo::Raw(Value::Null))
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Memo, D::Error> {
        serde::Deserialize::deserialize(d)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Memo, A::Error> {
        let items =
            serde::Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Memo::Raw(Value::Array(items)))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Memo, A::Error> {
        let Some(first) = map.next_key::<Key>()? else {
            return Ok(Memo::Raw(Value::Object(serde_json::Map::new())));
        };
        let value: Value = map.next_value()?;
        let Some(second) = map.next_key::<Key>()? else {
            return Ok(match first {
                Key::Data => Memo::Data(value),
                Key::Error => Memo::Error(value),
                Key::Input => Memo::Input(value),
                Key::Other(key) => Memo::Raw(Value::Object([(key, value)].into_iter().collect())),
            });
        };
        // Two keys or more (maybe the same one twice): classify the whole object, as read.
        let mut object = serde_json::Map::new();
        object.insert(first.into_string(), value);
        let value: Value = map.next_value()?;
        object.insert(second.into_string(), value);
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            object.insert(key, value);
        }
        Ok(Memo::decode(Value::Object(object)))
    }
}

/// An object key of a memo, without allocating for the three that matter.
enum Key {
    Data,
    Error,
    Input,
    Other(String),
}

impl Key {
    fn into_string(self) -> String {
        match self {
            Key::Data => "data".to_owned(),
            Key::Error => "error".to_owned(),
            Key::Input => "input".to_owned(),
            Key::Other(key) => key,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "data" => Key::Data,
                    "error" => Key::Error,
                    "input" => Key::Input,
                    _ => Key::Other(v.to_owned()),
                })
            }
            fn visit_string<E>(self, v: String) -> Result<Key, E> {
                Ok(match v.as_str() {
                    "data" => Key::Data,
                    "error" => Key::Error,
                    "input" => Key::Input,
                    _ => Key::Other(v),
                })
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inngest_protocol::step_id::hash;
    use serde_json::json;

    #[test]
    fn wrapped_shapes_by_exact_key_set() {
        assert_eq!(Memo::decode(json!({"data": 1})), Memo::Data(json!(1)));
        assert_eq!(Memo::decode(json!({"data": null})), Memo::Data(Value::Null));
        assert_eq!(
            Memo::decode(json!({"error": {"name": "E", "message": "m"}})),
            Memo::Error(json!({"name": "E", "message": "m"}))
        );
        assert_eq!(
            Memo::decode(json!({"input": [1, 2]})),
            Memo::Input(json!([1, 2]))
        );
        assert!(!Memo::decode(json!({"input": []})).is_final());
    }

    #[test]
    fn steps_keep_the_last_memo_of_a_key_and_only_keys_of_forty_bytes() {
        let a = hash("a");
        let b = hash("b");
        let text = format!(
            r#"{{"{a}": {{"data": 1}}, "{b}": {{"data": 2}}, "not-a-hash": {{"data": 3}}, "{a}": {{"data": 4}}, "{}": {{"data": 5}}}}"#,
            b.to_uppercase()
        );
        let mut memos: Memos = serde_json::from_str(&text).unwrap();
        // The uppercase key is kept (and counted, as the TypeScript SDK counts every key), but
        // no step's hashed id is uppercase.
        assert_eq!(memos.len(), 3);
        assert_eq!(memos.finished(), 3, "of a key given twice, one counts");
        let id = HashedId::of;
        assert_eq!(memos.take(&id("a")), Some(Memo::Data(json!(4))));
        assert_eq!(memos.take(&id("a")), None, "a memo is taken once");
        assert_eq!(memos.take(&id("b")), Some(Memo::Data(json!(2))));
        assert_eq!(memos.take(&id("c")), None);
    }

    #[test]
    fn memos_are_found_whatever_order_they_come_in() {
        let ids: Vec<String> = (0..40).map(|k| format!("step-{k}")).collect();
        let mut sorted: Vec<(MemoKey, Option<Memo>)> = ids
            .iter()
            .enumerate()
            .map(|(k, id)| (*HashedId::of(id).as_bytes(), Some(Memo::Data(json!(k)))))
            .collect();
        sorted.sort_by_key(|m| m.0);
        // As Inngest sends them (sorted), in the order the steps ran, and reversed.
        let mut in_run_order = sorted.clone();
        in_run_order.sort_by_key(|m| match &m.1 {
            Some(Memo::Data(k)) => k.as_u64(),
            _ => None,
        });
        let reversed: Vec<_> = sorted.iter().rev().cloned().collect();
        for memos in [sorted, in_run_order, reversed] {
            let mut memos = Memos::sorted(memos, ids.len());
            assert_eq!((memos.len(), memos.finished()), (40, 40));
            for (k, id) in ids.iter().enumerate() {
                assert_eq!(
                    memos.take(&HashedId::of(id)),
                    Some(Memo::Data(json!(k))),
                    "{id}"
                );
            }
        }
    }

    /// Reading a memo straight from JSON gives what decoding the value read gives.
    #[test]
    fn read_from_json_as_decoded() {
        for text in [
            r#"{"data": 1}"#,
            r#"{"data": {"nested": [1, 2.5, "x", null]}}"#,
            r#"{"data": null}"#,
            r#"{"error": {"name": "E", "message": "m"}}"#,
            r#"{"input": []}"#,
            r#"{"data": 1, "error": 2}"#,
            r#"{"data": 1, "data": 2}"#,
            r#"{"x": 1, "data": 2}"#,
            r#"{"da\u0074a": 3}"#,
            r#"{"x": 1}"#,
            r#"{}"#,
            r#"null"#,
            r#"true"#,
            r#"-3"#,
            r#"18446744073709551615"#,
            r#"1.5e300"#,
            r#""s\n""#,
            r#"[1, {"data": 2}]"#,
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            let read: Memo = serde_json::from_str(text).unwrap();
            assert_eq!(read, Memo::decode(value), "{text}");
        }
    }

    #[test]
    fn anything_else_is_raw_data() {
        // a sleep that finished
        assert_eq!(Memo::decode(Value::Null), Memo::Raw(Value::Null));
        // a waitForEvent match: the whole event, unwrapped
        let event = json!({"id": "1", "name": "e", "data": {}, "user": {}, "ts": 1});
        assert_eq!(Memo::decode(event.clone()), Memo::Raw(event));
        // more than one key, even if one is `data`
        let both = json!({"data": 1, "error": 2});
        assert_eq!(Memo::decode(both.clone()), Memo::Raw(both));
        // a single unrelated key, legacy raw output
        assert_eq!(Memo::decode(json!({"x": 1})), Memo::Raw(json!({"x": 1})));
        assert_eq!(Memo::decode(json!("s")), Memo::Raw(json!("s")));
        assert_eq!(Memo::decode(json!([1])), Memo::Raw(json!([1])));
    }
}

/// How two keys sort (as their bytes do): their first eight bytes as a number decide nearly
/// always, and only a tie compares them whole.
fn key_order(a: &MemoKey, b: &MemoKey) -> std::cmp::Ordering {
    prefix(a).cmp(&prefix(b)).then_with(|| a.cmp(b))
}

/// The first eight bytes of a key as a number that sorts as they do.
#[inline]
fn prefix(key: &MemoKey) -> u64 {
    let mut first = [0_u8; 8];
    first.copy_from_slice(&key[..8]);
    u64::from_be_bytes(first)
}

/// `ctx.stack.stack`, the hashed ids of the memoized steps in the order they finished: read
/// into keys only when a race asks where a memo stands in it (most calls never do). Ids that
/// are not 40 bytes long are left out: no memo has them.
#[derive(Clone)]
pub(crate) enum Stack {
    /// Read already.
    Read(Vec<MemoKey>),
    /// The JSON text of an array of strings without escapes, unread.
    Text(bytes::Bytes),
}

impl Default for Stack {
    /// No stack.
    fn default() -> Stack {
        Stack::Read(Vec::new())
    }
}

impl Stack {
    /// The stack of these ids, as a call request gives them.
    pub(crate) fn from_ids(ids: &[String]) -> Stack {
        Stack::Read(ids.iter().filter_map(|id| key_of(id.as_bytes())).collect())
    }

    /// The keys, in the stack's order.
    pub(crate) fn keys(&self) -> Vec<MemoKey> {
        match self {
            Stack::Read(keys) => keys.clone(),
            // Without escapes, every other piece between quotes is a string.
            Stack::Text(text) => text
                .split(|b| *b == b'"')
                .skip(1)
                .step_by(2)
                .filter_map(key_of)
                .collect(),
        }
    }
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self
            .keys()
            .iter()
            .map(|key| String::from_utf8_lossy(key).into_owned())
            .collect();
        ids.fmt(f)
    }
}
