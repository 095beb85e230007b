//! Runs: `GET|DELETE /v1/runs/{id}`, `GET /v1/runs/{id}/jobs`, bulk cancellations (`POST
//! /v1/cancellations`), and the core API that SDKs call when a call request carries
//! `use_api` (`GET /v0/runs/{id}/actions`, `/v0/runs/{id}/batch`).

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use inngest_protocol::time::{parse_rfc3339, rfc3339_millis};
use serde::Deserialize;
use serde_json::{json, Value};

use super::events::NIL_UUID;
use super::reply::{data, error, json_response, with_type};
use super::Req;
use crate::shell::engine::Engine;

/// `GET /v1/runs/{id}`.
pub(crate) fn get(engine: &Engine, id: &str) -> Response<Full<Bytes>> {
    match engine.run(id) {
        Some(run) => data(&run),
        None => error(
            StatusCode::NOT_FOUND,
            format!("Unable to load function run: {id}"),
        ),
    }
}

/// `DELETE /v1/runs/{id}`.
pub(crate) fn cancel(engine: &Engine, id: &str) -> Response<Full<Bytes>> {
    if engine.cancel(id) {
        json_response(
            StatusCode::OK,
            &json!({"data": {"run_id": id, "status": "Cancelled"}}),
        )
    } else {
        error(
            StatusCode::NOT_FOUND,
            format!("Unable to load function run: {id}"),
        )
    }
}

/// `DELETE /v0/runs/{id}`: 204 once cancelled.
pub(crate) fn cancel_v0(engine: &Engine, id: &str) -> Response<Full<Bytes>> {
    if engine.cancel(id) {
        with_type(StatusCode::NO_CONTENT, "application/json", Bytes::new())
    } else {
        error(StatusCode::NOT_FOUND, "Function run not found")
    }
}

/// `GET /v1/runs/{id}/jobs`: what the run waits for in the queue (calls, retries, sleeps,
/// timeouts), soonest first, with their position.
pub(crate) fn jobs(engine: &Engine, id: &str) -> Response<Full<Bytes>> {
    let jobs = engine.inspect(|core| {
        core.run_info(id)?;
        Some(
            core.run_jobs(id)
                .into_iter()
                .enumerate()
                .map(|(position, job)| {
                    json!({
                        "JobID": format!("{id}:{}:{}", job.step_id, job.attempt),
                        "at": rfc3339_millis(job.at),
                        "position": position,
                        "kind": job.kind,
                        "attempt": job.attempt,
                        "Raw": null,
                    })
                })
                .collect::<Vec<Value>>(),
        )
    });
    match jobs {
        Some(jobs) => data(&jobs),
        None => error(
            StatusCode::NOT_FOUND,
            format!("Unable to load function run: {id}"),
        ),
    }
}

/// The body of `POST /v1/cancellations`.
#[derive(Debug, Deserialize)]
struct CancellationBody {
    #[serde(default)]
    app_id: String,
    #[serde(default)]
    function_id: String,
    #[serde(default)]
    started_after: Option<String>,
    #[serde(default)]
    started_before: Option<String>,
    #[serde(default, rename = "if")]
    if_expression: Option<String>,
}

/// `POST /v1/cancellations`: cancels the running runs of a function started in a window
/// (and matching `if`). `function_id` is the function's slug, or its id within `app_id`.
pub(crate) fn cancellation(engine: &Engine, req: &Req<'_>) -> Response<Full<Bytes>> {
    let body: CancellationBody = match serde_json::from_slice(req.body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("Invalid cancellation request: {e}"),
            )
        }
    };
    let now = std::time::SystemTime::now();
    let mut problems = Vec::new();
    if body.app_id.is_empty() {
        problems.push("app_id is required".to_owned());
    }
    if body.function_id.is_empty() {
        problems.push("function_id is required".to_owned());
    }
    let time = |field: &str, v: &Option<String>, problems: &mut Vec<String>| match v
        .as_deref()
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(text) => {
            let parsed = parse_rfc3339(text);
            if parsed.is_none() {
                problems.push(format!("{field} is not an RFC 3339 time: {text}"));
            }
            parsed
        }
    };
    let before = time("started_before", &body.started_before, &mut problems);
    let after = time("started_after", &body.started_after, &mut problems);
    match before {
        None if body.started_before.as_deref().is_none_or(str::is_empty) => {
            problems.push("started_before is required".to_owned())
        }
        Some(b) if b > now + std::time::Duration::from_secs(5) => {
            problems.push("started_before must be in the past".to_owned())
        }
        _ => {}
    }
    if let (Some(a), Some(b)) = (after, before) {
        if a > b {
            problems.push("started_after must be before started_before".to_owned());
        }
    }
    if !problems.is_empty() {
        return error(StatusCode::BAD_REQUEST, problems.join("\n"));
    }
    let before = before.unwrap_or(now);
    let prefixed = format!("{}-{}", body.app_id, body.function_id);
    let outcome = engine.act(|core, now| {
        let slug = if core.functions().any(|f| f.slug == prefixed) {
            prefixed.clone()
        } else {
            body.function_id.clone()
        };
        let cancelled =
            core.cancel_matching(&slug, after, before, body.if_expression.as_deref(), now);
        (slug, cancelled)
    });
    match outcome {
        (_, Err(crate::core::CancelError::NoFunction(_))) => {
            error(StatusCode::NOT_FOUND, "function not found")
        }
        (_, Err(e)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        (slug, Ok(cancelled)) => {
            let id = ulid::Ulid::new().to_string();
            let mut cancellation = json!({
                "created_at": rfc3339_millis(now),
                "name": null,
                "id": id,
                "account_id": NIL_UUID,
                "environment_id": NIL_UUID,
                "app_id": super::graphql::app_uuid(&body.app_id),
                "function_internal_id": super::graphql::function_uuid(&slug),
                "function_id": slug,
                "started_after": after.map(rfc3339_millis),
                "started_before": rfc3339_millis(before),
                "kind": "bulk_run",
                "cause": "api",
                "cancelled_run_ids": cancelled,
            });
            if let Some(x) = &body.if_expression {
                cancellation["if"] = Value::from(x.clone());
            }
            data(&cancellation)
        }
    }
}

/// `GET /v0/runs/{id}/actions`: the run's memoized steps by hashed id.
pub(crate) fn actions(engine: &Engine, id: &str) -> Response<Full<Bytes>> {
    match engine.inspect(|core| core.run_info(id).map(|r| serde_json::to_value(r.memos()))) {
        Some(Ok(memos)) => json_response(StatusCode::OK, &memos),
        _ => gone(id),
    }
}

/// `GET /v0/runs/{id}/batch`: the run's triggering events.
pub(crate) fn batch(engine: &Engine, id: &str) -> Response<Full<Bytes>> {
    match engine.inspect(|core| core.run_info(id).map(|r| r.events().to_vec())) {
        Some(events) => json_response(StatusCode::OK, &events),
        None => gone(id),
    }
}

fn gone(id: &str) -> Response<Full<Bytes>> {
    error(
        StatusCode::GONE,
        format!("runtime state is no longer available for runID: {id}"),
    )
}
