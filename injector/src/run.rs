//! Running a check ([`Check::run`]): the plain run when not sweeping, the part a sweep child
//! plays, and the sweep itself: normal runs, the choice of indices and strategy, the iterations
//! (in children, or in this process), and the report with its record.

use crate::alloc;
use crate::check::Check;
use crate::child::{self, Iterations};
use crate::env::{ChildRequest, Settings};
use crate::fork;
use crate::options::Mode;
use crate::outcome::{iterate, Outcome, LOST};
use crate::predicate::NoMemoryPredicate;
use crate::range::AllocRange;
use crate::report::{
    Finding, Incomplete, Iteration, IterationResult, Report, Status, UNSWEPT_SYMBOL,
};
use crate::selection::{ListFile, Selection};
use crate::strategy::{self, Layout, Room, Strategy};
use crate::supervise::{self, Part, Plan};
use crate::sweep::{self, Baseline, Exec};
use crate::tokens::Budget;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::{Duration, Instant};

/// Normal runs timed again, without their waits for a core, when `auto` weighs forking: the
/// fastest gives a steadier time per allocation on a shared machine.
const MORE_TIMED_RUNS: usize = 3;

thread_local! {
    /// Checks started on this thread (a test may call several).
    static ORDINAL: Cell<u32> = const { Cell::new(0) };
}

impl<P> Check<P> {
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
        let env = Settings::from_env().unwrap_or_else(|e| panic!("{e}"));
        let thread_name = std::thread::current().name().map(str::to_string);
        let under_libtest = matches!(&thread_name, Some(n) if n != "main");
        let isolatable = self.name.is_some() || under_libtest;
        let output_captured = under_libtest && crate::output_capture::libtest_captures_output();
        let test = self
            .name
            .clone()
            .or(thread_name)
            .unwrap_or_else(|| "<unnamed>".to_string());
        let settings = env.over(&self.settings);
        crate::outcome::set_coverage(settings.coverage);
        let allows = self.allows.iter().chain(&settings.allow).cloned().collect();
        let run = Run {
            test,
            ordinal,
            settings,
            isolatable,
            output_captured,
            started,
            allows,
        };
        let predicate = &self.predicate;
        let is_no_memory = |e: &E, debug: &str| predicate.is_no_memory(e, debug);
        let exec = sweep::exec_of(&body, &is_no_memory);

        // In a sweep child, only the check being swept sweeps; anything else (a sibling check of
        // the same test, or a malformed child request) runs plainly and never starts children.
        if let Some(request) = ChildRequest::from_env() {
            if request.test == run.test && request.ordinal == ordinal {
                run.as_child(&request, &exec);
            }
        }
        let in_child = ChildRequest::in_child();
        if in_child || !run.settings.enabled {
            return run.plain(&body, in_child);
        }
        run.sweep(&exec)
    }
}

/// One check being run, its settings resolved (the environment over the builder).
struct Run {
    test: String,
    ordinal: u32,
    settings: Settings,
    /// Whether the sweep can run in child processes (the check has a libtest name).
    isolatable: bool,
    /// Whether libtest captures this process's output (`output_capture.rs`): a cause of drift
    /// named in its messages.
    output_captured: bool,
    started: Instant,
    /// Expected outcomes, marked on the findings they accept.
    allows: Vec<crate::allow::Allow>,
}

/// Disarms the thread if the body unwinds out of a plain run.
struct DisarmOnDrop;

impl Drop for DisarmOnDrop {
    fn drop(&mut self) {
        alloc::disarm();
    }
}

impl Run {
    fn mode(&self) -> Mode {
        self.settings.mode.unwrap_or_default()
    }

    fn strict(&self) -> bool {
        self.settings.strict.unwrap_or(false)
    }

    /// The job budget shared by the checks of a run, if one was set up.
    fn budget(&self) -> Option<Budget> {
        self.settings.job_tokens.as_deref().and_then(Budget::in_dir)
    }

