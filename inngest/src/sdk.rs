//! Who this SDK is, as it tells Inngest: its version, the `X-Inngest-SDK` header value and the
//! register payload's `sdk` field.

/// The SDK's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The `X-Inngest-SDK` header value.
pub const SDK_HEADER_VALUE: &str = concat!("inngest-rs:v", env!("CARGO_PKG_VERSION"));
/// The register payload's `sdk` field.
pub(crate) const SDK_NAME: &str = concat!("rust:v", env!("CARGO_PKG_VERSION"));
/// The language this SDK reports in introspection.
pub(crate) const SDK_LANGUAGE: &str = "rust";
