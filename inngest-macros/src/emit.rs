//! Code generation from a validated model (`model.rs`).
//!
//! Beside the user's `async fn`, left unchanged, each attribute emits a hidden braced struct of
//! the same name (braced, so it lives in the type namespace only) and, inside `const _: () = {..}`,
//! its `Function` impl and its `inventory` registration. Every path goes through `paths.rs`.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::LitStr;

use crate::model::{FailedEvent, Function, Handler, OnFailure};
use crate::paths::Paths;

/// The expansion of `#[inngest::function]`.
pub fn function(function: &Function) -> TokenStream {
    let p = Paths::call_site();
    let Function {
        handler,
        id,
        event,
        retries,
        name,
    } = function;
    let (definition, trigger, kind, none) = (p.definition(), p.trigger(), p.kind(), p.none());
    // Plain string literals, whatever the user wrote (`r"..."`, a suffix).
    let plain = |lit: &LitStr| LitStr::new(&lit.value(), lit.span());
    let (id, event) = (plain(id), plain(event));
    let name = option(name.as_ref().map(plain).as_ref());
    let retries = option(retries.map(Literal::u32_unsuffixed).as_ref());
    let (package, file, line, rust_name) = declared_at(handler);
    let definition = quote! {
        &#definition {
            id: #id,
            name: #name,
            triggers: &[#trigger::Event { name: #event, expression: #none }],
            retries: #retries,
            kind: #kind::Function,
            package: #package,
            file: #file,
            line: #line,
            rust_name: #rust_name,
        }
    };
    items(handler, definition, TokenStream::new())
}

/// The expansion of `#[inngest::on_failure]`.
pub fn on_failure(on_failure: &OnFailure) -> TokenStream {
    let p = Paths::call_site();
    let OnFailure {
        handler,
        target,
        retries,
        event,
    } = on_failure;
    // Every use of the target is spanned on the user's path, so that a typo or a fn that is
    // not an Inngest function is reported there.
    let at_target = Paths::at(target.span());
    let target_function = at_target.function();
    let target_definition =
        quote_spanned!(target.span()=> <#target as #target_function>::DEFINITION);
    let (failure_definition, some) = (p.failure_definition(), p.some());
    let retries = Literal::u32_unsuffixed(*retries);
    let (package, file, line, rust_name) = declared_at(handler);
    // `FunctionFailed<E>`: `E` must be the target's event type; the error points at `E`. The
    // check sits in the definition, beside the other use of the target, so that a typo in the
    // path is reported once.
    let event_check = match event {
        FailedEvent::Typed(event) => {
            let at_event = Paths::at(event.span());
            let (assert_same_event, function) = (at_event.assert_same_event(), at_event.function());
            quote_spanned! {event.span()=>
                #assert_same_event::<#event, <#target as #function>::Event>();
            }
        }
        FailedEvent::Raw => TokenStream::new(),
    };
    let definition = quote! {
        &{
            #event_check
            #failure_definition(
                #target_definition,
                #some(#retries),
                #package,
                #file,
                #line,
                #rust_name,
            )
        }
    };

    // A second handler for the same function is a second impl: E0119, on its path.
    let one_failure_handler = at_target.one_failure_handler();
    let checks = quote_spanned! {target.span()=>
        impl #one_failure_handler for #target {}
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
        ident,
        vis,
        cfgs,
        arg_ty,
        ret_ty,
    } = handler;
    // The argument and return types are checked by rustc through these traits. Each item is
    // spanned at the user's type, so that "must be `inngest::Context<E>`", or "private type in
    // public interface" (an event type less visible than the fn), points at it.
    let context_arg = Paths::at(arg_ty.span()).context_arg();
    let event = quote_spanned! {arg_ty.span()=>
        type Event = <#arg_ty as #context_arg>::Event;
    };
    let function_return = Paths::at(ret_ty.span()).function_return();
    let output = quote_spanned! {ret_ty.span()=>
        type Output = <#ret_ty as #function_return>::Output;
    };

    // "future cannot be sent between threads safely" points at the fn's name.
    let box_future = Paths::at(ident.span()).box_future();
    let body = quote_spanned!(ident.span()=> #box_future(#ident(__inngest_ctx)));
    // `call` takes the user's own argument type, which equals the trait's `Context<Self::Event>`
    // once normalized: a wrong argument type is then reported on the user's type (by
    // `ContextArg`, and as a mismatch with the trait) rather than in the call of the user's fn.
    // The item is spanned at the user's return type: rustc checks the `Self::Output` of its
    // signature at the item's span, and the same error at the same span is shown once.
    let at_ret = Paths::at(ret_ty.span());
    let (box_future_type, result, error) =
        (at_ret.box_future_type(), at_ret.result(), at_ret.error());
    let call = quote_spanned! {ret_ty.span()=>
        #[allow(deprecated)]
        fn call(__inngest_ctx: #arg_ty) -> #box_future_type<#result<Self::Output, #error>> {
            #body
        }
    };

    let (function, definition_type) = (p.function(), p.definition());
    let (inventory, registration) = (p.inventory(), p.registration());
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

/// The `package`, `file`, `line` and `rust_name` of a definition.
fn declared_at(handler: &Handler) -> (TokenStream, TokenStream, TokenStream, TokenStream) {
    let p = Paths::call_site();
    let (env, file, line) = (p.env(), p.file(), p.line());
    let (concat, module_path) = (p.concat(), p.module_path());
    let name = LitStr::new(&handler.ident.unraw().to_string(), handler.ident.span());
    (
        quote!(#env!("CARGO_PKG_NAME")),
        quote!(#file!()),
        quote!(#line!()),
        quote!(#concat!(#module_path!(), "::", #name)),
    )
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
