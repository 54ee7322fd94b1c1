//! oomcheck's allocation-failure injector: a failing global allocator and a crash-proof harness
//! that re-runs a test body failing its 1st, 2nd, … *n*th allocation and classifies each run.
//!
//! ```
//! use std::collections::TryReserveError;
//!
//! #[global_allocator]
//! static ALLOC: oomcheck_injector::FailingAllocator = oomcheck_injector::FailingAllocator::system();
//!
//! #[derive(Debug)]
//! enum Error {
//!     OutOfMemory,
//!     Invalid,
//! }
//!
//! fn parse(input: &str) -> Result<Vec<u8>, TryReserveError> {
//!     let mut out = Vec::new();
//!     out.try_reserve_exact(input.len())?;
//!     out.extend_from_slice(input.as_bytes());
//!     Ok(out)
//! }
//!
//! fn read(input: &str) -> Result<Vec<u8>, Error> {
//!     let mut out = Vec::new();
//!     out.try_reserve(input.len()).map_err(|_| Error::OutOfMemory)?;
//!     out.extend(input.bytes().filter(u8::is_ascii_digit));
//!     if out.is_empty() { Err(Error::Invalid) } else { Ok(out) }
//! }
//!
//! # fn main() {
//! // In a #[test]: Fn() -> Result<T, E> with T: Debug, E: Debug.
//! oomcheck_injector::check(|| parse("a=1"));
//!
//! oomcheck_injector::Check::new()
//!     .no_memory(|e: &Error| matches!(e, Error::OutOfMemory))
//!     .run(|| read("12"))
//!     .assert(); // panics with a readable summary on findings
//! # }
//! ```
//!
//! Without `OOMCHECK=1` (and without [`Check::always`]) the body runs once and the check passes
//! when it returns `Ok`. With it, a sweep: a prime run, counting runs until two agree on the number
//! of allocations *n*, then one run per index *i* in range failing allocation *i* (transient mode)
//! or *i* and every later one (persistent mode). Each run is classified as an [`Outcome`]:
//! `no-memory` (pass), `tolerated` (pass unless strict), `wrong-error`, `corrupted`, `panic`,
//! `abort`, `hang` or `leak` (findings).
//!
//! The sweep runs in child processes that re-execute the test binary for this one test
//! (`NAME --exact --include-ignored --nocapture --test-threads=1`), up to `jobs` of them in
//! parallel (fewer when the sweep is too short to pay for more process starts), each running its
//! share of indices in-process. A child killed by an aborting allocation costs
//! one index, recorded as `abort` with the failed allocation's stack, and a new child carries on.
//!
//! With the fork strategy (chosen by `auto` for bodies of at least [`FORK_CROSSOVER`]
//! allocations) a single child runs the body once and forks at each swept allocation: the
//! forked process fails it and runs to the verdict, so the prefix is never re-run.
//!
//! Stacks are expensive to capture (tens of microseconds), so iterations run without them; an
//! iteration whose outcome is a finding is run once more capturing them (a crashed index in a
//! fresh child), and the site reported is the first frame of the failed allocation's stack
//! outside std, core, alloc, backtrace and this crate, preferring the test crate's own code over
//! dependencies downloaded by cargo. A hang that keeps failing allocations (a retry loop) is
//! reported with the latest one failed after half its timeout, without a re-run.
//!
//! # Environment
//! `OOMCHECK` (1 to sweep), `OOMCHECK_ALLOC` (`17` or `7-10`), `OOMCHECK_MODE`
//! (`transient`/`persistent`), `OOMCHECK_JOBS`, `OOMCHECK_TIMEOUT` (seconds per iteration, or
//! `500ms`), `OOMCHECK_TRACE` (full stacks in the summary), `OOMCHECK_DEBUG` (every iteration),
//! `OOMCHECK_STRICT` (`tolerated` is a finding), `OOMCHECK_REPORT` (a directory: one JSON record
//! per check), `OOMCHECK_DEDUP` (`site`: fail only the first allocation of each distinct call
//! site) with `OOMCHECK_DEDUP_DEPTH` (return addresses hashed, default 16), `OOMCHECK_SAMPLE`
//! (sweep N indices chosen at random) with `OOMCHECK_SEED` (replays a sample; printed),
//! `OOMCHECK_STRATEGY` (`auto`, `rerun` or `fork`), `OOMCHECK_JOB_TOKENS` (a directory of token
//! files: a job budget shared by every check of the run). The variables override the builder. A malformed value makes the check panic with
//! a message naming the variable and the accepted form.
//!
//! # Limits
//! - Only allocations of the thread running the body are counted and failed: allocations on
//!   threads the body spawns (or hands work to, like a thread pool) pass through untouched. A
//!   sweep child notices allocations on threads started while the body runs and the report's
//!   message says so ("the body allocated on another thread"); a pool started earlier goes
//!   unnoticed.
//! - A child that dies costs its index only, whatever the death: an aborting allocation, a
//!   signal (SIGSEGV after an unchecked null, SIGKILL from outside), a stack overflow, or
//!   `std::process::exit` in the body are all `abort` findings naming the cause. Sweep children
//!   die with the test process (Linux: `PR_SET_PDEATHSIG`).
//! - With `OOMCHECK_REPORT`, a sweep leaves `<record>.started` in the directory until its record
//!   replaces it: a marker without a record is a sweep that never finished.
//! - The body must be repeatable: it runs many times, so state it mutates outside itself (files,
//!   globals) must be reset by the body. A count that differs between runs is reported as
//!   `unstable-count`.
//! - `leak` compares live bytes: it is only judged when the normal run leaves no bytes of its own
//!   live after its result is dropped, and memory the body hands to another thread (freed there)
//!   counts as live.
//! - The panic hook that keeps the body's panics quiet and disarms before the panic runtime
//!   allocates is installed on the first check; a test that replaces the panic hook afterwards may
//!   see persistent-mode panics reported as `abort`.
//! - Crash isolation needs a libtest harness (the test thread is named after the test). Called
//!   elsewhere (a thread named `main`, no name) the sweep runs in-process: an abort then ends the
//!   process and a hang is not interrupted.
//! - Sites are found from debug info; without it (`debug = false`) findings have no site.

