//! What the analysis is given: the parsed files and the settings of a run.
use std::path::PathBuf;

use crate::finding::{FileError, FileProblem};
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

impl SourceFile {
    /// Parse `text` (the file at `path`); a syntax error becomes a [`FileError`] at the
    /// parser's location.
    ///
    /// `syn` recurses with expression nesting: call this on a thread with a large stack for
    /// untrusted input (the driver's workers have `lint::WORKER_STACK_SIZE`), and drop
    /// the file there too.
    pub fn parse(
        path: PathBuf,
        text: String,
        is_test_file: bool,
        infallible_alloc_checked: bool,
    ) -> Result<SourceFile, FileError> {
        match syn::parse_file(&text) {
            Ok(syntax) => Ok(SourceFile {
                path,
                text,
                syntax,
                is_test_file,
                infallible_alloc_checked,
            }),
            Err(e) => {
                let start = e.span().start();
                let problem = FileProblem::Syntax(e.to_string());
                Err(FileError::at(
                    path,
                    start.line.max(1),
                    start.column + 1,
                    problem,
                ))
            }
        }
    }
}

/// Everything the analysis needs besides the files.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The rule packs in force.
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
