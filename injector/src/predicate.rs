//! Which errors mean "out of memory": the [`NoMemoryPredicate`] a check asks, and the default
//! one that reads the error's Debug text.

use crate::vocabulary::{names_no_memory, pack_no_memory_names};
use std::sync::OnceLock;

/// Decides whether an error returned by the body means "out of memory".
pub trait NoMemoryPredicate<E> {
    /// Whether `error` (whose `{:?}` text is `debug`) is a NoMemory-class error.
    fn is_no_memory(&self, error: &E, debug: &str) -> bool;
}

/// The default predicate: the error's Debug text names an out-of-memory condition, by one of the
/// rule packs' `no_memory_names` (the list `oomcheck lint` uses: `NoMemory`, `OutOfMemory`,
/// `Oom`, `TryReserveError`, `AllocError`, smallvec's `AllocErr`, `ENOMEM`, …), by a name of the
/// crate's own configuration (`no-memory-names`, passed by `oomcheck run` in
/// [`OOMCHECK_NO_MEMORY_NAMES`](crate::env::OOMCHECK_NO_MEMORY_NAMES)), or in words ("out of
/// memory").
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultNoMemory;

impl<E> NoMemoryPredicate<E> for DefaultNoMemory {
    fn is_no_memory(&self, _error: &E, debug: &str) -> bool {
        default_no_memory(debug)
    }
}

impl<E, F: Fn(&E) -> bool> NoMemoryPredicate<E> for F {
    fn is_no_memory(&self, error: &E, _debug: &str) -> bool {
        self(error)
    }
}

/// The names of the environment's `OOMCHECK_NO_MEMORY_NAMES` (read once; a path keeps its last
/// segment, as the analyzer does).
fn configured_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        std::env::var(crate::env::OOMCHECK_NO_MEMORY_NAMES)
            .map(|v| crate::env::parse_names(&v))
            .unwrap_or_default()
    })
}

/// The default NoMemory predicate on an error's Debug text.
fn default_no_memory(debug: &str) -> bool {
    let names = pack_no_memory_names()
        .iter()
        .chain(configured_names())
        .map(String::as_str);
    names_no_memory(debug, names)
}

#[cfg(test)]
mod tests {
    use super::default_no_memory;

    #[test]
    fn default_predicate_recognises_oom_names() {
        for yes in [
            "NoMemory",
            "Error::OutOfMemory",
            "Oom",
            "OomError",
            "OOM",
            "ENOMEM",
            "TryReserveError { kind: AllocError { layout: Layout { size: 8, align: 1 }, non_exhaustive: () } }",
            "Custom { kind: OutOfMemory, error: \"x\" }",
            "\"out of memory\"",
            "Parse(AllocError)",
            "AllocErr { layout: Layout { size: 64, align: 8 } }",
            "Kind(OutOfMemory)",
            "OOM_ERR",
        ] {
            assert!(default_no_memory(yes), "{yes}");
        }
        for no in [
            "InvalidData",
            "Room",
            "Zoom(3)",
            "Truncated { at: 4 }",
            "\"no more items\"",
            "Io(Os { code: 2 })",
        ] {
            assert!(!default_no_memory(no), "{no}");
        }
    }
}
