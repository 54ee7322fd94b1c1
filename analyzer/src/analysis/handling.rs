//! Judging what code does with an allocation failure: the error value it builds, and the
//! branch (`Err` arm, `else` block, `is_err()` body, closure) that runs on failure.
use syn::visit::Visit;
use syn::{Block, Expr, Stmt};

use super::syntax::{describe, last_segment, peel, segments};
use super::vocab::Vocab;

/// What happens to an allocation failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Propagated, mapped to NoMemory, or handled in a way the analysis cannot see through.
    Fine,
    /// Turned into success or absence; the text says how.
    Swallowed(String),
    /// Turned into a panic or abort; the text says how.
    Panic(String),
    /// Turned into another error; the text names it.
    Remapped(String),
}

/// What an error value built from an allocation failure is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ErrVal {
    /// Names a NoMemory-like variant, type or constant.
    NoMemory,
    /// The original error, possibly through a conversion the analysis cannot see (`e.into()`).
    Propagated,
    /// Another error (the text names it).
    Remapped(String),
    /// Cannot tell (a call of an unknown function).
    Unknown,
}

const PANIC_MACROS: [&str; 6] = [
    "panic",
    "unreachable",
    "todo",
    "unimplemented",
    "abort",
    "bug",
];
const ABORT_FUNCTIONS: [&str; 3] = ["handle_alloc_error", "abort", "exit"];

/// Nesting limit of the small recursive helpers here (they look at a few levels only).
const MAX_DEPTH: usize = 12;

fn is_bound(e: &Expr, bound: &[String]) -> bool {
    super::syntax::ident_of(e).is_some_and(|id| bound.contains(&id))
}

fn starts_upper(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}

/// Does the expression name something NoMemory-like anywhere in its first levels?
pub(crate) fn mentions_no_memory(v: &Vocab, e: &Expr) -> bool {
    mentions_depth(v, e, 0)
}

fn mentions_depth(v: &Vocab, e: &Expr, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let d = depth + 1;
    match e {
        Expr::Path(p) => p
            .path
            .segments
            .iter()
            .any(|s| v.is_no_memory(&s.ident.to_string())),
        Expr::Call(c) => {
            mentions_depth(v, &c.func, d) || c.args.iter().any(|a| mentions_depth(v, a, d))
        }
        Expr::MethodCall(m) => {
            v.is_no_memory(&m.method.to_string())
                || mentions_depth(v, &m.receiver, d)
                || m.args.iter().any(|a| mentions_depth(v, a, d))
        }
        Expr::Struct(s) => {
            s.path
                .segments
                .iter()
                .any(|s| v.is_no_memory(&s.ident.to_string()))
                || s.fields.iter().any(|f| mentions_depth(v, &f.expr, d))
        }
        Expr::Macro(m) => {
            m.mac
                .path
                .segments
                .iter()
                .any(|s| v.is_no_memory(&s.ident.to_string()))
                || tokens_mention(v, m.mac.tokens.clone(), d)
        }
        Expr::Field(f) => {
            matches!(&f.member, syn::Member::Named(n) if v.is_no_memory(&n.to_string()))
                || mentions_depth(v, &f.base, d)
        }
        Expr::Paren(p) => mentions_depth(v, &p.expr, d),
        Expr::Group(g) => mentions_depth(v, &g.expr, d),
        Expr::Reference(r) => mentions_depth(v, &r.expr, d),
        Expr::Try(t) => mentions_depth(v, &t.expr, d),
        Expr::Cast(c) => mentions_depth(v, &c.expr, d),
        Expr::Return(r) => r.expr.as_ref().is_some_and(|x| mentions_depth(v, x, d)),
        Expr::Block(b) => tail(&b.block).is_some_and(|x| mentions_depth(v, x, d)),
        _ => false,
    }
}

fn tokens_mention(v: &Vocab, tokens: proc_macro2::TokenStream, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    tokens.into_iter().take(256).any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => v.is_no_memory(&i.to_string()),
        proc_macro2::TokenTree::Group(g) => tokens_mention(v, g.stream(), depth + 1),
        _ => false,
    })
}

/// The tail expression of a block, if it has one.
pub(crate) fn tail(block: &Block) -> Option<&Expr> {
    match block.stmts.last() {
        Some(Stmt::Expr(e, None)) => Some(e),
        _ => None,
    }
}

/// Classify an error value built on failure; `bound` are the names bound to the original error.
pub(crate) fn error_value(v: &Vocab, e: &Expr, bound: &[String]) -> ErrVal {
    error_value_depth(v, e, bound, 0)
}