#![warn(missing_docs)]

mod alloc;
mod child;
mod config;
mod dedup;
mod fork;
mod panics;
mod report;
mod sample;
mod stack;
mod strategy;
mod supervise;
mod sweep;
mod tokens;

pub use alloc::FailingAllocator;
pub use config::Mode;
pub use report::{
    DedupInfo, DedupSite, Finding, Frame, Iteration, Outcome, Report, SampleInfo, Status,
};
pub use strategy::{Strategy, FORK_CROSSOVER, FORK_MIN_SWEPT};

use config::{AllocRange, EnvSettings};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::time::{Duration, Instant};

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

/// Decides whether an error returned by the body means "out of memory".
pub trait NoMemoryPredicate<E> {
    /// Whether `error` (whose `{:?}` text is `debug`) is a NoMemory-class error.
    fn is_no_memory(&self, error: &E, debug: &str) -> bool;
}

/// The default predicate: the error's Debug text names an out-of-memory condition (`NoMemory`,
/// `OutOfMemory`, `Oom`, `TryReserveError`, `AllocError`, `ENOMEM`, "out of memory").
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultNoMemory;

impl<E> NoMemoryPredicate<E> for DefaultNoMemory {
    fn is_no_memory(&self, _error: &E, debug: &str) -> bool {
        sweep::default_no_memory(debug)
    }
}

impl<E, F: Fn(&E) -> bool> NoMemoryPredicate<E> for F {
    fn is_no_memory(&self, error: &E, _debug: &str) -> bool {
        self(error)
    }
}

