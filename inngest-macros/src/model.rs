//! The validated, typed model of one annotated function: what `emit.rs` generates code from.
//!
//! Building a model parses the arguments (`attr.rs`), validates each value (`value.rs`, and
//! `options.rs` for the triggers and options), runs the signature and cross-field checks
//! (`check.rs`), and collects every error on the way, so that one compile reports every
//! mistake.

use inngest_protocol::limits;
use proc_macro2::{Span, TokenStream};
use syn::{Attribute, ItemFn, LitStr, Path, Type};

use crate::attr::{self, Arg};
use crate::check;
use crate::errors::Errors;
use crate::keys::Keys;
use crate::options::{self, Options, Trigger};
use crate::value;

/// Which attribute is being expanded; it words the error messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Macro {
    /// `#[inngest::function]`
    Function,
    /// `#[inngest::on_failure]`
    OnFailure,
    /// `#[inngest::on_cancel]`
    OnCancel,
}

impl Macro {
    /// The attribute as the user writes it.
    pub fn attribute(self) -> &'static str {
        match self {
            Macro::Function => "#[inngest::function]",
            Macro::OnFailure => "#[inngest::on_failure]",
            Macro::OnCancel => "#[inngest::on_cancel]",
        }
    }

    /// What the annotated fn is, for messages: "an Inngest function cannot be generic".
    pub fn subject(self) -> &'static str {
        match self {
            Macro::Function => "an Inngest function",
            Macro::OnFailure => "a failure handler",
            Macro::OnCancel => "a cancellation handler",
        }
    }

    /// The one argument the annotated fn takes.
    pub fn argument(self) -> &'static str {
        match self {
            Macro::Function => "`ctx: Context<E>`",
            Macro::OnFailure => "`ctx: Context<FunctionFailed<E>>`",
            Macro::OnCancel => "`ctx: Context<FunctionCancelled<E>>`",
        }
    }
}

/// The keys of `#[inngest::function]`, in the order the docs list them.
pub const FUNCTION_KEYS: &[&str] = &[
    "id",
    "event",
    "cron",
    "name",
    "description",
    "retries",
    "concurrency",
    "throttle",
    "rate_limit",
    "debounce",
    "idempotency",
    "batch_events",
    "cancel_on",
    "priority",
    "timeouts",
    "singleton",
    "middleware",
    "checkpointing",
];

/// The keys of `#[inngest::function]` that may be given more than once.
const REPEATABLE_KEYS: &[&str] = &["event", "cron", "concurrency", "cancel_on"];

/// The keys of `#[inngest::on_failure]` and `#[inngest::on_cancel]`.
const HANDLER_KEYS: &[&str] = &["retries"];

/// The retries of a failure or cancellation handler when its attribute gives none.
pub const DEFAULT_HANDLER_RETRIES: u32 = 1;

/// The user's `async fn` and what its signature says, shared by every attribute.
pub struct Handler {
    /// The fn exactly as written (emitted returning an `async move` block with its body).
    pub item: ItemFn,
    /// Its `#[cfg(..)]` attributes, which the generated items take too.
    pub cfgs: Vec<Attribute>,
    /// The type of its one argument, `Context<E>` as written.
    pub arg_ty: Type,
    /// Its return type, `Result<T, Error>` as written.
    pub ret_ty: Type,
}

/// `#[inngest::function(id = "..", event = "..", ..)]`.
pub struct Function {
    /// The annotated fn.
    pub handler: Handler,
    /// The function's id within its app.
    pub id: LitStr,
    /// The display name.
    pub name: Option<LitStr>,
    /// What the function does, for people.
    pub description: Option<LitStr>,
    /// The paths of its own middleware types, in order.
    pub middleware: Vec<Path>,
    /// Retries after the first attempt, `None` for Inngest's default.
    pub retries: Option<u32>,
    /// Its triggers, at least one, in the order written.
    pub triggers: Vec<Trigger>,
    /// Its options.
    pub options: Options,
}

/// Which handler a [`Companion`] is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CompanionKind {
    /// `#[inngest::on_failure]`, run when the function fails for good.
    Failure,
    /// `#[inngest::on_cancel]`, run when a run of the function is cancelled.
    Cancel,
}