fn error_value_depth(v: &Vocab, e: &Expr, bound: &[String], depth: usize) -> ErrVal {
    if depth > MAX_DEPTH {
        return ErrVal::Unknown;
    }
    if mentions_no_memory(v, e) {
        return ErrVal::NoMemory;
    }
    let e = peel(e);
    match e {
        Expr::Path(p) => {
            if is_bound(e, bound) {
                ErrVal::Propagated
            } else if p.path.segments.len() == 1 && !starts_upper(&last_segment(&p.path)) {
                ErrVal::Unknown
            } else {
                ErrVal::Remapped(describe(e))
            }
        }
        Expr::MethodCall(m) => {
            let name = m.method.to_string();
            match name.as_str() {
                "into" | "from" if is_bound(&m.receiver, bound) => ErrVal::Propagated,
                "into" | "to_string" | "to_owned" | "as_str" => ErrVal::Remapped(describe(e)),
                _ => ErrVal::Unknown,
            }
        }
        Expr::Call(c) => {
            let Expr::Path(func) = peel(&c.func) else {
                return ErrVal::Unknown;
            };
            let segs = segments(&func.path);
            let last = segs.last().map(String::as_str).unwrap_or("");
            let wraps_bound = c.args.iter().any(|a| is_bound(a, bound));
            if matches!(last, "from" | "into") {
                if wraps_bound {
                    ErrVal::Propagated
                } else {
                    ErrVal::Remapped(describe(e))
                }
            } else if segs.len() == 1 && starts_upper(last) {
                // A tuple struct (or `Self(e)`) around the original error keeps it.
                if wraps_bound {
                    ErrVal::Propagated
                } else {
                    ErrVal::Remapped(describe(e))
                }
            } else if segs.len() >= 2 && (starts_upper(last) || starts_upper(&segs[segs.len() - 2]))
            {
                ErrVal::Remapped(describe(e))
            } else {
                ErrVal::Unknown
            }
        }
        // `anyhow!(e)`, `eyre!(e)`: the error is kept as the report's source.
        Expr::Macro(m)
            if matches!(
                last_segment(&m.mac.path).as_str(),
                "anyhow" | "eyre" | "report"
            ) && m
                .mac
                .parse_body::<Expr>()
                .is_ok_and(|arg| is_bound(&arg, bound)) =>
        {
            ErrVal::Propagated
        }
        Expr::Struct(_) | Expr::Macro(_) | Expr::Lit(_) => ErrVal::Remapped(describe(e)),
        // `map_err(|_| ())`: a unit error says nothing either way (hashbrown's `do_alloc`
        // uses it to mean "allocation failed"), so it is not judged.
        Expr::Try(t) => error_value_depth(v, &t.expr, bound, depth + 1),
        Expr::Block(b) => match tail(&b.block) {
            Some(t) => error_value_depth(v, t, bound, depth + 1),
            None => ErrVal::Unknown,
        },
        _ => ErrVal::Unknown,
    }
}

fn err_verdict(val: ErrVal) -> Verdict {
    match val {
        ErrVal::Remapped(d) => Verdict::Remapped(d),
        _ => Verdict::Fine,
    }
}

/// `Err(x)` → `x`; also through `Some(Err(x))` / `Ok(Err(x))` (an `Option<Result<..>>`,
/// as `Iterator::next` returns: the error still reaches the caller).
pub(crate) fn err_payload(e: &Expr) -> Option<&Expr> {
    match peel(e) {
        Expr::Call(c) if c.args.len() == 1 => match peel(&c.func) {
            Expr::Path(p) if last_segment(&p.path) == "Err" => c.args.first(),
            Expr::Path(p) if matches!(last_segment(&p.path).as_str(), "Some" | "Ok") => {
                c.args.first().and_then(|inner| match peel(inner) {
                    Expr::Call(ic) if ic.args.len() == 1 => match peel(&ic.func) {
                        Expr::Path(ip) if last_segment(&ip.path) == "Err" => ic.args.first(),
                        _ => None,
                    },
                    _ => None,
                })
            }
            _ => None,
        },
        _ => None,
    }
}

/// The name of a call's function path (`Ok`, `handle_alloc_error`).
fn call_name(e: &Expr) -> Option<String> {
    match peel(e) {
        Expr::Call(c) => match peel(&c.func) {
            Expr::Path(p) => Some(last_segment(&p.path)),
            _ => None,
        },
        _ => None,
    }
}

/// Does a call of the function `name` abort or never return (`handle_alloc_error`, a `-> !`
/// function of the scanned code)?
fn diverges(v: &Vocab, name: &str) -> bool {
    ABORT_FUNCTIONS.contains(&name) || v.diverging.contains(name)
}

/// Is this macro one that panics or aborts?
pub(crate) fn is_panic_macro(mac: &syn::Macro) -> bool {
    PANIC_MACROS.contains(&last_segment(&mac.path).as_str())
}

