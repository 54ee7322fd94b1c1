//! The checks of the four rules about an allocation's `Result`: where an allocation value is
//! consumed, is its failure discarded (`discarded-alloc-result`), swallowed
//! (`swallowed-alloc-failure`), turned into a panic (`panic-on-alloc-failure`) or into another
//! error (`remapped-alloc-error`)?
//!
//! The consuming contexts are here: a method that ends a chain, a statement, `let _`, `drop`,
//! `_ =`, `?` after `.ok()`, `if` / `if let` / `let … else`, `match`, `assert!`. What a method
//! does to the value is decided by the classifier (`chain`), what a failure branch does by
//! `handling`; a [`Verdict`] becomes a finding in [`Findings::verdict`].
use std::collections::HashSet;

use syn::punctuated::Punctuated;
use syn::{Expr, ExprMethodCall, Pat};

use super::findings::Findings;
use crate::analysis::chain::Step;
use crate::analysis::enclosing::Channel;
use crate::analysis::handling::{self, Verdict};
use crate::analysis::syntax::{bound_names, ident_of, pattern_head, peel};
use crate::analysis::traverse::Cx;
use crate::analysis::value::Kind;
use crate::finding::Span;
use crate::rules::{discarded_alloc_result, RuleId};

/// A method called on an allocation value that mishandles its failure (`.unwrap()`,
/// `.unwrap_or(..)`, `.map_err(|_| Error::X)`).
pub(crate) fn method_call(out: &mut Findings, cx: &Cx, m: &ExprMethodCall) {
    if let Some(val) = cx.eval(&m.receiver) {
        if let Step::Flag(verdict) = cx.chains().step(&val, m) {
            out.verdict(cx, &val, verdict);
        }
    }
}

/// `e` is thrown away (`how`: "as a statement", "by `drop`"…): a finding when it is an
/// allocation value, unless it is one of the capacity hints `hints` (`capacity_hint`).
pub(crate) fn discarded(out: &mut Findings, hints: &HashSet<Span>, cx: &Cx, e: &Expr, how: &str) {
    if let Some(val) = cx.eval(e).filter(|v| !hints.contains(&v.span)) {
        let how = match val.kind {
            Kind::Option => format!("{how} after `ok()`"),
            Kind::Probe { .. } => format!("{how} (its `is_ok()`/`is_err()` is not used)"),
            Kind::Result => how.to_string(),
        };
        let message = discarded_alloc_result::message(&val.call, &how);
        out.emit(cx, RuleId::DiscardedAllocResult, val.span, message);
    }
}

/// `_ = e;`
pub(crate) fn assign(out: &mut Findings, hints: &HashSet<Span>, cx: &Cx, a: &syn::ExprAssign) {
    let underscore =
        matches!(peel(&a.left), Expr::Infer(_)) || ident_of(&a.left).is_some_and(|n| n == "_");
    if underscore {
        discarded(out, hints, cx, &a.right, "by `_ =`");
        return;
    }
    // `self.cover = read_cover(..).ok();`: the failure is stored as `None` in a field, where
    // it reads as "absent" (a local is followed instead, as it is bound).
    if matches!(peel(&a.left), Expr::Field(_)) {
        if let Some(val) = cx.eval(&a.right) {
            if val.kind == Kind::Option {
                let how = "`ok()` stored in a field".to_string();
                out.verdict(cx, &val, Verdict::Swallowed(how));
            }
        }
    }
}

/// `alloc().ok()?`: the failure becomes `None` for the caller.
pub(crate) fn try_expr(out: &mut Findings, cx: &Cx, t: &syn::ExprTry) {
    if let Some(val) = cx.eval(&t.expr) {
        if val.kind == Kind::Option {
            out.none_by_signature(cx, &val, "`ok()?`");
        }
    }
}

/// `alloc().ok()` returned from a function returning `Option` (its tail, or `return` at its
/// top level; `e` is the statement's expression, `return` peeled): the failure becomes `None`
/// for the caller, as with `ok()?`, and is grouped with those sites of the function. (A function documented to return `None` on allocation
/// failure has that as its channel: `Findings::verdict` knows.)
pub(crate) fn returned(out: &mut Findings, cx: &Cx, e: &Expr) {
    let Some(frame) = cx.enclosing_fn() else {
        return;
    };
    if frame.channel != Channel::Option || !frame.returned_starts.contains(&stmt_pos(cx)) {
        return;
    }
    if let Some(val) = cx.eval(e) {
        if val.kind == Kind::Option {
            out.none_by_signature(cx, &val, "`ok()` returned as `None`");
        }
    }
}

/// Where the statement being visited starts.
fn stmt_pos(cx: &Cx) -> proc_macro2::LineColumn {
    cx.stmt_start()
        .map(|s| s.start())
        .unwrap_or(proc_macro2::LineColumn { line: 0, column: 0 })
}

