//! The driver: paths + configuration → findings and per-file errors.
//!
//! Data flow: [`walk`] the paths → `plan`: find each file's configuration
//! (walking up) and crate (nearest Cargo.toml), drop excluded files and test code, group the
//! files by configuration and Cargo workspace, read the groups' dependencies → per group
//! (`group`, groups side by side): `read` the files (size limit, UTF-8) → activate the rule
//! packs from the dependencies and the sources → `prefilter` with the packs' needles → parse
//! and summarize on the `crew` → the cross-file [`Context`](crate::analysis::Context)
//! (allocation wrappers and field types) → prefilter again with the names it found and parse
//! those files too → analyse every kept tree on the worker that parsed it → configured levels
//! → merged, sorted findings and errors (`report`).
//!
//! Two kinds of threads: a rayon pool (default stacks) reads and prefilters files and runs
//! groups side by side; each group's crew is a set of scoped threads with large stacks
//! ([`WORKER_STACK_SIZE`]) that parse, analyse and drop the syntax trees, so deeply nested
//! expressions do not overflow a stack.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::analysis::{Settings, SourceFile};
use crate::config;
use crate::finding::Finding;
use crate::walk;

mod crew;
mod group;
mod plan;
mod prefilter;
mod read;
mod report;

pub use crate::finding::FileError;
use crate::finding::FileProblem;
pub use crew::WORKER_STACK_SIZE;
pub use report::{LintError, LintReport, Stats};

/// What to lint and how.
#[derive(Clone, Debug, Default)]
pub struct LintOptions {
    /// Files and folders; empty means the current directory.
    pub paths: Vec<PathBuf>,
    /// Also check test code (`tests/`, `benches/`, `examples/`, `#[cfg(test)]`, `#[test]`).
    pub include_tests: bool,
    /// Use this configuration file instead of discovering one.
    pub config: Option<PathBuf>,
    /// Worker threads (`None`: one per CPU).
    pub jobs: Option<usize>,
}

/// Lint `opts.paths`.
pub fn lint(opts: &LintOptions) -> LintReport {
    let mut report = LintReport::default();
    // Reading, prefiltering and running groups side by side; no parsing happens here.
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .thread_name(|i| format!("oomcheck-read-{i}"))
        .build()
    {
        Ok(pool) => pool,
        Err(e) => {
            report.errors.push(LintError::File(FileError::new(
                PathBuf::new(),
                FileProblem::NoThreads(e.to_string()),
            )));
            return report;
        }
    };

    let explicit_config = match &opts.config {
        Some(file) => match config::load_file(file) {
            Ok(c) => Some(Arc::new(c)),
            Err(e) => {
                report.errors.push(LintError::Config(e));
                return report;
            }
        },
        None => None,
    };

    let default_paths = [PathBuf::from(".")];
    let paths = if opts.paths.is_empty() {
        &default_paths[..]
    } else {
        &opts.paths[..]
    };
    let walked = walk::walk(paths);
    report
        .errors
        .extend(walked.errors.into_iter().map(LintError::File));

    let threads = pool.current_num_threads().max(1);
    let plan = plan::plan(walked.files, explicit_config, opts.include_tests, threads);
    report.errors.extend(plan.errors);
    report.stats = plan.stats;
    let include_tests = opts.include_tests;
    let parts: Vec<LintReport> = if plan.groups.len() > 1 && threads > 1 {
        pool.install(|| {
            plan.groups
                .into_par_iter()
                .map(|g| group::lint_group(&pool, g, include_tests))
                .collect()
        })
    } else {
        plan.groups
            .into_iter()
            .map(|g| group::lint_group(&pool, g, include_tests))
            .collect()
    };
    for part in parts {
        report.merge(part);
    }

    report.findings.sort_by(|a, b| {
        (&a.path, a.span, a.rule, &a.message).cmp(&(&b.path, b.span, b.rule, &b.message))
    });
    report.findings.dedup();
    report.sites.sort();
    report.sites.dedup();
    report.errors.sort_by_key(LintError::sort_key);
    report
}

/// Lint one file's text on its own, the way [`lint`] treats each parsed file: parse, then
/// analyse (allocation wrappers the file defines included, as the driver does across files),
/// with suppression comments and `unused-allow`. No prefilter, no
/// configured levels (findings keep their default level), no panic catching: this is the
/// single-file entry point for fuzzing and tests.
///
/// Runs on the calling thread: `syn` and the analysis recurse with expression nesting, so call
/// it from a thread with a stack of [`WORKER_STACK_SIZE`] for untrusted input, as the driver
/// does. The syntax tree is dropped on the calling thread too.
pub fn lint_source(
    path: &Path,
    text: &str,
    is_test_file: bool,
    infallible_alloc_checked: bool,
    settings: &Settings,
) -> Result<Vec<Finding>, FileError> {
    let files = [SourceFile::parse(
        path.to_path_buf(),
        text.to_string(),
        is_test_file,
        infallible_alloc_checked,
    )?];
    Ok(crate::analysis::analyze(&files, settings))
}
