//! End-to-end tests of `oomcheck run --preload`: the fixture crate `tests/fixtures/preload-fixture`
//! (ordinary `#[test]`s, no oomcheck dependency) swept unmodified, one test per verdict, each
//! asserted with its outcome and site.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use common::Run;
use serde_json::Value;

mod common;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    repo().join("tests/fixtures/preload-fixture")
}

/// The 1-based line of the fixture's `file` holding `marker`.
fn line_of(file: &str, marker: &str) -> u64 {
    let text = std::fs::read_to_string(fixture().join(file)).unwrap();
    let i = text
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no line with {marker:?} in {file}"));
    i as u64 + 1
}

/// `oomcheck run --preload ARGS` on the fixture, built into the shared `target/fixtures`.
fn run_preload(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_oomcheck"))
        .args(["run", "--preload", "--manifest-path"])
        .arg(fixture().join("Cargo.toml"))
        .args(args)
        .env("CARGO_TARGET_DIR", repo().join("target/fixtures"))
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run oomcheck");
    Run::from(out)
}

/// The JSON records by test name.
fn records(run: &Run) -> BTreeMap<String, Value> {
    run.stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not a JSON record ({e}): {l}\n{}", run.stderr));
            (v["test"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

/// (outcome, function, file, line) of each finding of a record.
fn findings(r: &Value) -> Vec<(String, String, String, u64)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["site"]["file"].as_str().unwrap_or("");
            let rel = file
                .strip_prefix(fixture().to_str().unwrap())
                .unwrap_or(file)
                .trim_start_matches('/');
            (
                f["outcome"].as_str().unwrap().to_string(),
                f["site"]["function"].as_str().unwrap_or("").to_string(),
                rel.to_string(),
                f["site"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn finding(
    outcome: &str,
    function: &str,
    file: &str,
    marker: &str,
) -> (String, String, String, u64) {
    (
        outcome.into(),
        function.into(),
        file.into(),
        line_of(file, marker),
    )
}

#[test]
fn every_verdict_of_an_unmodified_test_suite() {
    let run = run_preload(&["--timeout", "3", "--format", "json"]);
    assert_eq!(run.code, Some(1), "findings exit 1: {}", run.stderr);
    let r = records(&run);
    assert_eq!(r.len(), 12, "{:?}", r.keys());
    let seq = |t: &str| r[t]["sequence"].as_str().unwrap().to_string();
    let from_text = |t: &str| r[t]["preload"]["from_text"].clone();
    let lib = "src/lib.rs";

    // The error reaches the test, which unwraps it, returns it or expects it: no-memory, read
    // from the panic message or the printed `Error:`.
    for t in [
        "unwrap_of_an_oom_error",
        "returned_oom_error",
        "expect_of_an_oom_error",
    ] {
        assert_eq!(seq(t), ".", "{t}: {:#}", r[t]);
        assert_eq!(from_text(t), serde_json::json!([1]), "{t}");
        assert!(findings(&r[t]).is_empty(), "{t}");
    }
    assert_eq!(seq("tolerated_cache"), "t");
    assert_eq!(
        from_text("tolerated_cache"),
        serde_json::json!([]),
        "a pass is no text"
    );

    assert_eq!(seq("wrong_error"), "W");
    assert_eq!(
        findings(&r["wrong_error"]),
        [finding(
            "wrong-error",
            "preload_fixture::load",
            lib,
            "// site: load"
        )]
    );
    assert!(r["wrong_error"]["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("Invalid(\"input too large\")"));

    // A word dropped: the assertion's text is the diff. The second allocation of the loop is
    // `out.push`, infallible.
    assert_eq!(seq("corrupted_words"), "CAC");
    let words = findings(&r["corrupted_words"]);
    assert_eq!(
        words[0],
        finding("corrupted", "preload_fixture::words", lib, "// site: words")
    );
    assert!(r["corrupted_words"]["findings"][0]["diff"]
        .as_str()
        .unwrap()
        .contains("left: 1"));

    assert_eq!(seq("panic_on_none"), "P");
    assert_eq!(
        findings(&r["panic_on_none"]),
        [finding(
            "panic",
            "preload_fixture::first_word",
            lib,
            "// site: first_word"
        )]
    );

    // Deaths: an infallible allocation inside the library, a UB check, SIGSEGV in C's memset.
    assert_eq!(seq("abort_in_the_library"), "A");
    assert_eq!(
        findings(&r["abort_in_the_library"]),
        [finding(
            "abort",
            "preload_fixture::label",
            lib,
            "// site: label"
        )]
    );
    assert!(r["abort_in_the_library"]["findings"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("memory allocation of"));
    assert_eq!(
        findings(&r["ub_check"])[0],
        finding("abort", "preload_fixture::zeroed", lib, "// site: zeroed")
    );
    assert!(r["ub_check"]["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("unsafe precondition(s) violated"));
    assert_eq!(
        findings(&r["segfault"]),
        [finding(
            "abort",
            "preload_fixture::cleared",
            lib,
            "// site: cleared"
        )]
    );
    assert!(r["segfault"]["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("SIGSEGV"));
    assert_eq!(
        findings(&r["hang"]),
        [finding(
            "hang",
            "preload_fixture::reserve_or_wait",
            lib,
            "// site: reserve_or_wait"
        )]
    );

    // The test's own `String::from` is counted but not swept.
    let setup = &r["setup_is_skipped"];
    assert_eq!(setup["nalloc"], 2);
    assert_eq!(setup["sequence"], ".");
    assert_eq!(setup["preload"]["skipped"], serde_json::json!([1]));
    assert_eq!(setup["preload"]["swept"], serde_json::json!([2]));
    assert_eq!(
        setup["range"],
        Value::Null,
        "not every index of a range was swept"
    );
}

#[test]
fn sweep_all_fails_test_setup_too_and_the_human_report_renders_it() {
    let run = run_preload(&["--sweep-all", "--", "setup_is_skipped", "--exact"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let e = &run.stderr;
    assert!(
        e.contains("setup_is_skipped              nalloc=2  A.  FAILED (1/2)"),
        "{e}"
    );
    assert!(e.contains("allocation failure aborts the process"), "{e}");
    assert!(
        e.contains("let input = String::from(\"abc\"); // setup: skipped"),
        "{e}"
    );
    assert!(
        e.contains("reproduce with: oomcheck run --preload --alloc 1 --sweep-all --manifest-path"),
        "{e}"
    );
    assert!(
        e.contains("1 test: 0 clean, 1 failing (1 finding at 1 site)"),
        "{e}"
    );

    let default = run_preload(&["--", "setup_is_skipped", "--exact"]);
    assert_eq!(default.code, Some(0), "{}", default.stderr);
    assert!(
        default
            .stderr
            .contains("1 allocation outside the crate's own code not swept"),
        "{}",
        default.stderr
    );
}

#[test]
fn a_filter_matching_no_test_is_a_usage_error() {
    let run = run_preload(&["--", "no_such_test"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("no test matched no_such_test"),
        "{}",
        run.stderr
    );
}

/// A test's sequence and findings.
type Verdicts = (String, Vec<(String, String, String, u64)>);

/// (sequence, findings) of every record of a run with `--strategy strategy`, and the indices
/// its fork servers' verdicts were re-checked at.
fn verdicts(strategy: &str) -> (BTreeMap<String, Verdicts>, BTreeMap<String, Value>) {
    let run = run_preload(&["--strategy", strategy, "--timeout", "3", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let r = records(&run);
    for (t, rec) in &r {
        assert_eq!(rec["strategy"], strategy, "{t}");
    }
    let v = r
        .iter()
        .map(|(t, rec)| {
            (
                t.clone(),
                (rec["sequence"].as_str().unwrap().to_string(), findings(rec)),
            )
        })
        .collect();
    let rechecked = r
        .iter()
        .map(|(t, rec)| (t.clone(), rec["preload"]["rechecked"].clone()))
        .collect();
    (v, rechecked)
}

#[test]
fn fork_server_and_reruns_give_identical_verdicts() {
    let (forked, rechecked) = verdicts("fork");
    let (rerun, _) = verdicts("rerun");
    assert_eq!(forked, rerun);
    // Only crashes and hangs were re-run: every other verdict is a forked child's own.
    for (t, (seq, _)) in &forked {
        let crashes: Vec<u64> = seq
            .chars()
            .zip(1..)
            .filter(|(c, _)| matches!(c, 'A' | 'H'))
            .map(|(_, i)| i)
            .collect();
        let again: Vec<u64> = rechecked[t]
            .as_array()
            .map(|a| a.iter().map(|i| i.as_u64().unwrap()).collect())
            .unwrap_or_default();
        assert_eq!(again, crashes, "{t}: {seq}");
    }
}

/// A zero-code sweep keeps its records too: `oomcheck report` counts the site its test failed.
#[test]
fn preload_records_are_kept_for_the_coverage_report() {
    let records = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_oomcheck"))
        .args(["run", "--preload", "--manifest-path"])
        .arg(fixture().join("Cargo.toml"))
        .args(["--", "tolerated_cache"])
        .env("CARGO_TARGET_DIR", repo().join("target/fixtures"))
        .env("OOMCHECK_REPORT", records.path())
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run oomcheck");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fallible allocation sites failed by a sweep"),
        "{stderr}"
    );
    let lcov = Command::new(env!("CARGO_BIN_EXE_oomcheck"))
        .args(["report", "--format", "lcov", "--manifest-path"])
        .arg(fixture().join("Cargo.toml"))
        .arg(records.path())
        .output()
        .unwrap();
    let lcov = String::from_utf8_lossy(&lcov.stdout);
    let cache = line_of("src/lib.rs", "if cache.try_reserve_exact");
    assert!(lcov.contains("SF:src/lib.rs"), "{lcov}");
    assert!(
        lcov.lines()
            .any(|l| l.starts_with(&format!("DA:{cache},")) && !l.ends_with(",0")),
        "the cache's site is counted: {lcov}"
    );
    let parse = line_of("src/lib.rs", "// site: parse");
    assert!(lcov.contains(&format!("DA:{parse},0")), "{lcov}");
}
