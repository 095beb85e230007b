//! The validated, typed model of one annotated function: what `emit.rs` generates code from.
//!
//! Building a model parses the arguments (`attr.rs`), validates each value, runs the signature
//! and cross-field checks (`check.rs`), and collects every error on the way, so that one
//! compile reports every mistake.

use proc_macro2::{Span, TokenStream};
use syn::{Attribute, Expr, ExprLit, Ident, ItemFn, Lit, LitStr, Path, Type, Visibility};

use crate::attr::{self, Arg};
use crate::check;
use crate::errors::Errors;

/// Which attribute is being expanded; it words the error messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Macro {
    /// `#[inngest::function]`
    Function,
    /// `#[inngest::on_failure]`
    OnFailure,
}

impl Macro {
    /// The attribute as the user writes it.
    pub fn attribute(self) -> &'static str {
        match self {
            Macro::Function => "#[inngest::function]",
            Macro::OnFailure => "#[inngest::on_failure]",
        }
    }

    /// What the annotated fn is, for messages: "an Inngest function cannot be generic".
    pub fn subject(self) -> &'static str {
        match self {
            Macro::Function => "an Inngest function",
            Macro::OnFailure => "a failure handler",
        }
    }

    /// The one argument the annotated fn takes.
    pub fn argument(self) -> &'static str {
        match self {
            Macro::Function => "`ctx: Context<E>`",
            Macro::OnFailure => "`ctx: Context<FunctionFailed<E>>`",
        }
    }

    /// The keys the attribute accepts, in the order the docs list them.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Macro::Function => &["id", "event", "retries", "name"],
            Macro::OnFailure => &["retries"],
        }
    }
}

/// The most retries an attribute accepts (Inngest's own limit).
pub const MAX_RETRIES: u64 = 20;

/// The retries of a failure handler when its attribute gives none.
pub const DEFAULT_FAILURE_RETRIES: u32 = 1;

/// The user's `async fn` and what its signature says, shared by both attributes.
pub struct Handler {
    /// The fn exactly as written; it is emitted unchanged.
    pub item: ItemFn,
    /// Its name, which the hidden type takes.
    pub ident: Ident,
    /// Its visibility, which the hidden type takes.
    pub vis: Visibility,
    /// Its `#[cfg(..)]` attributes, which the generated items take too.
    pub cfgs: Vec<Attribute>,
    /// The type of its one argument, `Context<E>` as written.
    pub arg_ty: Type,
    /// Its return type, `Result<T, Error>` as written.
    pub ret_ty: Type,
}

/// `#[inngest::function(id = "..", event = "..", retries = N, name = "..")]`.
pub struct Function {
    /// The annotated fn.
    pub handler: Handler,
    /// The function's id within its app.
    pub id: LitStr,
    /// The name of the triggering event.
    pub event: LitStr,
    /// Retries after the first attempt, `None` for Inngest's default.
    pub retries: Option<u32>,
    /// The display name.
    pub name: Option<LitStr>,
}

/// `#[inngest::on_failure(path::to_function, retries = N)]`.
pub struct OnFailure {
    /// The annotated fn.
    pub handler: Handler,
    /// The path of the function it handles, as written (it names that function's hidden type).
    pub target: Path,
    /// Retries after the first attempt.
    pub retries: u32,
    /// The `E` of `Context<FunctionFailed<E>>`.
    pub event: FailedEvent,
}

/// The event data type a failure handler names.
pub enum FailedEvent {
    /// `FunctionFailed<E>`: `E` must be the target's event type.
    Typed(Type),
    /// `FunctionFailed`: raw JSON, which any function's event is.
    Raw,
}

