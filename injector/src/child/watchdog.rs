//! The watchdog of a re-run sweep child: a thread that ends the child when an iteration runs
//! past its timeout, journaling `H <index>` with the latest failed allocation's stack (which
//! `outcome::died` turns into `hang`).

use super::flight;
use crate::alloc;
use crate::journal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The exit status of a child its watchdog ended.
const EXIT_TIMED_OUT: i32 = 86;

/// Starts the watchdog; iterations are timed from `epoch` (see [`flight::begin`]). Returns once
/// the thread runs, so that nothing is armed before it is marked as the harness's own.
pub(crate) fn start(epoch: Instant, timeout: Duration) {
    let tick = (timeout / 10).clamp(Duration::from_millis(5), Duration::from_millis(100));
    let limit = timeout.as_millis() as u64;
    static STARTED: AtomicBool = AtomicBool::new(false);
    let spawned = std::thread::Builder::new()
        .name("oomcheck-watchdog".into())
        .spawn(move || loop {
            if !STARTED.load(Ordering::Relaxed) {
                alloc::mark_harness_thread();
                STARTED.store(true, Ordering::Release);
            }
            std::thread::sleep(tick);
            let (index, since) = flight::in_flight();
            if index == 0 {
                continue;
            }
            let now = epoch.elapsed().as_millis() as u64;
            // Past half the timeout, capture the stacks of further failed allocations, so that
            // a hang that keeps failing allocations (a retry loop) is reported with its site.
            if now.saturating_sub(since) > limit / 2 {
                alloc::capture_every_failure(true);
            }
            if now.saturating_sub(since) > limit && flight::in_flight().0 == index {
                flight::journal_with_frames(b'H', index);
                // SAFETY: ends the process at once; the journal is already written.
                unsafe { libc::_exit(EXIT_TIMED_OUT) }
            }
        });
    match spawned {
        // Nothing is armed until the watchdog has marked itself as the harness's thread.
        Ok(_) => {
            while !STARTED.load(Ordering::Acquire) {
                std::thread::yield_now();
            }
        }
        Err(e) => journal::write_line(&journal::error_line(&format!(
            "cannot start the watchdog thread: {e}"
        ))),
    }
}
