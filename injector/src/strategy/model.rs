//! `auto`'s cost model: the time each way of running a sweep would take, estimated from what the
//! sweep measured (the body's time per allocation, the cost of one fork of the test process), and
//! the layout of children each estimate assumes. A pure function of its inputs, testable without
//! timing anything.
//!
//! - **Re-run**: index *i* re-runs the prefix before it, *i* × the time per allocation, plus the
//!   harness's work per iteration; the children share the indices evenly.
//! - **Fork**: a fork server runs the body once and pays, per index, its side of a fork (the
//!   `fork()` call, the pipes, reaping the forked process) one index after another, while the
//!   forked processes (their side of the fork, the error path, the verdict, the exit) run beside
//!   it.
//! - **Hybrid**: indices whose re-run costs less than a fork re-run, later ones fork; both parts
//!   run side by side.
//!
//! Each layout's time is its CPU time, and its wall time on otherwise idle cores: the larger of
//! its CPU time spread over the cores its processes can use and its longest chain of work that
//! cannot be split (one child's share, the server's forks), the children's start (process start
//! and normal runs) included. On a loaded machine every strategy slows down about alike, so the
//! choice stands.

use super::Strategy;
use crate::selection::Selection;

/// What the sweep measured, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Measured {
    /// Time per allocation of the body: its fastest normal run over its allocations.
    pub(crate) alloc: f64,
    /// One normal run of the body.
    pub(crate) body: f64,
    /// One fork of the test process (`fork()`, `_exit` in the forked process, `waitpid`), in
    /// CPU time.
    pub(crate) fork: f64,
}

/// The cores a sweep runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Room {
    /// Sweep processes of the check (`OOMCHECK_JOBS`; by default the cores).
    pub(crate) jobs: usize,
    /// Cores of the machine.
    pub(crate) cores: usize,
}

/// How a sweep's children are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// What runs: [`Strategy::Rerun`], [`Strategy::Fork`] or [`Strategy::Hybrid`].
    pub(crate) strategy: Strategy,
    /// Indices up to this one re-run, later ones fork (0 for fork, `u64::MAX` for re-run).
    pub(crate) split: u64,
    /// Children re-running the indices up to `split`.
    pub(crate) rerun_children: usize,
    /// Fork servers forking at the indices after `split`.
    pub(crate) fork_servers: usize,
    /// Forked processes alive at most per fork server.
    pub(crate) forked_per_server: usize,
}

impl Layout {
    /// A sweep in this process (no crash isolation): re-running, no children.
    pub(crate) fn in_process() -> Layout {
        Layout {
            strategy: Strategy::Rerun,
            split: u64::MAX,
            rerun_children: 0,
            fork_servers: 0,
            forked_per_server: 0,
        }
    }
}

/// A layout and its estimated times, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Costed {
    pub(crate) layout: Layout,
    /// Wall time on otherwise idle cores.
    pub(crate) wall: f64,
    /// CPU time of every process of the sweep.
    pub(crate) cpu: f64,
}

/// The estimate of each strategy (the hybrid only when its split falls within the swept
/// indices).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Estimated {
    pub(crate) rerun: Costed,
    pub(crate) fork: Costed,
    pub(crate) hybrid: Option<Costed>,
}

impl Estimated {
    /// The layout to run: the faster of re-run and fork (re-run on a tie), or the hybrid when it
    /// is estimated faster than both by [`HYBRID_GAIN`].
    pub(crate) fn cheapest(&self) -> Costed {
        let simple = if self.fork.wall < self.rerun.wall {
            self.fork
        } else {
            self.rerun
        };
        match self.hybrid {
            Some(h) if h.wall < HYBRID_GAIN * simple.wall => h,
            _ => simple,
        }
    }
}

/// The hybrid runs only when estimated at most this fraction of the faster simple strategy's
/// time. Its gain is largest near the crossover of re-run and fork (a quarter of the time at
/// best, in theory) and small elsewhere, where the benchmark measured it within a few percent
/// of the better simple strategy, on either side.
pub(crate) const HYBRID_GAIN: f64 = 0.9;

/// Starting one sweep child: exec, dynamic loading, the test harness (1–2 ms on the 2-core
/// machine of `benches/sweep.rs`). Its normal runs are counted apart.
pub(crate) const CHILD_START: f64 = 2e-3;

/// The harness's work per re-run iteration besides the body: journaling the index and its
/// result, classifying the run.
pub(crate) const ITERATION: f64 = 15e-6;

