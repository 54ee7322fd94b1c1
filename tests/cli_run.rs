//! End to end: the built `oomcheck` binary runs `oomcheck run` (real `cargo` child processes) on
//! the bundled demo crate, on the injector's fixture crate, and on small crates generated here
//! for the error paths. Every fixture builds into `<repo>/target/fixtures`, shared with the
//! injector's tests, so each crate is compiled once.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

mod common;
use common::{oomcheck, repo, Out};

fn demo() -> PathBuf {
    repo().join("examples/demo")
}

fn fixture() -> PathBuf {
    repo().join("tests/fixtures/oom-fixture")
}

/// The records of a `--format json` run, by test name (a test may hold several checks). Every
/// stdout line must be one JSON object.
fn all_records(out: &Out) -> BTreeMap<String, Vec<Value>> {
    let mut map: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in out.stdout.lines() {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}\n{out:?}"));
        assert!(v.is_object(), "{line}");
        let test = v["test"]
            .as_str()
            .expect("record has a test name")
            .to_string();
        map.entry(test).or_default().push(v);
    }
    map
}

/// The records of a run whose tests each hold one check.
fn records(out: &Out) -> BTreeMap<String, Value> {
    all_records(out)
        .into_iter()
        .map(|(test, mut v)| {
            assert_eq!(v.len(), 1, "one record for {test}: {out:?}");
            (test, v.remove(0))
        })
        .collect()
}

/// `{"no-memory": 3, …}` as a sorted list.
fn outcomes(v: &Value) -> Vec<(String, u64)> {
    let mut o: Vec<(String, u64)> = v["outcomes"]
        .as_object()
        .expect("outcomes object")
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().expect("a count")))
        .collect();
    o.sort();
    o
}

fn counts(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut o: Vec<(String, u64)> = pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect();
    o.sort();
    o
}

/// The 1-based line of the demo's `src/lib.rs` containing `needle` (exactly one must).
fn demo_line(needle: &str) -> u64 {
    let text = std::fs::read_to_string(demo().join("src/lib.rs")).expect("demo source");
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(hits.len(), 1, "`{needle}` must occur once in the demo");
    hits[0] as u64
}

/// The only finding of `outcome` in a record.
fn finding<'a>(v: &'a Value, outcome: &str) -> &'a Value {
    let fs: Vec<&Value> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["outcome"] == outcome)
        .collect();
    assert_eq!(fs.len(), 1, "one {outcome} finding: {v:#}");
    fs[0]
}

/// The default sweep of the whole demo, shared by the tests that only read it.
fn demo_run() -> &'static (Out, BTreeMap<String, Value>) {
    static RUN: OnceLock<(Out, BTreeMap<String, Value>)> = OnceLock::new();
    RUN.get_or_init(|| {
        let out = oomcheck(&demo(), &["run", "--format", "json"]);
        let recs = records(&out);
        (out, recs)
    })
}

/// A test name, its outcome sequence and its outcome counts.
type Expected = (&'static str, &'static str, &'static [(&'static str, u64)]);

