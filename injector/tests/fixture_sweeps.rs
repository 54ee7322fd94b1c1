//! End to end: runs `cargo test` on the fixture crate `tests/fixtures/oom-fixture` with
//! `OOMCHECK=1` and `OOMCHECK_REPORT`, and asserts every test's report record: exact outcome
//! counts, and the site's file and line for crashes and panics.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the injector crate lives in the repository root")
        .to_path_buf()
}

fn fixture_dir() -> PathBuf {
    repo_root().join("tests/fixtures/oom-fixture")
}

/// The line of the fixture's `src/lib.rs` carrying `// SITE: <what>`.
fn site_line(what: &str) -> u64 {
    let text = std::fs::read_to_string(fixture_dir().join("src/lib.rs")).expect("fixture source");
    let marker = format!("// SITE: {what}");
    let index = text
        .lines()
        .position(|l| l.trim_end().ends_with(&marker))
        .unwrap_or_else(|| panic!("no `{marker}` in the fixture"));
    index as u64 + 1
}

/// Output of one `cargo test` run of the fixture and the records it wrote, by test name.
struct Run {
    output: String,
    records: BTreeMap<String, Vec<Value>>,
}

fn run_fixture(tag: &str, env: &[(&str, &str)], args: &[&str]) -> Run {
    let report_dir =
        std::env::temp_dir().join(format!("oomcheck-e2e-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&report_dir);
    std::fs::create_dir_all(&report_dir).expect("report dir");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("test")
        .arg("--manifest-path")
        .arg(fixture_dir().join("Cargo.toml"))
        .arg("--no-fail-fast")
        .args(args)
        .env("CARGO_TARGET_DIR", repo_root().join("target/fixtures"))
        .env("OOMCHECK_REPORT", &report_dir)
        .env("RUST_BACKTRACE", "0");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("OOMCHECK") && k != "OOMCHECK_REPORT" {
            cmd.env_remove(&k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("cargo test on the fixture");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut records: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(&report_dir)
        .expect("report dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        assert!(
            name.ends_with(".json") && !name.starts_with('.'),
            "stray file {name} in the report dir"
        );
        let text = std::fs::read_to_string(&path).expect("record");
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{name} is not one JSON object: {e}\n{text}"));
        let test = v["test"].as_str().expect("test name").to_string();
        records.entry(test).or_default().push(v);
    }
    let _ = std::fs::remove_dir_all(&report_dir);
    Run { output, records }
}

fn swept() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    // RUST_BACKTRACE=1 in the tests' environment must not leak into the crash reports.
    RUN.get_or_init(|| {
        run_fixture(
            "swept",
            &[
                ("OOMCHECK", "1"),
                ("OOMCHECK_JOBS", "2"),
                ("RUST_BACKTRACE", "1"),
            ],
            // Not `failure_modes`: the `failure_modes` test sweeps that file.
            &["--test", "outcomes", "--test", "no_allocator"],
        )
    })
}

fn record(test: &str) -> &'static Value {
    let run = swept();
    let recs = run
        .records
        .get(test)
        .unwrap_or_else(|| panic!("no record for {test}; cargo output:\n{}", run.output));
    &recs[0]
}

/// The outcome counts of a record, as `[(outcome, count)]` sorted by name.
fn outcomes(v: &Value) -> Vec<(String, u64)> {
    let mut o: Vec<(String, u64)> = v["outcomes"]
        .as_object()
        .expect("outcomes object")
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().expect("count")))
        .collect();
    o.sort();
    o
}

fn counts(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut o: Vec<(String, u64)> = pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect();
    o.sort();
    o
}

