//! End to end: runs `cargo test` on the fixture crate `tests/fixtures/oom-fixture` with
//! `OOMCHECK=1` and `OOMCHECK_REPORT`, and asserts every test's report record: exact outcome
//! counts, and the site's file and line for crashes and panics.

mod common;

use common::{outcome_counts, run_fixture, site_line, Run};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The fixture file whose sites these tests check, relative to the fixture crate.
const SOURCE: &str = "src/lib.rs";

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
    &swept().records_of(test)[0]
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// Checks the invariants every swept record keeps, then its exact counts and sequence.
fn assert_swept(test: &str, sequence: &str, expected: &[(&str, u64)]) -> &'static Value {
    let v = record(test);
    let findings = common::assert_swept_record(test, v, sequence);
    assert_eq!(outcome_counts(v), counts(expected), "{test}: {v:#}");
    assert!(v["binary"].as_str().unwrap().contains("outcomes"));
    for (f, symbol) in findings {
        let alloc = f["alloc"].as_u64().unwrap();
        let repro = f["repro"].as_str().unwrap();
        assert!(
            repro.contains(&format!("OOMCHECK_ALLOC={alloc} ")),
            "{repro}"
        );
        assert!(repro.ends_with(&format!("-- {test} --exact")), "{repro}");
        assert_ne!(symbol, '.', "{test}: finding at a no-memory index");
    }
    v
}

