//! The human text `oomcheck run` prints after its progress lines, on stderr: a diagnostic per
//! failing site, the tests that failed outside their checks, the one-line summary, and the
//! notes on unreadable records, unfinished sweeps and interrupts. (The progress lines are
//! `progress`'s, each diagnostic `diagnostic`'s.)
use oomcheck_injector::{Outcome, Report};
use std::path::{Path, PathBuf};

use super::cargo::Metadata;
use super::diagnostic::{self, Detail, Explanations, SourceRoots};
use super::libtest;
use super::partition::Partition;
use super::record::RecordError;
use super::verdict::Findings;
use crate::ui::Ui;

/// `1 check`, `2 checks`.
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Where the diagnostics find the sources of a record's sites, and what their paths are shown
/// relative to (the current directory).
fn source_roots(meta: &Metadata) -> SourceRoots {
    SourceRoots {
        roots: std::iter::once(meta.workspace_root.clone())
            .chain(
                meta.packages
                    .iter()
                    .filter_map(|p| p.manifest_path.parent().map(Path::to_path_buf)),
            )
            .collect(),
        display_base: std::env::current_dir().ok(),
    }
}

/// The human report: a diagnostic per failing site, the tests that failed outside their checks
/// (with what libtest printed of them), and the summary line.
pub fn human(
    findings: &Findings<'_>,
    libtest_stdout: &str,
    meta: &Metadata,
    detail: Detail,
    explanations: &Explanations,
    ui: &Ui,
) {
    let roots = source_roots(meta);
    let groups = diagnostic::group(&findings.records);
    if !groups.is_empty() {
        eprintln!();
    }
    for g in &groups {
        eprintln!(
            "{}",
            ui.render(&diagnostic::diagnostic(g, &roots, detail, explanations))
        );
    }
    for t in &findings.plain_failures {
        eprintln!("test {t} failed outside its OOM checks:");
        if let Some(section) = libtest::failure_section(libtest_stdout, t) {
            for l in section.lines() {
                eprintln!("    {l}");
            }
        }
    }
    for note in drift_notes(&findings.records) {
        eprintln!("{note}");
    }
    // Sites with a finding that fails the run (allowed ones are counted apart).
    let failing_sites = groups
        .iter()
        .filter(|g| g.members.iter().any(|(_, f)| f.allowed.is_none()))
        .count();
    eprintln!("{}", summary_line(findings, failing_sites));
}

/// `note: TEST: …` for each check with indices that drifted or were not reached: the record's
/// notes, which say how many, why, and the fix. The line's `D` and `N` alone do not tell what
/// to change, and these checks pass, so no diagnostic says it either.
fn drift_notes(records: &[&Report]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.count(Outcome::Drifted) + r.count(Outcome::NotReached) > 0)
        .filter_map(|r| {
            Some(format!(
                "note: {}: {}",
                r.test,
                r.message.as_deref()?.trim()
            ))
        })
        .collect()
}

/// `N checks: C clean, F failing (K findings at S sites)[; T tests failed outside any check]`.
fn summary_line(findings: &Findings<'_>, sites: usize) -> String {
    let records = &findings.records;
    let total: usize = records.iter().map(|r| r.failing().count()).sum();
    let failing = findings.failing();
    let allowed: usize = records.iter().map(|r| r.allowed().count()).sum();
    let in_tests: usize = records
        .iter()
        .map(|r| r.failing().filter(|f| f.in_test_body).count())
        .sum();
    let empty = records
        .iter()
        .filter(|r| r.status == oomcheck_injector::Status::NothingSwept)
        .count();
    let mut apart = String::new();
    if in_tests > 0 {
        apart.push_str(&format!(", {in_tests} of them in test bodies"));
    }
    if allowed > 0 {
        apart.push_str(&format!("; {allowed} allowed"));
    }
    // Indices that tested nothing, or another allocation than they name: no passes.
    for (outcome, what) in [
        (Outcome::NotReached, "not reached (count drift)"),
        (Outcome::Drifted, "drifted (site drift)"),
    ] {
        let n: u64 = records.iter().map(|r| r.count(outcome)).sum();
        if n > 0 {
            let indices = if n == 1 { "index" } else { "indices" };
            apart.push_str(&format!("; {n} {indices} {what}"));
        }
    }
    if empty > 0 {
        apart.push_str(&format!("; {} swept nothing", plural(empty, "check")));
    }
    let others = match findings.plain_failures.len() {
        0 => String::new(),
        n => format!("; {} failed outside any check", plural(n, "test")),
    };
    format!(
        "{}: {} clean, {} failing ({} at {}{apart}){others}",
        plural(records.len(), "check"),
        records.len() - failing,
        failing,
        plural(total, "finding"),
        plural(sites, "site"),
    )
}