/// Checks the invariants every swept record keeps, then its exact counts and sequence.
fn assert_swept(test: &str, sequence: &str, expected: &[(&str, u64)]) -> &'static Value {
    let v = record(test);
    assert_eq!(v["status"], "swept", "{test}: {v:#}");
    assert_eq!(v["sequence"], sequence, "{test}: {v:#}");
    assert_eq!(outcomes(v), counts(expected), "{test}: {v:#}");
    let range = v["range"].as_array().expect("range");
    let (lo, hi) = (range[0].as_u64().unwrap(), range[1].as_u64().unwrap());
    let total: u64 = outcomes(v).iter().map(|(_, n)| n).sum();
    assert_eq!(total, hi - lo + 1, "{test}: counts must cover the range");
    assert_eq!(sequence.len() as u64, total);
    assert!(v["binary"].as_str().unwrap().contains("outcomes"));
    for f in v["findings"].as_array().expect("findings") {
        let alloc = f["alloc"].as_u64().unwrap();
        let repro = f["repro"].as_str().unwrap();
        assert!(
            repro.contains(&format!("OOMCHECK_ALLOC={alloc} ")),
            "{repro}"
        );
        assert!(repro.ends_with(&format!("-- {test} --exact")), "{repro}");
        let symbol = sequence.as_bytes()[(alloc - lo) as usize] as char;
        assert_ne!(symbol, '.', "{test}: finding at a no-memory index");
    }
    v
}

fn assert_sites(v: &Value, outcome: &str, line: u64) {
    let findings = v["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(f["outcome"], outcome, "{f:#}");
        let site = &f["site"];
        assert!(
            site["file"]
                .as_str()
                .unwrap_or("")
                .ends_with("oom-fixture/src/lib.rs"),
            "{f:#}"
        );
        assert_eq!(site["line"].as_u64(), Some(line), "{f:#}");
    }
}

#[test]
fn correct_parser_is_all_no_memory() {
    let v = assert_swept("correct_parser", "....", &[("no-memory", 4)]);
    assert_eq!(v["nalloc"], 4);
    assert_eq!(v["mode"], "transient");
    assert!(v["findings"].as_array().unwrap().is_empty());
}

#[test]
fn swallowed_failure_is_corrupted_with_a_diff() {
    let v = assert_swept(
        "swallowed_failure",
        ".CCC",
        &[("no-memory", 1), ("corrupted", 3)],
    );
    let diff = v["findings"][0]["diff"].as_str().expect("diff");
    assert!(diff.contains("-        key: \"alpha\","), "{diff}");
    assert!(
        diff.starts_with("--- normal run\n+++ allocation 2 failed"),
        "{diff}"
    );
}

#[test]
fn remapped_error_is_wrong_error() {
    let v = assert_swept(
        "remapped_error",
        ".WWW",
        &[("no-memory", 1), ("wrong-error", 3)],
    );
    let m = v["findings"][0]["message"].as_str().unwrap();
    assert!(m.contains("Invalid(\"\")"), "{m}");
}

#[test]
fn infallible_push_aborts_at_the_push() {
    let v = assert_swept("infallible_push", ".A..", &[("no-memory", 3), ("abort", 1)]);
    assert_sites(v, "abort", site_line("abort"));
    let f = &v["findings"][0];
    assert_eq!(f["alloc"], 2);
    assert_eq!(f["site"]["function"], "oom_fixture::parse_pushing");
    let m = f["message"].as_str().unwrap();
    assert!(
        m.starts_with("memory allocation of") && m.ends_with("bytes failed"),
        "{m}"
    );
    assert!(f["stderr"]
        .as_str()
        .unwrap()
        .contains("memory allocation of"));
}

#[test]
fn unwrapped_reserve_panics_at_the_expect() {
    let v = assert_swept(
        "unwrapped_reserve",
        ".PPP",
        &[("no-memory", 1), ("panic", 3)],
    );
    let line = site_line("panic");
    assert_sites(v, "panic", line);
    let m = v["findings"][0]["message"].as_str().unwrap();
    assert!(m.contains(&format!("src/lib.rs:{line}:")), "{m}");
    assert!(m.contains("room for the key"), "{m}");
}

#[test]
fn endless_retry_hangs() {
    let v = assert_swept("endless_retry", ".HHH", &[("no-memory", 1), ("hang", 3)]);
    assert_eq!(v["mode"], "persistent");
    assert_sites(v, "hang", site_line("hang"));
}

#[test]
fn a_hang_that_stops_allocating_still_has_its_site() {
    // Transient: the failed reservation is the only failed allocation; the site comes from
    // re-running the index with stacks captured.
    let v = assert_swept("waits_forever", ".HHH", &[("no-memory", 1), ("hang", 3)]);
    assert_eq!(v["mode"], "transient");
    assert_sites(v, "hang", site_line("transient hang"));
    let m = v["findings"][0]["message"].as_str().unwrap();
    assert_eq!(m, "ran past the per-iteration timeout of 1s");
}

#[test]
fn forgotten_records_leak() {
    let v = assert_swept(
        "forgotten_records",
        ".LLL",
        &[("no-memory", 1), ("leak", 3)],
    );
    let m = v["findings"][0]["message"].as_str().unwrap();
    assert!(m.contains("still live"), "{m}");
}

#[test]
fn persistent_only_bug_is_clean_when_transient() {
    assert_swept("context_transient", "....", &[("no-memory", 4)]);
    let v = assert_swept(
        "context_persistent",
        ".AAA",
        &[("no-memory", 1), ("abort", 3)],
    );
    assert_sites(v, "abort", site_line("persistent abort"));
}

#[test]
fn custom_predicate_overrides_the_default() {
    assert_swept("custom_predicate", "....", &[("no-memory", 4)]);
}

#[test]
fn hashbrown_try_reserve_is_handled() {
    // One table allocation and four distinct words.
    let v = assert_swept("hashbrown_try_reserve", ".....", &[("no-memory", 5)]);
    assert_eq!(v["nalloc"], 5);
}

#[test]
fn a_body_failing_normally_is_not_swept() {
    let v = record("fails_without_oom");
    assert_eq!(v["status"], "normal-failed");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("Invalid(\"always\")"));
    assert_eq!(v["sequence"], "");
}

