//! The per-file visitor: finds allocation calls and classifies how their results are used.
//!
//! Allocation values are followed through method chains bottom-up ([`FileVisitor::eval`]):
//! from the allocation call through adapters (`.map(..)`, `.ok()`, `.is_ok()`…) to the method,
//! statement, `let`, `match`, `if`, `?` or `drop` that consumes them. A finding is emitted where
//! the failure is lost, at the span of the allocation call.
use std::collections::{HashMap, HashSet};

use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, ExprMethodCall, Pat, Stmt};

use super::handling::{self, Verdict};
use super::syntax::{
    bound_names, call_span, ends_with, ident_of, is_test_code, last_segment, pattern_head, peel,
    peel_ptr, peel_refs, segments, span_of, type_name,
};
use super::vocab::Vocab;
use crate::finding::Span;
use crate::rules::{self, RuleId};

/// How deep the visitor descends into nested expressions. Real code stays far below; generated
/// or adversarial code deeper than this is not analysed further (rather than overflowing the
/// stack).
const MAX_EXPR_DEPTH: usize = 384;

/// Macros whose arguments are comma-separated expressions the visitor looks into.
const EXPR_MACROS: [&str; 27] = [
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "println",
    "print",
    "eprintln",
    "eprint",
    "format",
    "format_args",
    "write",
    "writeln",
    "panic",
    "dbg",
    "vec",
    "info",
    "warn",
    "error",
    "debug",
    "trace",
    "todo",
    "unreachable",
    "unimplemented",
    "try_vec",
    "tryformat",
];

/// What an allocation's result has become along a method chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `Result<_, E>` whose `Err` is the allocation failure.
    Result,
    /// `Option` whose `None` is the allocation failure (after `.ok()`).
    Option,
    /// A `bool` saying whether the allocation succeeded (`true_is_success`) or failed.
    Probe { true_is_success: bool },
}

/// An allocation value being followed.
#[derive(Clone, Debug)]
pub(crate) struct Val {
    pub kind: Kind,
    /// The allocation call's name, for messages (`try_reserve`, `Box::try_new`).
    pub call: String,
    /// The allocation call's span (where findings are reported).
    pub span: Span,
}

enum Step {
    Continue(Val),
    Flag(RuleId, String),
    Stop,
}

/// One finding before suppression and path are applied.
#[derive(Clone, Debug)]
pub(crate) struct RawFinding {
    pub rule: RuleId,
    pub span: Span,
    /// First line of the enclosing statement (for allow comments above a multi-line one).
    pub stmt_line: usize,
    pub message: String,
    pub help: &'static str,
}

#[derive(Default)]
struct Scope {
    /// Declared or inferred type names of locals and parameters.
    types: HashMap<String, Vec<String>>,
    /// Locals bound to an allocation value (`let r = v.try_reserve(n);`).
    alloc_locals: HashMap<String, Val>,
}

/// A call whose result a function propagates (`?`, `return`, tail) and that is not known to be
/// an allocation yet: recorded for wrapper discovery across files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PropCall {
    /// `grow(..)`, `Pool::with_room(..)`, `Self::with_room(..)`.
    Path {
        segs: Vec<String>,
        self_ty: Option<String>,
    },
    /// `x.grow(..)`: the receiver's known types and, for `a.field.grow(..)`, the field name.
    Method {
        name: String,
        nargs: usize,
        types: Vec<String>,
        field: Option<String>,
    },
}

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

/// Cross-file facts the visitor consults.
#[derive(Debug, Default)]
pub(crate) struct Index {
    /// Struct field name → declared type names (over all structs).
    pub fields: HashMap<String, HashSet<String>>,
    /// Struct name → field name → declared type name.
    pub struct_fields: HashMap<String, HashMap<String, String>>,
}

/// The visitor over one file (or over one function body during wrapper discovery).
pub(crate) struct FileVisitor<'v> {
    vocab: &'v Vocab,
    index: &'v Index,
    include_tests: bool,
    infallible: bool,
    discover: bool,
    /// Discovery mode: a fallible allocation is propagated (`?`, `return`, tail).
    pub propagates: bool,
    /// Discovery mode: other propagated calls, which may be wrappers defined elsewhere.
    pub prop_calls: Vec<PropCall>,
    pub findings: Vec<RawFinding>,
    /// Line ranges of skipped test code.
    pub skipped: Vec<(usize, usize)>,
    scopes: Vec<Scope>,
    impl_types: Vec<Option<String>>,
    /// First tokens of the statements being visited (lines computed only for findings).
    stmt_starts: Vec<proc_macro2::Span>,
    depth: usize,
}

