//! Every outcome decision, in one place: how an iteration that finished is classified
//! ([`classify`]), how a process that died with an iteration in flight is ([`died`], for re-run
//! children and forked processes alike), the wording of each (crashes, signals, hangs), and the
//! limits after which a silent process counts as hung.
//!
//! Where `hang` comes from: a sweep child's watchdog (`child/watchdog.rs`) or a forked process's
//! alarm (`fork.rs`) journals `H <index>` when an iteration runs past its timeout and ends the
//! process; the supervisor kills a child that stops journaling for [`stall_limit`], the fork
//! server a forked process that outlives [`fork_backstop`]. [`died`] turns either into `hang`.

use crate::frames::RawFrames;
use crate::sweep::{Baseline, Ended, Exec, RunData};
use crate::text::truncate;
use serde::{Deserialize, Serialize};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How one iteration of a sweep (one failed allocation index) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Returned an error the NoMemory predicate accepts: the code handled the failure.
    NoMemory,
    /// Returned `Ok` with the same output as the normal run (a finding only in strict mode).
    Tolerated,
    /// Returned an error that is not NoMemory.
    WrongError,
    /// Returned `Ok` with an output that differs from the normal run.
    Corrupted,
    /// Panicked.
    Panic,
    /// The process died (an infallible allocation aborted, or a signal).
    Abort,
    /// Ran past the per-iteration timeout.
    Hang,
    /// Returned a NoMemory error but left memory allocated during the run live.
    Leak,
    /// The iteration's failing allocation never came: the body made fewer allocations than in
    /// its counting runs (count drift), so nothing was tested at this index. Not a finding, not
    /// a pass: counted apart and named in the report's message.
    NotReached,
    /// The iteration ended as a pass would (a NoMemory error, the normal run's error, or
    /// `tolerated` outside strict mode), but the allocation it failed was made at another call
    /// site than the counting run's allocation of the same index (site drift): the index tested
    /// some other allocation, and the one it names was not tested. Not a finding, not a pass:
    /// counted apart and named in the report's message.
    Drifted,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 10] = [
        Outcome::NoMemory,
        Outcome::Tolerated,
        Outcome::WrongError,
        Outcome::Corrupted,
        Outcome::Panic,
        Outcome::Abort,
        Outcome::Hang,
        Outcome::Leak,
        Outcome::NotReached,
        Outcome::Drifted,
    ];

    /// The outcome's kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::NoMemory => "no-memory",
            Outcome::Tolerated => "tolerated",
            Outcome::WrongError => "wrong-error",
            Outcome::Corrupted => "corrupted",
            Outcome::Panic => "panic",
            Outcome::Abort => "abort",
            Outcome::Hang => "hang",
            Outcome::Leak => "leak",
            Outcome::NotReached => "not-reached",
            Outcome::Drifted => "drifted",
        }
    }

    /// The character of the progress sequence (libvirt style).
    pub fn symbol(self) -> char {
        match self {
            Outcome::NoMemory => '.',
            Outcome::Tolerated => 't',
            Outcome::WrongError => 'W',
            Outcome::Corrupted => 'C',
            Outcome::Panic => 'P',
            Outcome::Abort => 'A',
            Outcome::Hang => 'H',
            Outcome::Leak => 'L',
            Outcome::NotReached => 'N',
            Outcome::Drifted => 'D',
        }
    }

    /// Whether this outcome is a finding (`tolerated` is one only in strict mode). `not-reached`
    /// and `drifted` are none (what was meant to be tested was not: they say nothing of the
    /// code's handling) but are no pass either: the report's message counts them.
    pub fn is_finding(self, strict: bool) -> bool {
        match self {
            Outcome::NoMemory | Outcome::NotReached | Outcome::Drifted => false,
            Outcome::Tolerated => strict,
            _ => true,
        }
    }
}