    /// An empty report of this check.
    fn report(&self) -> Report {
        let mut report = Report::new(
            self.test.clone(),
            self.mode(),
            self.strict(),
            self.settings.trace,
        );
        report.debug = self.settings.debug;
        report
    }

    /// Sweep processes of this check: `OOMCHECK_JOBS`, or the cores.
    fn jobs(&self) -> usize {
        self.settings.jobs.unwrap_or_else(cores)
    }

    /// Plays this check's part as a sweep child and exits the process.
    fn as_child(&self, request: &ChildRequest, exec: &Exec<'_>) -> ! {
        let how = Iterations {
            persistent: self.mode() == Mode::Persistent,
            strict: self.strict(),
            timeout: self.settings.timeout.unwrap_or(Duration::from_secs(10)),
        };
        match request.fork_jobs {
            Some(jobs) => fork::run_child(request, exec, how, jobs, self.budget()),
            None => child::run_child(request, exec, how),
        }
    }

    /// Not swept: one plain run (a sibling check of a sweep child runs like this too, without
    /// printing or recording anything). The body is called directly so that a panic unwinds
    /// through the test as usual.
    fn plain<T, E: Debug>(&self, body: &impl Fn() -> Result<T, E>, in_child: bool) -> Report {
        let mut report = self.report();
        alloc::arm(0, false, false);
        let guard = DisarmOnDrop;
        let result = body();
        let stats = alloc::disarm();
        drop(guard);
        report.nalloc = stats.count;
        report.status = Status::Disabled;
        if let Err(e) = &result {
            report.message = Some(format!("the body returned Err({e:?})"));
        }
        drop(result);
        if in_child {
            report.elapsed_ms = self.started.elapsed().as_millis() as u64;
            return report;
        }
        self.finish(report)
    }