impl<'v> FileVisitor<'v> {
    pub(crate) fn new(
        vocab: &'v Vocab,
        index: &'v Index,
        include_tests: bool,
        infallible: bool,
    ) -> Self {
        FileVisitor {
            vocab,
            index,
            include_tests,
            infallible,
            discover: false,
            propagates: false,
            prop_calls: Vec::new(),
            findings: Vec::new(),
            skipped: Vec::new(),
            scopes: vec![Scope::default()],
            impl_types: Vec::new(),
            stmt_starts: Vec::new(),
            depth: 0,
        }
    }

    /// A visitor for wrapper discovery over one function: parameters typed from `sig`, the
    /// `impl` type `self_ty`; it records whether an allocation is propagated, nothing else.
    pub(crate) fn discovery(
        vocab: &'v Vocab,
        index: &'v Index,
        sig: &syn::Signature,
        self_ty: Option<String>,
    ) -> Self {
        let mut v = FileVisitor::new(vocab, index, true, false);
        v.discover = true;
        v.impl_types.push(self_ty);
        v.enter_fn(sig);
        v
    }

    /// Discovery: note the tail of a function body as propagated.
    pub(crate) fn note_tail(&mut self, block: &syn::Block) {
        if let Some(t) = handling::tail(block) {
            self.note_propagated(t);
        }
    }

