//! Who calls whom within one file, by name: the private functions whose callers in the file
//! all lack an error channel. Such a helper cannot report an allocation failure to anyone
//! who could handle it (`fn from_sorted_iter(&mut self, ..)` called only from
//! `pub fn append(&mut self, ..)`), like the public function above it.
use std::collections::{HashMap, HashSet};

use syn::visit::{self, Visit};

use super::enclosing::{channel, Channel};
use super::syntax::last_segment;

/// One function's facts.
struct FnCalls {
    /// It has no error channel.
    without_channel: bool,
    /// The names it calls (functions by last path segment, methods by name).
    calls: HashSet<String>,
}

/// Collects the functions of a file and the names each calls.
#[derive(Default)]
struct Collector {
    fns: HashMap<String, Vec<FnCalls>>,
    stack: Vec<FnCalls>,
}

impl Collector {
    fn enter(&mut self, sig: &syn::Signature) {
        self.stack.push(FnCalls {
            without_channel: matches!(channel(&sig.output), Channel::None | Channel::FixedError),
            calls: HashSet::new(),
        });
    }

    fn exit(&mut self, name: String) {
        if let Some(f) = self.stack.pop() {
            self.fns.entry(name).or_default().push(f);
        }
    }

    fn called(&mut self, name: String) {
        if let Some(f) = self.stack.last_mut() {
            f.calls.insert(name);
        }
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.enter(&f.sig);
        visit::visit_item_fn(self, f);
        self.exit(f.sig.ident.to_string());
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.enter(&f.sig);
        visit::visit_impl_item_fn(self, f);
        self.exit(f.sig.ident.to_string());
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func {
            self.called(last_segment(&p.path));
        }
        visit::visit_expr_call(self, c);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        self.called(m.method.to_string());
        visit::visit_expr_method_call(self, m);
    }
}

/// The names of the functions of `file` that are called in the file, only by functions
/// without an error channel (through such functions too: a fixed point). Whether each is
/// private is for the caller to check.
pub(crate) fn called_only_without_channel(file: &syn::File) -> HashSet<String> {
    let mut c = Collector::default();
    c.visit_file(file);
    // name → (has some caller, every caller lacks a channel or is itself in the set)
    let mut out: HashSet<String> = HashSet::new();
    loop {
        let mut changed = false;
        for name in c.fns.keys() {
            if out.contains(name) {
                continue;
            }
            let callers: Vec<(&String, &FnCalls)> = c
                .fns
                .iter()
                .flat_map(|(n, fs)| fs.iter().map(move |f| (n, f)))
                .filter(|(n, f)| *n != name && f.calls.contains(name))
                .collect();
            if !callers.is_empty()
                && callers
                    .iter()
                    .all(|(n, f)| f.without_channel || out.contains(*n))
            {
                out.insert(name.clone());
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_of_functions_without_a_channel() {
        let file: syn::File = syn::parse_str(
            "pub fn append(&mut self) { self.from_sorted_iter(); }
             fn from_sorted_iter(&mut self) { grow(); }
             fn grow() {}
             pub fn parse() -> Result<(), E> { helper(); Ok(()) }
             fn helper() {}
             fn unused() {}",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let set = called_only_without_channel(&file);
        assert!(
            set.contains("from_sorted_iter") && set.contains("grow"),
            "{set:?}"
        );
        assert!(
            !set.contains("helper") && !set.contains("unused"),
            "{set:?}"
        );
    }
}
