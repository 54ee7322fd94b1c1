//! The cost per swept index of a zero-code sweep (`oomcheck run --preload`), with the fork
//! server and with re-runs, beside `check()`'s sweep of the same body. Not a timed test: it
//! prints figures.
//!
//! Run: `cargo bench --bench preload` (`-- --rounds N` for more rounds, default 3).
//!
//! The body (`tests/fixtures/preload-bench`) makes 1 000 allocations, each a fallible
//! reservation, so every index is swept and ends `no-memory`. The figures are the sweep's own
//! wall time as its record gives it (`elapsed_ms`: counting runs, every swept run, judging and
//! symbolization), and the CPU time of the whole command (cargo's up-to-date check included),
//! both with `--jobs 2`.

// The injector's benches' helpers (`cores` is theirs alone).
#[allow(dead_code)]
#[path = "../injector/benches/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{fmt, process_cpu};
use serde_json::Value;

const JOBS: &str = "2";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One sweep: its record, and the CPU time of the command and its children.
fn sweep(args: &[&str]) -> (Value, Duration) {
    let before = process_cpu();
    let out = Command::new(env!("CARGO_BIN_EXE_oomcheck"))
        .arg("run")
        .args(["--jobs", JOBS, "--format", "json", "--manifest-path"])
        .arg(repo().join("tests/fixtures/preload-bench/Cargo.toml"))
        .args(args)
        .env("CARGO_TARGET_DIR", repo().join("target/fixtures"))
        .output()
        .expect("run oomcheck");
    let cpu = process_cpu() - before;
    let text = String::from_utf8_lossy(&out.stdout);
    let record: Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "no record ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        record["outcomes"]["no-memory"], 1000,
        "every index handled: {record:#}"
    );
    (record, cpu)
}

fn main() {
    let rounds: usize = std::env::args()
        .skip_while(|a| a != "--rounds")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let cases: [(&str, Vec<&str>); 3] = [
        (
            "--preload, fork server",
            vec![
                "--preload",
                "--strategy",
                "fork",
                "--",
                "body_1000",
                "--exact",
            ],
        ),
        (
            "--preload, re-runs",
            vec![
                "--preload",
                "--strategy",
                "rerun",
                "--",
                "body_1000",
                "--exact",
            ],
        ),
        ("check()", vec!["--", "body_1000_check", "--exact"]),
    ];
    // One sweep first: cargo builds the fixture, and the interposer lands in its cache.
    sweep(&cases[2].1);
    sweep(&cases[0].1);
    println!("sweep of a 1 000-allocation body, {JOBS} jobs, {rounds} rounds (median)");
    println!(
        "{:<26} {:>10} {:>12} {:>12}",
        "how", "wall", "per index", "CPU (all)"
    );
    for (name, args) in &cases {
        let mut walls = Vec::new();
        let mut cpus = Vec::new();
        for _ in 0..rounds {
            let (record, cpu) = sweep(args);
            walls.push(Duration::from_millis(
                record["elapsed_ms"].as_u64().unwrap_or(0),
            ));
            cpus.push(cpu);
        }
        walls.sort();
        cpus.sort();
        let wall = walls[walls.len() / 2];
        println!(
            "{name:<26} {:>10} {:>12} {:>12}",
            fmt(wall),
            fmt(wall / 1000),
            fmt(cpus[cpus.len() / 2])
        );
    }
}
