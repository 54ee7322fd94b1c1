//! Ctrl-C and SIGTERM while the tests run: the handler only records the signal; the sweep loop
//! then asks [`Shutdown`] what to send the tests' process group, first SIGINT, then (after a
//! grace period) SIGKILL.
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Set by the SIGINT / SIGTERM handler installed by [`catch_interrupts`].
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_signal: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// From now on, Ctrl-C (SIGINT) and SIGTERM only set a flag that [`Shutdown::poll`] reads: the
/// sweep loop then stops the tests and says which checks are incomplete.
pub fn catch_interrupts() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_interrupt as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// How long the tests get to end after an interrupt before they are killed.
const INTERRUPT_GRACE: Duration = Duration::from_secs(5);

/// Stopping the tests after an interrupt, in steps.
#[derive(Debug, Default)]
pub struct Shutdown {
    /// When the interrupt was first seen.
    since: Option<Instant>,
}

impl Shutdown {
    /// The signal to send the tests' process group now, if any.
    pub fn poll(&mut self) -> Option<libc::c_int> {
        self.step(INTERRUPTED.load(Ordering::SeqCst), Instant::now())
    }

    /// Whether an interrupt was seen: the run is being (or was) stopped.
    pub fn interrupted(&self) -> bool {
        self.since.is_some()
    }

    /// [`Shutdown::poll`] with the flag and the clock as inputs: SIGINT once when the interrupt
    /// is first seen, then nothing until [`INTERRUPT_GRACE`] has passed, then SIGKILL.
    fn step(&mut self, interrupted: bool, now: Instant) -> Option<libc::c_int> {
        if !interrupted {
            return None;
        }
        match self.since {
            None => {
                self.since = Some(now);
                Some(libc::SIGINT)
            }
            Some(at) if now.duration_since(at) > INTERRUPT_GRACE => Some(libc::SIGKILL),
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupt_asks_first_and_kills_after_the_grace_period() {
        let t0 = Instant::now();
        let mut s = Shutdown::default();
        assert_eq!(s.step(false, t0), None);
        assert!(!s.interrupted());
        assert_eq!(s.step(true, t0), Some(libc::SIGINT));
        assert!(s.interrupted());
        assert_eq!(s.step(true, t0 + Duration::from_secs(1)), None);
        assert_eq!(
            s.step(true, t0 + INTERRUPT_GRACE + Duration::from_millis(1)),
            Some(libc::SIGKILL)
        );
    }
}
