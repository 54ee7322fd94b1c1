//! How a sweep runs its iterations (re-running the body per index, or forking at each
//! allocation of one run) and which indices it sweeps (all of the range, or a selection made by
//! site dedup or sampling).

use std::fmt;
use std::path::Path;
use std::time::Duration;

/// How the iterations of a sweep are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// [`Strategy::Fork`] for bodies of at least [`FORK_CROSSOVER`] allocations sweeping at least
    /// [`FORK_MIN_SWEPT`] indices, [`Strategy::Rerun`] otherwise.
    #[default]
    Auto,
    /// Re-run the body once per index (the prefix before index *i* runs again for every *i*:
    /// O(n²) in total, but nothing shared between iterations).
    Rerun,
    /// Run the body once and `fork()` at each swept allocation: the forked process fails it and
    /// runs on to the verdict while the parent carries on (O(n) plus one fork per index).
    Fork,
}

impl Strategy {
    /// The strategy's name as used by `OOMCHECK_STRATEGY` and the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::Rerun => "rerun",
            Strategy::Fork => "fork",
        }
    }

    /// Parses `auto`, `rerun` or `fork`.
    pub(crate) fn parse(text: &str) -> Option<Strategy> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Strategy::Auto),
            "rerun" => Some(Strategy::Rerun),
            "fork" => Some(Strategy::Fork),
            _ => None,
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Below this many allocations re-running is as fast as forking, or faster (a fork costs a few
/// hundred microseconds; re-running costs the prefix). Measured with `benches/scale.rs` on a
/// 2-core machine: see the README's performance section.
pub const FORK_CROSSOVER: u64 = 15_000;

/// Fewer swept indices than this (a dedup'd sweep of a few sites, a small sample) re-run even
/// in a large body: a handful of prefixes cost less than starting the fork machinery.
pub const FORK_MIN_SWEPT: u64 = 64;

/// The strategy a sweep uses: `requested`, with `auto` resolved from the body's allocation count
/// and the number of indices to sweep. Forking needs crash isolation (a libtest child).
pub(crate) fn resolve(requested: Strategy, nalloc: u64, swept: u64, isolatable: bool) -> Strategy {
    if !isolatable {
        return Strategy::Rerun;
    }
    match requested {
        Strategy::Auto if nalloc >= FORK_CROSSOVER && swept >= FORK_MIN_SWEPT => Strategy::Fork,
        Strategy::Auto => Strategy::Rerun,
        other => other,
    }
}

/// Least estimated work that pays for a sweep child of its own: starting one (exec, dynamic
/// loading, the test harness) costs one to two milliseconds on the 2-core machine of
/// `benches/sweep.rs`, so splitting a tiny sweep across children makes it slower, not faster.
pub(crate) const MIN_WORK_PER_CHILD: Duration = Duration::from_millis(2);

/// Children for a re-run sweep of `swept` indices of a body whose normal run took `body`: at most
/// `jobs`, and no more than the work pays for. Iteration *i* re-runs a prefix of the body, about
/// half of it on average, so the work is about `body × swept / 2`.
pub(crate) fn rerun_jobs(jobs: usize, body: Duration, swept: u64) -> usize {
    let work = body.as_secs_f64() * swept as f64 / 2.0;
    let worth = (work / MIN_WORK_PER_CHILD.as_secs_f64()) as usize;
    jobs.min(worth).max(1)
}

/// The indices a sweep runs: a whole range, or a sorted list of some of its indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selection {
    /// Every index of `lo..=hi`.
    Range(u64, u64),
    /// These indices, sorted and distinct.
    List(Vec<u64>),
}

impl Selection {
    /// Whether `index` is swept.
    pub(crate) fn contains(&self, index: u64) -> bool {
        match self {
            Selection::Range(lo, hi) => (*lo..=*hi).contains(&index),
            Selection::List(v) => v.binary_search(&index).is_ok(),
        }
    }

