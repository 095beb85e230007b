//! Memoized step results as the call request carries them (protocol.md section 2), decoded by
//! their exact key set: an object with only `data`, only `error` or only `input` is wrapped;
//! anything else (including `null`) is a raw value.

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

#[cfg(test)]
mod tests {
    use super::*;
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
