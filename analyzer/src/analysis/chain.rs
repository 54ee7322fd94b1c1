//! The method-chain classifier: is an expression an allocation value, and what does each
//! method called on one do to it?
//!
//! [`Chains::eval`] follows an expression down its method chain to a fallible allocation call
//! (a pack's, a configured one, a discovered wrapper) or to a local bound to one, then back up
//! through the methods: adapters keep the value (`.map(..)`, `.as_ref()`), some change its
//! [`Kind`] (`.ok()`, `.is_ok()`), and the rest consume it ([`Chains::step`]): `.unwrap()`
//! panics, `.unwrap_or(..)` swallows, `.map_err(|_| Error::X)` remaps. The contexts that
//! consume a value outside a chain (`let`, `match`, `if`, `?`, statements) are judged in
//! `checks::results`.
use syn::{Expr, ExprMethodCall};

use super::bindings::Bindings;
use super::fields::FieldTypes;
use super::handling::{self, ErrVal, Verdict};
use super::syntax::{bound_names, call_segments, call_span, ident_of, last_segment, peel, span_of};
use super::value::{Kind, Val};
use super::vocab::Vocab;
use crate::finding::Span;

/// Methods that return their closure argument's return value (`Option::and_then`,
/// `Result::or_else`, `unwrap_or_else`): an allocation value returned by the closure flows on
/// through the chain.
const CLOSURE_RESULT_METHODS: [&str; 3] = ["and_then", "or_else", "unwrap_or_else"];

/// How many closures deep [`Chains::eval`] follows a returned allocation value.
const MAX_CLOSURE_DEPTH: usize = 4;

/// What a method does to the allocation value it is called on.
pub(crate) enum Step {
    /// The value goes on (possibly of another kind).
    Continue(Val),
    /// The failure is mishandled here (never [`Verdict::Fine`]).
    Flag(Verdict),
    /// The value is consumed in a way that is fine, or that the analysis cannot follow.
    Stop,
}

/// The classifier, over the names in force and the bindings around the expression.
pub(crate) struct Chains<'a> {
    /// The names of allocations, error types, wrappers.
    pub vocab: &'a Vocab,
    /// Struct field types, for receivers such as `self.buf`.
    pub fields: &'a FieldTypes,
    /// Locals, parameters and `Self` around the expression.
    pub bindings: &'a Bindings,
}

