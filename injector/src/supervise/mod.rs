//! The supervisor: runs a sweep in child processes that re-execute the test binary for one test,
//! `jobs` at a time, and turns a child that died into one outcome (by `outcome::died`) for the
//! index it was running; a new child carries on after it.
//!
//! A crashed index is run once more in a fresh child capturing stacks, to find its site. A child
//! that keeps dying before it reaches its indices has them all accounted as `abort`, with the
//! reason. If the supervisor itself fails once a child has started (a child can no longer be
//! started, say), it stops: the results so far are kept, and the indices without one are left to
//! the caller to report as unswept.

mod exit_watch;
mod scratch;

use crate::env::{ChildRequest, Settings};
use crate::journal::Journal;
use crate::options::Mode;
use crate::outcome::{self, died};
use crate::report::IterationResult;
use crate::selection::IndexSet;
use crate::tokens::{Budget, Token};
use exit_watch::ExitWatch;
use scratch::Scratch;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// One part of a sweep: the indices `lo..=hi` dealt out to `children` children in interleaved
/// shares, each child re-running its share or forking at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) lo: u64,
    pub(crate) hi: u64,
    pub(crate) children: usize,
    /// Each child is a fork server with this many forked processes alive at most; `None`: each
    /// child re-runs the body per index.
    pub(crate) fork_jobs: Option<usize>,
}

/// What the supervisor needs to know about the check.
pub(crate) struct Plan<'a> {
    pub(crate) test: &'a str,
    pub(crate) ordinal: u32,
    /// The parts of the sweep, run side by side (their ranges do not overlap).
    pub(crate) parts: Vec<Part>,
    pub(crate) mode: Mode,
    pub(crate) strict: bool,
    pub(crate) timeout: Duration,
    /// Arguments that make the test binary run exactly this test.
    pub(crate) args: Vec<String>,
    /// The file listing the indices to sweep (site dedup, sampling).
    pub(crate) select: Option<PathBuf>,
    /// The job budget shared by the checks of a run: a child starts only with a token.
    pub(crate) budget: Option<Budget>,
}

/// What the supervisor did.
pub(crate) struct Supervised {
    /// The result of every index that has one.
    pub(crate) done: BTreeMap<u64, IterationResult>,
    /// The error that stopped the sweep midway, if one did: the indices of `lo..=hi` without a
    /// result were never swept.
    pub(crate) stopped: Option<SuperviseError>,
    /// Most allocations a child saw on threads the body started.
    pub(crate) foreign_allocs: u64,
}

