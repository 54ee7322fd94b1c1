//! OOM-path coverage: which fallible allocation sites a sweep ever failed, joined with the lint.
//!
//! `oomcheck run` keeps the records of its last run in [`last_run::dir`] with a [`stamp`] (the
//! crate's packages and source hash). `oomcheck report` reads one or more such directories
//! ([`records`]), the crate's allocation sites and lint findings through the analyzer
//! ([`source`]), and joins them ([`join`]): every site with the number of swept indices whose
//! failed allocation's stack passed through its line, every dynamic finding with the lint
//! findings its stack crosses. The renderers ([`summary`], [`lcov`], [`json`], [`sarif`],
//! [`junit`], [`html`]) only print the joined data. Nothing here drives cargo or knows `run`'s flags.
pub mod html;
pub mod join;
pub mod json;
pub mod junit;
pub mod last_run;
pub mod lcov;
pub mod records;
pub mod sarif;
pub mod source;
pub mod stamp;
pub mod summary;

use std::path::{Path, PathBuf};

/// Reads the record directories `dirs` (checked against `expected`, the crate now) and joins
/// them with the analyzer's view of the workspace at `root`.
pub fn joined(
    root: &Path,
    dirs: &[PathBuf],
    expected: &stamp::RunStamp,
) -> Result<join::Joined, records::RecordsError> {
    let records = records::load(dirs, expected)?;
    let source = source::analyze(root);
    Ok(join::join(root, &source, &records.reports))
}
