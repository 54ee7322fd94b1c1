//! The names the analysis looks for, merged from the active packs, the configuration and the
//! discovered allocation wrappers.
use std::collections::{HashMap, HashSet};

use super::counterparts::Counterparts;
use super::input::Settings;
use super::syntax::{ends_with, suffix_either_way};

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
    /// Functions of the scanned code that never return (`-> !`), by name.
    pub diverging: HashSet<String>,
    /// Inherent methods of the scanned code named like a pack's receiver method (`shrink`,
    /// `try_reserve`): method name → the `impl` types defining it, with its number of
    /// arguments. On those types, or on a receiver of unknown type, a call of that name and
    /// arity is the crate's method, not the pack's.
    pub own_methods: HashMap<String, HashSet<(String, usize)>>,
    /// The scanned crate's own allocation error types: enums with a NoMemory-like variant
    /// and targets of `impl From<TryReserveError>`-like conversions (`mp4parse::Error`).
    pub crate_alloc_errors: HashSet<String>,
    /// Last segments of `alloc_paths`, `extra_paths` and `raw_functions`, and the methods of
    /// the receiver groups: identifiers that can name an allocation.
    pub call_names: HashSet<String>,
    /// Type aliases of the scanned code (`type Alias<T> = TryVec<T>;`): alias → the type names
    /// it stands for (last segments; several when modules disagree).
    pub type_aliases: HashMap<String, HashSet<String>>,
    /// Methods with a body and a `self` receiver defined in the scanned code: name → the `impl`
    /// types defining one (`None`: a trait's default method). A wrapper method whose every
    /// definition is a wrapper is resolved by name on a receiver of unknown type.
    pub method_defs: HashMap<String, HashSet<Option<String>>>,
    /// Required trait methods (no body) with a `self` receiver that return no `Result`: a
    /// method of that name may be one that cannot fail.
    pub plain_method_decls: HashSet<String>,
    /// Fallible counterparts the scanned code declares (`impl TryClone for T`,
    /// `T::try_insert`), to name in place of asking for one.
    pub counterparts: Counterparts,
}

/// Method names of std types and traits (collections, strings, `Option`/`Result`, iterators,
/// I/O, smart pointers): a crate's wrapper method named like one of these is resolved only on
/// a receiver known to be of its type, never by name alone.
const STD_METHOD_NAMES: [&str; 52] = [
    "push",
    "push_back",
    "push_front",
    "push_str",
    "insert",
    "insert_str",
    "extend",
    "extend_from_slice",
    "extend_from_within",
    "append",
    "reserve",
    "reserve_exact",
    "resize",
    "resize_with",
    "split_off",
    "truncate",
    "shrink_to",
    "shrink_to_fit",
    "clone",
    "clone_from",
    "to_vec",
    "to_owned",
    "to_string",
    "into_boxed_slice",
    "concat",
    "join",
    "repeat",
    "get",
    "get_mut",
    "entry",
    "or_insert",
    "or_insert_with",
    "remove",
    "replace",
    "take",
    "map",
    "and_then",
    "collect",
    "next",
    "write",
    "write_all",
    "write_fmt",
    "write_str",
    "read",
    "read_exact",
    "read_to_end",
    "read_to_string",
    "flush",
    "allocate",
    "grow",
    "shrink",
    "new",
];

