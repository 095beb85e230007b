//! Collects every error of one macro call, so a user sees all their mistakes in one compile.
//! (serde_derive: `internals/ctxt.rs`.)

use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;

/// The errors found so far; combined into one `syn::Error` at the end.
#[derive(Default)]
pub struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    /// Records an error.
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// Records an error at `span`.
    pub fn at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records an error spanning the tokens of `tokens`, from the first to the last.
    pub fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records that a required argument is missing, spanned on the whole attribute (the only
    /// place a missing thing can point at), unless `complete` is false: then some argument was
    /// malformed, its error is already recorded, and it may be the one "missing".
    pub fn missing(&mut self, complete: bool, message: impl Display) {
        if complete {
            self.at(Span::call_site(), message);
        }
    }

    /// `Ok` when nothing was recorded, else every error, in the order found.
    pub fn finish(self) -> Result<(), syn::Error> {
        match self.combined {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}
