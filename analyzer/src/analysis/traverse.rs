//! The traversal of one file (or one function body): walks the syntax tree keeping the
//! [`Bindings`] and the enclosing statement up to date, skips test code, bounds expression
//! depth, looks into the arguments of expression-like macros, and tells a [`Listener`] about
//! each node that can consume an allocation value. Two listeners exist: the checks
//! (`checks::Checks`, findings) and wrapper discovery (`discovery`, what a function
//! propagates). The traversal itself decides nothing.
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, ExprMethodCall, Pat, Stmt};

use super::bindings::{infer_type, Bindings};
use super::callers::called_only_without_channel;
use super::chain::Chains;
use super::enclosing::{
    impl_fn_names, module_fn_names, returned_locals, returned_starts, FnFrame, ImplOf,
};
use super::fields::FieldTypes;
use super::macro_bodies::transcribers;
use super::syntax::{
    is_test_code, item_attrs, last_segment, stmt_start, type_name, MAX_EXPR_DEPTH,
};
use super::value::Val;
use super::vocab::Vocab;

/// Macros whose arguments are comma-separated expressions the traversal looks into.
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

/// What a listener can ask about the code around a node.
pub(crate) struct Cx<'v> {
    /// The names of allocations, error types, wrappers.
    pub vocab: &'v Vocab,
    /// Struct field types of the run.
    pub fields: &'v FieldTypes,
    /// Locals, parameters and `Self` in scope.
    pub bindings: Bindings,
    /// First tokens of the statements being visited (lines computed only for findings).
    stmt_starts: Vec<proc_macro2::Span>,
    /// The functions enclosing the node, innermost last.
    fns: Vec<FnFrame>,
    /// The function names of the enclosing modules and `impl` blocks, innermost last.
    siblings: Vec<std::collections::HashSet<String>>,
    /// The traits of the enclosing `impl` blocks (`None`: an inherent `impl`), innermost last.
    impl_traits: Vec<Option<String>>,
    /// Functions of the file called only by functions without an error channel.
    without_channel_callers: std::collections::HashSet<String>,
}

impl Cx<'_> {
    /// The method-chain classifier in the current bindings.
    pub(crate) fn chains(&self) -> Chains<'_> {
        Chains {
            vocab: self.vocab,
            fields: self.fields,
            bindings: &self.bindings,
        }
    }

    /// The allocation value `e` evaluates to, if any ([`Chains::eval`]).
    pub(crate) fn eval(&self, e: &Expr) -> Option<Val> {
        self.chains().eval(e)
    }

    /// The innermost function enclosing the node, if any.
    pub(crate) fn enclosing_fn(&self) -> Option<&FnFrame> {
        self.fns.last()
    }

    /// The first token of the innermost statement being visited.
    pub(crate) fn stmt_start(&self) -> Option<proc_macro2::Span> {
        self.stmt_starts.last().copied()
    }

    /// Is `name` a function of the innermost enclosing `impl` block (or, for an inherent
    /// `impl`, of the module around it: the sibling names a `try_` twin is looked up in)?
    pub(crate) fn in_enclosing_impl(&self, name: &str) -> bool {
        !self.impl_traits.is_empty() && self.siblings.last().is_some_and(|s| s.contains(name))
    }

    /// The first line of the innermost statement being visited.
    pub(crate) fn stmt_line(&self) -> Option<usize> {
        self.stmt_starts.last().map(|s| s.start().line)
    }
}

/// What is done at the nodes of a traversal. Each hook runs before the node's children are
/// visited, with the bindings in force at the node.
pub(crate) trait Listener {
    /// An `impl` block (before `Self` becomes its type).
    fn item_impl(&mut self, _cx: &Cx, _i: &syn::ItemImpl) {}
    /// A block.
    fn block(&mut self, _cx: &Cx, _b: &syn::Block) {}
    /// A statement.
    fn stmt(&mut self, _cx: &Cx, _s: &Stmt) {}
    /// A `let` (its names are bound after its initializer is visited).
    fn local(&mut self, _cx: &Cx, _l: &syn::Local) {}
    /// A method call.
    fn method_call(&mut self, _cx: &Cx, _m: &ExprMethodCall) {}
    /// A call.
    fn call(&mut self, _cx: &Cx, _c: &syn::ExprCall) {}
    /// A unary operator (`*p`, `!x`, `-x`).
    fn unary(&mut self, _cx: &Cx, _u: &syn::ExprUnary) {}
    /// A `?`.
    fn try_expr(&mut self, _cx: &Cx, _t: &syn::ExprTry) {}
    /// A `return`.
    fn return_expr(&mut self, _cx: &Cx, _r: &syn::ExprReturn) {}
    /// An `if` (also `if let`).
    fn if_expr(&mut self, _cx: &Cx, _i: &syn::ExprIf) {}
    /// A `match`.
    fn match_expr(&mut self, _cx: &Cx, _m: &syn::ExprMatch) {}
    /// An assignment.
    fn assign(&mut self, _cx: &Cx, _a: &syn::ExprAssign) {}
    /// A macro invocation named `name` (last path segment).
    fn macro_call(&mut self, _cx: &Cx, _mac: &syn::Macro, _name: &str) {}
    /// Whether the arguments of an expression-like macro are worth parsing and visiting
    /// (parsing a macro body costs about as much as the rest of the analysis).
    fn wants_macro_args(&mut self, _cx: &Cx, _mac: &syn::Macro) -> bool {
        false
    }
    /// The parsed arguments of the expression-like macro `name`, before they are visited.
    fn macro_args(&mut self, _cx: &Cx, _name: &str, _args: &Punctuated<Expr, syn::Token![,]>) {}
}

