//! `oomcheck lint`: run the analyzer over paths and render its findings.
//!
//! Report output (findings, the summary, machine-readable documents) goes to stdout; problems
//! that stopped a file from being checked go to stderr as one line each (and into the JSON and
//! SARIF documents too). Exit status: 0 clean (or only warnings without `--deny-warnings`),
//! 1 findings, 2 a file, path or configuration could not be checked.
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use oomcheck_analyzer::lint::{lint, LintOptions, LintReport};
use oomcheck_analyzer::Level;

use crate::{ui::Ui, Status};

pub mod human;
pub mod json;
pub mod sarif;
pub mod short;

/// Arguments of `oomcheck lint`.
#[derive(Args, Debug)]
pub struct LintArgs {
    /// Files and folders to check (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also check test code: files under a crate's `tests/`, `benches/` and `examples/`,
    /// `#[cfg(test)]` items and `#[test]` functions.
    #[arg(long)]
    pub include_tests: bool,
    /// Use this configuration file instead of looking for `oomcheck.toml` /
    /// `[package.metadata.oomcheck]` above each file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Exit with status 1 on warnings too (by default only error-level findings fail).
    #[arg(long)]
    pub deny_warnings: bool,
    /// Number of worker threads (default: one per CPU).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

/// The `--format` flag.
#[derive(ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// Diagnostics with source snippets and a summary line.
    #[default]
    Human,
    /// One line per finding: `path:line:col: rule-id: message`.
    Short,
    /// One JSON document with `findings`, `errors` and `summary`.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
}

/// Run `oomcheck lint`.
pub fn execute(args: &LintArgs, ui: &Ui) -> Status {
    let report = lint(&LintOptions {
        paths: args.paths.clone(),
        include_tests: args.include_tests,
        config: args.config.clone(),
        jobs: args.jobs.filter(|&n| n > 0),
    });
    let out = match args.format {
        Format::Human => human::render(&report, ui),
        Format::Short => short::render(&report),
        Format::Json => json::render(&report),
        Format::Sarif => sarif::render(&report),
    };
    let errors = match args.format {
        Format::Human => human::render_errors(&report, ui),
        _ => short::render_errors(&report),
    };
    // A closed pipe (`oomcheck lint | head`) is not an error worth reporting.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    let _ = std::io::stderr().lock().write_all(errors.as_bytes());
    status(&report, args.deny_warnings)
}

/// The exit status a report deserves.
pub fn status(report: &LintReport, deny_warnings: bool) -> Status {
    if !report.errors.is_empty() {
        Status::Error
    } else if report
        .findings
        .iter()
        .any(|f| f.level == Level::Error || deny_warnings)
    {
        Status::Findings
    } else {
        Status::Clean
    }
}
