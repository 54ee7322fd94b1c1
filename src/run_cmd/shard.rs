//! `--partition`: the run of one shard. As cargo-nextest does, the test filter (the libtest
//! arguments after `--` that choose tests) applies first and the tests it selects are then
//! partitioned, so the shards of a filtered run together sweep exactly the filtered run's tests.
//! A shard left without a test is not an error: in a CI matrix it is normal.
use std::path::Path;

use super::args::RunArgs;
use super::cargo::Build;
use super::error::RunError;
use super::libtest;
use super::partition::{self, Partition};

/// What one shard runs.
#[derive(Debug)]
pub enum Shard {
    /// The libtest arguments that run exactly this shard's tests (in place of the filter).
    TestArgs(Vec<String>),
    /// No test of the filtered run fell in this shard.
    Empty {
        /// How many tests the filter selected, all in other shards.
        selected: usize,
    },
}

/// The shard `partition` of the tests `args` selects, listed from the built test executables
/// (sorted by name). A filter that selects no test at all is an error, as without
/// `--partition`.
pub fn select(args: &RunArgs, partition: Partition, build: &Build) -> Result<Shard, RunError> {
    let selection = libtest::selection(&args.test_args);
    let mut executables: Vec<&Path> = build.executables.iter().map(|e| e.path.as_path()).collect();
    executables.sort_by_key(|p| (p.file_name().map(|n| n.to_os_string()), p.to_path_buf()));
    let mut binaries = Vec::new();
    for exe in executables {
        binaries.push(partition::list(exe, &selection).map_err(RunError::ListTests)?);
    }
    let selected: usize = binaries.iter().map(Vec::len).sum();
    if selected == 0 {
        let filters = libtest::filters(&args.test_args);
        return Err(if filters.is_empty() {
            RunError::NoChecks {
                tests_run: 0,
                filters,
            }
        } else {
            RunError::NoTestMatched { filters }
        });
    }
    let tests = partition.select(&binaries);
    if tests.is_empty() {
        return Ok(Shard::Empty { selected });
    }
    Ok(Shard::TestArgs(
        libtest::without_filters(&args.test_args)
            .into_iter()
            .chain(std::iter::once("--exact".to_string()))
            .chain(tests)
            .collect(),
    ))
}
