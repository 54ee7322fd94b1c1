//! The check of the opt-in `infallible-alloc` rule: an aborting allocation (`push`,
//! `Box::new`, `vec![..]`, the packs' `infallible_*` names) in a file of an OOM-safe scope.
//! The caller runs these only in such files.
use syn::spanned::Spanned;

use super::findings::Findings;
use crate::analysis::syntax::{ends_with, span_from, span_of};
use crate::analysis::traverse::Cx;
use crate::finding::Span;
use crate::rules::{infallible_alloc, RuleId};

fn flag(out: &mut Findings, cx: &Cx, name: &str, span: Span) {
    out.emit(
        cx,
        RuleId::InfallibleAlloc,
        span,
        infallible_alloc::message(name),
    );
}

/// `v.push(x)`: an aborting method (unless the same call is a fallible allocation, as the
/// kernel's `push(x, flags)` is).
pub(crate) fn method_call(out: &mut Findings, cx: &Cx, m: &syn::ExprMethodCall) {
    let name = m.method.to_string();
    if cx.vocab.infallible_methods.contains(&name) && !cx.chains().is_alloc_method(m) {
        flag(out, cx, &name, span_from(m.method.span(), m.span()));
    }
}

/// `Box::new(x)`: an aborting path call; `segs` is the called path.
pub(crate) fn call(out: &mut Findings, cx: &Cx, c: &syn::ExprCall, segs: &[String]) {
    if cx.vocab.infallible_paths.iter().any(|p| ends_with(segs, p))
        && !cx.chains().is_alloc_path(segs)
    {
        let shown = segs[segs.len().saturating_sub(2)..].join("::");
        flag(out, cx, &shown, span_of(c));
    }
}

/// `vec![..]`, `format!(..)`.
pub(crate) fn macro_call(out: &mut Findings, cx: &Cx, mac: &syn::Macro, name: &str) {
    if cx.vocab.infallible_macros.contains(name) {
        flag(out, cx, &format!("{name}!"), span_of(mac));
    }
}
