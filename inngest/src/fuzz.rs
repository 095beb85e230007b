//! Entry points of the fuzz targets in `fuzz/`, compiled only with the `fuzzing` feature (and
//! in this crate's own tests, which share these invariants with the property tests). Not
//! public API: anything here may change in any release.
//!
//! Each function takes arbitrary bytes, runs one of the SDK's parsers of untrusted input on
//! them, and panics when an invariant breaks, so a fuzzer reports the input. None of them may
//! panic for any other reason.

use std::collections::HashMap;

use inngest_protocol::call::CallRequest;
use inngest_protocol::error::SerializedError;
use inngest_protocol::signature::{self, SignatureError};
use inngest_protocol::step_id::{hash, IdCounter};
use serde_json::Value;

use crate::error::StepError;
use crate::execution::memo::Memo;
use crate::execution::{CallState, Target};

/// The call-request parser of `POST ?fnId=` on an arbitrary body. It agrees with plain serde
/// on what is valid, except that it takes only a JSON object (serde also takes an array of
/// the fields); the values it reads print and parse back to themselves; what it accepts can be
/// turned into a call's state.
pub fn call_request(data: &[u8]) {
    // What the handler's fast reader takes, serde reads alike.
    if let Some(fast) = crate::serving::fast::read(&bytes::Bytes::copy_from_slice(data)) {
        let serde = crate::serving::call::parse_call_serde(data);
        assert_eq!(
            format!("{:?}", Some(&fast)),
            format!("{:?}", serde.as_ref().ok()),
            "the fast reader and serde disagree ({:?})",
            serde.as_ref().err()
        );
        // An event built from the fields the reader found is the one serde reads.
        for raw in std::iter::once(&fast.body.event).chain(&fast.body.events) {
            if let Some(event) = raw.read_event::<Value>() {
                let serde = raw.decode::<inngest_protocol::event::Event<Value>>().ok();
                assert_eq!(Some(event), serde, "an event read from its fields differs");
            }
        }
    }
    let ours = crate::serving::call::parse_request(data);
    let plain = serde_json::from_slice::<CallRequest>(data);
    let object = data
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .is_some_and(|b| *b == b'{');
    assert_eq!(
        ours.is_ok(),
        plain.is_ok() && object,
        "the handler's parser and serde disagree: {:?} vs {:?}",
        ours.as_ref().err(),
        plain.as_ref().err()
    );
    let Ok(request) = ours else { return };
    // Values survive printing and parsing again, bit for bit (floats included): a memo is
    // replayed as what the step returned.
    let values = std::iter::once(&request.event)
        .chain(&request.events)
        .chain(request.steps.values());
    for value in values {
        let again: Value =
            serde_json::from_str(&value.to_string()).expect("a value prints as JSON");
        assert_eq!(&again, value, "a value changed through print and parse");
    }
    let last_attempt = request
        .ctx
        .max_attempts
        .is_some_and(|max| request.ctx.attempt.saturating_add(1) >= max);
    let stack = request.ctx.stack.map(|s| s.stack).unwrap_or_default();
    let _ = CallState::new(
        request.steps,
        stack,
        Target::Discovery { immediate: true },
        last_attempt,
    );
}

/// Memo decoding on an arbitrary JSON value: an object whose only key is `data`, `error` or
/// `input` is unwrapped; anything else is kept whole as a raw value.
pub fn memo(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    check_memo(value);
}

/// The memo invariant for one value (see [`memo`]).
pub(crate) fn check_memo(value: Value) {
    let expected = match &value {
        Value::Object(map) if map.len() == 1 => {
            let (key, inner) = map.iter().next().expect("one entry");
            match key.as_str() {
                "data" => Memo::Data(inner.clone()),
                "error" => Memo::Error(inner.clone()),
                "input" => Memo::Input(inner.clone()),
                _ => Memo::Raw(value.clone()),
            }
        }
        _ => Memo::Raw(value.clone()),
    };
    let decoded = Memo::decode(value);
    assert_eq!(decoded.is_final(), !matches!(expected, Memo::Input(_)));
    assert_eq!(decoded, expected);
    // A memoized error never fails to become a `StepError`, whatever its shape.
    if let Memo::Error(e) = decoded {
        let step = StepError::from_memo(&e, "step");
        let _ = crate::Error::from(step).to_serialized();
    }
}

