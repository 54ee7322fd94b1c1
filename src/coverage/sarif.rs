//! `--format sarif`: the sweeps' findings as SARIF 2.1.0 results beside the lint's (the lint's
//! schema and URI rules): rule ids are outcome names, the location is the failing site, and a
//! finding whose stack crosses a lint finding names it ("explained by lint") as a related
//! location.
use std::path::Path;

use oomcheck_injector::Outcome;
use serde_json::{json, Value};

use super::join::Joined;
use crate::lint_cmd::sarif::{artifact_uri, tool, SCHEMA};

/// One rule per outcome that can be a finding.
fn rules() -> Vec<Value> {
    Outcome::ALL
        .iter()
        .map(|o| {
            json!({
                "id": o.as_str(),
                "name": o.as_str(),
                "shortDescription": { "text": format!("an allocation failure ends in `{}`", o.as_str()) },
                "defaultConfiguration": { "level": "error" },
            })
        })
        .collect()
}

/// The SARIF document, URIs relative to the workspace `root`.
pub fn document(j: &Joined, root: &Path) -> Value {
    let results: Vec<Value> = j
        .findings
        .iter()
        .map(|f| {
            let mut text = format!("{}: allocation #{} fails: {}", f.test, f.alloc, f.message);
            let mut related = Vec::new();
            for (id, &l) in f.explained_by.iter().enumerate() {
                let l = &j.lint[l];
                text.push_str(&format!(
                    "\nexplained by lint: {} at {}:{}",
                    l.rule, l.path, l.line
                ));
                related.push(json!({
                    "id": id,
                    "message": { "text": format!("explained by lint: {}", l.rule) },
                    "physicalLocation": {
                        "artifactLocation": { "uri": artifact_uri(Path::new(&l.path), root) },
                        "region": { "startLine": l.line, "startColumn": l.column },
                    },
                }));
            }
            text.push_str(&format!("\nreproduce with: {}", f.repro));
            let index = Outcome::ALL.iter().position(|o| *o == f.outcome).unwrap_or(0);
            let mut result = json!({
                "ruleId": f.outcome.as_str(),
                "ruleIndex": index,
                "level": if f.allowed.is_some() { "note" } else { "error" },
                "message": { "text": text },
                "relatedLocations": related,
            });
            if let Some(site) = &f.site {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": artifact_uri(Path::new(&site.path), root) },
                        "region": { "startLine": site.line },
                    },
                    "logicalLocations": [{ "fullyQualifiedName": site.function, "kind": "function" }],
                }]);
            }
            result
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": tool("oomcheck-run", rules()),
            "results": results,
        }]
    })
}

/// The document, pretty-printed, with a final newline.
pub fn render(j: &Joined, root: &Path) -> String {
    let mut s = serde_json::to_string_pretty(&document(j, root)).expect("SARIF serializes");
    s.push('\n');
    s
}
