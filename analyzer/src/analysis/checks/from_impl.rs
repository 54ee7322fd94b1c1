//! The check of `remapped-alloc-error` at a conversion: `impl From<AllocError> for E` whose
//! `from` builds a value that is not NoMemory-like (`?` on an allocation converts through it,
//! so the call sites cannot see the remapping); and `impl From<CrateError> for F`, where
//! `CrateError` is the scanned crate's allocation error type, whose `match` on the error folds
//! its NoMemory variant into another value through a wildcard arm (`_ => ErrorKind::Other`).
use syn::visit::Visit;
use syn::{Block, Expr, Stmt};

use super::findings::Findings;
use crate::analysis::handling::{self, ErrVal};
use crate::analysis::syntax::{bound_names, ident_of, last_segment, span_of, type_name};
use crate::analysis::traverse::Cx;
use crate::rules::{remapped_alloc_error, RuleId};

/// Check an `impl` block: a finding at each value `from` can build that is another error.
pub(crate) fn item_impl(out: &mut Findings, cx: &Cx, i: &syn::ItemImpl) {
    let Some((_, trait_path, _)) = &i.trait_ else {
        return;
    };
    let Some(last) = trait_path.segments.last() else {
        return;
    };
    if last.ident != "From" {
        return;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return;
    };
    let Some(source) = args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => type_name(t),
        _ => None,
    }) else {
        return;
    };
    if !cx.vocab.error_types.contains(&source) {
        if cx.vocab.crate_alloc_errors.contains(&source) && is_local_path(&args.args) {
            wildcard_folds(out, cx, i, &source);
        }
        return;
    }
    let target = type_name(&i.self_ty).unwrap_or_else(|| "the error type".to_string());
    for (f, bound) in from_fns(i) {
        let mut values = Vec::new();
        block_values(&f.block, &mut values, 0);
        for value in values {
            if is_coded_self(value, &target, &bound) {
                // `Self(NonZeroU32::new(83)..)`: a numeric code of a tuple-struct error is the
                // crate's own spelling of out of memory; a name cannot be judged.
                continue;
            }
            if let ErrVal::Remapped(to) = handling::error_value(cx.vocab, value, &bound) {
                let message = remapped_alloc_error::from_impl_message(&source, &target, &to);
                out.emit(cx, RuleId::RemappedAllocError, span_of(value), message);
            }
        }
    }
}

/// `Self(..)` / `Target(..)` around a constant: the conversion's target built as a tuple
/// struct holding an error code (not a variant, and not the original error turned into text).
fn is_coded_self(value: &Expr, target: &str, bound: &[String]) -> bool {
    let Expr::Call(c) = value else { return false };
    let Expr::Path(p) = &*c.func else {
        return false;
    };
    let named = p.path.segments.len() == 1 && {
        let name = p.path.segments[0].ident.to_string();
        name == "Self" || name == target
    };
    let mut uses = UsesBound {
        bound,
        found: false,
    };
    for a in &c.args {
        uses.visit_expr(a);
    }
    named && !uses.found
}

/// Does an expression mention one of `bound` (the original error)?
struct UsesBound<'b> {
    bound: &'b [String],
    found: bool,
}

impl Visit<'_> for UsesBound<'_> {
    fn visit_expr_path(&mut self, p: &syn::ExprPath) {
        if p.path
            .get_ident()
            .is_some_and(|i| self.bound.contains(&i.to_string()))
        {
            self.found = true;
        }
    }
}

/// The `from` functions of an `impl From<..>` block, with the names their parameter binds
/// (the converted error).
fn from_fns(i: &syn::ItemImpl) -> impl Iterator<Item = (&syn::ImplItemFn, Vec<String>)> {
    i.items.iter().filter_map(|item| {
        let syn::ImplItem::Fn(f) = item else {
            return None;
        };
        if f.sig.ident != "from" {
            return None;
        }
        let mut bound = Vec::new();
        for input in &f.sig.inputs {
            if let syn::FnArg::Typed(pt) = input {
                bound_names(&pt.pat, &mut bound);
            }
        }
        Some((f, bound))
    })
}

/// The source type of `From<..>` is written as a path of the scanned crate (`Error`,
/// `crate::Error`), not another crate's (`io::Error`).
fn is_local_path(args: &syn::punctuated::Punctuated<syn::GenericArgument, syn::Token![,]>) -> bool {
    args.iter().any(|a| match a {
        syn::GenericArgument::Type(syn::Type::Path(p)) => {
            let segs = &p.path.segments;
            segs.len() == 1
                || segs
                    .first()
                    .is_some_and(|s| s.ident == "crate" || s.ident == "self" || s.ident == "super")
        }
        _ => false,
    })
}