#[test]
fn an_unstable_count_is_reported_with_both_numbers() {
    let v = record("unstable_count");
    assert_eq!(v["status"], "unstable-count");
    let m = v["message"].as_str().unwrap();
    assert!(m.contains(" vs "), "{m}");
}

#[test]
fn a_missing_global_allocator_is_reported() {
    let v = record("missing_allocator");
    assert_eq!(v["status"], "no-allocator");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("#[global_allocator]"));
}

#[test]
fn two_checks_in_one_test_write_two_records() {
    let recs = &swept().records["two_checks_in_one_test"];
    assert_eq!(recs.len(), 2);
    let mut seqs: Vec<&str> = recs
        .iter()
        .map(|r| r["sequence"].as_str().unwrap())
        .collect();
    seqs.sort();
    assert_eq!(seqs, vec!["....", ".A"]);
}

#[test]
fn failing_tests_fail_and_print_the_summary_line() {
    let out = &swept().output;
    assert!(
        out.contains("infallible_push  nalloc=4  .A..  FAILED (1/4)"),
        "{out}"
    );
    assert!(out.contains("test correct_parser ... ok"), "{out}");
    assert!(out.contains("test infallible_push ... FAILED"), "{out}");
}

#[test]
fn alloc_range_and_debug_iterations() {
    let run = run_fixture(
        "range",
        &[
            ("OOMCHECK", "1"),
            ("OOMCHECK_ALLOC", "2-3"),
            ("OOMCHECK_DEBUG", "1"),
            ("OOMCHECK_JOBS", "1"),
        ],
        &["--test", "outcomes", "--", "infallible_push", "--exact"],
    );
    let v = &run.records["infallible_push"][0];
    assert_eq!(v["range"], serde_json::json!([2, 3]), "{v:#}");
    assert_eq!(v["sequence"], "A.");
    let its = v["iterations"]
        .as_array()
        .expect("iterations with OOMCHECK_DEBUG");
    assert_eq!(its.len(), 2);
    assert_eq!(its[0]["outcome"], "abort");
    assert_eq!(its[1]["alloc"], 3);
    assert_eq!(run.records.len(), 1, "the filter runs one test");
}

