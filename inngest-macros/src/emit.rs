//! Code generation from a validated model (`model.rs`, `options.rs`).
//!
//! Beside the user's `async fn` (emitted as a fn that returns an `async move` block:
//! [`held_once`]), each attribute emits a hidden braced struct of the same name (braced, so it
//! lives in the type namespace only) and, inside `const _: () = {..}`, its `Function` impl and
//! its `inventory` registration. Every path goes through `paths.rs`.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::LitStr;

use crate::model::{Companion, CompanionKind, Function, HandledEvent, Handler};
use crate::options::{Options, Scope, SingletonMode, Trigger};
use crate::paths::Paths;

/// The expansion of `#[inngest::function]`.
pub fn function(function: &Function) -> TokenStream {
    let p = Paths::call_site();
    let Function {
        handler,
        id,
        name,
        description,
        middleware,
        retries,
        triggers,
        options,
    } = function;
    let (definition, kind) = (p.definition(), p.kind());
    let id = plain(id);
    let name = option_str(name.as_ref());
    let description = option_str(description.as_ref());
    // Each one is checked (`Middleware + Default`) on the user's path.
    let middleware = middleware.iter().map(|path| {
        let factory = Paths::at(path.span()).middleware_factory();
        quote_spanned!(path.span()=> #factory::of::<#path>())
    });
    let retries = option(retries.map(Literal::u32_unsuffixed).as_ref());
    let triggers = triggers.iter().map(trigger);
    let options = self::options(options);
    let (package, file, line, rust_name) = declared_at(handler);
    let definition = quote! {
        &#definition {
            id: #id,
            name: #name,
            description: #description,
            triggers: &[#(#triggers),*],
            retries: #retries,
            options: #options,
            middleware: &[#(#middleware),*],
            kind: #kind::Function,
            package: #package,
            file: #file,
            line: #line,
            rust_name: #rust_name,
        }
    };
    items(handler, definition, TokenStream::new())
}

/// A trigger: `Trigger::Event { .. }` or `Trigger::Cron { .. }`.
fn trigger(trigger: &Trigger) -> TokenStream {
    let trigger_type = Paths::call_site().trigger();
    match trigger {
        Trigger::Event { name, expression } => {
            let (name, expression) = (plain(name), option_str(expression.as_ref()));
            quote!(#trigger_type::Event { name: #name, expression: #expression })
        }
        Trigger::Cron { schedule, jitter } => {
            let (schedule, jitter) = (plain(schedule), option_str(jitter.as_ref()));
            quote!(#trigger_type::Cron { schedule: #schedule, jitter: #jitter })
        }
    }
}

/// `Options::NONE`, or the options given and `..Options::NONE` for the others.
fn options(options: &Options) -> TokenStream {
    let p = Paths::call_site();
    let options_type = p.options();
    let Options {
        concurrency,
        throttle,
        rate_limit,
        debounce,
        idempotency,
        batch_events,
        cancel_on,
        priority,
        timeouts,
        singleton,
        checkpointing,
    } = options;
    let mut fields = Vec::new();
    if !concurrency.is_empty() {
        let (concurrency_type, scope_type) = (p.concurrency(), p.scope());
        let limits = concurrency.iter().map(|c| {
            let limit = Literal::u32_unsuffixed(c.limit);
            let key = option_str(c.key.as_ref());
            let scope = option(
                c.scope
                    .map(|scope| match scope {
                        Scope::Fn => quote!(#scope_type::Fn),
                        Scope::Env => quote!(#scope_type::Env),
                        Scope::Account => quote!(#scope_type::Account),
                    })
                    .as_ref(),
            );
            quote!(#concurrency_type { limit: #limit, key: #key, scope: #scope })
        });
        fields.push(quote!(concurrency: &[#(#limits),*]));
    }
    if let Some(t) = throttle {
        let throttle_type = p.throttle();
        let (limit, period) = (Literal::u32_unsuffixed(t.limit), plain(&t.period));
        let burst = option(t.burst.map(Literal::u32_unsuffixed).as_ref());
        let key = option_str(t.key.as_ref());
        let value =
            quote!(#throttle_type { limit: #limit, period: #period, burst: #burst, key: #key });
        fields.push(quote_field("throttle", &value));
    }
    if let Some(r) = rate_limit {
        let rate_limit_type = p.rate_limit();
        let (limit, period) = (Literal::u32_unsuffixed(r.limit), plain(&r.period));
        let key = option_str(r.key.as_ref());
        let value = quote!(#rate_limit_type { limit: #limit, period: #period, key: #key });
        fields.push(quote_field("rate_limit", &value));
    }
    if let Some(d) = debounce {
        let debounce_type = p.debounce();
        let period = plain(&d.period);
        let (key, timeout) = (option_str(d.key.as_ref()), option_str(d.timeout.as_ref()));
        let value = quote!(#debounce_type { period: #period, key: #key, timeout: #timeout });
        fields.push(quote_field("debounce", &value));
    }
    if let Some(idempotency) = idempotency {
        fields.push(quote_field(
            "idempotency",
            &plain(idempotency).into_token_stream(),
        ));
    }
    if let Some(b) = batch_events {
        let batch_events_type = p.batch_events();
        let (max_size, timeout) = (Literal::u32_unsuffixed(b.max_size), plain(&b.timeout));
        let key = option_str(b.key.as_ref());
        let if_expression = option_str(b.if_expression.as_ref());
        let value = quote! {
            #batch_events_type {
                max_size: #max_size,
                timeout: #timeout,
                key: #key,
                if_expression: #if_expression,
            }
        };
        fields.push(quote_field("batch_events", &value));
    }
    if !cancel_on.is_empty() {
        let cancel_on_type = p.cancel_on();
        let cancellations = cancel_on.iter().map(|c| {
            let event = plain(&c.event);
            let if_expression = option_str(c.if_expression.as_ref());
            let timeout = option_str(c.timeout.as_ref());
            quote!(#cancel_on_type { event: #event, if_expression: #if_expression, timeout: #timeout })
        });
        fields.push(quote!(cancel_on: &[#(#cancellations),*]));
    }
    if let Some(priority) = priority {
        let (priority_type, run) = (p.priority(), plain(&priority.run));
        fields.push(quote_field(
            "priority",
            &quote!(#priority_type { run: #run }),
        ));
    }
    if let Some(t) = timeouts {
        let timeouts_type = p.timeouts();
        let (start, finish) = (option_str(t.start.as_ref()), option_str(t.finish.as_ref()));
        let value = quote!(#timeouts_type { start: #start, finish: #finish });
        fields.push(quote_field("timeouts", &value));
    }
    if let Some(s) = singleton {
        let (singleton_type, mode_type) = (p.singleton(), p.singleton_mode());
        let key = option_str(s.key.as_ref());
        let mode = match s.mode {
            SingletonMode::Skip => quote!(#mode_type::Skip),
            SingletonMode::Cancel => quote!(#mode_type::Cancel),
        };
        let value = quote!(#singleton_type { key: #key, mode: #mode });
        fields.push(quote_field("singleton", &value));
    }
    if let Some(c) = checkpointing {
        fields.push(quote_field("checkpointing", &checkpointing_value(c)));
    }
    if fields.is_empty() {
        return quote!(#options_type::NONE);
    }
    quote!(#options_type { #(#fields,)* ..#options_type::NONE })
}

/// `Checkpointing::ON.buffered_steps(..)...` or `Checkpointing::OFF`, a constant expression.
fn checkpointing_value(c: &crate::options::Checkpointing) -> TokenStream {
    let p = Paths::call_site();
    let (ty, duration) = (p.checkpointing(), p.duration());
    if !c.enabled {
        return quote!(#ty::OFF);
    }
    let mut value = quote!(#ty::ON);
    if let Some(n) = c.buffered_steps {
        let n = Literal::u32_unsuffixed(n);
        value = quote!(#value.buffered_steps(#n));
    }
    let nanos = |d: std::time::Duration| Literal::u64_unsuffixed(d.as_nanos() as u64);
    if let Some(d) = c.max_interval {
        let n = nanos(d);
        value = quote!(#value.max_interval(#duration::from_nanos(#n)));
    }
    if let Some(d) = c.max_runtime {
        let n = nanos(d);
        value = quote!(#value.max_runtime(#duration::from_nanos(#n)));
    }
    value
}

/// `field: Some(value)`.
fn quote_field(field: &str, value: &TokenStream) -> TokenStream {
    let field = syn::Ident::new(field, proc_macro2::Span::call_site());
    let value = option(Some(value));
    quote!(#field: #value)
}

/// The expansion of `#[inngest::on_failure]` and `#[inngest::on_cancel]`.
pub fn companion(companion: &Companion) -> TokenStream {
    let p = Paths::call_site();
    let Companion {
        kind,
        handler,
        target,
        retries,
        event,
    } = companion;
    // Every use of the target is spanned on the user's path, so that a typo or a fn that is
    // not an Inngest function is reported there.
    let at_target = Paths::at(target.span());
    let target_function = at_target.function();
    let target_definition =
        quote_spanned!(target.span()=> <#target as #target_function>::DEFINITION);
    let (companion_definition, one_handler) = match kind {
        CompanionKind::Failure => (p.failure_definition(), at_target.one_failure_handler()),
        CompanionKind::Cancel => (p.cancel_definition(), at_target.one_cancel_handler()),
    };
    let some = p.some();
    let retries = Literal::u32_unsuffixed(*retries);
    let (package, file, line, rust_name) = declared_at(handler);
    // `FunctionFailed<E>`: `E` must be the target's event type; the error points at `E`. The
    // check sits in the definition, beside the other use of the target, so that a typo in the
    // path is reported once.
    let event_check = match event {
        HandledEvent::Typed(event) => {
            let at_event = Paths::at(event.span());
            let assert_same_event = match kind {
                CompanionKind::Failure => at_event.assert_same_event(),
                CompanionKind::Cancel => at_event.assert_same_cancelled_event(),
            };
            let function = at_event.function();
            quote_spanned! {event.span()=>
                #assert_same_event::<#event, <#target as #function>::Event>();
            }
        }
        HandledEvent::Raw => TokenStream::new(),
    };
    let definition = quote! {
        &{
            #event_check
            #companion_definition(
                #target_definition,
                #some(#retries),
                #package,
                #file,
                #line,
                #rust_name,
            )
        }
    };

    // A second handler of the same kind for the same function is a second impl: E0119, on its
    // path.
    let checks = quote_spanned! {target.span()=>
        impl #one_handler for #target {}
    };
    items(handler, definition, checks)
}

/// The user's fn unchanged and the errors, when the model could not be built: the editor keeps
/// seeing the fn, and the user sees every error.
pub fn fallback(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.into_compile_error();
    quote!(#item #error)
}

/// The items both attributes emit: the fn, the hidden struct, its `Function` impl with
/// `definition`, the `checks`, and the registration.
fn items(handler: &Handler, definition: TokenStream, checks: TokenStream) -> TokenStream {
    let p = Paths::call_site();
    let Handler {
        item,
        cfgs,
        arg_ty,
        ret_ty,
    } = handler;
    // The hidden type takes the fn's name and visibility.
    let (ident, vis) = (&item.sig.ident, &item.vis);
    // The argument and return types are checked by rustc through these traits. Each item is
    // spanned at the user's type, so that "must be `inngest::Context<E>`", or "private type in
    // public interface" (an event type less visible than the fn), points at it.
    let context_arg = Paths::at(arg_ty.span()).context_arg();
    let event = quote_spanned! {arg_ty.span()=>
        type Event = <#arg_ty as #context_arg>::Event;
    };
    let at_ret = Paths::at(ret_ty.span());
    let function_return = at_ret.function_return();
    let output = quote_spanned! {ret_ty.span()=>
        type Output = <#ret_ty as #function_return>::Output;
    };

    // "future cannot be sent between threads safely" points at the fn's name.
    let put = Paths::at(ident.span()).put();
    // The argument's name is one token, declared and used as is: quoted twice under two spans,
    // it would be two names when the fn's name and types come from different macro contexts
    // (a `macro_rules!` that takes the name as `$name:ident`). So is the sink's.
    let ctx = Ident::new("__inngest_ctx", ident.span());
    let sink = Ident::new("__inngest_sink", ident.span());
    let body = quote_spanned!(ident.span()=> #put(#sink, #ident(#ctx)));
    // `call` takes the user's own argument type, which equals the trait's `Context<Self::Event>`
    // once normalized: a wrong argument type is then reported on the user's type (by
    // `ContextArg`, and as a mismatch with the trait) rather than in the call of the user's fn.
    // The item is spanned at the user's return type: rustc checks the `Self::Output` of its
    // signature at the item's span, and the same error at the same span is shown once.
    let future_sink = at_ret.future_sink();
    let call = quote_spanned! {ret_ty.span()=>
        #[allow(deprecated)]
        fn call<__InngestSink: #future_sink<Self>>(
            #ctx: #arg_ty,
            #sink: __InngestSink,
        ) -> <__InngestSink as #future_sink<Self>>::Out {
            #body
        }
    };

    let (function, definition_type) = (p.function(), p.definition());
    let (inventory, registration) = (p.inventory(), p.registration());
    let item = held_once(item);
    quote! {
        #item

        #(#cfgs)*
        #[allow(non_camel_case_types, dead_code)]
        #[doc(hidden)]
        #vis struct #ident {}

        #(#cfgs)*
        const _: () = {
            impl #function for #ident {
                #event
                #output
                const DEFINITION: &'static #definition_type = #definition;
                #call
            }

            #checks

            #inventory::submit! {
                #registration::of::<#ident>()
            }
        };
    }
}

/// The user's `async fn` as a fn that returns an `async move` block, when its argument is a
/// plain name (`ctx`, not `mut ctx` or a pattern): the block holds the argument once, where an
/// `async fn`'s future holds it twice (as its captured argument and as the body's local), and
/// every call moves that future into the call's box. The fn is called and awaited as before;
/// the body, its spans and its `return`s are the user's own. Any other fn is left as written.
fn held_once(item: &syn::ItemFn) -> TokenStream {
    let sig = &item.sig;
    let arg = match sig.inputs.first() {
        Some(syn::FnArg::Typed(arg)) if sig.inputs.len() == 1 => match &*arg.pat {
            syn::Pat::Ident(syn::PatIdent {
                by_ref: None,
                mutability: None,
                subpat: None,
                ident,
                ..
            }) => ident,
            _ => return item.to_token_stream(),
        },
        _ => return item.to_token_stream(),
    };
    let generic = !sig.generics.params.is_empty() || sig.generics.where_clause.is_some();
    let (Some(asyncness), syn::ReturnType::Type(arrow, ret_ty), false) =
        (sig.asyncness, &sig.output, generic)
    else {
        return item.to_token_stream();
    };
    let future = Paths::at(ret_ty.span()).future();
    let mut plain = sig.clone();
    plain.asyncness = None;
    plain.output = syn::ReturnType::Default;
    // Inner attributes (`#![allow(..)]` in the body) stay in the fn's body.
    let (inner, outer): (Vec<_>, Vec<_>) = item
        .attrs
        .iter()
        .partition(|a| matches!(a.style, syn::AttrStyle::Inner(_)));
    let (vis, stmts) = (&item.vis, &item.block.stmts);
    // The block captures the argument whole, as the `async fn` did: a `move` block captures
    // only the fields its body uses, and the rest would be dropped before it runs.
    let body = quote_spanned! {asyncness.span=>
        async move {
            let _ = &#arg;
            #(#stmts)*
        }
    };
    quote! {
        #(#outer)*
        #[allow(clippy::manual_async_fn)]
        #vis #plain #arrow impl #future<Output = #ret_ty> {
            #(#inner)*
            #body
        }
    }
}

/// The `package`, `file`, `line` and `rust_name` of a definition.
fn declared_at(handler: &Handler) -> (TokenStream, TokenStream, TokenStream, TokenStream) {
    let p = Paths::call_site();
    let (env, file, line) = (p.env(), p.file(), p.line());
    let (concat, module_path) = (p.concat(), p.module_path());
    let ident = &handler.item.sig.ident;
    let name = LitStr::new(&ident.unraw().to_string(), ident.span());
    (
        quote!(#env!("CARGO_PKG_NAME")),
        quote!(#file!()),
        quote!(#line!()),
        quote!(#concat!(#module_path!(), "::", #name)),
    )
}

/// A plain string literal, whatever the user wrote (`r"..."`, a suffix).
fn plain(lit: &LitStr) -> LitStr {
    LitStr::new(&lit.value(), lit.span())
}

/// `Some("..")` or `None`.
fn option_str(lit: Option<&LitStr>) -> TokenStream {
    option(lit.map(plain).as_ref())
}

/// `Some(value)` or `None`.
fn option(value: Option<&impl ToTokens>) -> TokenStream {
    let p = Paths::call_site();
    match value {
        Some(value) => {
            let some = p.some();
            quote!(#some(#value))
        }
        None => p.none(),
    }
}