fn assert_sites(v: &Value, outcome: &str, line: u64) {
    let findings = v["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(f["outcome"], outcome, "{f:#}");
        common::assert_site(f, SOURCE, line);
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
    assert_sites(v, "abort", site_line(SOURCE, "abort"));
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
    let line = site_line(SOURCE, "panic");
    assert_sites(v, "panic", line);
    let m = v["findings"][0]["message"].as_str().unwrap();
    assert!(m.contains(&format!("src/lib.rs:{line}:")), "{m}");
    assert!(m.contains("room for the key"), "{m}");
}

#[test]
fn endless_retry_hangs() {
    let v = assert_swept("endless_retry", ".HHH", &[("no-memory", 1), ("hang", 3)]);
    assert_eq!(v["mode"], "persistent");
    assert_sites(v, "hang", site_line(SOURCE, "hang"));
}

#[test]
fn a_hang_that_stops_allocating_still_has_its_site() {
    // Transient: the failed reservation is the only failed allocation; the site comes from
    // re-running the index with stacks captured.
    let v = assert_swept("waits_forever", ".HHH", &[("no-memory", 1), ("hang", 3)]);
    assert_eq!(v["mode"], "transient");
    assert_sites(v, "hang", site_line(SOURCE, "transient hang"));
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
    assert_sites(v, "abort", site_line(SOURCE, "persistent abort"));
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
fn a_body_failing_normally_is_swept() {
    // Its normal run returns Err(Invalid("always")); the String of that error, built in the
    // closure, aborts when its allocation fails: a finding in the test body.
    let v = record("fails_without_oom");
    assert_eq!(v["status"], "swept");
    assert_eq!(v["sequence"], "A");
    assert_eq!(v["findings"][0]["in_test_body"], true);
}

#[test]
fn an_unstable_count_is_reported_with_both_numbers() {
    let v = record("unstable_count");
    assert_eq!(v["status"], "unstable-count");
    let m = v["message"].as_str().unwrap();
    assert!(m.contains(" vs "), "{m}");
    // After several counting runs, the likely causes and their fixes (issue 13).
    assert!(m.contains("after 8 counting runs"), "{m}");
    for fix in ["fixed hasher", "other threads", "warm them"] {
        assert!(m.contains(fix), "{fix}: {m}");
    }
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
    let recs = swept().records_of("two_checks_in_one_test");
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
    let v = &run.records_of("infallible_push")[0];
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
    let v = &run.records_of("infallible_push")[0];
    assert_eq!(v["status"], "disabled");
    assert_eq!(v["sequence"], "");
    assert_eq!(v["nalloc"], 4);
    // A normal Err is no failure of the plain run either; the record says what it returned.
    let failing = &run.records_of("fails_without_oom")[0];
    assert_eq!(failing["status"], "disabled");
    assert!(failing["message"]
        .as_str()
        .unwrap()
        .contains("Invalid(\"always\")"));
    assert!(
        run.output.contains("test infallible_push ... ok"),
        "{}",
        run.output
    );
    assert!(
        run.output.contains("test fails_without_oom ... ok"),
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
    // The default (auto) strategy re-runs bodies this small, without even timing a fork.
    assert_eq!(record("correct_parser")["strategy"], "rerun");
    let estimates = &record("correct_parser")["estimates"];
    assert!(
        estimates["rerun"]["wall_ms"].as_f64().is_some(),
        "{estimates}"
    );
    assert!(
        estimates["fork"].is_null() && estimates["fork_us"].is_null(),
        "{estimates}"
    );
    assert_eq!(forked.records_of("correct_parser")[0]["strategy"], "fork");
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
    let get = |t: &str| &run.records_of(t)[0];
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
    let v = &run.records_of("swallowed_failure")[0];
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
    let tokens = common::fresh_temp_dir("e2e-tokens");
    std::fs::write(tokens.join("token-0"), b"").unwrap();
    let tokens_var = tokens.display().to_string();
    // The hybrid re-runs indices 1 and 2 and forks at the later ones: its re-run children and
    // its fork server take turns on the one token.
    for strategy in ["rerun", "fork", "hybrid"] {
        let run = run_fixture(
            &format!("tokens-{strategy}"),
            &[
                ("OOMCHECK", "1"),
                ("OOMCHECK_JOBS", "2"),
                ("OOMCHECK_STRATEGY", strategy),
                ("OOMCHECK_HYBRID_SPLIT", "2"),
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
            assert_eq!(v["strategy"], strategy, "{test}");
        }
    }
    let _ = std::fs::remove_dir_all(&tokens);
}

/// Site drift (issue 13) through real sweep processes, with each strategy: an index whose
/// allocation is at another call site in the sweep's children than in the test process's
/// recording run is `drifted` (`D`) when it would pass, and a finding there says so; a body
/// whose order is stable has no drift, which also shows the site hash is the same in every
/// process (address-space layout randomisation gives each its own addresses).
/// An index the sweep's processes never reach is `not-reached` (`N`) whatever the strategy.
#[test]
fn an_allocation_at_another_site_than_in_the_counting_run_is_drift() {
    for strategy in ["rerun", "fork"] {
        let run = run_fixture(
            &format!("drift-{strategy}"),
            &[("OOMCHECK", "1"), ("OOMCHECK_STRATEGY", strategy)],
            &["--test", "drift"],
        );
        let stable = &run.records_of("order_is_stable")[0];
        assert_eq!(stable["strategy"], strategy, "{stable:#}");
        common::assert_swept_record("order_is_stable", stable, "..");
        assert_eq!(outcome_counts(stable), counts(&[("no-memory", 2)]));

        let v = &run.records_of("order_differs_between_processes")[0];
        assert_eq!(v["strategy"], strategy, "{v:#}");
        let findings = common::assert_swept_record("order_differs_between_processes", v, "PD");
        assert_eq!(
            outcome_counts(v),
            counts(&[("panic", 1), ("drifted", 1)]),
            "{strategy}: {v:#}"
        );
        // Allocation 1 is `unwrapped`'s in the children: a real finding, saying its site is
        // not the counting run's.
        let (panic, _) = findings[0];
        assert_eq!(panic["alloc"], 1);
        assert_eq!(panic["site"]["function"], "drift::unwrapped", "{panic:#}");
        let m = panic["message"].as_str().unwrap();
        assert!(m.contains("unwrapped reserve"), "{m}");
        assert!(
            m.contains("(site drift: the allocation failed was made at another call site"),
            "{m}"
        );
        let message = v["message"].as_str().unwrap();
        assert!(
            message.contains("1 index drifted (`D`)")
                && message.contains("a randomly seeded hasher (use a fixed one"),
            "{strategy}: {message}"
        );
        assert!(
            run.output.contains("order_differs_between_processes"),
            "{}",
            run.output_tail()
        );

        // An index the sweep's processes never reach is `not-reached` with each strategy, not
        // an abort of a child "that exited before reaching it".
        let fewer = &run.records_of("fewer_allocations_in_sweep_processes")[0];
        assert_eq!(fewer["strategy"], strategy, "{fewer:#}");
        common::assert_swept_record("fewer_allocations_in_sweep_processes", fewer, ".N");
        assert_eq!(
            outcome_counts(fewer),
            counts(&[("no-memory", 1), ("not-reached", 1)]),
            "{strategy}: {fewer:#}"
        );
    }
}