    /// The sweep.
    fn sweep(&self, exec: &Exec<'_>) -> Report {
        let mut report = self.report();
        if !alloc::installed() {
            report.status = Status::NoAllocator;
            report.message = Some(
                "the global allocator is not oomcheck's, so no allocation can be counted or failed: add \
                 `#[global_allocator] static ALLOC: oomcheck_injector::FailingAllocator = \
                 oomcheck_injector::FailingAllocator::system();` to the test crate (for example at the top \
                 of the test file)"
                    .to_string(),
            );
            return self.finish(report);
        }
        // Until the record replaces it, a marker says this check's sweep started: a reader of
        // the directory (`oomcheck run`) tells an interrupted or killed sweep from one not begun.
        if let Some(dir) = &self.settings.report_dir {
            let _ = std::fs::create_dir_all(dir).and_then(|()| {
                std::fs::write(report.started_marker(dir, self.ordinal), &self.test)
            });
        }
        let base = match sweep::prepare(exec) {
            Ok(base) => base,
            Err(sweep::NotSwept::NormalFailed(m)) => {
                report.status = Status::NormalFailed;
                report.message = Some(m);
                return self.finish(report);
            }
            Err(sweep::NotSwept::Unstable(a, b)) => {
                report.status = Status::UnstableCount;
                report.nalloc = b;
                report.message = Some(format!(
                    "the number of allocations differs between normal runs ({a} vs {b}, after {} \
                     counting runs), so allocation indices do not name the same allocation in \
                     every run. Likely causes and fixes: a randomly seeded hasher (`HashMap::new()`'s \
                     RandomState: build the map with a fixed hasher such as \
                     `BuildHasherDefault<DefaultHasher>`); work on other threads (join them inside \
                     the body, or check the code single-threaded); lazy caches or `OnceLock`s \
                     filled on first use (call the code once before `check` to warm them)",
                    sweep::COUNTING_RUNS
                ));
                return self.finish(report);
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
        let range = self.settings.range.unwrap_or(AllocRange::ALL);
        let Some((lo, hi)) = range.clamp(base.nalloc) else {
            report.status = Status::NothingSwept;
            notes.push(if base.nalloc == 0 {
                "nothing to sweep: the body makes no allocation (build its inputs outside the \
                 check, but call the code under test inside it)"
                    .to_string()
            } else {
                format!(
                    "nothing to sweep: the allocation range {range} is outside the {} \
                     allocations of the body",
                    base.nalloc
                )
            });
            report.message = Some(notes.join("; "));
            return self.finish(report);
        };
        report.range = Some([lo, hi]);
        let (selection, selection_notes) =
            crate::select::choose(&self.settings, exec, &mut report, lo, hi);
        notes.extend(selection_notes);
        let planned = strategy::plan(
            &strategy::Inputs {
                requested: self.settings.strategy.unwrap_or_default(),
                split: self.settings.hybrid_split,
                body: base.elapsed,
                nalloc: base.nalloc,
                selection: &selection,
                room: Room {
                    jobs: self.jobs(),
                    cores: cores(),
                },
                isolatable: self.isolatable,
                estimate: self.settings.debug,
            },
            strategy::Probes {
                fork: strategy::fork_cost,
                body: || sweep::fastest_run(exec, &base, MORE_TIMED_RUNS),
            },
        );
        report.strategy = Some(planned.layout.strategy);
        report.estimates = planned.estimates;
        // The site of every swept index, to tell an iteration that failed another allocation.
        let expected_sites = crate::drift::record(exec, &selection);
        let (mut results, stopped) = self.iterations(
            exec,
            &base,
            &selection,
            (lo, hi, planned.layout),
            &mut report,
            &mut notes,
        );
        crate::drift::judge(
            &expected_sites,
            &mut results,
            self.strict(),
            self.output_captured,
        );
        tally(
            &mut report,
            &results,
            &selection,
            self.settings.debug,
            stopped,
        );
        report.coverage = crate::stack::coverage(&results, &self.test);
        notes.extend(crate::drift::notes(&report, self.output_captured));
        for finding in &mut report.findings {
            crate::stack::up_to_test(&mut finding.stack, &self.test);
            finding.in_test_body = finding
                .site
                .as_ref()
                .is_some_and(|s| crate::stack::in_test_body(s, &self.test));
            finding.allowed = finding.allowed_by(&self.allows);
        }
        if !notes.is_empty() {
            report.message = Some(notes.join("; "));
        }
        self.finish(report)
    }

    /// Runs every iteration of `selection` (of the range `lo..=hi`) as `layout` says: in
    /// children when the check can be isolated, else (or when no child can be started at all) in
    /// this process. Also returns why the sweep stopped midway, if it did.
    fn iterations(
        &self,
        exec: &Exec<'_>,
        base: &Baseline,
        selection: &Selection,
        (lo, hi, layout): (u64, u64, Layout),
        report: &mut Report,
        notes: &mut Vec<String>,
    ) -> (BTreeMap<u64, IterationResult>, Option<String>) {
        let persistent = self.mode() == Mode::Persistent;
        if !self.isolatable {
            notes.push(
                "swept in-process without crash isolation (the test thread has no libtest name)"
                    .to_string(),
            );
            return (
                in_process(exec, selection, persistent, self.strict(), base),
                None,
            );
        }
        // Children read a list selection from a file (it may hold many thousands of indices).
        let list_file = match selection {
            Selection::List(list) => Some(ListFile::write(list).unwrap_or_else(|e| {
                panic!("oomcheck: cannot write the index selection for the sweep children: {e}")
            })),
            Selection::Range(..) => None,
        };
        let plan = Plan {
            test: &self.test,
            ordinal: self.ordinal,
            parts: parts(layout, lo, hi),
            mode: self.mode(),
            strict: self.strict(),
            timeout: self
                .settings
                .timeout
                .unwrap_or_else(|| (base.elapsed * 100).max(Duration::from_secs(10))),
            args: vec![
                self.test.clone(),
                "--exact".into(),
                // An `#[ignore]`d test run with `--ignored` must run in its children too.
                "--include-ignored".into(),
                "--nocapture".into(),
                "--test-threads=1".into(),
            ],
            select: list_file.as_ref().map(|f| f.path().to_path_buf()),
            budget: self.budget(),
        };
        match supervise::supervise(&plan) {
            Ok(supervised) => {
                if supervised.foreign_allocs > 0 {
                    notes.push(format!(
                        "the body allocated on another thread ({} allocations on threads it \
                         started): allocations there are neither counted nor failed, so their \
                         failures were not tested",
                        supervised.foreign_allocs
                    ));
                }
                let stopped = supervised.stopped.map(|e| e.to_string());
                (supervised.done, stopped)
            }
            Err(e) => {
                // No child ever started: nothing ran, so the sweep can still run here.
                notes.push(format!("{e}; swept in-process without crash isolation"));
                report.strategy = Some(Strategy::Rerun);
                (
                    in_process(exec, selection, persistent, self.strict(), base),
                    None,
                )
            }
        }
    }

    /// Prints the summary of a sweep and writes the record.
    fn finish(&self, mut report: Report) -> Report {
        report.elapsed_ms = self.started.elapsed().as_millis() as u64;
        if report.status != Status::Disabled {
            // A failing report's details go into `assert`'s panic message; print them only once.
            let summary = report.summary();
            if report.passed() {
                eprint!("{summary}");
            } else {
                eprintln!("{}", summary.lines().next().unwrap_or_default());
            }
        }
        if let Some(dir) = &self.settings.report_dir {
            if let Err(e) = report.write_record(dir, self.ordinal) {
                eprintln!(
                    "oomcheck: cannot write the report record into {}: {e}",
                    dir.display()
                );
            }
            let _ = std::fs::remove_file(report.started_marker(dir, self.ordinal));
        }
        report
    }
}

/// Cores of this machine (that this process may use).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The parts of a sweep of `lo..=hi` laid out as `layout` says: the indices up to its split
/// re-run, the later ones fork.
fn parts(layout: Layout, lo: u64, hi: u64) -> Vec<Part> {
    let mut parts = Vec::new();
    let split = layout.split.min(hi);
    if layout.strategy != Strategy::Fork && split >= lo {
        parts.push(Part {
            lo,
            hi: split,
            children: layout.rerun_children,
            fork_jobs: None,
        });
    }
    if layout.strategy != Strategy::Rerun && split < hi {
        parts.push(Part {
            lo: (split + 1).max(lo),
            hi,
            children: layout.fork_servers,
            fork_jobs: Some(layout.forked_per_server),
        });
    }
    parts
}

/// Sweeps in this process (no crash isolation).
fn in_process(
    exec: &Exec<'_>,
    selection: &Selection,
    persistent: bool,
    strict: bool,
    base: &Baseline,
) -> BTreeMap<u64, IterationResult> {
    selection
        .indices()
        .map(|index| {
            let c = iterate(exec, index, persistent, strict, base);
            (index, crate::stack::located(c, strict))
        })
        .collect()
}

/// Fills the sequence, counts, findings and (with `debug`) iterations of a swept report. An index
/// without a result is unswept when the sweep `stopped` (with this reason), else lost.
fn tally(
    report: &mut Report,
    results: &BTreeMap<u64, IterationResult>,
    selection: &Selection,
    debug: bool,
    stopped: Option<String>,
) {
    let mut iterations = Vec::new();
    let mut unswept = Vec::new();
    for index in selection.indices() {
        let lost;
        let r = match results.get(&index) {
            Some(r) => r,
            None if stopped.is_some() => {
                unswept.push(index);
                report.sequence.push(UNSWEPT_SYMBOL);
                continue;
            }
            None => {
                // Cannot happen by construction; still, no index may go uncounted.
                lost = IterationResult {
                    alloc: index,
                    outcome: Outcome::Abort,
                    message: LOST.to_string(),
                    diff: None,
                    site: None,
                    stack: Vec::new(),
                    stderr: None,
                    site_hash: None,
                };
                &lost
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
                stderr: r.stderr.clone(),
                repro: repro(&report.test, index, report.mode, report.strict),
                in_test_body: false,
                allowed: None,
            });
        }
    }
    if debug {
        report.iterations = Some(iterations);
    }
    if let (Some(reason), false) = (stopped, unswept.is_empty()) {
        report.incomplete = Some(Incomplete {
            reason,
            indices: unswept,
        });
    }
}

/// The command that replays one iteration.
fn repro(test: &str, index: u64, mode: Mode, strict: bool) -> String {
    let settings = Settings {
        enabled: true,
        range: Some(AllocRange::single(index)),
        mode: (mode == Mode::Persistent).then_some(mode),
        strict: strict.then_some(true),
        ..Settings::default()
    };
    let mut cmd: Vec<String> = settings
        .to_env()
        .into_iter()
        .map(|(var, value)| format!("{var}={value}"))
        .collect();
    // The harness's own `assert` panic needs no backtrace (a user's RUST_BACKTRACE=1 floods it).
    cmd.push(format!("RUST_BACKTRACE=0 cargo test -- {test} --exact"));
    cmd.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_becomes_the_parts_of_the_sweep() {
        let layout = |strategy, split| Layout {
            strategy,
            split,
            rerun_children: 2,
            fork_servers: 1,
            forked_per_server: 3,
        };
        let part = |lo, hi, children, fork_jobs| Part {
            lo,
            hi,
            children,
            fork_jobs,
        };
        assert_eq!(
            parts(layout(Strategy::Rerun, u64::MAX), 5, 90),
            vec![part(5, 90, 2, None)]
        );
        assert_eq!(
            parts(layout(Strategy::Fork, 0), 5, 90),
            vec![part(5, 90, 1, Some(3))]
        );
        assert_eq!(
            parts(layout(Strategy::Hybrid, 40), 5, 90),
            vec![part(5, 40, 2, None), part(41, 90, 1, Some(3))]
        );
        // A split outside the range leaves one part.
        assert_eq!(
            parts(layout(Strategy::Hybrid, 2), 5, 90),
            vec![part(5, 90, 1, Some(3))]
        );
        assert_eq!(
            parts(layout(Strategy::Hybrid, 90), 5, 90),
            vec![part(5, 90, 2, None)]
        );
    }

    #[test]
    fn repro_replays_one_iteration_with_the_same_settings() {
        assert_eq!(
            repro("m::t", 17, Mode::Transient, false),
            "OOMCHECK=1 OOMCHECK_ALLOC=17 RUST_BACKTRACE=0 cargo test -- m::t --exact"
        );
        assert_eq!(
            repro("t", 3, Mode::Persistent, true),
            "OOMCHECK=1 OOMCHECK_ALLOC=3 OOMCHECK_MODE=persistent OOMCHECK_STRICT=1 RUST_BACKTRACE=0 cargo test -- t --exact"
        );
    }

    #[test]
    fn a_stopped_sweep_reports_its_unswept_indices() {
        let mut report = Report::new("t".into(), Mode::Transient, false, false);
        let done = |alloc, outcome| IterationResult {
            alloc,
            outcome,
            message: String::new(),
            diff: None,
            site: None,
            stack: Vec::new(),
            stderr: None,
            site_hash: None,
        };
        let results: BTreeMap<u64, IterationResult> = [
            (1, done(1, Outcome::NoMemory)),
            (2, done(2, Outcome::Abort)),
        ]
        .into_iter()
        .collect();
        let selection = Selection::Range(1, 4);
        tally(
            &mut report,
            &results,
            &selection,
            false,
            Some("cannot start /t".into()),
        );
        assert_eq!(report.sequence, ".A??");
        assert_eq!(report.swept(), 2);
        assert_eq!(report.findings.len(), 1);
        let incomplete = report.incomplete.as_ref().expect("incomplete");
        assert_eq!(incomplete.indices, vec![3, 4]);
        assert_eq!(incomplete.reason, "cannot start /t");
        assert!(!report.passed());
        // Without a stop, a missing index is never unswept: it is an abort, counted.
        let mut lost = Report::new("t".into(), Mode::Transient, false, false);
        tally(&mut lost, &results, &selection, false, None);
        assert_eq!(lost.sequence, ".AAA");
        assert!(lost.incomplete.is_none());
        assert_eq!(lost.findings[2].message, LOST);
    }
}
