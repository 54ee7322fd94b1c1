//! Finding the files to lint: walk, skip ignored and test code, prefilter by text.
//!
//! Folders are walked with the `ignore` crate: `.gitignore` (also outside a git repository),
//! `.ignore` and hidden files are honoured, and a Cargo `target/` folder is skipped. Files named
//! on the command line are taken as they are (whatever their extension), but test-code and
//! `exclude` rules still apply to them (the driver does that).
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::finding::{FileError, FileProblem};

/// A Rust file to consider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkedFile {
    /// The path as shown to the user (as given or discovered, without a leading `./`).
    pub path: PathBuf,
    /// Named on the command line (rather than found in a folder).
    pub explicit: bool,
}

/// The outcome of walking the given paths.
#[derive(Debug, Default)]
pub struct Walked {
    /// Files, in walk order, without duplicates (a file reached twice, through overlapping
    /// arguments such as `src` and `/abs/src/lib.rs`, is listed once, as first reached).
    pub files: Vec<WalkedFile>,
    /// Paths that do not exist, cannot be read, symlink loops…
    pub errors: Vec<FileError>,
}

/// Walk `paths` (files and folders) and collect the Rust files.
pub fn walk(paths: &[PathBuf]) -> Walked {
    let mut out = Walked::default();
    let mut seen = std::collections::HashSet::new();
    for root in paths {
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                let problem = if e.kind() == std::io::ErrorKind::NotFound {
                    match std::fs::symlink_metadata(root) {
                        Ok(_) => FileProblem::BrokenSymlink,
                        Err(_) => FileProblem::NotFound,
                    }
                } else {
                    FileProblem::Unreadable(io_message(&e))
                };
                out.errors.push(FileError::new(display_path(root), problem));
                continue;
            }
        };
        if meta.is_file() {
            let path = display_path(root);
            if seen.insert(crate::config::normalize(&path)) {
                out.files.push(WalkedFile {
                    path,
                    explicit: true,
                });
            }
            continue;
        }
        if !meta.is_dir() {
            let path = display_path(root);
            if seen.insert(path.clone()) {
                out.errors
                    .push(FileError::new(path, FileProblem::NotFileOrFolder));
            }
            continue;
        }
        let walker = ignore::WalkBuilder::new(root)
            .follow_links(true)
            .require_git(false)
            .filter_entry(|e| !(e.depth() > 0 && is_cargo_target_dir(e.path())))
            .build();
        for entry in walker {
            match entry {
                Ok(entry) => {
                    let is_file = entry.file_type().is_some_and(|t| t.is_file());
                    let is_rs = entry.path().extension().is_some_and(|x| x == "rs");
                    if is_file && is_rs {
                        let path = display_path(entry.path());
                        if seen.insert(crate::config::normalize(&path)) {
                            out.files.push(WalkedFile {
                                path,
                                explicit: false,
                            });
                        }
                    } else if is_rs && entry.file_type().is_some_and(|t| !t.is_dir()) {
                        // A FIFO, socket or device named like a source file: reading it could
                        // block forever, and skipping it silently would hide it.
                        let path = display_path(entry.path());
                        if seen.insert(path.clone()) {
                            out.errors
                                .push(FileError::new(path, FileProblem::NotRegularFile));
                        }
                    }
                }
                Err(err) => {
                    if let Some(e) = walk_error(&err) {
                        out.errors.push(e);
                    }
                }
            }
        }
    }
    out
}

/// A Cargo output folder: named `target` next to a Cargo.toml, or tagged with CACHEDIR.TAG.
fn is_cargo_target_dir(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "target")
        && path.is_dir()
        && (path.with_file_name("Cargo.toml").is_file() || path.join("CACHEDIR.TAG").is_file())
}

