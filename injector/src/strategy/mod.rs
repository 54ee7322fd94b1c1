//! How a sweep runs its iterations: re-running the body per index, forking at each allocation
//! of one run, or both (re-running the early indices, forking at the later ones); which one
//! `auto` picks from the costs the sweep measured (`model.rs` estimates them, `fork_cost.rs`
//! times a fork), and how many sweep children each part is worth.

mod fork_cost;
mod model;

pub(crate) use fork_cost::fork_cost;
pub(crate) use model::{Layout, Room};

use crate::options::{parse_name, UnknownName};
use crate::selection::Selection;
use model::{Costed, Measured};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How the iterations of a sweep are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// The strategy estimated fastest from what the sweep measured: the body's time per
    /// allocation and the cost of a fork (see [`Estimates`]).
    #[default]
    Auto,
    /// Re-run the body once per index (the prefix before index *i* runs again for every *i*:
    /// O(n²) in total, but nothing shared between iterations).
    Rerun,
    /// Run the body once and `fork()` at each swept allocation: the forked process fails it and
    /// runs on to the verdict while the parent carries on (O(n) plus one fork per index).
    Fork,
    /// Re-run the indices whose prefix costs less than a fork, fork at the later ones: the two
    /// kinds of sweep children run side by side.
    Hybrid,
}

impl Strategy {
    /// Every strategy.
    pub const ALL: [Strategy; 4] = [
        Strategy::Auto,
        Strategy::Rerun,
        Strategy::Fork,
        Strategy::Hybrid,
    ];

    /// The names [`FromStr`] accepts, for a command line's possible values (clap's
    /// `PossibleValuesParser::new(Strategy::NAMES)`).
    pub const NAMES: &'static [&'static str] = &["auto", "rerun", "fork", "hybrid"];

    /// The strategy's name as used by `OOMCHECK_STRATEGY`, the report and `--strategy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::Rerun => "rerun",
            Strategy::Fork => "fork",
            Strategy::Hybrid => "hybrid",
        }
    }

    /// One line of help for a command line's list of possible values.
    pub fn help(self) -> &'static str {
        match self {
            Strategy::Auto => "Whichever is estimated fastest from the measured costs.",
            Strategy::Rerun => "Re-run the body once per index.",
            Strategy::Fork => "Run the body once, forking at each swept allocation.",
            Strategy::Hybrid => "Re-run the indices cheaper than a fork, fork at the later ones.",
        }
    }
}

impl FromStr for Strategy {
    type Err = UnknownName;

