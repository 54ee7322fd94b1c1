//! `--format sarif`: SARIF 2.1.0 for code scanning (GitHub and others).
//!
//! Every rule is listed in `tool.driver.rules[]` with its documentation; each finding is a
//! result with `ruleId`, `ruleIndex`, `level`, `message.text` and one physical location whose
//! URI is relative to the current directory (forward slashes, percent-encoded), with a 1-based
//! region (`endColumn` is exclusive, as SARIF defines it), and the finding's related places as
//! `relatedLocations` (each with an `id` and a `message`). Files that could not be checked are
//! `toolExecutionNotifications` of the invocation, which is then not successful.
use std::path::{Path, PathBuf};

use oomcheck_analyzer::config::normalize;
use oomcheck_analyzer::lint::LintReport;
use oomcheck_analyzer::{Level, RuleId, Span};
use serde_json::{json, Value};

/// The SARIF schema this output follows.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(l: Option<Level>) -> &'static str {
    match l {
        Some(Level::Error) => "error",
        Some(Level::Warn) => "warning",
        None => "none",
    }
}

/// A URI reference for `path`: relative to `cwd` when inside it, else a `file://` URI.
pub fn artifact_uri(path: &Path, cwd: &Path) -> String {
    let abs = normalize(&cwd.join(path));
    match abs.strip_prefix(cwd) {
        Ok(rel) => encode(rel),
        Err(_) => format!("file://{}", encode(&abs)),
    }
}

/// Percent-encode a path as the path part of a URI, `/` separated.
fn encode(path: &Path) -> String {
    let mut out = String::new();
    for (i, comp) in path.components().enumerate() {
        let text = comp.as_os_str().to_string_lossy();
        if text == "/" || text == "\\" {
            continue;
        }
        if i > 0 || path.is_absolute() {
            out.push('/');
        }
        for b in text.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// A 1-based SARIF region (`endColumn` exclusive).
fn region(s: &Span) -> Value {
    json!({
        "startLine": s.start_line,
        "startColumn": s.start_column,
        "endLine": s.end_line,
        "endColumn": s.end_column,
    })
}

/// The rule descriptors, in [`RuleId::ALL`] order (results refer to them by index).
fn rules() -> Vec<Value> {
    RuleId::ALL
        .iter()
        .map(|&id| {
            let doc = id.doc();
            json!({
                "id": id.as_str(),
                "name": id.as_str(),
                "shortDescription": { "text": doc.summary },
                "fullDescription": { "text": doc.explanation, "markdown": doc.explanation },
                "help": { "text": doc.explanation, "markdown": doc.explanation },
                "defaultConfiguration": {
                    "enabled": doc.default_level.is_some(),
                    "level": level(doc.default_level.or(Some(Level::Warn))),
                },
            })
        })
        .collect()
}

/// The SARIF document of a report, with URIs relative to `cwd`.
pub fn document(report: &LintReport, cwd: &Path) -> Value {
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = RuleId::ALL.iter().position(|&r| r == f.rule).unwrap_or(0);
            let uri = artifact_uri(&f.path, cwd);
            let related: Vec<Value> = f
                .related
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    json!({
                        "id": i,
                        "message": { "text": r.message },
                        "physicalLocation": {
                            "artifactLocation": { "uri": uri },
                            "region": region(&r.span),
                        }
                    })
                })
                .collect();
            let mut result = json!({
                "ruleId": f.rule.as_str(),
                "ruleIndex": index,
                "level": level(Some(f.level)),
                "message": { "text": format!("{}\n{}", f.message, f.help) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri },
                        "region": region(&f.span),
                    }
                }],
            });
            if !related.is_empty() {
                result["relatedLocations"] = Value::Array(related);
            }
            result
        })
        .collect();
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            let (path, place, message) = super::short::error_parts(e);
            let mut n = json!({ "level": "error", "message": { "text": message } });
            if !path.is_empty() {
                let mut phys = json!({
                    "artifactLocation": { "uri": artifact_uri(&PathBuf::from(&path), cwd) }
                });
                if let Some((line, column)) = place {
                    phys["region"] = json!({ "startLine": line, "startColumn": column });
                }
                n["locations"] = json!([{ "physicalLocation": phys }]);
            }
            n
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": tool("oomcheck", rules()),
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    })
}

/// The document for the current directory, pretty-printed, with a final newline.
pub fn render(report: &LintReport) -> String {
    let cwd = std::env::current_dir()
        .map(|d| normalize(&d))
        .unwrap_or_default();
    let mut s = serde_json::to_string_pretty(&document(report, &cwd)).unwrap_or_default();
    s.push('\n');
    s
}

/// A run's `tool` object: oomcheck's driver named `name`, at this version, with its `rules`.
pub fn tool(name: &str, rules: Vec<Value>) -> Value {
    json!({ "driver": { "name": name, "version": env!("CARGO_PKG_VERSION"), "rules": rules } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_to_the_current_directory_and_encoded() {
        let cwd = Path::new("/repo");
        assert_eq!(artifact_uri(Path::new("src/a.rs"), cwd), "src/a.rs");
        assert_eq!(
            artifact_uri(Path::new("./src/my file.rs"), cwd),
            "src/my%20file.rs"
        );
        assert_eq!(artifact_uri(Path::new("/repo/x/b.rs"), cwd), "x/b.rs");
        assert_eq!(
            artifact_uri(Path::new("/elsewhere/c.rs"), cwd),
            "file:///elsewhere/c.rs"
        );
    }
}
