//! `oomcheck run --preload`: a crate's tests, unmodified. The tests are built as `oomcheck run`
//! builds them, each test executable lists its tests (`--list`), and each test is swept in
//! processes of its own (`NAME --exact --test-threads=1 --nocapture`) through the allocation
//! interposer, counting only its libtest thread below `__rust_begin_short_backtrace`
//! ([`crate::preload`] is the engine). [`report`] prints what `oomcheck exec` prints too.
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use oomcheck_injector::Status as CheckStatus;

use super::args::RunArgs;
use super::cargo::{self, Build, Metadata, TestExecutable};
use super::diagnostic::Explanations;
use super::error::RunError;
use super::libtest;
use crate::preload::launch::{Program, ThreadScope};
use crate::preload::site::OwnCode;
use crate::preload::sweep::{self, Kind, Target};
use crate::preload::symbolize::Symbolizer;
use crate::preload::{elf, library, PreloadError};
use crate::{ui::Ui, Status};

pub mod report;

use report::{roots, shell_quote, Reporter, NO_ALLOCATIONS};

/// Why `oomcheck run --preload` stopped with exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum PreloadRunError {
    /// What ends `oomcheck run` ends it too: metadata, cargo, a failed build, no test matched.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The interposer could not be installed, or a sweep could not run.
    #[error(transparent)]
    Preload(#[from] PreloadError),
    /// A test executable did not list its tests.
    #[error("cannot list the tests of {path}: {reason}")]
    List {
        /// The test executable.
        path: PathBuf,
        /// What went wrong (libtest's stderr, or the error starting it).
        reason: String,
    },
    /// The build made no test with a libtest harness.
    #[error("no tests to sweep")]
    NoTests,
    /// Every test ran without a single allocation through `malloc` in its body.
    #[error("no test allocated through malloc in its body: nothing to sweep\n{NO_ALLOCATIONS}")]
    NoAllocations,
}

impl PreloadRunError {
    /// The text the user reads, ending in an `error:` line.
    fn report(&self) -> String {
        match self {
            PreloadRunError::Run(e) => e.report(),
            other => format!("error: {other}\n"),
        }
    }
}

