//! Property tests of the parsers that read untrusted input: call-request bodies, memos,
//! step ids, signature headers and serialized errors. They live inside the crate to reach the
//! crate-private items, and share their invariants with the fuzz targets (`crate::__fuzz`).

use std::collections::{BTreeMap, BTreeSet};

use proptest::collection::{btree_map, btree_set, vec};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use inngest_protocol::error::SerializedError;
use inngest_protocol::signature::{parse_header, sign, verify, SignatureError, SignatureHeader};
use inngest_protocol::step_id::{hash, IdCounter};

use crate::__fuzz;
use crate::execution::memo::{key_of, Memo};

/// Keys that hit the call request's fields, and some that do not.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "event",
            "events",
            "steps",
            "version",
            "use_api",
            "ctx",
            "run_id",
            "attempt",
            "max_attempts",
            "stack",
            "current",
            "step_id",
            "disable_immediate_execution",
            "data",
            "error",
            "input",
            "name",
            "message",
            "cause",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{0,6}",
    ]
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map(key(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid call request, as the fields it was built from and its JSON.
#[derive(Debug, Clone)]
struct Generated {
    event: Value,
    events: Option<Vec<Value>>,
    steps: Option<BTreeMap<String, Value>>,
    version: Option<i64>,
    use_api: Option<bool>,
    run_id: String,
    fn_id: Option<String>,
    step_id: Option<String>,
    attempt: Option<u32>,
    max_attempts: Option<u32>,
    stack: Option<(Vec<String>, Option<i64>)>,
    disable_immediate_execution: Option<bool>,
}

impl Generated {
    /// The JSON, leaving out every optional field that is `None`.
    fn to_json(&self) -> Value {
        let mut ctx = Map::new();
        ctx.insert("run_id".into(), json!(self.run_id));
        let put = |map: &mut Map<String, Value>, k: &str, v: Option<Value>| {
            if let Some(v) = v {
                map.insert(k.to_owned(), v);
            }
        };
        put(&mut ctx, "fn_id", self.fn_id.as_ref().map(|v| json!(v)));
        put(&mut ctx, "step_id", self.step_id.as_ref().map(|v| json!(v)));
        put(&mut ctx, "attempt", self.attempt.map(|v| json!(v)));
        put(
            &mut ctx,
            "max_attempts",
            self.max_attempts.map(|v| json!(v)),
        );
        put(
            &mut ctx,
            "stack",
            self.stack
                .as_ref()
                .map(|(stack, current)| json!({"stack": stack, "current": current})),
        );
        put(
            &mut ctx,
            "disable_immediate_execution",
            self.disable_immediate_execution.map(|v| json!(v)),
        );
        let mut body = Map::new();
        body.insert("event".into(), self.event.clone());
        put(&mut body, "events", self.events.as_ref().map(|v| json!(v)));
        put(&mut body, "steps", self.steps.as_ref().map(|v| json!(v)));
        put(&mut body, "version", self.version.map(|v| json!(v)));
        put(&mut body, "use_api", self.use_api.map(|v| json!(v)));
        body.insert("ctx".into(), Value::Object(ctx));
        Value::Object(body)
    }
}

/// `value` made plain: strings and keys of ASCII letters, digits and `_`, short integers, and
/// floats that print without an exponent.
fn plain(value: Value) -> Value {
    let text = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<String>()
    };
    match value {
        Value::String(s) => Value::String(text(&s)),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::from(i % 1000),
            (None, Some(u)) => Value::from(u % 1000),
            (None, None) => Value::from(1.25),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(plain).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (text(&k), plain(v))).collect())
        }
        other => other,
    }
}

fn hashed_id() -> impl Strategy<Value = String> {
    prop_oneof!["[0-9a-f]{40}", "step", ".{0,8}"]
}

prop_compose! {
    fn generated()(
        event in json_value(),
        events in proptest::option::of(vec(json_value(), 0..3)),
        steps in proptest::option::of(btree_map(hashed_id(), json_value(), 0..4)),
        version in proptest::option::of(prop_oneof![Just(-1_i64), Just(1), Just(2), any::<i64>()]),
        use_api in proptest::option::of(any::<bool>()),
        run_id in ".{0,30}",
        fn_id in proptest::option::of(".{0,12}"),
        step_id in proptest::option::of(hashed_id()),
        attempt in proptest::option::of(any::<u32>()),
        max_attempts in proptest::option::of(any::<u32>()),
        stack in proptest::option::of((vec(hashed_id(), 0..4), proptest::option::of(any::<i64>()))),
        disable_immediate_execution in proptest::option::of(any::<bool>()),
    ) -> Generated {
        Generated {
            event, events, steps, version, use_api, run_id, fn_id, step_id, attempt,
            max_attempts, stack, disable_immediate_execution,
        }
    }
}

