//! The per-file analysis: classify how each allocation call's result is used.
use std::path::PathBuf;

use crate::finding::Finding;
use crate::packs::ActivePacks;

/// One parsed file handed to the analysis.
pub struct SourceFile {
    /// Path used in findings.
    pub path: PathBuf,
    /// The file's text (for suppression comments and columns).
    pub text: String,
    /// The parsed syntax.
    pub syntax: syn::File,
    /// The whole file is test code (under a crate's own `tests/`, `benches/`, `examples/`).
    pub is_test_file: bool,
    /// `infallible-alloc` is enabled for this file (it is inside a configured OOM-safe scope).
    pub infallible_alloc_checked: bool,
}

/// Everything the analysis needs besides the files.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub packs: ActivePacks,
    /// Extra allocation functions from the configuration: a bare name (`try_alloc`) matches a
    /// call or method of that name; a path (`my_crate::buf::try_grow`) matches calls whose
    /// path ends with the same segments.
    pub extra_alloc_functions: Vec<String>,
    /// Extra names that count as NoMemory-like.
    pub extra_no_memory_names: Vec<String>,
    /// Analyse `#[cfg(test)]` items and `#[test]` functions (and files marked `is_test_file`).
    pub include_tests: bool,
}

/// Analyse all files together (wrapper discovery crosses files) and return the findings,
/// including unused or unknown `oomcheck:allow` comments, with `level` set to the rule's
/// default level (the driver applies configured levels afterwards). Sorted by path, then span.
pub fn analyze(files: &[SourceFile], settings: &Settings) -> Vec<Finding> {
    let _ = (files, settings);
    todo!("lint-core")
}
