//! `--format human`: each finding as a miette diagnostic (rule id as its code, the message, a
//! label at the call and one at each related place, the help line), then a one-line summary. Graphical or narrated as the
//! [`Ui`] decides.
use std::collections::BTreeMap;
use std::fmt::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, Severity, SourceCode, SourceSpan};
use oomcheck_analyzer::config::ConfigError;
use oomcheck_analyzer::lint::{LintError, LintReport};
use oomcheck_analyzer::{Finding, Level};

use crate::ui::Ui;

/// Byte offset of a 1-based (line, column-in-characters) position in `text`, clamped to it.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_text = &text[start..];
    let line_end = line_text.find('\n').unwrap_or(line_text.len());
    let col = line_text[..line_end]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line_end, |(i, _)| i);
    start + col
}

/// One finding, as a miette diagnostic.
pub struct FindingDiagnostic<'a> {
    finding: &'a Finding,
    source: Option<NamedSource<Arc<str>>>,
    span: SourceSpan,
    /// The finding's related places (secondary labels), when the file is known.
    related: Vec<LabeledSpan>,
}

/// The byte range of `s` in `text`.
fn source_span(text: &str, s: &oomcheck_analyzer::Span) -> SourceSpan {
    let start = offset_of(text, s.start_line, s.start_column);
    let end = offset_of(text, s.end_line, s.end_column).max(start);
    SourceSpan::from(start..end)
}

impl<'a> FindingDiagnostic<'a> {
    /// The diagnostic for `finding`, with a snippet when `text` (the file) is known.
    pub fn new(finding: &'a Finding, text: Option<&Arc<str>>) -> FindingDiagnostic<'a> {
        let (source, span, related) = match text {
            Some(text) => {
                let name = finding.path.display().to_string();
                let related = finding
                    .related
                    .iter()
                    .map(|r| {
                        LabeledSpan::new_with_span(
                            Some(r.message.clone()),
                            source_span(text, &r.span),
                        )
                    })
                    .collect();
                (
                    Some(NamedSource::new(name, text.clone()).with_language("Rust")),
                    source_span(text, &finding.span),
                    related,
                )
            }
            None => (None, SourceSpan::from(0..0), Vec::new()),
        };
        FindingDiagnostic {
            finding,
            source,
            span,
            related,
        }
    }
}

impl fmt::Debug for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FindingDiagnostic")
            .field("finding", self.finding)
            .finish()
    }
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.source.is_some() {
            f.write_str(&self.finding.message)
        } else {
            // Without a snippet, say where.
            let s = &self.finding.span;
            write!(
                f,
                "{}:{}:{}: {}",
                self.finding.path.display(),
                s.start_line,
                s.start_column,
                self.finding.message
            )
        }
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.finding.rule))
    }

    fn severity(&self) -> Option<Severity> {
        Some(match self.finding.level {
            Level::Error => Severity::Error,
            Level::Warn => Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.finding.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let label = LabeledSpan::new_with_span(Some(self.finding.rule.to_string()), self.span);
        Some(Box::new(
            std::iter::once(label).chain(self.related.iter().cloned()),
        ))
    }
}

/// A configuration error, pointing into the file.
#[derive(Debug)]
pub struct ConfigDiagnostic {
    error: ConfigError,
    source: NamedSource<String>,
}

impl ConfigDiagnostic {
    /// Wrap `error`.
    pub fn new(error: &ConfigError) -> ConfigDiagnostic {
        ConfigDiagnostic {
            source: NamedSource::new(error.path.display().to_string(), error.text.clone())
                .with_language("TOML"),
            error: error.clone(),
        }
    }
}

impl fmt::Display for ConfigDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)
    }
}

impl std::error::Error for ConfigDiagnostic {}

impl Diagnostic for ConfigDiagnostic {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new("oomcheck::config"))
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(
            "see the configuration reference in the README; files governed by this configuration were not checked",
        ))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.error
            .span
            .as_ref()
            .map(|_| &self.source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.error.span.clone()?;
        let len = self.error.text.len();
        let (start, end) = (span.start.min(len), span.end.min(len));
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some("here".to_string()),
            SourceSpan::from(start..end.max(start)),
        ))))
    }
}

/// The findings as diagnostics, then the summary line.
pub fn render(report: &LintReport, ui: &Ui) -> String {
    let mut out = render_findings(&report.findings, &report.sources, ui);
    out.push_str(&summary(report));
    out.push('\n');
    out
}

/// The findings as diagnostics, each followed by an empty line; `sources` holds the text of
/// the files (a finding in a file not there is shown without a snippet).
pub fn render_findings(
    findings: &[Finding],
    sources: &BTreeMap<PathBuf, Arc<str>>,
    ui: &Ui,
) -> String {
    let mut out = String::new();
    for f in findings {
        let diag = FindingDiagnostic::new(f, sources.get(&f.path));
        out.push_str(&ui.render(&diag));
        out.push('\n');
    }
    out
}

/// The errors for stderr: configuration errors as diagnostics pointing into the file, the
/// others one line each.
pub fn render_errors(report: &LintReport, ui: &Ui) -> String {
    let mut out = String::new();
    for e in &report.errors {
        match e {
            LintError::Config(c) => {
                out.push_str(&ui.render(&ConfigDiagnostic::new(c)));
                out.push('\n');
            }
            LintError::File(_) => {
                let line = super::short::render_errors(&LintReport {
                    errors: vec![e.clone()],
                    ..LintReport::default()
                });
                out.push_str(&line);
            }
        }
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `found 3 problems (2 errors, 1 warning) in 12 files; 1 error stopped a complete check`.
pub fn summary(report: &LintReport) -> String {
    let errors = report
        .findings
        .iter()
        .filter(|f| f.level == Level::Error)
        .count();
    let warnings = report.findings.len() - errors;
    let checked = plural(report.stats.files_checked, "file", "files");
    let mut s = String::new();
    if report.findings.is_empty() {
        let _ = write!(s, "no problems found in {checked}");
    } else {
        let _ = write!(
            s,
            "found {} ({}, {}) in {checked}",
            plural(report.findings.len(), "problem", "problems"),
            plural(errors, "error", "errors"),
            plural(warnings, "warning", "warnings"),
        );
    }
    if report.stats.test_files_skipped > 0 {
        let _ = write!(
            s,
            "; {} skipped (--include-tests to check)",
            plural(report.stats.test_files_skipped, "test file", "test files")
        );
    }
    if !report.errors.is_empty() {
        let _ = write!(
            s,
            "; {} stopped a complete check",
            plural(report.errors.len(), "error", "errors")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_characters_on_their_line() {
        let text = "ab\nçd = 1;\n";
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 2, 1), 3);
        assert_eq!(offset_of(text, 2, 2), 5); // `ç` is two bytes
        assert_eq!(offset_of(text, 2, 99), 11); // clamped to the end of the line
        assert_eq!(offset_of(text, 9, 1), text.len());
    }
}
