// The generated code names nothing through the user's scope: shadowing the prelude, `core`
// or the macros it uses changes nothing.
#![allow(dead_code, non_camel_case_types, unused_macros)]

use inngest::{Context, FunctionFailed};

type Result<T> = std::result::Result<T, inngest::Error>;
struct Option;
struct Some;
struct None;
struct Box;
struct Send;
struct Sync;
struct String;
struct Error;
struct Context2;
struct Definition;
struct Function;
trait Future {}
mod core {}
mod std_ {}
mod inventory {}
mod __private {}
macro_rules! concat { () => {} }
macro_rules! env { () => {} }
macro_rules! file { () => {} }
macro_rules! line { () => {} }
macro_rules! module_path { () => {} }
macro_rules! submit { () => {} }

#[inngest::function(id = "shadowed", event = "app/shadowed", retries = 1, name = "Shadowed")]
async fn shadowed(ctx: Context) -> Result<u32> {
    Ok(ctx.attempt)
}

#[inngest::on_failure(shadowed)]
async fn shadowed_failed(_ctx: Context<FunctionFailed>) -> Result<()> {
    Ok(())
}

fn main() {
    assert_eq!(<shadowed as inngest::Function>::DEFINITION.id, "shadowed");
    assert_eq!(<shadowed_failed as inngest::Function>::DEFINITION.retries, ::core::option::Option::Some(1));
}
