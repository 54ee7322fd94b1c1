//! The function enclosing a node, as far as the rules care: can it report an error (its
//! *error channel*), is its contract to panic on allocation failure (an infallible twin of a
//! `try_` sibling, or documented so), is its signature fixed by a trait (`Clone::clone`,
//! `GlobalAlloc::alloc`), and does its documentation make `None` the allocation-failure signal.
//!
//! The traversal keeps a stack of [`FnFrame`]s; the checks consult the innermost one when a
//! verdict becomes a finding (`checks::findings`).
use std::collections::HashSet;

use syn::{Attribute, GenericArgument, PathArguments, ReturnType, Type};

use super::counterparts::Counterparts;
use super::syntax::{expr_start, last_segment, span_of, type_name};
use crate::finding::Span;

/// How a function can report a failure to its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Channel {
    /// `Result<_, E>` with an error type that can be an error (not a collection such as
    /// `Result<Vec<_>, Vec<_>>`, where `Err` is a second kind of success).
    Result,
    /// `Option<_>`.
    Option,
    /// `Result<_, E>` whose `E` cannot say "out of memory": `fmt::Error` (`fmt::Result`).
    FixedError,
    /// Neither: `()`, `Self`, `usize`, `Box<T>`…
    None,
}

/// The trait whose implementations report allocation failure by returning null: a failure
/// of the allocator underneath turned into null is the contract, not a swallowed error.
/// (`Allocator` is not here: its methods return `Result`, and a failure turned into `Ok` is a
/// bug there.)
const NULL_ON_FAILURE_TRAIT: &str = "GlobalAlloc";

/// What the rules need to know about the function enclosing a node.
#[derive(Clone, Debug)]
pub(crate) struct FnFrame {
    /// The function's name.
    pub name: String,
    /// Where its name is (with the name, what tells two functions apart in a file).
    pub at: Span,
    /// How many closures and `async` blocks enclose the node inside the function: a `?` or
    /// `return` there leaves the closure, not the function.
    pub closures: usize,
    /// How it reports failures.
    pub channel: Channel,
    /// `pub` (any `pub(..)` too), or a method of a trait implementation: callable from code
    /// that cannot be changed to handle an error the function does not report.
    pub exposed: bool,
    /// The trait of the `impl` it belongs to (`Clone`, `Extend`, `GlobalAlloc`), if any.
    pub trait_impl: Option<String>,
    /// The trait and the type of the `impl` whose method it is, or (a helper nested in a
    /// function) whose method the enclosing function is: where a fallible counterpart
    /// (`TryClone` beside `Clone`) is looked for.
    pub implementing: Option<(String, String)>,
    /// A `try_{name}` function exists in the same `impl` or module, or its documentation
    /// says it panics or aborts: its contract is to panic on allocation failure.
    pub infallible_twin: bool,
    /// Its documentation says it returns `None` when allocation fails.
    pub none_on_alloc_failure: bool,
    /// Nested in a function that has no error channel (a helper only that function calls).
    pub nested_without_channel: bool,
    /// A private function of the file whose callers in the file all lack an error channel
    /// (so it has none to give either).
    pub called_only_without_channel: bool,
    /// Declared with a foreign ABI (`extern "C" fn`): its failure return (null, a status) is
    /// the only channel C callers have, so a failure turned into it is the contract.
    pub foreign_abi: bool,
    /// Locals the function returns (its tail, or `return name;` at its top level): a result
    /// held there is propagated whatever is inspected on the way.
    pub returned_locals: HashSet<String>,
    /// Where the values the function returns start (its tail expression, `return …;` at its
    /// top level), to tell those statements among the others.
    pub returned_starts: Vec<proc_macro2::LineColumn>,
    /// Named as an explicit "out of memory deliberately ignored here" helper
    /// (`panic_on_oom`, `clone_panic_on_oom`, `assume_fallible`): a panic inside is intent.
    pub oom_ignore_marker: bool,
}

/// The `impl` block a function is a method of.
#[derive(Debug, Default)]
pub(crate) struct ImplOf {
    /// The trait implemented (`None`: an inherent `impl`, or no `impl` at all).
    pub trait_name: Option<String>,
    /// The type implemented on, if known.
    pub ty: Option<String>,
}

/// Whether a function name marks "out of memory deliberately ignored" (wasmtime's
/// `PanicOnOom::panic_on_oom` and `*_panic_on_oom`, the kernel's `assume_fallible`).
pub(crate) fn is_oom_ignore_marker(name: &str) -> bool {
    name == "panic_on_oom" || name.ends_with("_panic_on_oom") || name.starts_with("assume_fallible")
}