    /// `auto`, `rerun`, `fork` or `hybrid`, in any case.
    fn from_str(text: &str) -> Result<Strategy, UnknownName> {
        parse_name(
            "strategy",
            Strategy::NAMES,
            &[
                ("auto", Strategy::Auto),
                ("rerun", Strategy::Rerun),
                ("fork", Strategy::Fork),
                ("hybrid", Strategy::Hybrid),
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

/// One strategy's estimated time for a whole sweep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Wall time on otherwise idle cores, in milliseconds.
    #[serde(default)]
    pub wall_ms: f64,
    /// CPU time of every process of the sweep, in milliseconds.
    #[serde(default)]
    pub cpu_ms: f64,
}

/// What `auto` measured and estimated before choosing how to sweep, as the record keeps it (and
/// `OOMCHECK_DEBUG=1` prints it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimates {
    /// The body's time per allocation, in nanoseconds: its fastest normal run (without its waits
    /// for a core, when a fork was timed) over its allocations.
    #[serde(default)]
    pub alloc_ns: f64,
    /// One fork of the test process (`fork()`, `_exit` at once, `waitpid`), in microseconds of
    /// CPU time; `None` when not timed (re-running costs less than any fork could, or the
    /// process cannot fork).
    #[serde(default)]
    pub fork_us: Option<f64>,
    /// The sweep re-running every index.
    #[serde(default)]
    pub rerun: Estimate,
    /// The sweep forking at every index (`None` when forks were not timed).
    #[serde(default)]
    pub fork: Option<Estimate>,
    /// The hybrid sweep (`None` when its split falls outside the swept indices, or forks were
    /// not timed).
    #[serde(default)]
    pub hybrid: Option<Estimate>,
    /// The hybrid's split: indices up to this one re-run, later ones fork.
    #[serde(default)]
    pub split: Option<u64>,
}

impl Estimates {
    /// One line for a summary: every estimate, the measurements, and what ran.
    pub fn describe(&self, ran: Option<Strategy>) -> String {
        let time = |e: &Estimate| {
            let ms = |v: f64| {
                if v >= 1000.0 {
                    format!("{:.2} s", v / 1000.0)
                } else {
                    format!("{v:.1} ms")
                }
            };
            format!("{} ({} cpu)", ms(e.wall_ms), ms(e.cpu_ms))
        };
        let mut out = format!("estimated: rerun {}", time(&self.rerun));
        match &self.fork {
            Some(f) => out.push_str(&format!(", fork {}", time(f))),
            None => out.push_str(", fork not timed"),
        }
        if let (Some(h), Some(split)) = (&self.hybrid, self.split) {
            out.push_str(&format!(", hybrid {} re-running up to {split}", time(h)));
        }
        out.push_str(&format!("; {:.0} ns per allocation", self.alloc_ns));
        if let Some(f) = self.fork_us {
            out.push_str(&format!(", {f:.0} µs per fork"));
        }
        if let Some(s) = ran {
            out.push_str(&format!("; ran {s}"));
        }
        out
    }
}

/// What a sweep's plan is made from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inputs<'a> {
    /// The strategy asked for.
    pub(crate) requested: Strategy,
    /// The hybrid's split asked for (`OOMCHECK_HYBRID_SPLIT`), instead of the estimated one.
    pub(crate) split: Option<u64>,
    /// The body's fastest normal run.
    pub(crate) body: Duration,
    /// Its allocations.
    pub(crate) nalloc: u64,
    /// The indices to sweep.
    pub(crate) selection: &'a Selection,
    pub(crate) room: Room,
    /// Whether the sweep can run in children (the check has a libtest name): forking needs them.
    pub(crate) isolatable: bool,
    /// Estimate (and time a fork) even for a strategy asked for by name (`OOMCHECK_DEBUG`).
    pub(crate) estimate: bool,
}

/// How a sweep will run, and the estimates it was chosen by (if any were made).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Planned {
    pub(crate) layout: Layout,
    pub(crate) estimates: Option<Estimates>,
}

/// No fork costs less than this on any machine: while re-running is estimated faster than
/// forking at this cost, `auto` re-runs without timing a fork.
pub(crate) const FORK_FLOOR: Duration = Duration::from_micros(30);

/// What `plan` measures when a fork could win (or estimates are wanted anyway): the cost of a
/// fork of this process (`None` when it cannot fork), and the body's run timed again (the
/// fastest of a few more runs without their waits for a core, for a steadier time per
/// allocation).
pub(crate) struct Probes<F, B> {
    pub(crate) fork: F,
    pub(crate) body: B,
}