impl CompanionKind {
    /// The attribute.
    pub fn which(self) -> Macro {
        match self {
            CompanionKind::Failure => Macro::OnFailure,
            CompanionKind::Cancel => Macro::OnCancel,
        }
    }

    /// The handler, for messages: "failure handler".
    pub fn noun(self) -> &'static str {
        match self {
            CompanionKind::Failure => "failure handler",
            CompanionKind::Cancel => "cancellation handler",
        }
    }

    /// The event data type the handler's context names: `FunctionFailed`.
    pub fn payload(self) -> &'static str {
        match self {
            CompanionKind::Failure => "FunctionFailed",
            CompanionKind::Cancel => "FunctionCancelled",
        }
    }
}

/// `#[inngest::on_failure(path::to_function, retries = N)]` or
/// `#[inngest::on_cancel(path::to_function, retries = N)]`: a handler registered beside the
/// function it handles.
pub struct Companion {
    /// A failure or a cancellation handler.
    pub kind: CompanionKind,
    /// The annotated fn.
    pub handler: Handler,
    /// The path of the function it handles, as written (it names that function's hidden type).
    pub target: Path,
    /// Retries after the first attempt.
    pub retries: u32,
    /// The `E` of `Context<FunctionFailed<E>>` or `Context<FunctionCancelled<E>>`.
    pub event: HandledEvent,
}