/// A fork server's own work per index, in measured forks ([`Measured::fork`]): its side of the
/// `fork()` (copying the page tables), the copy-on-write faults that follow, two pipes, reaping
/// the forked process and journaling its result. Measured on the 2-core machine of the README's
/// table: about one fork timed alone.
pub(crate) const SERVER_FORKS: f64 = 1.0;

/// A forked process's work, in measured forks: its side of the fork, faulting in the pages it
/// touches (the code of the error path and of the verdict, copies of the data it writes), its
/// verdict, and its exit. Measured as [`SERVER_FORKS`] was: about two forks.
pub(crate) const FORKED_FORKS: f64 = 2.0;

/// The swept indices within `from..=to`: how many, and their sum.
fn swept(selection: &Selection, from: u64, to: u64) -> (u64, f64) {
    match selection {
        Selection::Range(lo, hi) => {
            let (a, b) = ((*lo).max(from), (*hi).min(to));
            if a > b {
                return (0, 0.0);
            }
            let count = b - a + 1;
            (count, (a as f64 + b as f64) * count as f64 / 2.0)
        }
        Selection::List(list) => list
            .iter()
            .filter(|&&i| (from..=to).contains(&i))
            .fold((0, 0.0), |(n, sum), &i| (n + 1, sum + i as f64)),
    }
}

/// Children worth starting for `work` seconds of iterations: at most `jobs`, and no more than
/// the work pays for (a child's start is [`CHILD_START`]).
pub(crate) fn children_worth(jobs: usize, work: f64) -> usize {
    let worth = (work / CHILD_START) as usize;
    jobs.min(worth).max(1)
}

/// Work of (a part of) a sweep: the total (seconds of CPU), its longest chain that cannot be
/// split, and how many processes share it.
#[derive(Debug, Clone, Copy)]
struct Work {
    cpu: f64,
    chain: f64,
    processes: usize,
}

impl Work {
    const NONE: Work = Work {
        cpu: 0.0,
        chain: 0.0,
        processes: 0,
    };

    /// Two parts running side by side.
    fn beside(self, other: Work) -> Work {
        Work {
            cpu: self.cpu + other.cpu,
            chain: self.chain.max(other.chain),
            processes: self.processes + other.processes,
        }
    }

    /// The estimate of `layout` doing this work on the cores of `room`: its CPU time spread
    /// over the cores its processes can use, or its chain, whichever is longer.
    fn costed(self, layout: Layout, room: Room) -> Costed {
        let lanes = room.cores.min(self.processes).max(1) as f64;
        Costed {
            layout,
            wall: (self.cpu / lanes).max(self.chain),
            cpu: self.cpu,
        }
    }
}

/// Re-running `count` indices summing to `sum` in `children` children.
fn rerun_work(m: &Measured, count: u64, sum: f64, children: usize) -> Work {
    if count == 0 {
        return Work::NONE;
    }
    let iterations = m.alloc * sum + ITERATION * count as f64;
    // Process start, prime run and counting run.
    let start = CHILD_START + 2.0 * m.body;
    let k = children.max(1) as f64;
    Work {
        cpu: k * start + iterations,
        chain: start + iterations / k,
        processes: children,
    }
}

/// Re-run children for `count` indices summing to `sum`.
fn rerun_children(m: &Measured, count: u64, sum: f64, room: Room) -> usize {
    children_worth(room.jobs, m.alloc * sum + ITERATION * count as f64)
}

/// Forking at `count` indices in `servers` fork servers with `forked` forked processes each.
fn fork_work(m: &Measured, count: u64, servers: usize, forked: usize) -> Work {
    if count == 0 {
        return Work::NONE;
    }
    let (server, child) = (SERVER_FORKS * m.fork, FORKED_FORKS * m.fork);
    // Process start, prime run, counting run, and the run that forks.
    let start = CHILD_START + 3.0 * m.body;
    let k = servers.max(1) as f64;
    // A server forks its indices one after another; with one forked process at a time, it
    // also waits for each before forking the next.
    let serial = if forked <= 1 { server + child } else { server };
    Work {
        cpu: k * start + count as f64 * (server + child),
        chain: start + count as f64 / k * serial,
        processes: servers * (1 + forked),
    }
}

/// The fork layout: one fork server, with a forked process per job.
///
/// Several servers, each forking at a share of the indices, were measured on 2 cores: one
/// server's own work per index (one fork) is below the per-core share of the whole work there
/// (three forks over 2 cores), so one server does not hold the sweep back; and two servers of one
/// forked process each spent twice the CPU time per index (each server sleeps and wakes at
/// every index).
pub(crate) fn fork_layout(room: Room) -> Layout {
    Layout {
        strategy: Strategy::Fork,
        split: 0,
        rerun_children: 0,
        fork_servers: 1,
        forked_per_server: room.jobs.max(1),
    }
}