impl Function {
    /// Parses and validates `#[inngest::function(args)] item`; `Err` holds every error found.
    pub fn build(args: TokenStream, item: TokenStream) -> syn::Result<Function> {
        let mut errors = Errors::default();
        let args = parse_args(args, &mut errors);
        let handler = check::handler(item, Macro::Function, &mut errors);

        let mut keys = Keys::split(args, Macro::Function, &mut errors);
        for positional in keys.positional.drain(..) {
            errors.spanned(
                positional,
                "expected `key = value`, such as `id = \"send-welcome\"`; \
                 the keys are: id, event, retries, name",
            );
        }
        let id = match keys.take("id") {
            Some(value) => string(&value, "id", "send-welcome", &mut errors)
                .filter(|id| valid_id(id, &mut errors)),
            None => {
                errors.at(
                    Span::call_site(),
                    "missing `id = \"...\"`: the function's id within its app, \
                     such as `id = \"send-welcome\"`",
                );
                None
            }
        };
        let event = match keys.take("event") {
            Some(value) => string(&value, "event", "user/signup", &mut errors)
                .filter(|event| not_empty(event, "event", &mut errors)),
            None => {
                errors.at(
                    Span::call_site(),
                    "missing `event = \"...\"`: the name of the event that triggers the \
                     function, such as `event = \"user/signup\"`",
                );
                None
            }
        };
        let retries = keys
            .take("retries")
            .map(|value| retries(&value, &mut errors));
        let name = keys.take("name").map(|value| {
            string(&value, "name", "Send welcome email", &mut errors)
                .filter(|name| not_empty(name, "name", &mut errors))
        });

        errors.finish()?;
        match (handler, id, event) {
            (Some(handler), Some(id), Some(event)) => Ok(Function {
                handler,
                id,
                event,
                retries: retries.flatten(),
                name: name.flatten(),
            }),
            // Unreachable: each `None` above recorded an error. Stays an error, not a panic.
            _ => Err(syn::Error::new(
                Span::call_site(),
                "invalid #[inngest::function]",
            )),
        }
    }
}

impl OnFailure {
    /// Parses and validates `#[inngest::on_failure(args)] item`; `Err` holds every error found.
    pub fn build(args: TokenStream, item: TokenStream) -> syn::Result<OnFailure> {
        let mut errors = Errors::default();
        let args = parse_args(args, &mut errors);
        let handler = check::handler(item, Macro::OnFailure, &mut errors);

        let mut keys = Keys::split(args, Macro::OnFailure, &mut errors);
        let mut positional = keys.positional.drain(..);
        let target = match positional.next() {
            Some(first) => target_path(first, &mut errors),
            None => {
                // An `#[on_failure]` with no arguments at all was given at least the
                // attribute; point there.
                errors.at(
                    Span::call_site(),
                    "missing the function this failure handler handles, \
                     such as `#[inngest::on_failure(send_welcome)]`",
                );
                None
            }
        };
        for extra in positional {
            errors.spanned(
                extra,
                "a failure handler handles one function; \
                 declare one `#[inngest::on_failure]` handler per function",
            );
        }
        let retries = match keys.take("retries") {
            Some(value) => retries(&value, &mut errors),
            None => Some(DEFAULT_FAILURE_RETRIES),
        };
        let event = handler
            .as_ref()
            .and_then(|handler| check::failed_event(&handler.arg_ty, &mut errors));

        errors.finish()?;
        match (handler, target, retries, event) {
            (Some(handler), Some(target), Some(retries), Some(event)) => Ok(OnFailure {
                handler,
                target,
                retries,
                event,
            }),
            // Unreachable: each `None` above recorded an error. Stays an error, not a panic.
            _ => Err(syn::Error::new(
                Span::call_site(),
                "invalid #[inngest::on_failure]",
            )),
        }
    }
}

fn parse_args(args: TokenStream, errors: &mut Errors) -> Vec<Arg> {
    attr::parse(args).unwrap_or_else(|error| {
        errors.push(error);
        Vec::new()
    })
}

/// The arguments sorted out: each valid key at most once, the positional ones in order.
struct Keys {
    given: Vec<(&'static str, Expr)>,
    positional: Vec<Expr>,
}

impl Keys {
    /// Reports unknown keys (on the key) and repeated ones (on the second occurrence).
    fn split(args: Vec<Arg>, which: Macro, errors: &mut Errors) -> Keys {
        let valid = which.keys();
        let mut keys = Keys {
            given: Vec::new(),
            positional: Vec::new(),
        };
        for arg in args {
            match arg {
                Arg::Positional(expr) => keys.positional.push(expr),
                Arg::KeyValue { key, value } => {
                    let name = key.to_string();
                    match valid.iter().find(|valid| **valid == name) {
                        None => errors.at(key.span(), unknown_key(&name, which)),
                        Some(valid) if keys.given.iter().any(|(seen, _)| seen == valid) => {
                            errors.at(
                                key.span(),
                                format_args!("duplicate key `{name}`: it is already given above"),
                            );
                        }
                        Some(valid) => keys.given.push((valid, value)),
                    }
                }
            }
        }
        keys
    }

