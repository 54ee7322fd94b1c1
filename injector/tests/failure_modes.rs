//! End to end: sweeps the fixture's `tests/failure_modes.rs` (bodies that die by SIGSEGV, SIGKILL,
//! stack overflow or `process::exit` on an error path, spawn a thread, or flood stdout and
//! stderr) through real `cargo test` child processes, and asserts that every index is accounted
//! for with its exact outcome. Also: two test processes writing records into one report
//! directory at the same time.

mod common;

use common::{assert_site, cargo_on_fixture, fixture_dir, read_records, site_line, Run};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The fixture file these tests sweep, relative to the fixture crate.
const SOURCE: &str = "tests/failure_modes.rs";

/// Processes whose environment holds `KEY=value`.
fn processes_with_env(key: &str, value: &str) -> Vec<u32> {
    let needle = format!("{key}={value}");
    let mut pids = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        if env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
            pids.push(pid);
        }
    }
    pids
}

/// One `cargo test --test failure_modes` sweep of the fixture, shared by the tests below.
fn swept() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let tag = format!("{}", std::process::id());
        common::run_fixture_then(
            "failure-modes",
            &[
                ("OOMCHECK", "1"),
                ("OOMCHECK_JOBS", "2"),
                ("OOMCHECK_E2E_FAILURE_MODES", &tag),
            ],
            &["--test", "failure_modes"],
            || {
                // Every sweep child has been reaped or killed: none outlives the run.
                assert_eq!(
                    processes_with_env("OOMCHECK_E2E_FAILURE_MODES", &tag),
                    Vec::<u32>::new(),
                    "processes of the sweep outlived it"
                );
            },
        )
    })
}

fn record(test: &str) -> &'static Value {
    let recs = swept().records_of(test);
    assert_eq!(recs.len(), 1, "{test}: one record");
    &recs[0]
}

/// Checks that the sweep of `test` covered its whole range with exactly `sequence` (one outcome
/// per index), that the counts add up, and that every finding is at an index of the sequence
/// with a matching outcome. Returns the findings.
fn assert_swept(test: &str, sequence: &str) -> &'static [Value] {
    let v = record(test);
    let findings = common::assert_swept_record(test, v, sequence);
    assert_eq!(
        v["range"],
        serde_json::json!([1, v["nalloc"].as_u64().expect("nalloc")]),
        "{test}"
    );
    let counts = common::outcome_counts(v);
    for (name, symbol) in [("no-memory", '.'), ("tolerated", 't'), ("abort", 'A')] {
        let n = sequence.chars().filter(|c| *c == symbol).count() as u64;
        assert_eq!(counts.get(name).copied().unwrap_or(0), n, "{test}: {name}");
    }
    for (f, symbol) in &findings {
        assert_eq!(*symbol, 'A', "{test}: {f:#}");
        assert_eq!(f["outcome"], "abort", "{test}: {f:#}");
    }
    assert_eq!(
        findings.len(),
        sequence.chars().filter(|c| *c == 'A').count(),
        "{test}"
    );
    v["findings"].as_array().expect("findings")
}

/// Asserts that the finding `f` is at the line of the fixture file marked `// SITE: <what>`.
fn assert_site_at(f: &Value, what: &str) {
    assert_site(f, SOURCE, site_line(SOURCE, what));
}

#[test]
fn sigsegv_after_an_unchecked_null_is_an_abort_naming_the_signal() {
    let f = &assert_swept("unchecked_null_write", ".A")[0];
    assert_eq!(f["alloc"], 2);
    assert_eq!(f["message"], "the process was killed by SIGSEGV", "{f:#}");
    assert_site_at(f, "null write");
}

#[test]
fn sigkill_from_outside_costs_its_index_only() {
    let f = &assert_swept("killed_on_error_path", "A.")[0];
    assert_eq!(f["alloc"], 1);
    assert_eq!(f["message"], "the process was killed by SIGKILL", "{f:#}");
    // Nothing runs in a process killed so: the index is known, the failed allocation is not.
    assert!(f["site"].is_null(), "{f:#}");
}

#[test]
fn a_stack_overflow_is_an_abort_with_rusts_message() {
    let f = &assert_swept("overflow_on_error_path", "A.")[0];
    let m = f["message"].as_str().unwrap();
    assert!(m.contains("has overflowed its stack"), "{f:#}");
    assert_site_at(f, "error path");
}

