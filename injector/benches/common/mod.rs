//! Helpers both benchmarks share: CPU time of the whole process tree, the core count, and
//! duration formatting.

use std::time::Duration;

/// User + system CPU time of this process and of its reaped children so far: on a loaded machine
/// wall-clock figures mostly measure the other load, CPU time measures the work.
pub fn process_cpu() -> Duration {
    let usage = |who| {
        // SAFETY: `getrusage` fills the zeroed struct it is given.
        let u = unsafe {
            let mut u: libc::rusage = std::mem::zeroed();
            libc::getrusage(who, &mut u);
            u
        };
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        tv(u.ru_utime) + tv(u.ru_stime)
    };
    usage(libc::RUSAGE_SELF) + usage(libc::RUSAGE_CHILDREN)
}

/// Cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `d` in s, ms or µs, whichever reads best.
pub fn fmt(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}
