//! One zero-code sweep: counting runs, the plan, one run per swept index (in parallel), each
//! judged, into a record of the same schema as `oomcheck run`'s.
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use oomcheck_injector::{
    AllocRange, Finding, Frame, Iteration, Mode, Outcome, Report, Status, Strategy, RECORD_VERSION,
};

use super::fork;
use super::launch::{self, Ended, Program, RunConfig, RunOutput, Slot};
use super::plan::{self, Allocations, Choice, Plan};
use super::site::{self, ModuleFrame, OwnCode};
use super::symbolize::{parse_maps, Mapping, Symbolizer};
use super::verdict::{self, Verdict};
use super::{PreloadError, PreloadInfo, WorkDir};

/// Fewer swept indices than this re-run even under `auto`: a few process starts cost less than
/// starting the fork server and re-checking its crashes.
const FORK_MIN_SWEPT: u64 = 64;

/// How a run of the target is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A program: by exit status, signal and stdout ([`verdict::program`]).
    Program,
    /// One libtest test, named as libtest names it ([`verdict::libtest`]).
    Test(String),
}

/// What to sweep.
pub struct Target {
    /// The record's `test`: the test's name, or the program's command line.
    pub name: String,
    /// The program and its environment.
    pub program: Program,
    /// How its runs are judged.
    pub kind: Kind,
    /// The crate's own code: sites are preferred in it and, unless `sweep_all`, only indices
    /// reached from it are swept.
    pub own: Option<OwnCode>,
    /// The command that replays one index.
    pub repro: Box<dyn Fn(u64) -> String + Sync>,
}

/// The sweep's settings (the flags `oomcheck run` has too).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--alloc`.
    pub range: Option<AllocRange>,
    /// `--mode`.
    pub mode: Mode,
    /// `--jobs`: most runs at once.
    pub jobs: usize,
    /// `--timeout`: per run (default: 100 times the normal run, at least 10 s).
    pub timeout: Option<Duration>,
    /// `--strategy`.
    pub strategy: Strategy,
    /// `--dedup site` with this depth.
    pub dedup_depth: Option<usize>,
    /// `--sample`.
    pub sample: Option<u64>,
    /// `--seed` (made up when sampling without one).
    pub seed: Option<u64>,
    /// `--strict`: `tolerated` is a finding.
    pub strict: bool,
    /// `--debug`: list every iteration.
    pub debug: bool,
    /// Sweep allocations outside the crate's own code too.
    pub sweep_all: bool,
}

/// A finished sweep: the record and what only zero-code sweeps have.
#[derive(Debug, Clone)]
pub struct Swept {
    /// The record, as `oomcheck run` reads and renders it.
    pub report: Report,
    /// The `preload` part of the record.
    pub info: PreloadInfo,
    /// The interposer counted no allocation at all.
    pub no_allocations: bool,
}

/// A counting run failed to be a normal run: why, in a few words.
fn normal_failure(kind: &Kind, run: &RunOutput) -> Option<String> {
    match (kind, run.ended) {
        (_, Ended::TimedOut) => Some("it did not finish within the timeout".into()),
        (_, Ended::Signaled(sig)) => Some(format!("killed by {}", verdict::signal_name(sig))),
        (Kind::Program, Ended::Exited(0)) => None,
        (Kind::Program, Ended::Exited(code)) => {
            let last = run.stderr.lines().rev().find(|l| !l.trim().is_empty());
            Some(format!("exit status {code}: {}", last.unwrap_or("").trim()))
        }
        (Kind::Test(name), Ended::Exited(code)) => {
            if run.stdout.contains("running 0 tests") {
                return Some(format!("no test is named {name}"));
            }
            if code == 0 && !run.journal.thread_found {
                return Some(format!(
                    "no thread was named {name}: libtest runs each test on a thread of its name, \
                     which is where allocations are counted"
                ));
            }
            (code != 0).then(|| {
                verdict::panic_message(&run.stderr, name)
                    .unwrap_or_else(|| format!("the test failed (exit status {code})"))
            })
        }
    }
}

