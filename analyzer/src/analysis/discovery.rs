//! Wrapper discovery in one function: does its body propagate a fallible allocation (`?`,
//! `return`, its tail), and which other calls does it propagate (wrappers, perhaps, defined in
//! another file)? `index` collects the answers of every candidate function and resolves them
//! to a fixed point.
use syn::visit::Visit;
use syn::Expr;

use super::fields::FieldTypes;
use super::handling;
use super::syntax::{call_segments, peel, peel_refs};
use super::traverse::{Cx, Listener, Traversal};
use super::value::Kind;
use super::vocab::Vocab;

/// Methods that keep a `Result`'s error while changing its value.
const ADAPTERS: [&str; 9] = [
    "map",
    "map_err",
    "and_then",
    "inspect",
    "inspect_err",
    "as_ref",
    "as_mut",
    "context",
    "with_context",
];

/// A call whose result a function propagates (`?`, `return`, tail) and that is not known to be
/// an allocation yet: recorded for wrapper discovery across files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PropCall {
    /// `grow(..)`, `Pool::with_room(..)`, `Self::with_room(..)`.
    Path {
        /// The called path's segments.
        segs: Vec<String>,
        /// The enclosing `impl` type (what `Self` means).
        self_ty: Option<String>,
    },
    /// `x.grow(..)`: the receiver's known types and, for `a.field.grow(..)`, the field name.
    Method {
        /// The method.
        name: String,
        /// Its number of arguments.
        nargs: usize,
        /// The receiver's known types.
        types: Vec<String>,
        /// The receiver's field name, for `a.field.grow(..)`.
        field: Option<String>,
    },
}

/// What one function propagates.
#[derive(Debug, Default)]
pub(crate) struct Propagated {
    /// A fallible allocation is propagated (known without other files).
    pub allocation: bool,
    /// Other propagated calls, which may be wrappers defined elsewhere.
    pub calls: Vec<PropCall>,
}

impl Listener for Propagated {
    fn try_expr(&mut self, cx: &Cx, t: &syn::ExprTry) {
        self.note(cx, &t.expr);
    }

    fn return_expr(&mut self, cx: &Cx, r: &syn::ExprReturn) {
        if let Some(e) = &r.expr {
            self.note(cx, e);
        }
    }
    // Macro arguments hold neither `?` nor `return` (in practice): not parsed.
}

impl Propagated {
    /// `e` is propagated out of the function. Either it is an allocation value, or record the
    /// calls it may stand for (through adapters such as `.map(..)`).
    fn note(&mut self, cx: &Cx, e: &Expr) {
        if cx.eval(e).is_some_and(|v| v.kind == Kind::Result) {
            self.allocation = true;
            return;
        }
        let mut cur = peel(e);
        for _ in 0..16 {
            match cur {
                Expr::Call(c) => {
                    if let Expr::Path(p) = peel(&c.func) {
                        self.calls.push(PropCall::Path {
                            segs: call_segments(p),
                            self_ty: cx.bindings.self_type(),
                        });
                    }
                    return;
                }
                Expr::MethodCall(m) => {
                    let name = m.method.to_string();
                    let field = match peel_refs(&m.receiver) {
                        Expr::Field(f) => match &f.member {
                            syn::Member::Named(n) => Some(n.to_string()),
                            syn::Member::Unnamed(_) => None,
                        },
                        _ => None,
                    };
                    self.calls.push(PropCall::Method {
                        nargs: m.args.len(),
                        types: cx.chains().type_of(&m.receiver),
                        field,
                        name: name.clone(),
                    });
                    if !ADAPTERS.contains(&name.as_str()) {
                        return;
                    }
                    cur = peel(&m.receiver);
                }
                _ => return,
            }
        }
    }
}

/// What the function with signature `sig` and body `block` propagates; `self_ty` is its
/// `impl` type (`None` for a free function or a trait's default method). Test code inside is
/// included: a wrapper's body is judged whole.
pub(crate) fn propagated(
    vocab: &Vocab,
    fields: &FieldTypes,
    sig: &syn::Signature,
    block: &syn::Block,
    self_ty: Option<String>,
) -> Propagated {
    let mut t = Traversal::new(vocab, fields, true, Propagated::default());
    t.cx.bindings.enter_impl(self_ty);
    t.cx.bindings.enter_fn(sig);
    t.visit_block(block);
    if let Some(tail) = handling::tail(block) {
        t.listener.note(&t.cx, tail);
    }
    t.listener
}