/// With `--format json` the records are on stdout; stderr only names the tests that failed
/// outside their checks.
pub fn plain_failure_names(findings: &Findings<'_>) {
    for t in &findings.plain_failures {
        eprintln!("test {t} failed outside its OOM checks");
    }
}

/// Record files that never read as records.
pub fn unreadable(files: &[(PathBuf, RecordError)]) {
    for (path, e) in files {
        eprintln!("warning: unreadable report {}: {e}", path.display());
    }
}

/// Sweeps whose test process died before their record was written.
pub fn incomplete(tests: &[String]) {
    for t in tests {
        eprintln!("error: the sweep of {t} did not finish (its test process died): no outcome was recorded");
    }
}

/// After Ctrl-C: how many checks finished and which were cut short.
pub fn interrupted(finished: usize, incomplete: &[String]) {
    eprintln!(
        "interrupted: {} finished; {}",
        plural(finished, "check"),
        if incomplete.is_empty() {
            "no check was in progress".to_string()
        } else {
            format!("incomplete (sweep cut short): {}", incomplete.join(", "))
        }
    );
    eprintln!("tests that had not started yet were skipped");
}

/// What a `--partition` shard that got no test says: nothing was swept, and why that is fine.
pub fn empty_shard(partition: Partition, selected: usize) {
    eprintln!(
        "shard {partition} has no tests ({} selected, all in other shards): nothing was swept",
        plural(selected, "test")
    );
}

/// What a `--partition` shard whose tests hold no check says.
pub fn shard_without_checks(partition: Partition, tests_run: u64) {
    eprintln!(
        "shard {partition} has no OOM checks ({} ran, none called oomcheck_injector::check): \
         nothing was swept",
        plural(tests_run as usize, "test")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swept(test: &str, outcomes: &str) -> Report {
        let v = serde_json::json!({
            "test": test,
            "status": "swept",
            "outcomes": serde_json::from_str::<serde_json::Value>(outcomes).unwrap(),
        });
        serde::Deserialize::deserialize(v).expect("a record reads")
    }

    #[test]
    fn the_summary_counts_drifted_and_unreached_indices_apart() {
        let records = [
            swept("a", r#"{"no-memory": 3, "not-reached": 1}"#),
            swept("b", r#"{"drifted": 2}"#),
            swept("c", r#"{"no-memory": 4}"#),
        ];
        let findings = Findings {
            records: records.iter().collect(),
            plain_failures: Vec::new(),
        };
        assert_eq!(
            summary_line(&findings, 0),
            "3 checks: 3 clean, 0 failing (0 findings at 0 sites; 1 index not reached (count \
             drift); 2 indices drifted (site drift))"
        );
    }

    #[test]
    fn checks_with_drift_get_a_note_with_the_fix() {
        let mut drifted = swept("b", r#"{"drifted": 2, "no-memory": 1}"#);
        drifted.message = Some("2 indices drifted (`D`): …; likely causes and fixes: …".into());
        let mut unreached = swept("a", r#"{"not-reached": 1}"#);
        unreached.message = Some("1 index not reached (`N`): …".into());
        // A note of another kind on a check without drift is not repeated here.
        let mut leaky = swept("c", r#"{"no-memory": 4}"#);
        leaky.message = Some("leaks are not judged: …".into());
        assert_eq!(
            drift_notes(&[&unreached, &drifted, &leaky]),
            [
                "note: a: 1 index not reached (`N`): …",
                "note: b: 2 indices drifted (`D`): …; likely causes and fixes: …"
            ]
        );
    }
}
