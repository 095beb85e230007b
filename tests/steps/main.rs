//! Protocol tests of every step kind: the op each reports, and how each resumes from its memo
//! (protocol.md sections 2, 3.2, 4 and 8).
//!
//! One module a kind of step, each with the functions it calls: `waits` (`sleep`,
//! `sleep_until`, `wait_for_event`), `invoke`, `events` (`send_event` and the event client),
//! `parallel` (branches planned together, races) and `run` (`step.run`'s memos and errors).

mod events;
mod invoke;
mod parallel;
mod run;
#[path = "../support/mod.rs"]
mod support;
mod toolkit;
mod waits;

use serde_json::Value;
use support::Served;

const APP: &str = "steps-app";

async fn served() -> Served {
    Served::start(inngest::App::new(APP).dev("http://127.0.0.1:9")).await
}

fn ops(r: &support::Reply) -> Vec<Value> {
    assert_eq!(r.status, 206, "{r:?}");
    r.json().as_array().unwrap().clone()
}
