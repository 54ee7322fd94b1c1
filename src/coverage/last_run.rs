//! Where `oomcheck run` keeps the records of its last run:
//! `<target>/oomcheck/last-run/<workspace directory name>/` (crates sharing a target directory
//! keep theirs apart), or the directory `OOMCHECK_REPORT` names. Replaced as a whole when a run
//! ends (an atomic exchange of directories on Linux), so a reader sees the previous run or the
//! new one, never a mix.
use std::path::{Path, PathBuf};

use super::stamp::RunStamp;

/// The last run's record directory of the workspace at `root` whose target directory is
/// `target`.
pub fn dir(target: &Path, root: &Path) -> PathBuf {
    let name = root.file_name().unwrap_or_default();
    target.join("oomcheck").join("last-run").join(name)
}

/// Stamps the finished run's record directory `records` and moves it to `last` (made if
/// missing; what was there is removed). Returns `last`.
pub fn publish(records: &Path, last: &Path, stamp: &RunStamp) -> std::io::Result<PathBuf> {
    stamp.write(records)?;
    let last = last.to_path_buf();
    if let Some(parent) = last.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if last.exists() && exchange(records, &last).is_ok() {
        // `records` now holds the previous run.
        let _ = std::fs::remove_dir_all(records);
        return Ok(last);
    }
    if last.exists() {
        std::fs::remove_dir_all(&last)?;
    }
    std::fs::rename(records, &last)?;
    Ok(last)
}

/// Swaps two directories atomically (`renameat2` with `RENAME_EXCHANGE`).
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c =
        |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: two valid NUL-terminated paths; the call only renames.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_run_replaces_the_last_one_whole() {
        let target = tempfile::tempdir().unwrap();
        let stamp = RunStamp {
            version: 1,
            packages: vec!["x".into()],
            source_hash: "0".into(),
            partition: None,
        };
        for run in ["first", "second"] {
            let records = target.path().join("reports").join(run);
            std::fs::create_dir_all(&records).unwrap();
            std::fs::write(records.join(format!("{run}.json")), "{}").unwrap();
            let last =
                publish(&records, &dir(target.path(), Path::new("/w/demo")), &stamp).unwrap();
            assert!(last.ends_with("oomcheck/last-run/demo"));
            assert!(!records.exists());
            assert!(last.join(format!("{run}.json")).is_file());
            assert!(last.join(super::super::stamp::STAMP_FILE).is_file());
        }
        assert!(!dir(target.path(), Path::new("/w/demo"))
            .join("first.json")
            .exists());
    }
}
