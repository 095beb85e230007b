//! Events: receiving them (`POST /e/{key}`, `POST /invoke/{slug}`) as the dev server's event
//! API does, and reading them back (`GET /v1/events`, `/v1/events/{id}`,
//! `/v1/events/{id}/runs`).

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use inngest_protocol::event::SendEventsResponse;
use inngest_protocol::time::{from_unix_millis, parse_rfc3339, rfc3339_millis, unix_millis};
use serde_json::{json, Value};

use super::reply::{data, error, json_response};
use super::Req;
use crate::core::{EventError, EventRecord, TraceContext};
use crate::shell::engine::{Engine, EngineError};

/// The header whose value seeds the ids of the events of a request (`millis,base64 of 10
/// bytes`), so that a retried request gets the same ids.
const EVENT_ID_SEED: &str = "x-inngest-event-id-seed";
/// At most this many events are listed at once (`GET /v1/events?limit=`), as the server.
const MAX_LISTED: usize = 51;
/// The default of `limit`.
const DEFAULT_LISTED: usize = 20;
/// The nil UUID: the dev server's account and environment ids are fixed.
pub(crate) const NIL_UUID: &str = "00000000-0000-0000-0000-000000000000";

/// `POST /e/{key}`: the events in order, each received as it is read; the first one refused
/// ends the request with 400 and the ids of those before it (which stay received). The answer
/// goes out before any call to an app (the calls are the driver's).
pub(crate) fn send(engine: &Engine, req: &Req<'_>, _key: &str) -> Response<Full<Bytes>> {
    let mut events = match serde_json::from_slice::<Value>(req.body) {
        Ok(Value::Array(events)) => events,
        Ok(one @ Value::Object(_)) => vec![one],
        Ok(_) => return refused(Vec::new(), EngineError::Event(EventError::NotEvents)),
        Err(e) => return refused(Vec::new(), format!("invalid JSON: {e}")),
    };
    if let Some(seed) = req.header(EVENT_ID_SEED).and_then(Seed::parse) {
        for (index, event) in events.iter_mut().enumerate() {
            // The server numbers the events of a request from 1.
            let id = seed.id(index as u32 + 1);
            if let Some(map) = event.as_object_mut() {
                let has_id = map
                    .get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| !id.is_empty());
                if !has_id {
                    map.insert("id".into(), Value::from(id));
                }
            }
        }
    }
    // The sender's trace context, passed on to the runs the events start.
    let trace = req.header("traceparent").map(|traceparent| TraceContext {
        traceparent: traceparent.to_owned(),
        tracestate: req.header("tracestate").map(str::to_owned),
    });
    // All at once when every event is valid; else one by one up to the bad one.
    let all = events.clone();
    match engine.send_traced(all, trace) {
        Ok(ids) => accepted(ids),
        Err(_) => {
            let mut ids = Vec::new();
            for event in events {
                match engine.send(vec![event]) {
                    Ok(mut one) => ids.append(&mut one),
                    Err(e) => {
                        let index = ids.len();
                        return refused(ids, renumber(e, index));
                    }
                }
            }
            accepted(ids)
        }
    }
}

/// An error about the one event sent alone, numbered as in the whole request.
fn renumber(e: EngineError, index: usize) -> String {
    match e {
        EngineError::Event(EventError::NotAnObject { .. }) => {
            EventError::NotAnObject { index }.to_string()
        }
        EngineError::Event(EventError::NoName { .. }) => EventError::NoName { index }.to_string(),
        other => other.to_string(),
    }
}

fn accepted(ids: Vec<String>) -> Response<Full<Bytes>> {
    json_response(
        StatusCode::OK,
        &SendEventsResponse {
            ids,
            status: 200,
            error: None,
        },
    )
}

fn refused(ids: Vec<String>, e: impl ToString) -> Response<Full<Bytes>> {
    json_response(
        StatusCode::BAD_REQUEST,
        &SendEventsResponse {
            ids,
            status: 400,
            error: Some(e.to_string()),
        },
    )
}

/// `POST /invoke/{slug}`: runs the function with an `inngest/function.invoked` event whose
/// data and user are the body's; answers `{"id": <event id>, "status": 200}`.
pub(crate) fn invoke(engine: &Engine, req: &Req<'_>, slug: &str) -> Response<Full<Bytes>> {
    let slug = url::form_urlencoded::parse(format!("s={slug}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if slug.is_empty() {
        return error(StatusCode::BAD_REQUEST, "Function slug is required");
    }
    let mut event = if req.body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice::<Value>(req.body) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return error(StatusCode::BAD_REQUEST, "Unable to read post data request"),
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("Unable to read post data request: {e}"),
                )
            }
        }
    };
    if let Some(seed) = req.header(EVENT_ID_SEED).and_then(Seed::parse) {
        if event
            .get("id")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            event["id"] = Value::from(seed.id(0));
        }
    }
    match engine.act(|core, now| core.invoke_function(&slug, event, now)) {
        Some(id) => json_response(StatusCode::OK, &json!({"id": id, "status": 200})),
        None => error(StatusCode::NOT_FOUND, format!("function not found: {slug}")),
    }
}