#[test]
fn process_exit_in_the_body_is_an_abort_not_the_end_of_the_child() {
    let f = &assert_swept("exits_on_error_path", "A.")[0];
    assert_eq!(
        f["message"], "the body exited the process (exit status 3)",
        "{f:#}"
    );
    assert_site_at(f, "error path");
}

#[test]
fn a_body_spawning_a_thread_is_swept_and_flagged() {
    let v = record("spawns_a_thread");
    let seq = v["sequence"].as_str().unwrap();
    // The reservation is handled; the spawn's own allocations on the body's thread are
    // infallible (they abort), but for the last few, which the runs after the counting runs
    // do not always make (their number depends on std's version and on the thread's timing):
    // those indices are never reached, reported as count drift (issue 13), not as passes; the
    // spawned thread's `vec!` is not counted.
    let aborts = seq.trim_start_matches('.').trim_end_matches('N').len();
    let drifted = seq.len() - 1 - aborts;
    assert!(aborts >= 1, "{v:#}");
    assert_swept(
        "spawns_a_thread",
        &format!(".{}{}", "A".repeat(aborts), "N".repeat(drifted)),
    );
    assert_eq!(
        v["outcomes"]["not-reached"].as_u64().unwrap_or(0),
        drifted as u64
    );
    let m = v["message"].as_str().unwrap_or("");
    assert!(m.contains("the body allocated on another thread"), "{v:#}");
}

#[test]
fn floods_of_output_do_not_block_and_the_stderr_kept_is_a_tail() {
    let f = &assert_swept("floods_stdout_and_stderr", ".A")[0];
    assert_site_at(f, "flood abort");
    let m = f["message"].as_str().unwrap();
    assert_eq!(m, "memory allocation of 8 bytes failed", "{f:#}");
    let stderr = f["stderr"].as_str().expect("stderr tail");
    assert!(stderr.len() <= 4096, "{} bytes kept", stderr.len());
    assert!(
        stderr.contains("xxx\nxxx"),
        "the tail of the flood: {stderr}"
    );
    assert!(
        stderr.contains("memory allocation of 8 bytes failed"),
        "{stderr}"
    );
    // The flood itself reached the parent's stdout (not captured by libtest) without blocking.
    assert!(swept().output.len() > 1 << 20);
}

#[test]
fn the_other_checks_of_the_file_are_not_swept_or_lost() {
    let run = swept();
    let mut tests: Vec<&String> = run.records.keys().collect();
    tests.sort();
    assert_eq!(
        tests,
        [
            "exits_on_error_path",
            "floods_stdout_and_stderr",
            "killed_on_error_path",
            "overflow_on_error_path",
            "spawns_a_thread",
            "unchecked_null_write",
        ],
        "slow_sweep is ignored; every other test wrote its record"
    );
}

/// The fixture's `failure_modes` test executable.
fn failure_modes_binary() -> PathBuf {
    fixture_binary("failure_modes")
}

/// The executable of the fixture's test target `name`.
fn fixture_binary(name: &str) -> PathBuf {
    let out = cargo_on_fixture()
        .arg("test")
        .arg("--manifest-path")
        .arg(fixture_dir().join("Cargo.toml"))
        .args(["--no-run", "--message-format=json", "--test", name])
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo test --no-run");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == name)
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("the {name} test executable"))
}

