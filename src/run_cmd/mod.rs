//! `oomcheck run`: build a crate's tests, run them with the injector armed (`OOMCHECK=1`),
//! stream one line per checked test as its report appears, then render every finding.
//!
//! The sweep itself happens inside the tests (`oomcheck-injector`); this command drives cargo,
//! watches the report directory, and turns the records into lines, diagnostics or JSON.
//! [`execute`] is the whole data flow, in order; each step lives in its own module:
//!
//! | step | module |
//! | --- | --- |
//! | flags, and what combinations are rejected | [`args`] |
//! | `cargo metadata`, the test build, `cargo test` | [`cargo`] |
//! | the report directory and the records in it | [`report_dir`], [`record`] |
//! | the job budget shared by every sweep | [`tokens`] |
//! | flags → the injector's `OOMCHECK_*` environment | [`child_env`] |
//! | running the tests, streaming records, Ctrl-C | [`sweep`], [`signals`], [`progress`] |
//! | libtest's output: tests run, failed, filters | [`libtest`] |
//! | failed tests explained by checks, exit status | [`verdict`] |
//! | diagnostics, summary line and notes | [`diagnostic`], [`render`] |
//! | errors that end the run | [`error`] |
//! | the records kept for `oomcheck report`, the coverage summary | [`last_run`] |
//! | `--partition`: the filter first, then the tests of one shard | [`shard`], [`partition`] |
//! | `--preload`: the crate's unmodified tests, swept through an interposer | [`preload`], [`sweep_flags`] |
//!
//! Exit status: 0 every check clean; 1 findings, a test failing outside its checks, or a sweep
//! that never finished (its test process died); 2 build failure, usage error or no checks
//! (but a `--partition` shard that gets no test, or none with a check, sweeps nothing, keeps an
//! empty stamped record directory for `oomcheck report` to merge, and exits 0);
//! 130 interrupted (Ctrl-C or SIGTERM: the tests, their sweep children included, are stopped
//! and the checks cut short are named). Everything is written under the target directory
//! (`<target>/oomcheck/reports/`, the records of the last finished run kept in
//! `<target>/oomcheck/last-run/`); the crate's source tree is left as it is.
use crate::{ui::Ui, Status};

pub mod args;
pub mod cargo;
pub mod child_env;
pub mod crate_config;
pub mod diagnostic;
pub mod error;
pub mod last_run;
pub mod libtest;
pub mod partition;
pub mod preload;
pub mod progress;
pub mod record;
pub mod render;
pub mod report_dir;
pub mod shard;
pub mod signals;
pub mod sweep;
pub mod sweep_flags;
pub mod tokens;
pub mod verdict;

pub use args::RunArgs;
use diagnostic::{Detail, Explanations};
use error::RunError;
use sweep_flags::Format;
use verdict::Findings;

/// Run `oomcheck run`; an error is printed here, as the last thing the run says.
pub fn execute(args: &RunArgs, ui: &Ui) -> Status {
    if args.preload {
        return preload::execute(args, ui);
    }
    match run(args, ui) {
        Ok(status) => status,
        Err(e) => {
            eprint!("{}", e.report());
            Status::Error
        }
    }
}

fn run(args: &RunArgs, ui: &Ui) -> Result<Status, RunError> {
    let opts = args.cargo_opts();
    let meta = cargo::metadata(&opts).map_err(RunError::Metadata)?;
    let report_dir = report_dir::create(&meta.target_directory)?;
    tokens::create(&report_dir, args.sweep.jobs).map_err(RunError::JobTokens)?;
    // The source swept, before anything could change it.
    let stamp = last_run::stamp_of(&meta, args.partition.map(|p| p.to_string()));

    // 1. Build, so a compile error is reported as such and not as a test failure.
    // Cargo draws its own progress while building; ours starts with the sweep.
    let build = cargo::build(&opts, ui.color)?;
    if !build.success {
        return Err(RunError::BuildFailed {
            compiler_errors: build.errors,
        });
    }
    if build.test_binaries == 0 {
        return Err(RunError::NoTestTargets);
    }

    // 2. Run (one shard's tests with `--partition`), streaming each record as it lands.
    let shard_args;
    let args = match args.partition {
        Some(partition) => match shard::select(args, partition, &build)? {
            shard::Shard::TestArgs(test_args) => {
                shard_args = RunArgs {
                    test_args,
                    ..args.clone()
                };
                &shard_args
            }
            shard::Shard::Empty { selected } => {
                render::empty_shard(partition, selected);
                last_run::keep(&report_dir, &meta, &stamp);
                return Ok(Status::Clean);
            }
        },
        None => args,
    };
    let config = crate_config::load(args.manifest_path.as_deref()).map_err(RunError::Config)?;
    let swept = sweep::run(args, &report_dir, &config, ui)?;
    render::unreadable(&swept.unreadable);
    let incomplete = report_dir::incomplete_checks(&report_dir);
    if swept.interrupted {
        render::interrupted(swept.loaded.len(), &incomplete);
        return Ok(Status::Interrupted);
    }
    render::incomplete(&incomplete);

    // 3. Verdict.
    let summary = libtest::parse(&swept.output.stdout);
    if swept.loaded.is_empty() && incomplete.is_empty() {
        let error = verdict::nothing_checked(&summary, &swept.output, &args.test_args);
        // A shard whose tests all passed without a check is, like an empty shard, normal in a
        // matrix (the checks fell in other shards); `oomcheck report` refuses the merge if no
        // shard swept anything.
        if let (Some(partition), RunError::NoChecks { tests_run, .. }) = (args.partition, &error) {
            if summary.failed.is_empty() {
                render::shard_without_checks(partition, *tests_run);
                last_run::keep(&report_dir, &meta, &stamp);
                return Ok(Status::Clean);
            }
        }
        return Err(error);
    }
    let findings = Findings::new(&swept.loaded, &summary);
    let detail = Detail {
        trace: args.sweep.trace,
        debug: args.sweep.debug,
    };
    let last = last_run::keep(&report_dir, &meta, &stamp);
    match args.sweep.format {
        Format::Human => {
            // The coverage join first: it says which lint finding explains each sweep finding.
            let joined = last.and_then(|last| last_run::coverage(&last, &meta, &stamp));
            let explanations = joined.as_ref().map(Explanations::of).unwrap_or_default();
            render::human(
                &findings,
                &swept.output.stdout,
                &meta,
                detail,
                &explanations,
                ui,
            );
            if let Some(joined) = &joined {
                last_run::print_summary(joined);
            }
        }
        Format::Json => render::plain_failure_names(&findings),
    }
    findings.status(!incomplete.is_empty())
}
