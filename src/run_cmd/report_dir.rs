//! The run's report directory, `<target>/oomcheck/reports/<pid>-<nanos>/`: made fresh when the
//! run starts, watched while the tests run (each record read once, as soon as it is complete),
//! and searched at the end for sweeps that started but never wrote their record.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::record::{self, Loaded, RecordError};

/// Why the report directory could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportDirError {
    /// A directory of the same name was left over and could not be removed.
    #[error("cannot clean {}", dir.display())]
    Clean {
        /// The directory.
        dir: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The directory could not be created.
    #[error("cannot create {}", dir.display())]
    Create {
        /// The directory.
        dir: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
}

/// Reports of earlier runs older than this are removed when a run starts. (Not all of them:
/// another `oomcheck run` on the same target directory may be writing its own right now.)
const STALE_REPORTS: Duration = Duration::from_secs(24 * 60 * 60);

/// A fresh report directory for this run, under the target directory.
pub fn create(target: &Path) -> Result<PathBuf, ReportDirError> {
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
        if let Err(source) = std::fs::remove_dir_all(&dir) {
            return Err(ReportDirError::Clean { dir, source });
        }
    }
    match std::fs::create_dir_all(&dir) {
        Ok(()) => Ok(dir),
        Err(source) => Err(ReportDirError::Create { dir, source }),
    }
}

/// Reads the report directory incrementally: each record once, as soon as it is complete.
pub struct Watcher {
    dir: PathBuf,
    seen: BTreeSet<PathBuf>,
    unreadable: Vec<(PathBuf, RecordError)>,
}

impl Watcher {
    /// Watch `dir`, where no record was read yet.
    pub fn new(dir: &Path) -> Watcher {
        Watcher {
            dir: dir.to_path_buf(),
            seen: BTreeSet::new(),
            unreadable: Vec::new(),
        }
    }

    /// The records that appeared since the last poll, oldest first.
    pub fn poll(&mut self) -> Vec<Loaded> {
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
        self.unreadable.clear();
        let mut out = Vec::new();
        for p in paths {
            match record::load(&p) {
                Ok(l) => {
                    self.seen.insert(p);
                    out.push(l);
                }
                Err(e) => self.unreadable.push((p, e)),
            }
        }
        out
    }

    /// The files of the last poll that did not read as records (maybe still being written
    /// then; after the final poll, broken), each with why.
    pub fn into_unreadable(self) -> Vec<(PathBuf, RecordError)> {
        self.unreadable
    }
}

/// Checks whose sweep started but wrote no record: the injector's `.started` markers (see
/// `Report::started_marker`) left without their `.json`. Sorted test names.
pub fn incomplete_checks(dir: &Path) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_once_and_unfinished_sweeps_found() {
        let target = tempfile::tempdir().unwrap();
        let dir = create(target.path()).unwrap();
        assert!(dir.starts_with(target.path().join("oomcheck/reports")));
        let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
        write("a.json", r#"{"test":"a","status":"swept","sequence":"."}"#);
        write(".b.json", r#"{"test":"b"}"#);
        write("c.json", r#"{"test":"#);
        write("c.started", "c\n");
        write("a.started", "a\n");
        let mut w = Watcher::new(&dir);
        let first = w.poll();
        assert_eq!(first.len(), 1, "the dot file is still being written");
        assert_eq!(first[0].record.test, "a");
        assert!(w.poll().is_empty(), "each record once");
        write("c.json", r#"{"test":"c","status":"swept"}"#);
        write("d.json", "not json");
        let second = w.poll();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].record.test, "c");
        let bad = w.into_unreadable();
        assert_eq!(bad.len(), 1);
        assert!(bad[0].0.ends_with("d.json"));
        write("e.started", "e\n");
        assert_eq!(incomplete_checks(&dir), ["e"]);
    }
}
