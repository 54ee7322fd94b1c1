//! Sweep speed, side by side with the floor and with `alloc-chaos`, plus the cost of the disarmed
//! allocator. Not a timed test: it prints figures.
//!
//! Run: `cargo bench -p oomcheck-injector --bench sweep` (add `-- --quick` for fewer repetitions,
//! `-- --alloc-only` for the allocator comparison alone, `-- --in-process` for our sweep without
//! child processes against alloc-chaos).
//!
//! The body makes exactly `n` allocations (a `Vec` reservation, then `n - 1` small strings built
//! with fallible reservations) and returns a NoMemory error at the first failure, so the sweep's
//! iteration *i* re-runs a prefix of *i* allocations: the floor of any re-run sweep is
//! body time × n / 2.
//!
//! The bench binary is its own sweep child: the supervisor re-executes it with the check's name
//! as first argument, which `main` recognises.

mod common;

use common::{cores, fmt, process_cpu};
use oomcheck_injector::{Check, FailingAllocator};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::TryReserveError;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

// alloc-chaos needs its own allocator installed: ours wraps it, and each passes allocations through
// untouched while the other one's check runs.
#[global_allocator]
static ALLOC: FailingAllocator<alloc_chaos::ChaosAllocator> =
    FailingAllocator::new(alloc_chaos::ChaosAllocator::system());

const SIZES: [usize; 3] = [100, 1000, 3000];

/// A string-building body with exactly `n` allocations.
fn body(n: usize) -> Result<usize, TryReserveError> {
    body_failing_at(n, 0)
}

/// [`body`], failing its `fail_at`-th allocation by itself (0: none), as if the allocator had:
/// re-running it for every index is a re-run sweep without any harness, the ideal the floor
/// estimates.
fn body_failing_at(n: usize, fail_at: usize) -> Result<usize, TryReserveError> {
    let mut made = 0;
    let mut next = || {
        made += 1;
        match made == fail_at {
            // A capacity overflow: an error value made without allocating.
            true => Vec::<u8>::new().try_reserve(usize::MAX),
            false => Ok(()),
        }
    };
    let mut parts: Vec<String> = Vec::new();
    next()?;
    parts.try_reserve_exact(n - 1)?;
    for i in 0..n - 1 {
        let mut s = String::new();
        next()?;
        s.try_reserve_exact(24)?;
        let _ = write!(s, "item-{i}-{}", i * 7);
        parts.push(s);
    }
    Ok(parts.iter().map(String::len).sum())
}

fn sweep_name(n: usize, jobs: usize) -> String {
    format!("sweep-n{n}-j{jobs}")
}