#[test]
fn without_oomcheck_the_body_runs_once() {
    let run = run_fixture("disabled", &[], &["--test", "outcomes"]);
    let v = &run.records["infallible_push"][0];
    assert_eq!(v["status"], "disabled");
    assert_eq!(v["sequence"], "");
    assert_eq!(v["nalloc"], 4);
    assert_eq!(
        run.records["fails_without_oom"][0]["status"],
        "normal-failed"
    );
    assert!(
        run.output.contains("test infallible_push ... ok"),
        "{}",
        run.output
    );
    assert!(
        run.output.contains("test fails_without_oom ... FAILED"),
        "{}",
        run.output
    );
}

#[test]
fn a_malformed_variable_is_a_clear_panic() {
    let run = run_fixture(
        "badenv",
        &[("OOMCHECK", "1"), ("OOMCHECK_ALLOC", "ten")],
        &["--test", "outcomes", "--", "correct_parser", "--exact"],
    );
    assert!(
        run.output
            .contains("invalid OOMCHECK_ALLOC=\"ten\": expected an allocation index like `17`"),
        "{}",
        run.output
    );
    assert!(run.records.is_empty());
}

#[test]
fn outcomes_do_not_depend_on_the_number_of_jobs() {
    let serial = run_fixture(
        "serial",
        &[("OOMCHECK", "1"), ("OOMCHECK_JOBS", "1")],
        &["--test", "outcomes"],
    );
    let sequences = |run: &Run| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = run
            .records
            .iter()
            .flat_map(|(test, recs)| {
                recs.iter().map(move |r| {
                    (
                        test.clone(),
                        r["sequence"].as_str().unwrap_or("").to_string(),
                    )
                })
            })
            .filter(|(test, _)| test != "missing_allocator")
            .collect();
        v.sort();
        v
    };
    let parallel = sequences(swept());
    assert!(parallel.len() >= 15, "{parallel:?}");
    assert_eq!(sequences(&serial), parallel);
}