/// The tests of `exe` that `libtest_args` select (`--list`), each with whether it is ignored.
fn list_tests(exe: &Path, libtest_args: &[String]) -> Result<Vec<(String, bool)>, PreloadRunError> {
    let list = |extra: &[&str]| -> Result<Vec<String>, PreloadRunError> {
        let failed = |reason: String| PreloadRunError::List {
            path: exe.to_path_buf(),
            reason,
        };
        let out = Command::new(exe)
            .args(["--list", "--format", "terse"])
            .args(extra)
            .args(libtest_args)
            .output()
            .map_err(|e| failed(e.to_string()))?;
        if !out.status.success() {
            return Err(failed(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_suffix(": test"))
            .map(str::to_string)
            .collect())
    };
    let ignored = list(&["--ignored"])?;
    Ok(list(&[])?
        .into_iter()
        .map(|t| {
            let i = ignored.contains(&t);
            (t, i)
        })
        .collect())
}

/// Whether the libtest arguments ask for ignored tests too.
fn wants_ignored(args: &RunArgs) -> bool {
    args.test_args
        .iter()
        .any(|a| a == "--ignored" || a == "--include-ignored")
}

/// What one test is swept as.
fn test_target(exe: &TestExecutable, test: &str, scope: &ThreadScope, args: &RunArgs) -> Target {
    let mut run_args: Vec<OsString> = vec![
        test.into(),
        "--exact".into(),
        "--test-threads=1".into(),
        "--nocapture".into(),
    ];
    if wants_ignored(args) {
        run_args.push("--include-ignored".into());
    }
    let mut repro_flags = args.sweep.clone().repro_flags().to_string();
    if args.sweep_all {
        repro_flags.push_str(" --sweep-all");
    }
    if let Some(m) = &args.manifest_path {
        repro_flags.push_str(&format!(
            " --manifest-path {}",
            shell_quote(&m.to_string_lossy())
        ));
    }
    let quoted = shell_quote(test);
    Target {
        name: test.to_string(),
        program: Program {
            path: exe.path.clone(),
            args: run_args,
            env: vec![("RUST_BACKTRACE".into(), "0".into())],
            scope: Some(ThreadScope {
                thread: test.to_string(),
                ..scope.clone()
            }),
        },
        kind: Kind::Test(test.to_string()),
        own: Some(OwnCode {
            root: exe
                .manifest_path
                .parent()
                .unwrap_or(Path::new("/"))
                .to_path_buf(),
            test: test.to_string(),
        }),
        repro: Box::new(move |i| {
            format!("oomcheck run --preload --alloc {i}{repro_flags} -- {quoted} --exact")
        }),
    }
}

/// Metadata, the interposer and the build, before anything is swept.
fn prepare(args: &RunArgs, ui: &Ui) -> Result<(Metadata, PathBuf, Build), PreloadRunError> {
    let opts = args.cargo_opts();
    let meta = cargo::metadata(&opts).map_err(RunError::Metadata)?;
    let lib = library::install()?;
    // Cargo draws its own progress while building; ours starts with the sweep.
    let build = cargo::build(&opts, ui.color).map_err(RunError::Cargo)?;
    if !build.success {
        return Err(RunError::BuildFailed {
            compiler_errors: build.errors,
        }
        .into());
    }
    Ok((meta, lib, build))
}

/// Sweeps every selected test of every test executable of `build`, one after the other.
fn sweep_tests(
    args: &RunArgs,
    lib: &Path,
    build: &Build,
    reporter: &mut Reporter,
) -> Result<(), PreloadRunError> {
    let settings = args.sweep.clone().settings(args.sweep_all);
    let mut symbolizer = Symbolizer::new();
    for exe in &build.executables {
        let scope = match elf::libtest_ranges(&exe.path) {
            Ok(r) => ThreadScope {
                thread: String::new(),
                include: elf::format_ranges(&r.body),
                exclude: elf::format_ranges(&r.after_body),
            },
            Err(e @ PreloadError::NotATestBinary { .. }) => {
                reporter.note(&format!("skipped: {e}"));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        for (test, ignored) in list_tests(&exe.path, &args.test_args)? {
            if ignored && !wants_ignored(args) {
                continue;
            }
            let target = test_target(exe, &test, &scope, args);
            reporter.stage(&format!("sweeping {test}"));
            reporter.add(sweep::sweep(&target, &settings, lib, &mut symbolizer)?);
        }
    }
    let swept = reporter.swept();
    if swept.is_empty() {
        let filters = libtest::filters(&args.test_args);
        return Err(if filters.is_empty() {
            PreloadRunError::NoTests
        } else {
            RunError::NoTestMatched { filters }.into()
        });
    }
    let nothing = |s: &sweep::Swept| s.report.status == CheckStatus::Swept && s.no_allocations;
    if swept.iter().all(nothing) {
        return Err(PreloadRunError::NoAllocations);
    }
    Ok(())
}

/// Run `oomcheck run --preload`.
pub fn execute(args: &RunArgs, ui: &Ui) -> Status {
    let (meta, lib, build) = match prepare(args, ui) {
        Ok(p) => p,
        Err(e) => {
            eprint!("{}", e.report());
            return Status::Error;
        }
    };
    let mut reporter = Reporter::new(ui, &args.sweep.clone(), "test");
    if let Err(e) = sweep_tests(args, &lib, &build, &mut reporter) {
        reporter.abandon();
        eprint!("{}", e.report());
        return Status::Error;
    }
    let roots = roots(
        std::iter::once(meta.workspace_root.clone()).chain(
            meta.packages
                .iter()
                .filter_map(|p| p.manifest_path.parent().map(Path::to_path_buf)),
        ),
    );
    // The records, kept for `oomcheck report` as `oomcheck run` keeps its own.
    let records: Vec<(String, serde_json::Value)> = reporter
        .swept()
        .iter()
        .enumerate()
        .map(|(i, s)| (s.report.record_file_name(i as u32), report::record_json(s)))
        .collect();
    let stamp = super::last_run::stamp_of(&meta, None);
    let kept = super::last_run::keep_preload(&records, &meta, &stamp);
    let joined = match args.sweep.format {
        super::Format::Human => {
            kept.and_then(|last| super::last_run::coverage(&last, &meta, &stamp))
        }
        super::Format::Json => None,
    };
    let explanations = joined.as_ref().map(Explanations::of).unwrap_or_default();
    let status = reporter.finish(&roots, &explanations, ui);
    if let Some(joined) = &joined {
        super::last_run::print_summary(joined);
    }
    status
}