/// A serialized error with up to 5 nested causes.
fn serialized_error() -> impl Strategy<Value = SerializedError> {
    let leaf = (".{0,10}", ".{0,20}", proptest::option::of(".{0,20}")).prop_map(
        |(name, message, stack)| SerializedError {
            name,
            message,
            stack,
            cause: None,
            step_id: None,
        },
    );
    leaf.prop_recursive(5, 6, 1, |inner| {
        (".{0,10}", ".{0,20}", proptest::option::of(".{0,20}"), inner).prop_map(
            |(name, message, stack, cause)| SerializedError {
                name,
                message,
                stack,
                cause: Some(Box::new(cause)),
                step_id: None,
            },
        )
    })
}

fn depth(e: &SerializedError) -> usize {
    1 + e.cause.as_deref().map_or(0, depth)
}

fn hex(bytes: &[u8], upper: bool) -> String {
    bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    // ---- the call-request parser ----

    #[test]
    fn the_call_request_parser_never_panics_on_bytes(bytes in vec(any::<u8>(), 0..512)) {
        __fuzz::call_request(&bytes);
    }

    #[test]
    fn the_call_request_parser_never_panics_on_json(value in json_value()) {
        __fuzz::call_request(&serde_json::to_vec(&value).unwrap());
    }

    /// A valid request with one field replaced by any JSON value: parsed or refused with a
    /// message that names the field, never a panic; what the fast reader takes of it, serde
    /// reads alike (`__fuzz::call_request`).
    #[test]
    fn a_wrong_field_is_named_in_the_error(
        g in generated(),
        pointer in prop::sample::select(vec![
            "/event", "/events", "/steps", "/version", "/use_api", "/ctx", "/ctx/run_id",
            "/ctx/fn_id", "/ctx/step_id", "/ctx/attempt", "/ctx/max_attempts", "/ctx/stack",
            "/ctx/stack/stack", "/ctx/stack/current", "/ctx/disable_immediate_execution",
            "/ctx/use_api", "/ctx/env", "/ctx/qi_id", "/other", "/ctx/other",
        ]),
        replacement in json_value(),
    ) {
        let mut body = g.to_json();
        let (parent, field) = pointer.rsplit_once('/').unwrap();
        let parent = if parent.is_empty() { Some(&mut body) } else { body.pointer_mut(parent) };
        if let Some(Value::Object(map)) = parent {
            map.insert(field.to_owned(), replacement);
        }
        let bytes = serde_json::to_vec(&body).unwrap();
        __fuzz::call_request(&bytes);
        if let Err(message) = crate::serving::call::parse_request(&bytes) {
            let path = pointer.trim_start_matches('/').replace('/', ".");
            prop_assert!(message.starts_with(&path), "{} (replaced {})", message, pointer);
        }
    }

    #[test]
    fn valid_call_requests_round_trip(g in generated()) {
        let bytes = serde_json::to_vec(&g.to_json()).unwrap();
        let r = crate::serving::call::parse_request(&bytes).unwrap();
        prop_assert_eq!(&r.event, &g.event);
        prop_assert_eq!(&r.events, &g.events.clone().unwrap_or_default());
        let steps: BTreeMap<String, Value> = r.steps.into_iter().collect();
        prop_assert_eq!(steps, g.steps.clone().unwrap_or_default());
        prop_assert_eq!(r.version, g.version);
        prop_assert_eq!(r.use_api, g.use_api.unwrap_or(false));
        prop_assert_eq!(&r.ctx.run_id, &g.run_id);
        prop_assert_eq!(&r.ctx.fn_id, &g.fn_id);
        prop_assert_eq!(&r.ctx.step_id, &g.step_id);
        prop_assert_eq!(r.ctx.attempt, g.attempt.unwrap_or(0));
        prop_assert_eq!(r.ctx.max_attempts, g.max_attempts);
        prop_assert_eq!(
            r.ctx.stack.map(|s| (s.stack, s.current)),
            g.stack.clone()
        );
        prop_assert_eq!(
            r.ctx.disable_immediate_execution,
            g.disable_immediate_execution.unwrap_or(false)
        );
    }

    /// `null` where Go marshals a nil slice or map reads as empty.
    #[test]
    fn null_lists_read_as_empty(g in generated()) {
        let mut body = g.to_json();
        body["events"] = Value::Null;
        body["steps"] = Value::Null;
        body["ctx"]["stack"] = json!({"stack": null, "current": 0});
        let r = crate::serving::call::parse_request(&serde_json::to_vec(&body).unwrap()).unwrap();
        prop_assert!(r.events.is_empty());
        prop_assert!(r.steps.is_empty());
        prop_assert_eq!(r.ctx.stack.unwrap().stack, Vec::<String>::new());
    }

    // ---- memos ----

    #[test]
    fn memos_are_classified_by_their_exact_key_set(
        keys in btree_set(prop::sample::select(vec![
            "data", "error", "input", "Data", "ERROR", "inputs", "", "x", "name",
        ]), 0..4),
        values in vec(json_value(), 4),
    ) {
        let map: Map<String, Value> = keys
            .iter()
            .zip(values.iter().cloned())
            .map(|(k, v)| ((*k).to_owned(), v))
            .collect();
        let object = Value::Object(map);
        let only = |k: &str| keys.len() == 1 && keys.iter().any(|x| *x == k);
        let expected = if only("data") {
            Memo::Data(values[0].clone())
        } else if only("error") {
            Memo::Error(values[0].clone())
        } else if only("input") {
            Memo::Input(values[0].clone())
        } else {
            Memo::Raw(object.clone())
        };
        prop_assert_eq!(Memo::decode(object.clone()), expected);
        __fuzz::check_memo(object);
    }

    #[test]
    fn any_value_decodes_as_a_memo(value in json_value()) {
        __fuzz::check_memo(value);
    }

    /// A memo read straight from JSON (as the handler reads the call request's `steps`) is
    /// the memo decoded from the value read.
    #[test]
    fn memos_read_from_json_as_decoded(value in json_value()) {
        let text = serde_json::to_string(&value).unwrap();
        let read: Memo = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(read, Memo::decode(value));
    }

    /// The handler's parser reads what `parse_request` reads, memos classified.
    #[test]
    fn the_handlers_parser_agrees_with_parse_request(g in generated()) {
        let bytes = serde_json::to_vec(&g.to_json()).unwrap();
        let plain = crate::serving::call::parse_request(&bytes).unwrap();
        let memos = crate::serving::call::parse_call_memos(&bytes).unwrap();
        // Keys that are not 40 bytes long can never be claimed: the handler does not keep
        // them.
        let decoded: BTreeMap<String, Memo> = plain
            .steps
            .into_iter()
            .filter(|(k, _)| key_of(k.as_bytes()).is_some())
            .map(|(k, v)| (k, Memo::decode(v)))
            .collect();
        prop_assert_eq!(memos, decoded);
    }

    /// What the fast reader takes of a valid request, compact or pretty-printed, it reads as
    /// serde reads it (escaped strings and exponents it leaves to serde); a request made plain
    /// (no escapes, no exponents, short integers) it always takes.
    #[test]
    fn the_fast_reader_agrees_with_serde(g in generated(), pretty in any::<bool>()) {
        for (body, is_plain) in [(g.to_json(), false), (plain(g.to_json()), true)] {
            let bytes = if pretty { serde_json::to_vec_pretty(&body) } else { serde_json::to_vec(&body) };
            let bytes = bytes.unwrap();
            let serde = crate::serving::call::parse_call_serde(&bytes);
            prop_assert!(serde.is_ok());
            let fast = crate::serving::fast::read(&bytes::Bytes::from(bytes.clone()));
            prop_assert!(fast.is_some() || !is_plain, "{}", String::from_utf8_lossy(&bytes));
            if fast.is_some() {
                prop_assert_eq!(format!("{fast:?}"), format!("{:?}", serde.ok()));
            }
        }
    }

    /// An event whose fields the fast reader found is built from them exactly as serde reads
    /// it into `Event<Value>`, and it finds them in every event serde reads (when the body
    /// is plain): fields in any order, missing, repeated, null or of another type.
    #[test]
    fn events_are_built_from_their_fields_as_serde_reads_them(
        fields in vec((
            prop::sample::select(vec!["id", "name", "data", "user", "ts", "v", "other"]),
            prop_oneof![
                json_value(),
                "[a-z/é]{0,6}".prop_map(Value::String),
                any::<i64>().prop_map(|n| Value::from(n / 1000)),
                Just(Value::Null),
                Just(json!({})),
            ],
        ), 0..8),
        pretty in any::<bool>(),
    ) {
        let separator = if pretty { ",\n  " } else { "," };
        let text = fields
            .iter()
            .map(|(key, value)| format!("{key:?}: {value}"))
            .collect::<Vec<_>>()
            .join(separator);
        let body = format!(r#"{{"event":{{{text}}},"events":[{{{text}}}],"ctx":{{"run_id":"r"}}}}"#);
        let Some(read) = crate::serving::fast::read(&bytes::Bytes::from(body)) else {
            // Escapes or exponents: serde's to read.
            return Ok(());
        };
        for raw in std::iter::once(&read.body.event).chain(&read.body.events) {
            let serde = raw.decode::<inngest_protocol::event::Event<Value>>().ok();
            prop_assert_eq!(raw.read_event::<Value>(), serde, "{}", text);
        }
    }

    /// A query with nothing to decode is read as the form decoder reads it (which an
    /// escape in an unknown parameter makes the handler use): the same parameters, the same
    /// error for one given twice.
    #[test]
    fn plain_queries_read_as_the_form_decoder_reads_them(
        query in "((fnId|stepId|probe|x|)(=[a-z.=-]{0,4})?&{0,2}){0,5}",
    ) {
        let plain = crate::serving::call::CallQuery::parse(Some(&query));
        let escaped = format!("{query}&unknown=%41");
        let decoded = crate::serving::call::CallQuery::parse(Some(&escaped));
        prop_assert_eq!(format!("{plain:?}"), format!("{decoded:?}"));
    }

    // ---- step ids ----

    /// The n-th use of an id hashes `id:n`; distinct uses never collide (ids without `:`).
    #[test]
    fn repeated_step_ids_hash_with_their_index(
        names in btree_set("[a-z0-9 _-]{0,6}", 1..5),
        picks in vec(any::<prop::sample::Index>(), 0..40),
    ) {
        let names: Vec<String> = names.into_iter().collect();
        let run: Vec<&str> = picks.iter().map(|i| names[i.index(names.len())].as_str()).collect();
        __fuzz::check_step_ids(run.iter().copied());
        let mut counter = IdCounter::default();
        let hashes: BTreeSet<String> = run.iter().map(|id| counter.next(*id).hashed()).collect();
        prop_assert_eq!(hashes.len(), run.len(), "every use has its own hash");
    }

    /// A call's claims hand out the ids a plain counter would, whichever of them have memos
    /// (the first use of an id with a memo is handed out by taking the memo, without the
    /// counter), and each claim gets the memo of its own hashed id, once.
    #[test]
    fn claims_number_ids_as_the_counter_does_whatever_is_memoized(
        names in btree_set(prop_oneof!["[ab]{1,2}", "[ab]{1,2}:[0-3]"], 1..6),
        picks in vec(any::<prop::sample::Index>(), 0..30),
        memoized in vec(any::<bool>(), 30),
    ) {
        use crate::execution::{CallState, Target};
        let names: Vec<String> = names.into_iter().collect();
        let run: Vec<&str> = picks.iter().map(|i| names[i.index(names.len())].as_str()).collect();
        let mut counter = IdCounter::default();
        let expected: Vec<_> = run.iter().map(|id| counter.next(*id)).collect();
        // Memos for some of the uses' hashed ids, each holding its use's position.
        let steps: Vec<(String, Value)> = expected
            .iter()
            .enumerate()
            .filter(|(k, _)| memoized[*k])
            .map(|(k, id)| (id.hashed(), json!({ "data": k })))
            .collect();
        let mut state = CallState::new(steps, Vec::new(), Target::Discovery { immediate: true }, false);
        for (k, (user, want)) in run.iter().zip(&expected).enumerate() {
            let claim = state.claim(
                crate::execution::StepName::new(user),
                inngest_protocol::step_id::hashed_cached(user),
            );
            prop_assert_eq!(claim.id.index, want.index, "use {} of {:?}", k, user);
            prop_assert_eq!(claim.id.hashed_id, want.hashed_id, "use {} of {:?}", k, user);
            let memo = claim.memo.map(|m| match m {
                Memo::Data(v) => v,
                other => panic!("{other:?}"),
            });
            prop_assert_eq!(memo, memoized[k].then(|| json!(k)), "use {} of {:?}", k, user);
        }
    }

    /// Interleaving different ids differently gives each use the same hash, as long as no id
    /// is another's repeat (`a` and `a:1` share a hash, and which gets it first depends on
    /// the order, as in the official SDKs, which skip a hash already used).
    #[test]
    fn step_id_hashes_do_not_depend_on_other_ids(
        names in btree_set("[a-z0-9:._-]{0,6}", 1..5).prop_filter("no id is another's repeat", |names| {
            !names.iter().any(|n| {
                n.rsplit_once(':').is_some_and(|(base, index)| {
                    names.contains(base) && !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit())
                })
            })
        }),
        picks in vec(any::<prop::sample::Index>(), 0..40),
        seed in any::<u64>(),
    ) {
        let names: Vec<String> = names.into_iter().collect();
        let run: Vec<&str> = picks.iter().map(|i| names[i.index(names.len())].as_str()).collect();
        // Another interleaving: the same uses of each id, ids taken in a different order.
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut queues: Vec<Vec<&str>> = names
            .iter()
            .map(|n| run.iter().copied().filter(|r| r == n).collect())
            .collect();
        let mut other = Vec::new();
        while queues.iter().any(|q| !q.is_empty()) {
            let i = rng.usize(..queues.len());
            if !queues[i].is_empty() {
                other.push(queues[i].remove(0));
            }
        }
        let uses = |order: &[&str]| -> BTreeSet<(String, u32, String)> {
            let mut counter = IdCounter::default();
            order
                .iter()
                .map(|id| {
                    let s = counter.next(id.to_string());
                    let hashed = s.hashed();
                    (s.user, s.index, hashed)
                })
                .collect()
        };
        prop_assert_eq!(uses(&run), uses(&other));
        __fuzz::check_step_ids(other.iter().copied());
    }

    // ---- signature headers ----

    #[test]
    fn the_signature_header_parser_never_panics(text in ".{0,200}") {
        __fuzz::signature_header(text.as_bytes());
    }

    #[test]
    fn the_signature_header_parser_never_panics_on_near_misses(
        parts in vec(
            (
                prop::sample::select(vec!["t", "s", "x", "T", "", "t ", "s%20"]),
                prop_oneof!["[0-9a-fA-F]{0,70}", "-?[0-9]{0,22}", ".{0,10}"],
            ),
            0..4,
        ),
    ) {
        let header: Vec<String> = parts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        __fuzz::signature_header(header.join("&").as_bytes());
    }

    /// `t=<i64>&s=<64 hex>`, in any order, among other keys: accepted as exactly that.
    #[test]
    fn t_and_s_are_accepted_in_any_order_with_extra_keys(
        (t, s, header) in (
            any::<i64>(),
            any::<[u8; 32]>(),
            any::<bool>(),
            vec(("[a-z]{1,4}".prop_filter("not t or s", |k| k != "t" && k != "s"), "[a-zA-Z0-9]{0,8}"), 0..4),
        ).prop_flat_map(|(t, s, upper, extras)| {
            let mut parts: Vec<String> = extras.iter().map(|(k, v)| format!("{k}={v}")).collect();
            parts.push(format!("t={t}"));
            parts.push(format!("s={}", hex(&s, upper)));
            Just(parts).prop_shuffle().prop_map(move |p| (t, s, p.join("&")))
        })
    ) {
        prop_assert_eq!(parse_header(&header), Ok(SignatureHeader { t, s }));
    }

    #[test]
    fn an_s_that_is_not_64_hex_digits_is_refused(
        t in any::<i64>(),
        s in "[0-9a-zA-Z+/ -]{0,80}".prop_filter("not 64 hex digits", |s| {
            s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit())
        }),
    ) {
        let header = format!("t={t}&s={}", url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>());
        prop_assert!(matches!(parse_header(&header), Err(SignatureError::Malformed(_))), "{}", header);
    }

    #[test]
    fn a_t_that_is_not_an_i64_is_refused(
        t in "[0-9a-z. -]{0,25}".prop_filter("not an i64", |t| t.parse::<i64>().is_err()),
        s in any::<[u8; 32]>(),
    ) {
        let header = format!("t={}&s={}", url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>(), hex(&s, false));
        prop_assert!(matches!(parse_header(&header), Err(SignatureError::Malformed(_))), "{}", header);
    }

    #[test]
    fn a_missing_or_repeated_t_or_s_is_refused(
        t in any::<i64>(),
        s in any::<[u8; 32]>(),
        shape in 0..4_u8,
    ) {
        let (t, s) = (format!("t={t}"), format!("s={}", hex(&s, false)));
        let header = match shape {
            0 => t,
            1 => s,
            2 => format!("{t}&{s}&{t}"),
            _ => format!("{s}&{t}&{s}"),
        };
        prop_assert!(matches!(parse_header(&header), Err(SignatureError::Malformed(_))), "{}", header);
    }

    /// `verify` accepts what `sign` produced within ±300 s of its timestamp, and only then.
    #[test]
    fn verify_accepts_its_own_signatures_within_five_minutes(
        env in "[a-z]{1,8}",
        raw in "[0-9a-f]{2,64}",
        body in vec(any::<u8>(), 0..256),
        t in any::<i64>(),
        skew in -1_000_i64..=1_000,
    ) {
        let Some(now) = t.checked_add(skew) else { return Ok(()) };
        let key = format!("signkey-{env}-{raw}");
        let header = format!("t={t}&s={}", sign(&key, &body, t));
        let expected = if skew.abs() <= 300 { Ok(0) } else { Err(SignatureError::Expired) };
        prop_assert_eq!(verify(&[&key], Some(&header), &body, now), expected.clone());
        // The fallback key is tried second and reported as such.
        let other = format!("signkey-{env}-{raw}00");
        prop_assert_eq!(
            verify(&[&other, &key], Some(&header), &body, now),
            expected.map(|_| 1)
        );
        if skew.abs() <= 300 {
            prop_assert_eq!(verify(&[&other], Some(&header), &body, now), Err(SignatureError::Mismatch));
            let mut changed = body.clone();
            changed.push(b'!');
            prop_assert_eq!(verify(&[&key], Some(&header), &changed, now), Err(SignatureError::Mismatch));
        }
    }

    /// Any pair of timestamps: no overflow, and the window is exactly 300 s either way.
    #[test]
    fn the_window_holds_at_the_extremes(t in any::<i64>(), now in any::<i64>()) {
        let key = "signkey-test-0123456789abcdef";
        let header = format!("t={t}&s={}", sign(key, b"", t));
        let expected = if t.abs_diff(now) <= 300 { Ok(0) } else { Err(SignatureError::Expired) };
        prop_assert_eq!(verify(&[key], Some(&header), b"", now), expected);
    }

    // ---- serialized errors ----

    #[test]
    fn serialized_errors_round_trip(error in serialized_error()) {
        prop_assert!(depth(&error) <= 6);
        __fuzz::check_error_round_trip(&error);
        // Absent fields are left out, not `null`.
        let json = serde_json::to_value(&error).unwrap();
        prop_assert_eq!(json.get("stack").is_some(), error.stack.is_some());
        prop_assert_eq!(json.get("cause").is_some(), error.cause.is_some());
    }

    /// JSON in the wire form → `SerializedError` → the same JSON; unknown keys such as the
    /// JS SDK's `__serialized` are ignored.
    #[test]
    fn wire_json_round_trips_through_serialized_error(error in serialized_error(), extra in any::<bool>()) {
        let json = serde_json::to_value(&error).unwrap();
        let mut sent = json.clone();
        if extra {
            sent["__serialized"] = json!(true);
            sent["code"] = json!("unknown");
        }
        let parsed: SerializedError = serde_json::from_value(sent).unwrap();
        prop_assert_eq!(&parsed, &error);
        prop_assert_eq!(serde_json::to_value(&parsed).unwrap(), json);
    }

    #[test]
    fn error_deserialization_never_panics(value in json_value()) {
        __fuzz::serialized_error(&serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn error_deserialization_never_panics_on_bytes(bytes in vec(any::<u8>(), 0..256)) {
        __fuzz::serialized_error(&bytes);
    }
}

#[test]
fn the_hash_of_a_repeat_is_the_hash_of_id_colon_n() {
    let mut c = IdCounter::default();
    let ids: Vec<String> = (0..4).map(|_| c.next("x").hashed()).collect();
    assert_eq!(ids, [hash("x"), hash("x:1"), hash("x:2"), hash("x:3")]);
}

/// Regression (found by `valid_call_requests_round_trip`): without serde_json's
/// `float_roundtrip`, this memoized number parsed back one ULP off, so a replayed step saw a
/// different `f64` than the one it returned.
#[test]
fn floats_parse_back_exactly() {
    let x = 2.920_310_652_272_314e-55_f64;
    let text = serde_json::to_string(&json!({ "data": x })).unwrap();
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back["data"].as_f64(), Some(x));
}
