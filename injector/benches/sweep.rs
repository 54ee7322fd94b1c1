//! Sweep speed, side by side with the floor and with `alloc-chaos`, plus the cost of the disarmed
//! allocator. Not a timed test: it prints figures.
//!
//! Run: `cargo bench -p oomcheck-injector --bench sweep` (add `-- --quick` for fewer repetitions,
//! `-- --alloc-only` for the allocator comparison alone).
//!
//! The body makes exactly `n` allocations (a `Vec` reservation, then `n - 1` small strings built
//! with fallible reservations) and returns a NoMemory error at the first failure, so the sweep's
//! iteration *i* re-runs a prefix of *i* allocations: the floor of any re-run sweep is
//! body time × n / 2.
//!
//! The bench binary is its own sweep child: the supervisor re-executes it with the check's name
//! as first argument, which `main` recognises.

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
    let mut parts: Vec<String> = Vec::new();
    parts.try_reserve_exact(n - 1)?;
    for i in 0..n - 1 {
        let mut s = String::new();
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
    if args.iter().any(|a| a == "--alloc-only") {
        disarmed_overhead(quick);
        return;
    }
    let cores = cores();
    println!("oomcheck-injector sweep benchmark ({cores} cores)");
    println!(
        "{:>5}  {:>10}  {:>12}  {:>11}  {:>11}  {:>11}  {:>9}  {:>9}  {:>13}",
        "n",
        "body",
        "floor n/2",
        "ours j=1",
        "ours j=all",
        "alloc-chaos",
        "j1/floor",
        "j1/jall",
        "child cpu 1/all"
    );
    for n in SIZES {
        let body_time = time_body(n);
        let floor = body_time.mul_f64(n as f64 / 2.0);
        let reps = if quick || n >= 3000 { 1 } else { 3 };
        let cpu0 = children_cpu();
        let ours1 = best_of(reps, || timed_sweep(n, 1));
        let cpu1 = children_cpu();
        let oursj = best_of(reps, || timed_sweep(n, cores));
        let cpuj = children_cpu();
        let chaos = best_of(reps, || {
            let start = Instant::now();
            let report = alloc_chaos::check(move || {
                let _ = black_box(body(n));
            });
            let t = start.elapsed();
            // alloc-chaos's installation probe (an unused 1-byte allocation) is optimised away in
            // release builds, so `is_success()` is false here; judge the attempts themselves.
            assert!(
                report.tested_failures() == n && report.attempts().iter().all(|a| a.is_success()),
                "alloc-chaos: {report}"
            );
            assert_eq!(report.baseline_allocations(), n);
            t
        });
        println!(
            "{:>5}  {:>10}  {:>12}  {:>11}  {:>11}  {:>11}  {:>8.2}x  {:>8.2}x  {:>6} / {:<6}",
            n,
            fmt(body_time),
            fmt(floor),
            fmt(ours1),
            fmt(oursj),
            fmt(chaos),
            ours1.as_secs_f64() / floor.as_secs_f64(),
            ours1.as_secs_f64() / oursj.as_secs_f64(),
            fmt((cpu1 - cpu0) / reps as u32),
            fmt((cpuj - cpu1) / reps as u32),
        );
    }
    disarmed_overhead(quick);
}

/// User + system CPU time of all reaped child processes so far: on a loaded machine the wall-clock
/// speed-up of more jobs is capped by the free cores, the CPU time shows whether work was added.
fn children_cpu() -> Duration {
    // SAFETY: `getrusage` fills the zeroed struct it is given.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One sweep on a fresh thread (each thread numbers its checks from 1, as a test thread does).
fn timed_sweep(n: usize, jobs: usize) -> Duration {
    std::thread::scope(|s| {
        s.spawn(|| {
            let start = Instant::now();
            let report = sweep(n, jobs);
            let t = start.elapsed();
            assert!(report.passed(), "{}", report.summary());
            assert_eq!(report.nalloc, n as u64);
            assert_eq!(report.count(oomcheck_injector::Outcome::NoMemory), n as u64);
            t
        })
        .join()
        .expect("sweep thread")
    })
}

fn time_body(n: usize) -> Duration {
    let runs = (200_000 / n).max(20);
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..runs {
            let _ = black_box(body(black_box(n)));
        }
        best = best.min(start.elapsed() / runs as u32);
    }
    best
}

fn best_of(reps: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..reps).map(|_| f()).min().unwrap_or_default()
}

/// Allocation-heavy loop straight on each allocator: the disarmed `FailingAllocator` against
/// `System`, in many short interleaved rounds (alternating which goes first), best round of each.
fn disarmed_overhead(quick: bool) {
    static FAILING: FailingAllocator = FailingAllocator::system();
    let ops = 1_000_000;
    let rounds = if quick { 11 } else { 41 };
    let mut best_sys = Duration::MAX;
    let mut best_ours = Duration::MAX;
    for round in 0..rounds {
        if round % 2 == 0 {
            best_sys = best_sys.min(churn(&System, ops));
            best_ours = best_ours.min(churn(&FAILING, ops));
        } else {
            best_ours = best_ours.min(churn(&FAILING, ops));
            best_sys = best_sys.min(churn(&System, ops));
        }
    }
    let ns = |d: Duration| d.as_secs_f64() * 1e9 / ops as f64;
    println!(
        "disarmed allocator: {:.2} ns/op vs System {:.2} ns/op: {:+.1}%",
        ns(best_ours),
        ns(best_sys),
        (best_ours.as_secs_f64() / best_sys.as_secs_f64() - 1.0) * 100.0
    );
}

/// `ops` allocations and frees of mixed sizes, keeping a small window of live blocks.
fn churn<A: GlobalAlloc>(a: &A, ops: usize) -> Duration {
    const WINDOW: usize = 64;
    let mut live: [(*mut u8, Layout); WINDOW] =
        [(std::ptr::null_mut(), Layout::new::<u8>()); WINDOW];
    let start = Instant::now();
    for i in 0..ops {
        let slot = i % WINDOW;
        let (p, l) = live[slot];
        if !p.is_null() {
            // SAFETY: `p` was allocated by `a` with layout `l`.
            unsafe { a.dealloc(p, l) };
        }
        let size = 8 + (i * 37) % 240;
        let layout = Layout::from_size_align(size, 8).expect("layout");
        // SAFETY: non-zero size.
        let p = unsafe { a.alloc(black_box(layout)) };
        live[slot] = (black_box(p), layout);
    }
    let t = start.elapsed();
    for (p, l) in live {
        if !p.is_null() {
            // SAFETY: as above.
            unsafe { a.dealloc(p, l) };
        }
    }
    t
}

fn fmt(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}
