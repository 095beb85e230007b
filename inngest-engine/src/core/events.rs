//! Receiving an event: it resumes the waits and invokes it matches, cancels the runs whose
//! cancellation rules it matches, and starts the runs of the functions it triggers. Waits,
//! invokes and cancellation rules are pauses, indexed by the event name they listen for.

use std::collections::HashMap;

use inngest_protocol::event::{FUNCTION_INVOKED_EVENT, SCHEDULED_TIMER_EVENT};
use inngest_protocol::limits::{ABSOLUTE_MAX_EVENT_BYTES, INTERNAL_EVENT_PREFIX};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::tracked::TrackedMap;
use super::types::{EventError, Happening, RunStatus};
use super::Core;

/// What a pause resumes or does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum PauseKind {
    /// A `waitForEvent` step: resumes with the event.
    Wait {
        /// The hashed step id.
        step: String,
    },
    /// An `invoke` step: resumes with the invoked run's result.
    Invoke {
        /// The hashed step id.
        step: String,
        /// The correlation id the finished event must carry.
        correlation: String,
    },
    /// A cancellation rule: cancels the run.
    Cancel,
}

/// A run listening for an event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Pause {
    pub run_id: String,
    /// The event name it listens for.
    pub event: String,
    /// A CEL expression over `event` (the run's) and `async` (the incoming one).
    pub expression: Option<String>,
    pub kind: PauseKind,
}

/// The pauses, by id (stored) and by event name (an index, rebuilt at restore).
#[derive(Debug, Default)]
pub(crate) struct Pauses {
    pub(super) next: u64,
    pub(super) by_id: TrackedMap<u64, Pause>,
    by_event: HashMap<String, Vec<u64>>,
}

impl Pauses {
    pub(crate) fn add(
        &mut self,
        run_id: &str,
        event: String,
        expression: Option<String>,
        kind: PauseKind,
    ) -> u64 {
        self.next += 1;
        let id = self.next;
        self.by_event.entry(event.clone()).or_default().push(id);
        self.by_id.insert(
            id,
            Pause {
                run_id: run_id.to_owned(),
                event,
                expression,
                kind,
            },
        );
        id
    }

    pub(crate) fn remove(&mut self, id: u64) {
        let Some(pause) = self.by_id.remove(&id) else {
            return;
        };
        if let Some(ids) = self.by_event.get_mut(&pause.event) {
            ids.retain(|p| *p != id);
            if ids.is_empty() {
                self.by_event.remove(&pause.event);
            }
        }
    }

    /// The step a wait or invoke pause resumes.
    pub(crate) fn step_of(&self, id: u64) -> Option<&str> {
        match &self.by_id.get(&id)?.kind {
            PauseKind::Wait { step } | PauseKind::Invoke { step, .. } => Some(step),
            PauseKind::Cancel => None,
        }
    }

