//! The async shell around the core: real time, the calls to apps, the timeline, and the dev
//! server's HTTP API.

mod api;
mod engine;
mod serve;
mod timeline;
mod transport;

pub use api::EngineService;
pub use engine::{Engine, EngineConfig, EngineError, WeakEngine};
pub use serve::serve;
pub use transport::{BoxFuture, HttpTransport, ServiceTransport, Transport};
