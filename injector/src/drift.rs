//! Count drift: an iteration that did not test the allocation its index names. Two kinds:
//!
//! - **not reached** (`N`): the body made fewer allocations than in its counting runs, so
//!   nothing failed (classified in `outcome.rs`);
//! - **drifted** (`D`): an allocation failed, but at another call site than the counting run's
//!   allocation of that index. One more run of the body before the sweep ([`record`]) hashes
//!   the call site of every swept index (`site_hash.rs`, the hash site dedup uses, the same in
//!   every process of the sweep); each iteration that finishes brings back the site hash of
//!   the allocation it failed (`RunData::site`, journaled in its result by re-run children and
//!   forked processes alike); [`judge`] compares them.
//!
//! A drifted iteration that would have passed is `drifted`, not a pass; one that is a finding
//! stays a finding, its message saying that its site differs from the counting run's.

use crate::outcome::Outcome;
use crate::report::{IterationResult, Report};
use crate::selection::Selection;
use crate::site_hash::DEFAULT_DEPTH;
use crate::site_run::{self, SiteVisitor};
use crate::sweep::Exec;
use std::collections::BTreeMap;

/// The likely causes of drift and their fixes, shared by every message about it ([`causes`]). The sweep's
/// iterations run in other processes than the counting runs: what differs between processes
/// (random hash keys, even of a map built before `check`; heap addresses) drifts although
/// every run in one process agrees, so those causes are named too (both seen on real crates).
const CAUSES: &str = "a randomly seeded hasher (use a fixed one such \
                      as `BuildHasherDefault<DefaultHasher>`, also for a map built before \
                      `check`: each process of the sweep seeds its own), keys or orders taken \
                      from addresses (each process has its own heap layout: key by index or \
                      id), work on other threads (join it inside the body), lazy caches (warm \
                      them before `check`)";

/// The first cause named when the test process captures output (`output_capture.rs`).
const CAPTURED_OUTPUT: &str = "output the body prints (`println!`, `eprintln!`, a logger): \
                               libtest captures it in this test process, which allocates, and \
                               not in the sweep's processes (run the tests with `--nocapture`: \
                               `oomcheck run -- --nocapture`, `cargo test -- --nocapture`)";

/// `likely causes and fixes: …`, the output capture first when the test process captures
/// output.
fn causes(output_captured: bool) -> String {
    if output_captured {
        format!("likely causes and fixes: {CAPTURED_OUTPUT}, {CAUSES}")
    } else {
        format!("likely causes and fixes: {CAUSES}")
    }
}

/// The site hash of each swept index's allocation in the recording run.
pub(crate) struct Expected {
    selection: Selection,
    /// By position in `selection`; `None` for an index the recording run did not reach.
    hashes: Vec<Option<u64>>,
}

impl Expected {
    /// The recorded site hash of `index`'s allocation, if it was recorded.
    fn of(&self, index: u64) -> Option<u64> {
        self.selection
            .position(index)
            .and_then(|p| self.hashes.get(p).copied().flatten())
    }
}

impl SiteVisitor for Expected {
    fn wants(&mut self, n: u64) -> bool {
        self.selection.position(n).is_some()
    }

    fn visit(&mut self, n: u64, hash: u64) {
        if let Some(slot) = self
            .selection
            .position(n)
            .and_then(|p| self.hashes.get_mut(p))
        {
            *slot = Some(hash);
        }
    }
}

/// Runs the body once recording the site hash of the allocation of every index of `selection`
/// (only those: hashing costs a stack walk).
pub(crate) fn record(exec: &Exec<'_>, selection: &Selection) -> Expected {
    let mut expected = Expected {
        selection: selection.clone(),
        hashes: vec![None; selection.len() as usize],
    };
    site_run::hash_sites(exec, DEFAULT_DEPTH, &mut expected);
    expected
}

/// Marks the results whose failed allocation's site differs from the recorded one: a pass
/// becomes `drifted`; a finding keeps its outcome and says so in its message (naming the
/// output capture among the causes when `output_captured`).
pub(crate) fn judge(
    expected: &Expected,
    results: &mut BTreeMap<u64, IterationResult>,
    strict: bool,
    output_captured: bool,
) {
    let causes = causes(output_captured);
    for (index, r) in results.iter_mut() {
        let (Some(got), Some(want)) = (r.site_hash, expected.of(*index)) else {
            continue;
        };
        if got == want || r.outcome == Outcome::NotReached {
            continue;
        }
        if r.outcome.is_finding(strict) {
            r.message.push_str(&format!(
                " (site drift: the allocation failed was made at another call site than \
                 allocation {index} of the counting run; {causes})"
            ));
        } else {
            r.message = format!(
                "site drift: the allocation failed was made at another call site than allocation \
                 {index} of the counting run, so this index tested another allocation than the \
                 one it names; {causes}. The iteration itself: {}",
                r.message
            );
            r.outcome = Outcome::Drifted;
        }
    }
}

