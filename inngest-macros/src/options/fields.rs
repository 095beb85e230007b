//! The `key = value` lists of the triggers and options, such as `throttle(..)`: the keys each
//! list accepts, and the values given, each key once.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::Expr;

use crate::attr::{Arg, List};
use crate::errors::Errors;
use crate::keys::Keys;

/// The keys of one list, such as `throttle(..)`.
pub(super) struct ListKeys {
    /// The list as written in messages: "`throttle(..)`".
    pub(super) context: &'static str,
    /// What the list looks like, for messages.
    pub(super) example: &'static str,
    pub(super) valid: &'static [&'static str],
    /// Keys refused with a reason rather than as unknown.
    pub(super) refused: &'static [(&'static str, &'static str)],
    /// Each required key with a hint of its value.
    pub(super) hints: &'static [(&'static str, &'static str)],
}

/// The `key = value` arguments of a list, each key given once.
pub(super) struct Fields {
    which: &'static ListKeys,
    /// The list as written, to span what is missing from it.
    pub(super) tokens: TokenStream,
    values: Vec<(&'static str, Expr)>,
    /// `false` when an argument was malformed: a key may then be missing only because of it.
    complete: bool,
}

impl Fields {
    /// The arguments of `arg`, which must be a list; an error on it otherwise.
    pub(super) fn of(arg: &Arg, which: &'static ListKeys, errors: &mut Errors) -> Option<Fields> {
        let list: &List = match arg {
            Arg::List(list) => list,
            Arg::KeyValue { key, value } => {
                errors.spanned(
                    quote!(#key #value),
                    format_args!(
                        "`{key}` takes a list of arguments, such as `{}`",
                        which.example
                    ),
                );
                return None;
            }
            Arg::Positional(_) => return None,
        };
        let (args, mut complete) = list.args(errors);
        let mut keys = Keys::new(which.context, which.valid, &[]);
        let mut values = Vec::new();
        for arg in args {
            match arg {
                Arg::KeyValue { key, value } => {
                    let name = key.unraw().to_string();
                    if let Some((_, why)) = which.refused.iter().find(|(k, _)| *k == name) {
                        errors.at(key.span(), why);
                        complete = false;
                    } else if let Some(name) = keys.accept(&key, errors) {
                        values.push((name, value));
                    } else {
                        complete = false;
                    }
                }
                Arg::List(inner) => {
                    errors.spanned(
                        &inner,
                        format_args!(
                            "`{}` takes a value, not a list: write `{} = ...`",
                            inner.key, inner.key
                        ),
                    );
                    complete = false;
                }
                Arg::Positional(positional) => {
                    errors.spanned(
                        positional,
                        format_args!(
                            "expected `key = value` in {}, such as `{}`; the keys are: {}",
                            which.context,
                            which.example,
                            keys.list()
                        ),
                    );
                    complete = false;
                }
            }
        }
        Some(Fields {
            which,
            tokens: list.to_token_stream(),
            values,
            complete,
        })
    }

    /// The value given for `key`.
    pub(super) fn value(&self, key: &str) -> Option<&Expr> {
        self.values
            .iter()
            .find(|(given, _)| *given == key)
            .map(|(_, value)| value)
    }

    /// Whether no argument was given.
    pub(super) fn is_empty(&self) -> bool {
        self.values.is_empty() && self.complete
    }

    /// `Some(Some(value))` when `key` is given and valid, `Some(None)` when it is not given,
    /// `None` when it is invalid (its error recorded).
    pub(super) fn optional<T>(
        &self,
        key: &str,
        errors: &mut Errors,
        read: impl FnOnce(&Expr, &mut Errors) -> Option<T>,
    ) -> Option<Option<T>> {
        match self.value(key) {
            Some(value) => read(value, errors).map(Some),
            None => Some(None),
        }
    }

    /// The valid value of `key`; when it is missing, an error on the list.
    pub(super) fn required<T>(
        &self,
        key: &str,
        errors: &mut Errors,
        read: impl FnOnce(&Expr, &mut Errors) -> Option<T>,
    ) -> Option<T> {
        if let Some(value) = self.value(key) {
            return read(value, errors);
        }
        if self.complete {
            let hint = self
                .which
                .hints
                .iter()
                .find(|(k, _)| *k == key)
                .map_or("", |(_, hint)| *hint);
            errors.spanned(
                &self.tokens,
                format_args!("missing `{key} = ...` in {}: {hint}", self.which.context),
            );
        }
        None
    }
}
