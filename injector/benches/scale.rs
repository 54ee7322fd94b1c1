//! Sweeps that scale: re-run against fork against site dedup, side by side from one run. Not a
//! timed test: it prints figures.
//!
//! Run: `cargo bench -p oomcheck-injector --bench scale` (`-- --quick` for smaller sizes,
//! `-- --series-only` for the second part alone).
//!
//! 1. A streaming body of 100 000 allocations from 21 call sites: the exhaustive re-run sweep (extrapolated
//!    from two sampled re-run sweeps, as running it takes hours: labelled), the fork sweep
//!    (measured, every index), and the site-dedup sweep (measured).
//! 2. n ∈ {1 000, 3 000, 10 000, 30 000}: the exhaustive sweep time of each strategy, the
//!    growth exponent fitted by least squares on log-log (re-run ≈ 2, fork ≈ 1), and the
//!    crossover n where forking starts to win.
//!
//! Wall time is what a user waits, but the machine may be shared: CPU time (user + system of
//! this process and every reaped descendant, from getrusage) is printed beside it and is the
//! figure to compare. Both strategies use the same number of jobs.
//!
//! The bench binary is its own sweep child: the supervisor re-executes it with the check's name
//! as first argument, which `main` recognises and decodes into the same check.

mod common;

use common::{cores, fmt, process_cpu};
use oomcheck_injector::{Check, FailingAllocator, Outcome, Report, Strategy};
use std::collections::TryReserveError;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: FailingAllocator = FailingAllocator::system();

/// Defines site functions: each reserves one small string at its own call site.
macro_rules! sites {
    ($($name:ident),* $(,)?) => {
        $(
            #[inline(never)]
            fn $name(i: usize, out: &mut Vec<String>) -> Result<(), TryReserveError> {
                let mut s = String::new();
                s.try_reserve_exact(24)?;
                let _ = write!(s, "{}-{i}", stringify!($name));
                out.push(s);
                Ok(())
            }
        )*
        const SITES: &[fn(usize, &mut Vec<String>) -> Result<(), TryReserveError>] = &[$($name),*];
    };
}

sites!(
    s00, s01, s02, s03, s04, s05, s06, s07, s08, s09, s10, s11, s12, s13, s14, s15, s16, s17, s18,
    s19
);

/// Items a body keeps live at once.
const RING: usize = 64;

/// Exactly `n` allocations from 21 sites (one reservation of a ring of recent items, then
/// strings from 20 functions), returning a NoMemory error at the first failure: every iteration
/// is `no-memory`. A streaming body: it keeps only the last [`RING`] items live, so its error
/// path (dropping what is live) is short. (A body whose error path frees everything built so far
/// adds Σ error paths, O(n²) frees, to both strategies alike.)
fn body(n: usize) -> Result<usize, TryReserveError> {
    let mut recent: Vec<String> = Vec::new();
    recent.try_reserve_exact(RING)?;
    let mut total = 0;
    for i in 0..n - 1 {
        if recent.len() == RING {
            total += recent.swap_remove(i % RING).len();
        }
        SITES[(i * 7 + i / 3) % SITES.len()](i, &mut recent)?;
    }
    Ok(total + recent.iter().map(String::len).sum::<usize>())
}

/// One sweep configuration, encoded in the check's name so that children rebuild it.
#[derive(Clone, Copy, Debug)]
struct Config {
    strategy: Strategy,
    n: usize,
    jobs: usize,
    dedup: bool,
    /// Sampled indices (0: every index).
    sample: u64,
}

impl Config {
    fn name(self) -> String {
        format!(
            "scale-{}-n{}-j{}-d{}-s{}",
            self.strategy.as_str(),
            self.n,
            self.jobs,
            u8::from(self.dedup),
            self.sample
        )
    }

    fn parse(name: &str) -> Option<Config> {
        let mut parts = name.strip_prefix("scale-")?.split('-');
        let strategy = match parts.next()? {
            "fork" => Strategy::Fork,
            "rerun" => Strategy::Rerun,
            _ => Strategy::Auto,
        };
        let mut num = |p: &str| -> Option<u64> { parts.next()?.strip_prefix(p)?.parse().ok() };
        Some(Config {
            strategy,
            n: num("n")? as usize,
            jobs: num("j")? as usize,
            dedup: num("d")? == 1,
            sample: num("s")?,
        })
    }