/// The event data type a handler names.
pub enum HandledEvent {
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
        let mut keys = Keys::new(Macro::Function.attribute(), FUNCTION_KEYS, REPEATABLE_KEYS);
        let (mut id, mut name, mut description, mut retries) = (None, None, None, None);
        let mut triggers = Vec::new();
        let mut options = Options::default();
        let mut middleware = Vec::new();
        for arg in &args {
            let key = match arg {
                Arg::KeyValue { key, .. } => key,
                Arg::List(list) => &list.key,
                Arg::Positional(positional) => {
                    errors.spanned(
                        positional,
                        format_args!(
                            "expected `key = value`, such as `id = \"send-welcome\"`; \
                             the keys are: {}",
                            keys.list()
                        ),
                    );
                    continue;
                }
            };
            let Some(accepted) = keys.accept(key, &mut errors) else {
                continue;
            };
            let errors = &mut errors;
            match accepted {
                "id" => {
                    id = Some(
                        value::single(arg, "id = \"send-welcome\"", errors)
                            .and_then(|value| value::id(value, errors)),
                    );
                }
                "name" => {
                    name = Some(
                        value::single(arg, "name = \"Send welcome email\"", errors).and_then(
                            |value| value::text(value, "name", "Send welcome email", errors),
                        ),
                    );
                }
                "description" => {
                    description = Some(
                        value::single(arg, "description = \"Sends the welcome email\"", errors)
                            .and_then(|value| {
                                value::text(value, "description", "Sends the welcome email", errors)
                            }),
                    );
                }
                "retries" => {
                    retries = Some(
                        value::single(arg, "retries = 3", errors)
                            .and_then(|value| value::retries(value, errors)),
                    );
                }
                "event" | "cron" => {
                    let count = keys.count("event") + keys.count("cron");
                    if count > limits::MAX_TRIGGERS {
                        let max = limits::MAX_TRIGGERS;
                        errors.at(
                            key.span(),
                            format_args!(
                                "a function has at most {max} triggers, Inngest's limit; \
                                 this is trigger {count}"
                            ),
                        );
                    } else if accepted == "event" {
                        triggers.extend(options::event(arg, errors));
                    } else {
                        triggers.extend(options::cron(arg, errors));
                    }
                }
                "concurrency" => {
                    if keys.count("concurrency") > limits::MAX_CONCURRENCY_LIMITS {
                        errors.at(
                            key.span(),
                            format_args!(
                                "a function has at most {} concurrency limits, Inngest's limit",
                                limits::MAX_CONCURRENCY_LIMITS
                            ),
                        );
                    } else {
                        options
                            .concurrency
                            .extend(options::concurrency(arg, errors));
                    }
                }
                "cancel_on" => {
                    if keys.count("cancel_on") > limits::MAX_CANCELLATIONS {
                        errors.at(
                            key.span(),
                            format_args!(
                                "a function has at most {} `cancel_on` events, Inngest's limit",
                                limits::MAX_CANCELLATIONS
                            ),
                        );
                    } else {
                        options.cancel_on.extend(options::cancel_on(arg, errors));
                    }
                }
                "throttle" => options.throttle = options::throttle(arg, errors),
                "rate_limit" => options.rate_limit = options::rate_limit(arg, errors),
                "debounce" => options.debounce = options::debounce(arg, errors),
                "idempotency" => options.idempotency = options::idempotency(arg, errors),
                "batch_events" => options.batch_events = options::batch_events(arg, errors),
                "priority" => options.priority = options::priority(arg, errors),
                "timeouts" => options.timeouts = options::timeouts(arg, errors),
                "singleton" => options.singleton = options::singleton(arg, errors),
                "checkpointing" => {
                    options.checkpointing = options::checkpointing(arg, errors);
                }
                "middleware" => {
                    if let Some(value) =
                        value::single(arg, "middleware = [Metrics, crate::auth::Auth]", errors)
                    {
                        middleware = value::middleware(value, errors);
                    }
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
        if keys.count("event") + keys.count("cron") == 0 {
            errors.missing(
                complete,
                "missing a trigger: `event = \"...\"`, the name of the event that triggers the \
                 function, such as `event = \"user/signup\"`, or `cron = \"...\"`, a schedule, \
                 such as `cron = \"0 9 * * *\"`",
            );
        }
        check::triggers(&triggers, &mut errors);
        check::combinations(keys.given(), &mut errors);
        let handler = check::handler(item, Macro::Function, &mut errors);

        errors.finish()?;
        match (handler, id.flatten()) {
            (Some(handler), Some(id)) if !triggers.is_empty() => Ok(Function {
                handler,
                id,
                name: name.flatten(),
                description: description.flatten(),
                middleware,
                retries: retries.flatten(),
                triggers,
                options,
            }),
            // Unreachable: each `None` here recorded an error. Stays an error, not a panic.
            _ => Err(syn::Error::new(
                Span::call_site(),
                "invalid #[inngest::function]",
            )),
        }
    }
}

impl Companion {
    /// Parses and validates `#[inngest::on_failure(args)] item` or
    /// `#[inngest::on_cancel(args)] item`; `Err` holds every error found, in the order of the
    /// source.
    pub fn build(
        kind: CompanionKind,
        args: TokenStream,
        item: TokenStream,
    ) -> syn::Result<Companion> {
        let which = kind.which();
        let mut errors = Errors::default();
        let (args, complete) = attr::parse(args, &mut errors);
        let mut keys = Keys::new(which.attribute(), HANDLER_KEYS, &[]);
        let (mut target, mut retries) = (None, None);
        for arg in &args {
            match arg {
                Arg::Positional(path) if target.is_none() => {
                    target = Some(value::target_path(path, &mut errors));
                }
                Arg::Positional(extra) => errors.spanned(
                    extra,
                    format_args!(
                        "{} handles one function; declare one `{}` handler per function",
                        which.subject(),
                        which.attribute()
                    ),
                ),
                Arg::List(list) => {
                    if target.is_none() {
                        target = Some(None);
                    }
                    errors.spanned(list, value::TARGET_EXPECTED);
                }
                Arg::KeyValue { key, .. } => {
                    if let Some("retries") = keys.accept(key, &mut errors) {
                        retries = Some(
                            value::single(arg, "retries = 1", &mut errors)
                                .and_then(|value| value::retries(value, &mut errors)),
                        );
                    }
                }
            }
        }
        if target.is_none() {
            errors.missing(
                complete,
                format_args!(
                    "missing the function this {} handles, such as `{}`",
                    kind.noun(),
                    which.attribute().replace(']', "(send_welcome)]")
                ),
            );
        }
        let handler = check::handler(item, which, &mut errors);
        let event = handler
            .as_ref()
            .and_then(|handler| check::handled_event(&handler.arg_ty, kind, &mut errors));

        errors.finish()?;
        match (handler, target.flatten(), event) {
            (Some(handler), Some(target), Some(event)) => Ok(Companion {
                kind,
                handler,
                target,
                retries: retries.flatten().unwrap_or(DEFAULT_HANDLER_RETRIES),
                event,
            }),
            // Unreachable: each `None` here recorded an error. Stays an error, not a panic.
            _ => Err(syn::Error::new(
                Span::call_site(),
                format_args!("invalid {}", which.attribute()),
            )),
        }
    }
}
