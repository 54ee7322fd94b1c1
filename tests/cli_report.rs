//! End to end: `oomcheck run` keeps its records, `oomcheck report` joins them with the
//! analyzer's allocation sites, on the bundled demo crate. Each run keeps its records in its own
//! directory (`OOMCHECK_REPORT`), so these tests do not race with other runs of the demo.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

mod common;
use common::{oomcheck_command, repo, Out};

fn demo() -> PathBuf {
    repo().join("examples/demo")
}

fn run_in(dir: &Path, args: &[&str], report_dir: Option<&Path>) -> Out {
    let mut cmd = oomcheck_command(dir, args);
    if let Some(r) = report_dir {
        cmd.env("OOMCHECK_REPORT", r);
    }
    let out = cmd.output().expect("run the oomcheck binary");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A directory that lives as long as the test process (runs are shared between tests).
fn scratch(name: &str) -> PathBuf {
    static ROOT: OnceLock<tempfile::TempDir> = OnceLock::new();
    let root = ROOT.get_or_init(|| tempfile::tempdir().expect("a scratch directory"));
    root.path().join(name)
}

/// The records of `oomcheck run ARGS` on the demo, kept in a directory of their own.
fn demo_records(name: &str, args: &[&str]) -> (PathBuf, Out) {
    let dir = scratch(name);
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    let out = run_in(&demo(), &all, Some(&dir));
    assert!(dir.join("run.stamp").is_file(), "records kept: {out:?}");
    (dir, out)
}

fn header_run() -> &'static (PathBuf, Out) {
    static RUN: OnceLock<(PathBuf, Out)> = OnceLock::new();
    RUN.get_or_init(|| demo_records("header", &["--", "header_survives_oom"]))
}

fn full_run() -> &'static (PathBuf, Out) {
    static RUN: OnceLock<(PathBuf, Out)> = OnceLock::new();
    RUN.get_or_init(|| demo_records("full", &[]))
}

fn report(args: &[&str]) -> Out {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    run_in(&demo(), &all, None)
}

/// `DA:` lines of an lcov tracefile per `SF:` file.
fn lcov(text: &str) -> BTreeMap<String, BTreeMap<u64, u64>> {
    let mut files: BTreeMap<String, BTreeMap<u64, u64>> = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        if let Some(file) = line.strip_prefix("SF:") {
            current = Some(file.to_string());
        } else if let Some(da) = line.strip_prefix("DA:") {
            let (l, c) = da.split_once(',').expect("DA:<line>,<count>");
            let file = current.clone().expect("DA inside a record");
            files
                .entry(file)
                .or_default()
                .insert(l.parse().unwrap(), c.parse().unwrap());
        } else if line == "end_of_record" {
            current = None;
        }
    }
    files
}

/// Lines of the demo's non-test code calling a fallible allocation: `try_reserve*` and its
/// `try_string` wrapper (read from the source, not from the analyzer).
fn demo_alloc_lines() -> BTreeSet<u64> {
    let text = std::fs::read_to_string(demo().join("src/lib.rs")).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap();
    code.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//") && !l.contains("fn try_string"))
        .filter(|(_, l)| l.contains(".try_reserve") || l.contains("try_string("))
        .map(|(i, _)| i as u64 + 1)
        .collect()
}

/// The 1-based lines of `function`'s body in the demo's `src/lib.rs`.
fn lines_of_fn(function: &str) -> std::ops::RangeInclusive<u64> {
    let text = std::fs::read_to_string(demo().join("src/lib.rs")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.contains(&format!("fn {function}(")))
        .expect("the function");
    let end = start + lines[start..].iter().position(|l| *l == "}").unwrap();
    (start as u64 + 1)..=(end as u64 + 1)
}

