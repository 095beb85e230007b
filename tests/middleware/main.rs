//! Middleware end to end, in-process: each hook's place in the order across the calls of a
//! run (which hooks run on a replay of memoized steps, which only for new work), what each
//! `transform_*` and `wrap_*` hook can change, dependency injection through the context, a
//! panic and a failure in each hook answered as a function error, and the `tracing` side:
//! spans of calls and steps, and logs that are quiet on replay.

mod failures;
mod logs;
mod order;
#[path = "../support/mod.rs"]
mod support;
mod transforms;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use inngest::InngestService;
use serde_json::Value;
use tower::Service;

/// An answer to a call request, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub no_retry: Option<String>,
    pub body: Value,
}

/// Sends a call request for the function `fn_id` (composite id) to the service in-process.
pub async fn call(
    service: &mut InngestService,
    fn_id: &str,
    step_id: &str,
    body: &Value,
) -> Answer {
    let req = http::Request::post(format!("/api/inngest?fnId={fn_id}&stepId={step_id}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(serde_json::to_vec(body).unwrap())))
        .unwrap();
    let res = service.call(req).await.unwrap();
    let status = res.status().as_u16();
    let no_retry = res
        .headers()
        .get("x-inngest-no-retry")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    Answer {
        status,
        no_retry,
        body,
    }
}

/// The service of an app with these functions (dev mode, nothing listening at the dev
/// server's address: nothing here syncs or sends).
pub fn app(id: &str) -> inngest::App {
    inngest::App::new(id).dev("http://127.0.0.1:9")
}
