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

#[path = "../analyzer/tests/fixture/mod.rs"]
mod fixture;

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

/// The first differing line, for the failure message.
fn first_difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    for i in 0..w.len().max(g.len()) {
        if w.get(i) != g.get(i) {
            return format!(
                "line {}:\n  expected: {:?}\n  actual:   {:?}",
                i + 1,
                w.get(i).copied().unwrap_or("<end>"),
                g.get(i).copied().unwrap_or("<end>")
            );
        }
    }
    "only in line endings".to_string()
}

#[test]
fn rendered_diagnostics_match_the_snapshots() {
    let bless = std::env::var_os("OOMCHECK_BLESS").is_some_and(|v| v == "1");
    let fixtures = fixture_paths();
    assert!(fixtures.len() >= 10, "fixtures missing");
    let mut problems = Vec::new();
    for path in &fixtures {
        let got = render(path);
        let snapshot = snapshot_path(path);
        if bless {
            std::fs::write(&snapshot, &got)
                .unwrap_or_else(|e| panic!("{}: {e}", snapshot.display()));
            continue;
        }
        match std::fs::read_to_string(&snapshot) {
            Ok(want) if want == got => {}
            Ok(want) => problems.push(format!(
                "{} differs from the rendered diagnostics; {}",
                snapshot.display(),
                first_difference(&want, &got)
            )),
            Err(e) => problems.push(format!("{}: {e}", snapshot.display())),
        }
    }
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