/// A configurable check: build it, then [`run`](Check::run) a body.
#[derive(Debug, Clone)]
#[must_use = "a Check does nothing until `.run(body)` is called"]
pub struct Check<P = DefaultNoMemory> {
    predicate: P,
    mode: Option<Mode>,
    range: Option<AllocRange>,
    timeout: Option<Duration>,
    jobs: Option<usize>,
    strict: Option<bool>,
    always: bool,
    name: Option<String>,
    dedup_depth: Option<usize>,
    sample: Option<u64>,
    seed: Option<u64>,
    strategy: Option<Strategy>,
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
            mode: None,
            range: None,
            timeout: None,
            jobs: None,
            strict: None,
            always: false,
            name: None,
            dedup_depth: None,
            sample: None,
            seed: None,
            strategy: None,
        }
    }
}

thread_local! {
    /// Checks started on this thread (a test may call several).
    static ORDINAL: Cell<u32> = const { Cell::new(0) };
}

impl<P> Check<P> {
    /// Replaces the NoMemory predicate: `pred(&error)` says whether an error means "out of memory".
    pub fn no_memory<E, Q: Fn(&E) -> bool>(self, pred: Q) -> Check<Q> {
        Check {
            predicate: pred,
            mode: self.mode,
            range: self.range,
            timeout: self.timeout,
            jobs: self.jobs,
            strict: self.strict,
            always: self.always,
            name: self.name,
            dedup_depth: self.dedup_depth,
            sample: self.sample,
            seed: self.seed,
            strategy: self.strategy,
        }
    }

    /// Fails only allocation *i* ([`Mode::Transient`], the default) or *i* and all later ones.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Sweeps only these 1-based allocation indices, e.g. `7..=10` or `5..`.
    pub fn alloc_range(mut self, range: impl RangeBounds<u64>) -> Self {
        let lo = match range.start_bound() {
            Bound::Included(&n) => n.max(1),
            Bound::Excluded(&n) => n.saturating_add(1).max(1),
            Bound::Unbounded => 1,
        };
        let hi = match range.end_bound() {
            Bound::Included(&n) => Some(n),
            Bound::Excluded(&n) => Some(n.saturating_sub(1)),
            Bound::Unbounded => None,
        };
        self.range = Some(AllocRange { lo, hi });
        self
    }

