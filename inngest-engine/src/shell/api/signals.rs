//! Signals: `POST /v1/signals` resumes the run waiting for a signal, as the server's
//! `receiveSignal` does (protocol-2.md section 3).

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use inngest_protocol::signal::{SendSignalRequest, SendSignalResponse, NO_SIGNAL_FOUND};

use super::reply::{data, error};
use super::Req;
use crate::shell::engine::Engine;

/// `POST /v1/signals`: `200 {"data": {"run_id"}}` once the waiting run resumes, `404` when no
/// run waits for the signal, `400` for a body that is not a signal, `500` for an empty name.
pub(crate) fn receive(engine: &Engine, req: &Req<'_>) -> Response<Full<Bytes>> {
    let Ok(body) = serde_json::from_slice::<SendSignalRequest>(req.body) else {
        return error(StatusCode::BAD_REQUEST, "Invalid signal data");
    };
    match engine.signal(&body.signal, body.data) {
        Ok(Some(run_id)) => data(&SendSignalResponse { run_id }),
        Ok(None) => error(StatusCode::NOT_FOUND, NO_SIGNAL_FOUND),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Failed to receive signal",
        ),
    }
}
