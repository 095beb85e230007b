//! The async shell around the core: real time, the calls to apps, the timeline, and the dev
//! server's HTTP API.

mod api;
mod durable;
mod engine;
mod fetch;
mod realtime;
mod serve;
#[cfg(feature = "persist")]
mod store;
mod timeline;
mod transport;

pub use api::{ApiBody, EngineService};
pub use engine::{Engine, EngineConfig, EngineError, SharedFetcher, WeakEngine};
pub use fetch::{Fetcher, HttpFetcher};
pub use realtime::{Realtime, Subscription};
pub use serve::serve;
pub use transport::{BoxFuture, HttpTransport, ServiceTransport, Transport};