/// The estimates of every strategy for sweeping `selection`.
pub(crate) fn estimate(m: &Measured, selection: &Selection, room: Room) -> Estimated {
    let (count, sum) = swept(selection, 0, u64::MAX);
    let children = rerun_children(m, count, sum, room);
    let rerun = rerun_work(m, count, sum, children).costed(
        Layout {
            strategy: Strategy::Rerun,
            split: u64::MAX,
            rerun_children: children,
            fork_servers: 0,
            forked_per_server: 0,
        },
        room,
    );
    let layout = fork_layout(room);
    let fork =
        fork_work(m, count, layout.fork_servers, layout.forked_per_server).costed(layout, room);
    Estimated {
        rerun,
        fork,
        hybrid: hybrid(m, selection, room),
    }
}

/// The hybrid: indices whose re-run costs less CPU than forking at them re-run, later ones fork.
/// `None` when every swept index falls on one side.
fn hybrid(m: &Measured, selection: &Selection, room: Room) -> Option<Costed> {
    if m.alloc <= 0.0 {
        return None;
    }
    let per_fork = (SERVER_FORKS + FORKED_FORKS) * m.fork;
    let split = ((per_fork - ITERATION).max(0.0) / m.alloc).min(u64::MAX as f64 / 2.0) as u64;
    hybrid_at(m, selection, room, split)
}

