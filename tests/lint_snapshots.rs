//! Snapshots of what users read: the diagnostics `oomcheck lint` prints for each fixture of
//! `tests/lint/` (message, place, snippet, rule, help), rendered as on a terminal without
//! colour, checked in beside the fixture as `tests/lint/<name>.stdout`.
//!
//! A changed wording or column shows up as a diff in review. After an intended change,
//! regenerate the files with `OOMCHECK_BLESS=1 cargo test --test lint_snapshots` and review the
//! diff. Without that variable a mismatch fails (CI never writes snapshots).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oomcheck::lint_cmd::human::render_findings;
use oomcheck::ui::Ui;

mod common;
#[path = "../analyzer/tests/fixture/mod.rs"]
mod fixture;

use common::check_snapshot;
use fixture::{fixture_dir, fixture_paths, load};

/// A pipe or CI log: the graphical layout in ASCII at miette's fixed width, no escapes.
const UI: Ui = Ui {
    color: false,
    graphical: true,
    ascii: true,
    progress: false,
};

/// The expected-output file of a fixture.
fn snapshot_path(fixture: &Path) -> PathBuf {
    fixture.with_extension("stdout")
}

/// The rendered diagnostics of one fixture.
fn render(fixture: &Path) -> String {
    let fx = load(fixture);
    let sources: BTreeMap<PathBuf, Arc<str>> = fx
        .files
        .iter()
        .map(|f| (f.path.clone(), Arc::from(f.text.as_str())))
        .collect();
    render_findings(&fx.findings(), &sources, &UI)
}

#[test]
fn rendered_diagnostics_match_the_snapshots() {
    let fixtures = fixture_paths();
    assert!(fixtures.len() >= 10, "fixtures missing");
    let problems: Vec<String> = fixtures
        .iter()
        .filter_map(|path| check_snapshot(&snapshot_path(path), &render(path)).err())
        .collect();
    assert!(
        problems.is_empty(),
        "{}\n(after an intended change: OOMCHECK_BLESS=1 cargo test --test lint_snapshots)",
        problems.join("\n")
    );
}

/// Every snapshot belongs to a fixture (a renamed or deleted fixture leaves none behind).
#[test]
fn every_snapshot_has_a_fixture() {
    let fixtures = fixture_paths();
    let mut orphans = Vec::new();
    let entries = std::fs::read_dir(fixture_dir()).expect("tests/lint");
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|x| x == "stdout")
            && !fixtures.contains(&path.with_extension("rs"))
        {
            orphans.push(path.display().to_string());
        }
    }
    assert!(
        orphans.is_empty(),
        "snapshots without a fixture: {orphans:?}"
    );
}

/// The snapshots say what users read: the message, the rule, the help and the place.
#[test]
fn snapshots_show_message_rule_help_and_place() {
    let path = fixture_dir().join("discarded_alloc_result.rs");
    let text = std::fs::read_to_string(snapshot_path(&path)).expect("snapshot");
    for part in [
        "discarded-alloc-result",
        "result of `try_reserve` is discarded by `let _`",
        "help: propagate the error with `?`",
        "[discarded_alloc_result.rs:",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
}