    fn run(self) -> Report {
        let mut c = Check::new()
            .always()
            .jobs(self.jobs)
            .strategy(self.strategy)
            .test_name(&self.name());
        if self.dedup {
            c = c.dedup_sites(16);
        }
        if self.sample > 0 {
            c = c.sample(self.sample, Some(17));
        }
        let n = self.n;
        c.run(move || body(n))
    }
}

/// Wall and CPU time of one sweep (on a fresh thread, as a test thread), checked for sanity.
fn timed(c: Config) -> (Duration, Duration, Report) {
    let cpu = process_cpu();
    let start = Instant::now();
    let report = std::thread::scope(|s| s.spawn(|| c.run()).join().expect("sweep thread"));
    let wall = start.elapsed();
    let cpu = process_cpu().saturating_sub(cpu);
    assert_eq!(report.nalloc, c.n as u64, "{}", report.summary());
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(
        report.count(Outcome::NoMemory),
        report.swept(),
        "{}",
        report.summary()
    );
    (wall, cpu, report)
}

/// Least-squares slope and intercept of ln(y) against ln(x): y ≈ e^b · x^a.
fn fit(points: &[(f64, f64)]) -> (f64, f64) {
    let pts: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (x.ln(), y.ln())).collect();
    let k = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / k;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / k;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let a = sxy / sxx;
    (a, my - a * mx)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // A sweep child: the supervisor started us with the check's name.
    if let Some(c) = args.first().and_then(|a| Config::parse(a)) {
        c.run();
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let jobs = cores();
    let big = if quick { 20_000 } else { 100_000 };
    let series: &[usize] = if quick {
        &[1_000, 3_000, 10_000]
    } else {
        &[1_000, 3_000, 10_000, 30_000]
    };
    println!(
        "oomcheck-injector scale benchmark: {jobs} jobs for every strategy, load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    // The series first: its fit gives a second extrapolation of the big exhaustive re-run.
    let rerun_fit = series_table(series, jobs);
    if !args.iter().any(|a| a == "--series-only") {
        big_body(big, jobs, rerun_fit);
    }
}

/// Section 1: re-run (extrapolated), fork and dedup on one big body.
fn big_body(big: usize, jobs: usize, rerun_fit: [(f64, f64); 2]) {
    let cfg = |strategy, n, dedup, sample| Config {
        strategy,
        n,
        jobs,
        dedup,
        sample,
    };
    println!("\n1. n = {big}, 21 call sites");
    // Re-run: two sampled sweeps give the fixed cost and the cost per index; an index costs its
    // prefix, and uniformly sampled indices have the mean prefix of the whole range.
    let (k1, k2) = (100u64, 500u64);
    let (w1, c1, _) = timed(cfg(Strategy::Rerun, big, false, k1));
    let (w2, c2, _) = timed(cfg(Strategy::Rerun, big, false, k2));
    let extrapolate = |a: Duration, b: Duration| {
        let per = (b.as_secs_f64() - a.as_secs_f64()).max(0.0) / (k2 - k1) as f64;
        let fixed = (a.as_secs_f64() - per * k1 as f64).max(0.0);
        Duration::from_secs_f64(fixed + per * big as f64)
    };
    let (rerun_w, rerun_c) = (extrapolate(w1, w2), extrapolate(c1, c2));
    let (fork_w, fork_c, fork_r) = timed(cfg(Strategy::Fork, big, false, 0));
    assert_eq!(fork_r.swept(), big as u64);
    let (dedup_w, dedup_c, dedup_r) = timed(cfg(Strategy::Auto, big, true, 0));
    let sites = dedup_r.dedup.as_ref().map_or(0, |d| d.sites);
    println!("{:<44} {:>10} {:>10}", "", "wall", "cpu");
    println!(
        "{:<44} {:>10} {:>10}",
        format!("re-run, sampled {k1} indices (measured)"),
        fmt(w1),
        fmt(c1)
    );
    println!(
        "{:<44} {:>10} {:>10}",
        format!("re-run, sampled {k2} indices (measured)"),
        fmt(w2),
        fmt(c2)
    );
    println!(
        "{:<44} {:>10} {:>10}",
        format!("re-run, all {big} (EXTRAPOLATED)"),
        fmt(rerun_w),
        fmt(rerun_c)
    );
    let from_fit = |(a, b): (f64, f64)| Duration::from_secs_f64((b + a * (big as f64).ln()).exp());
    println!(
        "{:<44} {:>10} {:>10}",
        format!("re-run, all {big} (EXTRAPOLATED from part 2)"),
        fmt(from_fit(rerun_fit[0])),
        fmt(from_fit(rerun_fit[1]))
    );
    println!(
        "{:<44} {:>10} {:>10}",
        format!("fork, all {big} (measured)"),
        fmt(fork_w),
        fmt(fork_c)
    );
    println!(
        "{:<44} {:>10} {:>10}",
        format!("dedup: {sites} sites swept (measured)"),
        fmt(dedup_w),
        fmt(dedup_c)
    );
    println!(
        "fork speed-up over re-run (sampled / fitted extrapolation): {:.1}x / {:.1}x wall, \
         {:.1}x / {:.1}x cpu (target: at least 5x); dedup under 2 s (wall): {}",
        rerun_w.as_secs_f64() / fork_w.as_secs_f64(),
        from_fit(rerun_fit[0]).as_secs_f64() / fork_w.as_secs_f64(),
        rerun_c.as_secs_f64() / fork_c.as_secs_f64(),
        from_fit(rerun_fit[1]).as_secs_f64() / fork_c.as_secs_f64(),
        if dedup_w < Duration::from_secs(2) {
            "yes"
        } else {
            "no"
        }
    );
}

/// Section 2: exhaustive sweeps by size, growth exponents and the crossover.
fn series_table(series: &[usize], jobs: usize) -> [(f64, f64); 2] {
    let cfg = |strategy, n| Config {
        strategy,
        n,
        jobs,
        dedup: false,
        sample: 0,
    };
    println!("\n2. exhaustive sweeps by size");
    println!(
        "{:>7} {:>11} {:>11} {:>11} {:>11}",
        "n", "rerun wall", "rerun cpu", "fork wall", "fork cpu"
    );
    let mut rows = Vec::new();
    for &n in series {
        let (rw, rc, rr) = timed(cfg(Strategy::Rerun, n));
        let (fw, fc, fr) = timed(cfg(Strategy::Fork, n));
        assert_eq!((rr.swept(), fr.swept()), (n as u64, n as u64));
        assert_eq!(rr.sequence, fr.sequence);
        println!(
            "{:>7} {:>11} {:>11} {:>11} {:>11}",
            n,
            fmt(rw),
            fmt(rc),
            fmt(fw),
            fmt(fc)
        );
        rows.push((n as f64, rw, rc, fw, fc));
    }
    let pick = |f: fn(&(f64, Duration, Duration, Duration, Duration)) -> Duration| {
        rows.iter()
            .map(|r| (r.0, f(r).as_secs_f64().max(1e-6)))
            .collect::<Vec<_>>()
    };
    let fits = [
        ("rerun wall", fit(&pick(|r| r.1))),
        ("rerun cpu", fit(&pick(|r| r.2))),
        ("fork wall", fit(&pick(|r| r.3))),
        ("fork cpu", fit(&pick(|r| r.4))),
    ];
    for (what, (a, _)) in &fits {
        println!("growth exponent, {what}: {a:.2}");
    }
    // Where the fitted curves cross: e^b1 n^a1 = e^b2 n^a2.
    for (kind, r, f) in [
        ("wall", fits[0].1, fits[2].1),
        ("cpu", fits[1].1, fits[3].1),
    ] {
        if (r.0 - f.0).abs() > 1e-6 {
            let n = ((f.1 - r.1) / (r.0 - f.0)).exp();
            println!("crossover ({kind}): fork is faster from n ≈ {n:.0}");
        }
    }
    [fits[0].1, fits[1].1]
}
