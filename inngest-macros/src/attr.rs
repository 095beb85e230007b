//! The syntax of an attribute's arguments: `key = value` pairs, `key(..)` lists of arguments
//! and positional arguments, each kept with its tokens (so with its span). Nothing is validated
//! here beyond the syntax; what the keys mean, and which values they take, is `model.rs`'s and
//! `options.rs`'s business.

use proc_macro2::{Group, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{Expr, Ident, Token};

use crate::errors::Errors;

/// One argument of `#[inngest::function(..)]`, `#[inngest::on_failure(..)]` or
/// `#[inngest::on_cancel(..)]`, or of a list such as `throttle(..)`.
pub enum Arg {
    /// `key = value`. The key may be any identifier, even a keyword (`if = ..`), so that an
    /// unknown key is reported as such rather than as a syntax error.
    KeyValue {
        /// The key, spanned where the user wrote it.
        key: Ident,
        /// The value, any expression: `model.rs` says which ones are accepted.
        value: Expr,
    },
    /// `key(..)`: a list of arguments, such as `throttle(limit = 10, period = "1m")`.
    List(List),
    /// An argument without a key, such as the function path of `#[on_failure(send_welcome)]`.
    Positional(Expr),
}

/// `key(args)`, its arguments not parsed yet: [`List::args`] parses them, recording their
/// errors beside the others.
pub struct List {
    /// The key, spanned where the user wrote it.
    pub key: Ident,
    /// The parentheses and what is between them.
    pub group: Group,
}

impl List {
    /// The arguments between the parentheses, as [`parse`] returns them.
    pub fn args(&self, errors: &mut Errors) -> (Vec<Arg>, bool) {
        parse(self.group.stream(), errors)
    }
}

impl ToTokens for List {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.key.to_tokens(tokens);
        self.group.to_tokens(tokens);
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let is_key_value =
            input.peek(Ident::peek_any) && input.peek2(Token![=]) && !input.peek2(Token![==]);
        let is_list = input.peek(Ident::peek_any) && input.peek2(syn::token::Paren);
        if is_list {
            let key = Ident::parse_any(input)?;
            let group = input.parse::<Group>()?;
            Ok(Arg::List(List { key, group }))
        } else if is_key_value {
            let key = Ident::parse_any(input)?;
            let eq = input.parse::<Token![=]>()?;
            if input.is_empty() {
                return Err(syn::Error::new_spanned(
                    quote::quote!(#key #eq),
                    format_args!("missing the value of `{key}`"),
                ));
            }
            let value = input.parse()?;
            Ok(Arg::KeyValue { key, value })
        } else if input.peek(Ident::peek_any) && input.peek2(syn::Lit) {
            // `event "user/signup"`
            let key = Ident::parse_any(input)?;
            Err(input.error(format_args!("expected `=` between `{key}` and its value")))
        } else {
            input.parse().map(Arg::Positional)
        }
    }
}

/// The arguments between the attribute's parentheses, separated by commas, with an optional
/// trailing comma.
///
/// Each argument is parsed on its own, so that one malformed argument does not hide the
/// mistakes in the others. The second value is `false` when an argument could not be parsed
/// (its error is in `errors`): then a key may be missing only because its argument was
/// malformed, and the caller should not report it as missing.
pub fn parse(args: TokenStream, errors: &mut Errors) -> (Vec<Arg>, bool) {
    let mut parsed = Vec::new();
    let mut complete = true;
    let mut chunk = TokenStream::new();
    let mut tokens = args.into_iter().peekable();
    while let Some(token) = tokens.next() {
        let comma = matches!(&token, TokenTree::Punct(punct) if punct.as_char() == ',');
        if !comma {
            chunk.extend([token]);
            if tokens.peek().is_some() {
                continue;
            }
        } else if chunk.is_empty() {
            errors.spanned(&token, "expected an argument before this `,`");
            complete = false;
            continue;
        }
        match one_arg.parse2(std::mem::take(&mut chunk)) {
            Ok(arg) => parsed.push(arg),
            Err(error) => {
                errors.push(error);
                complete = false;
            }
        }
    }
    (parsed, complete)
}

/// One argument, alone up to the next comma.
fn one_arg(input: ParseStream) -> syn::Result<Arg> {
    let arg = input.parse()?;
    if !input.is_empty() {
        return Err(input.error("expected `,` before this: arguments are separated by commas"));
    }
    Ok(arg)
}

/// `expr` without the invisible groups that `macro_rules!` puts around `$e:expr` fragments.
pub fn ungroup(mut expr: &Expr) -> &Expr {
    while let Expr::Group(group) = expr {
        expr = &group.expr;
    }
    expr
}
