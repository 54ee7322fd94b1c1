//! Growth within a reservation, for `infallible-alloc`: a `push`, `resize` or
//! `extend_from_slice` right after a successful `v.try_reserve(n)?` on the same value, which
//! cannot allocate when `n` covers it:
//!
//! ```ignore
//! block_data.try_reserve_exact(total)?;
//! block_data.resize(total, 0);
//! ```
//!
//! The reservation must end the statement with its failure propagated (`?`, through
//! `map_err`-like adapters), or sit in `if …is_err() { return … }`, `if let Err(..) = … {
//! return … }` or `let Ok(..) = … else { … }`. Then the first thing after it that touches the
//! reserved value (`v`, `self.buf`; another field such as `self.pos` is not the value) must be a
//! growth call on that value, in the same block or in a nested block that runs at most once
//! (not in a loop or a closure), with nothing in between naming what the amount is computed
//! from. The amount reserved covers the growth syntactically (the same expression, modulo
//! spacing and parentheses; an amount made only of names, fields, literals, arithmetic, casts
//! and `.len()`):
//!
//! | growth | covered by a reservation of |
//! |---|---|
//! | `push(x)`, `push_back`, `push_front`, `insert(..)` (one element) | an integer literal ≥ 1 |
//! | `resize(m, ..)`, `resize_with(m, ..)` | `m`, or `m - v.len()` |
//! | `extend_from_slice(s)`, `extend(s)`, `append(s)`, `push_str(s)`, `insert_str(_, s)` | `s.len()` |
//! | … of `&x[lo..hi]`, `&x[..hi]` | `hi - lo`, `hi` |
//! | … of `&[a, b, c]` | an integer literal ≥ 3 |
//!
//! `extend` also looks through `.iter()`, `.into_iter()`, `.copied()` and `.cloned()`. One
//! reservation covers one growth: a second `push` after `try_reserve(1)` is still reported.
use std::collections::HashSet;

use syn::visit::Visit;
use syn::{Block, Expr, ExprMethodCall, Pat, Stmt};

use crate::analysis::handling::is_panic_macro;
use crate::analysis::syntax::{any_ident, peel, peel_refs};

/// Where a growth call's method name starts (line, column): how the check finds it again.
pub(crate) type GrowthAt = (usize, usize);

/// The reservations whose growth these rules judge (std's, hashbrown's, smallvec's).
const RESERVATIONS: [&str; 2] = ["try_reserve", "try_reserve_exact"];

/// `Result` adapters that keep the failure an error (`.map_err(..)?` still propagates it).
const ERROR_ADAPTERS: [&str; 5] = [
    "map_err",
    "context",
    "with_context",
    "wrap_err",
    "wrap_err_with",
];

/// Growth by one element.
const ONE_ELEMENT: [&str; 4] = ["push", "push_back", "push_front", "insert"];

/// Growth to a target length (its first argument).
const TO_LENGTH: [&str; 2] = ["resize", "resize_with"];

/// Growth by the length of a slice, string or collection argument.
const BY_LENGTH: [&str; 5] = [
    "extend_from_slice",
    "extend",
    "append",
    "push_str",
    "insert_str",
];

/// Adapters `extend` looks through: they keep the length of what they iterate.
const SAME_LENGTH_ITERS: [&str; 4] = ["iter", "into_iter", "copied", "cloned"];

/// How deep [`FirstUse`] looks into expressions; deeper counts as touching the value.
const MAX_DEPTH: usize = 128;

/// Is the growth call `m` one that grows by a single element (so a `String` receiver, whose
/// `push` adds up to four bytes, is not covered by `try_reserve(1)`)?
pub(crate) fn grows_by_one_element(m: &ExprMethodCall) -> bool {
    ONE_ELEMENT.iter().any(|n| m.method == n)
}

/// The position of a method call's name, as [`block`] records it.
pub(crate) fn growth_at(m: &ExprMethodCall) -> GrowthAt {
    let start = m.method.span().start();
    (start.line, start.column)
}

/// Add to `out` the growth calls among (and nested in) the statements of `block` that a
/// reservation before them covers.
pub(crate) fn block(block: &Block, out: &mut HashSet<GrowthAt>) {
    let stmts = &block.stmts;
    for (i, stmt) in stmts.iter().enumerate() {
        let Some(reservation) = handled_reservation(stmt) else {
            continue;
        };
        let (Some(place), amount) = (place_of(&reservation.receiver), &reservation.args[0]) else {
            continue;
        };
        if !pure(amount) {
            continue;
        }
        let mut first = FirstUse::new(&place, amount);
        for s in &stmts[i + 1..] {
            first.visit_stmt(s);
            if first.found.is_some() {
                break;
            }
        }
        if let Some(Found::Growth(m)) = first.found {
            if covers(amount, &place, m) {
                out.insert(growth_at(m));
            }
        }
    }
}