/// Step-id hashing over a run: the input is split on `\n` into the user ids the steps use,
/// in order.
pub fn step_ids(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_step_ids(text.split('\n'));
}

/// The step-id invariants for one run (see [`step_ids`]): the first use of an id is hashed as
/// `id`, later ones as `id:n` with `n` increasing; hashes are 40 lowercase hex digits; and no
/// two uses ever share a hash (an index whose hash is taken, say by a step literally named
/// `a:1`, is skipped, as the JS SDK does).
pub(crate) fn check_step_ids<'a>(ids: impl IntoIterator<Item = &'a str>) {
    let mut counter = IdCounter::default();
    let mut last: HashMap<&str, u32> = HashMap::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for user in ids {
        let id = counter.next(user);
        assert_eq!(id.user, user);
        if let Some(previous) = last.insert(user, id.index) {
            assert!(
                id.index > previous,
                "`{user}`: index {} after {previous}",
                id.index
            );
        }
        let expected = if id.index == 0 {
            hash(user)
        } else {
            hash(&format!("{user}:{}", id.index))
        };
        let hashed = id.hashed();
        assert_eq!(hashed, expected);
        assert_eq!(hashed.len(), 40);
        assert!(hashed
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        if let Some(other) = seen.insert(hashed.clone(), user.to_owned()) {
            panic!("`{user}` and `{other}` share the hash {hashed}");
        }
    }
}

/// The `X-Inngest-Signature` parser and checker on an arbitrary header value: only
/// `t=<i64>&s=<64 hex digits>` (any order, other keys ignored) is accepted, and no timestamp
/// overflows the window check.
pub fn signature_header(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let key = "signkey-test-0123456789abcdef";
    let parsed = signature::parse_header(&text);
    if let Ok(header) = &parsed {
        // Only 64 hex digits are taken as `s`.
        let s = url::form_urlencoded::parse(text.trim().as_bytes())
            .find(|(k, _)| k == "s")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        assert!(
            s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()),
            "accepted `s={s}`"
        );
        // What was accepted prints back in the canonical form, which parses the same.
        let hex: String = header.s.iter().map(|b| format!("{b:02x}")).collect();
        let canonical = format!("t={}&s={hex}", header.t);
        assert_eq!(signature::parse_header(&canonical).as_ref(), Ok(header));
    }
    for now in [0, header_t(&parsed), i64::MIN, i64::MAX] {
        match signature::verify(&[key], Some(&text), b"", now) {
            Ok(_) | Err(SignatureError::Expired | SignatureError::Mismatch) => {
                assert!(parsed.is_ok(), "verify accepted what parse_header refused");
            }
            Err(SignatureError::Malformed(_)) => assert!(parsed.is_err()),
            Err(SignatureError::Missing) => panic!("a header was given"),
            Err(other) => panic!("an unexpected refusal: {other}"),
        }
    }
}

fn header_t(parsed: &Result<signature::SignatureHeader, SignatureError>) -> i64 {
    parsed.as_ref().map_or(0, |h| h.t)
}

/// Error deserialization on an arbitrary body: a `SerializedError` that parses serializes back
/// to JSON that parses to the same error; any JSON value read as a memoized step error gives
/// a `StepError` that serializes.
pub fn serialized_error(data: &[u8]) {
    if let Ok(error) = serde_json::from_slice::<SerializedError>(data) {
        check_error_round_trip(&error);
    }
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        let step = StepError::from_memo(&value, "step");
        let wire = crate::Error::from(step).to_serialized();
        check_error_round_trip(&wire);
    }
}

/// `SerializedError` → JSON → `SerializedError` is the identity, and so is JSON → value →
/// JSON.
pub(crate) fn check_error_round_trip(error: &SerializedError) {
    let text = serde_json::to_string(error).expect("a SerializedError serializes");
    let back: SerializedError = serde_json::from_str(&text).expect("and parses back");
    assert_eq!(&back, error);
    let value = serde_json::to_value(error).expect("a SerializedError is a JSON value");
    let again: SerializedError = serde_json::from_value(value.clone()).expect("from a value");
    assert_eq!(&again, error);
    assert_eq!(serde_json::to_value(&again).expect("serializes"), value);
}
