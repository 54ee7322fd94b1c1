//! Small syntactic helpers: names of paths and types, peeling wrappers, test attributes, spans.
use proc_macro2::Span as PmSpan;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, GenericArgument, Pat, PathArguments, ReturnType, Type};

use crate::finding::Span;

/// How deep the walks of a file (the traversal, the struct-literal scan) descend into nested
/// expressions. Real code stays far below; generated or adversarial code deeper than this is not
/// analysed further (rather than overflowing the stack).
pub(crate) const MAX_EXPR_DEPTH: usize = 384;

/// The identifiers of a path's segments (`std::alloc::alloc` → `["std", "alloc", "alloc"]`).
pub(crate) fn segments(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// The last segment of a path, as a string.
pub(crate) fn last_segment(path: &syn::Path) -> String {
    path.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// The segments a call's path is matched by: for a qualified path `<Box<_> as FallibleBox<_>>::
/// try_new`, the self type and the method (`Box::try_new`).
pub(crate) fn call_segments(p: &syn::ExprPath) -> Vec<String> {
    match &p.qself {
        Some(q) => vec![type_name(&q.ty).unwrap_or_default(), last_segment(&p.path)],
        None => segments(&p.path),
    }
}

/// `path` ends with all of `suffix` (segment-wise).
pub(crate) fn ends_with(path: &[String], suffix: &[String]) -> bool {
    path.len() >= suffix.len() && path[path.len() - suffix.len()..] == *suffix
}

/// `a` ends with `b` or `b` ends with `a` (aligned at the end): a bare imported name matches a
/// configured full path, and a full path matches a configured shorter one.
pub(crate) fn suffix_either_way(a: &[String], b: &[String]) -> bool {
    !a.is_empty() && !b.is_empty() && (ends_with(a, b) || ends_with(b, a))
}

/// Parentheses and invisible groups removed.
pub(crate) fn peel(mut expr: &Expr) -> &Expr {
    loop {
        match expr {
            Expr::Paren(p) => expr = &p.expr,
            Expr::Group(g) => expr = &g.expr,
            _ => return expr,
        }
    }
}

/// Like [`peel`], also through `&`, `&mut` and `*`.
pub(crate) fn peel_refs(mut expr: &Expr) -> &Expr {
    loop {
        match peel(expr) {
            Expr::Reference(r) => expr = &r.expr,
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => expr = &u.expr,
            other => return other,
        }
    }
}

/// Through parentheses, casts (`as *mut T`), `.cast()` and single-expression `unsafe` blocks:
/// the expression a raw pointer comes from.
pub(crate) fn peel_ptr(mut expr: &Expr) -> &Expr {
    loop {
        match peel(expr) {
            Expr::Cast(c) => expr = &c.expr,
            Expr::Unsafe(u) if u.block.stmts.len() == 1 => match &u.block.stmts[0] {
                syn::Stmt::Expr(e, None) => expr = e,
                _ => return peel(expr),
            },
            Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(
                        m.method.to_string().as_str(),
                        "cast" | "cast_mut" | "cast_const"
                    ) =>
            {
                expr = &m.receiver
            }
            other => return other,
        }
    }
}

/// The single identifier an expression names (`p`, `(p)`, `p as *mut u8`), if any.
pub(crate) fn ident_of(expr: &Expr) -> Option<String> {
    match peel(expr) {
        Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            Some(p.path.segments[0].ident.to_string())
        }
        _ => None,
    }
}

/// Does any identifier of a token stream (a macro's body), nested groups included, satisfy
/// `pred`? Iterative, so deeply nested groups cannot exhaust the stack.
pub(crate) fn any_ident(
    tokens: &proc_macro2::TokenStream,
    mut pred: impl FnMut(&proc_macro2::Ident) -> bool,
) -> bool {
    let mut stack = vec![tokens.clone()];
    while let Some(ts) = stack.pop() {
        for t in ts {
            match t {
                proc_macro2::TokenTree::Ident(i) if pred(&i) => return true,
                proc_macro2::TokenTree::Group(g) => stack.push(g.stream()),
                _ => {}
            }
        }
    }
    false
}

/// The identifier names bound by a pattern (bounded depth; enough for `Err(e)`, `Err(ref e)`).
pub(crate) fn bound_names(pat: &Pat, out: &mut Vec<String>) {
    bound_names_depth(pat, out, 0);
}

fn bound_names_depth(pat: &Pat, out: &mut Vec<String>, depth: usize) {
    if depth > 16 {
        return;
    }
    match pat {
        Pat::Ident(i) => out.push(i.ident.to_string()),
        Pat::TupleStruct(t) => t
            .elems
            .iter()
            .for_each(|p| bound_names_depth(p, out, depth + 1)),
        Pat::Tuple(t) => t
            .elems
            .iter()
            .for_each(|p| bound_names_depth(p, out, depth + 1)),
        Pat::Type(t) => bound_names_depth(&t.pat, out, depth + 1),
        Pat::Reference(r) => bound_names_depth(&r.pat, out, depth + 1),
        Pat::Paren(p) => bound_names_depth(&p.pat, out, depth + 1),
        Pat::Struct(s) => s
            .fields
            .iter()
            .for_each(|f| bound_names_depth(&f.pat, out, depth + 1)),
        _ => {}
    }
}

/// The name of the enum-like constructor a pattern matches (`Err(_)` → `Err`, `None` → `None`,
/// `_` → `_`).
pub(crate) fn pattern_head(pat: &Pat) -> Option<String> {
    match pat {
        Pat::TupleStruct(t) => Some(last_segment(&t.path)),
        Pat::Path(p) => Some(last_segment(&p.path)),
        Pat::Ident(i) if i.subpat.is_none() => Some(i.ident.to_string()),
        Pat::Wild(_) => Some("_".to_string()),
        Pat::Paren(p) => pattern_head(&p.pat),
        Pat::Struct(s) => Some(last_segment(&s.path)),
        _ => None,
    }
}

/// The last path segment of a type, through references, pointers, parentheses and groups
/// (`&mut TryVec<u8>` → `TryVec`).
pub(crate) fn type_name(ty: &Type) -> Option<String> {
    let mut ty = ty;
    for _ in 0..16 {
        match ty {
            Type::Reference(r) => ty = &r.elem,
            Type::Paren(p) => ty = &p.elem,
            Type::Group(g) => ty = &g.elem,
            Type::Ptr(p) => ty = &p.elem,
            Type::Path(p) => return Some(last_segment(&p.path)),
            _ => return None,
        }
    }
    None
}

/// The error type's last segment when `ret` is `Result<_, E>` (`-> Result<Vec<T>, TryReserveError>`
/// → `TryReserveError`).
pub(crate) fn result_error_type(ret: &ReturnType) -> Option<String> {
    let ReturnType::Type(_, ty) = ret else {
        return None;
    };
    let Type::Path(p) = &**ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let types: Vec<&Type> = args
        .args
        .iter()
        .filter_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect();
    match types.as_slice() {
        [_, err] => type_name(err),
        _ => None,
    }
}

/// The outer attributes of an item (none for kinds that carry no code worth skipping).
pub(crate) fn item_attrs(i: &syn::Item) -> &[Attribute] {
    match i {
        syn::Item::Fn(f) => &f.attrs,
        syn::Item::Mod(m) => &m.attrs,
        syn::Item::Impl(m) => &m.attrs,
        syn::Item::Trait(m) => &m.attrs,
        syn::Item::Struct(m) => &m.attrs,
        syn::Item::Enum(m) => &m.attrs,
        syn::Item::Type(m) => &m.attrs,
        syn::Item::Const(m) => &m.attrs,
        syn::Item::Static(m) => &m.attrs,
        syn::Item::Macro(m) => &m.attrs,
        _ => &[],
    }
}

/// `#[test]`, `#[tokio::test]`-like attributes, or `#[cfg(test)]` / `#[cfg(all(test, …))]`.
pub(crate) fn is_test_code(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        let path = a.path();
        if path.segments.last().is_some_and(|s| s.ident == "test") {
            return true;
        }
        if path.is_ident("cfg") {
            if let syn::Meta::List(list) = &a.meta {
                let text = list.tokens.to_string();
                let text = text.trim();
                return text == "test"
                    || (text.starts_with("all")
                        && !text.contains("not")
                        && has_word(text, "test"));
            }
        }
        false
    })
}

fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == word)
}

/// A finding span from a proc-macro2 start and end (1-based lines and columns, end exclusive).
pub(crate) fn span_from(start: PmSpan, end: PmSpan) -> Span {
    let s = start.start();
    let e = end.end();
    Span {
        start_line: s.line,
        start_column: s.column + 1,
        end_line: e.line,
        end_column: e.column + 1,
    }
}

/// The span of a whole syntax node.
pub(crate) fn span_of<T: Spanned>(node: &T) -> Span {
    let s = node.span();
    span_from(s, s)
}

/// The span a call is reported at: for a method call, from the method name to the end (so a
/// multi-line chain is reported on the line of the method); otherwise the whole expression.
pub(crate) fn call_span(expr: &Expr) -> Span {
    match expr {
        Expr::MethodCall(m) => span_from(m.method.span(), m.span()),
        other => span_of(other),
    }
}

/// A short rendering of an expression for messages, quoted when it is code
/// (`` `Error::InvalidData` ``, `` `format!(..)` ``, `a literal`).
pub(crate) fn describe(expr: &Expr) -> String {
    match peel(expr) {
        Expr::Path(p) => format!("`{}`", segments(&p.path).join("::")),
        Expr::Call(c) => match peel(&c.func) {
            Expr::Path(p) => format!("`{}(..)`", segments(&p.path).join("::")),
            _ => "the result of a call".to_string(),
        },
        Expr::Struct(s) => format!("`{} {{ .. }}`", segments(&s.path).join("::")),
        Expr::Macro(m) => format!("`{}!(..)`", last_segment(&m.mac.path)),
        Expr::Lit(_) => "a literal".to_string(),
        Expr::MethodCall(m) => format!("`{}()`", m.method),
        _ => "another value".to_string(),
    }
}