/// `assert!(alloc().is_ok())`: the failure becomes a panic.
pub(crate) fn assert_args(
    out: &mut Findings,
    cx: &Cx,
    name: &str,
    args: &Punctuated<Expr, syn::Token![,]>,
) {
    if !(name.contains("assert") && !name.contains("_eq") && !name.contains("_ne")) {
        return;
    }
    if let Some(val) = args.first().and_then(|a| cx.eval(a)) {
        if val.kind
            == (Kind::Probe {
                true_is_success: true,
            })
        {
            out.verdict(cx, &val, Verdict::Panic(format!("`{name}!`")));
        }
    }
}

/// `if let Ok(..) = alloc() {..} else {..}`, `if alloc().is_err() {..}`, and their negations:
/// the branch that runs on failure.
pub(crate) fn if_expr(out: &mut Findings, cx: &Cx, i: &syn::ExprIf) {
    let mut cond = peel(&i.cond);
    let mut negated = false;
    while let Expr::Unary(u) = cond {
        if !matches!(u.op, syn::UnOp::Not(_)) {
            break;
        }
        negated = !negated;
        cond = peel(&u.expr);
    }
    if let Expr::Let(l) = cond {
        let Some(val) = cx.eval(&l.expr) else {
            return;
        };
        // `if let Ok(p) = res { … }` then `res` returned: inspected, then propagated.
        let returned = ident_of(&l.expr).is_some_and(|n| {
            cx.enclosing_fn()
                .is_some_and(|f| f.returned_locals.contains(&n))
        });
        if returned {
            return;
        }
        let head = pattern_head(&l.pat).unwrap_or_default();
        match (val.kind, head.as_str()) {
            (Kind::Result, "Ok") | (Kind::Option, "Some") => match &i.else_branch {
                None => out.verdict(
                    cx,
                    &val,
                    Verdict::Swallowed(format!("`if let {head}(..)` without `else`")),
                ),
                Some((_, e)) => {
                    let verdict = handling::failure_branch(cx.vocab, e, &[]);
                    out.verdict(cx, &val, verdict);
                }
            },
            (Kind::Result, "Err") | (Kind::Option, "None") => {
                let mut bound = Vec::new();
                bound_names(&l.pat, &mut bound);
                let verdict = handling::failure_block(cx.vocab, &i.then_branch, &bound);
                out.verdict(cx, &val, verdict);
            }
            _ => {}
        }
        return;
    }
    let Some(val) = cx.eval(cond) else { return };
    let Kind::Probe { true_is_success } = val.kind else {
        return;
    };
    if true_is_success != negated {
        match &i.else_branch {
            None => out.verdict(
                cx,
                &val,
                Verdict::Swallowed("an `if` on success without `else`".to_string()),
            ),
            Some((_, e)) => {
                let verdict = handling::failure_branch(cx.vocab, e, &[]);
                out.verdict(cx, &val, verdict);
            }
        }
    } else {
        let verdict = handling::failure_block(cx.vocab, &i.then_branch, &[]);
        out.verdict(cx, &val, verdict);
    }
}

/// `match alloc() { Err(e) => …, … }`: the failure arm (or the wildcard arm).
pub(crate) fn match_expr(out: &mut Findings, cx: &Cx, m: &syn::ExprMatch) {
    let Some(val) = cx.eval(&m.expr) else {
        return;
    };
    let failure = match val.kind {
        Kind::Result => "Err",
        Kind::Option => "None",
        Kind::Probe { true_is_success } => {
            if true_is_success {
                "false"
            } else {
                "true"
            }
        }
    };
    let arm = m
        .arms
        .iter()
        .filter(|a| a.guard.is_none())
        .find(|a| match &a.pat {
            Pat::Lit(l) => bool_literal(l) == failure,
            p => pattern_head(p).as_deref() == Some(failure),
        })
        .or_else(|| {
            m.arms
                .iter()
                .find(|a| a.guard.is_none() && matches!(a.pat, Pat::Wild(_)))
        });
    if let Some(arm) = arm {
        let mut bound = Vec::new();
        bound_names(&arm.pat, &mut bound);
        let verdict = handling::failure_branch(cx.vocab, &arm.body, &bound);
        out.verdict(cx, &val, verdict);
    }
}

/// `let Ok(x) = alloc() else { … }`, `let _ = alloc();`, `let _name = alloc();`.
pub(crate) fn local(out: &mut Findings, hints: &HashSet<Span>, cx: &Cx, l: &syn::Local) {
    let Some(init) = &l.init else { return };
    if let Some((_, diverge)) = &init.diverge {
        if let Some(val) = cx.eval(&init.expr) {
            let verdict = handling::failure_branch(cx.vocab, diverge, &[]);
            out.verdict(cx, &val, verdict);
        }
        return;
    }
    let pat = match &l.pat {
        Pat::Type(t) => &*t.pat,
        p => p,
    };
    match pat {
        Pat::Wild(_) => discarded(out, hints, cx, &init.expr, "by `let _`"),
        Pat::Ident(i) if i.ident.to_string().starts_with('_') => {
            discarded(out, hints, cx, &init.expr, &format!("by `let {}`", i.ident))
        }
        _ => {}
    }
}

/// `true` / `false` of a literal pattern (empty for other literals).
fn bool_literal(l: &syn::ExprLit) -> String {
    match &l.lit {
        syn::Lit::Bool(b) => b.value.to_string(),
        _ => String::new(),
    }
}