/// `try_` names so common outside allocation that a wrapper method of that name is matched only
/// on a receiver whose type is known to be the wrapper's `impl` type. Other wrapper methods
/// named `try_…` also match receivers of unknown type; wrapper methods with other names
/// (`push`, `reserve`, `next`) only match known receiver types.
const AMBIGUOUS_TRY: [&str; 18] = [
    "try_new",
    "try_from",
    "try_into",
    "try_insert",
    "try_push",
    "try_send",
    "try_recv",
    "try_lock",
    "try_read",
    "try_write",
    "try_get",
    "try_borrow",
    "try_borrow_mut",
    "try_wait",
    "try_clone",
    "try_fold",
    "try_for_each",
    "try_extend",
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
        v.call_names = v
            .alloc_paths
            .iter()
            .chain(v.raw_functions.iter())
            .filter_map(|p| p.last().cloned())
            .chain(v.receivers.iter().flat_map(|g| g.methods.iter().cloned()))
            .chain(v.raw_methods.iter().cloned())
            .collect();
        for f in &settings.extra_alloc_functions {
            let segs = split(f);
            match segs.len() {
                0 => {}
                1 => {
                    v.extra_names.extend(segs);
                }
                _ => {
                    v.call_names.extend(segs.last().cloned());
                    v.extra_paths.push(segs);
                }
            }
        }
        v
    }

    /// Can an identifier name an allocation call (pack, configuration, wrapper or raw)?
    pub(crate) fn may_start_allocation(&self, name: &str) -> bool {
        self.alloc_methods.contains(name)
            || self.call_names.contains(name)
            || self.alloc_macros.contains(name)
            || self.extra_names.contains(name)
            || self.wrappers.functions.contains(name)
            || self.wrappers.methods.contains_key(name)
    }

    /// Is `name` (an identifier) NoMemory-like? Equal (ignoring case) to a pack's or the
    /// configuration's name, or made of words one of which is `memory`, `mem` after `no`/`of`,
    /// or `oom` (`OutOfMemoryError`, `NoMemoryLeft`, `OOM_KILLED`).
    pub(crate) fn is_no_memory(&self, name: &str) -> bool {
        if self.no_memory.contains(&name.to_lowercase()) {
            return true;
        }
        let words = words(name);
        words.iter().any(|w| w == "memory" || w == "oom")
            || words
                .windows(2)
                .any(|w| (w[0] == "no" || w[0] == "of") && w[1] == "mem")
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
        let types = &mut || self.with_aliases(types());
        let own: HashSet<&String> = self
            .own_methods
            .get(name)
            .into_iter()
            .flatten()
            .filter(|(_, n)| *n == nargs)
            .map(|(owner, _)| owner)
            .collect();
        if !own.is_empty() {
            let t = known.get_or_insert_with(&mut *types);
            if t.is_empty() || t.iter().any(|t| own.contains(t)) {
                // The scanned crate's own method: an allocation only if it is a wrapper on
                // the receiver's type or, the type unknown, on every type defining the name
                // (unambiguous either way).
                let wrapped = |o: &String| {
                    self.wrappers
                        .methods
                        .get(name)
                        .is_some_and(|w| w.contains(&Some(o.clone())))
                };
                if !t.is_empty() {
                    return t.iter().any(|o| own.contains(o) && wrapped(o));
                }
                let wrappers = own.iter().filter(|o| wrapped(o)).count();
                if wrappers == own.len() {
                    return true;
                }
                if wrappers == 0 {
                    return false;
                }
                // Ambiguous: some of the crate's definitions wrap an allocation, some do
                // not; the pack decides as for any receiver.
            }
        }
        for group in &self.receivers {
            if group.methods.contains(name) && group.args.is_none_or(|n| n == nargs) {
                if group.types.is_empty() {
                    return true;
                }
                let t = known.get_or_insert_with(&mut *types);
                if t.iter().any(|t| group.types.contains(t)) {
                    return true;
                }
            }
        }
        if let Some(owners) = self.wrappers.methods.get(name) {
            let t = known.get_or_insert_with(&mut *types);
            if owners
                .iter()
                .any(|o| o.as_ref().is_some_and(|o| t.contains(o)))
            {
                return true;
            }
            // Receiver type unknown: trust a name that says it is fallible, unless a pack
            // already decides calls of that name (`try_reserve` with its arity), or a name
            // that only wrappers of the scanned code bear.
            return t.is_empty()
                && ((name.starts_with("try_")
                    && !AMBIGUOUS_TRY.contains(&name)
                    && !self.receivers.iter().any(|g| g.methods.contains(name)))
                    || self.unambiguous_wrapper(name, owners));
        }
        false
    }

    /// `types` and the type names the scanned code's aliases among them stand for
    /// (transitively, bounded).
    pub(crate) fn with_aliases(&self, mut types: Vec<String>) -> Vec<String> {
        if self.type_aliases.is_empty() {
            return types;
        }
        let mut next = 0;
        while next < types.len() && types.len() < 64 {
            if let Some(targets) = self.type_aliases.get(&types[next]) {
                for t in targets {
                    if !types.contains(t) {
                        types.push(t.clone());
                    }
                }
            }
            next += 1;
        }
        types
    }

    /// Is the wrapper method `name` the only kind of method of that name in the scanned code
    /// (every definition with a `self` receiver is a wrapper, no required trait method of that
    /// name returns something else), and not named like a std or pack method? Then a call of it
    /// is resolved by name on any receiver (`node.into_root_mut().push_level()`).
    pub(crate) fn unambiguous_wrapper(&self, name: &str, owners: &HashSet<Option<String>>) -> bool {
        !STD_METHOD_NAMES.contains(&name)
            && !AMBIGUOUS_TRY.contains(&name)
            && !self.is_receiver_method(name)
            && !self.plain_method_decls.contains(name)
            && self
                .method_defs
                .get(name)
                .is_some_and(|defs| !defs.is_empty() && defs.iter().all(|o| owners.contains(o)))
    }

    /// Is `name` a method of a pack's receiver group (fallible only on some receivers or with
    /// some arity: `shrink`, `grow`, `try_reserve`)?
    pub(crate) fn is_receiver_method(&self, name: &str) -> bool {
        self.receivers.iter().any(|g| g.methods.contains(name))
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
        if let (Some(owners), [.., ty, _]) = (self.wrappers.methods.get(last), segs) {
            // `Type::name(..)` / `Self::name(..)`: the wrapper's own type.
            let ty = if ty == "Self" {
                self_ty.map(str::to_string)
            } else {
                Some(ty.clone())
            };
            if ty.is_some() && owners.contains(&ty) {
                return true;
            }
        }
        // `Alias::with_capacity(..)` with `type Alias<T> = TryVec<T>;`: as the aliased type.
        if let [.., ty, _] = segs {
            if let Some(targets) = self.type_aliases.get(ty) {
                let mut resolved = segs.to_vec();
                let at = resolved.len() - 2;
                return targets.iter().filter(|t| *t != ty).take(8).any(|t| {
                    resolved[at] = t.clone();
                    let known = |p: &Vec<String>| ends_with(&resolved, p);
                    self.alloc_paths.iter().any(known)
                        || self
                            .extra_paths
                            .iter()
                            .any(|p| suffix_either_way(&resolved, p))
                        || self
                            .wrappers
                            .methods
                            .get(last)
                            .is_some_and(|o| o.contains(&Some(t.clone())))
                });
            }
        }
        false
    }
}

/// Lower-case words of an identifier, split at `_` and at lower-to-upper case changes.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if (c == '_' || (c.is_uppercase() && prev_lower)) && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        if c != '_' {
            cur.extend(c.to_lowercase());
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_memory_names_by_list_and_by_words() {
        let v = Vocab::new(&Settings {
            packs: crate::packs::ActivePacks::named(&[]),
            extra_no_memory_names: vec!["my::Exhausted".to_string()],
            ..Settings::default()
        });
        for yes in [
            "OutOfMemory",
            "out_of_memory",
            "OutOfMemoryError",
            "NoMemoryLeft",
            "OOM",
            "oom",
            "ENOMEM",
            "Alloc",
            "TryReserveError",
            "Exhausted",
            "NoMem",
        ] {
            assert!(v.is_no_memory(yes), "{yes}");
        }
        for no in [
            "Parse",
            "InvalidData",
            "Allocator",
            "Room",
            "Zoom",
            "Memo",
            "Io",
        ] {
            assert!(!v.is_no_memory(no), "{no}");
        }
    }
}
