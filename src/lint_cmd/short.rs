//! `--format short`: `path:line:col: rule-id: message`, one finding per line.
use std::fmt::Write;

use oomcheck_analyzer::lint::{LintError, LintReport};

/// The findings, one per line.
pub fn render(report: &LintReport) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let _ = writeln!(
            out,
            "{}:{}:{}: {}: {}",
            f.path.display(),
            f.span.start_line,
            f.span.start_column,
            f.rule,
            f.message
        );
    }
    out
}

/// The errors, one per line: `path:line:col: error: message` (for stderr).
pub fn render_errors(report: &LintReport) -> String {
    let mut out = String::new();
    for e in &report.errors {
        let (path, place, message) = error_parts(e);
        let _ = match place {
            Some((l, c)) => writeln!(out, "{path}:{l}:{c}: error: {message}"),
            None if path.is_empty() => writeln!(out, "error: {message}"),
            None => writeln!(out, "{path}: error: {message}"),
        };
    }
    out
}

/// The path of an error (empty when it is about no file), its 1-based line and column when it
/// has a place, and its message: what every renderer shows of it.
pub(crate) fn error_parts(e: &LintError) -> (String, Option<(usize, usize)>, String) {
    match e {
        LintError::Config(c) => (
            c.path.display().to_string(),
            c.line_col(),
            c.message.clone(),
        ),
        LintError::File(f) => (
            f.path.display().to_string(),
            f.line.map(|l| (l, f.column.unwrap_or(1))),
            f.problem.to_string(),
        ),
    }
}
