//! Running the body in this process: one armed run with everything computed after disarming,
//! and the normal runs that establish the baseline. Classifying a run is `outcome.rs`'s job.

use crate::alloc::{self, Stats};
use crate::frames::RawFrames;
use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    /// Whether the runs of this thread are timed without their waits for a core too (see
    /// [`fastest_run`]).
    static TIME_BUSY: Cell<bool> = const { Cell::new(false) };
}

/// How one armed run of the body ended, with everything computed after disarming.
pub(crate) enum Ended {
    /// Returned `Ok`; the value's `{:#?}` text.
    Ok { debug: String },
    /// Returned `Err`; the error's `{:?}` text and the predicate's verdict.
    Err { debug: String, no_memory: bool },
    /// Panicked.
    Panic { message: String },
}

/// One armed run of the body.
pub(crate) struct RunData {
    pub(crate) ended: Ended,
    pub(crate) stats: Stats,
    /// Bytes allocated during the run and still live once its result was dropped.
    pub(crate) live: i64,
    /// Stack of the first failed allocation.
    pub(crate) first: RawFrames,
    /// Site hash of the first failed allocation, if one failed (see `drift.rs`).
    pub(crate) site: Option<u64>,
    pub(crate) elapsed: Duration,
    /// The run's time without its waits for a core, when timed (by [`fastest_run`]): its CPU
    /// time if it never blocked, else its wall time.
    pub(crate) busy: Option<Duration>,
}

/// The body with its types erased: runs it failing allocation `fail_at` (0 = none), in persistent
/// mode or not, capturing the failed allocations' stacks or not.
pub(crate) type Exec<'a> = dyn Fn(u64, bool, bool) -> RunData + 'a;

/// What the normal runs established.
pub(crate) struct Baseline {
    /// `{:#?}` of the normal result (empty when it is an error).
    pub(crate) debug: String,
    /// `{:?}` of the normal run's error, when the body returns `Err` without any failed
    /// allocation (a parser rejecting bad input): such a body is swept too, and under a failed
    /// allocation the same error passes as well as a NoMemory one.
    pub(crate) normal_err: Option<String>,
    /// Allocation attempts of the normal run.
    pub(crate) nalloc: u64,
    /// Live bytes left by the normal run (leak detection needs 0).
    pub(crate) live: i64,
    /// Duration of the fastest normal run (the first one included).
    pub(crate) elapsed: Duration,
}

/// Why the body cannot be swept.
pub(crate) enum NotSwept {
    /// The normal run failed.
    NormalFailed(String),
    /// Counting runs disagree.
    Unstable(u64, u64),
}

/// Most counting runs before a body's allocation count is judged unstable (as wasmtime's
/// allocation-failure tests retry theirs).
pub(crate) const COUNTING_RUNS: usize = 8;

/// Runs the prime run, then counting runs until two in a row agree.
pub(crate) fn prepare(exec: &Exec<'_>) -> Result<Baseline, NotSwept> {
    let prime = exec(0, false, false);
    normal_result(&prime)?;
    let mut previous = prime.stats.count;
    let mut fastest = prime.elapsed;
    let mut last = None;
    for _ in 0..COUNTING_RUNS {
        let run = exec(0, false, false);
        let (debug, normal_err) = normal_result(&run)?;
        fastest = fastest.min(run.elapsed);
        if run.stats.count == previous {
            return Ok(Baseline {
                debug,
                normal_err,
                nalloc: run.stats.count,
                live: run.live,
                elapsed: fastest,
            });
        }
        last = Some((previous, run.stats.count));
        previous = run.stats.count;
    }
    let (a, b) = last.unwrap_or((previous, previous));
    Err(NotSwept::Unstable(a, b))
}

/// The fastest of `base`'s normal runs and `runs` more of them (those making the baseline's
/// allocations), the latter without their waits for a core: on a loaded machine a run longer
/// than a time slice mostly waits in wall time.
pub(crate) fn fastest_run(exec: &Exec<'_>, base: &Baseline, runs: usize) -> Duration {
    TIME_BUSY.with(|t| t.set(true));
    let fastest = (0..runs)
        .map(|_| exec(0, false, false))
        .filter(|run| run.stats.count == base.nalloc)
        .fold(base.elapsed, |fastest, run| {
            fastest.min(run.busy.unwrap_or(run.elapsed))
        });
    TIME_BUSY.with(|t| t.set(false));
    fastest
}

