//! The sweep child: a re-execution of the test binary running one check's share of indices
//! in-process, journaling each index before running it so that a crash costs one index only.
//!
//! Journal lines (one `write` each, on a file opened before the sweep):
//! `B <anchor>` · `I <index>` (in flight) · `R <json>` (result) · `A <signal> <ip>…` (from the
//! signal handler) · `H <index> <ip>…` (from the watchdog) · `X <text>` (the child cannot sweep) ·
//! `T <n>` (allocations so far on threads the body started) · `E <index> <ip>…` (the process
//! exits, from an `atexit` handler, while an index is in flight) · `D` (done). Addresses are
//! hexadecimal.

use crate::alloc::{
    CHILD_FRAMES, CHILD_MODE, CHILD_NFRAMES, FORCE_CAPTURE, FOREIGN_ALLOCS, MAX_FRAMES,
};
use crate::report::{Frame, Outcome};
use crate::sweep::{self, Exec};
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Environment variables that make a process a sweep child.
pub(crate) const ENV_JOURNAL: &str = "OOMCHECK_CHILD_JOURNAL";
pub(crate) const ENV_TEST: &str = "OOMCHECK_CHILD_TEST";
pub(crate) const ENV_CHECK: &str = "OOMCHECK_CHILD_CHECK";
pub(crate) const ENV_SET: &str = "OOMCHECK_CHILD_SET";
/// Set to `1` to capture stacks in the first index (re-running a crash to find its site).
pub(crate) const ENV_CAPTURE: &str = "OOMCHECK_CHILD_CAPTURE";
/// Process id of the supervisor (the test process that started this child).
pub(crate) const ENV_PARENT: &str = "OOMCHECK_CHILD_PARENT";

/// An arithmetic set of indices: `start, start + step, …` up to `end` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexSet {
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) step: u64,
}

impl IndexSet {
    pub(crate) fn encode(self) -> String {
        format!("{}-{}/{}", self.start, self.end, self.step)
    }

    pub(crate) fn decode(s: &str) -> Option<IndexSet> {
        let (range, step) = s.split_once('/')?;
        let (a, b) = range.split_once('-')?;
        let set = IndexSet {
            start: a.parse().ok()?,
            end: b.parse().ok()?,
            step: step.parse().ok()?,
        };
        (set.step >= 1 && set.start >= 1).then_some(set)
    }

    pub(crate) fn iter(self) -> impl Iterator<Item = u64> {
        (self.start..=self.end).step_by(self.step.max(1) as usize)
    }

    pub(crate) fn is_empty(self) -> bool {
        self.start > self.end
    }

    /// The indices after `index`.
    pub(crate) fn after(self, index: u64) -> IndexSet {
        IndexSet {
            start: index + self.step,
            ..self
        }
    }
}

/// What the environment asks of this process as a sweep child.
pub(crate) struct ChildSpec {
    pub(crate) journal: PathBuf,
    pub(crate) test: String,
    pub(crate) ordinal: u32,
    pub(crate) set: IndexSet,
    /// Capture stacks while running the first index.
    pub(crate) capture_first: bool,
    /// The supervisor's process id, when it said.
    pub(crate) parent: Option<i32>,
}

impl ChildSpec {
    /// The child request in the environment, if this process is a sweep child.
    pub(crate) fn from_env() -> Option<ChildSpec> {
        let journal = std::env::var_os(ENV_JOURNAL)?;
        Some(ChildSpec {
            journal: PathBuf::from(journal),
            test: std::env::var(ENV_TEST).ok()?,
            ordinal: std::env::var(ENV_CHECK).ok()?.parse().ok()?,
            set: IndexSet::decode(&std::env::var(ENV_SET).ok()?)?,
            capture_first: std::env::var_os(ENV_CAPTURE).is_some_and(|v| v == "1"),
            parent: std::env::var(ENV_PARENT).ok().and_then(|p| p.parse().ok()),
        })
    }
}

/// One iteration's result as journaled by a child that survived it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChildResult {
    pub(crate) alloc: u64,
    pub(crate) outcome: Outcome,
    pub(crate) message: String,
    pub(crate) diff: Option<String>,
    pub(crate) site: Option<Frame>,
    pub(crate) stack: Vec<Frame>,
}

pub(crate) static JOURNAL_FD: AtomicI32 = AtomicI32::new(-1);
/// Index in flight (0 = none) and when it started (ms since the child's epoch).
static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);
static IN_FLIGHT_SINCE_MS: AtomicU64 = AtomicU64::new(0);

