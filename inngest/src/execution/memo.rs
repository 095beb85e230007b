//! Memoized step results as the call request carries them (protocol.md section 2), decoded by
//! their exact key set: an object with only `data`, only `error` or only `input` is wrapped;
//! anything else (including `null`) is a raw value.

use inngest_protocol::step_id::parse_hashed;
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

/// The call request's `steps`: each memo by the SHA-1 digest its hashed id spells, sorted by
/// digest (a binary search finds one: no hashing, and no input makes it slow). A key that is
/// not a hashed id (40 lowercase hex digits) can never be claimed, so it is not kept; of a key
/// given twice, the last memo is kept, as a JSON object reads.
#[derive(Debug, Default)]
pub(crate) struct Memos(Vec<([u8; 20], Option<Memo>)>, usize);

impl Memos {
    /// The memos of a `steps` map read as JSON values.
    pub(crate) fn from_values(steps: impl IntoIterator<Item = (String, Value)>) -> Memos {
        let memos: Vec<_> = steps
            .into_iter()
            .filter_map(|(k, v)| Some((parse_hashed(&k)?, Some(Memo::decode(v)))))
            .collect();
        let finished = memos
            .iter()
            .filter(|(_, m)| m.as_ref().is_some_and(Memo::is_final))
            .count();
        Memos::sorted(memos, finished)
    }

    /// Sorts memos given in the request's order; of equal digests, the last one stays.
    /// `finished` is how many of `memos` are of finished steps.
    pub(crate) fn sorted(mut memos: Vec<([u8; 20], Option<Memo>)>, mut finished: usize) -> Memos {
        // Inngest sends the keys sorted (and each once): one pass tells, and then there is
        // nothing to sort or merge.
        if memos
            .windows(2)
            .all(|w| digest_order(&w[0].0, &w[1].0).is_lt())
        {
            return Memos(memos, finished);
        }
        // A stable sort keeps equal digests in the request's order; of a run of them, the
        // later memo replaces the kept one as the next is dropped. (Inngest sends them sorted
        // already; eight bytes as a number decide nearly every comparison.)
        memos.sort_by(|a, b| digest_order(&a.0, &b.0));
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

    /// Takes the memo of the step whose id hashes to `digest`.
    pub(crate) fn take(&mut self, digest: &[u8; 20]) -> Option<Memo> {
        self.slot(digest)?.take()
    }

    /// Whether the memo of `digest` was taken already (a step claimed its id).
    pub(crate) fn is_taken(&self, digest: &[u8; 20]) -> bool {
        self.position(digest).is_some_and(|i| self.0[i].1.is_none())
    }

    /// The place of the memo of `digest`: `Some(None)` once it was taken.
    #[inline]
    pub(crate) fn slot(&mut self, digest: &[u8; 20]) -> Option<&mut Option<Memo>> {
        let i = self.position(digest)?;
        Some(&mut self.0[i].1)
    }

    #[inline]
    fn position(&self, digest: &[u8; 20]) -> Option<usize> {
        // Searched by the first eight bytes as a number (digests sort as their bytes do, so
        // as those), then compared whole: cheaper than comparing 20 bytes at every step.
        let wanted = prefix(digest);
        let from = self.0.partition_point(|(d, _)| prefix(d) < wanted);
        self.0[from..]
            .iter()
            .take_while(|(d, _)| prefix(d) == wanted)
            .position(|(d, _)| d == digest)
            .map(|i| from + i)
    }

    /// The memos by hashed id (for the property tests).
    #[cfg(test)]
    pub(crate) fn by_hashed_id(self) -> std::collections::BTreeMap<String, Memo> {
        self.0
            .into_iter()
            .filter_map(|(digest, memo)| Some((inngest_protocol::step_id::hex(&digest), memo?)))
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
                while let Some(HashedId(digest)) = map.next_key()? {
                    let memo: Memo = map.next_value()?;
                    if let Some(digest) = digest {
                        finished += usize::from(memo.is_final());
                        memos.push((digest, Some(memo)));
                    }
                }
                Ok(Memos::sorted(memos, finished))
            }
        }
        deserializer.deserialize_map(MemosVisitor)
    }
}

