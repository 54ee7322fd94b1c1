//! What a user reads from `oomcheck run`, word for word: the progress lines and diagnostics of a
//! sweep of the fixture crate, as a pipe or CI log shows them (rustc's layout in ASCII, no colour), compared with
//! `tests/snapshots/run_fixture_outcomes.txt`. Rewrite the snapshot with `OOMCHECK_BLESS=1` when
//! a wording change is meant; review its diff like code.
mod common;
use common::{assert_snapshot, oomcheck, repo};

/// One check per kind of line: clean, abort, wrong error, corruption, panic, and a body that
/// fails its normal run. Run one at a time (`--test-threads 1`), so their lines come in name
/// order.
const CHECKS: &[&str] = &[
    "correct_parser",
    "fails_without_oom",
    "infallible_push",
    "remapped_error",
    "swallowed_failure",
    "unwrapped_reserve",
];

/// Whether `line` is one of cargo's status lines (`   Compiling x`, `    Finished …`,
/// `    Blocking waiting for file lock …`): a capitalised verb right-aligned to column 12.
fn is_cargo_status(line: &str) -> bool {
    let verb_end = line.len() - line.trim_start().len()
        + line
            .trim_start()
            .find(' ')
            .unwrap_or(line.trim_start().len());
    let verb = line.trim_start().split(' ').next().unwrap_or("");
    verb_end == 12
        && verb.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && verb.chars().skip(1).all(|c| c.is_ascii_lowercase())
}

/// `0x7f3a…` → `0x[ADDR]`: addresses change from run to run.
fn normalise_addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("0x") {
        out.push_str(&rest[..at]);
        let digits = rest[at + 2..]
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len() - at - 2);
        if digits == 0 {
            out.push_str("0x");
        } else {
            out.push_str("0x[ADDR]");
        }
        rest = &rest[at + 2 + digits..];
    }
    out.push_str(rest);
    out
}

/// The run's stderr without what varies between machines and runs: cargo's own build output,
/// absolute paths and addresses.
fn normalise(stderr: &str) -> String {
    let fixture = repo().join("tests/fixtures/oom-fixture");
    let text: String = stderr
        .lines()
        .filter(|l| !is_cargo_status(l))
        .map(|l| format!("{l}\n"))
        .collect();
    let text = text
        .replace(&fixture.display().to_string(), "[FIXTURE]")
        .replace(&repo().display().to_string(), "[REPO]");
    normalise_addresses(&text)
}

#[test]
fn cargo_status_lines_and_addresses_are_normalised() {
    assert!(is_cargo_status("   Compiling oom-fixture v0.0.0"));
    assert!(is_cargo_status(
        "    Blocking waiting for file lock on build directory"
    ));
    assert!(!is_cargo_status("correct_parser  nalloc=4  ....  OK"));
    assert!(!is_cargo_status("    Begin snippet for src/lib.rs"));
    assert_eq!(
        normalise_addresses("at 0x7ffd1234 and 0xg, 0x"),
        "at 0x[ADDR] and 0xg, 0x"
    );
}

#[test]
fn run_output_of_the_fixture_matches_its_snapshot() {
    let mut args = vec![
        "run",
        "--color",
        "never",
        "--",
        "--exact",
        "--test-threads",
        "1",
    ];
    args.extend_from_slice(CHECKS);
    let out = oomcheck(&repo().join("tests/fixtures/oom-fixture"), &args);
    assert_eq!(out.code, 1, "findings exit 1: {out:?}");
    assert!(
        out.stdout.is_empty(),
        "human output goes to stderr: {out:?}"
    );
    assert_snapshot("run_fixture_outcomes.txt", &normalise(&out.stderr));
}