/// Why the supervisor could not run (or finish) a sweep in children.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SuperviseError {
    /// The test executable, which children re-execute, cannot be found.
    #[error("cannot find the test executable: {0}")]
    NoExecutable(#[source] std::io::Error),
    /// The scratch directory of the journals cannot be created.
    #[error("cannot create {}: {source}", path.display())]
    Scratch {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A child's stderr file cannot be created.
    #[error("cannot create {}: {source}", path.display())]
    StderrFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A child cannot be started.
    #[error("cannot start {}: {source}", exe.display())]
    Spawn {
        /// The test executable.
        exe: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Waiting for a child failed.
    #[error("cannot wait for a sweep child: {0}")]
    Wait(#[source] std::io::Error),
}

/// Runs the sweep of the parts of `plan` in children. `Err` when no child could be started at
/// all (nothing ran, so the caller may sweep otherwise); once one has started, every index ends
/// up in the result, or the sweep stopped and says why.
pub(crate) fn supervise(plan: &Plan<'_>) -> Result<Supervised, SuperviseError> {
    let mut supervisor = Supervisor::new(plan)?;
    match supervisor.run() {
        Ok(()) => Ok(supervisor.finish(None)),
        Err(e) if supervisor.started == 0 => Err(e),
        Err(e) => Ok(supervisor.finish(Some(e))),
    }
}

/// The indices a child is given, and how it runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Share {
    set: IndexSet,
    /// Re-run a crashed first index capturing stacks.
    capture: bool,
    /// Fork at the indices, this many forked processes at most ([`Part::fork_jobs`]).
    fork_jobs: Option<usize>,
}

/// A child at work.
struct Running {
    child: Child,
    exited: ExitWatch,
    share: Share,
    journal: PathBuf,
    stderr: PathBuf,
    last_len: u64,
    last_change: Instant,
    killed: bool,
    /// The job-budget token this child runs on, released when it is dropped.
    _token: Option<Token>,
}

impl Running {
    /// Kills the child when it stopped journaling for longer than `stall`.
    fn watch_stall(&mut self, stall: Duration) {
        let len = std::fs::metadata(&self.journal)
            .map(|m| m.len())
            .unwrap_or(0);
        if len != self.last_len {
            self.last_len = len;
            self.last_change = Instant::now();
        } else if !self.killed && self.last_change.elapsed() > stall {
            self.killed = true;
            let _ = self.child.kill();
        }
    }

    /// Its journal, as written so far.
    fn journal(&self) -> Journal {
        Journal::parse(&std::fs::read_to_string(&self.journal).unwrap_or_default())
    }
}

impl Drop for Running {
    /// A child still running when the supervisor gives up (an error, an unwinding panic) is
    /// killed and reaped rather than left orphaned.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The state of one sweep in children.
struct Supervisor<'p> {
    plan: &'p Plan<'p>,
    exe: PathBuf,
    scratch: Scratch,
    /// This process's anchor address (see `stack::anchor`).
    anchor: usize,
    /// Shares waiting for a child.
    pending: Vec<Share>,
    /// Crashes waiting for their re-run with stack capture.
    awaiting: BTreeMap<u64, IterationResult>,
    running: Vec<Running>,
    done: BTreeMap<u64, IterationResult>,
    /// Children started so far.
    started: u64,
    /// Children attempted so far (names their files).
    attempted: u64,
    /// Consecutive children of one set that made no progress.
    stuck: BTreeMap<u64, u32>,
    /// A child that stops journaling for this long is killed.
    stall: Duration,
    /// Most allocations a child saw on threads the body started.
    foreign: u64,
}

impl<'p> Supervisor<'p> {
    fn new(plan: &'p Plan<'p>) -> Result<Supervisor<'p>, SuperviseError> {
        let exe = std::env::current_exe().map_err(SuperviseError::NoExecutable)?;
        let scratch =
            Scratch::create().map_err(|(path, source)| SuperviseError::Scratch { path, source })?;
        let pending = plan.parts.iter().flat_map(shares).collect();
        Ok(Supervisor {
            plan,
            exe,
            scratch,
            anchor: crate::stack::anchor(),
            pending,
            awaiting: BTreeMap::new(),
            running: Vec::new(),
            done: BTreeMap::new(),
            started: 0,
            attempted: 0,
            stuck: BTreeMap::new(),
            stall: outcome::stall_limit(plan.timeout),
            foreign: 0,
        })
    }

    /// Starts children and settles the ones that exit until every set is done.
    fn run(&mut self) -> Result<(), SuperviseError> {
        while !self.pending.is_empty() || !self.running.is_empty() {
            self.start_pending()?;
            if !self.reap()? {
                // Children waiting for a job token retry soon; otherwise sleep until a child
                // exits, waking now and then to look for stalled ones.
                let most = if self.pending.is_empty() {
                    Duration::from_millis(100)
                } else {
                    Duration::from_millis(2)
                };
                ExitWatch::wait_any(self.running.iter().map(|r| &r.exited), most);
            }
        }
        Ok(())
    }

    /// Starts a child for each pending set (with a shared job budget, as tokens allow).
    fn start_pending(&mut self) -> Result<(), SuperviseError> {
        while let Some(share) = self.pending.pop() {
            // A shared job budget (`oomcheck run`): start a child only with a token in hand.
            let token = match &self.plan.budget {
                None => None,
                Some(b) => match b.try_acquire() {
                    Some(t) => Some(t),
                    None => {
                        self.pending.push(share);
                        break;
                    }
                },
            };
            let child = self.spawn(share, token)?;
            self.started += 1;
            self.running.push(child);
        }
        Ok(())
    }

    /// Starts a child sweeping `share`.
    fn spawn(&mut self, share: Share, token: Option<Token>) -> Result<Running, SuperviseError> {
        self.attempted += 1;
        let plan = self.plan;
        let journal = self.scratch.file(&format!("journal-{}", self.attempted));
        let stderr = self.scratch.file(&format!("stderr-{}", self.attempted));
        let err_file =
            std::fs::File::create(&stderr).map_err(|source| SuperviseError::StderrFile {
                path: stderr.clone(),
                source,
            })?;
        let request = ChildRequest {
            journal: journal.clone(),
            test: plan.test.to_string(),
            ordinal: plan.ordinal,
            set: share.set,
            capture_first: share.capture,
            parent: Some(std::process::id() as i32),
            select: plan.select.clone(),
            fork_jobs: share.fork_jobs,
        };
        // The check's settings as the supervisor resolved them (builder and environment).
        let settings = Settings {
            mode: Some(plan.mode),
            strict: Some(plan.strict),
            timeout: Some(plan.timeout.max(Duration::from_millis(1))),
            ..Settings::default()
        };
        let child = Command::new(&self.exe)
            .args(&plan.args)
            .envs(request.to_env())
            .envs(settings.to_env())
            // std's allocation-error hook reads RUST_BACKTRACE on first use; a set value is
            // copied into a new allocation, which fails too under persistent exhaustion and
            // muddles the crash report. Children need no std backtraces: we capture our own.
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err_file)
            .spawn()
            .map_err(|source| SuperviseError::Spawn {
                exe: self.exe.clone(),
                source,
            })?;
        Ok(Running {
            exited: ExitWatch::new(&child),
            child,
            share,
            journal,
            stderr,
            last_len: 0,
            last_change: Instant::now(),
            killed: false,
            _token: token,
        })
    }

    /// Settles the children that exited; returns whether any did.
    fn reap(&mut self) -> Result<bool, SuperviseError> {
        let mut any = false;
        let mut i = 0;
        while i < self.running.len() {
            let status = self.running[i]
                .child
                .try_wait()
                .map_err(SuperviseError::Wait)?;
            let Some(status) = status else {
                self.running[i].watch_stall(self.stall);
                i += 1;
                continue;
            };
            any = true;
            let r = self.running.swap_remove(i);
            self.settle(r, status);
        }
        Ok(any)
    }

    /// Takes in what an exited child journaled; queues the rest of its set for another child.
    fn settle(&mut self, r: Running, status: ExitStatus) {
        let journal = r.journal();
        self.foreign = self.foreign.max(journal.foreign_allocs);
        let progressed = !journal.results.is_empty() || journal.in_flight.is_some();
        let mut next: Option<u64> = None;
        for res in journal.results.iter().cloned() {
            next = Some(res.alloc);
            self.record(res);
        }
        if journal.done {
            return;
        }
        let stderr = scratch::stderr_tail(&r.stderr);
        if let Some(index) = journal.in_flight {
            let bias = journal.anchor.map_or(0, |a| a.wrapping_sub(self.anchor));
            let killed_after = r.killed.then_some(self.stall);
            let death = judge_death(
                index,
                &journal,
                status,
                killed_after,
                stderr.clone(),
                self.plan.timeout,
                bias,
            );
            if let Some(crash) = self.awaiting.remove(&index) {
                self.done.insert(index, with_site_of(crash, death));
            } else if death.stack.is_empty() && !r.share.capture && !r.killed {
                // Stacks are not captured in a first run (too costly for every index): run
                // this index again, capturing them, in a child that then carries on. (A hang
                // that kept failing allocations already has the latest one's stack.)
                self.awaiting.insert(index, death);
                self.pending.push(Share {
                    set: IndexSet {
                        start: index,
                        ..r.share.set
                    },
                    capture: true,
                    ..r.share
                });
                return;
            } else {
                self.done.insert(index, death);
            }
            next = Some(index);
        }
        let rest = match next {
            Some(index) => r.share.set.after(index),
            None => r.share.set,
        };
        if rest.is_empty() {
            return;
        }
        let tries = self.stuck.entry(rest.start).or_insert(0);
        *tries = if progressed { 0 } else { *tries + 1 };
        if *tries >= 2 {
            // The child cannot even reach the sweep: account every remaining index so the
            // counts still add up, with the reason.
            let why = journal
                .error
                .clone()
                .unwrap_or_else(|| outcome::not_reached(status));
            for index in rest.iter() {
                let lost = self.awaiting.remove(&index).unwrap_or(IterationResult {
                    alloc: index,
                    outcome: outcome::Outcome::Abort,
                    message: why.clone(),
                    diff: None,
                    site: None,
                    stack: Vec::new(),
                    stderr: stderr.clone(),
                    site_hash: None,
                });
                self.done.insert(index, lost);
            }
        } else {
            self.pending.push(Share {
                set: rest,
                capture: false,
                ..r.share
            });
        }
    }

    /// Takes in a journaled result; a crash awaiting its re-run keeps its outcome and gains the
    /// site the re-run found.
    fn record(&mut self, res: IterationResult) {
        let d = match self.awaiting.remove(&res.alloc) {
            // The crash did not repeat: keep it, with the site the re-run found.
            Some(crash) => with_site_of(crash, res),
            None => res,
        };
        self.done.insert(d.alloc, d);
    }

    /// The sweep ends: with `stopped`, the children still running are stopped and what they
    /// journaled kept. Crashes whose re-run never came are kept without a site.
    fn finish(mut self, stopped: Option<SuperviseError>) -> Supervised {
        if stopped.is_some() {
            self.pending.clear();
            for mut r in std::mem::take(&mut self.running) {
                let _ = r.child.kill();
                let _ = r.child.wait();
                let journal = r.journal();
                self.foreign = self.foreign.max(journal.foreign_allocs);
                for res in journal.results {
                    self.record(res);
                }
            }
        }
        for (index, crash) in std::mem::take(&mut self.awaiting) {
            self.done.entry(index).or_insert(crash);
        }
        Supervised {
            done: std::mem::take(&mut self.done),
            stopped,
            foreign_allocs: self.foreign,
        }
    }
}