/// Writes one whole line with a single `write` (async-signal-safe).
pub(crate) fn write_raw(bytes: &[u8]) {
    let fd = JOURNAL_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: `bytes` is a valid buffer; a short or failed write only loses journal data.
        unsafe {
            libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        }
    }
}

/// A fixed buffer line builder usable in a signal handler (no allocation).
pub(crate) struct RawLine {
    buf: [u8; 64 + MAX_FRAMES * 19],
    len: usize,
}

impl RawLine {
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
    /// Appends the published frames of the latest failed allocation.
    pub(crate) fn frames(&mut self) {
        let n = CHILD_NFRAMES.load(Ordering::Acquire).min(MAX_FRAMES);
        for slot in &CHILD_FRAMES[..n] {
            self.hex(slot.load(Ordering::Relaxed));
        }
    }
    pub(crate) fn finish(&mut self) {
        self.push(b'\n');
        write_raw(&self.buf[..self.len]);
    }
}

/// The actions in place before ours (std's stack-overflow handler for SIGSEGV and SIGBUS), by
/// signal number; written once, before the sweep, by [`install_signal_handlers`].
struct Previous(std::cell::UnsafeCell<[std::mem::MaybeUninit<libc::sigaction>; 32]>);

// SAFETY: written only by `install_signal_handlers` before any handler can run, then only read.
unsafe impl Sync for Previous {}

static PREVIOUS: Previous = Previous(std::cell::UnsafeCell::new(
    [std::mem::MaybeUninit::zeroed(); 32],
));

extern "C" fn on_fatal_signal(sig: libc::c_int) {
    let mut line = RawLine::new(b'A');
    line.hex(sig as usize);
    line.frames();
    line.finish();
    // SAFETY: only async-signal-safe calls. A fault (SIGSEGV, SIGBUS) goes back to the previous
    // action and returns: the faulting instruction runs again under std's handler, which names a
    // stack overflow ("has overflowed its stack") before aborting, or falls back to the default
    // action. Other signals are re-raised with the default action, ending the process with the
    // signal as the supervisor expects.
    unsafe {
        if (sig == libc::SIGSEGV || sig == libc::SIGBUS) && (sig as usize) < 32 {
            let previous = (*PREVIOUS.0.get())[sig as usize].as_ptr();
            libc::sigaction(sig, previous, std::ptr::null_mut());
        } else {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }
}

/// Journals the index in flight, with the latest failed allocation's stack, when the body ends
/// the process with `std::process::exit` (or libc's `exit`).
pub(crate) extern "C" fn on_exit() {
    let index = IN_FLIGHT.load(Ordering::Acquire);
    if index != 0 {
        let mut line = RawLine::new(b'E');
        line.hex(index as usize);
        line.frames();
        line.finish();
    }
}

/// Installs [`on_fatal_signal`] on the alternate signal stack (std gives every thread one), so
/// that it also runs when the fault is a stack overflow.
pub(crate) fn install_signal_handlers() {
    for sig in [
        libc::SIGABRT,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
    ] {
        // SAFETY: the handler only performs async-signal-safe operations; `PREVIOUS` is not read
        // before a handler runs, and its slot for `sig` is written by this very call.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fatal_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let previous = (*PREVIOUS.0.get())[sig as usize].as_mut_ptr();
            libc::sigaction(sig, &action, previous);
        }
    }
}

pub(crate) fn write_line(line: &str) {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    write_raw(&bytes);
}

/// Opens the child's journal (exit 97 when it cannot), points the crash handlers at it and
/// installs them: the set-up every kind of sweep child starts with.
pub(crate) fn open_journal(spec: &ChildSpec) -> std::fs::File {
    die_with_supervisor(spec.parent);
    let journal = match std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&spec.journal)
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "oomcheck child: cannot open journal {}: {e}",
                spec.journal.display()
            );
            std::process::exit(97);
        }
    };
    JOURNAL_FD.store(journal.as_raw_fd(), Ordering::Relaxed);
    install_signal_handlers();
    journal
}

