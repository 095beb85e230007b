//! The step toolkit end to end, with the engine speaking each step (protocol-2.md sections
//! 3-5): `standalone`, the engine served on its own runs the same functions of the official
//! TypeScript SDK and of a Rust app over HTTP (signals, `step.fetch`, `step.ai.infer` against
//! a local fake model server) and answers `POST /v1/signals`; `embedded`, the embedded engine
//! streams realtime messages to subscribers and takes the signals of the app's steps;
//! `peer_ops`, both SDKs report the same ops and resume alike.

mod embedded;
mod peer_ops;
mod standalone;
#[path = "../support/mod.rs"]
mod support;
