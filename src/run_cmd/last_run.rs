//! The end of a finished run: its record directory becomes the crate's last run (for
//! `oomcheck report`) and, in human output, the coverage summary is the run's last lines.
use std::path::PathBuf;

use super::cargo::Metadata;
use crate::coverage::{self, join::Joined, last_run, stamp::RunStamp};

/// Keeps `records` as the last run of the crate `meta` describes (in the directory
/// `OOMCHECK_REPORT` names, if set), stamped with `stamp`, and returns where. Problems are
/// notes: the run's verdict stands.
pub fn keep(records: &std::path::Path, meta: &Metadata, stamp: &RunStamp) -> Option<PathBuf> {
    publish(records, meta, stamp)
}

/// Writes the records of a `run --preload` (JSON objects) into a fresh record directory and
/// keeps it as the last run, as [`keep`] does; returns where it is kept.
pub fn keep_preload(
    records: &[(String, serde_json::Value)],
    meta: &Metadata,
    stamp: &RunStamp,
) -> Option<PathBuf> {
    let written = super::report_dir::create(&meta.target_directory)
        .map_err(std::io::Error::other)
        .and_then(|dir| {
            for (name, record) in records {
                std::fs::write(dir.join(name), record.to_string())?;
            }
            Ok(dir)
        });
    match written {
        Ok(dir) => publish(&dir, meta, stamp),
        Err(e) => {
            eprintln!("note: the records of this run were not kept for `oomcheck report`: {e}");
            None
        }
    }
}

/// Moves `records` to the last run's place (`OOMCHECK_REPORT`, or [`last_run::dir`]).
fn publish(records: &std::path::Path, meta: &Metadata, stamp: &RunStamp) -> Option<PathBuf> {
    let dest = std::env::var_os(oomcheck_injector::env::OOMCHECK_REPORT)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| last_run::dir(&meta.target_directory, &meta.workspace_root));
    last_run::publish(records, &dest, stamp)
        .inspect_err(|e| {
            eprintln!("note: the records of this run were not kept for `oomcheck report`: {e}")
        })
        .ok()
}

/// The OOM-path coverage of the records kept in `last`: the run's findings joined with the
/// analyzer's sites and lint findings (a note when it cannot be made).
pub fn coverage(last: &std::path::Path, meta: &Metadata, stamp: &RunStamp) -> Option<Joined> {
    let dirs: [PathBuf; 1] = [last.to_path_buf()];
    coverage::joined(&meta.workspace_root, &dirs, stamp)
        .inspect_err(|e| eprintln!("note: no OOM-path coverage: {e}"))
        .ok()
}

/// Prints the OOM-path coverage summary (on stderr, after the run's diagnostics).
pub fn print_summary(joined: &Joined) {
    eprintln!();
    eprint!("{}", coverage::summary::render(joined));
}

/// The stamp of the crate `meta` describes, as it is now.
pub fn stamp_of(meta: &Metadata, partition: Option<String>) -> RunStamp {
    let names = meta.packages.iter().map(|p| p.name.clone()).collect();
    RunStamp::of(&meta.workspace_root, names, partition)
}