/// A key of `steps`: the digest it spells, if it is a hashed id.
struct HashedId(Option<[u8; 20]>);

impl<'de> serde::Deserialize<'de> for HashedId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<HashedId, D::Error> {
        struct HashedIdVisitor;
        impl serde::de::Visitor<'_> for HashedIdVisitor {
            type Value = HashedId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a step id")
            }
            fn visit_str<E>(self, v: &str) -> Result<HashedId, E> {
                Ok(HashedId(parse_hashed(v)))
            }
        }
        deserializer.deserialize_str(HashedIdVisitor)
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
    fn steps_keep_the_last_memo_of_a_key_and_only_hashed_ids() {
        let a = hash("a");
        let b = hash("b");
        let text = format!(
            r#"{{"{a}": {{"data": 1}}, "{b}": {{"data": 2}}, "not-a-hash": {{"data": 3}}, "{a}": {{"data": 4}}, "{}": {{"data": 5}}}}"#,
            b.to_uppercase()
        );
        let mut memos: Memos = serde_json::from_str(&text).unwrap();
        assert_eq!(memos.len(), 2);
        assert_eq!(memos.finished(), 2, "of a key given twice, one counts");
        let digest = |h: &str| parse_hashed(h).unwrap();
        assert_eq!(memos.take(&digest(&a)), Some(Memo::Data(json!(4))));
        assert_eq!(memos.take(&digest(&a)), None, "a memo is taken once");
        assert_eq!(memos.take(&digest(&b)), Some(Memo::Data(json!(2))));
        assert_eq!(memos.take(&digest(&hash("c"))), None);
    }

    #[test]
    fn memos_are_found_whatever_order_they_come_in() {
        let ids: Vec<String> = (0..40).map(|k| format!("step-{k}")).collect();
        let mut sorted: Vec<([u8; 20], Option<Memo>)> = ids
            .iter()
            .enumerate()
            .map(|(k, id)| (parse_hashed(&hash(id)).unwrap(), Some(Memo::Data(json!(k)))))
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
                let digest = parse_hashed(&hash(id)).unwrap();
                assert_eq!(memos.take(&digest), Some(Memo::Data(json!(k))), "{id}");
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

/// How two digests sort (as their bytes do): their first eight bytes as a number decide
/// nearly always, and only a tie compares them whole.
fn digest_order(a: &[u8; 20], b: &[u8; 20]) -> std::cmp::Ordering {
    prefix(a).cmp(&prefix(b)).then_with(|| a.cmp(b))
}

/// The first eight bytes of a digest as a number that sorts as they do.
#[inline]
fn prefix(digest: &[u8; 20]) -> u64 {
    let mut first = [0_u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// `ctx.stack.stack`, the hashed ids of the memoized steps in the order they finished: read
/// into digests only when a race asks where a memo stands in it (most calls never do). Ids
/// that are not hashed ids are left out: no memo has them.
#[derive(Clone)]
pub(crate) enum Stack {
    /// Read already.
    Read(Vec<[u8; 20]>),
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
        Stack::Read(ids.iter().filter_map(|id| parse_hashed(id)).collect())
    }

    /// The digests, in the stack's order.
    pub(crate) fn digests(&self) -> Vec<[u8; 20]> {
        match self {
            Stack::Read(digests) => digests.clone(),
            // Without escapes, every other piece between quotes is a string.
            Stack::Text(text) => text
                .split(|b| *b == b'"')
                .skip(1)
                .step_by(2)
                .filter_map(inngest_protocol::step_id::parse_hashed_bytes)
                .collect(),
        }
    }
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex: Vec<String> = self
            .digests()
            .iter()
            .map(inngest_protocol::step_id::hex)
            .collect();
        hex.fmt(f)
    }
}
