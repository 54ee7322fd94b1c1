//! Which errors mean "out of memory": the [`NoMemoryPredicate`] a check asks, and the default
//! one that reads the error's Debug text.

/// Decides whether an error returned by the body means "out of memory".
pub trait NoMemoryPredicate<E> {
    /// Whether `error` (whose `{:?}` text is `debug`) is a NoMemory-class error.
    fn is_no_memory(&self, error: &E, debug: &str) -> bool;
}

/// The default predicate: the error's Debug text names an out-of-memory condition (`NoMemory`,
/// `OutOfMemory`, `Oom`, `TryReserveError`, `AllocError`, `ENOMEM`, "out of memory").
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

/// The default NoMemory predicate: the error's Debug text names an out-of-memory condition.
fn default_no_memory(debug: &str) -> bool {
    let lower = debug.to_ascii_lowercase();
    if lower.contains("out of memory") || lower.contains("cannot allocate memory") {
        return true;
    }
    for word in debug.split(|c: char| !c.is_ascii_alphanumeric()) {
        let w = word.to_ascii_lowercase();
        if [
            "nomemory",
            "outofmemory",
            "tryreserveerror",
            "allocerror",
            "enomem",
            "allocationerror",
        ]
        .iter()
        .any(|k| w.contains(k))
        {
            return true;
        }
        // `Oom`, `OomError`, `ErrOom`: the camel-case part "Oom", not "room" or "zoom".
        if camel_parts(word).any(|p| p.eq_ignore_ascii_case("oom")) {
            return true;
        }
    }
    false
}

/// Splits `OomError` into `Oom`, `Error`; `OOM_ERR` was split on `_` before.
fn camel_parts(word: &str) -> impl Iterator<Item = &str> {
    let mut starts = vec![0];
    let b = word.as_bytes();
    for i in 1..b.len() {
        if b[i].is_ascii_uppercase() && b[i - 1].is_ascii_lowercase() {
            starts.push(i);
        }
    }
    let mut ends: Vec<usize> = starts[1..].to_vec();
    ends.push(word.len());
    starts.into_iter().zip(ends).map(move |(s, e)| &word[s..e])
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
