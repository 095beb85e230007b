//! Every path the generated code uses (each written below without its leading `::`; the
//! macro adds it). They all go through `::inngest::__private`, the runtime's
//! one hidden door (`inngest/src/private.rs`), so that users depend on `inngest` alone and the
//! generated code keeps working when they shadow `Result`, `Option`, `Box` or `core`.
//! (Rocket codegen: `exports.rs`.)
//!
//! Each path is built at a span: `Paths::at(span)`. Most code uses the call site; the trait paths
//! that check a user's type are built at that type, so that rustc's error points at it.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

/// The paths, each spanned at `span`.
#[derive(Clone, Copy)]
pub struct Paths {
    span: Span,
}

impl Paths {
    /// Paths spanned at the macro's call site (the attribute).
    pub fn call_site() -> Paths {
        Paths::at(Span::call_site())
    }

    /// Paths spanned at a user's token.
    pub fn at(span: Span) -> Paths {
        Paths { span }
    }
}

macro_rules! paths {
    ($($(#[$doc:meta])* $name:ident => $($path:ident)::+;)*) => {
        impl Paths {
            $(
                $(#[$doc])*
                pub fn $name(self) -> TokenStream {
                    quote_spanned!(self.span=> $(:: $path)+)
                }
            )*
        }
    };
}

paths! {
    /// Trait: the hidden type of a function or handler.
    function => inngest::__private::Function;
    /// Struct: a function's static definition.
    definition => inngest::__private::Definition;
    /// Enum: `Trigger::Event { name, expression }`, `Trigger::Cron { schedule, jitter }`.
    trigger => inngest::__private::Trigger;
    /// Struct: a function's options, `Options::NONE` for none.
    options => inngest::__private::Options;
    /// Struct: a concurrency limit.
    concurrency => inngest::__private::Concurrency;
    /// Enum: a concurrency limit's scope.
    scope => inngest::__private::Scope;
    /// Struct: a throttle.
    throttle => inngest::__private::Throttle;
    /// Struct: a rate limit.
    rate_limit => inngest::__private::RateLimit;
    /// Struct: a debounce.
    debounce => inngest::__private::Debounce;
    /// Struct: batching.
    batch_events => inngest::__private::BatchEvents;
    /// Struct: an event that cancels a run.
    cancel_on => inngest::__private::CancelOn;
    /// Struct: a run priority.
    priority => inngest::__private::Priority;
    /// Struct: start and finish timeouts.
    timeouts => inngest::__private::Timeouts;
    /// Struct: a singleton.
    singleton => inngest::__private::Singleton;
    /// Enum: a singleton's mode.
    singleton_mode => inngest::__private::SingletonMode;
    /// Struct: checkpointing settings (`Checkpointing::ON`, `Checkpointing::OFF`).
    checkpointing => inngest::__private::Checkpointing;
    /// Struct: `core::time::Duration`.
    duration => inngest::__private::Duration;
    /// Enum: `Kind::Function`.
    kind => inngest::__private::Kind;
    /// Trait: `core::future::Future`, of what the user's fn returns.
    future => inngest::__private::Future;
    /// Trait: where `Function::call` hands the user's future.
    future_sink => inngest::__private::FutureSink;
    /// Trait method: `FutureSink::put`, which checks that the user's future is `Send`.
    put => inngest::__private::FutureSink::put;
    /// Trait: `Context<E>`, naming `E`; checks the user's argument type.
    context_arg => inngest::__private::ContextArg;
    /// Trait: `Result<T, Error>`, naming `T`; checks the user's return type.
    function_return => inngest::__private::FunctionReturn;
    /// Struct: the record `inventory` collects.
    registration => inngest::__private::Registration;
    /// Crate: `inventory`, for `inventory::submit!`.
    inventory => inngest::__private::inventory;
    /// Const fn: the definition of a failure handler, from its target's.
    failure_definition => inngest::__private::failure_definition;
    /// Marker trait: implemented once per function with a failure handler.
    one_failure_handler => inngest::__private::OneFailureHandlerPerFunction;
    /// Const fn: checks that a failure handler's event type is its function's.
    assert_same_event => inngest::__private::assert_same_event;
    /// Const fn: the definition of a cancellation handler, from its target's.
    cancel_definition => inngest::__private::cancel_definition;
    /// Marker trait: implemented once per function with a cancellation handler.
    one_cancel_handler => inngest::__private::OneCancelHandlerPerFunction;
    /// Const fn: checks that a cancellation handler's event type is its function's.
    assert_same_cancelled_event => inngest::__private::assert_same_cancelled_event;
    /// Struct: how a function's middleware is built (`MiddlewareFactory::of::<M>()`).
    middleware_factory => inngest::__private::MiddlewareFactory;
    /// `core::option::Option::Some`.
    some => inngest::__private::Some;
    /// `core::option::Option::None`.
    none => inngest::__private::None;
    /// Macro: `core::env!`, for the declaring package's name.
    env => inngest::__private::env;
    /// Macro: `core::file!`.
    file => inngest::__private::file;
    /// Macro: `core::line!`.
    line => inngest::__private::line;
    /// Macro: `core::concat!`.
    concat => inngest::__private::concat;
    /// Macro: `core::module_path!`.
    module_path => inngest::__private::module_path;
}