/// The shares of `part`: one per child, interleaved (child *k* of *c* takes every *c*-th index
/// from `lo + k`), and no more children than indices.
fn shares(part: &Part) -> impl Iterator<Item = Share> + '_ {
    let n = part.hi.saturating_sub(part.lo) + 1;
    let children = (part.children.max(1) as u64).min(n);
    (0..children).map(move |k| Share {
        set: IndexSet {
            start: part.lo + k,
            end: part.hi,
            step: children,
        },
        capture: false,
        fork_jobs: part.fork_jobs,
    })
}

/// The result of the index a child was running when it died, its failed allocation located with
/// the child's load `bias`.
pub(crate) fn judge_death(
    index: u64,
    journal: &Journal,
    status: ExitStatus,
    killed_after: Option<Duration>,
    stderr: Option<String>,
    timeout: Duration,
    bias: usize,
) -> IterationResult {
    let verdict = died(&journal.death(index, status, killed_after, stderr.as_deref(), timeout));
    let (site, stack) = crate::stack::locate(&verdict.frames, bias);
    IterationResult {
        alloc: index,
        outcome: verdict.outcome,
        message: verdict.message,
        diff: None,
        site,
        stack,
        stderr,
        site_hash: None,
    }
}

/// A crash with the site and stack found by the re-run of its index.
fn with_site_of(mut crash: IterationResult, rerun: IterationResult) -> IterationResult {
    crash.site = rerun.site;
    crash.stack = rerun.stack;
    crash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;
    use std::os::unix::process::ExitStatusExt;

    fn plan(lo: u64, hi: u64) -> Plan<'static> {
        Plan {
            test: "t",
            ordinal: 1,
            parts: vec![Part {
                lo,
                hi,
                children: 1,
                fork_jobs: None,
            }],
            mode: Mode::Transient,
            strict: false,
            timeout: Duration::from_secs(10),
            args: Vec::new(),
            select: None,
            budget: None,
        }
    }

    /// A child (a real process that has exited) whose journal reads `journal`.
    fn exited_child(s: &Supervisor<'_>, set: IndexSet, journal: &str, killed: bool) -> Running {
        let path = s.scratch.file("journal-test");
        std::fs::write(&path, journal).unwrap();
        let mut child = Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        Running {
            exited: ExitWatch::new(&child),
            child,
            share: Share {
                set,
                capture: false,
                fork_jobs: None,
            },
            journal: path,
            stderr: s.scratch.file("stderr-test"),
            last_len: 0,
            last_change: Instant::now(),
            killed,
            _token: None,
        }
    }

    #[test]
    fn each_part_is_dealt_out_to_its_children() {
        let rerun = Part {
            lo: 1,
            hi: 10,
            children: 2,
            fork_jobs: None,
        };
        let fork = Part {
            lo: 11,
            hi: 12,
            children: 3,
            fork_jobs: Some(2),
        };
        let set = |start, end, step| IndexSet { start, end, step };
        let got: Vec<(IndexSet, Option<usize>)> = [rerun, fork]
            .iter()
            .flat_map(shares)
            .map(|s| {
                assert!(!s.capture);
                (s.set, s.fork_jobs)
            })
            .collect();
        // No more children than indices: the fork part of two indices gets two.
        assert_eq!(
            got,
            vec![
                (set(1, 10, 2), None),
                (set(2, 10, 2), None),
                (set(11, 12, 2), Some(2)),
                (set(12, 12, 2), Some(2)),
            ]
        );
    }

    #[test]
    fn a_child_killed_for_going_silent_is_settled_as_a_hang_without_the_timeout() {
        let plan = plan(6, 6);
        let mut s = Supervisor::new(&plan).unwrap();
        // As if the first child had taken its set.
        s.pending.clear();
        let set = IndexSet {
            start: 6,
            end: 6,
            step: 1,
        };
        let r = exited_child(&s, set, "B 0\nI 6\n", true);
        s.settle(r, ExitStatus::from_raw(libc::SIGKILL));
        let d = &s.done[&6];
        assert_eq!(d.outcome, Outcome::Hang);
        assert_eq!(
            d.message,
            "the process stopped responding and was killed after 30s"
        );
        assert!(s.pending.is_empty() && s.awaiting.is_empty());
    }

    #[test]
    fn a_crash_is_run_again_for_its_site_and_keeps_its_outcome() {
        let plan = plan(1, 3);
        let mut s = Supervisor::new(&plan).unwrap();
        // As if the first child had taken its set.
        s.pending.clear();
        let set = IndexSet {
            start: 1,
            end: 3,
            step: 1,
        };
        let first = exited_child(&s, set, "B 0\nI 2\nA 6\n", false);
        s.settle(first, ExitStatus::from_raw(libc::SIGABRT));
        assert!(s.done.is_empty());
        let capture = Share {
            set: IndexSet { start: 2, ..set },
            capture: true,
            fork_jobs: None,
        };
        assert_eq!(s.pending, vec![capture]);
        let rerun = exited_child(
            &s,
            IndexSet { start: 2, ..set },
            "B 0\nI 2\nR {\"alloc\":2,\"outcome\":\"no-memory\",\"message\":\"m\",\"diff\":null,\
             \"site\":{\"function\":\"f\",\"file\":null,\"line\":null},\"stack\":[]}\nD\n",
            false,
        );
        s.settle(rerun, ExitStatus::from_raw(0));
        let d = &s.done[&2];
        assert_eq!(d.outcome, Outcome::Abort);
        assert_eq!(d.message, "the process was killed by SIGABRT");
        assert_eq!(d.site.as_ref().map(|f| f.function.as_str()), Some("f"));
    }

    #[test]
    fn a_child_killed_for_going_silent_is_a_hang_that_names_no_timeout() {
        let timeout = Duration::from_secs(10);
        let stall = outcome::stall_limit(timeout);
        let wedged = Journal::parse("I 6\n");
        let d = judge_death(
            6,
            &wedged,
            ExitStatus::from_raw(libc::SIGKILL),
            Some(stall),
            None,
            timeout,
            0,
        );
        assert_eq!(d.outcome, Outcome::Hang);
        assert_eq!(
            d.message,
            "the process stopped responding and was killed after 30s"
        );
        let hung = Journal::parse("I 5\nH 5\n");
        let d = judge_death(
            5,
            &hung,
            ExitStatus::from_raw(86 << 8),
            None,
            None,
            timeout,
            0,
        );
        assert_eq!(d.outcome, Outcome::Hang);
        assert_eq!(d.message, "ran past the per-iteration timeout of 10s");
    }
}