    /// Per-iteration timeout after which an iteration counts as `hang`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Most child processes sweeping in parallel (default: available cores). A sweep too short
    /// to pay for a process start per child uses fewer.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = Some(jobs.max(1));
        self
    }

    /// Whether `tolerated` (a swallowed failure with unchanged output) is a finding.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = Some(strict);
        self
    }

    /// Site dedup: fails only the first allocation of each distinct call site, the site being a
    /// hash of `depth` return addresses above the allocator (`OOMCHECK_DEDUP=site`,
    /// `OOMCHECK_DEDUP_DEPTH`; the default depth is 16).
    pub fn dedup_sites(mut self, depth: usize) -> Self {
        self.dedup_depth = Some(depth.max(1));
        self
    }

    /// Sweeps `n` indices of the range chosen at random from `seed` (`OOMCHECK_SAMPLE`,
    /// `OOMCHECK_SEED`); without a seed one is made up and printed, so the sample can be replayed.
    pub fn sample(mut self, n: u64, seed: Option<u64>) -> Self {
        self.sample = Some(n);
        self.seed = seed;
        self
    }

    /// How iterations run: re-running the body per index, forking at each allocation of one run,
    /// or (`auto`, the default) forking for large bodies (`OOMCHECK_STRATEGY`).
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = Some(strategy);
        self
    }

    /// Sweeps even when `OOMCHECK` is not set.
    pub fn always(mut self) -> Self {
        self.always = true;
        self
    }

    /// Names the check instead of the test thread's name; the name is also the libtest filter
    /// children are started with. For harnesses other than libtest (benchmarks).
    #[doc(hidden)]
    pub fn test_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// Runs the check on `body` and returns its report (see [`Report::assert`]).
    ///
    /// # Panics
    /// When an `OOMCHECK_*` variable is malformed (the message names it and the accepted form).
    #[track_caller]
    pub fn run<T, E, F>(self, body: F) -> Report
    where
        F: Fn() -> Result<T, E>,
        T: Debug,
        E: Debug,
        P: NoMemoryPredicate<E>,
    {
        let started = Instant::now();
        let ordinal = ORDINAL.with(|o| {
            o.set(o.get() + 1);
            o.get()
        });
        let env = EnvSettings::from_env().unwrap_or_else(|e| panic!("{e}"));
        let thread_name = std::thread::current().name().map(str::to_string);
        let isolatable = self.name.is_some() || matches!(&thread_name, Some(n) if n != "main");
        let test = self
            .name
            .clone()
            .or(thread_name)
            .unwrap_or_else(|| "<unnamed>".to_string());
        let mode = env.mode.or(self.mode).unwrap_or_default();
        let persistent = mode == Mode::Persistent;
        let strict = env.strict.or(self.strict).unwrap_or(false);
        let range = env.range.or(self.range).unwrap_or(AllocRange::ALL);
        let predicate = &self.predicate;
        let is_no_memory = |e: &E, debug: &str| predicate.is_no_memory(e, debug);
        let exec = sweep::exec_of(&body, &is_no_memory);

        let mut report = Report {
            test: test.clone(),
            binary: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            status: Status::Swept,
            nalloc: 0,
            mode,
            range: None,
            elapsed_ms: 0,
            sequence: String::new(),
            outcomes: BTreeMap::new(),
            findings: Vec::new(),
            message: None,
            iterations: None,
            strict,
            trace: env.trace,
            strategy: None,
            dedup: None,
            sample: None,
        };

        // In a sweep child, only the check being swept sweeps; anything else (a sibling check of
        // the same test, or a malformed child request) runs plainly and never starts children.
        let in_child = std::env::var_os(child::ENV_JOURNAL).is_some();
        let child = child::ChildSpec::from_env().filter(|c| c.test == test);
        if let Some(spec) = &child {
            if spec.ordinal == ordinal {
                let timeout = env
                    .timeout
                    .or(self.timeout)
                    .unwrap_or(Duration::from_secs(10));
                match fork::requested() {
                    Some(forks) => fork::run_child(spec, &exec, persistent, strict, timeout, forks),
                    None => child::run_child(spec, &exec, persistent, strict, timeout),
                }
            }
        }
        if in_child || !(env.enabled || self.always) {
            // Not swept: one plain run (a sibling check of a sweep child runs like this too).
            // The body is called directly so that a panic unwinds through the test as usual.
            alloc::arm(0, false, false);
            let guard = DisarmOnDrop;
            let result = body();
            let stats = alloc::disarm();
            drop(guard);
            report.nalloc = stats.count;
            report.status = Status::Disabled;
            if let Err(e) = &result {
                report.status = Status::NormalFailed;
                report.message = Some(format!("the body returned Err({e:?})"));
            }
            drop(result);
            report.elapsed_ms = started.elapsed().as_millis() as u64;
            if !in_child {
                finish(&report, &env, ordinal);
            }
            return report;
        }

        if !alloc::installed() {
            report.status = Status::NoAllocator;
            report.message = Some(
                "the global allocator is not oomcheck's, so no allocation can be counted or failed: add \
                 `#[global_allocator] static ALLOC: oomcheck_injector::FailingAllocator = \
                 oomcheck_injector::FailingAllocator::system();` to the test crate (for example at the top \
                 of the test file)"
                    .to_string(),
            );
            report.elapsed_ms = started.elapsed().as_millis() as u64;
            finish(&report, &env, ordinal);
            return report;
        }

        // Until the record replaces it, a marker says this check's sweep started: a reader of
        // the directory (`oomcheck run`) tells an interrupted or killed sweep from one not begun.
        if let Some(dir) = &env.report_dir {
            let _ = std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(report.started_marker(dir, ordinal), &test));
        }
        let base = match sweep::prepare(&exec) {
            Ok(base) => base,
            Err(sweep::NotSwept::NormalFailed(m)) => {
                report.status = Status::NormalFailed;
                report.message = Some(m);
                report.elapsed_ms = started.elapsed().as_millis() as u64;
                finish(&report, &env, ordinal);
                return report;
            }
            Err(sweep::NotSwept::Unstable(a, b)) => {
                report.status = Status::UnstableCount;
                report.nalloc = b;
                report.message = Some(format!(
                    "the number of allocations differs between normal runs ({a} vs {b}): the body is not \
                     deterministic (random seeds, caches filled on first use, threads), so allocation \
                     indices do not name the same allocation in every run"
                ));
                report.elapsed_ms = started.elapsed().as_millis() as u64;
                finish(&report, &env, ordinal);
                return report;
            }
        };
        report.nalloc = base.nalloc;
        let mut notes = Vec::new();
        if base.live != 0 {
            notes.push(format!(
                "leaks are not judged: the normal run itself leaves {} bytes live",
                base.live
            ));
        }
        let Some((lo, hi)) = range.clamp(base.nalloc) else {
            notes.push(format!(
                "nothing to sweep: the allocation range is outside the {} allocations of the body",
                base.nalloc
            ));
            report.message = Some(notes.join("; "));
            report.elapsed_ms = started.elapsed().as_millis() as u64;
            finish(&report, &env, ordinal);
            return report;
        };
        report.range = Some([lo, hi]);
        let (selection, sel_notes) = self.select(&env, &exec, &mut report, lo, hi);
        notes.extend(sel_notes);
        let strategy = strategy::resolve(
            env.strategy.or(self.strategy).unwrap_or_default(),
            base.nalloc,
            selection.len(),
            isolatable,
        );
        report.strategy = Some(strategy);
        // Children read a list selection from a file (it may hold many thousands of indices).
        let mut child_env: Vec<(&'static str, String)> = Vec::new();
        let select_file = match &selection {
            strategy::Selection::List(list) if isolatable => {
                let file = TempFile::new("select");
                if let Err(e) = strategy::Selection::write(list, &file.0) {
                    panic!("oomcheck: cannot write {}: {e}", file.0.display());
                }
                child_env.push((strategy::ENV_SELECT, file.0.display().to_string()));
                Some(file)
            }
            _ => None,
        };
        let jobs = env
            .jobs
            .or(self.jobs)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let plan_jobs = if strategy == Strategy::Fork {
            child_env.push((strategy::ENV_FORK, jobs.to_string()));
            1
        } else {
            strategy::rerun_jobs(jobs, base.elapsed, selection.len())
        };
        let timeout = env
            .timeout
            .or(self.timeout)
            .unwrap_or_else(|| (base.elapsed * 100).max(Duration::from_secs(10)));

        let results = if isolatable {
            let plan = supervise::Plan {
                test: &test,
                ordinal,
                lo,
                hi,
                jobs: plan_jobs,
                mode,
                strict,
                timeout,
                args: vec![
                    test.clone(),
                    "--exact".into(),
                    // An `#[ignore]`d test run with `--ignored` must run in its children too.
                    "--include-ignored".into(),
                    "--nocapture".into(),
                    "--test-threads=1".into(),
                ],
                env: child_env,
            };
            match supervise::supervise(&plan, &mut notes) {
                Ok(done) => done,
                Err(e) => {
                    notes.push(format!("{e}; swept in-process without crash isolation"));
                    report.strategy = Some(Strategy::Rerun);
                    in_process(&exec, &selection, persistent, strict, &base)
                }
            }
        } else {
            notes.push(
                "swept in-process without crash isolation (the test thread has no libtest name)"
                    .to_string(),
            );
            in_process(&exec, &selection, persistent, strict, &base)
        };
        drop(select_file);

        tally(&mut report, &results, &selection, env.debug);
        if !notes.is_empty() {
            report.message = Some(notes.join("; "));
        }
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        finish(&report, &env, ordinal);
        report
    }
}