/// One classified iteration, before symbolization.
pub(crate) struct Classified {
    pub(crate) alloc: u64,
    pub(crate) outcome: Outcome,
    pub(crate) message: String,
    pub(crate) diff: Option<String>,
    /// The failed allocation that explains the outcome.
    pub(crate) frames: RawFrames,
    /// Site hash of the failed allocation (see `drift.rs`).
    pub(crate) site_hash: Option<u64>,
}

/// Whether every swept index's failed allocation is located ([`Settings::coverage`]), not only
/// those of findings. Set once per check, before its iterations run.
///
/// [`Settings::coverage`]: crate::Settings::coverage
static COVERAGE: AtomicBool = AtomicBool::new(false);

/// Locates every swept index's failed allocation from now on (`true`), or only findings'.
pub(crate) fn set_coverage(on: bool) {
    COVERAGE.store(on, Ordering::Relaxed);
}

/// Whether the failed allocation of an iteration ending in `outcome` is located.
pub(crate) fn locates(outcome: Outcome, strict: bool) -> bool {
    outcome.is_finding(strict) || COVERAGE.load(Ordering::Relaxed)
}

/// Whether stacks are captured on the first run of every index (coverage is on).
fn captures_every_index() -> bool {
    COVERAGE.load(Ordering::Relaxed)
}

/// Runs iteration `alloc` and classifies it.
///
/// Stacks are not captured in the first run (it costs tens of microseconds per failed
/// allocation, more than the rest of a typical iteration): an iteration whose outcome is a finding
/// runs a second time capturing them. With coverage on, every first run captures them.
pub(crate) fn iterate(
    exec: &Exec<'_>,
    alloc: u64,
    persistent: bool,
    strict: bool,
    base: &Baseline,
) -> Classified {
    let capture = captures_every_index();
    let mut c = classify(alloc, exec(alloc, persistent, capture), base);
    if !capture && c.outcome.is_finding(strict) {
        c.frames = exec(alloc, persistent, true).first;
    }
    c
}

/// Longest error or panic text kept in a report (a huge Debug output would bloat every record).
const MAX_MESSAGE: usize = 4_000;
/// Longest diff kept in a report.
const MAX_DIFF: usize = 32_000;

/// The message of an index whose allocation never came (count drift).
const NOT_REACHED: &str = "the body ended without reaching the allocation to fail: its allocation \
                           count drifts between runs (see the unstable-count causes: a randomly \
                           seeded hasher, work on other threads, lazy caches)";

/// What follows [`NOT_REACHED`]: how far the run got.
fn not_reached_note(alloc: u64, made: u64) -> String {
    format!(" (allocation {alloc} was not reached: this run made {made} allocations)")
}

/// The message of index `alloc`, which a run that made only `made` allocations never reached.
pub(crate) fn unreached_message(alloc: u64, made: u64) -> String {
    format!("{NOT_REACHED}{}", not_reached_note(alloc, made))
}

