//! The check of `unchecked-raw-alloc`: a pointer from a raw allocator (`alloc`, `malloc`,
//! `System.alloc(..)`) used before it is compared with null.
//!
//! Two shapes: `let p = alloc(layout);` followed (in the same block) by a use of `p` before any
//! null check ([`block`]), and a raw allocation used directly (`*alloc(l) = 0`,
//! `ptr::write(malloc(n), x)`: [`method_call`], [`call`], [`unary`]).
use syn::visit::Visit;
use syn::{Expr, Pat, Stmt};

use super::findings::Findings;
use crate::analysis::syntax::{
    call_span, ends_with, ident_of, last_segment, peel, peel_ptr, peel_refs, segments, span_of,
};
use crate::analysis::traverse::Cx;
use crate::finding::Span;
use crate::rules::{unchecked_raw_alloc, RuleId};

/// Reads and writes through a raw pointer, as methods (`p.write(x)`) and as functions
/// (`ptr::write(p, x)`).
const ACCESS: [&str; 6] = [
    "write",
    "write_bytes",
    "write_unaligned",
    "write_volatile",
    "read",
    "read_unaligned",
];

/// Other methods on a raw pointer that use it (offsets, copies).
const USE_METHODS: [&str; 10] = [
    "add",
    "offset",
    "sub",
    "byte_add",
    "byte_offset",
    "read_volatile",
    "copy_from",
    "copy_from_nonoverlapping",
    "copy_to",
    "copy_to_nonoverlapping",
];

/// Other functions that use a raw pointer argument (`Box::from_raw(p)`).
const USE_FUNCTIONS: [&str; 9] = [
    "copy",
    "copy_nonoverlapping",
    "from_raw",
    "from_raw_parts",
    "from_raw_parts_mut",
    "new_unchecked",
    "drop_in_place",
    "swap",
    "replace",
];

/// Does the method `name` use the raw pointer it is called on?
fn uses_receiver(name: &str) -> bool {
    ACCESS.contains(&name) || USE_METHODS.contains(&name)
}

/// Does the function `name` (last path segment) use a raw pointer argument?
fn uses_argument(name: &str) -> bool {
    ACCESS.contains(&name) || USE_FUNCTIONS.contains(&name)
}

/// Is `expr` (through casts) a raw allocator call? Returns its name and span.
fn raw_alloc(cx: &Cx, expr: &Expr) -> Option<(String, Span)> {
    let e = peel_ptr(expr);
    match e {
        Expr::Call(c) => {
            let Expr::Path(p) = peel(&c.func) else {
                return None;
            };
            let segs = segments(&p.path);
            // `alloc(layout)` where `alloc` is a parameter or local (a caller's closure) calls
            // that value, whose contract is the caller's, not `std::alloc::alloc`.
            if let [name] = segs.as_slice() {
                if cx.bindings.is_local(name) {
                    return None;
                }
            }
            cx.vocab
                .raw_functions
                .iter()
                .any(|f| ends_with(f, &segs))
                .then(|| (segs.last().cloned().unwrap_or_default(), span_of(e)))
        }
        Expr::MethodCall(m) => {
            let name = m.method.to_string();
            (cx.vocab.raw_methods.contains(&name) && is_allocator_value(&m.receiver))
                .then(|| (name, call_span(e)))
        }
        _ => None,
    }
}

/// `System`, `Global`, `GLOBAL`, `&ALLOCATOR`: a value a `GlobalAlloc` method is called on.
fn is_allocator_value(recv: &Expr) -> bool {
    match peel_refs(recv) {
        Expr::Path(p) => {
            let last = last_segment(&p.path);
            last == "System"
                || last == "Global"
                || (last.len() > 1
                    && last
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()))
        }
        _ => false,
    }
}

/// `let p = alloc(..);` in `b`: the first thing that happens to `p` in the statements after it.
pub(crate) fn block(out: &mut Findings, cx: &Cx, b: &syn::Block) {
    for (i, stmt) in b.stmts.iter().enumerate() {
        let Stmt::Local(l) = stmt else { continue };
        let Some(init) = &l.init else { continue };
        let pat = match &l.pat {
            Pat::Type(t) => &*t.pat,
            p => p,
        };
        let Pat::Ident(id) = pat else { continue };
        let Some((call, span)) = raw_alloc(cx, &init.expr) else {
            continue;
        };
        let name = id.ident.to_string();
        let mut finder = PtrEvents::new(&name);
        for later in &b.stmts[i + 1..] {
            finder.visit_stmt(later);
            if finder.event.is_some() {
                break;
            }
        }
        if let Some(PtrEvent::Use(how)) = finder.event {
            let message = unchecked_raw_alloc::message(&call, &how);
            out.emit(cx, RuleId::UncheckedRawAlloc, span, message);
        }
    }
}