/// Turn a walk error into a file error, or `None` for errors about files we would not lint
/// anyway (a dangling symlink named `notes.txt`).
fn walk_error(err: &ignore::Error) -> Option<FileError> {
    match err {
        ignore::Error::WithPath { path, err } => {
            if let ignore::Error::Loop { .. } = **err {
                return walk_error(err);
            }
            let relevant = path.extension().is_some_and(|x| x == "rs") || path.is_dir();
            relevant.then(|| FileError::new(display_path(path), error_text(err)))
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error(err)
        }
        ignore::Error::Loop { ancestor, child } => Some(FileError::new(
            display_path(child),
            FileProblem::SymlinkLoop(display_path(ancestor)),
        )),
        ignore::Error::Partial(errs) => errs.iter().find_map(walk_error),
        other => Some(FileError::new(PathBuf::new(), error_text(other))),
    }
}

fn error_text(err: &ignore::Error) -> FileProblem {
    match err {
        ignore::Error::Io(e) => FileProblem::Unreadable(io_message(e)),
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => error_text(err),
        other => FileProblem::Walk(other.to_string()),
    }
}

/// An I/O error's text without the `(os error N)` suffix, lower-case first letter.
pub fn io_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// The path as the user should see it: as given, without a leading `./`.
pub fn display_path(path: &Path) -> PathBuf {
    let mut comps = path.components().peekable();
    while comps.peek() == Some(&Component::CurDir) {
        comps.next();
    }
    let stripped: PathBuf = comps.collect();
    if stripped.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        stripped
    }
}

/// Nearest-Cargo.toml lookups, cached per folder.
#[derive(Debug, Default)]
pub struct CrateRoots {
    cache: HashMap<PathBuf, Option<PathBuf>>,
}

impl CrateRoots {
    /// The folder of the nearest Cargo.toml at or above `dir` (absolute).
    pub fn crate_root(&mut self, dir: &Path) -> Option<PathBuf> {
        if let Some(hit) = self.cache.get(dir) {
            return hit.clone();
        }
        let found = if dir.join("Cargo.toml").is_file() {
            Some(dir.to_path_buf())
        } else {
            match dir.parent() {
                Some(parent) => self.crate_root(parent),
                None => None,
            }
        };
        self.cache.insert(dir.to_path_buf(), found.clone());
        found
    }
}

/// Whether `file` (absolute) is test code by place: under its crate's own `tests/`, `benches/`
/// or `examples/` folder.
pub fn is_test_path(file: &Path, crate_root: Option<&Path>) -> bool {
    let Some(rel) = crate_root.and_then(|root| file.strip_prefix(root).ok()) else {
        return false;
    };
    let mut comps = rel.components();
    let first = comps.next();
    // The file itself must be below the folder, not a file called `tests`.
    comps.next().is_some()
        && first.is_some_and(|c| {
            let c = c.as_os_str();
            c == "tests" || c == "benches" || c == "examples"
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_paths_are_judged_from_the_crate_root() {
        let root = Some(Path::new("/w/c"));
        assert!(is_test_path(Path::new("/w/c/tests/a.rs"), root));
        assert!(is_test_path(Path::new("/w/c/benches/x/b.rs"), root));
        assert!(is_test_path(Path::new("/w/c/examples/e.rs"), root));
        assert!(!is_test_path(Path::new("/w/c/src/tests/a.rs"), root));
        assert!(!is_test_path(Path::new("/w/c/src/lib.rs"), root));
        assert!(!is_test_path(Path::new("/w/c/tests/a.rs"), None));
    }

    #[test]
    fn display_paths_drop_leading_dot() {
        assert_eq!(
            display_path(Path::new("./src/a.rs")),
            PathBuf::from("src/a.rs")
        );
        assert_eq!(display_path(Path::new(".")), PathBuf::from("."));
        assert_eq!(display_path(Path::new("/x/a.rs")), PathBuf::from("/x/a.rs"));
    }

    #[test]
    fn io_messages_are_short() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(io_message(&e), "no such file or directory");
    }
}