/// The fixture's test executable `bin` with `args`, its output discarded, and of the injector's
/// variables only `OOMCHECK=1` and `OOMCHECK_REPORT=<dir>` set.
fn test_process(bin: &Path, args: &[&str], dir: &Path) -> Command {
    let mut cmd = Command::new(bin);
    common::clear_oomcheck_env(&mut cmd)
        .args(args)
        .env("OOMCHECK", "1")
        .env("OOMCHECK_REPORT", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

#[test]
fn two_test_processes_write_records_into_one_directory_at_once() {
    let bin = failure_modes_binary();
    let other = fixture_binary("outcomes");
    let dir = common::fresh_temp_dir("two-writers");
    let spawn = |bin: &Path, test: &str| {
        test_process(bin, &[test, "--exact", "--test-threads=1"], &dir)
            .env("OOMCHECK_JOBS", "1")
            .spawn()
            .expect("start the test executable")
    };
    // The same test twice (same record name but for the process id), another one, and a test
    // of another test executable, all at once.
    let mut children = [
        spawn(&bin, "killed_on_error_path"),
        spawn(&bin, "killed_on_error_path"),
        spawn(&bin, "exits_on_error_path"),
        spawn(&other, "infallible_push"),
    ];
    for c in &mut children {
        let status = c.wait().expect("wait");
        assert!(!status.success(), "the checks have findings");
    }
    let records = read_records(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let killed = &records["killed_on_error_path"];
    assert_eq!(killed.len(), 2, "{records:#?}");
    assert_ne!(killed[0]["binary"], Value::Null);
    for r in killed {
        assert_eq!(r["sequence"], "A.", "{r:#}");
    }
    assert_eq!(records["exits_on_error_path"][0]["sequence"], "A.");
    assert_eq!(records["infallible_push"][0]["sequence"], ".A..");
    assert_eq!(records.len(), 3, "{records:#?}");
}

#[test]
fn sweep_children_die_with_their_test_process() {
    let bin = failure_modes_binary();
    let tag = format!("{}-pdeathsig", std::process::id());
    // Not created here: the sweep creates its report directory.
    let dir = std::env::temp_dir().join(format!("oomcheck-pdeathsig-{tag}"));
    let _ = std::fs::remove_dir_all(&dir);
    let mut test = test_process(
        &bin,
        &[
            "slow_in_children",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ],
        &dir,
    )
    .env("OOMCHECK_JOBS", "2")
    // Re-run children, each for tens of seconds (`auto` may fork at this slow body's ten
    // indices, whose forked processes end in moments).
    .env("OOMCHECK_STRATEGY", "rerun")
    .env("OOMCHECK_E2E_PDEATHSIG", &tag)
    .spawn()
    .expect("start the test executable");
    let test_pid = test.id();
    let sweep_children = || -> Vec<u32> {
        processes_with_env("OOMCHECK_E2E_PDEATHSIG", &tag)
            .into_iter()
            .filter(|pid| *pid != test_pid)
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while sweep_children().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "no sweep children");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The test process alone is killed (as the OOM killer would): its children, which would run
    // on for tens of seconds, must follow at once.
    test.kill().expect("kill the test process");
    test.wait().expect("reap it");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left = sweep_children();
        if left.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "orphans: {left:?}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The interrupted sweep left its marker and no record.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("report dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(
        names[0].starts_with("slow_in_children-") && names[0].ends_with(".started"),
        "{names:?}"
    );
}

/// The fork strategy gives every failure mode the outcomes of the re-run strategy, including a
/// body that starts threads (which the fork server sweeps by re-running: only the forking thread
/// survives a fork).
#[test]
fn the_fork_strategy_gives_each_failure_mode_the_rerun_outcomes() {
    assert_rerun_outcomes("fm-fork", &[("OOMCHECK_STRATEGY", "fork")], "fork");
}

/// So does the hybrid strategy, re-running index 1 and forking at the later ones: both kinds of
/// sweep children side by side in one sweep.
#[test]
fn the_hybrid_strategy_gives_each_failure_mode_the_rerun_outcomes() {
    assert_rerun_outcomes(
        "fm-hybrid",
        &[
            ("OOMCHECK_STRATEGY", "hybrid"),
            ("OOMCHECK_HYBRID_SPLIT", "1"),
        ],
        "hybrid",
    );
}

/// Sweeps the failure modes with the variables `strategy` and asserts that every record says
/// it ran `ran` and has the outcomes of the shared re-run sweep.
fn assert_rerun_outcomes(tag: &str, strategy: &[(&str, &str)], ran: &str) {
    let mut env = vec![("OOMCHECK", "1"), ("OOMCHECK_JOBS", "2")];
    env.extend_from_slice(strategy);
    let run = common::run_fixture(tag, &env, &["--test", "failure_modes"]);
    let other = &run.records;
    let rerun = &swept().records;
    assert!(other.len() >= 6, "{}", run.output_tail());
    assert_eq!(
        other.keys().collect::<Vec<_>>(),
        rerun.keys().collect::<Vec<_>>()
    );
    for (test, recs) in other {
        let (f, r) = (&recs[0], &rerun[test][0]);
        assert_eq!(f["strategy"], ran, "{test}");
        for field in ["status", "nalloc", "sequence", "outcomes"] {
            assert_eq!(
                f[field], r[field],
                "{test}: {field} differs between {ran} and rerun"
            );
        }
    }
}
