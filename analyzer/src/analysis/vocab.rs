//! The names the analysis looks for, merged from the active packs, the configuration and the
//! discovered allocation wrappers.
use std::collections::{HashMap, HashSet};

use super::syntax::{ends_with, suffix_either_way};
use super::Settings;

fn split(path: &str) -> Vec<String> {
    path.split("::")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Methods fallible only on some receiver types.
#[derive(Debug, Default)]
pub(crate) struct ReceiverGroup {
    pub types: HashSet<String>,
    pub methods: HashSet<String>,
    pub args: Option<usize>,
}

/// Allocation wrappers of the scanned code.
#[derive(Debug, Default)]
pub(crate) struct Wrappers {
    /// Free functions (and associated functions without `self`), by name.
    pub functions: HashSet<String>,
    /// Methods by name → the `impl` self types they are defined on (`None`: a trait default).
    pub methods: HashMap<String, HashSet<Option<String>>>,
}

impl Wrappers {
    /// The names a file calling one of these wrappers must contain.
    pub(crate) fn names(&self) -> impl Iterator<Item = &String> {
        self.functions.iter().chain(self.methods.keys())
    }
}

/// Everything the classifier matches names against.
#[derive(Debug, Default)]
pub(crate) struct Vocab {
    pub alloc_methods: HashSet<String>,
    pub alloc_paths: Vec<Vec<String>>,
    pub alloc_macros: HashSet<String>,
    pub receivers: Vec<ReceiverGroup>,
    pub error_types: HashSet<String>,
    /// Lower-cased.
    pub no_memory: HashSet<String>,
    pub raw_functions: Vec<Vec<String>>,
    pub raw_methods: HashSet<String>,
    pub infallible_methods: HashSet<String>,
    pub infallible_paths: Vec<Vec<String>>,
    pub infallible_macros: HashSet<String>,
    pub extra_names: HashSet<String>,
    pub extra_paths: Vec<Vec<String>>,
    pub wrappers: Wrappers,
}

/// Method names so common that a wrapper method of the same name only counts on a receiver
/// whose type is known to be the wrapper's `impl` type.
const COMMON_METHODS: [&str; 16] = [
    "new",
    "with_capacity",
    "get",
    "get_mut",
    "insert",
    "push",
    "remove",
    "extend",
    "clone",
    "from",
    "into",
    "append",
    "reserve",
    "resize",
    "write",
    "read",
];

impl Vocab {
    pub(crate) fn new(settings: &Settings) -> Vocab {
        let mut v = Vocab::default();
        for pack in &settings.packs.packs {
            v.alloc_methods.extend(pack.alloc_methods.iter().cloned());
            v.alloc_paths
                .extend(pack.alloc_paths.iter().map(|p| split(p)));
            v.alloc_macros.extend(pack.alloc_macros.iter().cloned());
            for group in &pack.receivers {
                v.receivers.push(ReceiverGroup {
                    types: group.types.iter().cloned().collect(),
                    methods: group.methods.iter().cloned().collect(),
                    args: group.args,
                });
            }
            v.error_types.extend(pack.error_types.iter().cloned());
            v.no_memory
                .extend(pack.no_memory_names.iter().map(|n| n.to_lowercase()));
            v.raw_functions
                .extend(pack.raw_functions.iter().map(|p| split(p)));
            v.raw_methods.extend(pack.raw_methods.iter().cloned());
            v.infallible_methods
                .extend(pack.infallible_methods.iter().cloned());
            v.infallible_paths
                .extend(pack.infallible_paths.iter().map(|p| split(p)));
            v.infallible_macros
                .extend(pack.infallible_macros.iter().cloned());
        }
        v.no_memory.extend(
            settings
                .extra_no_memory_names
                .iter()
                .map(|n| n.rsplit("::").next().unwrap_or(n).to_lowercase()),
        );
        for f in &settings.extra_alloc_functions {
            let segs = split(f);
            match segs.len() {
                0 => {}
                1 => {
                    v.extra_names.extend(segs);
                }
                _ => v.extra_paths.push(segs),
            }
        }
        v
    }

    /// Is `name` (an identifier) NoMemory-like?
    pub(crate) fn is_no_memory(&self, name: &str) -> bool {
        self.no_memory.contains(&name.to_lowercase())
    }

    /// Is a method call named `name` with `nargs` arguments a fallible allocation? `types`
    /// gives the receiver's possible type names (asked only when needed).
    pub(crate) fn method_is_alloc(
        &self,
        name: &str,
        nargs: usize,
        types: &mut dyn FnMut() -> Vec<String>,
    ) -> bool {
        if self.alloc_methods.contains(name) || self.extra_names.contains(name) {
            return true;
        }
        if self
            .extra_paths
            .iter()
            .any(|p| p.last().is_some_and(|l| l == name))
        {
            return true;
        }
        let mut known: Option<Vec<String>> = None;
        for group in &self.receivers {
            if group.methods.contains(name) && group.args.is_none_or(|n| n == nargs) {
                let t = known.get_or_insert_with(&mut *types);
                if t.iter().any(|t| group.types.contains(t)) {
                    return true;
                }
            }
        }
        if let Some(owners) = self.wrappers.methods.get(name) {
            if !self.is_common_method(name) {
                return true;
            }
            let t = known.get_or_insert_with(&mut *types);
            return owners
                .iter()
                .any(|o| o.as_ref().is_some_and(|o| t.contains(o)));
        }
        false
    }

    /// Is a call of the path `segs` a fallible allocation? `self_ty` is the enclosing `impl`
    /// type, for `Self::…` paths.
    pub(crate) fn path_is_alloc(&self, segs: &[String], self_ty: Option<&str>) -> bool {
        let Some(last) = segs.last() else {
            return false;
        };
        if self.alloc_paths.iter().any(|p| ends_with(segs, p)) {
            return true;
        }
        if self.extra_names.contains(last)
            || self.extra_paths.iter().any(|p| suffix_either_way(segs, p))
        {
            return true;
        }
        if self.wrappers.functions.contains(last) {
            return true;
        }
        if let Some(owners) = self.wrappers.methods.get(last) {
            if !self.is_common_method(last) {
                return true;
            }
            if segs.len() >= 2 {
                let ty = &segs[segs.len() - 2];
                let ty = if ty == "Self" {
                    self_ty.map(str::to_string)
                } else {
                    Some(ty.clone())
                };
                return owners.contains(&ty);
            }
        }
        false
    }

    /// Must a wrapper method of this name be matched by receiver type?
    pub(crate) fn is_common_method(&self, name: &str) -> bool {
        COMMON_METHODS.contains(&name) || self.infallible_methods.contains(name)
    }
}
