//! Checkpoints: `POST /v1/checkpoint/{runId}/async` saves the steps an SDK ran inside a call,
//! as the server's `CheckpointAsyncSteps` does (protocol-2.md section 1.3).

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use inngest_protocol::checkpoint::AsyncCheckpoint;
use serde_json::json;

use super::reply::json_response;
use super::Req;
use crate::shell::engine::Engine;

/// `200` with an empty body once saved; `400` for a body that is not a checkpoint or a
/// checkpoint refused, `413` when a step or the run's state is over its limit, `409` for a
/// checkpoint from a stale call; errors are `{"error", "data": {"run_id"}, "status"}`.
pub(crate) fn save_async(engine: &Engine, req: &Req<'_>, run_id: &str) -> Response<Full<Bytes>> {
    let mut checkpoint = match serde_json::from_slice::<AsyncCheckpoint>(req.body) {
        Ok(c) => c,
        Err(e) => {
            let message = format!("invalid request body: {e}");
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"error": message, "data": null, "status": 400}),
            );
        }
    };
    if checkpoint.run_id.is_empty() {
        checkpoint.run_id = run_id.to_owned();
    }
    match engine.checkpoint(&checkpoint) {
        Ok(()) => {
            let mut res = Response::new(Full::new(Bytes::new()));
            *res.status_mut() = StatusCode::OK;
            res
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            json_response(
                status,
                &json!({"error": e.message, "data": {"run_id": checkpoint.run_id}, "status": e.status}),
            )
        }
    }
}
