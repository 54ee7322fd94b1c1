//! The fork strategy: the program runs once as a fork server and forks at each swept allocation;
//! the forked child fails it and runs on to its verdict, leaving its own journal, stdout and
//! stderr, while the server waits for it and carries on. No prefix runs twice and no process
//! starts per index.
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::journal::{self, Forked};
use super::launch::{self, Ended, Program, RunConfig, RunOutput, Slot};
use super::protocol::MAX_FORK_INDICES;
use super::PreloadError;

/// A forked child's file: `<journal>.<index><suffix>`.
fn child_file(journal: &Path, index: u64, suffix: &str) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(format!(".{index}{suffix}"));
    PathBuf::from(name)
}

/// What a forked child left, as if it had run alone: the server's output up to the fork
/// followed by the child's own. `None` when the fork failed.
fn child_output(server: &RunOutput, journal: &Path, f: &Forked) -> Option<RunOutput> {
    let ended = match (f.timed_out, f.status) {
        (true, _) => Ended::TimedOut,
        (false, Some(status)) => Ended::from_wait_status(status),
        (false, None) => return None,
    };
    let read = |suffix: &str| {
        let path = child_file(journal, f.index, suffix);
        let bytes = std::fs::read(&path).unwrap_or_default();
        let _ = std::fs::remove_file(&path);
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let prefix = |text: &str, offset: u64| {
        let mut end = (offset as usize).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text[..end].to_string()
    };
    let child_journal = read("");
    Some(RunOutput {
        ended,
        stdout: prefix(&server.stdout, f.stdout_offset) + &read(".out"),
        stderr: prefix(&server.stderr, f.stderr_offset) + &read(".err"),
        journal: journal::parse(child_journal.as_bytes()),
        elapsed: Duration::ZERO,
        forked: true,
    })
}

/// What the fork servers of one share of the indices left.
#[derive(Debug, Default)]
pub struct Served {
    /// The runs of the indices whose child ran.
    pub runs: Vec<(u64, RunOutput)>,
    /// Indices of a server whose own run did not count the normal number of allocations: its
    /// run went another way (a shared pipe read by a child, say), so its children's verdicts
    /// are not those of the normal run's allocations, and they need a re-run.
    pub diverged: Vec<u64>,
}

/// Runs fork servers in `slot` for `indices` (ascending), one after the other in chunks the
/// interposer takes; `count` is the normal run's allocation count. An index in neither
/// `runs` nor `diverged` (the server died first, or its fork failed) needs a re-run too.
pub fn serve(
    program: &Program,
    lib: &Path,
    slot: &Slot,
    indices: &[u64],
    persistent: bool,
    timeout: Duration,
    count: u64,
) -> Result<Served, PreloadError> {
    let mut out = Served::default();
    for chunk in indices.chunks(MAX_FORK_INDICES) {
        let config = RunConfig {
            fork: chunk.to_vec(),
            persistent,
            ..RunConfig::default()
        };
        let server = launch::run(program, lib, &config, slot, timeout)?;
        let runs = server
            .journal
            .forked
            .iter()
            .filter_map(|f| Some((f.index, child_output(&server, &slot.journal, f)?)));
        if server.journal.count == Some(count) {
            out.runs.extend(runs);
        } else {
            runs.for_each(drop);
            out.diverged.extend_from_slice(chunk);
        }
    }
    Ok(out)
}
