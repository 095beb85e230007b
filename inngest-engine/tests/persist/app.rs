//! A small app served over HTTP that speaks the SDK protocol (request version 2), with
//! functions made of steps, sleeps and waits, and that counts how many times each step of
//! each run is executed.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use inngest_protocol::call::CallRequest;
use inngest_protocol::step_id::hash;
use serde_json::{json, Value};

/// One piece of a function.
#[derive(Clone, Copy)]
pub enum Piece {
    /// A step that runs in the app.
    Run(&'static str),
    /// A step that fails on its first attempt, then runs.
    FailOnce(&'static str),
    /// A step that runs once the gate opens (it is in flight until then; counted when it
    /// starts).
    Gated(&'static str),
    /// `step.sleep(name, duration)`.
    Sleep(&'static str, &'static str),
    /// `step.waitForEvent(name, {event, timeout, if})`.
    Wait(&'static str, &'static str, &'static str),
}

/// What the app saw.
#[derive(Default)]
pub struct Seen {
    /// How many times each step of each run was executed (run id, step) (a failed
    /// attempt counts).
    pub executed: BTreeMap<(String, String), u32>,
    /// The runs of each function, in the order they were first called.
    pub runs: BTreeMap<String, Vec<String>>,
    /// The scheduled time of each cron run, by run id.
    pub ticks: BTreeMap<String, String>,
}

/// The app.
#[derive(Clone, Default)]
pub struct App {
    functions: Arc<BTreeMap<&'static str, Vec<Piece>>>,
    pub seen: Arc<Mutex<Seen>>,
    gate: Arc<AtomicBool>,
    opened: Arc<tokio::sync::Notify>,
}

impl App {
    pub fn new(functions: BTreeMap<&'static str, Vec<Piece>>) -> App {
        App {
            functions: Arc::new(functions),
            ..App::default()
        }
    }

    /// Lets the gated steps finish.
    pub fn open_gate(&self) {
        self.gate.store(true, Ordering::SeqCst);
        self.opened.notify_waiters();
    }

    /// How many times `step` of `run` was executed.
    pub fn executed(&self, run: &str, step: &str) -> u32 {
        let seen = self.seen.lock().unwrap();
        seen.executed
            .get(&(run.to_owned(), step.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// The runs of `function` the app has been called for.
    pub fn runs(&self, function: &str) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.runs.get(function).cloned().unwrap_or_default()
    }

    /// Serves the app on `listener` until the test ends.
    pub fn serve(&self, listener: tokio::net::TcpListener) {
        let app = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let app = app.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                            let app = app.clone();
                            async move { Ok::<_, Infallible>(app.handle(req).await) }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    }

    async fn handle(&self, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let function = req
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .find_map(|kv| kv.strip_prefix("fnId="))
            .unwrap_or_default()
            .to_owned();
        let body = req.into_body().collect().await.unwrap().to_bytes();
        let call: CallRequest = serde_json::from_slice(&body).unwrap();
        let run = call.ctx.run_id.clone();
        {
            let mut seen = self.seen.lock().unwrap();
            let runs = seen.runs.entry(function.clone()).or_default();
            if !runs.contains(&run) {
                runs.push(run.clone());
            }
            if let Some(at) = call.event["data"]["scheduledAt"].as_str() {
                seen.ticks.insert(run.clone(), at.to_owned());
            }
        }
        let pieces = self
            .functions
            .get(function.as_str())
            .cloned()
            .unwrap_or_default();
        for piece in pieces {
            let name = match piece {
                Piece::Run(n) | Piece::FailOnce(n) | Piece::Gated(n) => n,
                Piece::Sleep(n, _) | Piece::Wait(n, _, _) => n,
            };
            let id = hash(name);
            if call.steps.contains_key(&id) {
                continue;
            }
            let op = match piece {
                Piece::Run(_) | Piece::FailOnce(_) | Piece::Gated(_) => {
                    if matches!(piece, Piece::Gated(_)) {
                        // Counted when it starts: a call the engine made again after a
                        // restart counts, even if the first one never finished.
                        *self
                            .seen
                            .lock()
                            .unwrap()
                            .executed
                            .entry((run.clone(), name.to_owned()))
                            .or_default() += 1;
                        while !self.gate.load(Ordering::SeqCst) {
                            let opened = self.opened.notified();
                            if self.gate.load(Ordering::SeqCst) {
                                break;
                            }
                            opened.await;
                        }
                    }
                    let attempt = if matches!(piece, Piece::Gated(_)) {
                        0
                    } else {
                        let mut seen = self.seen.lock().unwrap();
                        let n = seen
                            .executed
                            .entry((run.clone(), name.to_owned()))
                            .or_default();
                        *n += 1;
                        *n
                    };
                    if matches!(piece, Piece::FailOnce(_)) && attempt == 1 {
                        json!({"id": id, "op": "StepError", "name": name,
                               "error": {"name": "Error", "message": "the first attempt fails"}})
                    } else {
                        json!({"id": id, "op": "StepRun", "name": name, "data": {"step": name}})
                    }
                }
                Piece::Sleep(_, duration) => {
                    json!({"id": id, "op": "Sleep", "name": name, "opts": {"duration": duration}})
                }
                Piece::Wait(_, event, expression) => json!({"id": id, "op": "WaitForEvent",
                    "name": name, "opts": {"event": event, "timeout": "1h", "if": expression}}),
            };
            return answer(206, json!([op]));
        }
        let waited = self
            .functions
            .get(function.as_str())
            .and_then(|p| {
                p.iter().find_map(|p| match p {
                    Piece::Wait(n, _, _) => Some(hash(n)),
                    _ => None,
                })
            })
            .and_then(|id| call.steps.get(&id).cloned());
        answer(200, json!({"done": function, "waited": waited}))
    }
}

fn answer(status: u16, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-inngest-sdk", "persist-test:v1")
        .header("x-inngest-req-version", "2")
        .body(Full::new(Bytes::from(serde_json::to_vec(&body).unwrap())))
        .unwrap()
}

/// The sync request of the app's functions, served at `url`.
pub fn register(url: &str, functions: &[(&str, Value, Value)]) -> Value {
    let functions: Vec<Value> = functions
        .iter()
        .map(|(slug, triggers, options)| {
            let mut f = json!({"id": slug, "name": slug, "triggers": triggers, "steps": {"step": {
                "id": "step", "name": "step",
                "runtime": {"type": "http", "url": format!("{url}?fnId={slug}&stepId=step")},
                "retries": {"attempts": 3}
            }}});
            if let (Some(f), Some(o)) = (f.as_object_mut(), options.as_object()) {
                for (k, v) in o {
                    f.insert(k.clone(), v.clone());
                }
            }
            f
        })
        .collect();
    json!({"appName": "persist-app", "url": url, "framework": "test", "sdk": "persist-test:v1",
           "v": "0.1", "deployType": "ping", "functions": functions})
}