impl Chains<'_> {
    /// The possible type names of a receiver expression.
    pub(crate) fn type_of(&self, recv: &Expr) -> Vec<String> {
        self.bindings.type_of(self.fields, recv)
    }

    /// Is the method call `m` a fallible allocation (by name, arity and receiver type)?
    pub(crate) fn is_alloc_method(&self, m: &ExprMethodCall) -> bool {
        self.vocab
            .method_is_alloc(&m.method.to_string(), m.args.len(), &mut || {
                self.type_of(&m.receiver)
            })
    }

    /// Is a call of the path `segs` a fallible allocation?
    pub(crate) fn is_alloc_path(&self, segs: &[String]) -> bool {
        self.vocab
            .path_is_alloc(segs, self.bindings.self_type().as_deref())
    }

    /// A method called in path form, `Type::method(recv, args…)` or `Trait::method(recv, …)`
    /// (`FallibleVec::try_reserve(&mut v, n)`): judged like `recv.method(args…)`.
    pub(crate) fn is_ufcs_alloc(&self, segs: &[String], c: &syn::ExprCall) -> bool {
        let ([.., owner, name], Some(recv)) = (segs, c.args.first()) else {
            return false;
        };
        if !owner.chars().next().is_some_and(char::is_uppercase) {
            return false;
        }
        self.vocab.method_is_alloc(name, c.args.len() - 1, &mut || {
            let mut t = self.type_of(recv);
            t.push(owner.clone());
            t
        })
    }

    /// Is `expr` itself a fallible allocation call? Returns its name and span.
    fn alloc_call(&self, expr: &Expr) -> Option<(String, Span)> {
        match expr {
            Expr::MethodCall(m) if self.is_alloc_method(m) => {
                Some((m.method.to_string(), call_span(expr)))
            }
            Expr::Call(c) => match peel(&c.func) {
                Expr::Path(p) => {
                    let segs = call_segments(p);
                    (self.is_alloc_path(&segs) || self.is_ufcs_alloc(&segs, c)).then(|| {
                        let shown = segs[segs.len().saturating_sub(2)..].join("::");
                        (shown, span_of(expr))
                    })
                }
                _ => None,
            },
            Expr::Macro(m) => {
                let name = last_segment(&m.mac.path);
                self.vocab
                    .alloc_macros
                    .contains(&name)
                    .then(|| (format!("{name}!"), span_of(expr)))
            }
            _ => None,
        }
    }

    /// Follow `expr` down its method chain to an allocation call (or a local bound to one) and
    /// back up through the adapters: the allocation value `expr` evaluates to, if any.
    pub(crate) fn eval(&self, expr: &Expr) -> Option<Val> {
        self.eval_nested(expr, 0)
    }

    /// [`Chains::eval`] inside `depth` closures whose return value the chain carries on.
    fn eval_nested(&self, expr: &Expr, depth: usize) -> Option<Val> {
        let mut chain: Vec<&ExprMethodCall> = Vec::new();
        let mut cur = peel(expr);
        let base = loop {
            if let Some((call, span)) = self.alloc_call(cur) {
                break Some(Val {
                    kind: Kind::Result,
                    call,
                    span,
                });
            }
            match cur {
                Expr::MethodCall(m) if chain.len() < 64 => {
                    chain.push(m);
                    cur = peel(&m.receiver);
                }
                Expr::Path(_) => break ident_of(cur).and_then(|n| self.bindings.alloc_local(&n)),
                _ => break None,
            }
        };
        // No allocation at the bottom of the chain: one may enter it as the return value of a
        // closure that becomes the chain's value (`.and_then(|()| v.try_reserve(n).ok())`).
        let (mut val, rest) = match base {
            Some(val) => (val, &chain[..]),
            None => self.closure_entry(&chain, depth)?,
        };
        for m in rest.iter().rev() {
            match self.step(&val, m) {
                Step::Continue(v) => val = v,
                Step::Flag(..) | Step::Stop => return None,
            }
        }
        Some(val)
    }

    /// The innermost method of `chain` (outermost first) whose closure argument returns an
    /// allocation value that the method returns as its own (`and_then`, `or_else`,
    /// `unwrap_or_else`): that value, and the methods called on it after.
    fn closure_entry<'c>(
        &self,
        chain: &'c [&'c ExprMethodCall],
        depth: usize,
    ) -> Option<(Val, &'c [&'c ExprMethodCall])> {
        if depth >= MAX_CLOSURE_DEPTH {
            return None;
        }
        chain.iter().enumerate().rev().find_map(|(i, m)| {
            let name = m.method.to_string();
            if !CLOSURE_RESULT_METHODS.contains(&name.as_str()) {
                return None;
            }
            let Some(Expr::Closure(c)) = m.args.first().map(peel) else {
                return None;
            };
            let body = match peel(&c.body) {
                Expr::Block(b) => handling::tail(&b.block)?,
                body => body,
            };
            let val = self.eval_nested(body, depth + 1)?;
            matches!(val.kind, Kind::Result | Kind::Option).then(|| (val, &chain[..i]))
        })
    }

    /// What the method `m` does to the allocation value `val` (its receiver).
    pub(crate) fn step(&self, val: &Val, m: &ExprMethodCall) -> Step {
        let name = m.method.to_string();
        let first = m.args.first();
        let with = |kind| Step::Continue(val.as_kind(kind));
        let quoted = format!("`{name}`");
        let v = self.vocab;
        match val.kind {
            // `unwrap_unchecked` is not a panic: it is the author's `unsafe` proof that the
            // call cannot fail (bump-scope's `shrink` on an allocator whose contract forbids
            // failing), an explicit marker of intent like `oomcheck:allow`. Not followed.
            _ if name == "unwrap_unchecked" => Step::Stop,
            Kind::Result => match name.as_str() {
                "unwrap" | "expect" => Step::Flag(Verdict::Panic(quoted)),
                "unwrap_or" | "unwrap_or_default" | "map_or" => {
                    Step::Flag(Verdict::Swallowed(quoted))
                }
                "unwrap_or_else" | "map_or_else"
                    if first.is_some_and(handling::asserts_unreachable) =>
                {
                    Step::Stop
                }
                "unwrap_or_else" | "map_or_else" => {
                    match first.and_then(|f| handling::closure_panics(v, f)) {
                        Some(how) => Step::Flag(Verdict::Panic(format!("`{name}` with {how}"))),
                        None => Step::Flag(Verdict::Swallowed(quoted)),
                    }
                }
                "ok" => with(Kind::Option),
                "is_ok" => with(Kind::Probe {
                    true_is_success: true,
                }),
                "is_err" => with(Kind::Probe {
                    true_is_success: false,
                }),
                "map" | "inspect" | "inspect_err" | "as_ref" | "as_mut" | "as_deref"
                | "as_deref_mut" | "copied" | "cloned" | "and" | "and_then" | "context"
                | "with_context" | "wrap_err" | "wrap_err_with" => with(Kind::Result),
                "map_err" => match first.map(|f| handling::mapper(v, f)) {
                    Some(Verdict::Remapped(to)) => Step::Flag(Verdict::Remapped(to)),
                    Some(Verdict::Panic(how)) => {
                        Step::Flag(Verdict::Panic(format!("`map_err` with {how}")))
                    }
                    Some(Verdict::Swallowed(how)) => Step::Flag(Verdict::Swallowed(how)),
                    Some(Verdict::Fine) | None => {
                        // A NoMemory mapping handles the failure; a conversion the analysis
                        // cannot see through keeps following the value.
                        if first.is_some_and(|f| handling::mentions_no_memory(v, f)) {
                            Step::Stop
                        } else {
                            with(Kind::Result)
                        }
                    }
                },
                "or" => match first {
                    Some(arg) => match handling::err_payload(arg) {
                        Some(payload) => match handling::error_value(v, payload, &[]) {
                            ErrVal::Remapped(to) => Step::Flag(Verdict::Remapped(to)),
                            _ => Step::Stop,
                        },
                        None => Step::Flag(Verdict::Swallowed("`or`".to_string())),
                    },
                    None => Step::Stop,
                },
                "or_else" => match first.map(peel) {
                    Some(Expr::Closure(c)) => {
                        let mut bound = Vec::new();
                        for input in &c.inputs {
                            bound_names(input, &mut bound);
                        }
                        branch_step(handling::failure_branch(v, &c.body, &bound), "or_else")
                    }
                    _ => Step::Stop,
                },
                _ => Step::Stop,
            },
            Kind::Option => match name.as_str() {
                "unwrap" | "expect" => Step::Flag(Verdict::Panic(format!("`ok().{name}`"))),
                "unwrap_or" | "unwrap_or_default" | "map_or" | "or" | "or_else" | "xor" => {
                    Step::Flag(Verdict::Swallowed(format!("`ok().{name}`")))
                }
                "unwrap_or_else" | "map_or_else"
                    if first.is_some_and(handling::asserts_unreachable) =>
                {
                    Step::Stop
                }
                "unwrap_or_else" | "map_or_else" => {
                    match first.and_then(|f| handling::closure_panics(v, f)) {
                        Some(how) => {
                            Step::Flag(Verdict::Panic(format!("`ok().{name}` with {how}")))
                        }
                        None => Step::Flag(Verdict::Swallowed(format!("`ok().{name}`"))),
                    }
                }
                "ok_or" => match first.map(|a| handling::error_value(v, a, &[])) {
                    Some(ErrVal::Remapped(to)) => Step::Flag(Verdict::Remapped(to)),
                    _ => Step::Stop,
                },
                "ok_or_else" => match first.map(peel) {
                    Some(Expr::Closure(c)) => match handling::error_value(v, &c.body, &[]) {
                        ErrVal::Remapped(to) => Step::Flag(Verdict::Remapped(to)),
                        _ => Step::Stop,
                    },
                    _ => Step::Stop,
                },
                "map" | "and_then" | "filter" | "as_ref" | "as_mut" | "as_deref"
                | "as_deref_mut" | "inspect" | "copied" | "cloned" => with(Kind::Option),
                "is_some" => with(Kind::Probe {
                    true_is_success: true,
                }),
                "is_none" => with(Kind::Probe {
                    true_is_success: false,
                }),
                _ => Step::Stop,
            },
            Kind::Probe { .. } => Step::Stop,
        }
    }

    /// Does a token stream name an allocation call, a wrapper, a raw allocator or a local
    /// bound to an allocation value? (Iterative over nested groups, bounded.) Macro bodies
    /// that do not are not worth parsing.
    pub(crate) fn tokens_may_matter(&self, tokens: &proc_macro2::TokenStream) -> bool {
        let mut stack = vec![tokens.clone()];
        let mut seen = 0usize;
        while let Some(ts) = stack.pop() {
            for tt in ts {
                seen += 1;
                if seen > 100_000 {
                    return true;
                }
                match tt {
                    proc_macro2::TokenTree::Ident(i) => {
                        let name = i.to_string();
                        if self.vocab.may_start_allocation(&name)
                            || self.bindings.is_alloc_local(&name)
                        {
                            return true;
                        }
                    }
                    proc_macro2::TokenTree::Group(g) => stack.push(g.stream()),
                    _ => {}
                }
            }
        }
        false
    }
}

/// The step of a method whose closure is the failure branch (`or_else(|e| …)`): the branch's
/// verdict, with the method named in the message.
fn branch_step(verdict: Verdict, method: &str) -> Step {
    match verdict {
        Verdict::Fine => Step::Stop,
        Verdict::Swallowed(how) => Step::Flag(Verdict::Swallowed(format!("`{method}` with {how}"))),
        Verdict::Panic(how) => Step::Flag(Verdict::Panic(format!("`{method}` with {how}"))),
        Verdict::Remapped(to) => Step::Flag(Verdict::Remapped(to)),
    }
}
