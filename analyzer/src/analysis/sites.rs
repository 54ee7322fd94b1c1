//! The fallible allocation calls met by a traversal, recorded by the checks' listener (so the
//! sites come from the very recognition the checks use, not from a second pass).
use syn::ExprMethodCall;

use super::syntax::span_of;
use super::traverse::Cx;
use crate::finding::Span;

/// A fallible allocation call of the file being traversed.
#[derive(Debug, Clone)]
pub(crate) struct FoundSite {
    /// Where the call is (the method name, for a method call).
    pub span: Span,
    /// The enclosing function, if any.
    pub function: Option<String>,
    /// The call's name (`try_reserve`, `Box::try_new`, `try_vec!`).
    pub callee: String,
}

/// Records `m` if it is a fallible allocation method call.
pub(crate) fn method_call(sites: &mut Vec<FoundSite>, cx: &Cx, m: &ExprMethodCall) {
    if cx.chains().is_alloc_method(m) {
        push(sites, cx, span_of(&m.method), m.method.to_string());
    }
}

/// Records `c` if it is a call of a fallible allocation function (a path or a method called in
/// path form); `segs` are its path's segments.
pub(crate) fn call(sites: &mut Vec<FoundSite>, cx: &Cx, c: &syn::ExprCall, segs: &[String]) {
    let chains = cx.chains();
    if chains.is_alloc_path(segs) || chains.is_ufcs_alloc(segs, c) {
        let shown = segs[segs.len().saturating_sub(2)..].join("::");
        push(sites, cx, span_of(c), shown);
    }
}

/// Records the macro call `mac` (named `name`) if it is a fallible allocation macro.
pub(crate) fn macro_call(sites: &mut Vec<FoundSite>, cx: &Cx, mac: &syn::Macro, name: &str) {
    if cx.chains().vocab.alloc_macros.contains(name) {
        push(sites, cx, span_of(&mac.path), format!("{name}!"));
    }
}

fn push(sites: &mut Vec<FoundSite>, cx: &Cx, span: Span, callee: String) {
    sites.push(FoundSite {
        span,
        function: cx.enclosing_fn().map(|f| f.name.clone()),
        callee,
    });
}
