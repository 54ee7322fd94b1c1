//! The journal of a sweep process: how a sweep child (on its journal file) and a forked process
//! (on its pipe) tell their parent what happened, written and parsed here.
//!
//! One line per event, each written with a single `write(2)` (async-signal-safe from a signal
//! handler; a crash loses at most the line being written). Addresses and signal numbers are
//! hexadecimal:
//!
//! | line | written by | meaning |
//! |---|---|---|
//! | `B <anchor>` | the child, first | address of `stack::anchor`: the load bias |
//! | `I <index>` | before an iteration | the index in flight |
//! | `R <json>` | after an iteration | its [`IterationResult`] |
//! | `A <signal> <ip>…` | the crash signal handler | the signal and the latest failed allocation's stack |
//! | `H <index> <ip>…` | the watchdog or alarm | the iteration ran past its timeout |
//! | `E <index> <ip>…` | the `atexit` handler | the process exits with the index in flight |
//! | `F <ip>…` | a forked process | the stack of its failed allocation |
//! | `T <n>` | the child | allocations so far on threads the body started |
//! | `P <n>` | the fork server | processes forked so far (a sign of life) |
//! | `X <text>` | the child | it cannot sweep, and why |
//! | `D` | the child, last | done: every index of its share has a result |

use crate::frames::MAX_FRAMES;
use crate::outcome::Death;
use crate::report::IterationResult;
use crate::text::{hexes, one_line};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

/// The descriptor this process journals to (-1: none).
static JOURNAL_FD: AtomicI32 = AtomicI32::new(-1);

/// Journals to `fd` from now on.
pub(crate) fn set_fd(fd: i32) {
    JOURNAL_FD.store(fd, Ordering::Relaxed);
}

/// Writes bytes (whole lines) with a single `write` (async-signal-safe).
pub(crate) fn write_raw(bytes: &[u8]) {
    let fd = JOURNAL_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: `bytes` is a valid buffer; a short or failed write only loses journal data.
        unsafe {
            libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        }
    }
}

/// Writes one line.
pub(crate) fn write_line(line: &str) {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    write_raw(&bytes);
}

/// The `R` line of a result (or an `X` line when it cannot be encoded), with its newline.
pub(crate) fn result_line(result: &IterationResult) -> String {
    match serde_json::to_string(result) {
        Ok(json) => format!("R {json}\n"),
        Err(e) => format!("X cannot encode result: {}\n", one_line(&e.to_string())),
    }
}

/// The `X` line saying why this process cannot sweep.
pub(crate) fn error_line(why: &str) -> String {
    format!("X {}", one_line(why))
}

/// A line built in a fixed buffer, usable in a signal handler (no allocation).
pub(crate) struct RawLine {
    buf: [u8; 64 + MAX_FRAMES * 19],
    len: usize,
}

impl RawLine {
    /// A line starting with `tag`.
    pub(crate) fn new(tag: u8) -> RawLine {
        let mut line = RawLine {
            buf: [0; 64 + MAX_FRAMES * 19],
            len: 0,
        };
        line.push(tag);
        line
    }

    fn push(&mut self, b: u8) {
        if self.len < self.buf.len() {
            self.buf[self.len] = b;
            self.len += 1;
        }
    }

    /// Appends ` <v>` in hexadecimal.
    pub(crate) fn hex(&mut self, mut v: usize) {
        self.push(b' ');
        let mut digits = [0u8; 16];
        let mut n = 0;
        loop {
            digits[n] = b"0123456789abcdef"[v & 15];
            n += 1;
            v >>= 4;
            if v == 0 {
                break;
            }
        }
        while n > 0 {
            n -= 1;
            self.push(digits[n]);
        }
    }

    /// Ends the line and writes it.
    pub(crate) fn finish(&mut self) {
        write_raw(self.ended());
    }

    /// Ends the line and returns it, to be written with more.
    pub(crate) fn ended(&mut self) -> &[u8] {
        self.push(b'\n');
        &self.buf[..self.len]
    }
}

/// A parsed journal.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    /// The writer's anchor address (`B`).
    pub(crate) anchor: Option<usize>,
    /// The index in flight: marked (`I`) and without a result yet.
    pub(crate) in_flight: Option<u64>,
    /// The results, in order.
    pub(crate) results: Vec<IterationResult>,
    /// Signal number and frames written by the signal handler.
    pub(crate) crash: Option<(i32, Vec<usize>)>,
    /// Index and frames written by the watchdog or alarm.
    pub(crate) hang: Option<(u64, Vec<usize>)>,
    /// Index and frames written when the process exited during an iteration.
    pub(crate) exited: Option<(u64, Vec<usize>)>,
    /// The failed allocation's frames a forked process journaled (the latest `F` line).
    pub(crate) failed: Vec<usize>,
    /// Why the writer cannot sweep (`X`).
    pub(crate) error: Option<String>,
    /// Allocations on threads the body started (the latest `T` line).
    pub(crate) foreign_allocs: u64,
    /// The writer finished its share (`D`).
    pub(crate) done: bool,
}

