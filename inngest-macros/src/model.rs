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
    Typed(Box<Type>),
    /// `FunctionFailed`: raw JSON, which any function's event is.
    Raw,
}

impl Function {
    /// Parses and validates `#[inngest::function(args)] item`; `Err` holds every error found,
    /// in the order of the source.
    pub fn build(args: TokenStream, item: TokenStream) -> syn::Result<Function> {
        let mut errors = Errors::default();
        let (args, complete) = attr::parse(args, &mut errors);
        let mut keys = Keys::new(Macro::Function);
        let (mut id, mut event, mut retries, mut name) = (None, None, None, None);
        for arg in args {
            let (key, value) = match arg {
                Arg::KeyValue { key, value } => (key, value),
                Arg::Positional(positional) => {
                    errors.spanned(
                        positional,
                        "expected `key = value`, such as `id = \"send-welcome\"`; \
                         the keys are: id, event, retries, name",
                    );
                    continue;
                }
            };
            match keys.accept(&key, &mut errors) {
                Some("id") => {
                    id = Some(
                        string(&value, "id", "send-welcome", &mut errors)
                            .filter(|id| valid_id(id, &mut errors)),
                    );
                }
                Some("event") => {
                    event = Some(
                        string(&value, "event", "user/signup", &mut errors)
                            .filter(|event| not_empty(event, "event", &mut errors)),
                    );
                }
                Some("retries") => retries = Some(retries_value(&value, &mut errors)),
                Some("name") => {
                    name = Some(
                        string(&value, "name", "Send welcome email", &mut errors)
                            .filter(|name| not_empty(name, "name", &mut errors)),
                    );
                }
                _ => {}
            }
        }
        if id.is_none() {
            errors.missing(
                complete,
                "missing `id = \"...\"`: the function's id within its app, \
                 such as `id = \"send-welcome\"`",
            );
        }
        if event.is_none() {
            errors.missing(
                complete,
                "missing `event = \"...\"`: the name of the event that triggers the \
                 function, such as `event = \"user/signup\"`",
            );
        }
        let handler = check::handler(item, Macro::Function, &mut errors);

        errors.finish()?;
        match (handler, id.flatten(), event.flatten()) {
            (Some(handler), Some(id), Some(event)) => Ok(Function {
                handler,
                id,
                event,
                retries: retries.flatten(),
                name: name.flatten(),
            }),
            // Unreachable: each `None` here recorded an error. Stays an error, not a panic.
            _ => Err(syn::Error::new(
                Span::call_site(),
                "invalid #[inngest::function]",
            )),
        }
    }
}

impl OnFailure {
    /// Parses and validates `#[inngest::on_failure(args)] item`; `Err` holds every error found,
    /// in the order of the source.
    pub fn build(args: TokenStream, item: TokenStream) -> syn::Result<OnFailure> {
        let mut errors = Errors::default();
        let (args, complete) = attr::parse(args, &mut errors);
        let mut keys = Keys::new(Macro::OnFailure);
        let (mut target, mut retries) = (None, None);
        for arg in args {
            match arg {
                Arg::Positional(path) if target.is_none() => {
                    target = Some(target_path(&path, &mut errors));
                }
                Arg::Positional(extra) => errors.spanned(
                    extra,
                    "a failure handler handles one function; \
                     declare one `#[inngest::on_failure]` handler per function",
                ),
                Arg::KeyValue { key, value } => {
                    if let Some("retries") = keys.accept(&key, &mut errors) {
                        retries = Some(retries_value(&value, &mut errors));
                    }
                }
            }
        }
        if target.is_none() {
            errors.missing(
                complete,
                "missing the function this failure handler handles, \
                 such as `#[inngest::on_failure(send_welcome)]`",
            );
        }
        let handler = check::handler(item, Macro::OnFailure, &mut errors);
        let event = handler
            .as_ref()
            .and_then(|handler| check::failed_event(&handler.arg_ty, &mut errors));

        errors.finish()?;
        match (handler, target.flatten(), event) {
            (Some(handler), Some(target), Some(event)) => Ok(OnFailure {
                handler,
                target,
                retries: retries.flatten().unwrap_or(DEFAULT_FAILURE_RETRIES),
                event,
            }),
            // Unreachable: each `None` here recorded an error. Stays an error, not a panic.
            _ => Err(syn::Error::new(
                Span::call_site(),
                "invalid #[inngest::on_failure]",
            )),
        }
    }
}

/// The keys given so far, to accept each valid key once.
struct Keys {
    which: Macro,
    seen: Vec<&'static str>,
}

impl Keys {
    fn new(which: Macro) -> Keys {
        Keys {
            which,
            seen: Vec::new(),
        }
    }

    /// The key's name when it is valid and given for the first time; otherwise the error is
    /// recorded, on the key: unknown, or a duplicate (the second occurrence).
    fn accept(&mut self, key: &Ident, errors: &mut Errors) -> Option<&'static str> {
        let name = key.to_string();
        let Some(valid) = self.which.keys().iter().find(|valid| **valid == name) else {
            errors.at(key.span(), unknown_key(&name, self.which));
            return None;
        };
        if self.seen.contains(valid) {
            errors.at(
                key.span(),
                format_args!("duplicate key `{name}`: it is already given above"),
            );
            return None;
        }
        self.seen.push(valid);
        Some(valid)
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

/// A likely typo: at most a third of the characters edited (`evnt`, `evnet`, `ID`), or the
/// same first four characters (`retry`).
fn similar(given: &str, valid: &str) -> bool {
    let (given, valid) = (given.to_ascii_lowercase(), valid.to_ascii_lowercase());
    let longest = given.len().max(valid.len());
    let shared_prefix = given
        .chars()
        .zip(valid.chars())
        .take_while(|(a, b)| a == b)
        .count();
    edit_distance(&given, &valid) * 3 <= longest || shared_prefix >= 4
}

/// The optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// two neighbours each count one.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
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
fn retries_value(value: &Expr, errors: &mut Errors) -> Option<u32> {
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
fn target_path(expr: &Expr, errors: &mut Errors) -> Option<Path> {
    match attr::ungroup(expr) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_near_miss_is_suggested() {
        assert!(unknown_key("retry", Macro::Function).contains("did you mean `retries`?"));
        assert!(unknown_key("evnt", Macro::Function).contains("did you mean `event`?"));
        assert!(unknown_key("evnet", Macro::Function).contains("did you mean `event`?"));
        assert!(unknown_key("ID", Macro::Function).contains("did you mean `id`?"));
        assert!(!unknown_key("na", Macro::Function).contains("did you mean"));
        assert!(!unknown_key("timeout", Macro::Function).contains("did you mean"));
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("retry", "retries"), 3);
        assert_eq!(edit_distance("", "id"), 2);
        assert_eq!(edit_distance("evnet", "event"), 1);
        assert_eq!(edit_distance("evnt", "event"), 1);
        assert_eq!(edit_distance("name", "name"), 0);
    }
}
