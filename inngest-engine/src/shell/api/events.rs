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

/// At most this many events are listed at once (`GET /v1/events?limit=`), as the server.
const MAX_LISTED: usize = 51;
/// The default of `limit`.
const DEFAULT_LISTED: usize = 20;
/// The nil UUID: the dev server's account and environment ids are fixed.
pub(crate) const NIL_UUID: &str = "00000000-0000-0000-0000-000000000000";

/// `POST /e/{key}`: the events in order, each received as it is read; the first one refused
/// ends the request with 400 and the ids of those before it (which stay received). The
/// `x-inngest-event-id-seed` header seeds the internal ids, so a request sent again gets the
/// same ids and starts nothing twice. The answer goes out before any call to an app (the
/// calls are the driver's).
pub(crate) fn send(engine: &Engine, req: &Req<'_>, _key: &str) -> Response<Full<Bytes>> {
    let events = match serde_json::from_slice::<Value>(req.body) {
        Ok(Value::Array(events)) => events,
        Ok(one @ Value::Object(_)) => vec![one],
        Ok(_) => return refused(Vec::new(), EngineError::Event(EventError::NotEvents)),
        Err(e) => return refused(Vec::new(), format!("invalid JSON: {e}")),
    };
    let seed = req.header(inngest_protocol::headers::X_INNGEST_EVENT_ID_SEED);
    // The sender's trace context, passed on to the runs the events start.
    let trace = req.header("traceparent").map(|traceparent| TraceContext {
        traceparent: traceparent.to_owned(),
        tracestate: req.header("tracestate").map(str::to_owned),
    });
    let sent = engine.send_seeded(events, seed, trace);
    if let Some(failure) = engine.store_failure() {
        // Not stored, so not acknowledged.
        return json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &SendEventsResponse {
                ids: Vec::new(),
                status: 500,
                error: Some(failure),
            },
        );
    }
    match sent {
        (ids, None) => accepted(ids),
        (ids, Some(e)) => refused(ids, EngineError::Event(e)),
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
    let seeded = req
        .header(inngest_protocol::headers::X_INNGEST_EVENT_ID_SEED)
        .and_then(|seed| crate::core::seeded_id(seed, 0));
    if let Some(id) = seeded {
        if event
            .get("id")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            event["id"] = Value::from(id);
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
