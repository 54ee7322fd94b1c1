//! `oomcheck run`: build a crate's tests, run them with the injector armed (`OOMCHECK=1`),
//! stream one line per checked test as its report appears, then render every finding.
//!
//! The sweep itself happens inside the tests (`oomcheck-injector`); this command drives cargo,
//! watches the report directory, and turns the records into lines, diagnostics or JSON.
//!
//! Exit status: 0 every check clean; 1 findings, a test failing outside its checks, or a sweep
//! that never finished (its test process died); 2 build failure, usage error or no checks;
//! 130 interrupted (Ctrl-C or SIGTERM: the tests, their sweep children included, are stopped
//! and the checks cut short are named). Everything is written under the target directory
//! (`<target>/oomcheck/reports/`); the crate's source tree is left as it is.
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Args, ValueEnum};
use oomcheck_injector::{Report, Status as CheckStatus};

use crate::{ui::Ui, Status};

pub mod alloc_range;
pub mod cargo;
pub mod diagnostic;
pub mod preload;
pub mod progress;
pub mod record;
pub mod sweep_flags;

use alloc_range::AllocRange;
use cargo::CargoOpts;
use diagnostic::{Detail, SourceRoots};
use progress::Progress;
use record::Loaded;

/// Arguments of `oomcheck run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Show every iteration's outcome and error, and the captured stderr of each finding.
    #[arg(long)]
    pub debug: bool,
    /// Show the stack of each failed allocation.
    #[arg(long)]
    pub trace: bool,
    /// Only fail these allocation indices: `17` or `7-10` (1-based, inclusive).
    #[arg(long, value_name = "RANGE")]
    pub alloc: Option<AllocRange>,
    /// Fail only the chosen allocation (transient) or it and every later one (persistent).
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Most child processes per sweep (default: available cores; short sweeps use fewer).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Per-iteration timeout in seconds, after which the iteration counts as a hang.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// Fail only the first allocation of each distinct call site (`site`), the site being a
    /// hash of the allocation's return addresses; `none` sweeps every index.
    #[arg(long, value_enum, value_name = "KIND")]
    pub dedup: Option<Dedup>,
    /// Return addresses hashed into a site id with `--dedup site` (default 16).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=48))]
    pub dedup_depth: Option<u32>,
    /// Sweep N indices chosen at random (reproducibly: the seed is printed).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub sample: Option<u64>,
    /// Seed of `--sample` (default: made up and printed, to replay a sample).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// How iterations run: re-run the body per index, fork at each allocation of one run, or
    /// choose from the body's allocation count (auto).
    #[arg(long, value_enum)]
    pub strategy: Option<Strategy>,
    /// Also report a failure that is silently tolerated (Ok with unchanged output).
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Path to the crate's (or workspace's) Cargo.toml.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Package(s) to check.
    #[arg(short = 'p', long = "package", value_name = "PKG")]
    pub packages: Vec<String>,
    /// Build and run the tests in release mode.
    #[arg(long)]
    pub release: bool,
    /// Features to activate (passed to cargo).
    #[arg(long, value_name = "FEATURES")]
    pub features: Vec<String>,
    /// Activate all features.
    #[arg(long)]
    pub all_features: bool,
    /// Do not activate the default feature.
    #[arg(long)]
    pub no_default_features: bool,
    /// Sweep the crate's existing tests, unmodified: each test runs in processes of its own
    /// with an allocation interposer (`LD_PRELOAD`) failing its allocations one by one (Linux
    /// with glibc).
    #[arg(long)]
    pub preload: bool,
    /// With `--preload`: also sweep allocations that no frame of the crate's own code makes
    /// (test setup, the tests' own helpers).
    #[arg(long, requires = "preload")]
    pub sweep_all: bool,
    /// Test name filter and other libtest arguments, after `--`.
    #[arg(last = true, value_name = "TEST ARGS")]
    pub test_args: Vec<String>,
}

/// `--mode`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Fail one allocation, let the following ones succeed.
    Transient,
    /// Fail one allocation and every later one.
    Persistent,
}

