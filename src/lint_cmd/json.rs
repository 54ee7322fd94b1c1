//! `--format json`: one document.
//!
//! ```json
//! {
//!   "version": 1,
//!   "findings": [{"rule": "panic-on-alloc-failure", "level": "error", "path": "src/a.rs",
//!                 "line": 3, "column": 5, "end_line": 3, "end_column": 30,
//!                 "message": "…", "help": "…", "related": []}],
//!   "errors": [{"path": "src/b.rs", "line": 1, "column": 9, "message": "cannot parse: …"}],
//!   "summary": {"files_checked": 2, "files_parsed": 2, "findings": 1, "errors": 1}
//! }
//! ```
//! `line`/`column` of an error are `null` when it has no place in the file.
//!
//! `related` lists the other places a finding stands for, each
//! `{"path": "src/a.rs", "line": 9, "column": 13, "end_line": 9, "end_column": 20,
//! "message": "…"}` (same file; columns 1-based, `end_column` exclusive). It is empty except
//! for a function whose `Option` return type turns allocation failure into `None` at several
//! places: one `swallowed-alloc-failure` finding at the first, the others related.
use oomcheck_analyzer::lint::LintReport;
use serde_json::{json, Value};

/// Paths as text with forward slashes, as written.
pub(crate) fn path_text(p: &std::path::Path) -> String {
    let s = p.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '\\' {
        s.replace('\\', "/")
    } else {
        s.into_owned()
    }
}

/// The JSON value of a report.
pub fn document(report: &LintReport) -> Value {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule.as_str(),
                "level": f.level,
                "path": path_text(&f.path),
                "line": f.span.start_line,
                "column": f.span.start_column,
                "end_line": f.span.end_line,
                "end_column": f.span.end_column,
                "message": f.message,
                "help": f.help,
                "related": f.related.iter().map(|r| json!({
                    "path": path_text(&f.path),
                    "line": r.span.start_line,
                    "column": r.span.start_column,
                    "end_line": r.span.end_line,
                    "end_column": r.span.end_column,
                    "message": r.message,
                })).collect::<Vec<Value>>(),
            })
        })
        .collect();
    let errors: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            let (path, place, message) = super::short::error_parts(e);
            json!({
                "path": path_text(std::path::Path::new(&path)),
                "line": place.map(|p| p.0),
                "column": place.map(|p| p.1),
                "message": message,
            })
        })
        .collect();
    json!({
        "version": 1,
        "summary": {
            "files_checked": report.stats.files_checked,
            "files_parsed": report.stats.files_parsed,
            "test_files_skipped": report.stats.test_files_skipped,
            "findings": findings.len(),
            "errors": errors.len(),
        },
        "findings": findings,
        "errors": errors,
    })
}

/// The document, pretty-printed, with a final newline.
pub fn render(report: &LintReport) -> String {
    let mut s = serde_json::to_string_pretty(&document(report)).unwrap_or_default();
    s.push('\n');
    s
}