    /// Number of swept indices.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Selection::Range(lo, hi) => hi.saturating_sub(*lo) + 1,
            Selection::List(v) => v.len() as u64,
        }
    }

    /// The swept indices in order.
    pub(crate) fn indices(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        match self {
            Selection::Range(lo, hi) => Box::new(*lo..=*hi),
            Selection::List(v) => Box::new(v.iter().copied()),
        }
    }

    /// Writes a list selection for sweep children (one index per line).
    pub(crate) fn write(list: &[u64], path: &Path) -> std::io::Result<()> {
        let mut text = String::with_capacity(list.len() * 7);
        for i in list {
            text.push_str(&i.to_string());
            text.push('\n');
        }
        std::fs::write(path, text)
    }

    /// Reads a list written by [`Selection::write`].
    pub(crate) fn read(path: &Path) -> Result<Selection, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the index selection {}: {e}", path.display()))?;
        let mut v = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            v.push(
                line.trim().parse::<u64>().map_err(|_| {
                    format!("bad index {line:?} in the selection {}", path.display())
                })?,
            );
        }
        v.sort_unstable();
        v.dedup();
        Ok(Selection::List(v))
    }

    /// The selection a sweep child was given, if any ([`ENV_SELECT`]).
    pub(crate) fn from_child_env() -> Result<Option<Selection>, String> {
        match std::env::var_os(ENV_SELECT) {
            None => Ok(None),
            Some(p) if p.is_empty() => Ok(None),
            Some(p) => Selection::read(Path::new(&p)).map(Some),
        }
    }
}

/// Sweep children: a file listing the indices to sweep (the others of the set are skipped).
pub(crate) const ENV_SELECT: &str = "OOMCHECK_CHILD_SELECT";
/// Sweep children: run the fork strategy with this many forked processes alive at most.
pub(crate) const ENV_FORK: &str = "OOMCHECK_CHILD_FORK";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_sweeps_run_in_one_child() {
        let us = Duration::from_micros;
        // 100 allocations in 14 µs: 0.7 ms of work, less than one child's start.
        assert_eq!(rerun_jobs(8, us(14), 100), 1);
        // 1 000 allocations in 150 µs: 75 ms of work, worth every job.
        assert_eq!(rerun_jobs(8, us(150), 1000), 8);
        // 8 ms of work: four children's worth.
        assert_eq!(rerun_jobs(8, us(160), 100), 4);
        // Never fewer than one, never more than asked.
        assert_eq!(rerun_jobs(1, Duration::ZERO, 0), 1);
        assert_eq!(rerun_jobs(2, Duration::from_secs(1), 1000), 2);
    }

    #[test]
    fn parses_strategies() {
        assert_eq!(Strategy::parse("Fork"), Some(Strategy::Fork));
        assert_eq!(Strategy::parse(" rerun "), Some(Strategy::Rerun));
        assert_eq!(Strategy::parse("auto"), Some(Strategy::Auto));
        assert_eq!(Strategy::parse("spoon"), None);
    }

    #[test]
    fn auto_forks_only_large_isolated_sweeps() {
        let big = FORK_CROSSOVER * 10;
        assert_eq!(resolve(Strategy::Auto, big, big, true), Strategy::Fork);
        assert_eq!(resolve(Strategy::Auto, big, big, false), Strategy::Rerun);
        assert_eq!(resolve(Strategy::Auto, 100, 100, true), Strategy::Rerun);
        // A dedup'd sweep of 20 sites re-runs: 20 prefixes cost less than the fork machinery.
        assert_eq!(resolve(Strategy::Auto, big, 20, true), Strategy::Rerun);
        assert_eq!(resolve(Strategy::Fork, 10, 10, true), Strategy::Fork);
        assert_eq!(resolve(Strategy::Fork, 10, 10, false), Strategy::Rerun);
        assert_eq!(resolve(Strategy::Rerun, big, big, true), Strategy::Rerun);
    }

    #[test]
    fn selections_answer_membership_and_round_trip_through_a_file() {
        let r = Selection::Range(3, 5);
        assert!(r.contains(3) && r.contains(5) && !r.contains(6));
        assert_eq!(r.len(), 3);
        assert_eq!(r.indices().collect::<Vec<_>>(), vec![3, 4, 5]);
        let path = std::env::temp_dir().join(format!("oomcheck-sel-{}", std::process::id()));
        Selection::write(&[9, 2, 40], &path).unwrap();
        let l = Selection::read(&path).unwrap();
        assert_eq!(l, Selection::List(vec![2, 9, 40]));
        assert!(l.contains(9) && !l.contains(10));
        std::fs::write(&path, "1\nx\n").unwrap();
        assert!(Selection::read(&path).unwrap_err().contains("bad index"));
        let _ = std::fs::remove_file(&path);
    }
}
