//! Serving the Inngest endpoint: the `tower::Service` that answers Inngest (handler), call
//! requests, sync, introspection, signatures, and the registry of the app's functions.

pub(crate) mod body;
pub(crate) mod call;
pub(crate) mod checkpoint;
pub(crate) mod deadline;
pub(crate) mod fast;
pub(crate) mod handler;
pub(crate) mod introspection;
pub(crate) mod registry;
pub(crate) mod response;
pub(crate) mod run;
pub(crate) mod signature;
pub(crate) mod streaming;
pub(crate) mod sync;