fn sweep(n: usize, jobs: usize) -> oomcheck_injector::Report {
    Check::new()
        .always()
        .jobs(jobs)
        .test_name(&sweep_name(n, jobs))
        .run(move || body(n))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // A sweep child: the supervisor started us with the check's name.
    if let Some(name) = args.first().filter(|a| a.starts_with("sweep-n")) {
        for n in SIZES {
            for jobs in [1, cores()] {
                if *name == sweep_name(n, jobs) {
                    sweep(n, jobs);
                }
            }
        }
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    if args.iter().any(|a| a == "--in-process") {
        // Our per-iteration cost without processes: an unnamed thread sweeps in-process.
        for n in SIZES {
            let ((ours, _), ours_cpu) = measure(|| {
                std::thread::scope(|s| {
                    s.spawn(|| Check::new().always().run(move || body(n)))
                        .join()
                        .expect("sweep thread")
                })
            });
            let ((chaos, _), chaos_cpu) = measure(|| {
                alloc_chaos::check(move || {
                    let _ = black_box(body(n));
                })
            });
            let floor = time_body(n).0.mul_f64(n as f64 / 2.0);
            println!(
                "in-process n={n}: floor {}, ours {} (cpu {}), alloc-chaos {} (cpu {})",
                fmt(floor),
                fmt(ours),
                fmt(ours_cpu),
                fmt(chaos),
                fmt(chaos_cpu)
            );
        }
        return;
    }
    if args.iter().any(|a| a == "--alloc-only") {
        disarmed_overhead(quick);
        return;
    }
    let cores = cores();
    println!("oomcheck-injector sweep benchmark ({cores} cores)");
    println!(
        "Each round measures the body, then sweeps with 1 job, with all jobs and with alloc-chaos, \
         back to back;\nratios are taken within a round and the median round is shown (other \
         load on a shared machine shifts whole rounds, not one figure of a round)."
    );
    println!(
        "\"ideal\" re-runs the body failing each index by itself (no allocator, no harness, no \
         process): what the floor estimates.\n"
    );
    let mut ratio_rows = Vec::new();
    println!(
        "{:>5}  {:>6}  {:>9}  {:>10}  {:>10}  {:>10}  {:>10}  {:>11}",
        "n", "rounds", "body", "floor n/2", "ideal", "ours j=1", "ours j=all", "alloc-chaos"
    );
    for n in SIZES {
        let rounds = match (quick, n) {
            (true, _) => 1,
            (false, 3000) => 5,
            (false, _) => 9,
        };
        let mut rows: Vec<Round> = (0..rounds).map(|_| round(n, cores)).collect();
        let floor = |r: &Round| r.body_wall.as_secs_f64() * n as f64 / 2.0;
        let ratios = [
            median_range(&mut rows, |r| r.ours1.0.as_secs_f64() / floor(r)),
            median_range(&mut rows, |r| {
                r.ours1.0.as_secs_f64() / r.ideal.as_secs_f64()
            }),
            median_range(&mut rows, |r| r.ideal.as_secs_f64() / floor(r)),
            median_range(&mut rows, |r| {
                r.ours1.0.as_secs_f64() / r.oursj.0.as_secs_f64()
            }),
            median_range(&mut rows, |r| {
                r.ours1.1.as_secs_f64() / (r.body_cpu.as_secs_f64() * n as f64 / 2.0)
            }),
        ];
        ratio_rows.push((n, ratios));
        let med = |rows: &mut Vec<Round>, f: fn(&Round) -> Duration| {
            Duration::from_secs_f64(median_range(rows, |r| f(r).as_secs_f64()).0)
        };
        let body_wall = med(&mut rows, |r| r.body_wall);
        println!(
            "{:>5}  {:>6}  {:>9}  {:>10}  {:>10}  {:>10}  {:>10}  {:>11}",
            n,
            rounds,
            fmt(body_wall),
            fmt(body_wall.mul_f64(n as f64 / 2.0)),
            fmt(med(&mut rows, |r| r.ideal)),
            fmt(med(&mut rows, |r| r.ours1.0)),
            fmt(med(&mut rows, |r| r.oursj.0)),
            fmt(med(&mut rows, |r| r.chaos.0)),
        );
    }
    println!("\nratios, median round (least-greatest):");
    println!(
        "{:>5}  {:>18}  {:>18}  {:>18}  {:>18}  {:>14}",
        "n", "j1 / floor", "j1 / ideal", "ideal / floor", "j1 / jall", "cpu j1 / floor"
    );
    for (n, r) in ratio_rows {
        let cell = |(m, lo, hi): (f64, f64, f64)| format!("{m:.2}x ({lo:.2}-{hi:.2})");
        println!(
            "{:>5}  {:>18}  {:>18}  {:>18}  {:>18}  {:>13.2}x",
            n,
            cell(r[0]),
            cell(r[1]),
            cell(r[2]),
            cell(r[3]),
            r[4].0
        );
    }
    disarmed_overhead(quick);
}

/// One round of measurements for `n`: the body alone, then the three sweeps, as (wall, CPU).
struct Round {
    body_wall: Duration,
    body_cpu: Duration,
    /// The harness-free re-run sweep of [`body_failing_at`].
    ideal: Duration,
    ours1: (Duration, Duration),
    oursj: (Duration, Duration),
    chaos: (Duration, Duration),
}

fn round(n: usize, cores: usize) -> Round {
    let (body_wall, body_cpu) = time_body(n);
    let start = Instant::now();
    for i in 1..=n {
        let _ = black_box(body_failing_at(black_box(n), i));
    }
    let ideal = start.elapsed();
    let ours1 = timed_sweep(n, 1);
    let oursj = timed_sweep(n, cores);
    let ((wall, report), cpu) = measure(|| {
        alloc_chaos::check(move || {
            let _ = black_box(body(n));
        })
    });
    // alloc-chaos's installation probe (an unused 1-byte allocation) is optimised away in
    // release builds, so `is_success()` is false here; judge the attempts themselves.
    assert!(
        report.tested_failures() == n && report.attempts().iter().all(|a| a.is_success()),
        "alloc-chaos: {report}"
    );
    assert_eq!(report.baseline_allocations(), n);
    Round {
        body_wall,
        body_cpu,
        ideal,
        ours1,
        oursj,
        chaos: (wall, cpu),
    }
}

/// Median, least and greatest of `f` over the rounds.
fn median_range<R>(rows: &mut [R], f: impl Fn(&R) -> f64) -> (f64, f64, f64) {
    let mut v: Vec<f64> = rows.iter().map(f).collect();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    // SAFETY: `clock_gettime` fills the zeroed struct it is given.
    let ts = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
        ts
    };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `f`, returning its result with the wall time, and the CPU time of this process and its
/// children.
fn measure<R>(f: impl FnOnce() -> R) -> ((Duration, R), Duration) {
    let cpu = process_cpu();
    let start = Instant::now();
    let r = f();
    let wall = start.elapsed();
    ((wall, r), process_cpu().saturating_sub(cpu))
}

/// One sweep on a fresh thread (each thread numbers its checks from 1, as a test thread does):
/// wall time and CPU time.
fn timed_sweep(n: usize, jobs: usize) -> (Duration, Duration) {
    let ((wall, report), cpu) = measure(|| {
        std::thread::scope(|s| s.spawn(|| sweep(n, jobs)).join().expect("sweep thread"))
    });
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.nalloc, n as u64);
    assert_eq!(report.count(oomcheck_injector::Outcome::NoMemory), n as u64);
    (wall, cpu)
}

