//! Whether the code running on this thread is the replay of memoized steps: set by the
//! executor around each poll of a function and cleared the moment the replay ends (the last
//! memo is claimed, or a new step is found). `inngest::logs` reads it to keep logs quiet on
//! replay, for any `tracing` event, from user code or a library it calls.

use std::cell::Cell;

thread_local! {
    static REPLAYING: Cell<bool> = const { Cell::new(false) };
}

/// Whether code on this thread is replaying memoized steps of an Inngest function right now.
pub(crate) fn is_replaying() -> bool {
    REPLAYING.with(Cell::get)
}

/// Sets the flag; returns what it was.
pub(crate) fn set(replaying: bool) -> bool {
    REPLAYING.with(|r| r.replace(replaying))
}