/// Classifies one armed run that finished (returned or panicked) against the normal run.
pub(crate) fn classify(alloc: u64, run: RunData, base: &Baseline) -> Classified {
    let not_reached = (run.stats.failed == 0).then(|| not_reached_note(alloc, run.stats.count));
    let (outcome, mut message, diff) = match run.ended {
        Ended::Panic { message } => (Outcome::Panic, message, None),
        // Count drift: not a pass, since nothing failed.
        _ if run.stats.failed == 0 => (Outcome::NotReached, NOT_REACHED.to_string(), None),
        Ended::Err { debug, .. } if base.normal_err.as_ref() == Some(&debug) => (
            Outcome::NoMemory,
            format!("Err({debug}), the same error as the normal run"),
            None,
        ),
        Ended::Ok { debug } if base.normal_err.is_some() => (
            Outcome::Corrupted,
            format!(
                "returned Ok({debug}) although the normal run returns Err({})",
                base.normal_err.as_deref().unwrap_or_default()
            ),
            None,
        ),
        Ended::Err {
            debug,
            no_memory: true,
        } => {
            if base.live == 0 && run.live > 0 {
                let m = format!(
                    "returned Err({debug}) but {} bytes allocated during the run are still live",
                    run.live
                );
                (Outcome::Leak, m, None)
            } else {
                (Outcome::NoMemory, format!("Err({debug})"), None)
            }
        }
        Ended::Err {
            debug,
            no_memory: false,
        } => (
            Outcome::WrongError,
            format!("returned Err({debug}), which is not a NoMemory error"),
            None,
        ),
        Ended::Ok { debug } if debug == base.debug => (
            Outcome::Tolerated,
            "returned Ok with the same output as the normal run".to_string(),
            None,
        ),
        Ended::Ok { debug } => {
            let diff = similar::TextDiff::from_lines(&base.debug, &debug)
                .unified_diff()
                .context_radius(3)
                .header("normal run", &format!("allocation {alloc} failed"))
                .to_string();
            (
                Outcome::Corrupted,
                "returned Ok but the output differs from the normal run".to_string(),
                Some(diff),
            )
        }
    };
    truncate(&mut message, MAX_MESSAGE, true);
    if let Some(note) = not_reached {
        message.push_str(&note);
    }
    let diff = diff.map(|mut d| {
        truncate(&mut d, MAX_DIFF, true);
        d
    });
    Classified {
        alloc,
        outcome,
        message,
        diff,
        frames: run.first,
        site_hash: run.site,
    }
}

/// What is known about a process (a re-run sweep child or a forked process) that died with an
/// iteration in flight: what it journaled about that iteration on the way out, whether the
/// harness killed it, and how it ended.
#[derive(Debug, Clone)]
pub(crate) struct Death<'a> {
    /// Journaled by the watchdog or alarm for this index (`H`): it ran past its timeout. The
    /// frames of the latest failed allocation.
    pub(crate) timed_out: Option<&'a [usize]>,
    /// The harness killed the process after it gave no sign of life for this long.
    pub(crate) killed_after: Option<Duration>,
    /// Journaled by the crash signal handler (`A`): the signal and the frames of the latest
    /// failed allocation.
    pub(crate) signal: Option<(i32, &'a [usize])>,
    /// Journaled when the process exited with this index in flight (`E`): the frames of the
    /// latest failed allocation.
    pub(crate) exited: Option<&'a [usize]>,
    /// How the process ended.
    pub(crate) status: ExitStatus,
    /// The tail of its stderr.
    pub(crate) stderr: Option<&'a str>,
    /// The per-iteration timeout.
    pub(crate) timeout: Duration,
}

/// The outcome of a death, its message, and the raw frames that explain it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) outcome: Outcome,
    pub(crate) message: String,
    pub(crate) frames: Vec<usize>,
}

/// Classifies the iteration in flight of a process that died: `hang` when it timed out or was
/// killed for going silent, `abort` otherwise (a crash, a signal, an exit).
pub(crate) fn died(d: &Death<'_>) -> Verdict {
    let (outcome, message, frames) = if let Some(frames) = d.timed_out {
        (Outcome::Hang, timed_out(d.timeout), frames)
    } else if let Some(after) = d.killed_after {
        (Outcome::Hang, stopped_responding(after), &[][..])
    } else if let Some((sig, frames)) = d.signal {
        (
            Outcome::Abort,
            crash_message(d.stderr, Some(sig), d.status),
            frames,
        )
    } else {
        // The body exited the process: the `atexit` handler journaled the stack.
        let frames = d.exited.unwrap_or(&[]);
        (
            Outcome::Abort,
            crash_message(d.stderr, None, d.status),
            frames,
        )
    };
    Verdict {
        outcome,
        message,
        frames: frames.to_vec(),
    }
}

/// The message of an iteration that ran past its timeout (the only hang that names it).
pub(crate) fn timed_out(timeout: Duration) -> String {
    format!("ran past the per-iteration timeout of {timeout:?}")
}

