//! Protocol tests: `serve()` on a loopback port, real HTTP requests, and the status, headers
//! and JSON of each answer checked field by field against protocol.md.
//!
//! One module a concern: `serving` (introspection, bad input, shutdown, the tower service),
//! `calls` (steps run, planned, replayed and targeted), `errors` (errors, retries and panics),
//! `failures` (failure handlers) and `sync` (PUT and the dev server).

mod calls;
mod errors;
mod failures;
mod serving;
#[path = "../support/mod.rs"]
mod support;
mod sync;

use serde_json::json;
use support::{CallBody, Served};

const APP: &str = "test-app";

async fn served() -> Served {
    Served::start(inngest::App::new(APP).dev("http://127.0.0.1:9")).await
}

fn signup(plan: &str) -> CallBody {
    CallBody::new("user/signup", json!({"user_id": "42", "plan": plan}))
}
