//! What a lint run returns: findings, the problems that made it incomplete, counters.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::config::ConfigError;
use crate::finding::{FileError, Finding};
use crate::site::AllocSite;

/// Anything that makes the run incomplete (exit code 2).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LintError {
    /// A configuration file is invalid; the files it governs were not checked.
    #[error(transparent)]
    Config(ConfigError),
    /// A file or path could not be checked.
    #[error(transparent)]
    File(FileError),
}

/// Counters, for the summary line and the benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Rust files found (after `exclude`), test files included.
    pub files_found: usize,
    /// Test files skipped (no `--include-tests`).
    pub test_files_skipped: usize,
    /// Files read and considered.
    pub files_checked: usize,
    /// Files that passed the prefilter and were parsed.
    pub files_parsed: usize,
    /// Bytes of the files read.
    pub bytes_read: u64,
    /// Bytes of the files parsed.
    pub bytes_parsed: u64,
}

/// The result of a lint run.
#[derive(Debug, Default)]
pub struct LintReport {
    /// Findings at their configured level (rules set to `off` removed), sorted by path, span.
    pub findings: Vec<Finding>,
    /// Problems that stopped a file (or configuration) from being checked, sorted by path.
    pub errors: Vec<LintError>,
    /// The text of every file that has a finding (for rendering snippets).
    pub sources: BTreeMap<PathBuf, Arc<str>>,
    /// Counters.
    pub stats: Stats,
    /// Every fallible allocation call of the files analysed, sorted by path and place, whatever
    /// is done with its failure (what `oomcheck report` joins with a sweep's failed stacks).
    pub sites: Vec<AllocSite>,
}

impl LintError {
    /// The order errors are reported in: by path, then place, then message.
    pub(crate) fn sort_key(&self) -> (PathBuf, usize, usize, String) {
        match self {
            LintError::Config(c) => {
                let (l, col) = c.line_col().unwrap_or((0, 0));
                (c.path.clone(), l, col, c.message.clone())
            }
            LintError::File(f) => (
                f.path.clone(),
                f.line.unwrap_or(0),
                f.column.unwrap_or(0),
                f.problem.to_string(),
            ),
        }
    }
}

impl LintReport {
    /// Add the findings, errors, texts and counters of a part of the run.
    pub(crate) fn merge(&mut self, part: LintReport) {
        self.findings.extend(part.findings);
        self.errors.extend(part.errors);
        self.sources.extend(part.sources);
        self.sites.extend(part.sites);
        let (s, p) = (&mut self.stats, part.stats);
        s.files_found += p.files_found;
        s.test_files_skipped += p.test_files_skipped;
        s.files_checked += p.files_checked;
        s.files_parsed += p.files_parsed;
        s.bytes_read += p.bytes_read;
        s.bytes_parsed += p.bytes_parsed;
    }
}