/// The message of a process the harness killed after it gave no sign of life for `after`.
pub(crate) fn stopped_responding(after: Duration) -> String {
    format!("the process stopped responding and was killed after {after:?}")
}

/// A sweep child that stops journaling for this long is wedged outside any iteration (its
/// watchdog ends an iteration at `timeout`); the supervisor kills it.
pub(crate) fn stall_limit(timeout: Duration) -> Duration {
    timeout * 2 + Duration::from_secs(10)
}

/// A forked process still alive this long after its fork is killed by the fork server (its
/// alarm ends it at `timeout`; this is the backstop for one that blocks the alarm or is stuck in
/// the kernel).
pub(crate) fn fork_backstop(timeout: Duration) -> Duration {
    timeout * 2 + Duration::from_secs(2)
}

/// The message of every index a sweep child could not reach (it keeps dying before the sweep).
pub(crate) fn not_reached(status: ExitStatus) -> String {
    format!(
        "the sweep child exited ({}) before reaching this index",
        describe_status(status)
    )
}

/// The message of an index that ended up without any outcome (which the sweep rules out; still,
/// no index may go uncounted).
pub(crate) const LOST: &str = "no outcome was recorded for this index";

/// The reason a process died: Rust's own message when its stderr has one (a failed allocation,
/// a stack overflow), else the signal or exit status.
pub(crate) fn crash_message(
    stderr: Option<&str>,
    signal: Option<i32>,
    status: ExitStatus,
) -> String {
    // The first such line: allocations made while reporting the failure may fail in turn.
    // The body's own output may precede it on the line (no newline before the abort).
    for line in stderr.into_iter().flat_map(str::lines) {
        if let Some(at) = line.find("memory allocation of") {
            return line[at..].trim().to_string();
        }
        if let Some(at) = line.find("has overflowed its stack") {
            let from = line[..at].rfind("thread '").unwrap_or(0);
            return line[from..].trim().to_string();
        }
    }
    // A signal without a journaled crash is one no handler could see (SIGKILL from outside); an
    // exit status while an index was in flight means the body ended the process itself.
    match (signal.or(status.signal()), status.code()) {
        (Some(sig), _) => format!("the process was killed by {}", signal_name(sig)),
        (None, Some(code)) => format!("the body exited the process (exit status {code})"),
        (None, None) => format!(
            "the process ended during the run ({})",
            describe_status(status)
        ),
    }
}

/// `SIGSEGV`, …, or `signal N`.
pub(crate) fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        _ => return format!("signal {sig}"),
    };
    name.to_string()
}

