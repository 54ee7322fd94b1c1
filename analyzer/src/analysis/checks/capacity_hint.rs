//! Capacity hints: a discarded reservation on a fresh, empty local that is then handed to other
//! code, which grows it (and reports its own failures):
//!
//! ```ignore
//! let mut buf = Vec::new();
//! let _ = buf.try_reserve(inp.len() / 2);
//! zlib::compress_into(&mut buf, inp, settings)?;
//! ```
//!
//! If the reservation fails nothing is lost: `buf` is empty either way and the code it is
//! handed to grows it as if no hint had been given. These reservations are not
//! `discarded-alloc-result` findings. The rest stays one: a reservation on a parameter or a
//! field (the caller expects the capacity), on a local that already holds data, or followed
//! by growing the local right here (`buf.extend_from_slice(d)`: the code believes the room is
//! there).
use std::collections::HashSet;

use syn::visit::Visit;
use syn::{Block, Expr, Pat, Stmt};

use crate::analysis::syntax::{any_ident, call_span, ident_of, last_segment, peel, peel_refs};
use crate::finding::Span;

/// Reservations that only set capacity (std's, allocator-api2's, smallvec's `try_reserve*`;
/// fallible_collections' and the kernel's fallible `reserve`).
const CAPACITY_ONLY: [&str; 4] = [
    "try_reserve",
    "try_reserve_exact",
    "reserve",
    "reserve_exact",
];

/// Add to `out` the spans of the capacity-hint reservations among the statements of `block`
/// (the spans their findings would have).
pub(crate) fn block(block: &Block, out: &mut HashSet<Span>) {
    let stmts = &block.stmts;
    for (i, stmt) in stmts.iter().enumerate() {
        let Some((local, call)) = discarded_reservation(stmt) else {
            continue;
        };
        if fresh_empty(&stmts[..i], &local) && handed_over_next(&stmts[i + 1..], &local) {
            out.insert(call_span(call));
        }
    }
}

/// `let _ = x.try_reserve(n);`, `let _r = …;`, `x.try_reserve(n);`, `_ = …;` on a local `x`:
/// the local's name and the reservation call.
fn discarded_reservation(stmt: &Stmt) -> Option<(String, &Expr)> {
    let expr = match stmt {
        Stmt::Local(l) => {
            let init = l.init.as_ref().filter(|i| i.diverge.is_none())?;
            let pat = match &l.pat {
                Pat::Type(t) => &*t.pat,
                p => p,
            };
            match pat {
                Pat::Wild(_) => &init.expr,
                Pat::Ident(i) if i.ident.to_string().starts_with('_') => &init.expr,
                _ => return None,
            }
        }
        Stmt::Expr(Expr::Assign(a), Some(_)) if matches!(peel(&a.left), Expr::Infer(_)) => &a.right,
        Stmt::Expr(e, Some(_)) => e,
        _ => return None,
    };
    let call = peel(expr);
    match call {
        Expr::MethodCall(m) if CAPACITY_ONLY.iter().any(|name| m.method == name) => {
            Some((ident_of(&m.receiver)?, call))
        }
        _ => None,
    }
}

/// Is `local` bound by the last statement of `before` that mentions it, to an empty
/// constructor (`Vec::new()`, `String::new()`, `Default::default()`, `vec![]`)?
fn fresh_empty(before: &[Stmt], local: &str) -> bool {
    let Some(binding) = before.iter().rev().find(|s| mentions(s, local)) else {
        return false;
    };
    let Stmt::Local(l) = binding else {
        return false;
    };
    let pat = match &l.pat {
        Pat::Type(t) => &*t.pat,
        p => p,
    };
    let binds_it = matches!(pat, Pat::Ident(i) if i.ident == local && i.subpat.is_none());
    let init = l.init.as_ref().filter(|i| i.diverge.is_none());
    binds_it && init.is_some_and(|i| is_empty_constructor(&i.expr))
}

/// `T::new()`, `T::default()`, `Default::default()`, `vec![]`: a collection with no data.
fn is_empty_constructor(e: &Expr) -> bool {
    match peel(e) {
        Expr::Call(c) if c.args.is_empty() => match peel(&c.func) {
            Expr::Path(p) => matches!(last_segment(&p.path).as_str(), "new" | "default"),
            _ => false,
        },
        Expr::Macro(m) => last_segment(&m.mac.path) == "vec" && m.mac.tokens.is_empty(),
        _ => false,
    }
}

/// Is the first statement of `after` that mentions `local` one that hands it to other code
/// (and does nothing else with it)?
fn handed_over_next(after: &[Stmt], local: &str) -> bool {
    let Some(next) = after.iter().find(|s| mentions(s, local)) else {
        return false;
    };
    // Returned: `buf` as the tail, `return buf`.
    let value = match next {
        Stmt::Expr(Expr::Return(r), _) => r.expr.as_deref(),
        Stmt::Expr(e, None) => Some(e),
        _ => None,
    };
    if value.and_then(ident_of).as_deref() == Some(local) {
        return true;
    }
    let mut uses = Uses::new(local);
    uses.visit_stmt(next);
    uses.handed && !uses.other
}

/// Does the statement name `local` (as an expression, or a token of a macro body)?
fn mentions(stmt: &Stmt, local: &str) -> bool {
    let mut uses = Uses::new(local);
    uses.visit_stmt(stmt);
    uses.handed || uses.other
}

/// How a statement uses a local: handed to other code (`f(&mut buf)`, `f(buf)`,
/// `Decoder::Custom(s, buf)`, `S { buf }`), or anything else (a method called on it, a macro
/// naming it, a binding of the name). Deeper than [`MAX_DEPTH`] counts as another use.
struct Uses<'a> {
    local: &'a str,
    handed: bool,
    other: bool,
    depth: usize,
}

/// How deep [`Uses`] looks into a statement's expressions.
const MAX_DEPTH: usize = 128;

impl<'a> Uses<'a> {
    fn new(local: &'a str) -> Uses<'a> {
        Uses {
            local,
            handed: false,
            other: false,
            depth: 0,
        }
    }

    /// An argument or field value: handed over when it is the local (by value or borrowed).
    fn operand(&mut self, e: &Expr) {
        if ident_of(peel_refs(e)).as_deref() == Some(self.local) {
            self.handed = true;
        } else {
            self.visit_expr(e);
        }
    }
}

impl<'ast> Visit<'ast> for Uses<'_> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        if self.depth > MAX_DEPTH {
            self.other = true;
            return;
        }
        self.depth += 1;
        syn::visit::visit_expr(self, e);
        self.depth -= 1;
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        self.visit_expr(&c.func);
        for arg in &c.args {
            self.operand(arg);
        }
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        self.visit_expr(&m.receiver);
        for arg in &m.args {
            self.operand(arg);
        }
    }

    fn visit_expr_struct(&mut self, s: &'ast syn::ExprStruct) {
        for field in &s.fields {
            self.operand(&field.expr);
        }
        if let Some(rest) = &s.rest {
            self.visit_expr(rest);
        }
    }

    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if p.qself.is_none() && p.path.is_ident(self.local) {
            self.other = true;
        }
    }

    fn visit_pat_ident(&mut self, i: &'ast syn::PatIdent) {
        if i.ident == self.local {
            self.other = true;
        }
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if any_ident(&m.tokens, |i| i == self.local) {
            self.other = true;
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}
