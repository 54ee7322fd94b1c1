//! Zero-code sweeps, the engine of `oomcheck exec` and `oomcheck run --preload`: an unmodified
//! program (a C test, a CLI tool, a libtest test executable) runs with an allocation interposer
//! loaded by `LD_PRELOAD`, once to count its allocations and then once per index failing that
//! allocation, and each run is judged from outside (exit status, signal, output).
//!
//! - [`library`]: the interposer (`preload/` in the repository), embedded in the binary and
//!   written to a cache directory; [`protocol`] is how the two talk.
//! - [`elf`]: refusing what cannot work (static, musl, sanitizer builds) and finding libtest's
//!   frames in a test executable.
//! - [`launch`] runs the program once; [`journal`] reads what the interposer recorded;
//!   [`symbolize`] and [`site`] turn raw return addresses into the failed allocation's site.
//! - [`plan`] chooses the indices, [`sweep`] runs them (one process each, or forked from one
//!   run by [`fork`]) and judges them ([`verdict`]) into the same record `oomcheck run` reads,
//!   plus the [`PreloadInfo`] only these sweeps have.
//!
//! Linux with glibc only: the interposer forwards to glibc's `__libc_malloc` and friends.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub mod elf;
pub mod fork;
pub mod journal;
pub mod launch;
pub mod library;
pub mod plan;
#[path = "../../preload/src/protocol.rs"]
pub mod protocol;
pub mod site;
pub mod sweep;
pub mod symbolize;
pub mod verdict;

/// Why a zero-code sweep could not run.
#[derive(Debug, thiserror::Error)]
pub enum PreloadError {
    /// This build of oomcheck has no interposer (not Linux with glibc).
    #[error("zero-code sweeps need Linux with glibc (the allocation interposer is not built for this target)")]
    Unsupported,
    /// The interposer could not be written to its cache directory.
    #[error("cannot write the allocation interposer to {path}: {source}")]
    Install {
        /// Where it was to be written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A test executable without libtest's `__rust_begin_short_backtrace` symbol.
    #[error("{path} is not a libtest test executable with symbols (is it stripped, or built with `harness = false`?)")]
    NotATestBinary {
        /// The executable.
        path: PathBuf,
    },
    /// The program could not be started (or its output files written).
    #[error("cannot run {program}: {source}")]
    Launch {
        /// The program.
        program: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The scratch directory for journals and output could not be created.
    #[error("cannot create a scratch directory: {0}")]
    WorkDir(std::io::Error),
    /// The program cannot be swept with `LD_PRELOAD`.
    #[error("cannot sweep {program}: {why}")]
    Unsweepable {
        /// The program.
        program: PathBuf,
        /// Why.
        why: elf::Unsweepable,
    },
}

/// What a zero-code sweep's record has beyond the schema `oomcheck run` shares with the
/// injector: serialized as the record's `preload` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreloadInfo {
    /// The swept indices, ascending: the record's `sequence` has one character for each.
    pub swept: Vec<u64>,
    /// Indices counted but not swept because no frame of the crate's own non-test code made
    /// them (test setup, the test's own helpers); `--sweep-all` sweeps them.
    #[serde(default)]
    pub skipped: Vec<u64>,
    /// Indices whose outcome was read from printed text (an out-of-memory message, a panic
    /// message) rather than from how the process ended.
    #[serde(default)]
    pub from_text: Vec<u64>,
    /// With the fork strategy: indices whose verdict a re-run replaced. Hangs and crashes are
    /// checked again (a thread missing after `fork` can fake either), and so are the indices
    /// of a fork server whose own run did not count the normal number of allocations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rechecked: Vec<u64>,
}

/// The name of every scratch directory starts so, followed by its process's id.
const WORK_PREFIX: &str = "oomcheck-preload-";

/// Removes the scratch directories in `base` whose process is gone (killed, or interrupted
/// with Ctrl-C before it could remove its own).
fn remove_abandoned(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(WORK_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A scratch directory, removed when dropped: journals and outputs of the runs. In `/dev/shm`
/// when it exists (a journal write then costs no disk), else in the temporary directory.
#[derive(Debug)]
pub struct WorkDir(PathBuf);

impl WorkDir {
    /// A fresh directory.
    pub fn new() -> Result<WorkDir, PreloadError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("{WORK_PREFIX}{}-{nanos}", std::process::id());
        let shm = Path::new("/dev/shm");
        for base in [shm.to_path_buf(), std::env::temp_dir()] {
            remove_abandoned(&base);
        }
        if shm.is_dir() && std::fs::create_dir(shm.join(&name)).is_ok() {
            return Ok(WorkDir(shm.join(&name)));
        }
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).map_err(PreloadError::WorkDir)?;
        Ok(WorkDir(dir))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_directories_of_dead_processes_are_removed() {
        let base = std::env::temp_dir().join(format!("oomcheck-workdirs-{}", std::process::id()));
        // No process has the largest pid; this one is alive.
        let dead = base.join(format!("{WORK_PREFIX}{}-1", u32::MAX));
        let alive = base.join(format!("{WORK_PREFIX}{}-1", std::process::id()));
        let other = base.join("unrelated-1");
        for d in [&dead, &alive, &other] {
            std::fs::create_dir_all(d).unwrap();
        }
        remove_abandoned(&base);
        assert!(!dead.exists());
        assert!(alive.exists() && other.exists());
        let _ = std::fs::remove_dir_all(&base);
        let w = WorkDir::new().unwrap();
        let path = w.path().to_path_buf();
        assert!(path.is_dir());
        drop(w);
        assert!(!path.exists());
    }
}