    /// The pauses listening for `event`, oldest first.
    fn listening(&self, event: &str) -> Vec<(u64, Pause)> {
        self.by_event
            .get(event)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| Some((*id, self.by_id.get(id)?.clone())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many pauses there are.
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// The pauses of `by_id` (restored), with their index by event name rebuilt; ids go on
    /// after `next`.
    pub(crate) fn rebuild(by_id: TrackedMap<u64, Pause>, next: u64) -> Pauses {
        let mut ids: Vec<(&u64, &Pause)> = by_id.iter().collect();
        ids.sort_by_key(|(id, _)| **id);
        let mut by_event: HashMap<String, Vec<u64>> = HashMap::new();
        for (id, pause) in &ids {
            by_event.entry(pause.event.clone()).or_default().push(**id);
        }
        let next = ids.last().map_or(next, |(id, _)| next.max(**id));
        Pauses {
            next,
            by_id,
            by_event,
        }
    }
}

/// The earliest `ts` the server accepts (1980-01-01, ms since the epoch).
const MIN_TS: u64 = 315_532_800_000;
/// The latest `ts` the server accepts (2100-01-01).
const MAX_TS: u64 = 4_102_444_800_000;

/// Checks an event sent from outside as the server's event API does (`NormalizeInbound`,
/// `Event.Validate`), and strips what only Inngest may set (`data._inngest`).
pub(crate) fn check_inbound(index: usize, event: &mut Value) -> Result<(), EventError> {
    check_event(index, event, true)
}

/// [`check_inbound`], or, with `from_outside` false, the checks of an event Inngest itself
/// could send (a test standing in for it): its own `inngest/` names and `data._inngest`
/// allowed.
pub(crate) fn check_event(
    index: usize,
    event: &mut Value,
    from_outside: bool,
) -> Result<(), EventError> {
    let size = super::limits::json_size(event);
    if size > ABSOLUTE_MAX_EVENT_BYTES {
        return Err(EventError::TooLarge { index, size });
    }
    let Value::Object(map) = event else {
        return Err(EventError::NotAnObject { index });
    };
    let name = map.get("name").and_then(Value::as_str).unwrap_or_default();
    if from_outside && name.to_ascii_lowercase().starts_with(INTERNAL_EVENT_PREFIX) {
        return Err(EventError::Reserved {
            index,
            name: name.to_owned(),
        });
    }
    if name.is_empty() {
        return Err(EventError::NoName { index });
    }
    if let (true, Some(Value::Object(data))) = (from_outside, map.get_mut("data")) {
        data.remove("_inngest");
    }
    match map.get("ts").and_then(Value::as_f64) {
        Some(ts) if ts != 0.0 && ts < MIN_TS as f64 => Err(EventError::TsBefore1980 { index }),
        Some(ts) if ts > MAX_TS as f64 => Err(EventError::TsAfter2100 { index }),
        _ => Ok(()),
    }
}

impl Core {
    /// Receives one event (already checked): it gets an internal id (its `id`, when it has
    /// none), resumes what it matches and starts the runs it triggers. Returns the internal
    /// id.
    pub(crate) fn receive(&mut self, event: Value) -> String {
        let internal = self.new_id();
        self.receive_as(event, internal)
    }

    /// Receives one event under the internal id `internal`.
    pub(crate) fn receive_as(&mut self, mut event: Value, internal: String) -> String {
        let now = self.now;
        if let Some(map) = event.as_object_mut() {
            if map
                .get("id")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                map.insert("id".into(), Value::from(internal.clone()));
            }
            if map.get("ts").and_then(Value::as_u64).unwrap_or(0) == 0 {
                map.insert("ts".into(), Value::from(now));
            }
            map.entry("user").or_insert_with(|| json!({}));
            match map.get("data") {
                Some(Value::Object(_)) => {}
                _ => {
                    map.insert("data".into(), json!({}));
                }
            }
        }
        let name = event["name"].as_str().unwrap_or_default().to_owned();
        self.event_log
            .record(&event, now, self.config.max_finished_runs);
        self.tell(Happening::Event {
            id: internal.clone(),
            name: name.clone(),
        });
        self.match_pauses(&name, &event);
        self.trigger(&name, &event, &internal);
        internal
    }

    /// Resumes the waits and invokes `event` matches and cancels the runs it cancels.
    fn match_pauses(&mut self, name: &str, event: &Value) {
        for (id, pause) in self.pauses.listening(name) {
            let Some(run) = self.runs.get(&pause.run_id) else {
                continue;
            };
            if !run.status.is_active() {
                continue;
            }
            let matches = match &pause.kind {
                PauseKind::Invoke { correlation, .. } => {
                    event["data"]["correlation_id"].as_str() == Some(correlation.as_str())
                }
                PauseKind::Wait { .. } | PauseKind::Cancel => {
                    let run_event = run.event.clone();
                    pause
                        .expression
                        .as_deref()
                        .is_none_or(|x| self.expressions.holds_or_false(x, &run_event, Some(event)))
                }
            };
            if !matches {
                continue;
            }
            match pause.kind {
                PauseKind::Wait { step } => {
                    self.pauses.remove(id);
                    self.resume(&pause.run_id, &step, event.clone());
                }
                PauseKind::Invoke { step, .. } => {
                    self.pauses.remove(id);
                    self.resume(&pause.run_id, &step, invoke_memo(event));
                }
                PauseKind::Cancel => {
                    self.finish(&pause.run_id, RunStatus::Cancelled, Value::Null);
                }
            }
        }
    }

    /// Starts the runs `event` triggers: each function once, by a trigger whose name
    /// matches (wildcards included) and whose expression holds.
    fn trigger(&mut self, name: &str, event: &Value, internal: &str) {
        if name == SCHEDULED_TIMER_EVENT {
            return; // cron runs are started by their schedules
        }
        let targets: Vec<String> = if name == FUNCTION_INVOKED_EVENT {
            let fn_id = event["data"]["_inngest"]["fn_id"]
                .as_str()
                .unwrap_or_default();
            if self.registry.functions.contains_key(fn_id) {
                vec![fn_id.to_owned()]
            } else {
                // The server fails the invoker at once (`InvokeFailHandler`).
                let message = format!("could not find function with ID: {fn_id}");
                self.invoke_failed(event, &message);
                Vec::new()
            }
        } else {
            let patterns = matching_patterns(name);
            let candidates: Vec<(String, Option<String>)> = self
                .registry
                .functions
                .values()
                .flat_map(|f| {
                    f.events
                        .iter()
                        .filter(|(n, _)| patterns.iter().any(|p| p == n))
                        .map(|(_, x)| (f.config.id.clone(), x.clone()))
                })
                .collect();
            let mut targets: Vec<String> = Vec::new();
            for (function, expression) in candidates {
                if targets.contains(&function) {
                    continue;
                }
                let holds = expression
                    .as_deref()
                    .is_none_or(|x| self.expressions.holds_or_false(x, event, None));
                if holds {
                    targets.push(function);
                }
            }
            targets
        };
        for function in targets {
            self.initialize(&function, event, internal);
        }
    }
}

/// The internal id an event-id seed gives the event at `position` of a request (header
/// `X-Inngest-Event-Id-Seed: <unix ms>,<base64 of 10 bytes>`, server `SeededIDFromString`):
/// a client that sends the same request again gets the same ids, so its events are not
/// received twice.
pub(crate) fn seeded_id(seed: &str, position: usize) -> Option<String> {
    use base64::Engine;
    let (ms, entropy) = seed.split_once(',')?;
    let ms: u64 = ms.trim().parse().ok().filter(|ms| *ms > 0)?;
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(entropy.trim())
        .ok()?;
    if bytes.len() != 10 {
        return None;
    }
    // The server adds the event's index (from 1) to the last four bytes.
    let index = u32::try_from(position + 1).ok()?;
    let tail = u32::from_be_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]).wrapping_add(index);
    bytes[6..10].copy_from_slice(&tail.to_be_bytes());
    let random = bytes
        .iter()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
    Some(ulid::Ulid::from_parts(ms, random).to_string())
}

