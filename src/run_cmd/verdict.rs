//! What the run found, once the tests have ended: which failed tests their checks explain and
//! which failed on their own, and the exit status that follows.
use std::collections::BTreeSet;

use oomcheck_injector::{Report, Status as CheckStatus};

use super::cargo::TestOutput;
use super::error::RunError;
use super::libtest;
use super::record::{self, Loaded};
use crate::Status;

/// The error when no check reported anything: cargo failed first, the filters matched no
/// test, or the tests that ran hold no check.
pub fn nothing_checked(
    summary: &libtest::Summary,
    output: &TestOutput,
    test_args: &[String],
) -> RunError {
    let filters = libtest::filters(test_args);
    // 101 is libtest's status for failed tests; anything else means cargo itself failed.
    if summary.tests_run == 0 && !output.status.success() && output.status.code() != Some(101) {
        return RunError::TestsDidNotStart {
            stderr: output.stderr.clone(),
        };
    }
    if summary.tests_run == 0 && !filters.is_empty() {
        return RunError::NoTestMatched { filters };
    }
    RunError::NoChecks {
        tests_run: summary.tests_run,
        filters,
    }
}

/// The records of a run and the tests that failed outside them.
pub struct Findings<'a> {
    /// Every record, by test name.
    pub records: Vec<&'a Report>,
    /// Tests that failed for a reason of their own, not explained by a record.
    pub plain_failures: Vec<&'a str>,
}

impl<'a> Findings<'a> {
    /// Sort the records and set the failures libtest saw against them.
    pub fn new(loaded: &'a [Loaded], summary: &'a libtest::Summary) -> Findings<'a> {
        let mut records: Vec<&Report> = loaded.iter().map(|l| &l.record).collect();
        records.sort_by(|a, b| a.test.cmp(&b.test));
        // Tests whose failure their records explain (a check with findings panics its test);
        // any other failed test failed for a reason of its own, outside the checks.
        let explained: BTreeSet<&str> = records
            .iter()
            .filter(|r| record::is_failure(r) || r.status == CheckStatus::NoAllocator)
            .map(|r| r.test.as_str())
            .collect();
        let plain_failures = summary
            .failed
            .iter()
            .map(String::as_str)
            .filter(|t| !explained.contains(t))
            .collect();
        Findings {
            records,
            plain_failures,
        }
    }

    /// Records whose check makes the run fail.
    pub fn failing(&self) -> usize {
        self.records
            .iter()
            .filter(|r| record::is_failure(r))
            .count()
    }

    /// The exit status: an error when a check ran without the failing allocator, findings when
    /// a check failed, a test failed outside its checks or a sweep never finished.
    pub fn status(&self, incomplete: bool) -> Result<Status, RunError> {
        if self
            .records
            .iter()
            .any(|r| r.status == CheckStatus::NoAllocator)
        {
            return Err(RunError::ChecksWithoutAllocator);
        }
        if self.failing() > 0 || !self.plain_failures.is_empty() || incomplete {
            Ok(Status::Findings)
        } else {
            Ok(Status::Clean)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(records: &[&str]) -> Vec<Loaded> {
        records.iter().map(|r| record::parse(r).unwrap()).collect()
    }

    fn summary(failed: &[&str]) -> libtest::Summary {
        libtest::Summary {
            tests_run: 3,
            failed: failed.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn failed_tests_are_explained_by_failing_records_only() {
        let l = loaded(&[
            r#"{"test":"b","status":"swept","sequence":".A","findings":[{"alloc":2,"outcome":"abort"}]}"#,
            r#"{"test":"a","status":"swept","sequence":".."}"#,
        ]);
        let s = summary(&["a", "b", "c"]);
        let f = Findings::new(&l, &s);
        assert_eq!(
            f.records
                .iter()
                .map(|r| r.test.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(f.plain_failures, ["a", "c"]);
        assert_eq!(f.failing(), 1);
        assert_eq!(f.status(false).unwrap(), Status::Findings);
    }

    #[test]
    fn clean_unless_incomplete_and_an_error_without_the_allocator() {
        let l = loaded(&[r#"{"test":"a","status":"swept","sequence":".."}"#]);
        let s = summary(&[]);
        assert_eq!(Findings::new(&l, &s).status(false).unwrap(), Status::Clean);
        assert_eq!(
            Findings::new(&l, &s).status(true).unwrap(),
            Status::Findings
        );
        let l = loaded(&[r#"{"test":"n","status":"no-allocator"}"#]);
        let s = summary(&["n"]);
        let f = Findings::new(&l, &s);
        assert!(f.plain_failures.is_empty(), "explained by its record");
        assert!(matches!(
            f.status(false),
            Err(RunError::ChecksWithoutAllocator)
        ));
    }
}
