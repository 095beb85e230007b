//! Examples and end-to-end tests of the Inngest Rust SDK live in `examples/` and `tests/`.