/// The counting run's view of each allocation (for the plan).
struct Counted<'a> {
    stacks: HashMap<u64, &'a [u64]>,
    maps: Vec<Mapping>,
    symbolizer: Mutex<&'a mut Symbolizer>,
    cache: Mutex<HashMap<u64, Vec<ModuleFrame>>>,
    interposer: &'a Path,
    own: Option<&'a OwnCode>,
}

impl Counted<'_> {
    fn frames(&self, index: u64) -> Vec<ModuleFrame> {
        let Some(ips) = self.stacks.get(&index) else {
            return Vec::new();
        };
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let mut sym = self.symbolizer.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for &ip in ips.iter() {
            let frames = cache
                .entry(ip)
                .or_insert_with(|| site::symbolize(&mut sym, &self.maps, &[ip], self.interposer));
            out.extend(frames.iter().cloned());
        }
        out
    }
}

impl Allocations for Counted<'_> {
    fn is_own(&self, index: u64) -> bool {
        match self.own {
            None => true,
            Some(own) => self.frames(index).iter().any(|f| own.contains(&f.frame)),
        }
    }

    fn site(&self, index: u64) -> (u64, Option<Frame>) {
        // The key: the first return addresses as (file, offset in it), which do not move with
        // the load address from one process to the next.
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let ips = self.stacks.get(&index).copied().unwrap_or(&[]);
        for &ip in ips.iter().take(16) {
            if let Some(m) = self.maps.iter().find(|m| m.start <= ip && ip < m.end) {
                if m.path != self.interposer {
                    (&m.path, ip - m.start + m.offset).hash(&mut h);
                }
            }
        }
        let (site, _) = site::site_of(&self.frames(index), self.own);
        (h.finish(), site)
    }
}

