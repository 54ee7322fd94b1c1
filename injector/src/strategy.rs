//! How a sweep runs its iterations: re-running the body per index, or forking at each allocation
//! of one run; which of the two `auto` picks, and how many sweep children a re-run sweep is
//! worth.

use crate::options::{parse_name, UnknownName};
use std::fmt;
use std::str::FromStr;
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
    /// Every strategy.
    pub const ALL: [Strategy; 3] = [Strategy::Auto, Strategy::Rerun, Strategy::Fork];

    /// The names [`FromStr`] accepts, for a command line's possible values (clap's
    /// `PossibleValuesParser::new(Strategy::NAMES)`).
    pub const NAMES: &'static [&'static str] = &["auto", "rerun", "fork"];

    /// The strategy's name as used by `OOMCHECK_STRATEGY`, the report and `--strategy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::Rerun => "rerun",
            Strategy::Fork => "fork",
        }
    }

    /// One line of help for a command line's list of possible values.
    pub fn help(self) -> &'static str {
        match self {
            Strategy::Auto => "Fork for bodies with many allocations, re-run otherwise.",
            Strategy::Rerun => "Re-run the body once per index.",
            Strategy::Fork => "Run the body once, forking at each swept allocation.",
        }
    }
}

impl FromStr for Strategy {
    type Err = UnknownName;

    /// `auto`, `rerun` or `fork`, in any case.
    fn from_str(text: &str) -> Result<Strategy, UnknownName> {
        parse_name(
            "strategy",
            Strategy::NAMES,
            &[
                ("auto", Strategy::Auto),
                ("rerun", Strategy::Rerun),
                ("fork", Strategy::Fork),
            ],
            text,
        )
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
        let parse = |s: &str| s.parse::<Strategy>().ok();
        assert_eq!(parse("Fork"), Some(Strategy::Fork));
        assert_eq!(parse(" rerun "), Some(Strategy::Rerun));
        assert_eq!(parse("auto"), Some(Strategy::Auto));
        assert_eq!(parse("spoon"), None);
        for s in Strategy::ALL {
            assert_eq!(s.to_string().parse::<Strategy>(), Ok(s));
            assert!(Strategy::NAMES.contains(&s.as_str()));
        }
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
}