/// `impl From<CrateError> for F`: a `match` on the converted error in `from` with a wildcard
/// arm building a non-NoMemory value and no arm naming a NoMemory variant: the crate's
/// out-of-memory error is folded into something else.
fn wildcard_folds(out: &mut Findings, cx: &Cx, i: &syn::ItemImpl, source: &str) {
    let target = type_path(&i.self_ty);
    for (f, bound) in from_fns(i) {
        let mut matches = Matches {
            bound: &bound,
            found: Vec::new(),
        };
        matches.visit_block(&f.block);
        for m in matches.found {
            let names_no_memory = m.arms.iter().any(|a| {
                let mut names = Vec::new();
                pattern_paths(&a.pat, &mut names);
                names.iter().any(|n| cx.vocab.is_no_memory(n))
            });
            if names_no_memory {
                continue;
            }
            let Some(wild) = m
                .arms
                .iter()
                .find(|a| a.guard.is_none() && matches!(a.pat, syn::Pat::Wild(_)))
            else {
                continue;
            };
            if let ErrVal::Remapped(to) = handling::error_value(cx.vocab, &wild.body, &[]) {
                let message = remapped_alloc_error::wildcard_message(source, &target, &to);
                out.emit(
                    cx,
                    RuleId::RemappedAllocError,
                    span_of(&*wild.body),
                    message,
                );
            }
        }
    }
}

/// A type as written, segments joined (`std::io::Error`).
fn type_path(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect::<Vec<_>>()
            .join("::"),
        _ => "the error type".to_string(),
    }
}

/// The `match`es on one of `bound` (the converted error) in a function body.
struct Matches<'a, 'b> {
    bound: &'b [String],
    found: Vec<&'a syn::ExprMatch>,
}

impl<'a> Visit<'a> for Matches<'a, '_> {
    fn visit_expr_match(&mut self, m: &'a syn::ExprMatch) {
        if ident_of(&m.expr).is_some_and(|n| self.bound.contains(&n)) {
            self.found.push(m);
        }
        syn::visit::visit_expr_match(self, m);
    }
}

/// The last segments of the paths in a pattern (`Error::OutOfMemory`, `Error::Io(..)`).
fn pattern_paths(p: &syn::Pat, out: &mut Vec<String>) {
    match p {
        syn::Pat::Path(pp) => out.push(last_segment(&pp.path)),
        syn::Pat::TupleStruct(t) => out.push(last_segment(&t.path)),
        syn::Pat::Struct(s) => out.push(last_segment(&s.path)),
        syn::Pat::Ident(i) => out.push(i.ident.to_string()),
        syn::Pat::Or(o) => o.cases.iter().for_each(|c| pattern_paths(c, out)),
        _ => {}
    }
}

/// The values a `from` body can produce: its tail (through `match` arms, `if` branches and
/// blocks) and its `return`s at statement level.
fn block_values<'a>(block: &'a Block, out: &mut Vec<&'a Expr>, depth: usize) {
    if depth > 8 {
        return;
    }
    for stmt in &block.stmts {
        if let Stmt::Expr(Expr::Return(r), _) = stmt {
            if let Some(e) = &r.expr {
                out.push(e);
            }
        }
    }
    if let Some(Stmt::Expr(e, None)) = block.stmts.last() {
        expr_values(e, out, depth + 1);
    }
}

fn expr_values<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>, depth: usize) {
    if depth > 8 {
        return;
    }
    match e {
        Expr::Block(b) => block_values(&b.block, out, depth + 1),
        Expr::Match(m) => {
            for arm in &m.arms {
                // `TryReserveErrorKind::CapacityOverflow => …`: a size overflow, not an
                // allocation failure; what it becomes is another question.
                let mut names = Vec::new();
                pattern_paths(&arm.pat, &mut names);
                if names.iter().any(|n| n == "CapacityOverflow") {
                    continue;
                }
                expr_values(&arm.body, out, depth + 1);
            }
        }
        Expr::If(i) => {
            block_values(&i.then_branch, out, depth + 1);
            if let Some((_, e)) = &i.else_branch {
                expr_values(e, out, depth + 1);
            }
        }
        Expr::Paren(p) => expr_values(&p.expr, out, depth + 1),
        Expr::Return(r) => {
            if let Some(e) = &r.expr {
                out.push(e);
            }
        }
        other => out.push(other),
    }
}