/// Makes this child die with its supervisor: if the test process is killed (SIGKILL, the OOM
/// killer, a Ctrl-C that reached it alone), its sweep children do not run on as orphans. Done by
/// the child itself rather than between `fork` and `exec`, so that the supervisor can start
/// children with `posix_spawn` (no copy of its page tables, which grows with the test's memory).
#[cfg(target_os = "linux")]
fn die_with_supervisor(parent: Option<i32>) {
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
fn die_with_supervisor(_parent: Option<i32>) {}

/// Runs this child's share of the sweep and exits the process.
pub(crate) fn run_child(
    spec: &ChildSpec,
    exec: &Exec<'_>,
    persistent: bool,
    strict: bool,
    timeout: Duration,
) -> ! {
    let journal = open_journal(spec);
    // SAFETY: registers a handler that only reads atomics and writes the journal.
    unsafe {
        libc::atexit(on_exit);
    }
    CHILD_MODE.store(true, Ordering::Relaxed);
    write_line(&format!("B {:x}", crate::stack::anchor()));
    let epoch = Instant::now();
    // Before any armed run: the watchdog is the harness's thread, not one the body started.
    start_watchdog(epoch, timeout);

    let base = match sweep::prepare(exec) {
        Ok(base) => base,
        Err(sweep::NotSwept::NormalFailed(m)) => exit_with(&format!("X {}", one_line(&m))),
        Err(sweep::NotSwept::Unstable(a, b)) => exit_with(&format!(
            "X allocation counts of the normal runs differ: {a} vs {b}"
        )),
    };

    sweep_indices(spec, exec, &base, persistent, strict, epoch, &journal)
}

/// The re-run sweep of a child once its normal runs are done: one in-process run per index of
/// the set (of the selection, with dedup or sampling), each journaled. Also the fallback of the
/// fork strategy for bodies that start threads. Expects the journal, the signal handlers and the
/// watchdog to be set up.
pub(crate) fn sweep_indices(
    spec: &ChildSpec,
    exec: &Exec<'_>,
    base: &sweep::Baseline,
    persistent: bool,
    strict: bool,
    epoch: Instant,
    journal: &std::fs::File,
) -> ! {
    // Site dedup and sampling sweep some indices of the set only.
    let selection = crate::strategy::Selection::from_child_env()
        .unwrap_or_else(|e| exit_with(&format!("X {}", one_line(&e))));
    // The result of one index goes out with the in-flight mark of the next: one write each.
    let mut pending = String::new();
    let mut foreign = 0;
    note_foreign(&mut pending, &mut foreign);
    for index in spec.set.iter() {
        if selection.as_ref().is_some_and(|s| !s.contains(index)) {
            continue;
        }
        pending.push_str(&format!("I {index}\n"));
        write_raw(pending.as_bytes());
        pending.clear();
        CHILD_NFRAMES.store(0, Ordering::Release);
        FORCE_CAPTURE.store(false, Ordering::Relaxed);
        IN_FLIGHT_SINCE_MS.store(epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        IN_FLIGHT.store(index, Ordering::Release);
        let c = if spec.capture_first && index == spec.set.start {
            sweep::classify(index, exec(index, persistent, true), base)
        } else {
            sweep::iterate(exec, index, persistent, strict, base)
        };
        IN_FLIGHT.store(0, Ordering::Release);
        let (site, stack) = if c.outcome.is_finding(strict) {
            crate::stack::site_of(crate::stack::symbolize(c.frames.as_slice(), 0))
        } else {
            (None, Vec::new())
        };
        let result = ChildResult {
            alloc: c.alloc,
            outcome: c.outcome,
            message: c.message,
            diff: c.diff,
            site,
            stack,
        };
        match serde_json::to_string(&result) {
            Ok(json) => pending.push_str(&format!("R {json}\n")),
            Err(e) => pending.push_str(&format!(
                "X cannot encode result: {}\n",
                one_line(&e.to_string())
            )),
        }
        note_foreign(&mut pending, &mut foreign);
    }
    write_raw(pending.as_bytes());
    let _ = (&*journal).flush();
    exit_with("D")
}

/// Queues a `T` line when the body's threads allocated since the last one.
fn note_foreign(pending: &mut String, noted: &mut u64) {
    let n = FOREIGN_ALLOCS.load(Ordering::Relaxed);
    if n > *noted {
        *noted = n;
        pending.push_str(&format!("T {n}\n"));
    }
}

pub(crate) fn exit_with(line: &str) -> ! {
    write_line(line);
    std::process::exit(0)
}

pub(crate) fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

/// A thread that ends the child when an iteration runs past `timeout`, journaling `hang`.
pub(crate) fn start_watchdog(epoch: Instant, timeout: Duration) {
    let tick = (timeout / 10).clamp(Duration::from_millis(5), Duration::from_millis(100));
    let limit = timeout.as_millis() as u64;
    static STARTED: AtomicBool = AtomicBool::new(false);
    let spawned = std::thread::Builder::new()
        .name("oomcheck-watchdog".into())
        .spawn(move || loop {
            if !STARTED.load(Ordering::Relaxed) {
                crate::alloc::mark_harness_thread();
                STARTED.store(true, Ordering::Release);
            }
            std::thread::sleep(tick);
            let index = IN_FLIGHT.load(Ordering::Acquire);
            if index == 0 {
                continue;
            }
            let since = IN_FLIGHT_SINCE_MS.load(Ordering::Relaxed);
            let now = epoch.elapsed().as_millis() as u64;
            // Past half the timeout, capture the stacks of further failed allocations, so that
            // a hang that keeps failing allocations (a retry loop) is reported with its site.
            if now.saturating_sub(since) > limit / 2 {
                FORCE_CAPTURE.store(true, Ordering::Relaxed);
            }
            if now.saturating_sub(since) > limit && IN_FLIGHT.load(Ordering::Acquire) == index {
                let mut line = RawLine::new(b'H');
                line.hex(index as usize);
                line.frames();
                line.finish();
                // SAFETY: ends the process at once; the journal is already written.
                unsafe { libc::_exit(86) }
            }
        });
    match spawned {
        // Nothing is armed until the watchdog has marked itself as the harness's thread.
        Ok(_) => {
            while !STARTED.load(Ordering::Acquire) {
                std::thread::yield_now();
            }
        }
        Err(e) => write_line(&format!("X cannot start the watchdog thread: {e}")),
    }
}

/// A parsed journal.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    pub(crate) anchor: Option<usize>,
    pub(crate) in_flight: Option<u64>,
    pub(crate) results: Vec<ChildResult>,
    /// Signal number and frames written by the signal handler.
    pub(crate) crash: Option<(i32, Vec<usize>)>,
    /// Index and frames written by the watchdog.
    pub(crate) hang: Option<(u64, Vec<usize>)>,
    /// Index and frames written when the process exited during an iteration.
    pub(crate) exited: Option<(u64, Vec<usize>)>,
    pub(crate) error: Option<String>,
    /// Allocations on threads the body started (the latest `T` line).
    pub(crate) foreign_allocs: u64,
    pub(crate) done: bool,
}

impl Journal {
    pub(crate) fn parse(text: &str) -> Journal {
        let mut j = Journal::default();
        let hexes = |rest: &str| -> Vec<usize> {
            rest.split_whitespace()
                .filter_map(|h| usize::from_str_radix(h, 16).ok())
                .collect()
        };
        for line in text.lines() {
            let (tag, rest) = line.split_at(line.len().min(1));
            let rest = rest.trim_start();
            match tag {
                "B" => j.anchor = usize::from_str_radix(rest.trim(), 16).ok(),
                "I" => j.in_flight = rest.trim().parse().ok(),
                "R" => {
                    if let Ok(r) = serde_json::from_str::<ChildResult>(rest) {
                        if j.in_flight == Some(r.alloc) {
                            j.in_flight = None;
                        }
                        j.results.push(r);
                    }
                }
                "A" => {
                    let v = hexes(rest);
                    if let Some((sig, frames)) = v.split_first() {
                        j.crash = Some((*sig as i32, frames.to_vec()));
                    }
                }
                "H" => {
                    let v = hexes(rest);
                    if let Some((index, frames)) = v.split_first() {
                        j.hang = Some((*index as u64, frames.to_vec()));
                    }
                }
                "E" => {
                    let v = hexes(rest);
                    if let Some((index, frames)) = v.split_first() {
                        j.exited = Some((*index as u64, frames.to_vec()));
                    }
                }
                "X" => j.error = Some(rest.to_string()),
                "T" => j.foreign_allocs = rest.trim().parse().unwrap_or(j.foreign_allocs),
                "D" => j.done = true,
                _ => {}
            }
        }
        j
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_sets_round_trip_and_interleave() {
        let s = IndexSet {
            start: 2,
            end: 9,
            step: 3,
        };
        assert_eq!(IndexSet::decode(&s.encode()), Some(s));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![2, 5, 8]);
        assert_eq!(s.after(5).iter().collect::<Vec<_>>(), vec![8]);
        assert!(s.after(8).is_empty());
        assert_eq!(IndexSet::decode("1-5/0"), None);
        assert_eq!(IndexSet::decode("x"), None);
    }

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
    }
}
