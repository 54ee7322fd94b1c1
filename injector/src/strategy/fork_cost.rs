//! The cost of one fork of this process as `auto` weighs it, timed once per process (the fork
//! server is a re-executed copy of the same test binary, so it forks at about the same cost, more
//! as the body's memory grows).

use std::sync::OnceLock;
use std::time::Duration;

/// Forks timed after [`WARM_UP`] untimed ones (the first forks of a process cost up to three
/// times more); the fastest is taken, as the others mostly measure other processes.
const FORKS: usize = 8;

/// Forks made before the timed ones.
const WARM_UP: usize = 3;

/// One fork of this process (`fork()`, `_exit` at once in the forked process, `waitpid`), timed
/// on first use and cached; `None` when this process cannot fork.
pub(crate) fn fork_cost() -> Option<Duration> {
    static COST: OnceLock<Option<Duration>> = OnceLock::new();
    *COST.get_or_init(time_forks)
}

fn time_forks() -> Option<Duration> {
    let mut fastest: Option<Duration> = None;
    for round in 0..WARM_UP + FORKS {
        let before = cpu_time();
        // SAFETY: the forked process only calls `_exit`, which is async-signal-safe, so forking
        // this (multi-threaded) process is sound.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: ends the forked process at once, running nothing of this process.
            unsafe { libc::_exit(0) }
        }
        if pid < 0 {
            return None;
        }
        let mut status: libc::c_int = 0;
        // SAFETY: waits for our own child. Interrupted, it waits again; another error (the
        // child was reaped elsewhere) ends the wait.
        while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
            && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
        {}
        if round >= WARM_UP {
            let took = cpu_time().saturating_sub(before);
            fastest = Some(fastest.map_or(took, |f| f.min(took)));
        }
    }
    fastest
}

/// CPU time of this thread and of this process's reaped children: a fork's cost without the
/// waiting for a core that a loaded machine adds to its wall time.
fn cpu_time() -> Duration {
    // SAFETY: both calls fill the zeroed structures they are given.
    let (thread, children) = unsafe {
        let mut t: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t);
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        (t, u)
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Duration::new(thread.tv_sec as u64, thread.tv_nsec as u32)
        + tv(children.ru_utime)
        + tv(children.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fork_is_timed_once_per_process() {
        let first = fork_cost().expect("this process can fork");
        assert!(
            first > Duration::ZERO && first < Duration::from_secs(5),
            "{first:?}"
        );
        assert_eq!(fork_cost(), Some(first));
    }
}