/// This thread's CPU time so far (to the nanosecond), and how many times it blocked (gave up
/// its core).
fn thread_usage() -> (Duration, libc::c_long) {
    // SAFETY: both calls fill the zeroed structures they are given.
    let (t, u) = unsafe {
        let mut t: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t);
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut u);
        (t, u)
    };
    (Duration::new(t.tv_sec as u64, t.tv_nsec as u32), u.ru_nvcsw)
}

/// A run's time without its waits for a core: its CPU time if it never blocked (`elapsed` less
/// the time it was preempted), else `elapsed` (it slept or waited for I/O, which counts).
fn busy_time(
    before: (Duration, libc::c_long),
    after: (Duration, libc::c_long),
    elapsed: Duration,
) -> Duration {
    if after.1 == before.1 {
        after.0.saturating_sub(before.0).min(elapsed)
    } else {
        elapsed
    }
}

/// The normal run's `Ok` Debug text, or its error's; a panic means the body cannot be swept.
fn normal_result(run: &RunData) -> Result<(String, Option<String>), NotSwept> {
    match &run.ended {
        Ended::Ok { debug } => Ok((debug.clone(), None)),
        Ended::Err { debug, .. } => Ok((String::new(), Some(debug.clone()))),
        Ended::Panic { message } => Err(NotSwept::NormalFailed(format!(
            "the body failed in its normal run (no allocation failed): {message}"
        ))),
    }
}

/// Wraps a typed body and NoMemory predicate into an [`Exec`].
pub(crate) fn exec_of<'a, T, E, F, P>(
    body: &'a F,
    is_no_memory: &'a P,
) -> impl Fn(u64, bool, bool) -> RunData + 'a
where
    F: Fn() -> Result<T, E>,
    T: std::fmt::Debug,
    E: std::fmt::Debug,
    P: Fn(&E, &str) -> bool,
{
    move |fail_at, persistent, capture| {
        crate::panics::install_hook();
        crate::panics::enter_body();
        // Site hashes stop at this frame: what runs the body differs between runs.
        let body_frame = 0u8;
        crate::site_hash::set_body_frame(std::hint::black_box(&body_frame) as *const u8 as usize);
        let usage = TIME_BUSY.with(Cell::get).then(thread_usage);
        let start = Instant::now();
        alloc::arm(fail_at, persistent, capture);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        let stats = alloc::disarm();
        let elapsed = start.elapsed();
        let busy = usage.map(|before| busy_time(before, thread_usage(), elapsed));
        let panicked = crate::panics::leave_body();
        let first = alloc::failed_frames();
        let site = alloc::failed_site();
        let (ended, live) = match result {
            Ok(Ok(value)) => {
                let debug = format!("{value:#?}");
                let live = alloc::live_after(|| drop(value));
                (Ended::Ok { debug }, live)
            }
            Ok(Err(error)) => {
                let debug = format!("{error:?}");
                let no_memory = is_no_memory(&error, &debug);
                let live = alloc::live_after(|| drop(error));
                (Ended::Err { debug, no_memory }, live)
            }
            Err(payload) => {
                let message = panicked.unwrap_or_else(|| {
                    payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "panicked".to_string())
                });
                drop(payload);
                (Ended::Panic { message }, 0)
            }
        };
        RunData {
            ended,
            stats,
            live,
            first,
            site,
            elapsed,
            busy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_never_blocked_counts_its_cpu_time_else_its_wall_time() {
        let ms = Duration::from_millis;
        // Preempted for 7 ms of 10: 3 ms of its own.
        assert_eq!(busy_time((ms(100), 4), (ms(103), 4), ms(10)), ms(3));
        // It slept: the whole 10 ms count.
        assert_eq!(busy_time((ms(100), 4), (ms(103), 5), ms(10)), ms(10));
        // Never more than the wall time.
        assert_eq!(busy_time((ms(100), 4), (ms(112), 4), ms(10)), ms(10));
    }
}