/// Sweeps `target` with the interposer at `lib`.
pub fn sweep(
    target: &Target,
    settings: &Settings,
    lib: &Path,
    symbolizer: &mut Symbolizer,
) -> Result<Swept, PreloadError> {
    let started = Instant::now();
    let work = WorkDir::new()?;
    let slot = Slot::new(work.path(), 0);
    let skip_foreign = target.own.is_some() && !settings.sweep_all;
    let counting = RunConfig {
        stacks: skip_foreign || settings.dedup_depth.is_some(),
        ..RunConfig::default()
    };
    let first_limit = settings.timeout.unwrap_or(Duration::from_secs(600));
    let first = launch::run(&target.program, lib, &counting, &slot, first_limit)?;
    let mut report = empty_report(target);
    let unswept = |mut report: Report, status: Status, why: String| Swept {
        report: {
            report.status = status;
            report.message = Some(why);
            report.elapsed_ms = started.elapsed().as_millis() as u64;
            report
        },
        info: PreloadInfo::default(),
        no_allocations: false,
    };
    if let Some(why) = normal_failure(&target.kind, &first) {
        return Ok(unswept(report, Status::NormalFailed, why));
    }
    let Some(count) = first.journal.count else {
        let why = "the interposer recorded no allocation count (did the program exit without \
                   running its exit handlers, or is it not dynamically linked?)";
        return Ok(unswept(report, Status::NormalFailed, why.to_string()));
    };
    let timeout = settings
        .timeout
        .unwrap_or_else(|| (first.elapsed * 100).max(Duration::from_secs(10)));
    let mut counts = vec![count];
    let mut same_output = true;
    let mut stable = false;
    for _ in 0..3 {
        let again = launch::run(&target.program, lib, &RunConfig::default(), &slot, timeout)?;
        if let Some(why) = normal_failure(&target.kind, &again) {
            return Ok(unswept(
                report,
                Status::NormalFailed,
                format!("{why} (in a later normal run)"),
            ));
        }
        counts.push(again.journal.count.unwrap_or(0));
        if again.journal.count == Some(count) {
            stable = true;
            same_output = again.stdout == first.stdout;
            break;
        }
    }
    report.nalloc = count;
    if !stable {
        let counts: Vec<String> = counts.iter().map(u64::to_string).collect();
        let why = format!("the normal runs counted {} allocations", counts.join(", "));
        return Ok(unswept(report, Status::UnstableCount, why));
    }
    let plan = {
        let counted = Counted {
            stacks: first
                .journal
                .stacks
                .iter()
                .map(|(i, ips)| (*i, ips.as_slice()))
                .collect(),
            maps: parse_maps(&first.journal.maps),
            symbolizer: Mutex::new(&mut *symbolizer),
            cache: Mutex::new(HashMap::new()),
            interposer: lib,
            own: target.own.as_ref().filter(|_| skip_foreign),
        };
        let choice = Choice {
            range: settings.range,
            dedup_depth: settings.dedup_depth,
            sample: settings.sample,
            seed: settings.seed.unwrap_or_else(fresh_seed),
        };
        plan::plan(count, &choice, &counted)
    };
    let normal_stdout = same_output.then_some(first.stdout.as_str());
    // A `#[should_panic]` test passes by panicking; a forked child's verdict is read from its
    // text alone, where that panic looks like a failure: such a test is judged by re-runs.
    let expects_panic = matches!(&target.kind,
        Kind::Test(name) if verdict::panic_message(&first.stderr, name).is_some());
    let fork = !expects_panic
        && match settings.strategy {
            Strategy::Fork => true,
            Strategy::Rerun => false,
            // A zero-code sweep re-runs a whole process per index (about 2 ms here, against
            // 0.7 ms per forked index: `cargo bench --bench preload`); `hybrid` has no split
            // of its own here and decides as `auto` does.
            Strategy::Auto | Strategy::Hybrid => plan.swept.len() as u64 >= FORK_MIN_SWEPT,
        };
    let batch = Batch {
        target,
        settings,
        lib,
        work: &work,
        timeout,
        // Every hang of a forked child is re-run with the full timeout anyway: a child that runs
        // ten times longer than the whole normal run is given up on early (a lock taken before
        // the fork that the child cannot release, as glibc's rwlocks record their owner's
        // thread id, makes such hangs).
        fork_timeout: timeout.min((first.elapsed * 10).max(Duration::from_secs(1))),
    };
    let (runs, rechecked) = if fork {
        batch.forked(&plan.swept, count, normal_stdout)?
    } else {
        (batch.rerun(&plan.swept)?, Vec::new())
    };
    let mut swept = Swept {
        report,
        info: PreloadInfo {
            swept: plan.swept.clone(),
            skipped: plan.skipped.clone(),
            rechecked,
            ..PreloadInfo::default()
        },
        no_allocations: count == 0,
    };
    swept.report.strategy = Some(if fork {
        Strategy::Fork
    } else {
        Strategy::Rerun
    });
    judge_all(
        target,
        settings,
        lib,
        symbolizer,
        &runs,
        normal_stdout,
        &mut swept,
    );
    finish_report(&mut swept, settings, &plan, same_output, started);
    Ok(swept)
}

/// The record before anything is known but the target. Built by reading a minimal record (the
/// schema's lenient reading gives every other field its default), so that fields the injector
/// adds later need nothing here.
fn empty_report(target: &Target) -> Report {
    let minimal = serde_json::json!({
        "version": RECORD_VERSION,
        "test": target.name,
        "binary": target.program.path.display().to_string(),
    });
    serde::Deserialize::deserialize(minimal).expect("a record with a test name reads")
}

/// A seed for a sample that names none.
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    plan::mix(nanos ^ u64::from(std::process::id())) % 10_000_000_000
}

/// Runs by index, in index order.
type Runs = Vec<(u64, RunOutput)>;

/// What every run of one sweep shares.
struct Batch<'a> {
    target: &'a Target,
    settings: &'a Settings,
    lib: &'a Path,
    work: &'a WorkDir,
    timeout: Duration,
    /// How long a fork server waits for a forked child.
    fork_timeout: Duration,
}

