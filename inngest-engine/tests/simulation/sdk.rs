//! A scripted fake SDK and helpers: each function is a closure from the call request to the
//! answer an SDK would give.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use inngest_engine::{
    BoxFuture, Call, CallResponse, Happening, RunStatus, RunView, Simulation, Transport,
    TransportError,
};
use inngest_protocol::call::CallRequest;
use inngest_protocol::register::RegisterRequest;
use inngest_protocol::step_id::hash;
use serde_json::{json, Value};

type Script = dyn Fn(&CallRequest, &str) -> CallResponse + Send + Sync;

/// One call the fake SDK answered: function, step, attempt, run.
pub type Seen = (String, String, u32, String);

/// A fake SDK: answers each function's calls with its script.
#[derive(Clone, Default)]
pub struct FakeSdk {
    scripts: Arc<Mutex<BTreeMap<String, Arc<Script>>>>,
    pub calls: Arc<Mutex<Vec<Seen>>>,
}

impl FakeSdk {
    pub fn function(
        &self,
        slug: &str,
        script: impl Fn(&CallRequest, &str) -> CallResponse + Send + Sync + 'static,
    ) {
        self.scripts
            .lock()
            .unwrap()
            .insert(slug.into(), Arc::new(script));
    }

    /// The calls made to `function`, in order.
    pub fn calls_of(&self, function: &str) -> Vec<Seen> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.0 == function)
            .cloned()
            .collect()
    }
}

impl Transport for FakeSdk {
    fn call(&self, call: &Call) -> BoxFuture<Result<CallResponse, TransportError>> {
        let request: CallRequest = serde_json::from_slice(&call.body).unwrap();
        self.calls.lock().unwrap().push((
            call.function_id.clone(),
            call.step_id.clone(),
            call.attempt,
            call.run_id.clone(),
        ));
        let script = self.scripts.lock().unwrap().get(&call.function_id).cloned();
        let answer = match script {
            Some(s) => Ok(s(&request, &call.step_id)),
            None => Err(TransportError::new("no such function")),
        };
        Box::pin(async move { answer })
    }
}

pub fn answer(status: u16, body: Value) -> CallResponse {
    let mut headers = BTreeMap::new();
    headers.insert("x-inngest-sdk".into(), "fake:v1".into());
    headers.insert("x-inngest-req-version".into(), "2".into());
    CallResponse {
        status,
        headers,
        body: Bytes::from(serde_json::to_vec(&body).unwrap()),
    }
}

pub fn no_retry(mut res: CallResponse) -> CallResponse {
    res.headers
        .insert("x-inngest-no-retry".into(), "true".into());
    res
}

/// A function that returns its first event's data at once.
pub fn echo(req: &CallRequest, _: &str) -> CallResponse {
    answer(200, req.event["data"].clone())
}

/// A function that sleeps `duration` once, then returns its first event's data.
pub fn sleeper(duration: &'static str) -> impl Fn(&CallRequest, &str) -> CallResponse {
    move |req, _| {
        let nap = hash("nap");
        if req.steps.contains_key(&nap) {
            answer(200, req.event["data"].clone())
        } else {
            answer(
                206,
                json!([{"id": nap, "op": "Sleep", "name": "nap", "opts": {"duration": duration}}]),
            )
        }
    }
}

pub fn app(functions: Value) -> RegisterRequest {
    serde_json::from_value(
        json!({"appName": "app", "url": "http://app/api", "functions": functions}),
    )
    .unwrap()
}

pub fn function(slug: &str, triggers: Value) -> Value {
    json!({"id": slug, "name": slug, "triggers": triggers, "steps": {"step": {
        "id": "step", "name": "step",
        "runtime": {"type": "http", "url": format!("http://app/api?fnId={slug}&stepId=step")},
        "retries": {"attempts": 2}
    }}})
}

/// A function triggered by `event` with `options` merged into its config.
pub fn with(slug: &str, event: &str, options: Value) -> Value {
    let mut f = function(slug, json!([{"event": event}]));
    if let (Some(f), Some(o)) = (f.as_object_mut(), options.as_object()) {
        for (k, v) in o {
            f.insert(k.clone(), v.clone());
        }
    }
    f
}

pub fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// A simulation with `functions` synced.
pub fn sim(functions: Value) -> Simulation {
    let mut sim = Simulation::new(Default::default(), start());
    sim.register(&app(functions)).unwrap();
    sim
}

pub fn ended(sim: &Simulation) -> Vec<(String, RunStatus, Value)> {
    sim.happenings()
        .iter()
        .filter_map(|h| match h {
            Happening::RunEnded {
                function_id,
                status,
                output,
                ..
            } => Some((function_id.clone(), *status, output.clone())),
            _ => None,
        })
        .collect()
}

/// Seconds since the start of the simulation.
pub fn secs(sim: &Simulation) -> u64 {
    sim.now().duration_since(start()).unwrap().as_secs()
}

/// The run an event started.
pub fn run_of(sim: &mut Simulation, event_id: &str) -> RunView {
    let runs = sim.core().runs_for_event(event_id);
    assert_eq!(runs.len(), 1, "one run for {event_id}: {runs:?}");
    runs.into_iter().next().unwrap()
}

/// The calls the core asks for now, without making them.
pub fn pending_calls(sim: &mut Simulation) -> Vec<Call> {
    sim.take_calls()
}

/// Answers `calls` through `sdk` (then the core may ask for more).
pub async fn answer_calls(sim: &mut Simulation, sdk: &FakeSdk, calls: Vec<Call>) {
    for call in calls {
        let answer = sdk.call(&call).await;
        sim.finish_call(call.id, answer);
    }
}

/// Sends one event and returns its internal id.
pub fn send(sim: &mut Simulation, event: Value) -> String {
    sim.send(vec![event]).unwrap().remove(0)
}