/// `exit status N` or the signal's name.
pub(crate) fn describe_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => signal_name(sig),
        _ => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn death(status: ExitStatus) -> Death<'static> {
        Death {
            timed_out: None,
            killed_after: None,
            signal: None,
            exited: None,
            status,
            stderr: None,
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_crash_is_named_by_the_allocation_failure_line() {
        let status = ExitStatus::from_raw(libc::SIGABRT);
        let stderr = "running 1 test\nmemory allocation of 24 bytes failed\n";
        assert_eq!(
            crash_message(Some(stderr), Some(libc::SIGABRT), status),
            "memory allocation of 24 bytes failed"
        );
        assert_eq!(
            crash_message(
                Some("xxxxmemory allocation of 8 bytes failed\n"),
                None,
                status
            ),
            "memory allocation of 8 bytes failed"
        );
        assert_eq!(
            crash_message(
                Some("out\nxxthread 't' has overflowed its stack\nfatal runtime error: stack overflow\n"),
                Some(libc::SIGABRT),
                status
            ),
            "thread 't' has overflowed its stack"
        );
        assert_eq!(
            crash_message(Some("boom"), Some(libc::SIGSEGV), status),
            "the process was killed by SIGSEGV"
        );
        assert_eq!(
            crash_message(None, None, ExitStatus::from_raw(3 << 8)),
            "the body exited the process (exit status 3)"
        );
        assert_eq!(
            crash_message(Some("x"), None, ExitStatus::from_raw(libc::SIGKILL)),
            "the process was killed by SIGKILL"
        );
        assert_eq!(signal_name(99), "signal 99");
        assert_eq!(
            describe_status(ExitStatus::from_raw(7 << 8)),
            "exit status 7"
        );
    }

    #[test]
    fn only_the_timeout_hang_names_the_timeout() {
        let status = ExitStatus::from_raw(libc::SIGKILL);
        let timed = died(&Death {
            timed_out: Some(&[0x10]),
            ..death(ExitStatus::from_raw(86 << 8))
        });
        assert_eq!(timed.outcome, Outcome::Hang);
        assert_eq!(timed.message, "ran past the per-iteration timeout of 1s");
        assert_eq!(timed.frames, vec![0x10]);
        let silent = died(&Death {
            killed_after: Some(Duration::from_secs(12)),
            ..death(status)
        });
        assert_eq!(silent.outcome, Outcome::Hang);
        assert_eq!(
            silent.message,
            "the process stopped responding and was killed after 12s"
        );
        assert!(!silent.message.contains("of 1s"), "{}", silent.message);
    }

    #[test]
    fn a_death_without_a_timeout_is_an_abort_with_its_frames() {
        let crashed = died(&Death {
            signal: Some((libc::SIGSEGV, &[0x20, 0x30])),
            ..death(ExitStatus::from_raw(libc::SIGSEGV))
        });
        assert_eq!(crashed.outcome, Outcome::Abort);
        assert_eq!(crashed.message, "the process was killed by SIGSEGV");
        assert_eq!(crashed.frames, vec![0x20, 0x30]);
        let exited = died(&Death {
            exited: Some(&[0x40]),
            ..death(ExitStatus::from_raw(0))
        });
        assert_eq!(exited.outcome, Outcome::Abort);
        assert_eq!(
            exited.message,
            "the body exited the process (exit status 0)"
        );
        assert_eq!(exited.frames, vec![0x40]);
    }

    /// A re-run sweep child (judged by the supervisor) and a forked process (judged by the fork
    /// server) that die alike get the same outcome and message: [`died`]'s.
    #[test]
    fn both_strategies_judge_a_death_with_the_one_function() {
        let timeout = Duration::from_secs(1);
        let abort = ExitStatus::from_raw(libc::SIGABRT);
        for (journal, status, stderr) in [
            ("A 6\n", abort, "memory allocation of 8 bytes failed\n"),
            ("A b 10\n", ExitStatus::from_raw(libc::SIGSEGV), ""),
            ("E 3 10\n", ExitStatus::from_raw(3 << 8), ""),
            ("", ExitStatus::from_raw(libc::SIGKILL), "noise\n"),
            ("H 3 10\n", ExitStatus::from_raw(86 << 8), ""),
        ] {
            let rerun = crate::supervise::judge_death(
                3,
                &crate::journal::Journal::parse(&format!("I 3\n{journal}")),
                status,
                None,
                crate::text::stderr_tail(stderr),
                timeout,
                0,
            );
            let (forked, _) = crate::fork::judge(3, journal, stderr, status, None, timeout);
            let parsed = crate::journal::Journal::parse(journal);
            let tail = crate::text::stderr_tail(stderr);
            let expected = died(&parsed.death(3, status, None, tail.as_deref(), timeout));
            for r in [&rerun, &forked] {
                assert_eq!(
                    (r.outcome, r.message.as_str()),
                    (expected.outcome, expected.message.as_str()),
                    "{journal:?}"
                );
            }
        }
        // The exit of the body reads the same in both, which it once did not.
        let (forked, _) =
            crate::fork::judge(3, "E 3\n", "", ExitStatus::from_raw(3 << 8), None, timeout);
        assert_eq!(
            forked.message,
            "the body exited the process (exit status 3)"
        );
    }
}