#[test]
fn demo_sweep_reports_each_bug_as_its_outcome() {
    let (out, recs) = demo_run();
    assert_eq!(out.code, 1, "findings exit 1: {out:?}");
    let expected: &[Expected] = &[
        ("header_survives_oom", "...", &[("no-memory", 3)]),
        (
            "memory_survives_oom",
            ".W",
            &[("no-memory", 1), ("wrong-error", 1)],
        ),
        (
            "disk_survives_oom",
            "....C",
            &[("no-memory", 4), ("corrupted", 1)],
        ),
        (
            "interface_survives_oom",
            "...P",
            &[("no-memory", 3), ("panic", 1)],
        ),
        (
            "vcpu_survives_oom",
            "...A",
            &[("no-memory", 3), ("abort", 1)],
        ),
        ("description_survives_oom", ".", &[("no-memory", 1)]),
        (
            "domain_survives_oom",
            "....W...A....C....P..",
            &[
                ("no-memory", 17),
                ("wrong-error", 1),
                ("abort", 1),
                ("corrupted", 1),
                ("panic", 1),
            ],
        ),
    ];
    assert_eq!(recs.len(), expected.len(), "{out:?}");
    for (test, sequence, oc) in expected {
        let v = &recs[*test];
        assert_eq!(v["status"], "swept", "{test}: {v:#}");
        assert_eq!(v["mode"], "transient", "{test}");
        assert_eq!(v["sequence"], *sequence, "{test}: {v:#}");
        assert_eq!(v["nalloc"], sequence.len() as u64, "{test}");
        assert_eq!(outcomes(v), counts(oc), "{test}: {v:#}");
        let nfindings = oc.iter().filter(|(k, _)| *k != "no-memory").count();
        assert_eq!(v["findings"].as_array().unwrap().len(), nfindings, "{test}");
    }

    // Each finding points at the bug: the failing allocation and the line that mishandles it.
    let caller_line = |f: &Value| f["stack"][1]["line"].as_u64();
    let wrong = finding(&recs["memory_survives_oom"], "wrong-error");
    assert_eq!(wrong["site"]["function"], "oomcheck_demo::try_string");
    assert_eq!(
        caller_line(wrong),
        Some(demo_line("let unit = try_string(attrs.get(\"unit\")"))
    );
    assert!(wrong["message"]
        .as_str()
        .unwrap()
        .contains("invalid memory unit"));
    let corrupted = finding(&recs["disk_survives_oom"], "corrupted");
    assert_eq!(
        caller_line(corrupted),
        Some(demo_line("let copy = try_string(raw).ok()?;"))
    );
    assert!(corrupted["diff"].as_str().unwrap().contains("cache: None"));
    let panic = finding(&recs["interface_survives_oom"], "panic");
    assert_eq!(
        caller_line(panic),
        Some(demo_line(".unwrap_or(\"virtio\")).unwrap();"))
    );
    let abort = finding(&recs["vcpu_survives_oom"], "abort");
    assert_eq!(abort["alloc"], 4);
    assert_eq!(abort["site"]["function"], "oomcheck_demo::parse_vcpu");
    assert_eq!(
        abort["site"]["line"].as_u64(),
        Some(demo_line("ignored.push(format!("))
    );
    assert!(abort["site"]["file"]
        .as_str()
        .unwrap()
        .ends_with("examples/demo/src/lib.rs"));
    assert_eq!(
        abort["repro"],
        "OOMCHECK=1 OOMCHECK_ALLOC=4 RUST_BACKTRACE=0 cargo test -- vcpu_survives_oom --exact"
    );
}