impl<P> Check<P> {
    /// Chooses the indices to sweep in `lo..=hi`: site dedup, then sampling (of the dedup'd
    /// indices when both are on). Fills the report's `dedup` and `sample` parts; returns notes.
    fn select(
        &self,
        env: &EnvSettings,
        exec: &sweep::Exec<'_>,
        report: &mut Report,
        lo: u64,
        hi: u64,
    ) -> (strategy::Selection, Vec<String>) {
        let mut notes = Vec::new();
        let mut list: Option<Vec<u64>> = None;
        if env.dedup.unwrap_or(self.dedup_depth.is_some()) {
            let depth = env
                .dedup_depth
                .or(self.dedup_depth)
                .unwrap_or(dedup::DEFAULT_DEPTH);
            let (sites, count) = dedup::count_sites(exec, lo, hi, depth);
            if count != report.nalloc {
                notes.push(format!(
                    "the site-counting run made {count} allocations instead of {}: the body is not \
                     deterministic, so dedup may pick the wrong indices",
                    report.nalloc
                ));
            }
            let site_list: Vec<DedupSite> = sites
                .iter()
                .map(|s| {
                    let (site, _) = stack::site_of(stack::symbolize(s.frames.as_slice(), 0));
                    DedupSite {
                        alloc: s.first,
                        count: s.count,
                        function: site.as_ref().map(|f| f.function.clone()),
                        file: site.as_ref().and_then(|f| f.file.clone()),
                        line: site.as_ref().and_then(|f| f.line),
                    }
                })
                .collect();
            report.dedup = Some(DedupInfo {
                depth,
                sites: sites.len() as u64,
                covered: (hi - lo + 1) - sites.len() as u64,
                site_list,
            });
            list = Some(sites.iter().map(|s| s.first).collect());
        }
        if let Some(n) = env.sample.or(self.sample) {
            let seed = env.seed.or(self.seed).unwrap_or_else(sample::fresh_seed);
            let len = list.as_ref().map_or(hi - lo + 1, |l| l.len() as u64);
            let chosen: Vec<u64> = sample::choose(len, n, seed)
                .into_iter()
                .map(|p| list.as_ref().map_or(lo + p, |l| l[p as usize]))
                .collect();
            report.sample = Some(SampleInfo {
                n,
                seed,
                indices: chosen.clone(),
            });
            list = Some(chosen);
        }
        let selection = match list {
            Some(l) => strategy::Selection::List(l),
            None => strategy::Selection::Range(lo, hi),
        };
        (selection, notes)
    }
}