impl Journal {
    /// Parses a journal's text; lines it does not know (or a cut last line) are skipped.
    pub(crate) fn parse(text: &str) -> Journal {
        let mut j = Journal::default();
        let indexed = |rest: &str| -> Option<(u64, Vec<usize>)> {
            let v = hexes(rest);
            v.split_first()
                .map(|(i, frames)| (*i as u64, frames.to_vec()))
        };
        for line in text.lines() {
            let (tag, rest) = line.split_at(line.len().min(1));
            let rest = rest.trim_start();
            match tag {
                "B" => j.anchor = usize::from_str_radix(rest.trim(), 16).ok(),
                "I" => j.in_flight = rest.trim().parse().ok(),
                "R" => {
                    if let Ok(r) = serde_json::from_str::<IterationResult>(rest) {
                        if j.in_flight == Some(r.alloc) {
                            j.in_flight = None;
                        }
                        j.results.push(r);
                    }
                }
                "A" => {
                    if let Some((sig, frames)) = indexed(rest) {
                        j.crash = Some((sig as i32, frames));
                    }
                }
                "H" => j.hang = indexed(rest).or(j.hang.take()),
                "E" => j.exited = indexed(rest).or(j.exited.take()),
                "F" => j.failed = hexes(rest),
                "X" => j.error = Some(rest.to_string()),
                "T" => j.foreign_allocs = rest.trim().parse().unwrap_or(j.foreign_allocs),
                "D" => j.done = true,
                _ => {}
            }
        }
        j
    }

    /// What this journal tells of the death of its writer with iteration `index` in flight.
    pub(crate) fn death<'a>(
        &'a self,
        index: u64,
        status: ExitStatus,
        killed_after: Option<Duration>,
        stderr: Option<&'a str>,
        timeout: Duration,
    ) -> Death<'a> {
        let of_index = |mark: &'a Option<(u64, Vec<usize>)>| {
            mark.as_ref()
                .filter(|(i, _)| *i == index)
                .map(|(_, frames)| frames.as_slice())
        };
        Death {
            timed_out: of_index(&self.hang),
            killed_after,
            signal: self
                .crash
                .as_ref()
                .map(|(sig, frames)| (*sig, frames.as_slice())),
            exited: of_index(&self.exited),
            status,
            stderr,
            timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{died, Outcome};
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn raw_lines_are_hex() {
        let mut l = RawLine::new(b'A');
        l.hex(6);
        l.hex(0xdead_beef);
        assert_eq!(&l.buf[..l.len], b"A 6 deadbeef");
    }

    #[test]
    fn journal_parses_results_and_crashes() {
        let text = "B 1000\nI 1\nR {\"alloc\":1,\"outcome\":\"no-memory\",\"message\":\"m\",\"diff\":null,\"site\":null,\"stack\":[]}\nI 3\nA 6 10 20\n";
        let j = Journal::parse(text);
        assert_eq!(j.anchor, Some(0x1000));
        assert_eq!(j.results.len(), 1);
        assert_eq!(j.in_flight, Some(3));
        assert_eq!(j.crash, Some((6, vec![0x10, 0x20])));
        assert!(!j.done);
        let forked = Journal::parse("F a b\nT 3\nX why\nD\n");
        assert_eq!(forked.failed, vec![0xa, 0xb]);
        assert_eq!(forked.foreign_allocs, 3);
        assert_eq!(forked.error.as_deref(), Some("why"));
        assert!(forked.done);
    }

    #[test]
    fn results_round_trip_through_their_line() {
        let r = IterationResult {
            alloc: 7,
            outcome: Outcome::WrongError,
            message: "returned Err(x)".into(),
            diff: None,
            site: None,
            stack: Vec::new(),
            stderr: None,
            // The failed allocation's site hash travels with the result (the drift check).
            site_hash: Some(u64::MAX - 3),
        };
        let j = Journal::parse(&format!("I 7\n{}", result_line(&r)));
        assert_eq!(j.in_flight, None);
        assert_eq!(j.results[0].alloc, 7);
        assert_eq!(j.results[0].site_hash, Some(u64::MAX - 3));
        assert_eq!(j.results[0].outcome, Outcome::WrongError);
        assert_eq!(error_line("a\nb"), "X a b");
    }

    #[test]
    fn the_index_in_flight_is_an_abort_or_a_hang() {
        let timeout = Duration::from_secs(1);
        let status = ExitStatus::from_raw(libc::SIGABRT);
        let crashed = Journal::parse("B 0\nI 4\nA 6\n");
        let d = died(&crashed.death(4, status, None, None, timeout));
        assert_eq!(d.outcome, Outcome::Abort);
        assert_eq!(d.message, "the process was killed by SIGABRT");
        // An exit (status 0 too) with an index in flight is not the child being done.
        let exited = Journal::parse("B 0\nI 2\nE 2 10 20\n");
        assert!(!exited.done);
        let d = died(&exited.death(2, ExitStatus::from_raw(0), None, None, timeout));
        assert_eq!(d.outcome, Outcome::Abort);
        assert_eq!(d.message, "the body exited the process (exit status 0)");
        assert_eq!(d.frames, vec![0x10, 0x20]);
        let hung = Journal::parse("B 0\nI 5\nH 5\n");
        let d = died(&hung.death(5, ExitStatus::from_raw(86 << 8), None, None, timeout));
        assert_eq!(d.outcome, Outcome::Hang);
        // A timeout mark of another index does not count.
        let d = died(&hung.death(6, ExitStatus::from_raw(86 << 8), None, None, timeout));
        assert_eq!(d.outcome, Outcome::Abort);
        let wedged = Journal::parse("I 6\n");
        let d = died(&wedged.death(
            6,
            ExitStatus::from_raw(libc::SIGKILL),
            Some(Duration::from_secs(12)),
            None,
            timeout,
        ));
        assert_eq!(d.outcome, Outcome::Hang);
    }
}