/// What must agree between two strategies: per record, the status, sequence, counts and each
/// finding's index, outcome, site and message.
fn comparable(run: &Run) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = run
        .records
        .iter()
        .flat_map(|(test, recs)| {
            recs.iter().map(move |r| {
                let findings: Vec<Value> = r["findings"]
                    .as_array()
                    .map(|fs| {
                        fs.iter()
                            .map(|f| {
                                serde_json::json!([
                                    f["alloc"],
                                    f["outcome"],
                                    f["site"],
                                    f["message"]
                                ])
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (
                    test.clone(),
                    serde_json::json!([
                        r["status"],
                        r["nalloc"],
                        r["sequence"],
                        r["outcomes"],
                        findings
                    ]),
                )
            })
        })
        .collect();
    v.sort_by(|a, b| (&a.0, a.1.to_string()).cmp(&(&b.0, b.1.to_string())));
    v
}

#[test]
fn the_fork_strategy_gives_the_records_of_the_rerun_strategy() {
    let forked = run_fixture(
        "fork",
        &[
            ("OOMCHECK", "1"),
            ("OOMCHECK_JOBS", "2"),
            ("OOMCHECK_STRATEGY", "fork"),
        ],
        // The same test targets as the shared re-run sweep that it is compared with.
        &["--test", "outcomes", "--test", "no_allocator"],
    );
    let rerun = swept();
    // The default (auto) strategy re-runs bodies this small.
    assert_eq!(record("correct_parser")["strategy"], "rerun");
    assert_eq!(forked.records["correct_parser"][0]["strategy"], "fork");
    assert!(forked.output.contains("strategy=fork"), "{}", forked.output);
    let f = comparable(&forked);
    assert!(f.len() >= 17, "{f:?}");
    let r = comparable(rerun);
    assert_eq!(f.len(), r.len());
    for (a, b) in f.iter().zip(&r) {
        assert_eq!(a, b, "fork vs rerun");
    }
}

#[test]
fn dedup_sweeps_the_first_allocation_of_each_site() {
    let run = run_fixture(
        "dedup",
        &[("OOMCHECK", "1"), ("OOMCHECK_DEDUP", "site")],
        &[
            "--test",
            "outcomes",
            "--",
            "correct_parser",
            "remapped_error",
            "--exact",
        ],
    );
    let get = |t: &str| {
        run.records
            .get(t)
            .map(|r| &r[0])
            .unwrap_or_else(|| panic!("no record for {t}: {}", run.output))
    };
    // One reservation of the list, then three keys from the one line of `try_key`.
    let ok = get("correct_parser");
    assert_eq!(ok["sequence"], "..", "{ok:#}");
    assert_eq!(ok["dedup"]["sites"], 2);
    assert_eq!(ok["dedup"]["covered"], 2);
    let sites = ok["dedup"]["site_list"].as_array().unwrap();
    assert_eq!(sites[0]["alloc"], 1);
    assert_eq!(sites[1]["alloc"], 2);
    assert_eq!(sites[1]["count"], 3);
    assert_eq!(sites[1]["function"], "oom_fixture::try_key");
    assert!(sites[1]["file"].as_str().unwrap().ends_with("src/lib.rs"));
    let bad = get("remapped_error");
    assert_eq!(bad["sequence"], ".W", "{bad:#}");
    assert_eq!(bad["findings"][0]["alloc"], 2);
    assert_eq!(bad["findings"][0]["outcome"], "wrong-error");
    assert!(
        run.output.contains("sites=2 (+2 covered)"),
        "{}",
        run.output
    );
}

#[test]
fn a_sample_is_a_subsequence_of_the_full_sweep_and_names_its_seed() {
    let run = run_fixture(
        "sample",
        &[
            ("OOMCHECK", "1"),
            ("OOMCHECK_SAMPLE", "2"),
            ("OOMCHECK_SEED", "7"),
        ],
        &["--test", "outcomes", "--", "swallowed_failure", "--exact"],
    );
    let v = &run
        .records
        .get("swallowed_failure")
        .unwrap_or_else(|| panic!("{}", run.output))[0];
    assert_eq!(v["sample"]["seed"], 7);
    let indices: Vec<u64> = v["sample"]["indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap())
        .collect();
    assert_eq!(indices.len(), 2);
    assert!(indices[0] < indices[1] && indices[1] <= 4, "{indices:?}");
    let full = record("swallowed_failure")["sequence"].as_str().unwrap();
    let expected: String = indices
        .iter()
        .map(|&i| full.as_bytes()[i as usize - 1] as char)
        .collect();
    assert_eq!(v["sequence"], expected.as_str());
    assert!(run.output.contains("sample=2 seed=7"), "{}", run.output);
}

#[test]
fn a_shared_job_budget_of_one_token_still_sweeps_everything() {
    let tokens = std::env::temp_dir().join(format!("oomcheck-e2e-tokens-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tokens);
    std::fs::create_dir_all(&tokens).unwrap();
    std::fs::write(tokens.join("token-0"), b"").unwrap();
    let tokens_var = tokens.display().to_string();
    for strategy in ["rerun", "fork"] {
        let run = run_fixture(
            &format!("tokens-{strategy}"),
            &[
                ("OOMCHECK", "1"),
                ("OOMCHECK_JOBS", "2"),
                ("OOMCHECK_STRATEGY", strategy),
                ("OOMCHECK_JOB_TOKENS", &tokens_var),
            ],
            &[
                "--test",
                "outcomes",
                "--",
                "remapped_error",
                "infallible_push",
                "correct_parser",
            ],
        );
        for (test, sequence) in [
            ("remapped_error", ".WWW"),
            ("infallible_push", ".A.."),
            ("correct_parser", "...."),
        ] {
            let v = run
                .records
                .get(test)
                .map(|r| &r[0])
                .unwrap_or_else(|| panic!("{strategy}: no record for {test}: {}", run.output));
            assert_eq!(v["sequence"], sequence, "{strategy} {test}: {v:#}");
        }
    }
    let _ = std::fs::remove_dir_all(&tokens);
}