/// An event as the REST API shows it (the server's `cqrs.Event`).
pub(crate) fn event_json(record: &EventRecord) -> Value {
    let e = &record.event;
    let mut out = json!({
        "internal_id": record.id,
        "account_id": NIL_UUID,
        "environment_id": NIL_UUID,
        "source": "",
        "source_id": null,
        "received_at": rfc3339_millis(from_unix_millis(record.received_at)),
        "id": record.id,
        "name": record.name,
        "data": e.get("data").cloned().unwrap_or_else(|| json!({})),
    });
    if let Some(user) = e
        .get("user")
        .filter(|u| u.as_object().is_some_and(|m| !m.is_empty()))
    {
        out["user"] = user.clone();
    }
    if let Some(ts) = e.get("ts").filter(|t| t.as_u64().is_some_and(|t| t > 0)) {
        out["ts"] = ts.clone();
    }
    if let Some(v) = e.get("v").and_then(Value::as_str).filter(|v| !v.is_empty()) {
        out["v"] = Value::from(v);
    }
    out
}

/// `GET /v1/events`: newest first; `name`, `limit` (1..=51, default 20), `cursor` (the id of
/// the last event of the previous page), `received_after`, `received_before`.
pub(crate) fn list(engine: &Engine, req: &Req<'_>) -> Response<Full<Bytes>> {
    let limit = match req.param("limit").filter(|l| !l.is_empty()) {
        None => DEFAULT_LISTED,
        Some(l) => match l.parse::<i64>() {
            Ok(0) => DEFAULT_LISTED,
            Ok(n) => n.clamp(1, MAX_LISTED as i64) as usize,
            Err(_) => DEFAULT_LISTED,
        },
    };
    let time = |name: &str| -> Result<Option<u64>, Box<Response<Full<Bytes>>>> {
        match req.param(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => parse_rfc3339(&v)
                .map(|t| Some(unix_millis(t)))
                .ok_or_else(|| {
                    Box::new(error(
                        StatusCode::BAD_REQUEST,
                        format!("Invalid {name} query parameter"),
                    ))
                }),
        }
    };
    let (after, before) = match (time("received_after"), time("received_before")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return *e,
    };
    let name = req.param("name").filter(|n| !n.is_empty());
    let cursor = req.param("cursor").filter(|c| !c.is_empty());
    let events: Vec<Value> = engine.inspect(|core| {
        let mut events = core.events_newest_first();
        let mut listed = Vec::new();
        if let Some(cursor) = &cursor {
            // Skip up to and including the cursor.
            for e in events.by_ref() {
                if &e.id == cursor {
                    break;
                }
            }
        }
        for e in events {
            if name.as_ref().is_some_and(|n| *n != e.name)
                || after.is_some_and(|a| e.received_at < a)
                || before.is_some_and(|b| e.received_at > b)
            {
                continue;
            }
            listed.push(event_json(e));
            if listed.len() == limit {
                break;
            }
        }
        listed
    });
    data(&events)
}

/// `GET /v1/events/{id}`.
pub(crate) fn get(engine: &Engine, id: &str) -> Response<Full<Bytes>> {
    match engine.inspect(|core| core.event_record(id).map(event_json)) {
        Some(event) => data(&event),
        None => error(StatusCode::NOT_FOUND, "Event not found"),
    }
}

/// `GET /v1/events/{id}/runs`.
pub(crate) fn runs(engine: &Engine, id: &str) -> Response<Full<Bytes>> {
    data(&engine.runs_for_event(id))
}

/// An event id seed: `millis,base64(10 bytes of entropy)` (server `SeededIDFromString`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seed {
    millis: u64,
    entropy: [u8; 10],
}

impl Seed {
    /// The seed in a header value; `None` when it is not one (ids are then random).
    pub(crate) fn parse(value: &str) -> Option<Seed> {
        let (millis, entropy) = value.split_once(',')?;
        let millis: i64 = millis.trim().parse().ok()?;
        if millis <= 0 {
            return None;
        }
        let entropy: [u8; 10] = base64_decode(entropy.trim())?.try_into().ok()?;
        Some(Seed {
            millis: millis as u64,
            entropy,
        })
    }

    /// The id of the event at `index`: the seed's entropy with `index` added to its last four
    /// bytes (big-endian, wrapping), as a ULID at the seed's time.
    pub(crate) fn id(&self, index: u32) -> String {
        let mut entropy = self.entropy;
        let tail = u32::from_be_bytes([entropy[6], entropy[7], entropy[8], entropy[9]]);
        entropy[6..10].copy_from_slice(&tail.wrapping_add(index).to_be_bytes());
        let random = entropy
            .iter()
            .fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
        ulid::Ulid::from_parts(self.millis, random).to_string()
    }
}

/// Standard base64 with padding.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let text = text.as_bytes();
    if text.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for chunk in text.chunks(4) {
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = if i >= 4 - pad { 0 } else { value(*c)? };
            n = (n << 6) | v;
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_as_the_server() {
        // 10 bytes: 00 01 02 03 04 05 06 07 08 09.
        let seed = Seed::parse("1743130137367,AAECAwQFBgcICQ==").unwrap();
        assert_eq!(seed.entropy, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let a = seed.id(1);
        assert_eq!(a, seed.id(1), "the same seed and index give the same id");
        assert_ne!(a, seed.id(2));
        let ulid = ulid::Ulid::from_string(&a).unwrap();
        assert_eq!(ulid.timestamp_ms(), 1743130137367);
        // The index is added to the last four bytes.
        assert_eq!(ulid.random() & 0xffff_ffff, 0x0607_0809 + 1);
        assert_eq!(Seed::parse("0,AAECAwQFBgcICQ=="), None);
        assert_eq!(Seed::parse("12,AAECAw=="), None, "entropy must be 10 bytes");
        assert_eq!(Seed::parse("nonsense"), None);
    }
}
