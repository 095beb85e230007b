//! The syntax of an attribute's arguments: `key = value` pairs and positional arguments, each
//! kept with its tokens (so with its span). Nothing is validated here beyond the syntax; what the
//! keys mean, and which values they take, is `model.rs`'s business.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Token};

/// One argument of `#[inngest::function(..)]` or `#[inngest::on_failure(..)]`.
pub enum Arg {
    /// `key = value`. The key may be any identifier, even a keyword (`type = ..`), so that an
    /// unknown key is reported as such rather than as a syntax error.
    KeyValue {
        /// The key, spanned where the user wrote it.
        key: Ident,
        /// The value, any expression: `model.rs` says which ones are accepted.
        value: Expr,
    },
    /// An argument without a key, such as the function path of `#[on_failure(send_welcome)]`.
    Positional(Expr),
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let is_key_value =
            input.peek(Ident::peek_any) && input.peek2(Token![=]) && !input.peek2(Token![==]);
        if is_key_value {
            let key = Ident::parse_any(input)?;
            input.parse::<Token![=]>()?;
            let value = input.parse()?;
            Ok(Arg::KeyValue { key, value })
        } else {
            input.parse().map(Arg::Positional)
        }
    }
}

/// Parses the tokens between the attribute's parentheses: arguments separated by commas, with
/// an optional trailing comma.
pub fn parse(args: TokenStream) -> syn::Result<Vec<Arg>> {
    let args = Punctuated::<Arg, Token![,]>::parse_terminated.parse2(args)?;
    Ok(args.into_iter().collect())
}

/// `expr` without the invisible groups that `macro_rules!` puts around `$e:expr` fragments.
pub fn ungroup(mut expr: &Expr) -> &Expr {
    while let Expr::Group(group) = expr {
        expr = &group.expr;
    }
    expr
}
