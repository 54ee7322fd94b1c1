//! Reading record directories for a report: every record of each directory, checked against
//! the crate being reported on, merged. Any problem refuses the whole report.
use std::path::{Path, PathBuf};

use oomcheck_injector::Report;

use super::stamp::{RunStamp, STAMP_FILE};

/// The records of one or more runs (shards) of one crate at one source.
#[derive(Debug)]
pub struct RunRecords {
    /// Every record, sorted by test name (then binary).
    pub reports: Vec<Report>,
    /// The partitions the directories swept (`None` for an unsharded run).
    pub partitions: Vec<Option<String>>,
}

/// Why records cannot be reported on (exit status 2, nothing written).
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// The directory does not exist.
    #[error("no records at {}: run `oomcheck run` first (or name a record directory)", .0.display())]
    Missing(PathBuf),
    /// The directory could not be read.
    #[error("cannot read the record directory {}: {source}", dir.display())]
    Unreadable {
        /// The directory.
        dir: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The directory has no stamp: not a record directory of `oomcheck run`.
    #[error("{} is not a record directory of `oomcheck run` (no {STAMP_FILE})", .0.display())]
    NoStamp(PathBuf),
    /// The directory holds no record (and is not a shard's).
    #[error("{} holds no record: the run checked nothing", .0.display())]
    Empty(PathBuf),
    /// Every directory is a shard that swept nothing.
    #[error(
        "no record in {}: the shards given swept nothing (their tests fell in other shards \
         or hold no check)",
        list(.0)
    )]
    NothingSwept(Vec<PathBuf>),
    /// A record or the stamp is not what `oomcheck run` writes.
    #[error("corrupt record {}: {source}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why it does not read.
        source: serde_json::Error,
    },
    /// The records belong to other packages.
    #[error(
        "the records in {} are of another crate ({}), not of {}",
        dir.display(), found.join(", "), expected.join(", ")
    )]
    OtherCrate {
        /// The directory.
        dir: PathBuf,
        /// Its packages.
        found: Vec<String>,
        /// The crate's packages.
        expected: Vec<String>,
    },
    /// The records were made from another version of the source.
    #[error(
        "the records in {} were made from other source (hash {found}, the crate's is now \
         {expected}): re-run `oomcheck run` on this commit",
        dir.display()
    )]
    OtherSource {
        /// The directory.
        dir: PathBuf,
        /// Its source hash.
        found: String,
        /// The crate's source hash now.
        expected: String,
    },
    /// Two directories swept the same test (overlapping shards, or one run given twice).
    #[error("the test `{test}` was swept in both {} and {}: give each shard's records once", first.display(), second.display())]
    Overlap {
        /// The test.
        test: String,
        /// The first directory.
        first: PathBuf,
        /// The second directory.
        second: PathBuf,
    },
}

/// Reads `dirs`, each checked against `expected` (the crate and its source now).
pub fn load(dirs: &[PathBuf], expected: &RunStamp) -> Result<RunRecords, RecordsError> {
    let mut reports: Vec<(Report, PathBuf)> = Vec::new();
    let mut partitions = Vec::new();
    for dir in dirs {
        let (stamp, found) = load_dir(dir)?;
        if stamp.packages != expected.packages {
            return Err(RecordsError::OtherCrate {
                dir: dir.clone(),
                found: stamp.packages,
                expected: expected.packages.clone(),
            });
        }
        if stamp.source_hash != expected.source_hash {
            return Err(RecordsError::OtherSource {
                dir: dir.clone(),
                found: stamp.source_hash,
                expected: expected.source_hash.clone(),
            });
        }
        partitions.push(stamp.partition);
        for report in found {
            let same = |r: &Report| {
                r.test == report.test && binary_name(&r.binary) == binary_name(&report.binary)
            };
            if let Some((_, first)) = reports.iter().find(|(r, _)| same(r)) {
                return Err(RecordsError::Overlap {
                    test: report.test,
                    first: first.clone(),
                    second: dir.clone(),
                });
            }
            reports.push((report, dir.clone()));
        }
    }
    if reports.is_empty() {
        return Err(RecordsError::NothingSwept(dirs.to_vec()));
    }
    let mut reports: Vec<Report> = reports.into_iter().map(|(r, _)| r).collect();
    reports
        .sort_by(|a, b| (&a.test, binary_name(&a.binary)).cmp(&(&b.test, binary_name(&b.binary))));
    Ok(RunRecords {
        reports,
        partitions,
    })
}

/// The test binary's target name (`oom` of `target/debug/deps/oom-0123abcd`): the same on
/// every machine.
pub fn binary_name(binary: &str) -> &str {
    let file = binary.rsplit('/').next().unwrap_or(binary);
    file.rsplit_once('-').map_or(file, |(name, _)| name)
}

/// `a, b and c`.
fn list(dirs: &[PathBuf]) -> String {
    let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// One directory's stamp and records (none for a shard that swept nothing).
fn load_dir(dir: &Path) -> Result<(RunStamp, Vec<Report>), RecordsError> {
    if !dir.is_dir() {
        return Err(RecordsError::Missing(dir.to_path_buf()));
    }
    let unreadable = |source| RecordsError::Unreadable {
        dir: dir.to_path_buf(),
        source,
    };
    let stamp_path = dir.join(STAMP_FILE);
    let stamp: RunStamp = match std::fs::read_to_string(&stamp_path) {
        Ok(text) => serde_json::from_str(&text).map_err(|source| RecordsError::Corrupt {
            path: stamp_path.clone(),
            source,
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let empty = std::fs::read_dir(dir).map_err(unreadable)?.next().is_none();
            return Err(if empty {
                RecordsError::Empty(dir.to_path_buf())
            } else {
                RecordsError::NoStamp(dir.to_path_buf())
            });
        }
        Err(e) => return Err(unreadable(e)),
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(unreadable)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    paths.sort();
    // A shard may sweep nothing (no test, or none with a check, fell in it); its stamped
    // directory merges with the others.
    if paths.is_empty() && stamp.partition.is_none() {
        return Err(RecordsError::Empty(dir.to_path_buf()));
    }
    let mut reports = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(unreadable)?;
        let report: Report =
            serde_json::from_str(&text).map_err(|source| RecordsError::Corrupt { path, source })?;
        reports.push(report);
    }
    Ok((stamp, reports))
}