/// Plans a sweep of `inputs.selection`. `auto` (and `hybrid`, which needs its split) weigh the
/// measured costs, measuring more with `probes` only when a fork could win. A sweep that cannot
/// run in children re-runs in-process.
pub(crate) fn plan<F, B>(inputs: &Inputs<'_>, probes: Probes<F, B>) -> Planned
where
    F: FnOnce() -> Option<Duration>,
    B: FnOnce() -> Duration,
{
    let (requested, selection, room) = (inputs.requested, inputs.selection, inputs.room);
    let body = inputs.body.as_secs_f64();
    let mut measured = Measured {
        alloc: body / inputs.nalloc.max(1) as f64,
        body,
        fork: FORK_FLOOR.as_secs_f64(),
    };
    let at_floor = model::estimate(&measured, selection, room);
    let named = match requested {
        _ if !inputs.isolatable => Some(Layout::in_process()),
        Strategy::Rerun if !inputs.estimate => Some(at_floor.rerun.layout),
        Strategy::Fork if !inputs.estimate => Some(at_floor.fork.layout),
        _ => None,
    };
    if let Some(layout) = named {
        return Planned {
            layout,
            estimates: None,
        };
    }
    // Every estimate grows with the cost of a fork: if re-running beats forking at the floor,
    // it beats it at any cost.
    let rerun_anyway =
        requested == Strategy::Auto && at_floor.cheapest().layout.strategy == Strategy::Rerun;
    let fork = if rerun_anyway { None } else { (probes.fork)() };
    let mut e = at_floor;
    if let Some(f) = fork {
        let body = (probes.body)().min(inputs.body).as_secs_f64();
        measured.alloc = body / inputs.nalloc.max(1) as f64;
        measured.body = body;
        measured.fork = f.as_secs_f64();
        e = model::estimate(&measured, selection, room);
        if let (Strategy::Hybrid, Some(split)) = (requested, inputs.split) {
            e.hybrid = model::hybrid_at(&measured, selection, room, split);
        }
    }
    let layout = match requested {
        Strategy::Rerun => e.rerun.layout,
        Strategy::Fork => e.fork.layout,
        // Without a timed fork (the process cannot fork, or it could never pay): re-run.
        _ if fork.is_none() => e.rerun.layout,
        Strategy::Hybrid => e.hybrid.unwrap_or_else(|| e.cheapest()).layout,
        Strategy::Auto => e.cheapest().layout,
    };
    let estimate = |c: &Costed| Estimate {
        wall_ms: c.wall * 1e3,
        cpu_ms: c.cpu * 1e3,
    };
    let timed = |c: &Costed| fork.map(|_| estimate(c));
    Planned {
        layout,
        estimates: Some(Estimates {
            alloc_ns: measured.alloc * 1e9,
            fork_us: fork.map(|f| f.as_secs_f64() * 1e6),
            rerun: estimate(&e.rerun),
            fork: timed(&e.fork),
            hybrid: e.hybrid.as_ref().and_then(timed),
            split: e.hybrid.filter(|_| fork.is_some()).map(|c| c.layout.split),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const TWO_CORES: Room = Room { jobs: 2, cores: 2 };

    /// Plans sweeping every index of a body of `nalloc` allocations taking `body`, on a machine
    /// whose fork costs 150 µs; also says whether a fork was timed.
    fn plan_of(
        requested: Strategy,
        body: Duration,
        nalloc: u64,
        isolatable: bool,
    ) -> (Planned, bool) {
        plan_with(
            requested,
            body,
            &Selection::Range(1, nalloc),
            nalloc,
            isolatable,
        )
    }

    fn plan_with(
        requested: Strategy,
        body: Duration,
        selection: &Selection,
        nalloc: u64,
        isolatable: bool,
    ) -> (Planned, bool) {
        let timed = Cell::new(false);
        let planned = plan_probed(
            &Inputs {
                requested,
                split: None,
                body,
                nalloc,
                selection,
                room: TWO_CORES,
                isolatable,
                estimate: false,
            },
            || {
                timed.set(true);
                Some(Duration::from_micros(150))
            },
        );
        (planned, timed.get())
    }

    /// Plans with a fork probe; the body probe times the body as the inputs say.
    fn plan_probed(inputs: &Inputs<'_>, fork: impl FnOnce() -> Option<Duration>) -> Planned {
        let body = inputs.body;
        plan(
            inputs,
            Probes {
                fork,
                body: || body,
            },
        )
    }

    #[test]
    fn children_are_started_only_when_the_work_pays_for_them() {
        let us = |n: u64| Duration::from_micros(n).as_secs_f64();
        // The work of a re-run sweep of n indices of a body taking b: about b × n / 2.
        let worth = |jobs, body: f64, n: u64| model::children_worth(jobs, body * n as f64 / 2.0);
        // 100 allocations in 14 µs: 0.7 ms of work, less than one child's start.
        assert_eq!(worth(8, us(14), 100), 1);
        // 1 000 allocations in 150 µs: 75 ms of work, worth every job.
        assert_eq!(worth(8, us(150), 1000), 8);
        // 8 ms of work: four children's worth.
        assert_eq!(worth(8, us(160), 100), 4);
        // Never fewer than one, never more than asked.
        assert_eq!(worth(1, 0.0, 0), 1);
        assert_eq!(worth(2, 1.0, 1000), 2);
    }

    #[test]
    fn parses_strategies() {
        let parse = |s: &str| s.parse::<Strategy>().ok();
        assert_eq!(parse("Fork"), Some(Strategy::Fork));
        assert_eq!(parse(" rerun "), Some(Strategy::Rerun));
        assert_eq!(parse("auto"), Some(Strategy::Auto));
        assert_eq!(parse("HYBRID"), Some(Strategy::Hybrid));
        assert_eq!(parse("spoon"), None);
        for s in Strategy::ALL {
            assert_eq!(s.to_string().parse::<Strategy>(), Ok(s));
            assert!(Strategy::NAMES.contains(&s.as_str()));
        }
    }

    #[test]
    fn auto_forks_only_large_isolated_sweeps() {
        let ms = Duration::from_millis;
        // 30 000 allocations in 1.2 ms (40 ns each): re-run the early indices, fork the rest.
        let (big, timed) = plan_of(Strategy::Auto, Duration::from_micros(1200), 30_000, true);
        assert_eq!(big.layout.strategy, Strategy::Hybrid);
        assert!(timed);
        let e = big.estimates.expect("auto records its estimates");
        assert_eq!(e.fork_us, Some(150.0));
        assert!((e.alloc_ns - 40.0).abs() < 1e-6);
        let (fork, hybrid) = (e.fork.expect("timed"), e.hybrid.expect("a split"));
        assert!(
            hybrid.wall_ms < fork.wall_ms && fork.wall_ms < e.rerun.wall_ms,
            "{e:?}"
        );
        assert_eq!(e.split, Some(big.layout.split));
        // Not isolatable: re-run, in this process, without timing anything.
        let (alone, timed) = plan_of(Strategy::Auto, ms(6), 150_000, false);
        assert_eq!(alone.layout, Layout::in_process());
        assert!(!timed && alone.estimates.is_none());
        // 100 allocations: re-running costs less than any fork could, so none is timed.
        let (small, timed) = plan_of(Strategy::Auto, Duration::from_micros(14), 100, true);
        assert_eq!(small.layout.strategy, Strategy::Rerun);
        assert!(!timed);
        assert_eq!(small.estimates.expect("estimates").fork, None);
        // A dedup'd sweep of 20 sites among the first allocations of a big body re-runs.
        let sites = Selection::List((1..=20).map(|i| i * 3).collect());
        let (dedup, _) = plan_with(Strategy::Auto, ms(6), &sites, 150_000, true);
        assert_eq!(dedup.layout.strategy, Strategy::Rerun);
        // Named strategies run as named, without timing a fork.
        let (fork, timed) = plan_of(Strategy::Fork, ms(1), 10, true);
        assert_eq!(fork.layout.strategy, Strategy::Fork);
        assert!(!timed && fork.estimates.is_none());
        let (fork, _) = plan_of(Strategy::Fork, ms(1), 10, false);
        assert_eq!(fork.layout.strategy, Strategy::Rerun);
        let (rerun, _) = plan_of(Strategy::Rerun, ms(6), 150_000, true);
        assert_eq!(rerun.layout.strategy, Strategy::Rerun);
        assert_eq!(rerun.layout.rerun_children, 2);
    }

    #[test]
    fn the_body_is_timed_again_only_when_a_fork_could_win() {
        let probed = |nalloc: u64| {
            let selection = Selection::Range(1, nalloc);
            let retimed = Cell::new(false);
            let planned = plan(
                &Inputs {
                    requested: Strategy::Auto,
                    split: None,
                    body: Duration::from_nanos(80 * nalloc),
                    nalloc,
                    selection: &selection,
                    room: TWO_CORES,
                    isolatable: true,
                    estimate: false,
                },
                Probes {
                    fork: || Some(Duration::from_micros(150)),
                    body: || {
                        retimed.set(true);
                        // Faster runs than the baseline's: 40 ns per allocation.
                        Duration::from_nanos(40 * nalloc)
                    },
                },
            );
            (
                planned.estimates.expect("estimates").alloc_ns,
                retimed.get(),
            )
        };
        assert_eq!(probed(100), (80.0, false));
        let (alloc_ns, retimed) = probed(150_000);
        assert!(retimed && (alloc_ns - 40.0).abs() < 1e-6, "{alloc_ns}");
    }

    #[test]
    fn a_process_that_cannot_fork_reruns() {
        let selection = Selection::Range(1, 150_000);
        let planned = plan_probed(
            &Inputs {
                requested: Strategy::Auto,
                split: None,
                body: Duration::from_millis(6),
                nalloc: 150_000,
                selection: &selection,
                room: TWO_CORES,
                isolatable: true,
                estimate: false,
            },
            || None,
        );
        assert_eq!(planned.layout.strategy, Strategy::Rerun);
        let e = planned.estimates.expect("estimates");
        assert_eq!(
            (e.fork_us, e.fork, e.hybrid, e.split),
            (None, None, None, None)
        );
    }

    #[test]
    fn a_named_hybrid_splits_where_asked_and_debug_estimates_named_strategies() {
        let selection = Selection::Range(1, 100);
        let inputs = Inputs {
            requested: Strategy::Hybrid,
            split: Some(10),
            body: Duration::from_micros(100),
            nalloc: 100,
            selection: &selection,
            room: TWO_CORES,
            isolatable: true,
            estimate: false,
        };
        let fork = || Some(Duration::from_micros(150));
        let hybrid = plan_probed(&inputs, fork);
        assert_eq!(hybrid.layout.strategy, Strategy::Hybrid);
        assert_eq!(hybrid.layout.split, 10);
        assert_eq!(hybrid.estimates.expect("estimates").split, Some(10));
        // A split past every index: all re-run (the cheaper of the two for this body).
        let past = plan_probed(
            &Inputs {
                split: Some(500),
                ..inputs
            },
            fork,
        );
        assert_eq!(past.layout.strategy, Strategy::Rerun);
        // With OOMCHECK_DEBUG a named strategy records estimates too, and still runs as named.
        let debug = plan_probed(
            &Inputs {
                requested: Strategy::Fork,
                estimate: true,
                ..inputs
            },
            fork,
        );
        assert_eq!(debug.layout.strategy, Strategy::Fork);
        assert!(debug.estimates.expect("estimates").fork.is_some());
    }

    #[test]
    fn estimates_describe_what_ran_and_why() {
        let e = Estimates {
            alloc_ns: 40.0,
            fork_us: Some(150.0),
            rerun: Estimate {
                wall_ms: 9000.0,
                cpu_ms: 18000.0,
            },
            fork: Some(Estimate {
                wall_ms: 6300.0,
                cpu_ms: 12600.0,
            }),
            hybrid: Some(Estimate {
                wall_ms: 5300.0,
                cpu_ms: 10600.0,
            }),
            split: Some(10125),
        };
        assert_eq!(
            e.describe(Some(Strategy::Hybrid)),
            "estimated: rerun 9.00 s (18.00 s cpu), fork 6.30 s (12.60 s cpu), hybrid 5.30 s \
             (10.60 s cpu) re-running up to 10125; 40 ns per allocation, 150 µs per fork; ran hybrid"
        );
        let untimed = Estimates {
            fork_us: None,
            fork: None,
            hybrid: None,
            split: None,
            ..e
        };
        assert_eq!(
            untimed.describe(Some(Strategy::Rerun)),
            "estimated: rerun 9.00 s (18.00 s cpu), fork not timed; 40 ns per allocation; ran rerun"
        );
    }
}