/// Is the failure branch `e` (an arm body, a closure) the author's `unsafe` assertion that it
/// cannot run: `unreachable_unchecked()`, possibly in an `unsafe` block or a closure? Like
/// `unwrap_unchecked`, that is a proof obligation the author took on, not a panic or a
/// swallowed failure.
pub(crate) fn asserts_unreachable(e: &Expr) -> bool {
    let mut e = peel(e);
    for _ in 0..MAX_DEPTH {
        e = match e {
            Expr::Closure(c) => peel(&c.body),
            Expr::Unsafe(u) if u.block.stmts.len() == 1 => match &u.block.stmts[0] {
                Stmt::Expr(x, _) => peel(x),
                _ => return false,
            },
            Expr::Block(b) if b.block.stmts.len() == 1 => match &b.block.stmts[0] {
                Stmt::Expr(x, _) => peel(x),
                _ => return false,
            },
            e @ Expr::Call(_) => return call_name(e).as_deref() == Some("unreachable_unchecked"),
            _ => return false,
        };
    }
    false
}

/// A statement-level exit on failure: `return …`, `continue`, `break`, `panic!`, `Err(x)?`,
/// `handle_alloc_error(..)`; `unreachable_unchecked()` is an asserted impossibility (fine).
fn exit_of(v: &Vocab, e: &Expr, bound: &[String]) -> Option<Verdict> {
    if asserts_unreachable(e) {
        return Some(Verdict::Fine);
    }
    match peel(e) {
        Expr::Return(r) => Some(match &r.expr {
            None => Verdict::Swallowed("`return`".to_string()),
            Some(x) => returned(v, x, bound),
        }),
        Expr::Continue(_) => Some(Verdict::Swallowed("`continue`".to_string())),
        Expr::Break(_) => Some(Verdict::Swallowed("`break`".to_string())),
        Expr::Macro(m) if is_panic_macro(&m.mac) => {
            Some(Verdict::Panic(format!("`{}!`", last_segment(&m.mac.path))))
        }
        e @ Expr::Call(_) => {
            let name = call_name(e)?;
            diverges(v, &name).then(|| Verdict::Panic(format!("`{name}`")))
        }
        Expr::Try(t) => err_payload(&t.expr).map(|x| err_verdict(error_value(v, x, bound))),
        _ => None,
    }
}

/// What `return x` on failure means.
fn returned(v: &Vocab, x: &Expr, bound: &[String]) -> Verdict {
    if let Some(payload) = err_payload(x) {
        return err_verdict(error_value(v, payload, bound));
    }
    match peel(x) {
        e @ Expr::Call(_) => match call_name(e).as_deref() {
            Some("Ok") => Verdict::Swallowed("`return Ok(..)`".to_string()),
            Some("Some") => Verdict::Swallowed("`return Some(..)`".to_string()),
            _ => Verdict::Fine,
        },
        Expr::Path(p) if p.path.is_ident("None") => Verdict::Swallowed("`return None`".to_string()),
        Expr::Lit(_) => Verdict::Swallowed("`return` of a fixed value".to_string()),
        Expr::Tuple(t) if t.elems.is_empty() => Verdict::Swallowed("`return`".to_string()),
        _ => Verdict::Fine,
    }
}

/// The value a failure branch ends with (its tail).
fn tail_value(v: &Vocab, e: &Expr, bound: &[String]) -> Verdict {
    if let Some(x) = exit_of(v, e, bound) {
        return x;
    }
    if let Some(payload) = err_payload(e) {
        return err_verdict(error_value(v, payload, bound));
    }
    if contains_exit(v, e) {
        return Verdict::Fine;
    }
    match peel(e) {
        Expr::Block(b) => failure_block(v, &b.block, bound),
        Expr::Unsafe(b) => failure_block(v, &b.block, bound),
        Expr::If(_) | Expr::Match(_) | Expr::Loop(_) | Expr::While(_) | Expr::ForLoop(_) => {
            Verdict::Fine
        }
        e @ Expr::Call(_) if call_name(e).as_deref() == Some("Ok") => {
            Verdict::Swallowed("an `Ok` in the failure branch".to_string())
        }
        Expr::Tuple(t) if t.elems.is_empty() => {
            Verdict::Swallowed("a failure branch that carries on".to_string())
        }
        Expr::Macro(_) | Expr::Assign(_) => {
            Verdict::Swallowed("a failure branch that carries on".to_string())
        }
        _ => Verdict::Swallowed("a fallback value".to_string()),
    }
}

