//! `oomcheck report`: the OOM-path coverage of the last run (or of the record directories
//! given, merged), in the format asked for, printed or written to a file. Any problem with the
//! records is an error (exit status 2) and nothing is written.
use std::path::{Path, PathBuf};

use crate::coverage::{self, last_run};
use crate::run_cmd::cargo::{self, CargoError, CargoOpts};
use crate::run_cmd::last_run::stamp_of;
use crate::Status;

/// The formats of a report.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReportFormat {
    /// The share of sites failed, the sites never failed, lint findings confirmed.
    #[default]
    Summary,
    /// An lcov tracefile (genhtml, Codecov, coverage gutters).
    Lcov,
    /// The joined data with a `version`.
    Json,
    /// The sweeps' findings as SARIF 2.1.0 (code scanning).
    Sarif,
    /// JUnit XML: one test case per swept test, findings as failures.
    Junit,
    /// One self-contained HTML page: the source with each site coloured.
    Html,
}

/// `oomcheck report [--manifest-path PATH] [--format F] [--output FILE] [RECORD_DIR…]`.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// The crate's `Cargo.toml` (default: the one cargo finds from the current directory).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// What to print.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
    /// Write the report to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Record directories of `oomcheck run` (shards are merged; default: the crate's last run,
    /// `<target>/oomcheck/last-run/<workspace directory name>/`).
    #[arg(value_name = "RECORD_DIR")]
    pub dirs: Vec<PathBuf>,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// `cargo metadata` failed.
    #[error("cannot read the crate's metadata: {0}")]
    Metadata(#[source] CargoError),
    /// The records cannot be reported on.
    #[error(transparent)]
    Records(#[from] coverage::records::RecordsError),
    /// The output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
}

/// Run `oomcheck report`.
pub fn execute(args: &ReportArgs) -> Status {
    match report(args) {
        Ok(()) => Status::Clean,
        Err(e) => {
            eprintln!("error: {e}");
            Status::Error
        }
    }
}

fn report(args: &ReportArgs) -> Result<(), ReportError> {
    let meta = cargo::metadata(&CargoOpts {
        manifest_path: args.manifest_path.clone(),
        ..CargoOpts::default()
    })
    .map_err(ReportError::Metadata)?;
    let dirs = if args.dirs.is_empty() {
        vec![last_run::dir(&meta.target_directory, &meta.workspace_root)]
    } else {
        args.dirs.clone()
    };
    let joined = coverage::joined(&meta.workspace_root, &dirs, &stamp_of(&meta, None))?;
    let text = match args.format {
        ReportFormat::Summary => coverage::summary::render(&joined),
        ReportFormat::Lcov => coverage::lcov::render(&joined),
        ReportFormat::Json => coverage::json::render(&joined),
        ReportFormat::Sarif => coverage::sarif::render(&joined, &meta.workspace_root),
        ReportFormat::Junit => coverage::junit::render(&joined),
        ReportFormat::Html => coverage::html::render(&joined, &meta.workspace_root),
    };
    match &args.output {
        Some(path) => write_atomically(path, &text).map_err(|source| ReportError::Write {
            path: path.clone(),
            source,
        }),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Writes `text` to `path` through a temporary file beside it, renamed over it.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