    fn take(&mut self, key: &str) -> Option<Expr> {
        let index = self.given.iter().position(|(given, _)| *given == key)?;
        Some(self.given.remove(index).1)
    }
}

fn unknown_key(name: &str, which: Macro) -> String {
    let valid = which.keys();
    let mut message = format!("unknown key `{name}` in {}", which.attribute());
    if let Some(close) = valid.iter().find(|valid| similar(name, valid)) {
        message.push_str(&format!("; did you mean `{close}`?"));
    }
    message.push_str(&format!("\nexpected one of: {}", valid.join(", ")));
    message
}

/// A likely typo: one edit apart, or one a prefix of the other (`retry`, `retries`).
fn similar(given: &str, valid: &str) -> bool {
    let (given, valid) = (given.to_ascii_lowercase(), valid.to_ascii_lowercase());
    given.len() >= 2
        && (valid.starts_with(&given)
            || given.starts_with(&valid)
            || edit_distance(&given, &valid) <= 2)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// A string literal, or an error on the value.
fn string(value: &Expr, key: &str, example: &str, errors: &mut Errors) -> Option<LitStr> {
    match attr::ungroup(value) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit.clone()),
        other => {
            errors.spanned(
                other,
                format_args!("`{key}` takes a string literal, such as `{key} = \"{example}\"`"),
            );
            None
        }
    }
}

fn not_empty(lit: &LitStr, key: &str, errors: &mut Errors) -> bool {
    let empty = lit.value().trim().is_empty();
    if empty {
        errors.at(lit.span(), format_args!("`{key}` must not be empty"));
    }
    !empty
}

/// An id is a slug: what Inngest accepts in `<app-id>-<function-id>`.
fn valid_id(lit: &LitStr, errors: &mut Errors) -> bool {
    if !not_empty(lit, "id", errors) {
        return false;
    }
    let value = lit.value();
    let mut bad: Vec<char> = value
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        .collect();
    bad.dedup();
    if bad.is_empty() {
        return true;
    }
    let found: Vec<String> = bad.iter().map(|c| format!("{c:?}")).collect();
    errors.at(
        lit.span(),
        format_args!(
            "`id` may contain only ASCII letters, digits, `-` and `_`; found {}",
            found.join(", ")
        ),
    );
    false
}

/// An integer literal in `0..=MAX_RETRIES`, or an error on the value.
fn retries(value: &Expr, errors: &mut Errors) -> Option<u32> {
    let out_of_range = format!("`retries` must be an integer from 0 to {MAX_RETRIES}");
    match attr::ungroup(value) {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => match lit.base10_parse::<u64>() {
            Ok(n) if n <= MAX_RETRIES => u32::try_from(n).ok(),
            Ok(n) => {
                errors.at(lit.span(), format_args!("{out_of_range}, found {n}"));
                None
            }
            Err(_) => {
                errors.at(lit.span(), out_of_range);
                None
            }
        },
        Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Neg(_)) => {
            errors.spanned(unary, out_of_range);
            None
        }
        other => {
            errors.spanned(
                other,
                format_args!("`retries` takes an integer literal from 0 to {MAX_RETRIES}, such as `retries = 3`"),
            );
            None
        }
    }
}

/// The function a failure handler names: a plain path such as `send_welcome` or
/// `crate::jobs::send_welcome`.
fn target_path(expr: Expr, errors: &mut Errors) -> Option<Path> {
    match attr::ungroup(&expr) {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
            Some(path.path.clone())
        }
        other => {
            errors.spanned(
                other,
                "expected the path of a function declared with `#[inngest::function]`, \
                 such as `send_welcome` or `crate::jobs::send_welcome`",
            );
            None
        }
    }
}
