//! The sweep child: a re-execution of the test binary running one check's share of indices
//! in-process, journaling each index before running it so that a crash costs one index only.
//! The set-up every kind of sweep child shares (the fork server's too) is here as well:
//! [`setup`] and [`prepare`].

mod flight;
mod watchdog;

pub(crate) use flight::{begin, forget_failures, in_flight, journal_with_frames};

use crate::alloc;
use crate::env::ChildRequest;
use crate::journal;
use crate::outcome::{classify, iterate};
use crate::selection::Selection;
use crate::sweep::{self, Baseline, Exec};
use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// How a sweep child runs its iterations: the check's settings as its supervisor resolved them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Iterations {
    /// Fail every allocation from the swept one on.
    pub(crate) persistent: bool,
    /// `tolerated` is a finding (its stack is captured).
    pub(crate) strict: bool,
    /// An iteration running longer is a hang.
    pub(crate) timeout: Duration,
}

/// The exit status of a child that cannot open its journal.
const EXIT_NO_JOURNAL: i32 = 97;

/// Opens the child's journal (exit 97 when it cannot), points the journal writer at it, installs
/// the handlers that journal a death, watches the body's threads, and journals the anchor: the
/// set-up every kind of sweep child starts with.
pub(crate) fn setup(request: &ChildRequest) -> std::fs::File {
    die_with_supervisor(request.parent);
    let journal = match std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&request.journal)
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "oomcheck child: cannot open journal {}: {e}",
                request.journal.display()
            );
            std::process::exit(EXIT_NO_JOURNAL);
        }
    };
    journal::set_fd(journal.as_raw_fd());
    flight::install();
    alloc::watch_threads();
    journal::write_line(&format!("B {:x}", crate::stack::anchor()));
    journal
}

/// Makes this child die with its supervisor: if the test process is killed (SIGKILL, the OOM
/// killer, a Ctrl-C that reached it alone), its sweep children do not run on as orphans. Done by
/// the child itself rather than between `fork` and `exec`, so that the supervisor can start
/// children with `posix_spawn` (no copy of its page tables, which grows with the test's memory).
/// A process forked by a fork server does the same with the server as its supervisor (a fork
/// clears the setting).
#[cfg(target_os = "linux")]
pub(crate) fn die_with_supervisor(parent: Option<i32>) {
    // SAFETY: plain system calls on this process.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // The supervisor died before the request took effect: this child was re-parented.
        if parent.is_some_and(|p| libc::getppid() != p) {
            libc::_exit(1);
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn die_with_supervisor(_parent: Option<i32>) {}

/// The normal runs of a child; a child whose body cannot be swept journals why and exits.
pub(crate) fn prepare(exec: &Exec<'_>) -> Baseline {
    match sweep::prepare(exec) {
        Ok(base) => base,
        Err(sweep::NotSwept::NormalFailed(m)) => exit_with(&journal::error_line(&m)),
        Err(sweep::NotSwept::Unstable(a, b)) => exit_with(&journal::error_line(&format!(
            "allocation counts of the normal runs differ: {a} vs {b}"
        ))),
    }
}

/// The index selection a child was given (dedup, sampling); a child that cannot read it
/// journals why and exits.
pub(crate) fn selection(request: &ChildRequest) -> Option<Selection> {
    let path = request.select.as_ref()?;
    Some(Selection::read(path).unwrap_or_else(|e| exit_with(&journal::error_line(&e.to_string()))))
}

/// Runs this child's share of the sweep by re-running the body per index, and exits the process.
pub(crate) fn run_child(request: &ChildRequest, exec: &Exec<'_>, how: Iterations) -> ! {
    let journal = setup(request);
    let base = prepare(exec);
    rerun_share(request, exec, &base, how, &journal)
}

/// The re-run sweep of a child once its normal runs are done: one in-process run per index of
/// its share (of the selection, with dedup or sampling), each journaled, under a watchdog. Also
/// the fallback of the fork strategy for bodies that start threads. Expects [`setup`] done.
pub(crate) fn rerun_share(
    request: &ChildRequest,
    exec: &Exec<'_>,
    base: &Baseline,
    how: Iterations,
    journal: &std::fs::File,
) -> ! {
    let Iterations {
        persistent,
        strict,
        timeout,
    } = how;
    let epoch = Instant::now();
    watchdog::start(epoch, timeout);
    // Site dedup and sampling sweep some indices of the set only.
    let selection = selection(request);
    let set = request.set;
    // The result of one index goes out with the in-flight mark of the next: one write each.
    let mut pending = String::new();
    let mut foreign = 0;
    note_foreign(&mut pending, &mut foreign);
    for index in set.iter() {
        if selection.as_ref().is_some_and(|s| !s.contains(index)) {
            continue;
        }
        pending.push_str(&format!("I {index}\n"));
        journal::write_raw(pending.as_bytes());
        pending.clear();
        flight::forget_failures();
        alloc::capture_every_failure(false);
        flight::begin(index, epoch.elapsed().as_millis() as u64);
        let c = if request.capture_first && index == set.start {
            classify(index, exec(index, persistent, true), base)
        } else {
            iterate(exec, index, persistent, strict, base)
        };
        flight::end();
        pending.push_str(&journal::result_line(&crate::stack::located(c, strict)));
        note_foreign(&mut pending, &mut foreign);
    }
    journal::write_raw(pending.as_bytes());
    let _ = (&*journal).flush();
    exit_with("D")
}

/// Queues a `T` line when the body's threads allocated since the last one.
fn note_foreign(pending: &mut String, noted: &mut u64) {
    let n = alloc::foreign_allocs();
    if n > *noted {
        *noted = n;
        pending.push_str(&format!("T {n}\n"));
    }
}

/// Journals `line` and exits the child.
pub(crate) fn exit_with(line: &str) -> ! {
    journal::write_line(line);
    std::process::exit(0)
}
