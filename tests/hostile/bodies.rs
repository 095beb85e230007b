//! The bodies and signature headers the rows make.

use serde_json::{json, Value};

use crate::support::{hash, now, sign, CallBody};
use crate::table::{Body, Body::*, Sig};
use crate::{BODY_LIMIT, KEY};

pub fn valid_call() -> Value {
    CallBody::new("hostile/echo", json!({"qty": 3})).build()
}

pub fn with_bom() -> Vec<u8> {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend(serde_json::to_vec(&valid_call()).unwrap());
    bytes
}

pub fn trailing() -> Vec<u8> {
    let mut bytes = serde_json::to_vec(&valid_call()).unwrap();
    bytes.extend(b" {}");
    bytes
}

pub fn duplicate_ctx() -> Vec<u8> {
    let text = valid_call().to_string();
    let ctx = valid_call()["ctx"].to_string();
    format!("{},\"ctx\":{ctx}}}", &text[..text.len() - 1]).into_bytes()
}

pub fn fields_as_array() -> Vec<u8> {
    let call = valid_call();
    let fields = ["event", "events", "steps", "version", "use_api", "ctx"];
    serde_json::to_vec(&fields.map(|f| call[f].clone())).unwrap()
}

pub fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

pub fn deep_event() -> Vec<u8> {
    substitute(valid_call(), "/event/data", &nested(10_000))
}

pub fn deep_memo() -> Vec<u8> {
    memo_body("fetch", &nested(10_000))
}

pub fn deep_unclosed() -> Vec<u8> {
    substitute(valid_call(), "/event/data", &"[".repeat(10_000))
}

pub fn nested_100() -> Vec<u8> {
    substitute(valid_call(), "/event/data", &nested(100))
}

pub fn over_limit() -> Vec<u8> {
    let mut call = valid_call();
    call["event"]["data"]["pad"] = json!("x".repeat(BODY_LIMIT));
    serde_json::to_vec(&call).unwrap()
}

pub const S64: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

pub fn no_t() -> String {
    format!("s={S64}")
}
pub fn no_s() -> String {
    format!("t={}", now())
}
pub fn t_not_a_number() -> String {
    format!("t=soon&s={S64}")
}
pub fn t_float() -> String {
    format!("t={}.5&s={S64}", now())
}
pub fn t_min() -> String {
    format!("t={}&s={S64}", i64::MIN)
}
pub fn t_over() -> String {
    format!("t=9223372036854775808&s={S64}")
}
pub fn s_not_hex() -> String {
    format!("t={}&s={}", now(), "zz".repeat(32))
}
pub fn s_short() -> String {
    format!("t={}&s={}", now(), &S64[..62])
}
pub fn s_long() -> String {
    format!("t={}&s={S64}00", now())
}
pub fn s_signed_hex() -> String {
    format!("t={}&s={}", now(), "%2Bf".repeat(32))
}
pub fn t_twice() -> String {
    format!("t={0}&t={0}&s={S64}", now())
}
pub fn s_twice() -> String {
    format!("t={}&s={S64}&s={S64}", now())
}
pub fn ten_kb() -> String {
    format!("t={}&s={S64}&pad={}", now(), "a".repeat(10 * 1024))
}

/// The JSON `value` serialized, with the value at `pointer` replaced by the raw JSON `text`.
pub fn substitute(mut value: Value, pointer: &str, text: &str) -> Vec<u8> {
    const HOLE: &str = "@@hole@@";
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = if parent.is_empty() {
        &mut value
    } else {
        value.pointer_mut(parent).unwrap()
    };
    parent[key] = json!(HOLE);
    let serialized = value.to_string();
    assert_eq!(serialized.matches(HOLE).count(), 1);
    serialized
        .replace(&format!("\"{HOLE}\""), text)
        .into_bytes()
}

/// The valid call with `text` memoized for the step `user_id`, listed in the stack.
pub fn memo_body(user_id: &str, text: &str) -> Vec<u8> {
    let mut call = valid_call();
    let hashed = hash(user_id);
    call["steps"] = json!({ &hashed: null });
    call["ctx"]["stack"] = json!({"stack": [hashed], "current": 1});
    substitute(call, &format!("/steps/{hashed}"), text)
}

impl Body {
    pub fn bytes(self) -> Vec<u8> {
        match self {
            Valid => serde_json::to_vec(&valid_call()).unwrap(),
            Raw(bytes) => bytes.to_vec(),
            Set(pointer, text) => substitute(valid_call(), pointer, text),
            Without(pointer) => {
                let mut call = valid_call();
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                let parent = if parent.is_empty() {
                    &mut call
                } else {
                    call.pointer_mut(parent).unwrap()
                };
                parent.as_object_mut().unwrap().remove(key).unwrap();
                serde_json::to_vec(&call).unwrap()
            }
            Memo(user_id, text) => memo_body(user_id, text),
            Made(make) => make(),
        }
    }
}

impl Sig {
    pub fn header(self, body: &[u8]) -> Option<String> {
        match self {
            Sig::None => None,
            Sig::Text(text) => Some(text.to_owned()),
            Sig::Made(make) => Some(make()),
            Sig::Signed(key, skew) => Some(sign(key, body, now() + skew)),
            Sig::OtherBody => Some(sign(KEY, b"{}", now())),
        }
    }
}