/// `--dedup`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dedup {
    /// One index per distinct call site.
    Site,
    /// Every index.
    None,
}

/// `--strategy`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Fork for bodies with many allocations, re-run otherwise.
    Auto,
    /// Re-run the body once per index.
    Rerun,
    /// Run the body once, forking at each swept allocation.
    Fork,
}

/// `--format`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Progress lines and diagnostics on stderr.
    #[default]
    Human,
    /// One JSON record per test on stdout.
    Json,
}

/// Every environment variable the injector reads; those not set from flags are removed so the
/// flags alone decide the sweep.
const INJECTOR_VARS: &[&str] = &[
    "OOMCHECK",
    "OOMCHECK_REPORT",
    "OOMCHECK_ALLOC",
    "OOMCHECK_MODE",
    "OOMCHECK_JOBS",
    "OOMCHECK_TIMEOUT",
    "OOMCHECK_TRACE",
    "OOMCHECK_DEBUG",
    "OOMCHECK_STRICT",
    "OOMCHECK_DEDUP",
    "OOMCHECK_DEDUP_DEPTH",
    "OOMCHECK_SAMPLE",
    "OOMCHECK_SEED",
    "OOMCHECK_STRATEGY",
    "OOMCHECK_JOB_TOKENS",
];

/// How to add the injector, shown when no check ran (the same text as `oomcheck init`).
fn how_to_add_checks() -> String {
    format!(
        "help: {}  (`oomcheck init` prints this too.)",
        crate::init_cmd::injector_instructions()
    )
}

const HOW_TO_ADD_ALLOCATOR: &str = "\
help: add the failing allocator to the test file (once per test binary):
       #[global_allocator]
       static ALLOC: oomcheck_injector::FailingAllocator = oomcheck_injector::FailingAllocator::system();";

impl RunArgs {
    fn cargo_opts(&self) -> CargoOpts {
        CargoOpts {
            manifest_path: self.manifest_path.clone(),
            packages: self.packages.clone(),
            release: self.release,
            features: self.features.clone(),
            all_features: self.all_features,
            no_default_features: self.no_default_features,
        }
    }

    /// The injector's environment for these flags.
    pub fn injector_env(&self, report_dir: &Path) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("OOMCHECK", "1".to_string()),
            ("OOMCHECK_REPORT", report_dir.display().to_string()),
            (
                "OOMCHECK_JOB_TOKENS",
                tokens_dir(report_dir).display().to_string(),
            ),
        ];
        if let Some(r) = self.alloc {
            env.push(("OOMCHECK_ALLOC", r.to_string()));
        }
        if let Some(m) = self.mode {
            let m = match m {
                Mode::Transient => "transient",
                Mode::Persistent => "persistent",
            };
            env.push(("OOMCHECK_MODE", m.to_string()));
        }
        if let Some(j) = self.jobs {
            env.push(("OOMCHECK_JOBS", j.to_string()));
        }
        if let Some(t) = self.timeout {
            env.push(("OOMCHECK_TIMEOUT", t.to_string()));
        }
        if let Some(d) = self.dedup {
            let d = match d {
                Dedup::Site => "site",
                Dedup::None => "none",
            };
            env.push(("OOMCHECK_DEDUP", d.to_string()));
        }
        if let Some(d) = self.dedup_depth {
            env.push(("OOMCHECK_DEDUP_DEPTH", d.to_string()));
        }
        if let Some(n) = self.sample {
            env.push(("OOMCHECK_SAMPLE", n.to_string()));
        }
        if let Some(s) = self.seed {
            env.push(("OOMCHECK_SEED", s.to_string()));
        }
        if let Some(s) = self.strategy {
            let s = match s {
                Strategy::Auto => "auto",
                Strategy::Rerun => "rerun",
                Strategy::Fork => "fork",
            };
            env.push(("OOMCHECK_STRATEGY", s.to_string()));
        }
        for (flag, var) in [
            (self.trace, "OOMCHECK_TRACE"),
            (self.debug, "OOMCHECK_DEBUG"),
            (self.strict, "OOMCHECK_STRICT"),
        ] {
            if flag {
                env.push((var, "1".to_string()));
            }
        }
        env
    }
}