impl FnFrame {
    /// The frame of a function with signature `sig`, attributes `attrs`, visibility `public`,
    /// a method of `impl_of`, among the sibling function names `siblings`, nested in `outer`
    /// (if any).
    pub(crate) fn new(
        sig: &syn::Signature,
        attrs: &[Attribute],
        public: bool,
        impl_of: ImplOf,
        siblings: Option<&HashSet<String>>,
        outer: Option<&FnFrame>,
        without_channel_callers: &HashSet<String>,
    ) -> FnFrame {
        let name = sig.ident.to_string();
        let doc = doc_text(attrs);
        let channel = channel(&sig.output);
        let twin_named = siblings.is_some_and(|s| s.contains(&format!("try_{name}")));
        let documented_panic = ["panic", "abort"].iter().any(|w| doc.contains(w));
        let none_on_alloc_failure = channel == Channel::Option && says_none_on_alloc_failure(&doc);
        let ImplOf {
            trait_name: trait_impl,
            ty,
        } = impl_of;
        let implementing = match (&trait_impl, ty) {
            (Some(t), Some(ty)) => Some((t.clone(), ty)),
            _ => outer.and_then(|o| o.implementing.clone()),
        };
        FnFrame {
            implementing,
            exposed: public || trait_impl.is_some(),
            infallible_twin: channel == Channel::None && (twin_named || documented_panic),
            none_on_alloc_failure,
            nested_without_channel: outer
                .is_some_and(|o| o.channel == Channel::None || o.nested_without_channel),
            called_only_without_channel: !public
                && trait_impl.is_none()
                && without_channel_callers.contains(&name),
            oom_ignore_marker: is_oom_ignore_marker(&name),
            foreign_abi: sig.abi.is_some(),
            returned_locals: HashSet::new(),
            returned_starts: Vec::new(),
            trait_impl,
            channel,
            at: span_of(&sig.ident),
            closures: 0,
            name,
        }
    }

    /// The function implements `GlobalAlloc`, whose contract is to report allocation failure
    /// as null: a failure turned into null (swallowed, to the analysis) is the contract.
    pub(crate) fn implements_global_alloc(&self) -> bool {
        self.trait_impl.as_deref() == Some(NULL_ON_FAILURE_TRAIT)
    }

    /// The function cannot report an error, and callers cannot be given one: a trait method
    /// with a fixed signature, a public function, or a helper nested in such a function.
    pub(crate) fn cannot_report(&self) -> bool {
        matches!(self.channel, Channel::None | Channel::FixedError)
            && (self.exposed || self.nested_without_channel || self.called_only_without_channel)
    }

    /// What to do instead of a function without an error channel: use the fallible
    /// counterpart the scanned code already declares for the implemented trait and type
    /// (`counterparts`), or else offer one.
    pub(crate) fn alternative(&self, counterparts: &Counterparts) -> String {
        let declared = self
            .implementing
            .as_ref()
            .and_then(|(tr, ty)| counterparts.advice(tr, ty));
        if let Some(advice) = declared {
            return advice;
        }
        match self.trait_impl.as_deref() {
            Some("Clone") => "offer a `TryClone`-style `try_clone` returning `Result`".to_string(),
            Some(t) => format!("offer a fallible method beside the `{t}` implementation"),
            None => format!("offer a `try_{}` variant returning `Result`", self.name),
        }
    }
}

/// Does one sentence of `doc` (lower-cased) say `None` is returned when allocation fails
/// ("If allocation fails, returns `None`", "`None` if out of memory")?
fn says_none_on_alloc_failure(doc: &str) -> bool {
    doc.split(['.', ';'])
        .filter(|sentence| sentence.contains("none"))
        .any(|sentence| {
            [
                "allocation fail",
                "allocating fail",
                "out of memory",
                "allocation error",
            ]
            .iter()
            .any(|phrase| sentence.contains(phrase))
        })
}

/// The lower-cased text of the `///` / `#[doc = ".."]` comments in `attrs`.
pub(crate) fn doc_text(attrs: &[Attribute]) -> String {
    let mut out = String::new();
    for a in attrs {
        if !a.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &a.meta {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            {
                out.push_str(&s.value().to_lowercase());
                out.push('\n');
            }
        }
    }
    out
}

/// How a function returning `ret` reports failures.
pub(crate) fn channel(ret: &ReturnType) -> Channel {
    let ReturnType::Type(_, ty) = ret else {
        return Channel::None;
    };
    let Type::Path(p) = &**ty else {
        return Channel::None;
    };
    let Some(last) = p.path.segments.last() else {
        return Channel::None;
    };
    let name = last.ident.to_string();
    let qualifier = p
        .path
        .segments
        .iter()
        .rev()
        .nth(1)
        .map(|s| s.ident.to_string());
    if name == "Option" {
        return Channel::Option;
    }
    if !name.ends_with("Result") {
        return Channel::None;
    }
    if qualifier.as_deref() == Some("fmt") {
        return Channel::FixedError;
    }
    let types: Vec<&Type> = match &last.arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    match types.as_slice() {
        [_, err] => match err {
            Type::Path(ep) if last_segment(&ep.path) == "Error" && is_fmt(&ep.path) => {
                Channel::FixedError
            }
            _ => match type_name(err).as_deref() {
                Some("Vec" | "VecDeque") => Channel::None,
                _ => Channel::Result,
            },
        },
        _ => Channel::Result,
    }
}

