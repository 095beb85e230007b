//! Checks of the annotated item and across arguments: the item is a free `async fn` taking one
//! argument and returning a value, a handler's argument names `FunctionFailed` or
//! `FunctionCancelled`, the triggers are distinct, and no two options are given that the
//! Inngest server refuses together. Each error is spanned on the token that is wrong.
//!
//! Types are not checked here: the generated code names the user's argument and return types in
//! trait bounds (`ContextArg`, `FunctionReturn`, `SameEventAs`), so rustc checks them and points
//! at the user's tokens.

use proc_macro2::{Ident, Span, TokenStream};
use quote::ToTokens;
use syn::{FnArg, GenericArgument, Item, ItemFn, PathArguments, ReturnType, Type, TypePath};

use crate::errors::Errors;
use crate::model::{CompanionKind, HandledEvent, Handler, Macro};
use crate::options::Trigger;

/// The options the server refuses together, and why. Batching rules: `pkg/inngest/function.go`
/// `Function.Validate`; idempotency: `pkg/sdk/function.go` `SDKFunction.Function`.
const EXCLUSIVE: &[(&str, &str, &str)] = &[
    (
        "batch_events",
        "cancel_on",
        "Inngest refuses a function that both batches events and has cancellations",
    ),
    (
        "batch_events",
        "debounce",
        "Inngest refuses a function that both batches and debounces events",
    ),
    (
        "batch_events",
        "singleton",
        "Inngest refuses a function that is both batched and a singleton",
    ),
    (
        "batch_events",
        "priority",
        "Inngest refuses a function with both a batch and a run priority: a batch has no \
         single event to compute the priority from",
    ),
    (
        "idempotency",
        "rate_limit",
        "Inngest turns `idempotency` into a rate limit of one run per key per 24h, which \
         replaces `rate_limit`",
    ),
];

/// Options given together that the server refuses, each reported on the key given last.
pub fn combinations(given: &[(&'static str, Ident)], errors: &mut Errors) {
    let first = |key: &str| given.iter().position(|(given, _)| *given == key);
    for (a, b, why) in EXCLUSIVE {
        if let (Some(at_a), Some(at_b)) = (first(a), first(b)) {
            let (earlier, later) = if at_a < at_b { (a, at_b) } else { (b, at_a) };
            let (later_key, later_ident) = &given[later];
            errors.at(
                later_ident.span(),
                format_args!("`{later_key}` cannot be used with `{earlier}`: {why}"),
            );
        }
    }
}

/// Triggers the server refuses as duplicates (`MultipleTriggers.Validate`): the same event with
/// the same expression, or the same cron schedule (whatever the jitter); each reported on the
/// second one.
pub fn triggers(triggers: &[Trigger], errors: &mut Errors) {
    for (i, trigger) in triggers.iter().enumerate() {
        let earlier = &triggers[..i];
        match trigger {
            Trigger::Event { name, expression } => {
                let same = earlier.iter().any(|other| {
                    matches!(other, Trigger::Event { name: n, expression: e }
                        if n.value() == name.value()
                            && e.as_ref().map(|e| e.value()) == expression.as_ref().map(|e| e.value()))
                });
                if same {
                    errors.at(
                        name.span(),
                        format_args!(
                            "duplicate trigger: the event `{}` already triggers this function{}",
                            name.value(),
                            if expression.is_some() {
                                " with the same `if`"
                            } else {
                                ""
                            }
                        ),
                    );
                }
            }
            Trigger::Cron { schedule, .. } => {
                let same = earlier.iter().any(|other| {
                    matches!(other, Trigger::Cron { schedule: s, .. } if s.value() == schedule.value())
                });
                if same {
                    errors.at(
                        schedule.span(),
                        format_args!(
                            "duplicate trigger: the schedule `{}` already triggers this function",
                            schedule.value()
                        ),
                    );
                }
            }
        }
    }
}

/// The annotated item as a [`Handler`], or `None` with the reasons recorded in `errors`.
pub fn handler(item: TokenStream, which: Macro, errors: &mut Errors) -> Option<Handler> {
    let item = match syn::parse2::<Item>(item) {
        Ok(Item::Fn(item)) => item,
        Ok(other) => {
            let (span, what) = describe(&other);
            errors.at(
                span,
                format_args!(
                    "{} applies to an `async fn`, not to {what}",
                    which.attribute()
                ),
            );
            return None;
        }
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    let mut local = Errors::default();
    let (arg_ty, ret_ty) = signature(&item, which, &mut local);
    if let Err(error) = local.finish() {
        errors.push(error);
        return None;
    }
    Some(Handler {
        cfgs: item
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("cfg"))
            .cloned()
            .collect(),
        arg_ty: arg_ty?,
        ret_ty: ret_ty?,
        item,
    })
}

/// Checks the signature; returns the argument and return types when it has them.
fn signature(item: &ItemFn, which: Macro, errors: &mut Errors) -> (Option<Type>, Option<Type>) {
    let sig = &item.sig;
    let subject = which.subject();

    if let Some(constness) = &sig.constness {
        errors.spanned(constness, format_args!("{subject} cannot be a `const fn`"));
    }
    if sig.asyncness.is_none() {
        errors.spanned(
            sig.fn_token,
            format_args!(
                "{} applies to an `async fn`: write `async fn {}`",
                which.attribute(),
                sig.ident
            ),
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(unsafety, format_args!("{subject} cannot be `unsafe`"));
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, format_args!("{subject} cannot have an `extern` ABI"));
    }
    if !sig.generics.params.is_empty() {
        errors.spanned(
            &sig.generics,
            format_args!(
                "{subject} cannot be generic: its event and output types must be known \
                 when it is registered"
            ),
        );
    } else if let Some(where_clause) = &sig.generics.where_clause {
        errors.spanned(
            where_clause,
            format_args!("{subject} cannot have a `where` clause"),
        );
    }

    let mut receiver = false;
    let mut typed = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(self_arg) => {
                receiver = true;
                errors.spanned(
                    self_arg,
                    format_args!("{subject} is a free `async fn`; it cannot take `self`"),
                );
            }
            FnArg::Typed(arg) => typed.push(arg),
        }
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(variadic, format_args!("{subject} cannot be variadic"));
    }
    let arity = format!("{subject} takes exactly one argument, {}", which.argument());
    match typed.as_slice() {
        [] if !receiver => errors.at(sig.paren_token.span.join(), arity),
        [_, extra @ ..] if !extra.is_empty() => {
            let extra: TokenStream = extra.iter().map(|arg| arg.to_token_stream()).collect();
            errors.spanned(extra, format_args!("{arity}; remove this"));
        }
        _ => {}
    }
    let arg_ty = match typed.as_slice() {
        [arg] => match strip(&arg.ty) {
            Type::ImplTrait(impl_trait) => {
                errors.spanned(
                    impl_trait,
                    format_args!(
                        "{subject} cannot be generic: name the event type, {}",
                        which.argument()
                    ),
                );
                None
            }
            _ => Some((*arg.ty).clone()),
        },
        _ => None,
    };

    let ret_ty = match &sig.output {
        ReturnType::Type(_, ty) => Some((**ty).clone()),
        ReturnType::Default => {
            errors.spanned(
                sig,
                format_args!("{subject} must return `Result<T, inngest::Error>`"),
            );
            None
        }
    };
    (arg_ty, ret_ty)
}

