//! The transcribers of a `macro_rules!` definition as Rust the analysis can read: each arm's
//! right-hand side with its metavariables made plain identifiers (`$v` → `v`, `$crate` →
//! `crate`) and each repetition written once (`$($x),*` → `x`), parsed as statements (items,
//! such as the `impl` blocks a macro defines, are statements too). A fallible call the body drops or unwraps is then found once, at its place in
//! the definition, whatever the macro is invoked with.
use proc_macro2::{Delimiter, Group, Spacing, TokenStream, TokenTree};

/// The transcribers of the `macro_rules!` whose body (between its braces) is `tokens`, as
/// statements, each that parses.
pub(crate) fn transcribers(tokens: &TokenStream) -> Vec<Vec<syn::Stmt>> {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let mut out = Vec::new();
    // `(matcher) => {transcriber}` arms, separated by `;`.
    let mut i = 0;
    while i < trees.len() {
        let arrow = matches!(
            (&trees[i], trees.get(i + 1), trees.get(i + 2)),
            (
                TokenTree::Group(_),
                Some(TokenTree::Punct(eq)),
                Some(TokenTree::Punct(gt)),
            ) if eq.as_char() == '=' && eq.spacing() == Spacing::Joint && gt.as_char() == '>'
        );
        if !arrow {
            i += 1;
            continue;
        }
        if let Some(TokenTree::Group(body)) = trees.get(i + 3) {
            out.extend(parse(plain(body.stream(), 0)));
        }
        i += 4;
    }
    out
}

/// How deep [`plain`] descends into nested groups.
const MAX_GROUP_DEPTH: usize = 64;

/// `tokens` with metavariables made identifiers and repetitions written once.
fn plain(tokens: TokenStream, depth: usize) -> TokenStream {
    let mut out = Vec::new();
    let mut trees = tokens.into_iter().peekable();
    while let Some(tt) = trees.next() {
        match tt {
            TokenTree::Punct(p) if p.as_char() == '$' => match trees.next() {
                // `$v`, `$crate`.
                Some(TokenTree::Ident(id)) => out.push(TokenTree::Ident(id)),
                // `$( … ) sep? op`: the contents once, without separator and operator.
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                    if depth < MAX_GROUP_DEPTH {
                        out.extend(plain(g.stream(), depth + 1));
                    }
                    let is_op = |t: &TokenTree| matches!(t, TokenTree::Punct(p) if matches!(p.as_char(), '*' | '+' | '?'));
                    // The operator, or a separator and then the operator.
                    if trees.next().is_some_and(|t| !is_op(&t)) && trees.peek().is_some_and(is_op) {
                        trees.next();
                    }
                }
                Some(other) => out.push(other),
                None => {}
            },
            TokenTree::Group(g) if depth < MAX_GROUP_DEPTH => {
                let mut new = Group::new(g.delimiter(), plain(g.stream(), depth + 1));
                new.set_span(g.span());
                out.push(TokenTree::Group(new));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// A transcriber's tokens as statements, if they parse.
fn parse(tokens: TokenStream) -> Option<Vec<syn::Stmt>> {
    use syn::parse::Parser;
    syn::Block::parse_within.parse2(tokens).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(src: &str) -> TokenStream {
        let mac: syn::ItemMacro = syn::parse_str(src).unwrap_or_else(|e| panic!("{e}"));
        mac.mac.tokens
    }

    #[test]
    fn metavariables_and_repetitions_become_plain_rust() {
        let body = |src: &str| plain(src.parse().unwrap_or_else(|e| panic!("{e}")), 0).to_string();
        assert_eq!(
            body("$( $v.try_reserve($n).unwrap(); )*"),
            "v . try_reserve (n) . unwrap () ;"
        );
        assert_eq!(body("f($($x),*)"), "f (x)");
        assert_eq!(
            body("{ $crate::grow!($v, 1) }"),
            "{ crate :: grow ! (v , 1) }"
        );
        assert_eq!(body("$($x)?; y"), "x ; y");
    }

    #[test]
    fn arms_parse_as_statements() {
        let arms = transcribers(&definition(
            "macro_rules! grow {
                ($v:expr, $($n:expr),*) => { $( $v.try_reserve($n).unwrap(); )* };
                ($v:expr) => {{ $crate::grow!($v, 1) }};
                (impl $t:ident) => { impl $t { fn f(&self) {} } };
                (bad) => { $v :: :: ; };
            }",
        ));
        let kinds: Vec<Vec<&str>> = arms
            .iter()
            .map(|stmts| {
                stmts
                    .iter()
                    .map(|s| match s {
                        syn::Stmt::Item(_) => "item",
                        syn::Stmt::Expr(_, Some(_)) => "expr;",
                        syn::Stmt::Expr(_, None) => "tail",
                        _ => "other",
                    })
                    .collect()
            })
            .collect();
        assert_eq!(kinds, [vec!["expr;"], vec!["tail"], vec!["item"]]);
    }
}
