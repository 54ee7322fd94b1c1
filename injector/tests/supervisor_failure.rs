//! A supervisor that can no longer start sweep children midway through a sweep keeps the results
//! it has and reports the remaining indices as not swept. (It used to throw the results away and
//! sweep again in-process, without crash isolation: the crash that had cost a child then ended
//! the test process itself, and no record was written.)
//!
//! The test runs a copy of this test executable whose sweep deletes that copy on an error path,
//! so that the next sweep child cannot be started.

use oomcheck_injector::FailingAllocator;
use serde_json::Value;
use std::collections::TryReserveError;
use std::path::PathBuf;
use std::process::Command;

#[global_allocator]
static ALLOC: FailingAllocator = FailingAllocator::system();

/// Names the executable the body deletes on its error path.
const DOOMED: &str = "SUPERVISOR_FAILURE_DOOMED_EXECUTABLE";

/// Allocation 1 is a handled reservation; the failure of allocation 2 deletes the executable
/// named by [`DOOMED`] (so that no further sweep child can start) and aborts, costing its sweep
/// child; allocations 3 and 4 are handled.
fn body() -> Result<usize, TryReserveError> {
    let mut a: Vec<u8> = Vec::new();
    a.try_reserve_exact(8)?;
    let mut b: Vec<u8> = Vec::new();
    if b.try_reserve_exact(16).is_err() {
        if let Some(exe) = std::env::var_os(DOOMED) {
            let _ = std::fs::remove_file(exe);
        }
        std::process::abort();
    }
    let mut c: Vec<u8> = Vec::new();
    c.try_reserve_exact(32)?;
    let mut d: Vec<u8> = Vec::new();
    d.try_reserve_exact(64)?;
    Ok(a.capacity() + b.capacity() + c.capacity() + d.capacity())
}

#[test]
#[ignore = "run by `a_spawn_failing_midway_keeps_the_results_and_reports_the_rest_unswept`"]
fn sweep_that_deletes_its_executable() {
    oomcheck_injector::check(body);
}

/// A directory of its own under the temporary directory, removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_spawn_failing_midway_keeps_the_results_and_reports_the_rest_unswept() {
    let dir = TempDir(std::env::temp_dir().join(format!(
        "oomcheck-supervisor-failure-{}",
        std::process::id()
    )));
    let _ = std::fs::remove_dir_all(&dir.0);
    let reports = dir.0.join("reports");
    std::fs::create_dir_all(&reports).expect("report directory");
    let copy = dir.0.join("doomed-test-executable");
    std::fs::copy(std::env::current_exe().expect("this executable"), &copy).expect("copy");

    let mut cmd = Command::new(&copy);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("OOMCHECK") {
            cmd.env_remove(&k);
        }
    }
    let out = cmd
        .args([
            "sweep_that_deletes_its_executable",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env("OOMCHECK", "1")
        .env("OOMCHECK_JOBS", "1")
        .env("OOMCHECK_REPORT", &reports)
        .env(DOOMED, &copy)
        .output()
        .expect("run the copy");
    // libtest prints the captured output of the failed test on stdout.
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The check failed (a panic: exit status 101), rather than the process aborting.
    assert_eq!(out.status.code(), Some(101), "{:?}\n{output}", out.status);
    assert!(!copy.exists(), "the sweep deleted its executable");
    assert!(output.contains("INCOMPLETE (2 not swept)"), "{output}");

    let records: Vec<Value> = std::fs::read_dir(&reports)
        .expect("report directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("record")).expect("json"))
        .collect();
    assert_eq!(records.len(), 1, "one record, written: {output}");
    let r = &records[0];
    assert_eq!(r["status"], "swept", "{r:#}");
    assert_eq!(r["nalloc"], 4, "{r:#}");
    // Index 1 was swept, index 2 cost the child that deleted the executable, 3 and 4 never ran.
    assert_eq!(r["sequence"], ".A??", "{r:#}");
    assert_eq!(
        r["outcomes"],
        serde_json::json!({"no-memory": 1, "abort": 1})
    );
    assert_eq!(r["findings"][0]["alloc"], 2, "{r:#}");
    assert_eq!(r["findings"][0]["outcome"], "abort", "{r:#}");
    assert_eq!(
        r["incomplete"]["indices"],
        serde_json::json!([3, 4]),
        "{r:#}"
    );
    let reason = r["incomplete"]["reason"].as_str().expect("a reason");
    assert!(reason.starts_with("cannot start "), "{reason}");
    assert!(reason.contains("doomed-test-executable"), "{reason}");
    // No in-process fallback happened.
    assert!(
        !r["message"]
            .as_str()
            .unwrap_or("")
            .contains("without crash isolation"),
        "{r:#}"
    );
}
