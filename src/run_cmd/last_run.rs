//! The end of a finished run: its record directory becomes the crate's last run (for
//! `oomcheck report`) and, in human output, the coverage summary is the run's last lines.
use std::path::PathBuf;

use super::cargo::Metadata;
use crate::coverage::{self, last_run, stamp::RunStamp};

/// Keeps `records` as the last run of the crate `meta` describes (in the directory
/// `OOMCHECK_REPORT` names, if set), stamped with `stamp`; with `summary`, prints the OOM-path
/// coverage of the run after its diagnostics (on stderr, as they are). Problems are notes: the
/// run's verdict stands.
pub fn keep(records: &std::path::Path, meta: &Metadata, stamp: &RunStamp, summary: bool) {
    let dest = std::env::var_os(oomcheck_injector::env::OOMCHECK_REPORT)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| last_run::dir(&meta.target_directory, &meta.workspace_root));
    let last = match last_run::publish(records, &dest, stamp) {
        Ok(last) => last,
        Err(e) => {
            eprintln!("note: the records of this run were not kept for `oomcheck report`: {e}");
            return;
        }
    };
    if !summary {
        return;
    }
    let dirs: [PathBuf; 1] = [last];
    match coverage::joined(&meta.workspace_root, &dirs, stamp) {
        Ok(joined) => {
            eprintln!();
            eprint!("{}", coverage::summary::render(&joined));
        }
        Err(e) => eprintln!("note: no OOM-path coverage: {e}"),
    }
}

/// The stamp of the crate `meta` describes, as it is now.
pub fn stamp_of(meta: &Metadata, partition: Option<String>) -> RunStamp {
    let names = meta.packages.iter().map(|p| p.name.clone()).collect();
    RunStamp::of(&meta.workspace_root, names, partition)
}
