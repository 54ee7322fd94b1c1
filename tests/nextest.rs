//! `OOMCHECK=1 cargo nextest run` (README): nextest runs each test in its own process and the
//! checks sweep there as under `cargo test`, writing their records. Skipped, with a message, when
//! cargo-nextest is not installed.
use std::process::Command;

mod common;
use common::repo;

#[test]
fn oomcheck_sweeps_under_cargo_nextest() {
    let installed = Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!("skipped: cargo-nextest is not installed (cargo install cargo-nextest)");
        return;
    }
    let fixture = repo().join("tests/fixtures/oom-sites");
    let reports = tempfile::tempdir().expect("report dir");
    let mut cmd = Command::new("cargo");
    cmd.args([
        "nextest",
        "run",
        "--no-fail-fast",
        "-E",
        "test(=smallvec_error_is_no_memory) | test(=dependency_remaps_oom)",
    ])
    .current_dir(&fixture)
    .env("CARGO_TARGET_DIR", repo().join("target/fixtures"))
    .env("OOMCHECK", "1")
    .env("OOMCHECK_REPORT", reports.path())
    .env("NO_COLOR", "1");
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("OOMCHECK") && k != "OOMCHECK" && k != "OOMCHECK_REPORT" {
            cmd.env_remove(&k);
        }
    }
    let out = cmd.output().expect("run cargo nextest");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a finding fails the run: {stderr}");
    let mut records = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(reports.path()).expect("records") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
            records.insert(v["test"].as_str().expect("test").to_string(), v);
        }
    }
    assert_eq!(records.len(), 2, "{records:#?}\n{stderr}");
    assert_eq!(records["smallvec_error_is_no_memory"]["sequence"], ".");
    let dep = &records["dependency_remaps_oom"];
    assert_eq!(dep["sequence"], "W", "{dep:#}");
    assert_eq!(dep["findings"][0]["site"]["function"], "oom_remap::fill");
    assert!(
        stderr.contains("PASS") && stderr.contains("FAIL"),
        "nextest's own lines: {stderr}"
    );
}