/// The reservation of `stmt` whose failure leaves the code after it unreached.
fn handled_reservation(stmt: &Stmt) -> Option<&ExprMethodCall> {
    match stmt {
        Stmt::Expr(Expr::Try(t), _) => reservation(through_adapters(&t.expr)),
        Stmt::Expr(Expr::If(i), _) if i.else_branch.is_none() && diverges(&i.then_branch) => {
            match peel(&i.cond) {
                Expr::MethodCall(m) if m.method == "is_err" && m.args.is_empty() => {
                    reservation(peel(&m.receiver))
                }
                Expr::Let(l) if is_variant(&l.pat, "Err") => reservation(peel(&l.expr)),
                _ => None,
            }
        }
        Stmt::Local(l) if is_variant(&l.pat, "Ok") => {
            let init = l.init.as_ref().filter(|i| i.diverge.is_some())?;
            reservation(peel(&init.expr))
        }
        _ => None,
    }
}

/// Through `.map_err(..)`-like adapters down to the call they adapt.
fn through_adapters(mut e: &Expr) -> &Expr {
    for _ in 0..8 {
        match peel(e) {
            Expr::MethodCall(m) if ERROR_ADAPTERS.iter().any(|a| m.method == a) => e = &m.receiver,
            other => return other,
        }
    }
    peel(e)
}

/// `v.try_reserve(n)` (one argument).
fn reservation(e: &Expr) -> Option<&ExprMethodCall> {
    match e {
        Expr::MethodCall(m) if m.args.len() == 1 && RESERVATIONS.iter().any(|r| m.method == r) => {
            Some(m)
        }
        _ => None,
    }
}

/// `Err(..)` / `Ok(..)` patterns.
fn is_variant(pat: &Pat, variant: &str) -> bool {
    match pat {
        Pat::TupleStruct(t) => t.path.is_ident(variant),
        _ => false,
    }
}

/// Does the block end by leaving (`return`, `break`, `continue`, a panic macro)?
fn diverges(b: &Block) -> bool {
    match b.stmts.last() {
        Some(Stmt::Expr(e, _)) => match peel(e) {
            Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => true,
            Expr::Macro(m) => is_panic_macro(&m.mac),
            _ => false,
        },
        Some(Stmt::Macro(m)) => is_panic_macro(&m.mac),
        _ => false,
    }
}

/// The reserved value as a place: a local or parameter and the named fields below it
/// (`v` → `[v]`, `self.buf` → `[self, buf]`), through `&mut` and `*`.
fn place_of(e: &Expr) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut e = peel_refs(e);
    loop {
        match e {
            Expr::Field(f) => match &f.member {
                syn::Member::Named(n) => {
                    names.push(n.to_string());
                    e = peel(&f.base);
                }
                syn::Member::Unnamed(_) => return None,
            },
            Expr::Path(p) if p.qself.is_none() => {
                names.push(p.path.get_ident()?.to_string());
                names.reverse();
                return Some(names);
            }
            _ => return None,
        }
    }
}

/// Is the amount made only of names, fields, literals, arithmetic, casts and `.len()` (so
/// evaluating it again gives the same number while none of its names is touched)?
fn pure(e: &Expr) -> bool {
    match peel(e) {
        Expr::Lit(_) | Expr::Path(_) => true,
        Expr::Field(f) => pure(&f.base),
        Expr::Binary(b) => pure(&b.left) && pure(&b.right),
        Expr::Cast(c) => pure(&c.expr),
        Expr::MethodCall(m) => m.method == "len" && m.args.is_empty() && pure(&m.receiver),
        Expr::Reference(r) => pure(&r.expr),
        _ => false,
    }
}

/// Does reserving `amount` on `place` cover the growth call `m`?
fn covers(amount: &Expr, place: &[String], m: &ExprMethodCall) -> bool {
    let name = m.method.to_string();
    if ONE_ELEMENT.contains(&name.as_str()) {
        return literal(amount).is_some_and(|n| n >= 1);
    }
    if TO_LENGTH.contains(&name.as_str()) {
        let Some(target) = m.args.first() else {
            return false;
        };
        return same(amount, target)
            || matches!(peel(amount), Expr::Binary(b)
                if matches!(b.op, syn::BinOp::Sub(_))
                    && same(&b.left, target)
                    && is_len_of(&b.right, |r| place_of(r).as_deref() == Some(place)));
    }
    if BY_LENGTH.contains(&name.as_str()) {
        let Some(grown) = m.args.last() else {
            return false;
        };
        let mut grown = peel_refs(grown);
        if name == "extend" {
            while let Expr::MethodCall(inner) = grown {
                if !(inner.args.is_empty() && SAME_LENGTH_ITERS.iter().any(|a| inner.method == a)) {
                    break;
                }
                grown = peel_refs(&inner.receiver);
            }
        }
        return length_covered(amount, grown);
    }
    false
}