/// `fmt::Error` / `core::fmt::Error` / `std::fmt::Error`.
fn is_fmt(path: &syn::Path) -> bool {
    path.segments.iter().any(|s| s.ident == "fmt")
}

/// The locals a function body returns: its tail expression, and `return name;` statements
/// at its top level.
pub(crate) fn returned_locals(body: &syn::Block) -> HashSet<String> {
    let ident = |e: &syn::Expr| match e {
        syn::Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    };
    let mut out = HashSet::new();
    for stmt in &body.stmts {
        match stmt {
            syn::Stmt::Expr(syn::Expr::Return(r), _) => {
                out.extend(r.expr.as_deref().and_then(ident));
            }
            syn::Stmt::Expr(e, None) => out.extend(ident(e)),
            _ => {}
        }
    }
    out
}

/// Where the statements returning a value from a function body start: its tail expression
/// and `return …;` statements at its top level.
pub(crate) fn returned_starts(body: &syn::Block) -> Vec<proc_macro2::LineColumn> {
    body.stmts
        .iter()
        .filter_map(|stmt| match stmt {
            syn::Stmt::Expr(e @ syn::Expr::Return(_), _) | syn::Stmt::Expr(e, None) => {
                Some(expr_start(e).start())
            }
            _ => None,
        })
        .collect()
}

/// The names of the functions directly in an `impl` block.
pub(crate) fn impl_fn_names(i: &syn::ItemImpl) -> HashSet<String> {
    i.items
        .iter()
        .filter_map(|it| match it {
            syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
            _ => None,
        })
        .collect()
}

/// The names of the free functions among `items`, and of the functions of the inherent
/// `impl` blocks among them (a `try_` twin may sit in either).
pub(crate) fn module_fn_names(items: &[syn::Item]) -> HashSet<String> {
    let mut out = HashSet::new();
    for it in items {
        match it {
            syn::Item::Fn(f) => {
                out.insert(f.sig.ident.to_string());
            }
            syn::Item::Impl(i) if i.trait_.is_none() => out.extend(impl_fn_names(i)),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(src: &str, siblings: &[&str]) -> FnFrame {
        let f: syn::ItemFn = syn::parse_str(src).unwrap_or_else(|e| panic!("{e}"));
        let sib: HashSet<String> = siblings.iter().map(|s| s.to_string()).collect();
        let public = matches!(f.vis, syn::Visibility::Public(_));
        FnFrame::new(
            &f.sig,
            &f.attrs,
            public,
            ImplOf::default(),
            Some(&sib),
            None,
            &HashSet::new(),
        )
    }

    #[test]
    fn channels_by_return_type() {
        for (src, want) in [
            ("fn f() -> Result<u8, E> {}", Channel::Result),
            ("fn f() -> io::Result<u8> {}", Channel::Result),
            ("fn f() -> Option<u8> {}", Channel::Option),
            ("fn f() -> fmt::Result {}", Channel::FixedError),
            (
                "fn f() -> Result<(), core::fmt::Error> {}",
                Channel::FixedError,
            ),
            ("fn f() -> Result<Vec<u8>, Vec<u8>> {}", Channel::None),
            ("fn f() -> Self {}", Channel::None),
            ("fn f() {}", Channel::None),
        ] {
            assert_eq!(frame(src, &[]).channel, want, "{src}");
        }
    }

    #[test]
    fn twins_by_sibling_or_documentation() {
        assert!(
            frame(
                "pub fn with_capacity(n: usize) -> Self {}",
                &["try_with_capacity"]
            )
            .infallible_twin
        );
        assert!(
            !frame(
                "pub fn with_capacity(n: usize) -> Self {}",
                &["try_reserve"]
            )
            .infallible_twin
        );
        assert!(
            frame(
                "/// Panics if allocation fails.\npub fn grow(&mut self) {}",
                &[]
            )
            .infallible_twin
        );
        // A function with an error channel is never a twin.
        assert!(
            !frame(
                "/// Panics on overflow.\npub fn grow(&mut self) -> Result<(), E> {}",
                &["try_grow"]
            )
            .infallible_twin
        );
        let doc = frame(
            "/// Returns `None` if allocation fails.\npub fn try_uninit(&self) -> Option<u8> {}",
            &[],
        );
        assert!(doc.none_on_alloc_failure);
    }
}