#[test]
fn one_test_counts_its_own_path_and_lists_every_other_site_at_zero() {
    let (dir, run) = header_run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("fallible allocation sites failed by a sweep"),
        "the run ends with the coverage summary: {run:?}"
    );
    let out = report(&["--format", "lcov", dir.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    let files = lcov(&out.stdout);
    let lib = &files["src/lib.rs"];
    let listed: BTreeSet<u64> = lib.keys().copied().collect();
    // Every `try_reserve*` and `try_string` call is a site; the other sites are calls of the
    // demo's discovered wrappers (`Attrs::parse` and the parsers, returning its NoMemory error).
    assert!(
        demo_alloc_lines().is_subset(&listed),
        "every site of src/lib.rs: {out:?}"
    );
    let text = std::fs::read_to_string(demo().join("src/lib.rs")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for l in &listed {
        let code = lines[*l as usize - 1];
        assert!(
            code.contains("try_") || code.contains("parse"),
            "{l}: {code}"
        );
    }
    let header = lines_of_fn("parse_header");
    let header_sites: Vec<(&u64, &u64)> = lib.iter().filter(|(l, _)| header.contains(l)).collect();
    assert!(header_sites.len() >= 2, "{lib:?}");
    assert!(
        header_sites.iter().all(|(_, c)| **c > 0),
        "the header's path is counted: {lib:?}"
    );
    let domain = lines_of_fn("parse_domain");
    let domain_sites: Vec<(&u64, &u64)> = lib.iter().filter(|(l, _)| domain.contains(l)).collect();
    assert!(!domain_sites.is_empty());
    assert!(
        domain_sites.iter().all(|(_, c)| **c == 0),
        "{domain_sites:?}"
    );
    // The summary says the same.
    let summary = report(&[dir.to_str().unwrap()]);
    let hit = lib.values().filter(|c| **c > 0).count();
    assert!(
        summary.stdout.contains(&format!(
            "OOM paths: {hit} of {} fallible allocation sites failed by a sweep",
            lib.len()
        )),
        "{summary:?}"
    );
    let domain_line = domain_sites[0].0;
    assert!(
        summary
            .stdout
            .contains(&format!("src/lib.rs:{domain_line}  parse_domain")),
        "never-failed sites are listed: {summary:?}"
    );
}

#[test]
fn full_run_counts_match_the_records() {
    let (dir, run) = full_run();
    assert_eq!(run.code, 1, "the demo has findings: {run:?}");
    let out = report(&["--format", "lcov", dir.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    let lib = &lcov(&out.stdout)["src/lib.rs"];
    // Counted here from the records themselves: indices whose stack passed through a line.
    let mut expected: BTreeMap<u64, u64> = lib.keys().map(|l| (*l, 0)).collect();
    let mut swept = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let record: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(record["version"], 2);
        swept += record["outcomes"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum::<u64>();
        for covered in record["coverage"].as_array().unwrap() {
            let n = covered["indices"].as_array().unwrap().len() as u64;
            let lines: BTreeSet<u64> = covered["stack"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| {
                    f["file"]
                        .as_str()
                        .is_some_and(|p| p.ends_with("examples/demo/src/lib.rs"))
                })
                .filter_map(|f| f["line"].as_u64())
                .collect();
            for l in lines {
                if let Some(count) = expected.get_mut(&l) {
                    *count += n;
                }
            }
        }
    }
    assert_eq!(lib, &expected);
    assert!(
        expected.values().filter(|c| **c > 0).count() > 10,
        "{expected:?}"
    );
    let json = report(&["--format", "json", dir.to_str().unwrap()]);
    let v: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(v["version"], 1);
    assert_eq!(v["totals"]["swept"], swept);
    assert_eq!(v["totals"]["sites"], lib.len());
}

#[test]
fn a_wrong_error_is_explained_by_the_remapped_error_lint() {
    let (dir, run) = full_run();
    let json = report(&["--format", "json", dir.to_str().unwrap()]);
    let v: Value = serde_json::from_str(&json.stdout).expect("JSON");
    let lint = v["lint"].as_array().unwrap();
    let remapped = lint
        .iter()
        .position(|l| l["rule"] == "remapped-alloc-error")
        .expect("the demo's remapped error is linted");
    assert!(
        !lint[remapped]["confirmed_by"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{:#}",
        lint[remapped]
    );
    let wrong = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["outcome"] == "wrong-error")
        .expect("the demo's wrong error");
    assert!(wrong["explained_by"]
        .as_array()
        .unwrap()
        .contains(&Value::from(remapped)));
    let summary = report(&[dir.to_str().unwrap()]);
    let line = lint[remapped]["line"].as_u64().unwrap();
    assert!(
        summary.stdout.contains(&format!(
            "explained by lint: remapped-alloc-error at src/lib.rs:{line}"
        )),
        "{summary:?}"
    );
    assert!(
        summary
            .stdout
            .contains("remapped-alloc-error: 1 of 1 lint findings confirmed by a sweep"),
        "{summary:?}"
    );
    // `oomcheck run`'s own diagnostic of the wrong error says so too, before its summary.
    let explained = format!("explained by lint: remapped-alloc-error at src/lib.rs:{line}");
    let at = run
        .stderr
        .find(&explained)
        .expect("in the run's diagnostics");
    let summary_at = run
        .stderr
        .find("OOM paths:")
        .expect("the run ends with the coverage");
    assert!(at < summary_at, "{}", run.stderr);
    let diagnostic = &run.stderr[..at];
    assert!(
        diagnostic.rfind("wrong-error") > diagnostic.rfind("abort"),
        "the explanation belongs to the wrong-error diagnostic: {}",
        run.stderr
    );
}

/// Copies a record directory (its files) to a new one.
fn copy_dir(from: &Path, name: &str) -> PathBuf {
    let to = scratch(name);
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    to
}

/// `oomcheck report --format lcov --output FILE DIR` fails with status 2, says `needle`, and
/// writes nothing.
fn refused(dir: &Path, needle: &str) {
    let output = scratch(&format!(
        "{}.lcov",
        dir.file_name().unwrap().to_string_lossy()
    ));
    let out = report(&[
        "--format",
        "lcov",
        "--output",
        output.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains(needle), "`{needle}` in {out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(!output.exists(), "nothing written");
}

#[test]
fn bad_record_directories_are_refused_with_nothing_written() {
    let (dir, _) = header_run();
    refused(&scratch("missing"), "no records at");
    let empty = scratch("empty");
    std::fs::create_dir_all(&empty).unwrap();
    refused(&empty, "holds no record");

    let corrupt = copy_dir(dir, "corrupt");
    let record = std::fs::read_dir(&corrupt)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    std::fs::write(&record, "{\"test\": 3").unwrap();
    refused(&corrupt, "corrupt record");

    let edit_stamp = |name: &str, field: &str, value: Value| {
        let copy = copy_dir(dir, name);
        let path = copy.join("run.stamp");
        let mut stamp: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        stamp[field] = value;
        std::fs::write(&path, stamp.to_string()).unwrap();
        copy
    };
    refused(
        &edit_stamp("other-crate", "packages", serde_json::json!(["other"])),
        "of another crate (other)",
    );
    refused(
        &edit_stamp(
            "other-commit",
            "source_hash",
            Value::from("0123456789abcdef"),
        ),
        "were made from other source",
    );
    let same = copy_dir(dir, "same");
    refused_pair(dir, &same, "was swept in both");
}

/// Two directories with the same tests are refused.
fn refused_pair(a: &Path, b: &Path, needle: &str) {
    let out = report(&[a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains(needle), "{out:?}");
}

#[test]
fn sarif_of_the_sweeps_validates_and_points_at_the_failing_sites() {
    let (dir, _) = full_run();
    let out = report(&["--format", "sarif", dir.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    let sarif: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    if let Err(e) = common::validate_sarif(&sarif) {
        panic!("SARIF output violates the 2.1.0 schema:\n{e}\n{sarif:#}");
    }
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let wrong = results
        .iter()
        .find(|r| r["ruleId"] == "wrong-error")
        .expect("the wrong error");
    let location = &wrong["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "src/lib.rs");
    assert!(wrong["message"]["text"]
        .as_str()
        .unwrap()
        .contains("explained by lint: remapped-alloc-error"));
    // As many results as the records have findings.
    let json: Value =
        serde_json::from_str(&report(&["--format", "json", dir.to_str().unwrap()]).stdout).unwrap();
    assert_eq!(results.len(), json["findings"].as_array().unwrap().len());
}

#[test]
fn junit_has_one_testcase_per_swept_test_and_failures_for_findings() {
    let (dir, _) = full_run();
    let out = report(&["--format", "junit", dir.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    let mut reader = quick_xml::Reader::from_str(&out.stdout);
    let (mut cases, mut failures, mut failing_cases) = (Vec::new(), 0, BTreeSet::new());
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => {
                        let name = e
                            .try_get_attribute("name")
                            .unwrap()
                            .expect("a name")
                            .unescape_value()
                            .unwrap()
                            .into_owned();
                        cases.push(name);
                    }
                    b"failure" => {
                        failures += 1;
                        failing_cases.insert(cases.last().cloned().expect("inside a testcase"));
                    }
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    let records = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .count();
    assert_eq!(cases.len(), records, "{}", out.stdout);
    assert!(
        failing_cases.contains("disk_survives_oom"),
        "{failing_cases:?}"
    );
    assert!(!failing_cases.contains("header_survives_oom"));
    let json: Value =
        serde_json::from_str(&report(&["--format", "json", dir.to_str().unwrap()]).stdout).unwrap();
    let failing_findings = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["allowed"].is_null())
        .count();
    assert_eq!(failures, failing_findings);
}

#[test]
fn two_shards_merged_give_the_unsharded_report_byte_for_byte() {
    let (full, _) = full_run();
    let (one, out1) = demo_records("shard-1", &["--partition", "count:1/2"]);
    let (two, out2) = demo_records("shard-2", &["--partition", "count:2/2"]);
    let (t1, t2) = (swept_tests(&one), swept_tests(&two));
    assert!(!t1.is_empty() && !t2.is_empty(), "{out1:?}\n{out2:?}");
    assert!(t1.is_disjoint(&t2), "{t1:?} {t2:?}");
    assert_eq!(&t1 | &t2, swept_tests(full));
    assert_merged_equals(&[&one, &two], full);
    assert_eq!(stamp(&one)["partition"], "count:1/2");
}

/// The tests whose records a record directory holds.
fn swept_tests(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| {
            e.file_name()
                .to_string_lossy()
                .rsplit_once('-')
                .unwrap()
                .0
                .to_string()
        })
        .collect()
}

/// A record directory's stamp.
fn stamp(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("run.stamp")).unwrap()).unwrap()
}

/// The report of the `shards` merged is the report of `unsharded`, byte for byte, in lcov and
/// JSON.
fn assert_merged_equals(shards: &[&Path], unsharded: &Path) {
    for format in ["lcov", "json"] {
        let mut args = vec!["--format", format];
        args.extend(shards.iter().map(|d| d.to_str().unwrap()));
        let merged = report(&args);
        let alone = report(&["--format", format, unsharded.to_str().unwrap()]);
        assert_eq!(merged.code, 0, "{merged:?}");
        assert_eq!(alone.code, 0, "{alone:?}");
        assert_eq!(merged.stdout, alone.stdout, "{format}");
    }
}

#[test]
fn a_shard_without_tests_exits_0_and_merges_with_the_others() {
    // The filter selects one test: shard 1 of 2 sweeps it, shard 2 gets nothing.
    let (filtered, _) = header_run();
    let (one, out1) = demo_records(
        "header-shard-1",
        &["--partition", "count:1/2", "--", "header_survives_oom"],
    );
    let (two, out2) = demo_records(
        "header-shard-2",
        &["--partition", "count:2/2", "--", "header_survives_oom"],
    );
    assert_eq!(out1.code, 0, "{out1:?}");
    assert_eq!(
        swept_tests(&one),
        BTreeSet::from(["header_survives_oom".to_string()])
    );
    assert_eq!(out2.code, 0, "{out2:?}");
    assert!(
        out2.stderr.contains(
            "shard count:2/2 has no tests (1 test selected, all in other shards): nothing was swept"
        ),
        "{out2:?}"
    );
    assert!(swept_tests(&two).is_empty(), "{out2:?}");
    assert_eq!(stamp(&two)["partition"], "count:2/2");
    assert_merged_equals(&[&one, &two], filtered);
    // Alone, the empty shard has nothing to report on.
    refused(&two, "the shards given swept nothing");
}

#[test]
fn a_filtered_partition_splits_the_filtered_tests_and_merges_to_the_filtered_run() {
    let filter = ["header_survives_oom", "memory", "vcpu_survives_oom"];
    let (filtered, _) = demo_records("three", &[&["--"][..], &filter].concat());
    let (one, out1) = demo_records(
        "three-shard-1",
        &[&["--partition", "count:1/2", "--"][..], &filter].concat(),
    );
    let (two, out2) = demo_records(
        "three-shard-2",
        &[&["--partition", "count:2/2", "--"][..], &filter].concat(),
    );
    let names =
        |tests: &[&str]| -> BTreeSet<String> { tests.iter().map(|t| t.to_string()).collect() };
    assert_eq!(
        swept_tests(&filtered),
        names(&[
            "header_survives_oom",
            "memory_survives_oom",
            "vcpu_survives_oom"
        ])
    );
    // The filtered tests in libtest's (name) order, round-robin.
    assert_eq!(
        swept_tests(&one),
        names(&["header_survives_oom", "vcpu_survives_oom"]),
        "{out1:?}"
    );
    assert_eq!(
        swept_tests(&two),
        names(&["memory_survives_oom"]),
        "{out2:?}"
    );
    assert_merged_equals(&[&one, &two], &filtered);
}

#[test]
fn a_shard_whose_tests_hold_no_check_exits_0_with_a_stamped_record_directory() {
    // The demo's unit tests call no check.
    let (dir, out) = demo_records(
        "unit-shard",
        &[
            "--partition",
            "count:1/2",
            "--",
            "parses_a_full_description",
            "rejects_bad_input",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains(
            "shard count:1/2 has no OOM checks (1 test ran, none called \
             oomcheck_injector::check): nothing was swept"
        ),
        "{out:?}"
    );
    assert!(swept_tests(&dir).is_empty());
}

#[test]
fn a_partition_of_a_filter_that_matches_nothing_is_refused() {
    let out = run_in(
        &demo(),
        &["run", "--partition", "count:1/2", "--", "no_such_test"],
        Some(&scratch("no-match")),
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("no test matched no_such_test"),
        "{out:?}"
    );
}

#[test]
fn a_partition_must_name_one_of_n_shards() {
    let out = run_in(&demo(), &["run", "--partition", "count:3/2"], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("count:K/N, hash:K/N or slice:K/N"),
        "{out:?}"
    );
}