/// A raw allocation used directly, `how`.
fn direct_use(out: &mut Findings, cx: &Cx, inner: &Expr, how: &str) {
    if let Some((call, span)) = raw_alloc(cx, inner) {
        let message = unchecked_raw_alloc::message(&call, how);
        out.emit(cx, RuleId::UncheckedRawAlloc, span, message);
    }
}

/// `alloc(l).add(1)`, `malloc(n).write(x)`.
pub(crate) fn method_call(out: &mut Findings, cx: &Cx, m: &syn::ExprMethodCall) {
    let name = m.method.to_string();
    if uses_receiver(&name) {
        direct_use(out, cx, &m.receiver, &format!("by `{name}`"));
    }
}

/// `ptr::write(alloc(l), x)`; `last` is the called path's last segment.
pub(crate) fn call(out: &mut Findings, cx: &Cx, c: &syn::ExprCall, last: &str) {
    if uses_argument(last) {
        for arg in &c.args {
            direct_use(out, cx, arg, &format!("by `{last}`"));
        }
    }
}

/// `*alloc(l) = x`.
pub(crate) fn unary(out: &mut Findings, cx: &Cx, u: &syn::ExprUnary) {
    if matches!(u.op, syn::UnOp::Deref(_)) {
        direct_use(out, cx, &u.expr, "by a dereference");
    }
}

/// The first thing that happens to a raw pointer after allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PtrEvent {
    /// Compared with null (`is_null()`, `NonNull::new(p)`, `p == ptr::null_mut()`, `as_mut()`).
    NullCheck,
    /// Used; the text says how.
    Use(String),
    /// Reassigned or handed to code the analysis cannot follow: stop looking.
    Escape,
}

/// Scans statements in source order for the first event on the pointer variable `name`.
struct PtrEvents {
    name: String,
    /// The first event found.
    event: Option<PtrEvent>,
    depth: usize,
}

impl PtrEvents {
    fn new(name: &str) -> Self {
        PtrEvents {
            name: name.to_string(),
            event: None,
            depth: 0,
        }
    }

    fn is_ptr(&self, e: &Expr) -> bool {
        ident_of(peel_ptr(e)).is_some_and(|id| id == self.name)
    }

    fn is_null_value(e: &Expr) -> bool {
        match peel_ptr(e) {
            Expr::Call(c) => matches!(&*c.func, Expr::Path(p)
                if matches!(last_segment(&p.path).as_str(), "null" | "null_mut")),
            Expr::Lit(l) => matches!(&l.lit, syn::Lit::Int(i) if i.base10_digits() == "0"),
            _ => false,
        }
    }

    fn set(&mut self, event: PtrEvent) {
        if self.event.is_none() {
            self.event = Some(event);
        }
    }
}

impl<'ast> Visit<'ast> for PtrEvents {
    fn visit_expr(&mut self, e: &'ast Expr) {
        if self.event.is_some() || self.depth > 128 {
            return;
        }
        match e {
            Expr::MethodCall(m) if self.is_ptr(&m.receiver) => {
                let name = m.method.to_string();
                if matches!(
                    name.as_str(),
                    "is_null" | "as_ref" | "as_mut" | "as_uninit_mut"
                ) {
                    return self.set(PtrEvent::NullCheck);
                }
                if uses_receiver(&name) {
                    return self.set(PtrEvent::Use(format!("by `{name}`")));
                }
            }
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) && self.is_ptr(&u.expr) => {
                return self.set(PtrEvent::Use("by a dereference".to_string()));
            }
            Expr::Binary(b)
                if matches!(b.op, syn::BinOp::Eq(_) | syn::BinOp::Ne(_))
                    && ((self.is_ptr(&b.left) && Self::is_null_value(&b.right))
                        || (self.is_ptr(&b.right) && Self::is_null_value(&b.left))) =>
            {
                return self.set(PtrEvent::NullCheck);
            }
            Expr::Assign(a) if self.is_ptr(&a.left) => return self.set(PtrEvent::Escape),
            Expr::Call(c) if c.args.iter().any(|a| self.is_ptr(a)) => {
                let (last, segs) = match &*c.func {
                    Expr::Path(p) => (last_segment(&p.path), segments(&p.path)),
                    _ => (String::new(), Vec::new()),
                };
                if last == "new" && segs.iter().any(|s| s == "NonNull") {
                    return self.set(PtrEvent::NullCheck);
                }
                if uses_argument(&last) {
                    return self.set(PtrEvent::Use(format!("by `{last}`")));
                }
                return self.set(PtrEvent::Escape);
            }
            Expr::MethodCall(m) if m.args.iter().any(|a| self.is_ptr(a)) => {
                return self.set(PtrEvent::Escape);
            }
            _ => {}
        }
        self.depth += 1;
        syn::visit::visit_expr(self, e);
        self.depth -= 1;
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}
