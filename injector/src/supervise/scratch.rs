//! Where the supervisor keeps its children's journals and stderr files: a scratch directory per
//! sweep, removed when the sweep ends, and pruned when a dead supervisor left one behind.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A scratch directory removed on drop.
pub(super) struct Scratch(PathBuf);

impl Scratch {
    /// A fresh scratch directory (`oomcheck-<pid>-<n>`) under [`scratch_base`], after removing
    /// those of dead supervisors there.
    pub(super) fn create() -> Result<Scratch, (PathBuf, std::io::Error)> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let base = scratch_base();
        prune_dead_scratch(&base);
        let dir = base.join(format!(
            "oomcheck-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        match std::fs::create_dir_all(&dir) {
            Ok(()) => Ok(Scratch(dir)),
            Err(e) => Err((dir, e)),
        }
    }

    /// The path of file `name` in the directory.
    pub(super) fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where sweeps keep their children's journals: the directory `TMPDIR` names when it is set;
/// otherwise, on Linux, `/dev/shm` when it is a writable memory file system with room to spare
/// (journal writes and clean-up then never touch a disk: on an ext4 mounted with `discard`,
/// removing the scratch directory alone took 0.5 ms, and a 100-allocation sweep ran 14 % faster);
/// else the system's temporary directory.
fn scratch_base() -> PathBuf {
    if std::env::var_os("TMPDIR").is_none() {
        let shm = Path::new("/dev/shm");
        if cfg!(target_os = "linux") && has_room(shm, 1 << 30) {
            return shm.to_path_buf();
        }
    }
    std::env::temp_dir()
}

/// Whether `dir` is a directory this process may write, with at least `bytes` available.
fn has_room(dir: &Path, bytes: u64) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a NUL-terminated path and `st` a zeroed struct `statvfs` fills.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0
            && libc::statvfs(c.as_ptr(), &mut st) == 0
            && (st.f_bavail as u64).saturating_mul(st.f_frsize as u64) >= bytes
    }
}

/// Removes the scratch directories (`oomcheck-<pid>-<n>`) of supervisors that died without
/// cleaning up (killed test processes), so that they do not pile up in the temporary directory.
fn prune_dead_scratch(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some((pid, seq)) = name
            .to_str()
            .and_then(|n| n.strip_prefix("oomcheck-"))
            .and_then(|n| n.split_once('-'))
        else {
            continue;
        };
        let (Ok(pid), Ok(_)) = (pid.parse::<libc::pid_t>(), seq.parse::<u64>()) else {
            continue;
        };
        // SAFETY: signal 0 only checks whether the process exists.
        let gone = pid > 0
            && unsafe { libc::kill(pid, 0) } == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// The tail of a child's stderr file (see [`crate::text::stderr_tail`]).
pub(super) fn stderr_tail(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let from = bytes.len().saturating_sub(4096);
    crate::text::stderr_tail(&String::from_utf8_lossy(&bytes[from..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn scratch_goes_where_there_is_room() {
        let temp = std::env::temp_dir();
        assert!(has_room(&temp, 1));
        assert!(!has_room(&temp, u64::MAX));
        assert!(!has_room(Path::new("/nonexistent/oomcheck"), 0));
        let base = scratch_base();
        assert!(
            base == temp || base == Path::new("/dev/shm"),
            "{}",
            base.display()
        );
    }

    #[test]
    fn scratch_of_dead_supervisors_is_pruned() {
        let temp = std::env::temp_dir().join(format!("oomcheck-prune-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&temp);
        let mut child = Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let mine = std::process::id();
        for name in [
            format!("oomcheck-{dead}-3"),
            format!("oomcheck-{mine}-3"),
            format!("oomcheck-{dead}-e2e"),
            "oomcheck-report".to_string(),
        ] {
            std::fs::create_dir_all(temp.join(name).join("sub")).unwrap();
        }
        prune_dead_scratch(&temp);
        let mut left: Vec<String> = std::fs::read_dir(&temp)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        left.sort();
        let mut expected = vec![
            format!("oomcheck-{mine}-3"),
            format!("oomcheck-{dead}-e2e"),
            "oomcheck-report".to_string(),
        ];
        expected.sort();
        assert_eq!(left, expected);
        let _ = std::fs::remove_dir_all(&temp);
    }

    #[test]
    fn the_stderr_tail_drops_libtest_chatter() {
        let path = std::env::temp_dir().join(format!("oomcheck-tail-{}", std::process::id()));
        std::fs::write(
            &path,
            "running 1 test\n\nmemory allocation of 8 bytes failed\n",
        )
        .unwrap();
        assert_eq!(
            stderr_tail(&path).as_deref(),
            Some("memory allocation of 8 bytes failed")
        );
        let _ = std::fs::remove_file(&path);
    }
}