/// A temporary file removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(tag: &str) -> TempFile {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        TempFile(std::env::temp_dir().join(format!(
            "oomcheck-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Fills the sequence, counts, findings and (with `debug`) iterations of a swept report.
fn tally(
    report: &mut Report,
    results: &BTreeMap<u64, supervise::Done>,
    selection: &strategy::Selection,
    debug: bool,
) {
    let mut iterations = Vec::new();
    for index in selection.indices() {
        let lost;
        let (r, stderr) = match results.get(&index) {
            Some(done) => (&done.result, &done.stderr),
            None => {
                // Cannot happen by construction; still, no index may go uncounted.
                lost = child::ChildResult {
                    alloc: index,
                    outcome: Outcome::Abort,
                    message: "no outcome was recorded for this index".to_string(),
                    diff: None,
                    site: None,
                    stack: Vec::new(),
                };
                (&lost, &None)
            }
        };
        report.sequence.push(r.outcome.symbol());
        *report.outcomes.entry(r.outcome).or_insert(0) += 1;
        if debug {
            iterations.push(Iteration {
                alloc: index,
                outcome: r.outcome,
                message: r.message.clone(),
            });
        }
        if r.outcome.is_finding(report.strict) {
            report.findings.push(Finding {
                alloc: index,
                outcome: r.outcome,
                site: r.site.clone(),
                stack: r.stack.clone(),
                message: r.message.clone(),
                diff: r.diff.clone(),
                stderr: stderr.clone(),
                repro: repro(&report.test, index, report.mode, report.strict),
            });
        }
    }
    if debug {
        report.iterations = Some(iterations);
    }
}

/// Disarms the thread if the body unwinds out of a plain run.
struct DisarmOnDrop;

impl Drop for DisarmOnDrop {
    fn drop(&mut self) {
        alloc::disarm();
    }
}

