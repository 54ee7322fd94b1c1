//! What a dying sweep process tells: the iteration in flight and the stack of the latest failed
//! allocation, kept in atomics that a signal handler, the watchdog thread and an `atexit` handler
//! can read, and those handlers, which journal them on the way out.

use crate::alloc;
use crate::frames::{RawFrames, MAX_FRAMES};
use crate::journal::RawLine;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The index in flight (0: none).
static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);
/// When it started, in milliseconds since the child's epoch.
static IN_FLIGHT_SINCE_MS: AtomicU64 = AtomicU64::new(0);
/// The stack of the latest failed allocation whose stack was captured.
static LATEST_FRAMES: [AtomicUsize; MAX_FRAMES] = [const { AtomicUsize::new(0) }; MAX_FRAMES];
/// Number of valid entries of [`LATEST_FRAMES`].
static LATEST_LEN: AtomicUsize = AtomicUsize::new(0);

/// The allocator's failure sink: publishes a failed allocation's stack for the handlers (which
/// cannot reach the failing thread's locals).
fn publish(frames: &RawFrames) {
    for (slot, ip) in LATEST_FRAMES.iter().zip(frames.as_slice()) {
        slot.store(*ip, Ordering::Relaxed);
    }
    LATEST_LEN.store(frames.as_slice().len(), Ordering::Release);
}

/// Forgets the latest failed allocation (a new iteration begins).
pub(crate) fn forget_failures() {
    LATEST_LEN.store(0, Ordering::Release);
}

/// Marks iteration `index` in flight since `since_ms`.
pub(crate) fn begin(index: u64, since_ms: u64) {
    IN_FLIGHT_SINCE_MS.store(since_ms, Ordering::Relaxed);
    IN_FLIGHT.store(index, Ordering::Release);
}

/// No iteration is in flight any more.
pub(crate) fn end() {
    IN_FLIGHT.store(0, Ordering::Release);
}

/// The index in flight (0: none) and when it started.
pub(crate) fn in_flight() -> (u64, u64) {
    let index = IN_FLIGHT.load(Ordering::Acquire);
    (index, IN_FLIGHT_SINCE_MS.load(Ordering::Relaxed))
}

/// Journals `<tag> <index> <ip>…` with the latest failed allocation's stack, without
/// allocating.
pub(crate) fn journal_with_frames(tag: u8, index: u64) {
    let mut line = RawLine::new(tag);
    line.hex(index as usize);
    append_frames(&mut line);
    line.finish();
}

fn append_frames(line: &mut RawLine) {
    let n = LATEST_LEN.load(Ordering::Acquire).min(MAX_FRAMES);
    for slot in &LATEST_FRAMES[..n] {
        line.hex(slot.load(Ordering::Relaxed));
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
    append_frames(&mut line);
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
extern "C" fn on_exit() {
    let (index, _) = in_flight();
    if index != 0 {
        journal_with_frames(b'E', index);
    }
}

/// Installs [`on_fatal_signal`] on the alternate signal stack (std gives every thread one), so
/// that it also runs when the fault is a stack overflow.
fn install_signal_handlers() {
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

/// Sets up everything a death journals through: the allocator publishes failed stacks here, and
/// the crash signal and `atexit` handlers are installed. Once per process, before any sweep.
pub(crate) fn install() {
    alloc::set_failure_sink(publish);
    install_signal_handlers();
    // SAFETY: registers a handler that only reads atomics and writes the journal.
    unsafe {
        libc::atexit(on_exit);
    }
}