/// The hybrid re-running the indices up to `split` and forking at the later ones (with the fork
/// layout), both parts side by side. `None` when every swept index falls on one side.
pub(crate) fn hybrid_at(
    m: &Measured,
    selection: &Selection,
    room: Room,
    split: u64,
) -> Option<Costed> {
    let (early, early_sum) = swept(selection, 0, split);
    let late = selection.len() - early;
    if early == 0 || late == 0 {
        return None;
    }
    let children = rerun_children(m, early, early_sum, room);
    let fork = fork_layout(room);
    let work = rerun_work(m, early, early_sum, children).beside(fork_work(
        m,
        late,
        fork.fork_servers,
        fork.forked_per_server,
    ));
    Some(work.costed(
        Layout {
            strategy: Strategy::Hybrid,
            split,
            rerun_children: children,
            ..fork
        },
        room,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_CORES: Room = Room { jobs: 2, cores: 2 };

    /// A body of `alloc` seconds per allocation and `n` allocations, on a machine whose fork
    /// costs `fork` seconds.
    fn measured(alloc: f64, n: u64, fork: f64) -> Measured {
        Measured {
            alloc,
            body: alloc * n as f64,
            fork,
        }
    }

    #[test]
    fn counts_and_sums_the_swept_indices() {
        assert_eq!(swept(&Selection::Range(1, 4), 0, u64::MAX), (4, 10.0));
        assert_eq!(swept(&Selection::Range(1, 4), 3, 9), (2, 7.0));
        assert_eq!(swept(&Selection::Range(5, 9), 0, 4), (0, 0.0));
        assert_eq!(swept(&Selection::List(vec![2, 7, 40]), 3, 40), (2, 47.0));
    }

    #[test]
    fn a_rerun_costs_the_prefixes_spread_over_its_children() {
        // 3 000 allocations of 50 ns: 225 ms of prefixes, 45 ms of iterations.
        let m = measured(50e-9, 3000, 150e-6);
        let e = estimate(&m, &Selection::Range(1, 3000), TWO_CORES);
        assert_eq!(e.rerun.layout.rerun_children, 2);
        let work = 50e-9 * 3000.0 * 3001.0 / 2.0 + 3000.0 * ITERATION;
        let start = CHILD_START + 2.0 * m.body;
        assert!((e.rerun.cpu - (work + 2.0 * start)).abs() < 1e-9, "{e:?}");
        assert!((e.rerun.wall - (work / 2.0 + start)).abs() < 1e-9, "{e:?}");
    }

    #[test]
    fn a_fork_sweep_costs_forks_and_one_server_does_not_hold_it_back_on_two_cores() {
        let m = measured(50e-9, 3000, 150e-6);
        let e = estimate(&m, &Selection::Range(1, 3000), TWO_CORES);
        assert_eq!(
            (e.fork.layout.fork_servers, e.fork.layout.forked_per_server),
            (1, 2)
        );
        let per_index = (SERVER_FORKS + FORKED_FORKS) * 150e-6;
        let start = CHILD_START + 3.0 * m.body;
        assert!((e.fork.cpu - (start + 3000.0 * per_index)).abs() < 1e-9);
        // Three processes on two cores share the CPU time; the server's chain is shorter.
        assert!((e.fork.wall - e.fork.cpu / 2.0).abs() < 1e-9, "{e:?}");
        // With one job the server waits for each forked process: its chain is everything.
        let one = estimate(&m, &Selection::Range(1, 3000), Room { jobs: 1, cores: 2 });
        assert!((one.fork.wall - (start + 3000.0 * per_index)).abs() < 1e-9);
    }

    #[test]
    fn the_cheaper_strategy_wins_on_a_cheap_body_and_an_expensive_one() {
        let fork = 150e-6;
        let pick = |alloc: f64, n: u64| {
            let e = estimate(
                &measured(alloc, n, fork),
                &Selection::Range(1, n),
                TWO_CORES,
            );
            e.cheapest().layout.strategy
        };
        // 40 ns per allocation: a prefix costs less than a fork up to about 10 000; the hybrid
        // gains most a few times past that, little much further.
        assert_eq!(pick(40e-9, 1_000), Strategy::Rerun);
        assert_eq!(pick(40e-9, 3_000), Strategy::Rerun);
        assert_eq!(pick(40e-9, 30_000), Strategy::Hybrid);
        assert_eq!(pick(40e-9, 300_000), Strategy::Fork);
        // 1 µs per allocation: forking wins early (the hybrid re-running 400 indices gains
        // too little).
        assert_eq!(pick(1e-6, 100), Strategy::Rerun);
        assert_eq!(pick(1e-6, 3_000), Strategy::Fork);
        // A fork that costs nothing: forking everything wins.
        let free = estimate(
            &measured(1e-6, 3000, 0.0),
            &Selection::Range(1, 3000),
            TWO_CORES,
        );
        assert_eq!(free.cheapest().layout.strategy, Strategy::Fork);
    }

    #[test]
    fn the_hybrid_reruns_the_prefixes_cheaper_than_a_fork() {
        let m = measured(40e-9, 100_000, 150e-6);
        let e = estimate(&m, &Selection::Range(1, 100_000), TWO_CORES);
        let h = e.hybrid.expect("a split within the range");
        let per_fork = (SERVER_FORKS + FORKED_FORKS) * 150e-6;
        // Re-running index `split` costs about as much CPU as forking at it.
        let at_split = h.layout.split as f64 * 40e-9 + ITERATION;
        assert!((at_split - per_fork).abs() < 1e-7, "{h:?}");
        assert!(h.cpu < e.rerun.cpu && h.cpu < e.fork.cpu, "{e:?}");
        assert_eq!((h.layout.rerun_children, h.layout.fork_servers), (2, 1));
        // A range wholly before or after the split has no hybrid.
        let early = Selection::Range(1, h.layout.split);
        assert_eq!(estimate(&m, &early, TWO_CORES).hybrid, None);
        let late = Selection::Range(h.layout.split + 1, 100_000);
        assert_eq!(estimate(&m, &late, TWO_CORES).hybrid, None);
    }

    #[test]
    fn every_estimate_grows_with_the_cost_of_a_fork() {
        let selection = Selection::Range(1, 50_000);
        let mut last = estimate(&measured(40e-9, 50_000, 0.0), &selection, TWO_CORES);
        for fork in [10e-6, 30e-6, 100e-6, 300e-6, 1e-3] {
            let e = estimate(&measured(40e-9, 50_000, fork), &selection, TWO_CORES);
            assert_eq!(e.rerun, last.rerun);
            assert!(e.fork.wall > last.fork.wall);
            assert!(e.cheapest().wall >= last.cheapest().wall);
            last = e;
        }
    }

    #[test]
    fn a_sampled_sweep_costs_its_own_indices() {
        let m = measured(1e-6, 100_000, 150e-6);
        let sample = Selection::List(vec![10, 50_000, 99_000]);
        let e = estimate(&m, &sample, TWO_CORES);
        // Three prefixes, 149 ms of CPU in all, in one child (or in as many as are worth it).
        let work = 1e-6 * 149_010.0 + 3.0 * ITERATION;
        let start = CHILD_START + 2.0 * m.body;
        let k = e.rerun.layout.rerun_children as f64;
        assert!((e.rerun.cpu - (work + k * start)).abs() < 1e-9, "{e:?}");
        let h = e.hybrid.expect("index 10 re-runs, the others fork");
        assert!(h.layout.split >= 10 && h.layout.split < 50_000);
    }
}