/// The `E` of a handler's `Context<FunctionFailed<E>>` (or `FunctionCancelled<E>`), checked
/// syntactically: any path prefix is allowed (`inngest::Context<inngest::FunctionFailed<E>>`), a
/// type alias is not.
pub fn handled_event(
    arg_ty: &Type,
    kind: CompanionKind,
    errors: &mut Errors,
) -> Option<HandledEvent> {
    let payload = kind.payload();
    let event = single_type_argument(arg_ty, "Context")
        .and_then(|inner| payload_event(strip(inner), payload));
    if event.is_none() {
        errors.spanned(
            arg_ty,
            format_args!(
                "{} takes `Context<{payload}<E>>`, where `E` is the event type of the function \
                 it handles (or `Context<{payload}>` for raw JSON)",
                kind.which().subject()
            ),
        );
    }
    event
}

/// `FunctionFailed` (raw) or `FunctionFailed<E>`, or the same with another `payload` name.
fn payload_event(ty: &Type, payload: &str) -> Option<HandledEvent> {
    let segment = last_segment(ty, payload)?;
    match &segment.arguments {
        PathArguments::None => Some(HandledEvent::Raw),
        PathArguments::AngleBracketed(_) => single_type_argument(ty, payload)
            .map(|inner| HandledEvent::Typed(Box::new(inner.clone()))),
        PathArguments::Parenthesized(_) => None,
    }
}

/// `T` in `…::Name<T>`.
fn single_type_argument<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    match &last_segment(ty, name)?.arguments {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            GenericArgument::Type(inner) => Some(inner),
            _ => None,
        },
        _ => None,
    }
}

/// The last segment of the path type `ty` if it is called `name`.
fn last_segment<'a>(ty: &'a Type, name: &str) -> Option<&'a syn::PathSegment> {
    match strip(ty) {
        Type::Path(TypePath { qself: None, path }) => {
            path.segments.last().filter(|last| last.ident == name)
        }
        _ => None,
    }
}

/// `ty` without parentheses and the invisible groups of `macro_rules!` fragments.
fn strip(mut ty: &Type) -> &Type {
    loop {
        match ty {
            Type::Group(group) => ty = &group.elem,
            Type::Paren(paren) => ty = &paren.elem,
            _ => return ty,
        }
    }
}

/// The keyword of an item that is not a fn, for "applies to an `async fn`, not to a struct".
fn describe(item: &Item) -> (Span, &'static str) {
    match item {
        Item::Struct(item) => (item.struct_token.span, "a struct"),
        Item::Enum(item) => (item.enum_token.span, "an enum"),
        Item::Union(item) => (item.union_token.span, "a union"),
        Item::Impl(item) => (item.impl_token.span, "an `impl` block"),
        Item::Trait(item) => (item.trait_token.span, "a trait"),
        Item::Mod(item) => (item.mod_token.span, "a module"),
        Item::Const(item) => (item.const_token.span, "a const"),
        Item::Static(item) => (item.static_token.span, "a static"),
        Item::Type(item) => (item.type_token.span, "a type alias"),
        Item::Use(item) => (item.use_token.span, "a `use` declaration"),
        _ => (Span::call_site(), "this item"),
    }
}
