//! A job budget shared by every check of a `cargo test` run, like make's jobserver:
//! `OOMCHECK_JOB_TOKENS=DIR` names a directory of token files (`oomcheck run` makes one per
//! core), and a sweep process (a sweep child, or a process forked by the fork strategy) may only
//! run while its supervisor holds one of them, locked with `flock`.
//!
//! libtest runs tests on several threads, so several checks sweep at once, each wanting `jobs`
//! processes: without a budget that is cores × cores processes thrashing; with one, a check
//! running alone still gets every core, and checks running together share them. A lock is
//! released by the kernel when its holder closes the file or dies, so a crashed process can
//! never leak a token.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// A held token: the budget has one process slot less until it is dropped (the lock is held by
/// the open file).
#[derive(Debug)]
pub(crate) struct Token(File);

impl Token {
    /// The descriptor holding the lock (closed in forked processes, which must not keep it).
    pub(crate) fn fd(&self) -> i32 {
        self.0.as_raw_fd()
    }
}

/// The shared budget, if `oomcheck run` (or the user) set one up.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    files: Vec<PathBuf>,
}

impl Budget {
    /// The token files of `dir` (`None` when it has none: no limit rather than no progress).
    pub(crate) fn in_dir(dir: &Path) -> Option<Budget> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        (!files.is_empty()).then_some(Budget { files })
    }

    /// Takes a free token without waiting, if there is one.
    pub(crate) fn try_acquire(&self) -> Option<Token> {
        for path in &self.files {
            let Ok(file) = File::open(path) else { continue };
            // SAFETY: a plain call on a descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Some(Token(file));
            }
        }
        None
    }
}

/// Creates `n` token files in `dir`.
#[cfg(test)]
fn create_tokens(dir: &Path, n: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for i in 0..n.max(1) {
        std::fs::write(dir.join(format!("token-{i}")), b"")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_exclusive_and_come_back_when_dropped() {
        let dir = std::env::temp_dir().join(format!("oomcheck-tokens-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        create_tokens(&dir, 2).unwrap();
        let budget = Budget::in_dir(&dir).expect("two tokens");
        let a = budget.try_acquire().expect("first");
        let b = budget.try_acquire().expect("second");
        assert!(budget.try_acquire().is_none(), "only two tokens");
        drop(a);
        let c = budget.try_acquire().expect("a dropped token is free again");
        assert!(budget.try_acquire().is_none());
        drop((b, c));
        assert!(Budget::in_dir(&dir.join("missing")).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