/// The shared job budget of the run: libtest sweeps several tests at once (one per test thread)
/// and each sweep starts up to `--jobs` children; every sweep process takes one of these tokens
/// first, so a test sweeping alone gets every core and tests sweeping together share them, never
/// more processes than tokens.
fn job_tokens(report_dir: &Path, jobs: Option<u32>) -> std::io::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = cores.max(jobs.unwrap_or(0) as usize);
    let dir = tokens_dir(report_dir);
    std::fs::create_dir_all(&dir)?;
    for i in 0..n {
        std::fs::write(dir.join(format!("token-{i}")), b"")?;
    }
    Ok(())
}

fn tokens_dir(report_dir: &Path) -> PathBuf {
    report_dir.join("tokens")
}

/// Reads the report directory incrementally: each record once, as soon as it is complete.
struct Watcher {
    dir: PathBuf,
    seen: BTreeSet<PathBuf>,
    /// Files that did not parse yet (maybe still being written), with the last error.
    bad: Vec<(PathBuf, String)>,
}

impl Watcher {
    fn poll(&mut self) -> Vec<Loaded> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                    && !self.seen.contains(p)
            })
            .collect();
        // Oldest first, so records of one test keep the order its checks ran in.
        paths.sort_by_cached_key(|p| {
            let modified = std::fs::metadata(p).and_then(|m| m.modified()).ok();
            (modified, p.clone())
        });
        self.bad.clear();
        let mut out = Vec::new();
        for p in paths {
            match record::load(&p) {
                Ok(l) => {
                    self.seen.insert(p);
                    out.push(l);
                }
                Err(e) => self.bad.push((p, e)),
            }
        }
        out
    }
}

/// Reports of earlier runs older than this are removed when a run starts. (Not all of them:
/// another `oomcheck run` on the same target directory may be writing its own right now.)
const STALE_REPORTS: Duration = Duration::from_secs(24 * 60 * 60);

/// A fresh report directory for this run, under the target directory.
fn report_dir(target: &Path) -> Result<PathBuf, String> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let reports = target.join("oomcheck").join("reports");
    if let Ok(entries) = std::fs::read_dir(&reports) {
        for e in entries.flatten() {
            let stale = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_REPORTS);
            if stale {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = reports.join(format!("{}-{nanos}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| format!("cannot clean {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Set by the SIGINT / SIGTERM handler installed while the tests run.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_signal: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// From now on, Ctrl-C (SIGINT) and SIGTERM only set [`INTERRUPTED`]: the sweep loop then stops
/// the tests and says which checks are incomplete.
fn catch_interrupts() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_interrupt as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// How long the tests get to end after an interrupt before they are killed.
const INTERRUPT_GRACE: Duration = Duration::from_secs(5);

/// Checks whose sweep started but wrote no record: the injector's `.started` markers (see
/// `Report::started_marker`) left without their `.json`. Sorted test names.
fn incomplete_checks(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut tests: Vec<String> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "started"))
        .filter(|p| !p.with_extension("json").exists())
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|t| t.trim().to_string())
        .collect();
    tests.sort();
    tests
}

fn error(msg: &str) -> Status {
    eprintln!("error: {msg}");
    Status::Error
}

/// The `---- NAME stdout ----` section libtest prints for a failed test.
fn failure_section<'a>(stdout: &'a str, test: &str) -> Option<&'a str> {
    let header = format!("---- {test} stdout ----\n");
    let start = stdout.find(&header)? + header.len();
    let rest = &stdout[start..];
    let end = [rest.find("\n---- "), rest.find("\nfailures:")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    Some(rest[..end].trim_end())
}

/// What the run produced, for the human report.
struct RunResult<'a> {
    records: &'a [&'a Report],
    plain_failures: &'a [&'a String],
    libtest_stdout: &'a str,
}