/// Sweeps in this process (no crash isolation).
fn in_process(
    exec: &sweep::Exec<'_>,
    selection: &strategy::Selection,
    persistent: bool,
    strict: bool,
    base: &sweep::Baseline,
) -> BTreeMap<u64, supervise::Done> {
    selection
        .indices()
        .map(|index| {
            let c = sweep::iterate(exec, index, persistent, strict, base);
            let (site, stack) = if c.outcome.is_finding(strict) {
                stack::site_of(stack::symbolize(c.frames.as_slice(), 0))
            } else {
                (None, Vec::new())
            };
            let result = child::ChildResult {
                alloc: index,
                outcome: c.outcome,
                message: c.message,
                diff: c.diff,
                site,
                stack,
            };
            (
                index,
                supervise::Done {
                    result,
                    stderr: None,
                },
            )
        })
        .collect()
}

/// The command that replays one iteration.
fn repro(test: &str, index: u64, mode: Mode, strict: bool) -> String {
    let mut cmd = format!("OOMCHECK=1 OOMCHECK_ALLOC={index}");
    if mode == Mode::Persistent {
        cmd.push_str(" OOMCHECK_MODE=persistent");
    }
    if strict {
        cmd.push_str(" OOMCHECK_STRICT=1");
    }
    cmd.push_str(&format!(" cargo test -- {test} --exact"));
    cmd
}

/// Prints the summary of a sweep and writes the record.
fn finish(report: &Report, env: &EnvSettings, ordinal: u32) {
    if report.status != Status::Disabled {
        // A failing report's details go into `assert`'s panic message; print them only once.
        let summary = report.summary();
        if report.passed() {
            eprint!("{summary}");
        } else {
            eprintln!("{}", summary.lines().next().unwrap_or_default());
        }
    }
    if let Some(dir) = &env.report_dir {
        if let Err(e) = report.write_record(dir, ordinal) {
            eprintln!(
                "oomcheck: cannot write the report record into {}: {e}",
                dir.display()
            );
        }
        let _ = std::fs::remove_file(report.started_marker(dir, ordinal));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_range_accepts_every_range_form() {
        let r = |c: Check| c.range.expect("range set");
        assert_eq!(
            r(Check::new().alloc_range(7..=10)),
            AllocRange {
                lo: 7,
                hi: Some(10)
            }
        );
        assert_eq!(
            r(Check::new().alloc_range(2..5)),
            AllocRange { lo: 2, hi: Some(4) }
        );
        assert_eq!(
            r(Check::new().alloc_range(5..)),
            AllocRange { lo: 5, hi: None }
        );
        assert_eq!(
            r(Check::new().alloc_range(..=3)),
            AllocRange { lo: 1, hi: Some(3) }
        );
        assert_eq!(
            r(Check::new().alloc_range(0..=2)),
            AllocRange { lo: 1, hi: Some(2) }
        );
        assert_eq!(r(Check::new().alloc_range(..)), AllocRange::ALL);
    }

    #[test]
    fn repro_replays_one_iteration_with_the_same_settings() {
        assert_eq!(
            repro("m::t", 17, Mode::Transient, false),
            "OOMCHECK=1 OOMCHECK_ALLOC=17 cargo test -- m::t --exact"
        );
        assert_eq!(
            repro("t", 3, Mode::Persistent, true),
            "OOMCHECK=1 OOMCHECK_ALLOC=3 OOMCHECK_MODE=persistent OOMCHECK_STRICT=1 cargo test -- t --exact"
        );
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
        assert_eq!(c.mode, Some(Mode::Persistent));
        assert_eq!(c.jobs, Some(1));
        assert_eq!(c.strict, Some(true));
        assert_eq!(c.timeout, Some(Duration::from_secs(2)));
        assert!(c.always);
        assert!(c.predicate.is_no_memory(&0, ""));
        assert!(!c.predicate.is_no_memory(&1, "OutOfMemory"));
        assert!(NoMemoryPredicate::<u8>::is_no_memory(
            &DefaultNoMemory,
            &1,
            "OutOfMemory"
        ));
    }
}