/// Judge a failure branch given as an expression (a match arm body, an `else` branch).
pub(crate) fn failure_branch(v: &Vocab, body: &Expr, bound: &[String]) -> Verdict {
    match peel(body) {
        Expr::Block(b) => failure_block(v, &b.block, bound),
        Expr::Unsafe(b) => failure_block(v, &b.block, bound),
        // `else if …`: several branches; not judged.
        Expr::If(_) => Verdict::Fine,
        other => tail_value(v, other, bound),
    }
}

/// Judge a failure branch given as a block.
pub(crate) fn failure_block(v: &Vocab, block: &Block, bound: &[String]) -> Verdict {
    let n = block.stmts.len();
    for (i, stmt) in block.stmts.iter().enumerate() {
        match stmt {
            Stmt::Expr(e, semi) => {
                if let Some(x) = exit_of(v, e, bound) {
                    return x;
                }
                if semi.is_none() && i + 1 == n {
                    return tail_value(v, e, bound);
                }
            }
            Stmt::Macro(m) if is_panic_macro(&m.mac) => {
                return Verdict::Panic(format!("`{}!`", last_segment(&m.mac.path)));
            }
            _ => {}
        }
    }
    if block.stmts.iter().any(|s| stmt_contains_exit(v, s)) {
        Verdict::Fine
    } else {
        Verdict::Swallowed("a failure branch that carries on".to_string())
    }
}

/// Does a failure closure (`unwrap_or_else(|e| …)`) diverge with a panic or abort?
pub(crate) fn closure_panics(v: &Vocab, e: &Expr) -> Option<String> {
    match peel(e) {
        Expr::Closure(c) => match failure_branch(v, &c.body, &[]) {
            Verdict::Panic(how) => Some(how),
            _ => None,
        },
        Expr::Path(p) => {
            let name = last_segment(&p.path);
            diverges(v, &name).then(|| format!("`{name}`"))
        }
        _ => None,
    }
}

/// Judge an error-mapping function (`map_err(..)`'s argument) as the error value it returns.
pub(crate) fn mapper(v: &Vocab, f: &Expr) -> Verdict {
    match peel(f) {
        Expr::Closure(c) => {
            let mut bound = Vec::new();
            for input in &c.inputs {
                super::syntax::bound_names(input, &mut bound);
            }
            match peel(&c.body) {
                Expr::Block(b) => {
                    if let Verdict::Panic(how) = failure_block(v, &b.block, &bound) {
                        return Verdict::Panic(how);
                    }
                    match tail(&b.block) {
                        Some(t) => err_verdict(error_value(v, t, &bound)),
                        None => Verdict::Fine,
                    }
                }
                body => {
                    if let Some(Verdict::Panic(how)) = exit_of(v, body, &bound) {
                        return Verdict::Panic(how);
                    }
                    err_verdict(error_value(v, body, &bound))
                }
            }
        }
        Expr::Path(p) => {
            let segs = segments(&p.path);
            let last = segs.last().map(String::as_str).unwrap_or("");
            if segs.iter().any(|s| v.is_no_memory(s)) {
                Verdict::Fine
            } else if segs.len() >= 2 && starts_upper(last) {
                // An enum variant constructor such as `Error::Io`.
                Verdict::Remapped(format!("`{}`", segs.join("::")))
            } else {
                Verdict::Fine
            }
        }
        _ => Verdict::Fine,
    }
}

/// Does the expression contain an exit (`return`, `?`, `break`, `continue`, a panic) outside
/// closures?
pub(crate) fn contains_exit(v: &Vocab, e: &Expr) -> bool {
    let mut f = ExitFinder {
        vocab: v,
        found: false,
        depth: 0,
    };
    f.visit_expr(e);
    f.found
}

fn stmt_contains_exit(v: &Vocab, s: &Stmt) -> bool {
    let mut f = ExitFinder {
        vocab: v,
        found: false,
        depth: 0,
    };
    f.visit_stmt(s);
    f.found
}

struct ExitFinder<'v> {
    vocab: &'v Vocab,
    found: bool,
    depth: usize,
}

impl<'ast> Visit<'ast> for ExitFinder<'_> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        if self.found || self.depth > 64 {
            return;
        }
        match e {
            Expr::Return(_) | Expr::Try(_) | Expr::Break(_) | Expr::Continue(_) => {
                self.found = true;
                return;
            }
            Expr::Macro(m) if is_panic_macro(&m.mac) => {
                self.found = true;
                return;
            }
            Expr::Closure(_) => return,
            Expr::Call(_) if call_name(e).is_some_and(|n| diverges(self.vocab, &n)) => {
                self.found = true;
                return;
            }
            _ => {}
        }
        self.depth += 1;
        syn::visit::visit_expr(self, e);
        self.depth -= 1;
    }

    fn visit_stmt_macro(&mut self, m: &'ast syn::StmtMacro) {
        if is_panic_macro(&m.mac) {
            self.found = true;
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}
