//! The `oomcheck` command line: argument parsing and the subcommands. The engines live in
//! the `oomcheck-analyzer` (static) and `oomcheck-injector` (dynamic) crates.
use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

pub mod coverage;
pub mod exec_cmd;
pub mod hook_cmd;
pub mod init_cmd;
pub mod lint_cmd;
pub mod preload;
pub mod report_cmd;
pub mod rules_cmd;
pub mod run_cmd;
pub mod ui;

/// Exit status shared by every subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Nothing found.
    Clean,
    /// Findings were reported.
    Findings,
    /// Usage, I/O, build or configuration error.
    Error,
    /// Interrupted (Ctrl-C): exit status 130, as a shell reports a process ended by SIGINT.
    Interrupted,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        match s {
            Status::Clean => ExitCode::from(0),
            Status::Findings => ExitCode::from(1),
            Status::Error => ExitCode::from(2),
            Status::Interrupted => ExitCode::from(130),
        }
    }
}

/// Prove that Rust code survives running out of memory.
///
/// `oomcheck lint` finds fallible allocations whose failure is dropped, swallowed, turned into a
/// panic or into a non-OOM error. `oomcheck run` re-runs a crate's OOM tests failing each
/// allocation in turn and reports every crash, corruption and wrong error.
#[derive(Parser, Debug)]
#[command(name = "oomcheck", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: ui::GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Reject flag combinations that parse but mean nothing, with a usage error (exit status 2)
    /// as clap gives for its own checks.
    fn check_combinations(self) -> Result<Cli, clap::Error> {
        let (name, flags) = match &self.command {
            Command::Run(args) => ("run", &args.sweep),
            Command::Exec(args) => ("exec", &args.sweep),
            _ => return Ok(self),
        };
        if let Err(conflict) = flags.check_combinations() {
            let mut cmd = Cli::command();
            cmd.build();
            let sub = cmd
                .find_subcommand_mut(name)
                .expect("a subcommand of the Cli");
            return Err(sub.error(clap::error::ErrorKind::ArgumentConflict, conflict));
        }
        Ok(self)
    }
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Statically check Rust sources for mishandled allocation failures.
    Lint(lint_cmd::LintArgs),
    /// Re-run the crate's OOM checks failing each allocation in turn, and report what breaks.
    Run(run_cmd::RunArgs),
    /// OOM-path coverage: which fallible allocation sites the last run (or the record
    /// directories given) failed, joined with the lint: summary, lcov, HTML, SARIF, JUnit or JSON.
    Report(report_cmd::ReportArgs),
    /// Sweep any dynamically linked program, unmodified: run it failing each allocation in turn.
    Exec(exec_cmd::ExecArgs),
    /// List the rules with their default level and a one-line summary.
    Rules,
    /// Show a rule's documentation: what it flags, why, and how to fix it.
    Explain(rules_cmd::ExplainArgs),
    /// Write a commented `oomcheck.toml` with the defaults and show how to add the injector.
    Init(init_cmd::InitArgs),
    /// Manage the plain git pre-commit hook (without the pre-commit framework).
    Hook(hook_cmd::HookArgs),
}

/// Parse `args` (program name first) and run the chosen subcommand.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args).and_then(Cli::check_combinations) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap uses exit 0 for --help/--version and 2 for usage errors, as we do.
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let ui = ui::Ui::from_env(&cli.global);
    let status = match &cli.command {
        Command::Lint(args) => lint_cmd::execute(args, &ui),
        Command::Run(args) => run_cmd::execute(args, &ui),
        Command::Exec(args) => exec_cmd::execute(args, &ui),
        Command::Report(args) => report_cmd::execute(args),
        Command::Rules => rules_cmd::rules(),
        Command::Explain(args) => rules_cmd::explain(args),
        Command::Init(args) => init_cmd::execute(args),
        Command::Hook(args) => hook_cmd::execute(args),
    };
    status.into()
}
