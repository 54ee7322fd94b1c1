//! `--format short`: `path:line:col: rule-id: message`, one finding per line.
use std::fmt::Write;

use oomcheck_analyzer::lint::LintReport;

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
        let (path, place, message) = super::error_parts(e);
        let _ = match place {
            Some((l, c)) => writeln!(out, "{path}:{l}:{c}: error: {message}"),
            None if path.is_empty() => writeln!(out, "error: {message}"),
            None => writeln!(out, "{path}: error: {message}"),
        };
    }
    out
}