impl Batch<'_> {
    /// One run per index, `jobs` at a time: (index, what the run left), in index order.
    fn rerun(&self, indices: &[u64]) -> Result<Runs, PreloadError> {
        let jobs = self.settings.jobs.clamp(1, indices.len().max(1));
        let next = AtomicUsize::new(0);
        let results: Mutex<Runs> = Mutex::new(Vec::with_capacity(indices.len()));
        let error: Mutex<Option<PreloadError>> = Mutex::new(None);
        std::thread::scope(|s| {
            for w in 0..jobs {
                let (next, results, error) = (&next, &results, &error);
                s.spawn(move || {
                    let slot = Slot::new(self.work.path(), w + 1);
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&index) = indices.get(k) else { break };
                        let config = RunConfig {
                            fail: Some(index),
                            persistent: self.settings.mode == Mode::Persistent,
                            ..RunConfig::default()
                        };
                        let program = &self.target.program;
                        match launch::run(program, self.lib, &config, &slot, self.timeout) {
                            Ok(out) => lock(results).push((index, out)),
                            Err(e) => {
                                lock(error).get_or_insert(e);
                                next.store(indices.len(), Ordering::Relaxed);
                            }
                        }
                    }
                });
            }
        });
        if let Some(e) = lock(&error).take() {
            return Err(e);
        }
        let mut runs = std::mem::take(&mut *lock(&results));
        runs.sort_by_key(|(i, _)| *i);
        Ok(runs)
    }

    /// The fork strategy: `jobs` fork servers share the indices (every `jobs`-th each). Indices
    /// no server ran are re-run, and so is every hang and crash, since a forked child lacks the
    /// threads other than the one that forked, which can fake either, and every index of a
    /// server whose own run diverged from the normal one. Returns the runs in index order, and
    /// the indices re-checked that way.
    fn forked(
        &self,
        indices: &[u64],
        count: u64,
        normal_stdout: Option<&str>,
    ) -> Result<(Runs, Vec<u64>), PreloadError> {
        let jobs = self.settings.jobs.clamp(1, indices.len().max(1));
        let persistent = self.settings.mode == Mode::Persistent;
        let served: Vec<Result<fork::Served, PreloadError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..jobs)
                .map(|w| {
                    let share: Vec<u64> = indices.iter().skip(w).step_by(jobs).copied().collect();
                    s.spawn(move || {
                        let slot = Slot::new(self.work.path(), w + 1);
                        let program = &self.target.program;
                        let t = self.fork_timeout;
                        fork::serve(program, self.lib, &slot, &share, persistent, t, count)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut runs: HashMap<u64, RunOutput> = HashMap::new();
        let mut diverged = Vec::new();
        for share in served {
            let share = share?;
            runs.extend(share.runs);
            diverged.extend(share.diverged);
        }
        let mut rechecked: Vec<u64> = indices
            .iter()
            .copied()
            .filter(|i| {
                diverged.contains(i)
                    || runs.get(i).is_some_and(|out| {
                        let v = judge(self.target, out, normal_stdout);
                        matches!(v.outcome, Outcome::Hang | Outcome::Abort)
                    })
            })
            .collect();
        rechecked.sort_unstable();
        let again: Vec<u64> = indices
            .iter()
            .copied()
            .filter(|i| !runs.contains_key(i) || rechecked.contains(i))
            .collect();
        runs.extend(self.rerun(&again)?);
        let mut runs: Runs = runs.into_iter().collect();
        runs.sort_by_key(|(i, _)| *i);
        Ok((runs, rechecked))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The verdict of one run of `target`. A forked test's exit status says nothing (it ends when
/// its last thread does, with status 0): only its text is judged.
pub fn judge(target: &Target, out: &RunOutput, normal_stdout: Option<&str>) -> Verdict {
    match &target.kind {
        Kind::Program => verdict::program(out, normal_stdout),
        Kind::Test(name) => verdict::libtest(out, name, !out.forked),
    }
}

/// Judges every run into the record: its sequence, outcome counts and findings.
fn judge_all(
    target: &Target,
    settings: &Settings,
    lib: &Path,
    symbolizer: &mut Symbolizer,
    runs: &[(u64, RunOutput)],
    normal_stdout: Option<&str>,
    swept: &mut Swept,
) {
    let r = &mut swept.report;
    let mut iterations = Vec::new();
    for (index, out) in runs {
        let v = judge(target, out, normal_stdout);
        r.sequence.push(v.outcome.symbol());
        *r.outcomes.entry(v.outcome).or_default() += 1;
        if v.from_text {
            swept.info.from_text.push(*index);
        }
        let mut message = v.message;
        if out.journal.failed.is_none() && out.ended != Ended::TimedOut {
            message.push_str(&format!(
                " (allocation {index} was not reached in this run: the program allocates differently from run to run)"
            ));
        }
        if settings.debug {
            iterations.push(Iteration {
                alloc: *index,
                outcome: v.outcome,
                message: message.clone(),
            });
        }
        // Every run's failed allocation is located: the record's coverage (`oomcheck report`).
        let (site, stack) = match &out.journal.failed {
            Some((_, ips)) => {
                let maps = parse_maps(&out.journal.maps);
                let frames = site::symbolize(symbolizer, &maps, ips, lib);
                site::site_of(&frames, target.own.as_ref())
            }
            None => (None, Vec::new()),
        };
        cover(&mut r.coverage, &stack, *index);
        if !v.outcome.is_finding(settings.strict) {
            continue;
        }
        let stderr = (matches!(v.outcome, Outcome::Abort | Outcome::Hang | Outcome::Panic)
            && !out.stderr.trim().is_empty())
        .then(|| tail_bytes(&out.stderr, 4000));
        r.findings.push(Finding {
            alloc: *index,
            outcome: v.outcome,
            site,
            stack,
            message,
            diff: v.diff,
            stderr,
            repro: (target.repro)(*index),
            in_test_body: false,
            allowed: None,
        });
    }
    if settings.debug {
        r.iterations = Some(iterations);
    }
}

/// Adds index `index`, whose failed allocation had `stack`, to the record's coverage (distinct
/// stacks with their indices).
fn cover(coverage: &mut Vec<oomcheck_injector::CoveredStack>, stack: &[Frame], index: u64) {
    if stack.is_empty() {
        return;
    }
    match coverage.iter_mut().find(|c| c.stack == stack) {
        Some(c) => c.indices.push(index),
        None => coverage.push(oomcheck_injector::CoveredStack {
            stack: stack.to_vec(),
            indices: vec![index],
        }),
    }
}

/// The last `max` bytes of `text` (cut at a character boundary).
fn tail_bytes(text: &str, max: usize) -> String {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_string()
}

/// The record's remaining fields, once the runs are judged.
fn finish_report(
    swept: &mut Swept,
    settings: &Settings,
    plan: &Plan,
    same_output: bool,
    started: Instant,
) {
    let r = &mut swept.report;
    r.mode = settings.mode;
    r.strict = settings.strict;
    r.dedup = plan.dedup.clone();
    r.sample = plan.sample.clone();
    // With indices skipped, the sequence covers the swept ones only (listed in `preload.swept`);
    // a range would say every index of it was swept.
    if plan.skipped.is_empty() {
        let range = settings.range.unwrap_or(AllocRange::ALL);
        r.range = range.clamp(r.nalloc).map(|(lo, hi)| [lo, hi]);
    }
    let mut notes = Vec::new();
    if !plan.skipped.is_empty() {
        notes.push(format!(
            "{} of {} allocations were not swept: no frame of the crate's own code made them (--sweep-all sweeps them)",
            plan.skipped.len(),
            r.nalloc
        ));
    }
    if !same_output {
        notes.push("the normal runs printed different output: no run is judged corrupted".into());
    }
    if !notes.is_empty() {
        r.message = Some(notes.join("; "));
    }
    r.elapsed_ms = started.elapsed().as_millis() as u64;
}