/// Mean wall time and mean thread CPU time of one body run, over about as many body runs as a
/// sweep makes (a mean, like the sweep's own time, rather than a best case the sweep never sees).
fn time_body(n: usize) -> (Duration, Duration) {
    let runs = (n / 2).max(50) as u32;
    let cpu = thread_cpu();
    let start = Instant::now();
    for _ in 0..runs {
        let _ = black_box(body(black_box(n)));
    }
    (
        start.elapsed() / runs,
        thread_cpu().saturating_sub(cpu) / runs,
    )
}

/// Allocation-heavy loops straight on each allocator: the disarmed `FailingAllocator` against
/// `System`. Both run the very same loop code (one function called through `&dyn GlobalAlloc`, so
/// code layout cannot favour either), in many short rounds that alternate which goes first; each
/// round gives one ratio, in thread CPU time, and the median ratio is the figure (robust to the
/// bursts of other load that a best-of comparison of separate minima is not). Two loops: bare
/// allocate/free pairs (the worst case: nothing but allocator calls), and the same pairs filling
/// each block as a program uses what it allocates. `System` against itself shows the noise of
/// the machine; a plain forwarding wrapper shows what code placement alone does to a comparison.
fn disarmed_overhead(quick: bool) {
    static FAILING: FailingAllocator = FailingAllocator::system();
    let rounds = if quick { 31 } else { 151 };
    println!("disarmed allocator vs System ({rounds} paired rounds of 200 000 alloc+free; median, quartiles):");
    for (what, a, touch) in [
        ("System vs System", &System as &dyn GlobalAlloc, false),
        ("plain wrapper, bare", &Forward, false),
        ("plain wrapper, fill", &Forward, true),
        ("disarmed, bare", &FAILING, false),
        ("disarmed, fill", &FAILING, true),
    ] {
        let (q1, median, q3) = paired_overhead(a, touch, rounds);
        println!("  {what:<26} {median:+5.1}%  ({q1:+.1}% .. {q3:+.1}%)");
    }
}

/// An allocator that only forwards to `System`: its own copy of the code at its own addresses,
/// so its figures show how much code placement alone moves a comparison with `System`.
struct Forward;

// SAFETY: forwards every call to `System` unchanged.
unsafe impl GlobalAlloc for Forward {
    #[inline(always)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    #[inline(always)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

/// Quartiles of the per-round time ratio of `a` to `System` on the churn loop, in percent.
fn paired_overhead(a: &dyn GlobalAlloc, touch: bool, rounds: usize) -> (f64, f64, f64) {
    let ops = 200_000;
    let mut ratios = Vec::new();
    for round in 0..rounds {
        let (sys, ours) = if round % 2 == 0 {
            let sys = churn(&System, ops, touch);
            (sys, churn(a, ops, touch))
        } else {
            let ours = churn(a, ops, touch);
            (churn(&System, ops, touch), ours)
        };
        ratios.push((ours.as_secs_f64() / sys.as_secs_f64() - 1.0) * 100.0);
    }
    quartiles(&mut ratios)
}

/// First quartile, median and third quartile.
fn quartiles(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.5), at(0.75))
}

/// `ops` allocations and frees of mixed sizes, keeping a small window of live blocks; with
/// `touch`, each block is filled when allocated and read back before it is freed.
#[inline(never)]
fn churn(a: &dyn GlobalAlloc, ops: usize, touch: bool) -> Duration {
    const WINDOW: usize = 64;
    let a = black_box(a);
    let mut live: [(*mut u8, Layout); WINDOW] =
        [(std::ptr::null_mut(), Layout::new::<u8>()); WINDOW];
    let mut sum = 0u8;
    let start = thread_cpu();
    for i in 0..ops {
        let slot = i % WINDOW;
        let (p, l) = live[slot];
        if !p.is_null() {
            if touch {
                // SAFETY: `p` points to `l.size()` initialised bytes.
                sum = sum.wrapping_add(unsafe { *p.add(l.size() - 1) });
            }
            // SAFETY: `p` was allocated by `a` with layout `l`.
            unsafe { a.dealloc(p, l) };
        }
        let size = 8 + (i * 37) % 240;
        let layout = Layout::from_size_align(size, 8).expect("layout");
        // SAFETY: non-zero size.
        let p = unsafe { a.alloc(black_box(layout)) };
        if touch && !p.is_null() {
            // SAFETY: `p` is a fresh block of `size` bytes.
            unsafe { std::ptr::write_bytes(p, i as u8, size) };
        }
        live[slot] = (black_box(p), layout);
    }
    let t = thread_cpu().saturating_sub(start);
    black_box(sum);
    for (p, l) in live {
        if !p.is_null() {
            // SAFETY: as above.
            unsafe { a.dealloc(p, l) };
        }
    }
    t
}
