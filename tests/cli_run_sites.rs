//! End to end through `oomcheck run` (issue 13), on `tests/fixtures/oom-sites`: NoMemory names
//! from the rule packs and from the crate's configuration, sites in a dependency and in a trait
//! impl on a std type with their callers, test-body allocations, bodies whose normal run returns
//! `Err`, allowed outcomes, empty sweeps, count and site drift, and the plain (CI log) rendering.
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

mod common;
use common::{oomcheck, repo};

fn fixture() -> PathBuf {
    repo().join("tests/fixtures/oom-sites")
}

/// The one record per test of a `--format json` run.
fn records(stdout: &str) -> BTreeMap<String, Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON record"))
        .map(|v| (v["test"].as_str().expect("test").to_string(), v))
        .collect()
}

fn sequence(v: &Value) -> &str {
    v["sequence"].as_str().expect("sequence")
}

fn only_finding(v: &Value) -> &Value {
    let fs = v["findings"].as_array().expect("findings");
    assert_eq!(fs.len(), 1, "{v:#}");
    &fs[0]
}

fn functions(f: &Value) -> Vec<&str> {
    f["stack"]
        .as_array()
        .expect("stack")
        .iter()
        .map(|fr| fr["function"].as_str().unwrap_or(""))
        .collect()
}

#[test]
fn sites_names_and_bodies_of_real_crates() {
    let out = oomcheck(&fixture(), &["run", "--format", "json"]);
    assert_eq!(out.code, 1, "findings exit 1: {out:?}");
    let recs = records(&out.stdout);

    // One vocabulary: smallvec's `AllocErr` with no predicate, and the configured name.
    assert_eq!(
        sequence(&recs["smallvec_error_is_no_memory"]),
        ".",
        "{out:?}"
    );
    assert_eq!(
        sequence(&recs["configured_name_is_no_memory"]),
        ".",
        "{out:?}"
    );

    // A dependency's site, with its caller chain up to the test (and not beyond).
    let dep = only_finding(&recs["dependency_remaps_oom"]);
    assert_eq!(dep["outcome"], "wrong-error");
    assert_eq!(dep["site"]["function"], "oom_remap::fill");
    assert!(dep["site"]["file"]
        .as_str()
        .unwrap()
        .ends_with("remap/src/lib.rs"));
    assert_eq!(
        functions(dep),
        [
            "oom_remap::fill",
            "oom_remap::load",
            "sites::dependency_remaps_oom::{{closure}}",
            "sites::dependency_remaps_oom"
        ]
    );
    assert_eq!(dep["in_test_body"], false);

    // A trait impl on a std type is the crate's code.
    let tr = only_finding(&recs["trait_impl_on_vec"]);
    assert_eq!(
        tr["site"]["function"],
        "<alloc::vec::Vec<T> as oom_remap::TryPushRemap<T>>::try_push_remap"
    );

    // An allocation in the closure itself is labelled.
    let body = only_finding(&recs["allocates_in_test_body"]);
    assert_eq!(body["outcome"], "abort");
    assert_eq!(body["in_test_body"], true);

    // A body whose normal run returns Err is swept: the NoMemory error passes.
    let bad = &recs["rejects_bad_input"];
    assert_eq!(bad["status"], "swept", "{bad:#}");
    assert_eq!(sequence(bad), ".");

    // An allowed outcome is reported with its reason and does not fail its test.
    let allowed = only_finding(&recs["allowed_abort"]);
    assert_eq!(allowed["allowed"], "Vec::push aborts; documented");
    assert!(
        !out.stderr.contains("allowed_abort failed outside"),
        "{out:?}"
    );

    // And one allowed by `[[run.allow]]` in the crate's configuration.
    let by_config = only_finding(&recs["allowed_by_config"]);
    assert_eq!(by_config["site"]["function"], "oom_remap::grow");
    assert_eq!(by_config["allowed"], "grow is documented to abort");
    assert!(
        !out.stderr.contains("allowed_by_config failed outside"),
        "{out:?}"
    );

    // Count drift: the index never reached is reported, not counted as a pass.
    let drift = &recs["count_drift"];
    assert_eq!(sequence(drift), ".N", "{drift:#}");
    assert_eq!(drift["outcomes"]["not-reached"], 1, "{drift:#}");
    assert!(drift["message"]
        .as_str()
        .unwrap()
        .contains("1 index not reached"));

    // Plain rendering (a pipe, NO_COLOR): rustc's layout in ASCII, no narration.
    let human = oomcheck(&fixture(), &["run", "--", "dependency_remaps_oom"]);
    assert_eq!(human.code, 1, "{human:?}");
    let e = &human.stderr;
    assert!(e.contains("wrong-error"), "{e}");
    assert!(e.contains(",-[remap/src/lib.rs:12:5]"), "{e}");
    assert!(e.contains("`-- allocation #1 fails here"), "{e}");
    assert!(e.contains("oom_remap::load at remap/src/lib.rs:6"), "{e}");
    assert!(e.contains("RUST_BACKTRACE=0 cargo test"), "{e}");
    assert!(!e.contains("Begin snippet"), "{e}");
    // Narration on request.
    let mut narrated =
        common::oomcheck_command(&fixture(), &["run", "--", "dependency_remaps_oom"]);
    let narrated = narrated
        .env("OOMCHECK_NARRATE", "1")
        .output()
        .expect("run oomcheck");
    assert!(String::from_utf8_lossy(&narrated.stderr).contains("Begin snippet"));
}