/// The trigger names an event name matches (server `GenerateMatchingPatterns`): itself, then
/// `a/*` for each `/` and `a.*` for each `.`.
pub(crate) fn matching_patterns(name: &str) -> Vec<String> {
    let mut patterns = vec![name.to_owned()];
    for (i, c) in name.char_indices() {
        if c == '/' {
            patterns.push(format!("{}/*", &name[..i]));
        }
    }
    for (i, c) in name.char_indices() {
        if c == '.' {
            patterns.push(format!("{}.*", &name[..i]));
        }
    }
    patterns
}

/// What an invoke resumes with (server `GetResumeData`): `{"error"}` when the invoked run
/// failed, `{"data": result}` when it completed, else (cancelled) the finished event's data.
fn invoke_memo(finished: &Value) -> Value {
    let data = &finished["data"];
    match (data.get("error"), data.get("result")) {
        (Some(error), _) if !error.is_null() => json!({ "error": error }),
        (_, Some(result)) => json!({ "data": result }),
        _ => data.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::matching_patterns;

    #[test]
    fn seeded_ids_are_the_same_for_the_same_request() {
        let seed = "1743130137367,eii2YKXRVTJPuA==";
        let first = super::seeded_id(seed, 0).unwrap();
        assert_eq!(Some(first.clone()), super::seeded_id(seed, 0));
        assert_ne!(Some(first.clone()), super::seeded_id(seed, 1));
        assert_eq!(first.len(), 26);
        assert_eq!(super::seeded_id("nope", 0), None);
        assert_eq!(super::seeded_id("1,AAAA", 0), None);
    }

    #[test]
    fn wildcards_as_the_server_generates_them() {
        assert_eq!(
            matching_patterns("app/user.created"),
            ["app/user.created", "app/*", "app/user.*"]
        );
        assert_eq!(
            matching_patterns("api/v1/users"),
            ["api/v1/users", "api/*", "api/v1/*"]
        );
        assert_eq!(matching_patterns("simple"), ["simple"]);
    }
}
