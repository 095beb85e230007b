//! Checkpointing (protocol-2.md section 1): the SDK runs new steps one after another in a
//! discovery call and saves them with `POST <api>/v1/checkpoint/{runId}/async`.
//!
//! - `sdk`: call requests straight to the SDK, with a recording server as the Inngest API:
//!   the checkpoint bodies, the answers, each rule of section 1.4, and a checkpoint endpoint
//!   that fails (5xx, 409, unreachable).
//! - `engine`: the engine's checkpoint API, and runs under the engine counting their call
//!   requests (a ten-step function: 11 without checkpointing, 1 with it).

#[path = "../support/mod.rs"]
mod support;

mod engine;
mod functions;
mod hooks;
mod sdk;