/// A traversal telling `listener` about the nodes it visits.
pub(crate) struct Traversal<'v, L> {
    /// The state listeners see.
    pub cx: Cx<'v>,
    /// What is done at the nodes.
    pub listener: L,
    include_tests: bool,
    /// Line ranges of the test code skipped (`#[cfg(test)]`, `#[test]`).
    pub skipped: Vec<(usize, usize)>,
    depth: usize,
}

impl<'v, L: Listener> Traversal<'v, L> {
    /// A traversal with empty bindings; test code is visited only with `include_tests`.
    pub(crate) fn new(
        vocab: &'v Vocab,
        fields: &'v FieldTypes,
        include_tests: bool,
        listener: L,
    ) -> Self {
        Traversal {
            cx: Cx {
                vocab,
                fields,
                bindings: Bindings::default(),
                stmt_starts: Vec::new(),
                fns: Vec::new(),
                siblings: Vec::new(),
                impl_traits: Vec::new(),
                without_channel_callers: Default::default(),
            },
            listener,
            include_tests,
            skipped: Vec::new(),
            depth: 0,
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

    /// A function of an `impl` or a trait (unless it is skipped test code): its children,
    /// visited by `children`, in a scope of its parameters. `public`: declared `pub`, or a
    /// trait's method (whose signature implementations cannot change).
    fn visit_method(
        &mut self,
        attrs: &[syn::Attribute],
        node: &dyn Spanned,
        sig: &syn::Signature,
        public: bool,
        body: Option<&syn::Block>,
        children: impl FnOnce(&mut Self),
    ) {
        if self.skip_test(attrs, node) {
            return;
        }
        let trait_impl = self.cx.impl_traits.last().cloned().flatten();
        self.enter_frame(sig, attrs, public, trait_impl, body);
        self.cx.bindings.enter_fn(sig);
        children(self);
        self.cx.bindings.exit_fn();
        self.cx.fns.pop();
    }

    /// Visit a closure's or an `async` block's children, counted in the enclosing frame.
    fn in_closure(&mut self, children: impl FnOnce(&mut Self)) {
        if let Some(f) = self.cx.fns.last_mut() {
            f.closures += 1;
        }
        children(self);
        if let Some(f) = self.cx.fns.last_mut() {
            f.closures -= 1;
        }
    }

    /// Push the frame of a function being entered.
    fn enter_frame(
        &mut self,
        sig: &syn::Signature,
        attrs: &[syn::Attribute],
        public: bool,
        trait_impl: Option<String>,
        body: Option<&syn::Block>,
    ) {
        let mut frame = FnFrame::new(
            sig,
            attrs,
            public,
            ImplOf {
                trait_name: trait_impl,
                ty: self.cx.bindings.self_type(),
            },
            self.cx.siblings.last(),
            self.cx.fns.last(),
            &self.cx.without_channel_callers,
        );
        if let Some(b) = body {
            frame.returned_locals = returned_locals(b);
            frame.returned_starts = returned_starts(b);
        }
        self.cx.fns.push(frame);
    }

    /// After a `let` is visited: bind its name to its type and allocation value.
    fn bind_local(&mut self, l: &syn::Local) {
        let (pat, declared) = match &l.pat {
            Pat::Type(t) => (&*t.pat, type_name(&t.ty)),
            p => (p, None),
        };
        let Pat::Ident(id) = pat else { return };
        let name = id.ident.to_string();
        let init = l.init.as_ref().filter(|i| i.diverge.is_none());
        let ty = declared
            .or_else(|| init.and_then(|i| infer_type(&i.expr)))
            .and_then(|t| match t.as_str() {
                // `let new = Self { .. }` / `Self::with_capacity(..)?`: the `impl` type.
                "Self" => self.cx.bindings.self_type(),
                _ => Some(t),
            });
        let val = init
            .and_then(|i| self.cx.eval(&i.expr))
            .filter(|_| !name.starts_with('_'));
        self.cx.bindings.bind_local(name, ty, val);
    }
}

/// `fn visit_x(&mut self, node)`: tell the listener's hook about the node, then visit its
/// children.
macro_rules! dispatch {
    ($($visit:ident($node:ty) => $hook:ident;)*) => {
        $(
            fn $visit(&mut self, node: &'ast $node) {
                self.listener.$hook(&self.cx, node);
                visit::$visit(self, node);
            }
        )*
    };
}

impl<'ast, L: Listener> Visit<'ast> for Traversal<'_, L> {
    fn visit_item(&mut self, i: &'ast syn::Item) {
        if self.skip_test(item_attrs(i), i) {
            return;
        }
        visit::visit_item(self, i);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        // A nested free function does not see the enclosing `impl`'s `Self`.
        self.cx.bindings.enter_impl(None);
        let public = matches!(f.vis, syn::Visibility::Public(_));
        self.enter_frame(&f.sig, &f.attrs, public, None, Some(&f.block));
        self.cx.bindings.enter_fn(&f.sig);
        visit::visit_item_fn(self, f);
        self.cx.bindings.exit_fn();
        self.cx.fns.pop();
        self.cx.bindings.exit_impl();
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        let public = matches!(f.vis, syn::Visibility::Public(_));
        self.visit_method(&f.attrs, f, &f.sig, public, Some(&f.block), |t| {
            visit::visit_impl_item_fn(t, f)
        });
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        self.visit_method(&f.attrs, f, &f.sig, true, f.default.as_ref(), |t| {
            visit::visit_trait_item_fn(t, f)
        });
    }

    fn visit_file(&mut self, f: &'ast syn::File) {
        self.cx.without_channel_callers = called_only_without_channel(f);
        self.cx.siblings.push(module_fn_names(&f.items));
        visit::visit_file(self, f);
        self.cx.siblings.pop();
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let names = m
            .content
            .as_ref()
            .map(|(_, items)| module_fn_names(items))
            .unwrap_or_default();
        self.cx.siblings.push(names);
        visit::visit_item_mod(self, m);
        self.cx.siblings.pop();
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        self.listener.item_impl(&self.cx, i);
        self.cx.bindings.enter_impl(type_name(&i.self_ty));
        let mut names = impl_fn_names(i);
        if i.trait_.is_none() {
            names.extend(self.cx.siblings.last().into_iter().flatten().cloned());
        }
        self.cx.siblings.push(names);
        self.cx
            .impl_traits
            .push(i.trait_.as_ref().map(|(_, p, _)| last_segment(p)));
        visit::visit_item_impl(self, i);
        self.cx.impl_traits.pop();
        self.cx.siblings.pop();
        self.cx.bindings.exit_impl();
    }

    fn visit_item_trait(&mut self, i: &'ast syn::ItemTrait) {
        self.cx.bindings.enter_impl(None);
        visit::visit_item_trait(self, i);
        self.cx.bindings.exit_impl();
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
        self.listener.block(&self.cx, b);
        visit::visit_block(self, b);
    }

    fn visit_stmt(&mut self, s: &'ast Stmt) {
        self.cx.stmt_starts.push(stmt_start(s));
        self.listener.stmt(&self.cx, s);
        visit::visit_stmt(self, s);
        self.cx.stmt_starts.pop();
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        self.listener.local(&self.cx, l);
        visit::visit_local(self, l);
        self.bind_local(l);
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.cx.bindings.bind_closure_params(c);
        self.in_closure(|t| visit::visit_expr_closure(t, c));
    }

    fn visit_expr_async(&mut self, a: &'ast syn::ExprAsync) {
        self.in_closure(|t| visit::visit_expr_async(t, a));
    }

    dispatch! {
        visit_expr_method_call(ExprMethodCall) => method_call;
        visit_expr_call(syn::ExprCall) => call;
        visit_expr_unary(syn::ExprUnary) => unary;
        visit_expr_try(syn::ExprTry) => try_expr;
        visit_expr_return(syn::ExprReturn) => return_expr;
        visit_expr_if(syn::ExprIf) => if_expr;
        visit_expr_match(syn::ExprMatch) => match_expr;
        visit_expr_assign(syn::ExprAssign) => assign;
    }

    fn visit_item_macro(&mut self, i: &'ast syn::ItemMacro) {
        visit::visit_item_macro(self, i);
        // A `macro_rules!` definition: its transcribers, read once as statements where the
        // definition is (not at each use), in a scope of their own.
        if i.ident.is_none() || !i.mac.path.is_ident("macro_rules") {
            return;
        }
        if !self.listener.wants_macro_args(&self.cx, &i.mac) {
            return;
        }
        for stmts in transcribers(&i.mac.tokens) {
            let block = syn::Block {
                brace_token: Default::default(),
                stmts,
            };
            self.cx.bindings.enter_scope();
            self.visit_block(&block);
            self.cx.bindings.exit_fn();
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let name = last_segment(&mac.path);
        self.listener.macro_call(&self.cx, mac, &name);
        if !EXPR_MACROS.contains(&name.as_str()) || self.depth >= MAX_EXPR_DEPTH {
            return;
        }
        if !self.listener.wants_macro_args(&self.cx, mac) {
            return;
        }
        let Ok(args) = mac.parse_body_with(Punctuated::<Expr, syn::Token![,]>::parse_terminated)
        else {
            return;
        };
        self.listener.macro_args(&self.cx, &name, &args);
        for arg in &args {
            self.visit_expr(arg);
        }
    }
}