/// The human report after the progress lines: a diagnostic per failing site, the tests that
/// failed outside their checks, and a one-line summary (all on stderr).
fn render_human(o: &RunResult<'_>, meta: &cargo::Metadata, args: &RunArgs, ui: &Ui) {
    let records = o.records;
    let plain_failures = o.plain_failures;
    let roots = SourceRoots {
        roots: std::iter::once(meta.workspace_root.clone())
            .chain(
                meta.packages
                    .iter()
                    .filter_map(|p| p.manifest_path.parent().map(Path::to_path_buf)),
            )
            .collect(),
        display_base: std::env::current_dir().ok(),
    };
    let detail = Detail {
        trace: args.trace,
        debug: args.debug,
    };
    let groups = diagnostic::group(records);
    if !groups.is_empty() {
        eprintln!();
    }
    for g in &groups {
        eprintln!("{}", ui.render(&diagnostic::diagnostic(g, &roots, detail)));
    }
    for t in plain_failures {
        eprintln!("test {t} failed outside its OOM checks:");
        if let Some(section) = failure_section(o.libtest_stdout, t) {
            for l in section.lines() {
                eprintln!("    {l}");
            }
        }
    }
    let findings: usize = records.iter().map(|r| r.findings.len()).sum();
    let failing = records.iter().filter(|r| record::is_failure(r)).count();
    let plural = |n: usize, what: &str| {
        if n == 1 {
            format!("1 {what}")
        } else {
            format!("{n} {what}s")
        }
    };
    let others = if plain_failures.is_empty() {
        String::new()
    } else {
        format!(
            "; {} failed outside any check",
            plural(plain_failures.len(), "test")
        )
    };
    eprintln!(
        "{}: {} clean, {} failing ({} at {}){others}",
        plural(records.len(), "check"),
        records.len() - failing,
        failing,
        plural(findings, "finding"),
        plural(groups.len(), "site"),
    );
}

