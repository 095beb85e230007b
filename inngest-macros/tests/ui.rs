//! Compile-time behaviour of the macros: `ui/pass` cases compile and run, `ui/fail` cases fail
//! with the errors in their `.stderr` snapshots.
//!
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test -p inngest-macros --test ui`,
//! then read every one: each error must point at the token that is wrong.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
