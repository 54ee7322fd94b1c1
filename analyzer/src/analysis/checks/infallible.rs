//! The check of the opt-in `infallible-alloc` rule: an aborting allocation (`push`,
//! `Box::new`, `vec![..]`, the packs' `infallible_*` names) in a file of an OOM-safe scope.
//! The caller runs these only in such files.
use std::collections::HashSet;

use syn::spanned::Spanned;

use super::findings::Findings;
use super::reserved_growth::{grows_by_one_element, growth_at, GrowthAt};
use crate::analysis::syntax::{ends_with, ident_of, span_from, span_of};
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

/// Type names whose one-element growth (`String::push(char)`, `PathBuf::push(path)`) can
/// need more than one unit of reserved capacity.
const MULTI_UNIT_PUSH: [&str; 3] = ["String", "OsString", "PathBuf"];

/// `v.push(x)`: an aborting method, unless the same call is a fallible allocation (as the
/// kernel's `push(x, flags)` is), a growth within a reservation made before it (`within`,
/// from `reserved_growth`), or the scanned crate's own method of that name on the
/// receiver's type (`self.repeat(..)` of a decoder is not `str::repeat`).
pub(crate) fn method_call(
    out: &mut Findings,
    cx: &Cx,
    m: &syn::ExprMethodCall,
    within: &HashSet<GrowthAt>,
) {
    let name = m.method.to_string();
    if !cx.vocab.infallible_methods.contains(&name) || cx.chains().is_alloc_method(m) {
        return;
    }
    if within.contains(&growth_at(m)) && !multi_unit_push(cx, m) {
        return;
    }
    if crate_method(cx, m, &name) {
        return;
    }
    flag(out, cx, &name, span_from(m.method.span(), m.span()));
}

/// A one-element growth of a receiver known to be a string or a path, which
/// `try_reserve(1)` does not cover.
fn multi_unit_push(cx: &Cx, m: &syn::ExprMethodCall) -> bool {
    grows_by_one_element(m)
        && cx
            .chains()
            .type_of(&m.receiver)
            .iter()
            .any(|t| MULTI_UNIT_PUSH.contains(&t.as_str()))
}

/// Is `name` a method the scanned crate defines on the receiver's type (across the files
/// summarized for the run), or, on `self`, a function of the enclosing `impl`?
fn crate_method(cx: &Cx, m: &syn::ExprMethodCall, name: &str) -> bool {
    let receiver_is_self = ident_of(&m.receiver).as_deref() == Some("self");
    if receiver_is_self && cx.in_enclosing_impl(name) {
        return true;
    }
    let Some(owners) = cx.vocab.method_defs.get(name) else {
        return false;
    };
    let types = cx.vocab.with_aliases(cx.chains().type_of(&m.receiver));
    types.into_iter().any(|t| owners.contains(&Some(t)))
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