/// Run `oomcheck run`.
pub fn execute(args: &RunArgs, ui: &Ui) -> Status {
    if args.preload {
        return preload::execute(args, ui);
    }
    let json = args.format == Format::Json;
    let opts = args.cargo_opts();
    let meta = match cargo::metadata(&opts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return error("cannot read the crate's metadata (is there a Cargo.toml?)");
        }
    };
    let report_dir = match report_dir(&meta.target_directory) {
        Ok(d) => d,
        Err(e) => return error(&e),
    };
    if let Err(e) = job_tokens(&report_dir, args.jobs) {
        return error(&format!("cannot create the job tokens: {e}"));
    }

    // 1. Build, so a compile error is reported as such and not as a test failure.
    // Cargo draws its own progress while building; ours starts with the sweep.
    let build = match cargo::build(&opts, ui.color) {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    if !build.success {
        for e in &build.errors {
            eprint!("{e}");
        }
        return error("the tests do not build");
    }
    if build.test_binaries == 0 {
        eprintln!("error: no test targets to run\n{}", how_to_add_checks());
        return Status::Error;
    }

    // 2. Run, streaming each record as it lands.
    let mut progress = Progress::new(ui.progress, json);
    progress.stage("sweeping");
    let env = args.injector_env(&report_dir);
    catch_interrupts();
    let mut run = match cargo::TestRun::spawn(&opts, &args.test_args, &env, INJECTOR_VARS) {
        Ok(r) => r,
        Err(e) => {
            progress.finish();
            return error(&e);
        }
    };
    let mut watcher = Watcher {
        dir: report_dir.clone(),
        seen: BTreeSet::new(),
        bad: Vec::new(),
    };
    let mut loaded: Vec<Loaded> = Vec::new();
    let mut take = |batch: Vec<Loaded>, progress: &mut Progress| {
        for l in batch {
            if json {
                // A closed pipe (`| head`) is not an error worth a panic: the sweep goes on.
                let _ = writeln!(std::io::stdout().lock(), "{}", l.raw);
            } else {
                progress.record(&l.record, args.debug);
            }
            loaded.push(l);
        }
    };
    let mut interrupted_at: Option<Instant> = None;
    loop {
        let done = run.is_done();
        take(watcher.poll(), &mut progress);
        if done {
            break;
        }
        if INTERRUPTED.load(Ordering::SeqCst) {
            match interrupted_at {
                None => {
                    run.signal_group(libc::SIGINT);
                    interrupted_at = Some(Instant::now());
                }
                Some(at) if at.elapsed() > INTERRUPT_GRACE => run.signal_group(libc::SIGKILL),
                Some(_) => {}
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if interrupted_at.is_some() {
        // Whatever of the group outlived cargo (a test executable, a sweep child) goes too.
        run.signal_group(libc::SIGKILL);
    }
    let output = match run.finish() {
        Ok(o) => o,
        Err(e) => {
            progress.finish();
            return error(&e);
        }
    };
    take(watcher.poll(), &mut progress);
    progress.finish();
    for (path, e) in &watcher.bad {
        eprintln!("warning: unreadable report {}: {e}", path.display());
    }
    let incomplete = incomplete_checks(&report_dir);
    if interrupted_at.is_some() {
        eprintln!(
            "interrupted: {} finished; {}",
            if loaded.len() == 1 {
                "1 check".to_string()
            } else {
                format!("{} checks", loaded.len())
            },
            if incomplete.is_empty() {
                "no check was in progress".to_string()
            } else {
                format!("incomplete (sweep cut short): {}", incomplete.join(", "))
            }
        );
        eprintln!("tests that had not started yet were skipped");
        return Status::Interrupted;
    }
    for t in &incomplete {
        eprintln!("error: the sweep of {t} did not finish (its test process died): no outcome was recorded");
    }

    // 3. Verdict.
    let summary = cargo::parse_libtest(&output.stdout);
    let filters = cargo::filters(&args.test_args);
    if loaded.is_empty() && incomplete.is_empty() {
        if summary.tests_run == 0 && !output.status.success() && output.status.code() != Some(101) {
            eprint!("{}", output.stderr);
            return error("cargo test failed before running any test");
        }
        if summary.tests_run == 0 && !filters.is_empty() {
            return error(&format!("no test matched {}", filters.join(" ")));
        }
        let among = if filters.is_empty() {
            String::new()
        } else {
            format!(" among the tests matching {}", filters.join(" "))
        };
        eprintln!(
            "error: no OOM checks found{among} ({} tests ran, none called oomcheck_injector::check)\n{}",
            summary.tests_run,
            how_to_add_checks()
        );
        return Status::Error;
    }

    let mut records: Vec<&Report> = loaded.iter().map(|l| &l.record).collect();
    records.sort_by(|a, b| a.test.cmp(&b.test));
    // Tests whose failure their records explain (a check with findings panics its test); any
    // other failed test failed for a reason of its own, outside the checks.
    let explained: BTreeSet<&str> = records
        .iter()
        .filter(|r| record::is_failure(r) || r.status == CheckStatus::NoAllocator)
        .map(|r| r.test.as_str())
        .collect();
    let plain_failures: Vec<&String> = summary
        .failed
        .iter()
        .filter(|t| !explained.contains(t.as_str()))
        .collect();

    if !json {
        let result = RunResult {
            records: &records,
            plain_failures: &plain_failures,
            libtest_stdout: &output.stdout,
        };
        render_human(&result, &meta, args, ui);
    } else {
        for t in &plain_failures {
            eprintln!("test {t} failed outside its OOM checks");
        }
    }
    if records.iter().any(|r| r.status == CheckStatus::NoAllocator) {
        eprintln!(
            "error: some checks ran without the failing global allocator\n{HOW_TO_ADD_ALLOCATOR}"
        );
        return Status::Error;
    }
    if records.iter().any(|r| record::is_failure(r))
        || !plain_failures.is_empty()
        || !incomplete.is_empty()
    {
        Status::Findings
    } else {
        Status::Clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        run: RunArgs,
    }

    fn parse(args: &[&str]) -> Result<RunArgs, clap::Error> {
        Wrap::try_parse_from(std::iter::once("run").chain(args.iter().copied())).map(|w| w.run)
    }

    #[test]
    fn flags_become_injector_environment() {
        let a = parse(&[
            "--alloc",
            "7-10",
            "--mode",
            "persistent",
            "--jobs",
            "3",
            "--timeout",
            "9",
            "--trace",
            "--strict",
            "--",
            "disk",
            "--exact",
        ])
        .unwrap();
        assert_eq!(a.test_args, ["disk", "--exact"]);
        let env = a.injector_env(Path::new("/t/r"));
        let get = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("OOMCHECK"), Some("1"));
        assert_eq!(get("OOMCHECK_REPORT"), Some("/t/r"));
        assert_eq!(get("OOMCHECK_ALLOC"), Some("7-10"));
        assert_eq!(get("OOMCHECK_MODE"), Some("persistent"));
        assert_eq!(get("OOMCHECK_JOBS"), Some("3"));
        assert_eq!(get("OOMCHECK_TIMEOUT"), Some("9"));
        assert_eq!(get("OOMCHECK_TRACE"), Some("1"));
        assert_eq!(get("OOMCHECK_STRICT"), Some("1"));
        assert_eq!(get("OOMCHECK_DEBUG"), None);
        assert!(env.iter().all(|(k, _)| INJECTOR_VARS.contains(k)));
    }

    #[test]
    fn the_job_budget_has_a_token_per_core_or_per_job() {
        let dir = std::env::temp_dir().join(format!("oomcheck-run-tokens-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        job_tokens(&dir, Some(64)).unwrap();
        assert_eq!(std::fs::read_dir(tokens_dir(&dir)).unwrap().count(), 64);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn scaling_flags_become_injector_environment() {
        let a = parse(&[
            "--dedup",
            "site",
            "--dedup-depth",
            "6",
            "--sample",
            "500",
            "--seed",
            "42",
            "--strategy",
            "fork",
        ])
        .unwrap();
        let env = a.injector_env(Path::new("/t/r"));
        let get = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("OOMCHECK_DEDUP"), Some("site"));
        assert_eq!(get("OOMCHECK_DEDUP_DEPTH"), Some("6"));
        assert_eq!(get("OOMCHECK_SAMPLE"), Some("500"));
        assert_eq!(get("OOMCHECK_SEED"), Some("42"));
        assert_eq!(get("OOMCHECK_STRATEGY"), Some("fork"));
        assert_eq!(get("OOMCHECK_JOB_TOKENS"), Some("/t/r/tokens"));
        assert!(env.iter().all(|(k, _)| INJECTOR_VARS.contains(k)));
        let none = parse(&[]).unwrap().injector_env(Path::new("/t/r"));
        assert!(none.iter().all(|(k, _)| !k.starts_with("OOMCHECK_S")));
        assert!(parse(&["--sample", "0"]).is_err());
        assert!(parse(&["--strategy", "spoon"]).is_err());
        assert!(parse(&["--dedup", "stack"]).is_err());
        assert!(parse(&["--dedup-depth", "0"]).is_err());
    }

    #[test]
    fn invalid_alloc_is_a_usage_error_naming_the_problem() {
        let e = parse(&["--alloc", "10-7"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("start is after its end"), "{e}");
        assert!(parse(&["--alloc", "0"]).is_err());
        assert!(parse(&["--jobs", "0"]).is_err());
    }

    #[test]
    fn failure_sections_are_cut_from_libtest_output() {
        let out = "failures:\n\n---- a stdout ----\nboom\nmore\n\n---- b stdout ----\nx\n\nfailures:\n    a\n";
        assert_eq!(failure_section(out, "a"), Some("boom\nmore"));
        assert_eq!(failure_section(out, "b"), Some("x"));
        assert_eq!(failure_section(out, "c"), None);
    }
}