/// The span of a statement's first token, cheaply: `Spanned::span` on a whole statement
/// re-tokenizes it, which costs as much as the rest of the analysis.
pub(crate) fn stmt_start(stmt: &syn::Stmt) -> PmSpan {
    match stmt {
        syn::Stmt::Local(l) => l.let_token.span,
        syn::Stmt::Macro(m) => path_start(&m.mac.path).unwrap_or_else(|| m.mac.bang_token.span),
        syn::Stmt::Expr(e, _) => expr_start(e),
        syn::Stmt::Item(i) => i.span(),
    }
}

fn path_start(p: &syn::Path) -> Option<PmSpan> {
    match &p.leading_colon {
        Some(c) => Some(c.spans[0]),
        None => p.segments.first().map(|s| s.ident.span()),
    }
}

/// The span of an expression's first token (through left operands and receivers, iteratively).
pub(crate) fn expr_start(mut e: &Expr) -> PmSpan {
    for _ in 0..256 {
        let next = match e {
            Expr::MethodCall(m) => &m.receiver,
            Expr::Call(c) => &c.func,
            Expr::Field(f) => &f.base,
            Expr::Binary(b) => &b.left,
            Expr::Try(t) => &t.expr,
            Expr::Await(a) => &a.base,
            Expr::Index(i) => &i.expr,
            Expr::Cast(c) => &c.expr,
            Expr::Assign(a) => &a.left,
            Expr::Path(p) if p.qself.is_none() => {
                if let Some(s) = path_start(&p.path) {
                    return s;
                }
                return e.span();
            }
            Expr::Macro(m) => {
                if let Some(s) = path_start(&m.mac.path) {
                    return s;
                }
                return e.span();
            }
            Expr::If(i) => return i.if_token.span,
            Expr::Match(m) => return m.match_token.span,
            Expr::Return(r) => return r.return_token.span,
            Expr::Unsafe(u) => return u.unsafe_token.span,
            Expr::Loop(l) if l.label.is_none() => return l.loop_token.span,
            Expr::While(w) if w.label.is_none() => return w.while_token.span,
            Expr::ForLoop(f) if f.label.is_none() => return f.for_token.span,
            Expr::Lit(l) => return l.lit.span(),
            Expr::Paren(p) => return p.paren_token.span.open(),
            Expr::Reference(r) => return r.and_token.span,
            _ => return e.span(),
        };
        e = next;
    }
    e.span()
}