/// Does `amount` equal the length of the slice, string or collection `grown`?
fn length_covered(amount: &Expr, grown: &Expr) -> bool {
    if is_len_of(amount, |r| same(peel_refs(r), grown)) {
        return true;
    }
    match grown {
        Expr::Index(ix) => match peel(&ix.index) {
            Expr::Range(r) if matches!(r.limits, syn::RangeLimits::HalfOpen(_)) => {
                match (&r.start, &r.end) {
                    (None, Some(hi)) => same(amount, hi),
                    (Some(lo), Some(hi)) => matches!(peel(amount), Expr::Binary(b)
                        if matches!(b.op, syn::BinOp::Sub(_))
                            && same(&b.left, hi)
                            && same(&b.right, lo)),
                    _ => false,
                }
            }
            _ => false,
        },
        Expr::Array(a) => literal(amount).is_some_and(|n| n >= a.elems.len() as u128),
        _ => false,
    }
}

/// `r.len()` with `r` accepted by `receiver`.
fn is_len_of(e: &Expr, receiver: impl Fn(&Expr) -> bool) -> bool {
    matches!(peel(e), Expr::MethodCall(m)
        if m.method == "len" && m.args.is_empty() && receiver(&m.receiver))
}

/// An integer literal's value.
fn literal(e: &Expr) -> Option<u128> {
    match peel(e) {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse().ok(),
        _ => None,
    }
}

/// The same expression (syntax trees compared without their spans), modulo enclosing
/// parentheses.
fn same(a: &Expr, b: &Expr) -> bool {
    peel(a) == peel(b)
}

/// What [`FirstUse`] found first.
enum Found<'a> {
    /// A growth call on the reserved value, run at most once after the reservation.
    Growth(&'a ExprMethodCall),
    /// Anything else touching the value or the amount's names (or a growth in a loop or a
    /// closure).
    Other,
}

/// The first thing, in source order, that touches a reserved place or a name of its amount.
struct FirstUse<'p, 'a> {
    place: &'p [String],
    /// The identifiers the amount is computed from.
    amount_names: HashSet<String>,
    found: Option<Found<'a>>,
    /// Loops and closures entered: what runs in them may run more than once.
    repeated: usize,
    depth: usize,
}

impl<'p, 'a> FirstUse<'p, 'a> {
    fn new(place: &'p [String], amount: &Expr) -> Self {
        FirstUse {
            place,
            amount_names: expr_idents(amount),
            found: None,
            repeated: 0,
            depth: 0,
        }
    }

    /// A local or field path rooted at `root`, followed by `fields`: does it touch the place
    /// (a prefix of it, or below it) or a name of the amount?
    fn touches(&self, root: &str, fields: &[String]) -> bool {
        if self.amount_names.contains(root) {
            return true;
        }
        root == self.place[0]
            && fields
                .iter()
                .zip(&self.place[1..])
                .all(|(used, reserved)| used == reserved)
    }

    fn repeated_in(&mut self, visit: impl FnOnce(&mut Self)) {
        self.repeated += 1;
        visit(self);
        self.repeated -= 1;
    }
}

/// The identifiers an expression names.
fn expr_idents(e: &Expr) -> HashSet<String> {
    struct Idents(HashSet<String>);
    impl<'ast> Visit<'ast> for Idents {
        fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
            self.0.insert(i.to_string());
        }
    }
    let mut found = Idents(HashSet::new());
    found.visit_expr(e);
    found.0
}

/// `a.b.c` as `("a", ["b", "c"])`, when `e` is a field path rooted at a local.
fn field_path(e: &Expr) -> Option<(String, Vec<String>)> {
    let mut fields = Vec::new();
    let mut e = peel(e);
    loop {
        match e {
            Expr::Field(f) => {
                fields.push(match &f.member {
                    syn::Member::Named(n) => n.to_string(),
                    syn::Member::Unnamed(i) => i.index.to_string(),
                });
                e = peel(&f.base);
            }
            Expr::Path(p) if p.qself.is_none() => {
                let root = p.path.get_ident()?.to_string();
                fields.reverse();
                return Some((root, fields));
            }
            _ => return None,
        }
    }
}

