//! The run's shared job budget: a directory of token files the injector's sweeps draw from.
//!
//! libtest sweeps several tests at once (one per test thread) and each sweep starts up to
//! `--jobs` children; every sweep process takes one of these tokens first, so a test sweeping
//! alone gets every core and tests sweeping together share them, never more processes than
//! tokens.
use std::path::{Path, PathBuf};

/// Where the tokens of the run reporting into `report_dir` live.
pub fn dir(report_dir: &Path) -> PathBuf {
    report_dir.join("tokens")
}

/// Create one token per core, or per `--jobs` child when that is more.
pub fn create(report_dir: &Path, jobs: Option<u32>) -> std::io::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = cores.max(jobs.unwrap_or(0) as usize);
    let dir = dir(report_dir);
    std::fs::create_dir_all(&dir)?;
    for i in 0..n {
        std::fs::write(dir.join(format!("token-{i}")), b"")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_budget_has_a_token_per_core_or_per_job() {
        let tmp = tempfile::tempdir().unwrap();
        create(tmp.path(), Some(64)).unwrap();
        assert_eq!(std::fs::read_dir(dir(tmp.path())).unwrap().count(), 64);
    }
}
