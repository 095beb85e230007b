//! A library whose Inngest functions a binary finds just by linking it.

use inngest::{Context, Error};
use serde::Deserialize;

/// The event data of `lib/greet`.
#[derive(Debug, Deserialize)]
pub struct Greet {
    /// Who to greet.
    pub name: String,
}

/// Declared in a library crate; found by `serve()` in any binary that links this crate.
#[inngest::function(id = "from-lib", event = "lib/greet")]
pub async fn from_lib(ctx: Context<Greet>) -> Result<String, Error> {
    Ok(format!("hello {} from a library", ctx.event.data.name))
}
