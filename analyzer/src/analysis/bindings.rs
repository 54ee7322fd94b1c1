//! What the code around a node says about names: the declared or inferred types of locals and
//! parameters (to decide receiver-typed methods such as `TryVec::push`), the locals bound to
//! an allocation value (`let r = v.try_reserve(n);`), and the `impl` type that `Self` and
//! `self` stand for. Types are judged syntactically, by name.
use std::collections::{HashMap, HashSet};

use syn::{Expr, Pat};

use super::fields::FieldTypes;
use super::syntax::{bound_names, ident_of, last_segment, peel, peel_refs, segments, type_name};
use super::value::Val;

/// One block-like scope (a function body; closures bind into the enclosing one).
#[derive(Default)]
struct Scope {
    /// Declared or inferred type names of locals and parameters.
    types: HashMap<String, Vec<String>>,
    /// Locals bound to an allocation value.
    alloc_locals: HashMap<String, Val>,
    /// Every name a parameter or `let` binds here, typed or not.
    names: HashSet<String>,
}

/// The scopes and `impl` types enclosing the node being visited.
pub(crate) struct Bindings {
    scopes: Vec<Scope>,
    impl_types: Vec<Option<String>>,
}

impl Default for Bindings {
    fn default() -> Self {
        Bindings {
            scopes: vec![Scope::default()],
            impl_types: Vec::new(),
        }
    }
}

impl Bindings {
    /// Enter a function: a new scope with its parameters typed from `sig` (`self` as the
    /// enclosing `impl` type).
    pub(crate) fn enter_fn(&mut self, sig: &syn::Signature) {
        let mut scope = Scope::default();
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(_) => {
                    if let Some(Some(t)) = self.impl_types.last() {
                        scope.types.insert("self".to_string(), vec![t.clone()]);
                    }
                }
                syn::FnArg::Typed(pt) => {
                    let mut names = Vec::new();
                    bound_names(&pt.pat, &mut names);
                    if let Some(t) = type_name(&pt.ty) {
                        for n in &names {
                            scope.types.insert(n.clone(), vec![t.clone()]);
                        }
                    }
                    scope.names.extend(names);
                }
            }
        }
        self.scopes.push(scope);
    }

    /// Enter a scope without parameters (a macro's body): its bindings end with it
    /// ([`Bindings::exit_fn`]).
    pub(crate) fn enter_scope(&mut self) {
        self.scopes.push(Scope::default());
    }

    /// Leave the function (or scope) entered last.
    pub(crate) fn exit_fn(&mut self) {
        self.scopes.pop();
    }

    /// Enter an `impl` of `self_ty` (`None`: a trait, or a free function, where `Self` is not
    /// a known type).
    pub(crate) fn enter_impl(&mut self, self_ty: Option<String>) {
        self.impl_types.push(self_ty);
    }

    /// Leave the `impl` entered last.
    pub(crate) fn exit_impl(&mut self) {
        self.impl_types.pop();
    }

    /// The type `Self` stands for, if known.
    pub(crate) fn self_type(&self) -> Option<String> {
        self.impl_types.last().cloned().flatten()
    }

    fn scope(&mut self) -> &mut Scope {
        if self.scopes.is_empty() {
            self.scopes.push(Scope::default());
        }
        let last = self.scopes.len() - 1;
        &mut self.scopes[last]
    }

    /// A closure's typed parameters (`|v: &mut TryVec<u8>|`), bound in the current scope.
    pub(crate) fn bind_closure_params(&mut self, c: &syn::ExprClosure) {
        for input in &c.inputs {
            let mut names = Vec::new();
            bound_names(input, &mut names);
            if let Pat::Type(pt) = input {
                if let Some(t) = type_name(&pt.ty) {
                    for n in &names {
                        self.scope().types.insert(n.clone(), vec![t.clone()]);
                    }
                }
            }
            self.scope().names.extend(names);
        }
    }

    /// A `let` binding `name`: its type (if known) and the allocation value it holds (if any)
    /// replace what an earlier binding of the name said.
    pub(crate) fn bind_local(&mut self, name: String, ty: Option<String>, val: Option<Val>) {
        let scope = self.scope();
        scope.names.insert(name.clone());
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

    fn local_types(&self, name: &str) -> Vec<String> {
        self.scopes
            .iter()
            .rev()
            .find_map(|s| s.types.get(name))
            .cloned()
            .unwrap_or_default()
    }

    /// The allocation value the local `name` holds, if any.
    pub(crate) fn alloc_local(&self, name: &str) -> Option<Val> {
        self.scopes
            .iter()
            .rev()
            .find_map(|s| s.alloc_locals.get(name))
            .cloned()
    }

    /// Is `name` a parameter or local of an enclosing scope? A call `name(..)` then calls that
    /// value (a closure, a function pointer), not a function item of that name.
    pub(crate) fn is_local(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.names.contains(name))
    }

    /// Is `name` a local bound to an allocation value in any enclosing scope?
    pub(crate) fn is_alloc_local(&self, name: &str) -> bool {
        self.scopes
            .iter()
            .any(|s| s.alloc_locals.contains_key(name))
    }

    /// The possible type names of a receiver expression, syntactically: a local's or
    /// parameter's type, a field's declared type (`self.field` in an `impl` of a known struct:
    /// that struct's field only), or what the expression obviously builds ([`infer_type`]).
    pub(crate) fn type_of(&self, fields: &FieldTypes, recv: &Expr) -> Vec<String> {
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
                    let own = (ident_of(&f.base).as_deref() == Some("self"))
                        .then(|| self.self_type())
                        .flatten()
                        .and_then(|ty| fields.by_struct.get(&ty));
                    match own {
                        Some(own) => own
                            .get(&field)
                            .map(|s| s.iter().cloned().collect())
                            .unwrap_or_default(),
                        None => fields
                            .by_name
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
                    "unwrap" | "expect" | "ok" | "map_err" | "unwrap_or_else" | "unwrap_or_default"
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
