//! The public entry points: [`check`] and the [`Check`] builder. Running a check is `run.rs`'s.

use crate::allow::Allow;
use crate::env::Settings;
use crate::options::{Dedup, Mode};
use crate::outcome::Outcome;
use crate::predicate::DefaultNoMemory;
use crate::range::AllocRange;
use crate::strategy::Strategy;
use std::fmt::Debug;
use std::ops::RangeBounds;
use std::time::Duration;

/// Sweeps `body` with the default settings and panics with a summary on any finding.
///
/// Shorthand for `Check::new().run(body).assert()`.
#[track_caller]
pub fn check<T, E, F>(body: F)
where
    F: Fn() -> Result<T, E>,
    T: Debug,
    E: Debug,
{
    Check::new().run(body).assert();
}

/// A configurable check: build it, then [`run`](Check::run) a body.
///
/// Every setting can also come from an `OOMCHECK_*` variable ([`Settings`]), which overrides the
/// builder's value.
#[derive(Debug, Clone)]
#[must_use = "a Check does nothing until `.run(body)` is called"]
pub struct Check<P = DefaultNoMemory> {
    pub(crate) predicate: P,
    /// The builder's settings (`enabled` is [`Check::always`]).
    pub(crate) settings: Settings,
    /// The check's name instead of the test thread's ([`Check::test_name`]).
    pub(crate) name: Option<String>,
    /// Expected outcomes ([`Check::allow`], [`Check::allow_site`]).
    pub(crate) allows: Vec<Allow>,
}

impl Default for Check<DefaultNoMemory> {
    fn default() -> Self {
        Self::new()
    }
}

impl Check<DefaultNoMemory> {
    /// A check with the default NoMemory predicate, transient mode, all allocations, one job per
    /// available core, and a generous per-iteration timeout.
    pub fn new() -> Self {
        Check {
            predicate: DefaultNoMemory,
            settings: Settings::default(),
            name: None,
            allows: Vec::new(),
        }
    }
}

impl<P> Check<P> {
    /// Replaces the NoMemory predicate: `pred(&error)` says whether an error means "out of memory".
    pub fn no_memory<E, Q: Fn(&E) -> bool>(self, pred: Q) -> Check<Q> {
        Check {
            predicate: pred,
            settings: self.settings,
            name: self.name,
            allows: self.allows,
        }
    }

    /// Accepts `outcome` wherever it happens, for `reason` (a known, deliberate result:
    /// `Check::new().allow(Outcome::Abort, "Rc::from reallocates; documented")`). Allowed
    /// findings are reported as "allowed" with the reason and counted apart
    /// ([`Report::allowed`](crate::Report::allowed)); they do not fail the check.
    pub fn allow(mut self, outcome: Outcome, reason: &str) -> Self {
        self.allows.push(Allow {
            outcome: Some(outcome),
            site: None,
            reason: reason.to_string(),
        });
        self
    }

    /// Accepts any finding whose failed allocation's stack has a frame whose function path or
    /// `file:line` contains `site` (`"fallible_collections::rc"`, `"src/io.rs:42"`), for `reason`.
    pub fn allow_site(mut self, site: &str, reason: &str) -> Self {
        self.allows.push(Allow {
            outcome: None,
            site: Some(site.to_string()),
            reason: reason.to_string(),
        });
        self
    }

    /// Fails only allocation *i* ([`Mode::Transient`], the default) or *i* and all later ones.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.settings.mode = Some(mode);
        self
    }

    /// Sweeps only these 1-based allocation indices, e.g. `7..=10` or `5..`.
    pub fn alloc_range(mut self, range: impl RangeBounds<u64>) -> Self {
        self.settings.range = Some(AllocRange::from_bounds(range));
        self
    }

    /// Per-iteration timeout after which an iteration counts as `hang`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = Some(timeout);
        self
    }

    /// Most child processes sweeping in parallel (default: available cores). A sweep too short
    /// to pay for a process start per child uses fewer.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.settings.jobs = Some(jobs.max(1));
        self
    }

    /// Whether `tolerated` (a swallowed failure with unchanged output) is a finding.
    pub fn strict(mut self, strict: bool) -> Self {
        self.settings.strict = Some(strict);
        self
    }

    /// Site dedup: fails only the first allocation of each distinct call site, the site being a
    /// hash of `depth` return addresses above the allocator (`OOMCHECK_DEDUP=site`,
    /// `OOMCHECK_DEDUP_DEPTH`; the default depth is 16).
    pub fn dedup_sites(mut self, depth: usize) -> Self {
        self.settings.dedup = Some(Dedup::Site);
        self.settings.dedup_depth = Some(depth.max(1));
        self
    }

    /// Sweeps `n` indices of the range chosen at random from `seed` (`OOMCHECK_SAMPLE`,
    /// `OOMCHECK_SEED`); without a seed one is made up and printed, so the sample can be replayed.
    pub fn sample(mut self, n: u64, seed: Option<u64>) -> Self {
        self.settings.sample = Some(n);
        self.settings.seed = seed;
        self
    }

    /// How iterations run: re-running the body per index, forking at each allocation of one run,
    /// both (`hybrid`), or (`auto`, the default) whichever is estimated fastest from the measured
    /// costs (`OOMCHECK_STRATEGY`).
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.settings.strategy = Some(strategy);
        self
    }

    /// Sweeps even when `OOMCHECK` is not set.
    pub fn always(mut self) -> Self {
        self.settings.enabled = true;
        self
    }

    /// Names the check instead of the test thread's name; the name is also the libtest filter
    /// children are started with. For harnesses other than libtest (benchmarks).
    #[doc(hidden)]
    pub fn test_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predicate::NoMemoryPredicate;

    #[test]
    fn alloc_range_accepts_every_range_form() {
        let r = |c: Check| c.settings.range.expect("range set");
        let range = |start, end| AllocRange::new(start, end).expect("a valid range");
        assert_eq!(r(Check::new().alloc_range(7..=10)), range(7, Some(10)));
        assert_eq!(r(Check::new().alloc_range(2..5)), range(2, Some(4)));
        assert_eq!(r(Check::new().alloc_range(5..)), range(5, None));
        assert_eq!(r(Check::new().alloc_range(..=3)), range(1, Some(3)));
        assert_eq!(r(Check::new().alloc_range(0..=2)), range(1, Some(2)));
        assert_eq!(r(Check::new().alloc_range(..)), AllocRange::ALL);
    }

    #[test]
    fn builder_keeps_settings_across_a_predicate_change() {
        let c = Check::new()
            .mode(Mode::Persistent)
            .jobs(0)
            .strict(true)
            .timeout(Duration::from_secs(2))
            .always()
            .no_memory(|e: &u8| *e == 0);
        assert_eq!(c.settings.mode, Some(Mode::Persistent));
        assert_eq!(c.settings.jobs, Some(1));
        assert_eq!(c.settings.strict, Some(true));
        assert_eq!(c.settings.timeout, Some(Duration::from_secs(2)));
        assert!(c.settings.enabled);
        assert!(c.predicate.is_no_memory(&0, ""));
        assert!(!c.predicate.is_no_memory(&1, "OutOfMemory"));
        assert!(NoMemoryPredicate::<u8>::is_no_memory(
            &DefaultNoMemory,
            &1,
            "OutOfMemory"
        ));
    }

    #[test]
    fn dedup_sites_turns_site_dedup_on_with_its_depth() {
        let c = Check::new().dedup_sites(0);
        assert_eq!(c.settings.dedup, Some(Dedup::Site));
        assert_eq!(c.settings.dedup_depth, Some(1));
    }
}