    /// Discovery: `e` is propagated out of the function. Either it is an allocation value, or
    /// record the calls it may stand for (through adapters such as `.map(..)`).
    fn note_propagated(&mut self, e: &Expr) {
        if self.eval(e).is_some_and(|v| v.kind == Kind::Result) {
            self.propagates = true;
            return;
        }
        let mut cur = peel(e);
        for _ in 0..16 {
            match cur {
                Expr::Call(c) => {
                    if let Expr::Path(p) = peel(&c.func) {
                        let self_ty = self.impl_types.last().cloned().flatten();
                        self.prop_calls.push(PropCall::Path {
                            segs: call_segments(p),
                            self_ty,
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
                    self.prop_calls.push(PropCall::Method {
                        nargs: m.args.len(),
                        types: self.type_of(&m.receiver),
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

    fn enter_fn(&mut self, sig: &syn::Signature) {
        let mut scope = Scope::default();
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(_) => {
                    if let Some(Some(t)) = self.impl_types.last() {
                        scope.types.insert("self".to_string(), vec![t.clone()]);
                    }
                }
                syn::FnArg::Typed(pt) => {
                    if let Some(t) = type_name(&pt.ty) {
                        let mut names = Vec::new();
                        bound_names(&pt.pat, &mut names);
                        for n in names {
                            scope.types.insert(n, vec![t.clone()]);
                        }
                    }
                }
            }
        }
        self.scopes.push(scope);
    }

    fn scope(&mut self) -> &mut Scope {
        if self.scopes.is_empty() {
            self.scopes.push(Scope::default());
        }
        let last = self.scopes.len() - 1;
        &mut self.scopes[last]
    }

    fn emit(&mut self, rule: RuleId, span: Span, message: String) {
        if self.discover {
            return;
        }
        let help = match rule {
            RuleId::DiscardedAllocResult => rules::discarded_alloc_result::HELP,
            RuleId::SwallowedAllocFailure => rules::swallowed_alloc_failure::HELP,
            RuleId::PanicOnAllocFailure => rules::panic_on_alloc_failure::HELP,
            RuleId::RemappedAllocError => rules::remapped_alloc_error::HELP,
            RuleId::UncheckedRawAlloc => rules::unchecked_raw_alloc::HELP,
            RuleId::InfallibleAlloc => rules::infallible_alloc::HELP,
            RuleId::UnusedAllow => rules::unused_allow::HELP,
        };
        let stmt_line = self
            .stmt_starts
            .last()
            .map(|s| s.start().line)
            .unwrap_or(span.start_line);
        self.findings.push(RawFinding {
            rule,
            span,
            stmt_line,
            message,
            help,
        });
    }

    /// Emit the finding for an allocation value given the rule and the "how" text.
    fn flag(&mut self, rule: RuleId, val: &Val, how: &str) {
        let message = match rule {
            RuleId::DiscardedAllocResult => rules::discarded_alloc_result::message(&val.call, how),
            RuleId::SwallowedAllocFailure => {
                rules::swallowed_alloc_failure::message(&val.call, how)
            }
            RuleId::PanicOnAllocFailure => rules::panic_on_alloc_failure::message(&val.call, how),
            RuleId::RemappedAllocError => rules::remapped_alloc_error::message(&val.call, how),
            _ => return,
        };
        self.emit(rule, val.span, message);
    }

    fn verdict(&mut self, val: &Val, verdict: Verdict) {
        match verdict {
            Verdict::Fine => {}
            Verdict::Swallowed(how) => self.flag(RuleId::SwallowedAllocFailure, val, &how),
            Verdict::Panic(how) => self.flag(RuleId::PanicOnAllocFailure, val, &how),
            Verdict::Remapped(to) => self.flag(RuleId::RemappedAllocError, val, &to),
        }
    }

    fn skip_test(&mut self, attrs: &[syn::Attribute], node: &dyn Spanned) -> bool {
        if self.include_tests || !is_test_code(attrs) {
            return false;
        }
        let s = node.span();
        self.skipped.push((s.start().line, s.end().line));
        true
    }

    // ----- types of receivers -----

    fn local_types(&self, name: &str) -> Vec<String> {
        self.scopes
            .iter()
            .rev()
            .find_map(|s| s.types.get(name))
            .cloned()
            .unwrap_or_default()
    }

    /// The possible type names of a receiver expression, syntactically.
    fn type_of(&self, recv: &Expr) -> Vec<String> {
        // Through `.as_mut()`-like calls iteratively (no recursion on long chains).
        let mut recv = peel_refs(recv);
        for _ in 0..64 {
            match recv {
                Expr::MethodCall(m)
                    if m.args.is_empty()
                        && matches!(
                            m.method.to_string().as_str(),
                            "as_mut" | "as_ref" | "borrow_mut" | "borrow" | "get_mut"
                        ) =>
                {
                    recv = peel_refs(&m.receiver);
                }
                _ => break,
            }
        }
        match recv {
            e @ Expr::Path(_) => ident_of(e)
                .map(|id| self.local_types(&id))
                .unwrap_or_default(),
            Expr::Field(f) => match &f.member {
                syn::Member::Named(n) => {
                    let field = n.to_string();
                    // `self.field` in an `impl` of a known struct: that struct's field only.
                    let own = (ident_of(&f.base).as_deref() == Some("self"))
                        .then(|| self.impl_types.last().cloned().flatten())
                        .flatten()
                        .and_then(|ty| self.index.struct_fields.get(&ty));
                    match own {
                        Some(fields) => fields.get(&field).cloned().into_iter().collect(),
                        None => self
                            .index
                            .fields
                            .get(&field)
                            .map(|s| s.iter().cloned().collect())
                            .unwrap_or_default(),
                    }
                }
                syn::Member::Unnamed(_) => Vec::new(),
            },
            e => infer_type(e).into_iter().collect(),
        }
    }

    // ----- allocation calls -----

    fn is_alloc_method(&self, m: &ExprMethodCall) -> bool {
        self.vocab
            .method_is_alloc(&m.method.to_string(), m.args.len(), &mut || {
                self.type_of(&m.receiver)
            })
    }

    fn is_alloc_path(&self, segs: &[String]) -> bool {
        let self_ty = self.impl_types.last().cloned().flatten();
        self.vocab.path_is_alloc(segs, self_ty.as_deref())
    }

    /// A method called in path form, `Type::method(recv, args…)` or `Trait::method(recv, …)`
    /// (`FallibleVec::try_reserve(&mut v, n)`): judged like `recv.method(args…)`.
    fn is_ufcs_alloc(&self, segs: &[String], c: &syn::ExprCall) -> bool {
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

    fn alloc_local(&self, name: &str) -> Option<Val> {
        self.scopes
            .iter()
            .rev()
            .find_map(|s| s.alloc_locals.get(name))
            .cloned()
    }

    /// Follow `expr` down its method chain to an allocation call (or a local bound to one) and
    /// back up through the adapters: the allocation value `expr` evaluates to, if any.
    pub(crate) fn eval(&self, expr: &Expr) -> Option<Val> {
        let mut chain: Vec<&ExprMethodCall> = Vec::new();
        let mut cur = peel(expr);
        let base = loop {
            if let Some((call, span)) = self.alloc_call(cur) {
                break Val {
                    kind: Kind::Result,
                    call,
                    span,
                };
            }
            match cur {
                Expr::MethodCall(m) if chain.len() < 64 => {
                    chain.push(m);
                    cur = peel(&m.receiver);
                }
                Expr::Path(_) => break self.alloc_local(&ident_of(cur)?)?,
                _ => return None,
            }
        };
        let mut val = base;
        for m in chain.iter().rev() {
            match self.step(&val, m) {
                Step::Continue(v) => val = v,
                Step::Flag(..) | Step::Stop => return None,
            }
        }
        Some(val)
    }

    /// What the method `m` does to the allocation value `val` (its receiver).
    fn step(&self, val: &Val, m: &ExprMethodCall) -> Step {
        let name = m.method.to_string();
        let first = m.args.first();
        let with = |kind| {
            Step::Continue(Val {
                kind,
                ..val.clone()
            })
        };
        let quoted = format!("`{name}`");
        let v = self.vocab;
        match val.kind {
            Kind::Result => match name.as_str() {
                "unwrap" | "expect" | "unwrap_unchecked" => {
                    Step::Flag(RuleId::PanicOnAllocFailure, quoted)
                }
                "unwrap_or" | "unwrap_or_default" | "map_or" => {
                    Step::Flag(RuleId::SwallowedAllocFailure, quoted)
                }
                "unwrap_or_else" | "map_or_else" => {
                    match first.and_then(|f| handling::closure_panics(v, f)) {
                        Some(how) => {
                            Step::Flag(RuleId::PanicOnAllocFailure, format!("`{name}` with {how}"))
                        }
                        None => Step::Flag(RuleId::SwallowedAllocFailure, quoted),
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
                    Some(Verdict::Remapped(to)) => Step::Flag(RuleId::RemappedAllocError, to),
                    Some(Verdict::Panic(how)) => {
                        Step::Flag(RuleId::PanicOnAllocFailure, format!("`map_err` with {how}"))
                    }
                    Some(Verdict::Swallowed(how)) => Step::Flag(RuleId::SwallowedAllocFailure, how),
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
                            handling::ErrVal::Remapped(to) => {
                                Step::Flag(RuleId::RemappedAllocError, to)
                            }
                            _ => Step::Stop,
                        },
                        None => Step::Flag(RuleId::SwallowedAllocFailure, "`or`".to_string()),
                    },
                    None => Step::Stop,
                },
                "or_else" => match first.map(peel) {
                    Some(Expr::Closure(c)) => {
                        let mut bound = Vec::new();
                        for input in &c.inputs {
                            bound_names(input, &mut bound);
                        }
                        self.step_verdict(handling::failure_branch(v, &c.body, &bound), "or_else")
                    }
                    _ => Step::Stop,
                },
                _ => Step::Stop,
            },
            Kind::Option => match name.as_str() {
                "unwrap" | "expect" | "unwrap_unchecked" => {
                    Step::Flag(RuleId::PanicOnAllocFailure, format!("`ok().{name}`"))
                }
                "unwrap_or" | "unwrap_or_default" | "map_or" | "or" | "or_else" | "xor" => {
                    Step::Flag(RuleId::SwallowedAllocFailure, format!("`ok().{name}`"))
                }
                "unwrap_or_else" | "map_or_else" => {
                    match first.and_then(|f| handling::closure_panics(v, f)) {
                        Some(how) => Step::Flag(
                            RuleId::PanicOnAllocFailure,
                            format!("`ok().{name}` with {how}"),
                        ),
                        None => Step::Flag(RuleId::SwallowedAllocFailure, format!("`ok().{name}`")),
                    }
                }
                "ok_or" => match first.map(|a| handling::error_value(v, a, &[])) {
                    Some(handling::ErrVal::Remapped(to)) => {
                        Step::Flag(RuleId::RemappedAllocError, to)
                    }
                    _ => Step::Stop,
                },
                "ok_or_else" => match first.map(peel) {
                    Some(Expr::Closure(c)) => match handling::error_value(v, &c.body, &[]) {
                        handling::ErrVal::Remapped(to) => {
                            Step::Flag(RuleId::RemappedAllocError, to)
                        }
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

    fn step_verdict(&self, verdict: Verdict, method: &str) -> Step {
        match verdict {
            Verdict::Fine => Step::Stop,
            Verdict::Swallowed(how) => Step::Flag(
                RuleId::SwallowedAllocFailure,
                format!("`{method}` with {how}"),
            ),
            Verdict::Panic(how) => Step::Flag(
                RuleId::PanicOnAllocFailure,
                format!("`{method}` with {how}"),
            ),
            Verdict::Remapped(to) => Step::Flag(RuleId::RemappedAllocError, to),
        }
    }

    /// Does a token stream name an allocation call, a wrapper, a raw allocator or a local
    /// bound to an allocation value? (Iterative over nested groups, bounded.)
    fn tokens_may_matter(&self, tokens: &proc_macro2::TokenStream) -> bool {
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
                            || self
                                .scopes
                                .iter()
                                .any(|s| s.alloc_locals.contains_key(&name))
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

    // ----- contexts that consume an allocation value -----

    fn discarded(&mut self, e: &Expr, how: &str) {
        if let Some(val) = self.eval(e) {
            let how = match val.kind {
                Kind::Option => format!("{how} after `ok()`"),
                Kind::Probe { .. } => format!("{how} (its `is_ok()`/`is_err()` is not used)"),
                Kind::Result => how.to_string(),
            };
            self.flag(RuleId::DiscardedAllocResult, &val, &how);
        }
    }

    fn check_if(&mut self, i: &syn::ExprIf) {
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
            let Some(val) = self.eval(&l.expr) else {
                return;
            };
            let head = pattern_head(&l.pat).unwrap_or_default();
            match (val.kind, head.as_str()) {
                (Kind::Result, "Ok") | (Kind::Option, "Some") => match &i.else_branch {
                    None => self.flag(
                        RuleId::SwallowedAllocFailure,
                        &val,
                        &format!("`if let {head}(..)` without `else`"),
                    ),
                    Some((_, e)) => {
                        let verdict = handling::failure_branch(self.vocab, e, &[]);
                        self.verdict(&val, verdict);
                    }
                },
                (Kind::Result, "Err") | (Kind::Option, "None") => {
                    let mut bound = Vec::new();
                    bound_names(&l.pat, &mut bound);
                    let verdict = handling::failure_block(self.vocab, &i.then_branch, &bound);
                    self.verdict(&val, verdict);
                }
                _ => {}
            }
            return;
        }
        let Some(val) = self.eval(cond) else { return };
        let Kind::Probe { true_is_success } = val.kind else {
            return;
        };
        if true_is_success != negated {
            match &i.else_branch {
                None => self.flag(
                    RuleId::SwallowedAllocFailure,
                    &val,
                    "an `if` on success without `else`",
                ),
                Some((_, e)) => {
                    let verdict = handling::failure_branch(self.vocab, e, &[]);
                    self.verdict(&val, verdict);
                }
            }
        } else {
            let verdict = handling::failure_block(self.vocab, &i.then_branch, &[]);
            self.verdict(&val, verdict);
        }
    }

    fn check_match(&mut self, m: &syn::ExprMatch) {
        let Some(val) = self.eval(&m.expr) else {
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
                Pat::Lit(l) => quote_lit(l) == failure,
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
            let verdict = handling::failure_branch(self.vocab, &arm.body, &bound);
            self.verdict(&val, verdict);
        }
    }

    fn check_local(&mut self, l: &syn::Local) {
        let Some(init) = &l.init else { return };
        if let Some((_, diverge)) = &init.diverge {
            // `let Ok(x) = alloc() else { … }`
            if let Some(val) = self.eval(&init.expr) {
                let verdict = handling::failure_branch(self.vocab, diverge, &[]);
                self.verdict(&val, verdict);
            }
            return;
        }
        let pat = match &l.pat {
            Pat::Type(t) => &*t.pat,
            p => p,
        };
        match pat {
            Pat::Wild(_) => self.discarded(&init.expr, "by `let _`"),
            Pat::Ident(i) if i.ident.to_string().starts_with('_') => {
                self.discarded(&init.expr, &format!("by `let {}`", i.ident))
            }
            _ => {}
        }
    }

    /// After a `let` is visited: remember the types and allocation values it binds.
    fn record_local(&mut self, l: &syn::Local) {
        let (pat, declared) = match &l.pat {
            Pat::Type(t) => (&*t.pat, type_name(&t.ty)),
            p => (p, None),
        };
        let Pat::Ident(id) = pat else { return };
        let name = id.ident.to_string();
        let init = l.init.as_ref().filter(|i| i.diverge.is_none());
        let ty = declared.or_else(|| init.and_then(|i| infer_type(&i.expr)));
        let val = init
            .and_then(|i| self.eval(&i.expr))
            .filter(|_| !name.starts_with('_'));
        let scope = self.scope();
        match ty {
            Some(t) => {
                scope.types.insert(name.clone(), vec![t]);
            }
            None => {
                scope.types.remove(&name);
            }
        }
        match val {
            Some(v) => {
                scope.alloc_locals.insert(name, v);
            }
            None => {
                scope.alloc_locals.remove(&name);
            }
        }
    }

    // ----- raw allocators (unchecked-raw-alloc) -----

    /// Is `expr` (through casts) a raw allocator call? Returns its name and span.
    fn raw_alloc(&self, expr: &Expr) -> Option<(String, Span)> {
        let e = peel_ptr(expr);
        match e {
            Expr::Call(c) => {
                let Expr::Path(p) = peel(&c.func) else {
                    return None;
                };
                let segs = segments(&p.path);
                self.vocab
                    .raw_functions
                    .iter()
                    .any(|f| ends_with(f, &segs))
                    .then(|| (segs.last().cloned().unwrap_or_default(), span_of(e)))
            }
            Expr::MethodCall(m) => {
                let name = m.method.to_string();
                (self.vocab.raw_methods.contains(&name) && is_allocator_value(&m.receiver))
                    .then(|| (name, call_span(e)))
            }
            _ => None,
        }
    }

    fn check_raw_block(&mut self, block: &syn::Block) {
        for (i, stmt) in block.stmts.iter().enumerate() {
            let Stmt::Local(l) = stmt else { continue };
            let Some(init) = &l.init else { continue };
            let pat = match &l.pat {
                Pat::Type(t) => &*t.pat,
                p => p,
            };
            let Pat::Ident(id) = pat else { continue };
            let Some((call, span)) = self.raw_alloc(&init.expr) else {
                continue;
            };
            let name = id.ident.to_string();
            let mut finder = rules::unchecked_raw_alloc::PtrEvents::new(&name);
            for later in &block.stmts[i + 1..] {
                finder.visit_stmt(later);
                if finder.event.is_some() {
                    break;
                }
            }
            if let Some(rules::unchecked_raw_alloc::PtrEvent::Use(how)) = finder.event {
                let message = rules::unchecked_raw_alloc::message(&call, &how);
                self.emit(RuleId::UncheckedRawAlloc, span, message);
            }
        }
    }

    fn raw_direct_use(&mut self, inner: &Expr, how: &str) {
        if let Some((call, span)) = self.raw_alloc(inner) {
            let message = rules::unchecked_raw_alloc::message(&call, how);
            self.emit(RuleId::UncheckedRawAlloc, span, message);
        }
    }

    // ----- infallible allocations (opt-in) -----

    fn infallible(&mut self, name: &str, span: Span) {
        if self.infallible {
            self.emit(
                RuleId::InfallibleAlloc,
                span,
                rules::infallible_alloc::message(name),
            );
        }
    }

    // ----- `impl From<AllocError> for E` -----

    fn check_from_impl(&mut self, i: &syn::ItemImpl) {
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
        if !self.vocab.error_types.contains(&source) {
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
            rules::remapped_alloc_error::from_values(&f.block, &mut values, 0);
            for value in values {
                if let handling::ErrVal::Remapped(to) =
                    handling::error_value(self.vocab, value, &bound)
                {
                    let message =
                        rules::remapped_alloc_error::from_impl_message(&source, &target, &to);
                    self.emit(RuleId::RemappedAllocError, span_of(value), message);
                }
            }
        }
    }
}

/// The segments a call's path is matched by: for a qualified path `<Box<_> as FallibleBox<_>>::
/// try_new`, the self type and the method (`Box::try_new`).
fn call_segments(p: &syn::ExprPath) -> Vec<String> {
    match &p.qself {
        Some(q) => vec![type_name(&q.ty).unwrap_or_default(), last_segment(&p.path)],
        None => segments(&p.path),
    }
}

fn quote_lit(l: &syn::ExprLit) -> String {
    match &l.lit {
        syn::Lit::Bool(b) => b.value.to_string(),
        _ => String::new(),
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

/// The type a `let` initializer obviously has: `TryVec::new()`, `TryHashMap::with_capacity(n)?`,
/// `KVec::with_capacity(n, GFP_KERNEL).unwrap()`, `Foo { .. }`.
pub(crate) fn infer_type(e: &Expr) -> Option<String> {
    let mut e = peel(e);
    for _ in 0..8 {
        match e {
            Expr::Try(t) => e = peel(&t.expr),
            Expr::MethodCall(m)
                if matches!(
                    m.method.to_string().as_str(),
                    "unwrap" | "expect" | "map_err" | "unwrap_or_else" | "unwrap_or_default"
                ) =>
            {
                e = peel(&m.receiver)
            }
            Expr::Call(c) => {
                let Expr::Path(p) = peel(&c.func) else {
                    return None;
                };
                let segs = segments(&p.path);
                return (segs.len() >= 2).then(|| segs[segs.len() - 2].clone());
            }
            Expr::Struct(s) => return Some(last_segment(&s.path)),
            _ => return None,
        }
    }
    None
}

impl<'ast> Visit<'ast> for FileVisitor<'_> {
    fn visit_item(&mut self, i: &'ast syn::Item) {
        let attrs: &[syn::Attribute] = match i {
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Impl(m) => &m.attrs,
            syn::Item::Trait(m) => &m.attrs,
            syn::Item::Const(m) => &m.attrs,
            syn::Item::Static(m) => &m.attrs,
            syn::Item::Macro(m) => &m.attrs,
            _ => &[],
        };
        if self.skip_test(attrs, i) {
            return;
        }
        visit::visit_item(self, i);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        // A nested free function does not see the enclosing `impl`'s `Self`.
        self.impl_types.push(None);
        self.enter_fn(&f.sig);
        visit::visit_item_fn(self, f);
        self.scopes.pop();
        self.impl_types.pop();
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if self.skip_test(&f.attrs, f) {
            return;
        }
        self.enter_fn(&f.sig);
        visit::visit_impl_item_fn(self, f);
        self.scopes.pop();
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if self.skip_test(&f.attrs, f) {
            return;
        }
        self.enter_fn(&f.sig);
        visit::visit_trait_item_fn(self, f);
        self.scopes.pop();
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        self.check_from_impl(i);
        self.impl_types.push(type_name(&i.self_ty));
        visit::visit_item_impl(self, i);
        self.impl_types.pop();
    }

    fn visit_item_trait(&mut self, i: &'ast syn::ItemTrait) {
        self.impl_types.push(None);
        visit::visit_item_trait(self, i);
        self.impl_types.pop();
    }

    fn visit_expr(&mut self, e: &'ast Expr) {
        if self.depth >= MAX_EXPR_DEPTH {
            return;
        }
        self.depth += 1;
        visit::visit_expr(self, e);
        self.depth -= 1;
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        if !self.discover {
            self.check_raw_block(b);
        }
        visit::visit_block(self, b);
    }

    fn visit_stmt(&mut self, s: &'ast Stmt) {
        self.stmt_starts.push(super::syntax::stmt_start(s));
        if let (Stmt::Expr(e, Some(_)), false) = (s, self.discover) {
            self.discarded(e, "as a statement");
        }
        visit::visit_stmt(self, s);
        self.stmt_starts.pop();
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        if !self.discover {
            self.check_local(l);
        }
        visit::visit_local(self, l);
        self.record_local(l);
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        for input in &c.inputs {
            if let Pat::Type(pt) = input {
                if let Some(t) = type_name(&pt.ty) {
                    let mut names = Vec::new();
                    bound_names(&pt.pat, &mut names);
                    for n in names {
                        self.scope().types.insert(n, vec![t.clone()]);
                    }
                }
            }
        }
        visit::visit_expr_closure(self, c);
    }

    fn visit_expr_method_call(&mut self, m: &'ast ExprMethodCall) {
        if self.discover {
            visit::visit_expr_method_call(self, m);
            return;
        }
        if let Some(val) = self.eval(&m.receiver) {
            if let Step::Flag(rule, how) = self.step(&val, m) {
                self.flag(rule, &val, &how);
            }
        }
        let name = m.method.to_string();
        if self.infallible
            && self.vocab.infallible_methods.contains(&name)
            && !self.is_alloc_method(m)
        {
            let span = super::syntax::span_from(m.method.span(), m.span());
            self.infallible(&name, span);
        }
        if rules::unchecked_raw_alloc::USE_METHODS.contains(&name.as_str()) {
            self.raw_direct_use(&m.receiver, &format!("by `{name}`"));
        }
        visit::visit_expr_method_call(self, m);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let (Expr::Path(p), false) = (peel(&c.func), self.discover) {
            let segs = segments(&p.path);
            let last = segs.last().map(String::as_str).unwrap_or("");
            if last == "drop" && c.args.len() == 1 {
                self.discarded(&c.args[0], "by `drop`");
            }
            if rules::unchecked_raw_alloc::USE_FUNCTIONS.contains(&last) {
                for arg in &c.args {
                    self.raw_direct_use(arg, &format!("by `{last}`"));
                }
            }
            if self.infallible
                && self
                    .vocab
                    .infallible_paths
                    .iter()
                    .any(|p| ends_with(&segs, p))
                && !self.is_alloc_path(&segs)
            {
                let shown = segs[segs.len().saturating_sub(2)..].join("::");
                self.infallible(&shown, span_of(c));
            }
        }
        visit::visit_expr_call(self, c);
    }

    fn visit_expr_unary(&mut self, u: &'ast syn::ExprUnary) {
        if matches!(u.op, syn::UnOp::Deref(_)) && !self.discover {
            self.raw_direct_use(&u.expr, "by a dereference");
        }
        visit::visit_expr_unary(self, u);
    }

    fn visit_expr_try(&mut self, t: &'ast syn::ExprTry) {
        if self.discover {
            self.note_propagated(&t.expr);
        } else if let Some(val) = self.eval(&t.expr) {
            if val.kind == Kind::Option {
                self.flag(RuleId::SwallowedAllocFailure, &val, "`ok()?`");
            }
        }
        visit::visit_expr_try(self, t);
    }

    fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
        if self.discover {
            if let Some(e) = &r.expr {
                self.note_propagated(e);
            }
        }
        visit::visit_expr_return(self, r);
    }

    fn visit_expr_if(&mut self, i: &'ast syn::ExprIf) {
        if !self.discover {
            self.check_if(i);
        }
        visit::visit_expr_if(self, i);
    }

    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        if !self.discover {
            self.check_match(m);
        }
        visit::visit_expr_match(self, m);
    }

    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        let underscore =
            matches!(peel(&a.left), Expr::Infer(_)) || ident_of(&a.left).is_some_and(|n| n == "_");
        if underscore && !self.discover {
            self.discarded(&a.right, "by `_ =`");
        }
        visit::visit_expr_assign(self, a);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let name = last_segment(&mac.path);
        if self.infallible && self.vocab.infallible_macros.contains(&name) {
            self.infallible(&format!("{name}!"), span_of(mac));
        }
        // Discovery looks for `?` and `return` only; macro arguments hold neither (in practice).
        if self.discover || !EXPR_MACROS.contains(&name.as_str()) || self.depth >= MAX_EXPR_DEPTH {
            return;
        }
        // Parsing a macro body costs about as much as the rest of the analysis: only do it
        // when one of its identifiers can start an allocation value.
        if !self.infallible && !self.tokens_may_matter(&mac.tokens) {
            return;
        }
        let Ok(args) = mac.parse_body_with(Punctuated::<Expr, syn::Token![,]>::parse_terminated)
        else {
            return;
        };
        if name.contains("assert") && !name.contains("_eq") && !name.contains("_ne") {
            if let Some(val) = args.first().and_then(|a| self.eval(a)) {
                if val.kind
                    == (Kind::Probe {
                        true_is_success: true,
                    })
                {
                    self.flag(RuleId::PanicOnAllocFailure, &val, &format!("`{name}!`"));
                }
            }
        }
        for arg in &args {
            self.visit_expr(arg);
        }
    }
}