/// The report's notes on the indices that drifted: how many, why, and the fix (naming the
/// output capture among the causes when `output_captured`).
pub(crate) fn notes(report: &Report, output_captured: bool) -> Vec<String> {
    let causes = causes(output_captured);
    let mut notes = Vec::new();
    // `(index, that index)` or `(indices, those indices)`.
    let words = |n: u64| {
        if n == 1 {
            ("index", "that index")
        } else {
            ("indices", "those indices")
        }
    };
    let not_reached = report.count(Outcome::NotReached);
    if not_reached > 0 {
        let (indices, those) = words(not_reached);
        notes.push(format!(
            "{not_reached} {indices} not reached (`N`): the body made fewer allocations than in \
             its counting runs (count drift), so {those} tested nothing; {causes}"
        ));
    }
    let drifted = report.count(Outcome::Drifted);
    if drifted > 0 {
        let (indices, those) = words(drifted);
        notes.push(format!(
            "{drifted} {indices} drifted (`D`): the allocation failed there was made at another \
             call site than in the counting run (site drift), so {those} tested another \
             allocation than the one named; {causes}"
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(alloc: u64, outcome: Outcome, site_hash: Option<u64>) -> IterationResult {
        IterationResult {
            alloc,
            outcome,
            message: "Err(x)".into(),
            diff: None,
            site: None,
            stack: Vec::new(),
            stderr: None,
            site_hash,
        }
    }

    #[test]
    fn a_pass_at_another_site_drifts_and_a_finding_says_so() {
        let expected = Expected {
            selection: Selection::Range(1, 5),
            hashes: vec![Some(10), Some(20), Some(30), Some(40), None],
        };
        let mut results: BTreeMap<u64, IterationResult> = [
            result(1, Outcome::NoMemory, Some(10)),
            result(2, Outcome::NoMemory, Some(21)),
            result(3, Outcome::Panic, Some(31)),
            result(4, Outcome::Abort, None),
            result(5, Outcome::NoMemory, Some(7)),
        ]
        .into_iter()
        .map(|r| (r.alloc, r))
        .collect();
        judge(&expected, &mut results, false, false);
        assert_eq!(results[&1].outcome, Outcome::NoMemory);
        assert_eq!(results[&1].message, "Err(x)");
        assert_eq!(results[&2].outcome, Outcome::Drifted);
        assert!(
            results[&2].message.starts_with("site drift: ")
                && results[&2]
                    .message
                    .contains("a randomly seeded hasher (use a fixed one")
                && results[&2]
                    .message
                    .ends_with("The iteration itself: Err(x)"),
            "{}",
            results[&2].message
        );
        assert_eq!(results[&3].outcome, Outcome::Panic);
        assert!(results[&3].message.starts_with("Err(x) (site drift: "));
        // Without a hash on either side there is nothing to compare.
        assert_eq!(results[&4].outcome, Outcome::Abort);
        assert_eq!(results[&5].outcome, Outcome::NoMemory);
    }

    #[test]
    fn the_notes_count_each_kind_of_drift() {
        let mut report = Report::new("t".into(), crate::options::Mode::Transient, false, false);
        assert!(notes(&report, false).is_empty());
        report.outcomes.insert(Outcome::NotReached, 1);
        report.outcomes.insert(Outcome::Drifted, 3);
        let captured = notes(&report, true);
        let notes = notes(&report, false);
        assert_eq!(notes.len(), 2);
        assert!(
            notes[0].starts_with("1 index not reached (`N`): ")
                && notes[0].contains("so that index tested nothing"),
            "{}",
            notes[0]
        );
        assert!(
            notes[1].starts_with("3 indices drifted (`D`): ")
                && notes[1].contains("so those indices tested another allocation")
                && notes[1].ends_with("lazy caches (warm them before `check`)"),
            "{}",
            notes[1]
        );
        assert!(!notes[1].contains("libtest captures"), "{}", notes[1]);
        // A test process that captures output: that cause first, then the others.
        assert!(
            captured[1].contains("likely causes and fixes: output the body prints")
                && captured[1].contains("`oomcheck run -- --nocapture`")
                && captured[1].contains("a randomly seeded hasher (use a fixed one"),
            "{}",
            captured[1]
        );
        // What differs between the test process and the sweep's, seen drifting on real crates.
        assert!(
            notes[1].contains("also for a map built before `check`")
                && notes[1].contains("keys or orders taken from addresses"),
            "{}",
            notes[1]
        );
    }

    #[test]
    fn tolerated_drifts_unless_strict_makes_it_a_finding() {
        let expected = Expected {
            selection: Selection::List(vec![4, 9]),
            hashes: vec![Some(1), Some(2)],
        };
        let mut results: BTreeMap<u64, IterationResult> =
            [(9, result(9, Outcome::Tolerated, Some(3)))].into();
        let mut strict = results.clone();
        judge(&expected, &mut results, false, false);
        assert_eq!(results[&9].outcome, Outcome::Drifted);
        judge(&expected, &mut strict, true, false);
        assert_eq!(strict[&9].outcome, Outcome::Tolerated);
        assert!(strict[&9].message.contains("site drift"));
    }
}
