//! `oomcheck lint --format sarif` validates against the SARIF 2.1.0 JSON schema (vendored from
//! the OASIS specification in tests/sarif/) and carries the fields GitHub code scanning reads.
use std::process::Command;

use serde_json::Value;

mod common;
use common::validate_sarif as validate;

#[test]
fn sarif_output_is_valid_and_has_what_code_scanning_reads() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"s\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(
        src.join("lib.rs"),
        "fn f(v: &mut Vec<u8>) {\n    let _ = v.try_reserve(1);\n    v.try_reserve(2).unwrap();\n}\n",
    )
    .unwrap();
    // A file that does not parse: reported as a notification, not lost.
    std::fs::write(src.join("broken.rs"), "fn g( { v.try_reserve(1) }\n").unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_oomcheck"))
        .current_dir(dir.path())
        .args(["lint", "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a parse error makes the exit status 2"
    );
    let sarif: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    if let Err(e) = validate(&sarif) {
        panic!("SARIF output violates the 2.1.0 schema:\n{e}\n{sarif:#}");
    }

    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "oomcheck");
    let rules = driver["rules"].as_array().unwrap();
    for rule in rules {
        for field in ["shortDescription", "fullDescription", "help"] {
            assert!(
                rule[field]["text"].as_str().is_some_and(|t| !t.is_empty()),
                "rule {} lacks {field}.text",
                rule["id"]
            );
        }
    }
    let results = run["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["discarded-alloc-result", "panic-on-alloc-failure"]);
    for r in results {
        // ruleIndex points at the rule's own descriptor.
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(
            loc["artifactLocation"]["uri"], "src/lib.rs",
            "relative, forward slashes"
        );
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 2);
        assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("file errors are tool execution notifications");
    assert!(
        notes.iter().any(|n| n.to_string().contains("broken.rs")),
        "{notes:?}"
    );
}

/// A finding's related places are `relatedLocations`, valid against the schema.
#[test]
fn related_locations_are_valid_sarif() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lib.rs"),
        "fn table(v: &mut Vec<u8>) -> Option<()> {\n    v.try_reserve(1).ok()?;\n    \
         v.try_reserve(2).ok()?;\n    Some(())\n}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_oomcheck"))
        .current_dir(dir.path())
        .args(["lint", "--format", "sarif"])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    if let Err(e) = validate(&sarif) {
        panic!("SARIF output violates the 2.1.0 schema:\n{e}\n{sarif:#}");
    }
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{sarif:#}");
    let related = results[0]["relatedLocations"].as_array().unwrap();
    assert_eq!(related.len(), 1, "{sarif:#}");
    let loc = &related[0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "lib.rs");
    assert_eq!(loc["region"]["startLine"], 3);
    assert!(related[0]["message"]["text"]
        .as_str()
        .is_some_and(|t| t.contains("`None`")));
}

/// The validator really rejects what the schema forbids (the test above can fail).
#[test]
fn the_validator_rejects_invalid_sarif() {
    let bad = serde_json::json!({
        "version": "2.1.0",
        "runs": [{ "tool": { "driver": {} }, "results": [{ "message": {} , "level": "fatal" }] }]
    });
    assert!(validate(&bad).is_err());
}
