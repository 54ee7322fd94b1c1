//! `oomcheck rules`, `oomcheck explain`, the `cargo oomcheck` subcommand, and the README's rule
//! table, which must agree with the rules' own documentation.
use std::path::Path;
use std::process::{Command, Output};

use oomcheck_analyzer::RuleId;

fn oomcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oomcheck"))
        .args(args)
        .output()
        .expect("run oomcheck")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn rules_lists_every_rule_with_level_and_summary() {
    let out = oomcheck(&["rules"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for rule in RuleId::ALL {
        let doc = rule.doc();
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(rule.as_str()))
            .unwrap_or_else(|| panic!("{rule} missing from `oomcheck rules`:\n{text}"));
        assert!(line.contains(doc.summary), "{line}");
    }
    let opt_in = text
        .lines()
        .find(|l| l.starts_with("infallible-alloc"))
        .unwrap();
    assert!(opt_in.contains("off (opt-in)"), "{opt_in}");
}

#[test]
fn explain_prints_the_rule_doc_and_rejects_unknown_ids() {
    let out = oomcheck(&["explain", "discarded-alloc-result"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for section in ["### What it does", "### Why is this bad?", "### Example"] {
        assert!(text.contains(section), "missing {section}:\n{text}");
    }
    let bad = oomcheck(&["explain", "no-such-rule"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("unknown rule `no-such-rule`") && err.contains("panic-on-alloc-failure"));
}

#[test]
fn every_rule_doc_has_the_fixed_sections() {
    for rule in RuleId::ALL {
        let doc = rule.doc();
        assert_eq!(doc.id, rule);
        for section in ["### What it does", "### Why is this bad?", "### Example"] {
            assert!(doc.explanation.contains(section), "{rule}: no {section}");
        }
        let s = doc.summary;
        assert!(
            !s.ends_with('.') && s.chars().next().is_some_and(|c| c.is_lowercase()),
            "{rule}: summary must start lower-case and have no trailing period: {s:?}"
        );
    }
}

/// The README table between the `rules-table` markers is the rules' own summaries, row for row.
#[test]
fn readme_rule_table_matches_the_rules() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme
        .find("<!-- rules-table:start -->")
        .expect("README has a rules-table:start marker");
    let end = readme
        .find("<!-- rules-table:end -->")
        .expect("README has a rules-table:end marker");
    let rows: Vec<Vec<String>> = readme[start..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect()
        })
        .collect();
    let expected: Vec<Vec<String>> = RuleId::ALL
        .iter()
        .map(|r| {
            let d = r.doc();
            vec![
                r.as_str().to_owned(),
                oomcheck::rules_cmd::level_name(d).to_owned(),
                d.summary.to_owned(),
            ]
        })
        .collect();
    assert_eq!(
        rows, expected,
        "README rule table disagrees with the rules; regenerate it from `oomcheck rules`"
    );
}

/// `cargo oomcheck …` really works through cargo's external-subcommand lookup on PATH.
#[test]
fn cargo_subcommand_runs_through_cargo() {
    let bin = Path::new(env!("CARGO_BIN_EXE_cargo-oomcheck"));
    let dir = bin.parent().unwrap();
    let path = std::env::join_paths(std::iter::once(dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["oomcheck", "explain", "unchecked-raw-alloc"])
        .env("PATH", path)
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).starts_with("unchecked-raw-alloc: "));

    let bad = Command::new(bin)
        .args(["oomcheck", "explain", "nope"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