impl<'ast> Visit<'ast> for FirstUse<'_, 'ast> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        if self.found.is_some() {
            return;
        }
        if self.depth > MAX_DEPTH {
            self.found = Some(Found::Other);
            return;
        }
        if let Some((root, fields)) = field_path(e) {
            if self.touches(&root, &fields) {
                self.found = Some(Found::Other);
            }
            return;
        }
        self.depth += 1;
        match e {
            Expr::ForLoop(_)
            | Expr::While(_)
            | Expr::Loop(_)
            | Expr::Closure(_)
            | Expr::Async(_) => self.repeated_in(|s| syn::visit::visit_expr(s, e)),
            _ => syn::visit::visit_expr(self, e),
        }
        self.depth -= 1;
    }

    fn visit_expr_method_call(&mut self, m: &'ast ExprMethodCall) {
        let grows = ONE_ELEMENT
            .iter()
            .chain(&TO_LENGTH)
            .chain(&BY_LENGTH)
            .any(|g| m.method == g);
        if grows && place_of(&m.receiver).as_deref() == Some(self.place) {
            self.found = Some(if self.repeated == 0 {
                Found::Growth(m)
            } else {
                Found::Other
            });
            return;
        }
        syn::visit::visit_expr_method_call(self, m);
    }

    fn visit_pat_ident(&mut self, i: &'ast syn::PatIdent) {
        let name = i.ident.to_string();
        if name == self.place[0] || self.amount_names.contains(&name) {
            self.found.get_or_insert(Found::Other);
        }
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        let touches = |i: &proc_macro2::Ident| {
            *i == self.place[0] || self.amount_names.contains(&i.to_string())
        };
        if any_ident(&m.tokens, touches) {
            self.found.get_or_insert(Found::Other);
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of the growth calls covered in the body of `src` (a function).
    fn covered(src: &str) -> Vec<usize> {
        let f: syn::ItemFn = syn::parse_str(src).unwrap_or_else(|e| panic!("{e}"));
        let mut out = HashSet::new();
        struct Blocks<'o>(&'o mut HashSet<GrowthAt>);
        impl<'ast> Visit<'ast> for Blocks<'_> {
            fn visit_block(&mut self, b: &'ast Block) {
                block(b, self.0);
                syn::visit::visit_block(self, b);
            }
        }
        Blocks(&mut out).visit_item_fn(&f);
        let mut lines: Vec<usize> = out.into_iter().map(|(line, _)| line).collect();
        lines.sort();
        lines
    }

    #[test]
    fn covered_growth() {
        let src = "fn f() {
            v.try_reserve(1)?;
            v.push(x);
            self.buf.try_reserve_exact(target - self.buf.len()).map_err(|_| E::Oom)?;
            self.buf.resize(target, 0);
            saved.try_reserve_exact(end - self.pos)?;
            if full { saved.extend_from_slice(&self.buf[self.pos..end]); }
            let Ok(()) = s.try_reserve(t.len()) else { return; };
            s.push_str(t);
            if w.try_reserve(3).is_err() { return Err(E::Oom); }
            w.extend_from_slice(&[1, 2, 3]);
        }";
        assert_eq!(covered(src), vec![3, 5, 7, 9, 11]);
    }

    #[test]
    fn uncovered_growth() {
        let src = "fn f() {
            v.try_reserve(1)?;
            v.push(x);
            v.push(y);
            w.try_reserve(1)?;
            for x in xs { w.push(x); }
            u.try_reserve(n)?;
            n += 1;
            u.resize(n, 0);
            a.try_reserve(2)?;
            a.extend_from_slice(&[1, 2, 3]);
            b.try_reserve(k.len())?;
            b.extend_from_slice(other);
            c.try_reserve(next())?;
            c.resize(next(), 0);
            let _ = d.try_reserve(1);
            d.push(1);
            e.try_reserve(1)?;
            grow(&mut e);
            e.push(1);
            self.buf.try_reserve(1)?;
            self.advance();
            self.buf.push(1);
        }";
        // Only the first push after `try_reserve(1)` is covered.
        assert_eq!(covered(src), vec![3]);
    }

    #[test]
    fn other_fields_do_not_interrupt() {
        let src = "fn f() {
            self.buf.try_reserve(1)?;
            self.pos += 1;
            self.buf.push(1);
        }";
        assert_eq!(covered(src), vec![4]);
    }
}