#[test]
fn alloc_range_restricts_the_swept_indices() {
    let out = oomcheck(
        &demo(),
        &[
            "run",
            "--format",
            "json",
            "--alloc",
            "4-9",
            "--",
            "domain_survives_oom",
            "--exact",
        ],
    );
    let recs = records(&out);
    assert_eq!(recs.len(), 1, "{out:?}");
    let v = &recs["domain_survives_oom"];
    assert_eq!(v["range"], serde_json::json!([4, 9]));
    assert_eq!(
        v["sequence"], ".W...A",
        "indices 4 to 9 of the full sweep: {v:#}"
    );
    assert_eq!(
        outcomes(v),
        counts(&[("no-memory", 4), ("wrong-error", 1), ("abort", 1)])
    );
    assert_eq!(out.code, 1, "{out:?}");

    // A range without findings is clean.
    let out = oomcheck(
        &demo(),
        &[
            "run",
            "--format",
            "json",
            "--alloc",
            "1",
            "--",
            "domain_survives_oom",
        ],
    );
    let v = &records(&out)["domain_survives_oom"];
    assert_eq!(v["sequence"], ".");
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn persistent_mode_finds_the_persistent_only_bug() {
    // Clean in the default transient sweep …
    let (_, recs) = demo_run();
    assert_eq!(recs["description_survives_oom"]["sequence"], ".");
    // … an abort when memory stays exhausted.
    let out = oomcheck(
        &demo(),
        &[
            "run",
            "--format",
            "json",
            "--mode",
            "persistent",
            "--",
            "description_survives_oom",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let v = &records(&out)["description_survives_oom"];
    assert_eq!(v["mode"], "persistent");
    assert_eq!(outcomes(v), counts(&[("abort", 1)]));
    let abort = finding(v, "abort");
    assert_eq!(
        abort["site"]["line"].as_u64(),
        Some(demo_line("Error::OutOfMemory(format!("))
    );
}

#[test]
fn fixture_crate_outcomes_and_unswept_checks() {
    let out = oomcheck(&fixture(), &["run", "--format", "json", "--jobs", "2"]);
    let all = all_records(&out);
    let mut sequences: Vec<&str> = all["two_checks_in_one_test"]
        .iter()
        .map(|v| v["sequence"].as_str().unwrap())
        .collect();
    sequences.sort();
    assert_eq!(
        sequences,
        ["....", ".A"],
        "two checks in one test, two records"
    );
    let recs: BTreeMap<String, Value> =
        all.into_iter().map(|(t, mut v)| (t, v.remove(0))).collect();
    // A test binary without the failing allocator is a configuration error.
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("without the failing global allocator"),
        "{out:?}"
    );
    assert!(out.stderr.contains("#[global_allocator]"), "{out:?}");
    assert_eq!(recs["missing_allocator"]["status"], "no-allocator");
    assert_eq!(
        outcomes(&recs["correct_parser"]),
        counts(&[("no-memory", 4)])
    );
    assert_eq!(
        outcomes(&recs["infallible_push"]),
        counts(&[("no-memory", 3), ("abort", 1)])
    );
    assert_eq!(
        outcomes(&recs["swallowed_failure"]),
        counts(&[("no-memory", 1), ("corrupted", 3)])
    );
    assert_eq!(
        outcomes(&recs["forgotten_records"]),
        counts(&[("no-memory", 1), ("leak", 3)])
    );
    // A body whose normal run returns Err is swept (issue 13): its own `"always".into()`
    // aborts, in the test body.
    assert_eq!(recs["fails_without_oom"]["status"], "swept");
    assert_eq!(recs["fails_without_oom"]["sequence"], "A");
    assert_eq!(
        recs["fails_without_oom"]["findings"][0]["in_test_body"],
        true
    );

    // The fixture's transient-clean check, swept persistently from the command line.
    let out = oomcheck(
        &fixture(),
        &[
            "run",
            "--format",
            "json",
            "--mode",
            "persistent",
            "--",
            "context_transient",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let v = &records(&out)["context_transient"];
    assert_eq!(v["sequence"], ".AAA", "{v:#}");
}

#[test]
fn human_output_has_progress_lines_and_diagnostics() {
    // Narrated on request (issue 13: drawn like rustc by default, `tests/cli_run_sites.rs`).
    let out = common::oomcheck_command(
        &demo(),
        &[
            "run",
            "--color",
            "never",
            "--",
            "disk_survives_oom",
            "vcpu_survives_oom",
        ],
    )
    .env("OOMCHECK_NARRATE", "1")
    .output()
    .expect("run oomcheck");
    let out = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.is_empty(),
        "human output goes to stderr: {out:?}"
    );
    let line = |test: &str| {
        out.stderr
            .lines()
            .find(|l| l.starts_with(test))
            .unwrap_or_else(|| panic!("no progress line for {test}: {out:?}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        line("disk_survives_oom"),
        ["disk_survives_oom", "nalloc=5", "....C", "FAILED", "(1/5)"]
    );
    assert_eq!(
        line("vcpu_survives_oom"),
        ["vcpu_survives_oom", "nalloc=4", "...A", "FAILED", "(1/4)"]
    );
    let e = &out.stderr;
    // The abort, at the `format!` in parse_vcpu.
    assert!(
        e.contains("allocation failure aborts the process"),
        "{out:?}"
    );
    assert!(e.contains("diagnostic code: abort"), "{out:?}");
    assert!(
        e.contains(&format!(
            "label at line {}, columns 17 to 80: allocation #4 fails here",
            demo_line("ignored.push(format!(")
        )),
        "{out:?}"
    );
    // The corruption: the wrapper's line, its caller's line, the diff and the repro.
    assert!(e.contains("diagnostic code: corrupted"), "{out:?}");
    assert!(
        e.contains(&format!(
            "label at line {}, columns 5 to 36: allocation #5 fails here",
            demo_line("out.try_reserve_exact(s.len())?;")
        )),
        "{out:?}"
    );
    assert!(
        e.contains(&format!(
            "label at line {}, columns 5 to 37: called from here (#5)",
            demo_line("let copy = try_string(raw).ok()?;")
        )),
        "{out:?}"
    );
    assert!(e.contains("+    cache: None,"), "{out:?}");
    assert!(
        e.contains("help: reproduce with: OOMCHECK=1 OOMCHECK_ALLOC=5 RUST_BACKTRACE=0 cargo test -- disk_survives_oom --exact"),
        "{out:?}"
    );
    assert!(
        e.contains("Begin snippet for src/lib.rs"),
        "paths relative to the crate: {out:?}"
    );
    assert!(
        e.contains("2 checks: 0 clean, 2 failing (2 findings at 2 sites)"),
        "{out:?}"
    );
}

#[test]
fn debug_and_trace_show_iterations_and_stacks() {
    let out = oomcheck(
        &demo(),
        &[
            "run",
            "--color",
            "never",
            "--debug",
            "--trace",
            "--",
            "memory_survives_oom",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let words: Vec<Vec<&str>> = out
        .stderr
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(
        words.iter().any(|w| w.starts_with(&["#1", "no-memory"])),
        "{out:?}"
    );
    assert!(
        words.iter().any(|w| w.starts_with(&["#2", "wrong-error"])),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("stack of the failed allocation:"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains(&format!(
            "oomcheck_demo::parse_memory at {}:{}",
            demo().join("src/lib.rs").display(),
            demo_line("let unit = try_string(attrs.get(\"unit\")")
        )),
        "{out:?}"
    );
}

#[test]
fn clean_checks_exit_zero() {
    let out = oomcheck(&demo(), &["run", "--", "header_survives_oom"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["header_survives_oom", "nalloc=3", "...", "OK"]),
        "{out:?}"
    );
}

#[test]
fn unknown_filter_says_no_test_matched() {
    let out = oomcheck(&demo(), &["run", "--", "no_such_test"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("no test matched no_such_test"),
        "{out:?}"
    );
}

#[test]
fn invalid_alloc_is_rejected_before_building() {
    // The manifest does not exist: the range must be rejected before cargo is asked anything.
    for (range, reason) in [
        ("10-7", "start is after its end"),
        ("0", "allocation indices start at 1"),
        (
            "seven",
            "expected an allocation index like `17` or a range like `7-10`",
        ),
    ] {
        let out = oomcheck(
            &repo(),
            &[
                "run",
                "--manifest-path",
                "/nonexistent/Cargo.toml",
                "--alloc",
                range,
            ],
        );
        assert_eq!(out.code, 2, "{out:?}");
        assert!(out.stderr.contains(reason), "{range}: {out:?}");
        assert!(!out.stderr.contains("nonexistent"), "{out:?}");
    }
}

#[test]
fn refining_flags_without_what_they_refine_are_usage_errors() {
    // As for `--alloc`, the flags are rejected before cargo is asked anything.
    for (flags, reason) in [
        (
            &["--dedup-depth", "6"][..],
            "the following required arguments were not provided:\n  --dedup <KIND>",
        ),
        (
            &["--dedup", "none", "--dedup-depth", "6"],
            "error: `--dedup-depth` applies to `--dedup site` only",
        ),
        (
            &["--seed", "5"],
            "the following required arguments were not provided:\n  --sample <N>",
        ),
    ] {
        let mut args = vec!["run", "--manifest-path", "/nonexistent/Cargo.toml"];
        args.extend_from_slice(flags);
        let out = oomcheck(&repo(), &args);
        assert_eq!(out.code, 2, "{flags:?}: {out:?}");
        assert!(out.stderr.contains(reason), "{flags:?}: {out:?}");
        assert!(
            out.stderr.contains("Usage: oomcheck run"),
            "{flags:?}: {out:?}"
        );
        assert!(!out.stderr.contains("nonexistent"), "{out:?}");
    }
}

/// Write a throwaway crate under `target/run-fixtures/NAME` (its own workspace), with the
/// injector as a dev-dependency when `injector`.
fn scratch_crate(name: &str, lib: &str, test: Option<&str>) -> PathBuf {
    let dir = repo().join("target/run-fixtures").join(name);
    std::fs::create_dir_all(dir.join("src")).expect("scratch crate dir");
    let injector = if test.is_some_and(|t| t.contains("oomcheck_injector")) {
        format!(
            "[dev-dependencies]\noomcheck-injector = {{ path = {:?} }}\n\n",
            repo().join("injector").display().to_string()
        )
    } else {
        String::new()
    };
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             publish = false\n\n{injector}[workspace]\n"
        ),
    )
    .expect("write Cargo.toml");
    std::fs::write(dir.join("src/lib.rs"), lib).expect("write lib.rs");
    if let Some(t) = test {
        std::fs::create_dir_all(dir.join("tests")).expect("tests dir");
        std::fs::write(dir.join("tests/plain.rs"), t).expect("write test");
    }
    dir
}

#[test]
fn a_crate_that_does_not_build_shows_cargos_errors() {
    let dir = scratch_crate(
        "oomcheck-run-broken",
        "pub fn f() -> u32 {\n    \"not a number\"\n}\n",
        None,
    );
    let out = oomcheck(&dir, &["run"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("error[E0308]: mismatched types"),
        "{out:?}"
    );
    assert!(out.stderr.contains("the tests do not build"), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
}

#[test]
fn a_crate_without_checks_says_how_to_add_one() {
    let dir = scratch_crate(
        "oomcheck-run-no-checks",
        "pub fn double(x: u32) -> u32 {\n    x * 2\n}\n",
        Some("#[test]\nfn doubles() {\n    assert_eq!(oomcheck_run_no_checks::double(2), 4);\n}\n"),
    );
    let out = oomcheck(&dir, &["run"]);
    assert_eq!(out.code, 2, "{out:?}");
    let e = &out.stderr;
    assert!(e.contains("no OOM checks found"), "{out:?}");
    assert!(
        e.contains("[dev-dependencies]\n  oomcheck-injector = "),
        "{out:?}"
    );
    assert!(
        e.contains("static ALLOC: oomcheck_injector::FailingAllocator = oomcheck_injector::FailingAllocator::system();"),
        "{out:?}"
    );
    assert!(e.contains("oomcheck_injector::check(|| "), "{out:?}");
}

#[test]
fn a_failing_plain_test_is_reported_beside_the_checks() {
    let dir = scratch_crate(
        "oomcheck-run-mixed",
        "pub fn copy(s: &str) -> Result<String, std::collections::TryReserveError> {\n    \
         let mut out = String::new();\n    out.try_reserve_exact(s.len())?;\n    \
         out.push_str(s);\n    Ok(out)\n}\n",
        Some(
            "#[global_allocator]\nstatic ALLOC: oomcheck_injector::FailingAllocator = \
             oomcheck_injector::FailingAllocator::system();\n\n\
             #[test]\nfn copy_survives_oom() {\n    \
             oomcheck_injector::check(|| oomcheck_run_mixed::copy(\"abc\"));\n}\n\n\
             #[test]\nfn plain_failure() {\n    assert_eq!(1 + 1, 3, \"arithmetic is off\");\n}\n",
        ),
    );
    let out = oomcheck(&dir, &["run", "--color", "never"]);
    assert_eq!(out.code, 1, "{out:?}");
    let e = &out.stderr;
    assert!(
        e.lines().any(|l| l.split_whitespace().collect::<Vec<_>>()
            == ["copy_survives_oom", "nalloc=1", ".", "OK"]),
        "{out:?}"
    );
    assert!(
        e.contains("test plain_failure failed outside its OOM checks:"),
        "{out:?}"
    );
    assert!(e.contains("arithmetic is off"), "{out:?}");
    assert!(
        e.contains("1 check: 1 clean, 0 failing (0 findings at 0 sites)"),
        "{out:?}"
    );
    assert!(e.contains("; 1 test failed outside any check"), "{out:?}");
}

#[test]
fn lint_flags_the_demo_bugs_the_sweep_finds() {
    let out = oomcheck(&demo(), &["lint", "--format", "short", "src"]);
    assert_eq!(out.code, 1, "{out:?}");
    let found: Vec<(u64, &str)> = out
        .stdout
        .lines()
        .map(|l| {
            let mut parts = l.split(':');
            assert_eq!(parts.next(), Some("src/lib.rs"), "{l}");
            let line = parts.next().and_then(|n| n.parse().ok()).expect("line");
            let rule = parts.nth(1).expect("rule").trim();
            (line, rule)
        })
        .collect();
    // The three fallible-allocation bugs, at the callers the sweep's diagnostics point to. The
    // two aborts are infallible allocations: only the sweep (or the opt-in rule) sees them.
    assert_eq!(
        found,
        [
            (
                demo_line("let unit = try_string(attrs.get(\"unit\")"),
                "remapped-alloc-error"
            ),
            (
                demo_line("let copy = try_string(raw).ok()?;"),
                "swallowed-alloc-failure"
            ),
            (
                demo_line(".unwrap_or(\"virtio\")).unwrap();"),
                "panic-on-alloc-failure"
            ),
        ],
        "{out:?}"
    );
}

#[test]
fn dedup_sample_and_strategy_flags_reach_the_injector() {
    let out = oomcheck(
        &fixture(),
        &[
            "run",
            "--dedup",
            "site",
            "--strategy",
            "fork",
            "--",
            "remapped_error",
            "--exact",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("sites=2 (+2 covered)  fork  .W  FAILED (1/2)"),
        "{out:?}"
    );
    let out = oomcheck(
        &fixture(),
        &[
            "run",
            "--format",
            "json",
            "--sample",
            "2",
            "--seed",
            "5",
            "--strategy",
            "rerun",
            "--",
            "correct_parser",
            "--exact",
        ],
    );
    let v = &records(&out)["correct_parser"];
    assert_eq!(v["sample"]["seed"], 5, "{out:?}");
    assert_eq!(v["sample"]["indices"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["sequence"], "..");
    assert_eq!(v["strategy"], "rerun");
    assert_eq!(out.code, 0, "{out:?}");
}
