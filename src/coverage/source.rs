//! The crate's side of the join, from the analyzer: its fallible allocation sites and its lint
//! findings, with paths relative to the workspace root (as records are matched and reports
//! print them).
use std::path::{Path, PathBuf};

use oomcheck_analyzer::lint::{lint, LintOptions};
use oomcheck_analyzer::{AllocSite, Finding};

/// What the analyzer says about the crate.
#[derive(Debug, Default)]
pub struct Source {
    /// Every fallible allocation call of the crate's non-test code, by path and place.
    pub sites: Vec<AllocSite>,
    /// The lint findings (`unused-allow` left out: it flags no allocation).
    pub lint: Vec<Finding>,
    /// Files the analyzer could not read or parse, with why (their sites are missing).
    pub problems: Vec<String>,
}

/// Lints the workspace at `root` (its configuration honoured, test code skipped).
pub fn analyze(root: &Path) -> Source {
    let report = lint(&LintOptions {
        paths: vec![root.to_path_buf()],
        ..LintOptions::default()
    });
    let relative = |p: &Path| -> PathBuf { p.strip_prefix(root).unwrap_or(p).to_path_buf() };
    Source {
        sites: report
            .sites
            .into_iter()
            .map(|s| AllocSite {
                path: relative(&s.path),
                ..s
            })
            .collect(),
        lint: report
            .findings
            .into_iter()
            .filter(|f| f.rule != oomcheck_analyzer::RuleId::UnusedAllow)
            .map(|f| Finding {
                path: relative(&f.path),
                ..f
            })
            .collect(),
        problems: report.errors.iter().map(|e| e.to_string()).collect(),
    }
}