#[test]
fn an_empty_sweep_says_nothing_swept() {
    let out = oomcheck(
        &fixture(),
        &[
            "run",
            "--format",
            "json",
            "--alloc",
            "100-200",
            "--",
            "smallvec_error_is_no_memory",
        ],
    );
    assert_eq!(out.code, 0, "nothing swept is not a failure: {out:?}");
    let v = &records(&out.stdout)["smallvec_error_is_no_memory"];
    assert_eq!(v["status"], "nothing-swept", "{v:#}");
    assert!(v["message"].as_str().unwrap().contains("nothing to sweep"));
    let human = oomcheck(
        &fixture(),
        &[
            "run",
            "--alloc",
            "100-200",
            "--",
            "smallvec_error_is_no_memory",
        ],
    );
    assert!(human.stderr.contains("nothing swept"), "{human:?}");
    assert!(human.stderr.contains("1 check swept nothing"), "{human:?}");
}

#[test]
fn site_drift_is_named_on_the_line_with_its_fix() {
    for strategy in ["rerun", "fork"] {
        let out = oomcheck(
            &fixture(),
            &["run", "--strategy", strategy, "--", "site_drift"],
        );
        // Drift is neither a pass nor a finding: the run does not fail for it.
        assert_eq!(out.code, 0, "{strategy}: {out:?}");
        let e = &out.stderr;
        // The line says what the `D`s mean for the verdict, not a bare `OK`.
        assert!(e.contains("  DD  OK (2 drifted)"), "{strategy}: {e}");
        // And a note says why and what to change.
        assert!(
            e.contains("note: site_drift: 2 indices drifted (`D`): ")
                && e.contains("a randomly seeded hasher (use a fixed one"),
            "{strategy}: {e}"
        );
        assert!(
            e.contains("2 indices drifted (site drift)"),
            "{strategy}: {e}"
        );
        // libtest captures the test process's output (no `--nocapture`): a body that prints
        // allocates there only, so that cause comes first, with its fix.
        assert!(
            e.contains("likely causes and fixes: output the body prints")
                && e.contains("`oomcheck run -- --nocapture`"),
            "{strategy}: {e}"
        );
    }
    // With `--nocapture` the test process captures nothing: that cause is not named.
    let uncaptured = oomcheck(&fixture(), &["run", "--", "site_drift", "--nocapture"]);
    assert_eq!(uncaptured.code, 0, "{uncaptured:?}");
    let e = &uncaptured.stderr;
    assert!(e.contains("  DD  OK (2 drifted)"), "{e}");
    assert!(
        e.contains("likely causes and fixes: a randomly seeded hasher"),
        "{e}"
    );
    assert!(!e.contains("output the body prints"), "{e}");
    // The record, and `oomcheck report`'s joined data, carry the note too.
    let kept = tempfile::tempdir().expect("a records directory");
    let json =
        common::oomcheck_command(&fixture(), &["run", "--format", "json", "--", "site_drift"])
            .env("OOMCHECK_REPORT", kept.path())
            .output()
            .expect("run oomcheck");
    let v = &records(&String::from_utf8_lossy(&json.stdout))["site_drift"];
    assert_eq!(sequence(v), "DD", "{v:#}");
    assert_eq!(v["outcomes"]["drifted"], 2, "{v:#}");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("2 indices drifted (`D`)"));
    let joined = oomcheck(
        &fixture(),
        &["report", "--format", "json", kept.path().to_str().unwrap()],
    );
    assert_eq!(joined.code, 0, "{joined:?}");
    let joined: Value = serde_json::from_str(&joined.stdout).expect("the joined data");
    let test = &joined["tests"][0];
    assert_eq!(test["test"], "site_drift", "{joined:#}");
    assert_eq!(test["outcomes"]["drifted"], 2, "{joined:#}");
    assert!(
        test["message"]
            .as_str()
            .is_some_and(|m| m.contains("a randomly seeded hasher")),
        "{joined:#}"
    );
}
