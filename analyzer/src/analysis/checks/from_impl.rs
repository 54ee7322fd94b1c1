//! The check of `remapped-alloc-error` at a conversion: `impl From<AllocError> for E` whose
//! `from` builds a value that is not NoMemory-like (`?` on an allocation converts through it,
//! so the call sites cannot see the remapping).
use syn::{Block, Expr, Stmt};

use super::findings::Findings;
use crate::analysis::handling::{self, ErrVal};
use crate::analysis::syntax::{bound_names, span_of, type_name};
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
        return;
    }
    let target = type_name(&i.self_ty).unwrap_or_else(|| "the error type".to_string());
    for item in &i.items {
        let syn::ImplItem::Fn(f) = item else { continue };
        if f.sig.ident != "from" {
            continue;
        }
        let mut bound = Vec::new();
        for input in &f.sig.inputs {
            if let syn::FnArg::Typed(pt) = input {
                bound_names(&pt.pat, &mut bound);
            }
        }
        let mut values = Vec::new();
        block_values(&f.block, &mut values, 0);
        for value in values {
            if let ErrVal::Remapped(to) = handling::error_value(cx.vocab, value, &bound) {
                let message = remapped_alloc_error::from_impl_message(&source, &target, &to);
                out.emit(cx, RuleId::RemappedAllocError, span_of(value), message);
            }
        }
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
