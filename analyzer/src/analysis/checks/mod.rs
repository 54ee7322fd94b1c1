//! The checks: the [`Listener`] that turns the nodes of a traversal into findings, one module
//! per kind of check. Which rule a node can break, and in which module it is decided:
//!
//! | node | module |
//! |---|---|
//! | method call ending an allocation's chain, statement, `let`, `drop`, `_ =`, `?`, `if`, `match`, `assert!` | [`results`] |
//! | `impl From<AllocError> for E` | [`from_impl`] |
//! | raw allocator pointer (`let p = alloc(..)`, `*alloc(..)`, `ptr::write(alloc(..), ..)`) | [`raw_alloc`] |
//! | aborting allocation in an OOM-safe file | [`infallible`] |
//! | block: which discarded reservations are capacity hints (not findings) | [`capacity_hint`] |
//! | block: which growth calls a reservation before them covers (no `infallible-alloc`) | [`reserved_growth`] |
use std::collections::HashSet;

use syn::punctuated::Punctuated;
use syn::{Expr, Stmt};

use super::sites::{self, FoundSite};
use super::syntax::{peel, segments};
use super::traverse::{Cx, Listener};
use crate::finding::Span;

mod capacity_hint;
mod findings;
mod from_impl;
mod infallible;
mod raw_alloc;
mod reserved_growth;
mod results;

use findings::Findings;
pub(crate) use findings::{RawFinding, SignatureSite};

/// The checks of one file.
#[derive(Debug, Default)]
pub(crate) struct Checks {
    /// `infallible-alloc` is checked in this file.
    infallible: bool,
    /// What was found.
    pub findings: Findings,
    /// The fallible allocation calls met, in traversal order.
    pub sites: Vec<FoundSite>,
    /// Reservations that are capacity hints (`capacity_hint`), found as their blocks are met.
    capacity_hints: HashSet<Span>,
    /// Growth calls within a reservation made before them (`reserved_growth`), found as their
    /// blocks are met (only in OOM-safe files).
    reserved_growth: HashSet<reserved_growth::GrowthAt>,
}

impl Checks {
    /// Checks for a file; `infallible`: the file is in an OOM-safe scope.
    pub(crate) fn new(infallible: bool) -> Checks {
        Checks {
            infallible,
            findings: Findings::default(),
            sites: Vec::new(),
            capacity_hints: HashSet::new(),
            reserved_growth: HashSet::new(),
        }
    }
}

impl Listener for Checks {
    fn item_impl(&mut self, cx: &Cx, i: &syn::ItemImpl) {
        from_impl::item_impl(&mut self.findings, cx, i);
    }

    fn block(&mut self, cx: &Cx, b: &syn::Block) {
        raw_alloc::block(&mut self.findings, cx, b);
        capacity_hint::block(b, &mut self.capacity_hints);
        if self.infallible {
            reserved_growth::block(b, &mut self.reserved_growth);
        }
    }

    fn stmt(&mut self, cx: &Cx, s: &Stmt) {
        match s {
            Stmt::Expr(Expr::Return(r), _) => {
                if let Some(e) = &r.expr {
                    results::returned(&mut self.findings, cx, e);
                }
            }
            Stmt::Expr(e, Some(_)) => results::discarded(
                &mut self.findings,
                &self.capacity_hints,
                cx,
                e,
                "as a statement",
            ),
            Stmt::Expr(e, None) => results::returned(&mut self.findings, cx, e),
            _ => {}
        }
    }

    fn local(&mut self, cx: &Cx, l: &syn::Local) {
        results::local(&mut self.findings, &self.capacity_hints, cx, l);
    }

    fn method_call(&mut self, cx: &Cx, m: &syn::ExprMethodCall) {
        sites::method_call(&mut self.sites, cx, m);
        results::method_call(&mut self.findings, cx, m);
        if self.infallible {
            infallible::method_call(&mut self.findings, cx, m, &self.reserved_growth);
        }
        raw_alloc::method_call(&mut self.findings, cx, m);
    }

    fn call(&mut self, cx: &Cx, c: &syn::ExprCall) {
        let Expr::Path(p) = peel(&c.func) else {
            return;
        };
        let segs = segments(&p.path);
        sites::call(&mut self.sites, cx, c, &segs);
        let last = segs.last().map(String::as_str).unwrap_or("");
        if last == "drop" && c.args.len() == 1 {
            results::discarded(
                &mut self.findings,
                &self.capacity_hints,
                cx,
                &c.args[0],
                "by `drop`",
            );
        }
        raw_alloc::call(&mut self.findings, cx, c, last);
        if self.infallible {
            infallible::call(&mut self.findings, cx, c, &segs);
        }
    }

    fn unary(&mut self, cx: &Cx, u: &syn::ExprUnary) {
        raw_alloc::unary(&mut self.findings, cx, u);
    }

    fn try_expr(&mut self, cx: &Cx, t: &syn::ExprTry) {
        results::try_expr(&mut self.findings, cx, t);
    }

    fn if_expr(&mut self, cx: &Cx, i: &syn::ExprIf) {
        results::if_expr(&mut self.findings, cx, i);
    }

    fn match_expr(&mut self, cx: &Cx, m: &syn::ExprMatch) {
        results::match_expr(&mut self.findings, cx, m);
    }

    fn assign(&mut self, cx: &Cx, a: &syn::ExprAssign) {
        results::assign(&mut self.findings, &self.capacity_hints, cx, a);
    }

    fn macro_call(&mut self, cx: &Cx, mac: &syn::Macro, name: &str) {
        sites::macro_call(&mut self.sites, cx, mac, name);
        if self.infallible {
            infallible::macro_call(&mut self.findings, cx, mac, name);
        }
    }

    fn wants_macro_args(&mut self, cx: &Cx, mac: &syn::Macro) -> bool {
        // In an OOM-safe file every macro argument may hold an aborting allocation.
        self.infallible || cx.chains().tokens_may_matter(&mac.tokens)
    }

    fn macro_args(&mut self, cx: &Cx, name: &str, args: &Punctuated<Expr, syn::Token![,]>) {
        results::assert_args(&mut self.findings, cx, name, args);
    }
}
