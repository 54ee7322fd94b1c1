//! Sweeps that scale: re-run against fork against `auto`, on a cheap body and an expensive one,
//! side by side from one run, with `auto`'s estimates beside the measured times. Not a timed
//! test: it prints figures.
//!
//! Run: `cargo bench -p oomcheck-injector --bench scale` (`-- --quick` for smaller sizes,
//! `-- --body cheap` or `-- --body expensive` for one body, `-- --strategies rerun,fork,hybrid,auto`
//! for other columns, `-- --sizes 3000,10000` and `-- --jobs 1` for other sizes and jobs).
//!
//! 1. Per body, n ∈ {3 000, 10 000, 30 000, 100 000}: the exhaustive sweep time of each
//!    strategy. At the largest n the re-run sweep is extrapolated from two sampled re-run sweeps
//!    (running it takes hours: labelled). `auto / min` compares `auto` with the better fixed
//!    strategy; the estimates are those `auto` recorded (its report's `estimates`). The growth
//!    exponents are fitted by least squares on log-log (re-run ≈ 2, fork ≈ 1).
//! 2. Site dedup on the cheap body at the largest n.
//!
//! Wall time is what a user waits, but the machine may be shared: CPU time (user + system of
//! this process and every reaped descendant, from getrusage) is printed beside it. Every
//! strategy may use the same number of jobs (the cores).
//!
//! The bench binary is its own sweep child: the supervisor re-executes it with the check's name
//! as first argument, which `main` recognises and decodes into the same check.

mod common;

use common::{cores, fmt, process_cpu};
use oomcheck_injector::{Check, Estimate, FailingAllocator, Outcome, Report, Strategy};
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

/// Spin units of the expensive body per allocation (about 1 µs of work on the 2-core machine
/// of the README's table).
const EXPENSIVE: u32 = 860;

/// `units` steps of a dependent arithmetic chain the optimizer cannot remove (about 2 ns each).
#[inline(never)]
fn spin(units: u32, seed: usize) -> usize {
    let mut x = seed as u64 | 1;
    for _ in 0..units {
        x = std::hint::black_box(
            x.wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407),
        );
    }
    x as usize
}

/// Exactly `n` allocations from 21 sites (one reservation of a ring of recent items, then
/// strings from 20 functions, each after `work` spin units), returning a NoMemory error at the
/// first failure: every iteration is `no-memory`. A streaming body: it keeps only the last
/// [`RING`] items live, so its error path (dropping what is live) is short. (A body whose error
/// path frees everything built so far adds Σ error paths, O(n²) frees, to both strategies alike.)
fn body(n: usize, work: u32) -> Result<usize, TryReserveError> {
    let mut recent: Vec<String> = Vec::new();
    recent.try_reserve_exact(RING)?;
    let mut total = 0;
    for i in 0..n - 1 {
        if recent.len() == RING {
            total += recent.swap_remove(i % RING).len();
        }
        if work > 0 {
            total += spin(work, i) & 1;
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
    /// Spin units per allocation (0: the cheap body).
    work: u32,
    dedup: bool,
    /// Sampled indices (0: every index).
    sample: u64,
}

impl Config {
    fn name(self) -> String {
        format!(
            "scale-{}-n{}-j{}-w{}-d{}-s{}",
            self.strategy.as_str(),
            self.n,
            self.jobs,
            self.work,
            u8::from(self.dedup),
            self.sample
        )
    }

    fn parse(name: &str) -> Option<Config> {
        let mut parts = name.strip_prefix("scale-")?.split('-');
        let strategy = parts.next()?.parse().ok()?;
        let mut num = |p: &str| -> Option<u64> { parts.next()?.strip_prefix(p)?.parse().ok() };
        Some(Config {
            strategy,
            n: num("n")? as usize,
            jobs: num("j")? as usize,
            work: num("w")? as u32,
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
        let (n, work) = (self.n, self.work);
        c.run(move || body(n, work))
    }
}

/// Wall and CPU time of one sweep.
#[derive(Clone, Copy, Debug)]
struct Timing {
    wall: Duration,
    cpu: Duration,
}

/// A sweep shorter than this is timed twice, and the faster time kept (on a shared machine one
/// sweep's time varies by a third from one run to the next).
const TWICE_UNDER: Duration = Duration::from_secs(5);

/// Times one sweep (twice if it is short: the faster of the two), checked for sanity.
fn timed(c: Config) -> (Timing, Report) {
    let (first, report) = timed_once(c);
    if first.wall >= TWICE_UNDER {
        return (first, report);
    }
    let (second, _) = timed_once(c);
    let time = Timing {
        wall: first.wall.min(second.wall),
        cpu: first.cpu.min(second.cpu),
    };
    (time, report)
}

/// Times one sweep (on a fresh thread, as a test thread), checked for sanity.
fn timed_once(c: Config) -> (Timing, Report) {
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
    (Timing { wall, cpu }, report)
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

/// The bench's command line.
struct Args {
    quick: bool,
    /// Sizes asked for (`--sizes 3000,10000`), instead of the default ones.
    sizes: Option<Vec<usize>>,
    /// Jobs asked for (`--jobs 1`), instead of the cores.
    jobs: Option<usize>,
    bodies: Vec<(&'static str, u32)>,
    strategies: Vec<Strategy>,
}

impl Args {
    fn parse(args: &[String]) -> Args {
        let value = |flag: &str| {
            args.iter()
                .position(|a| a == flag)
                .and_then(|i| args.get(i + 1))
                .map(String::as_str)
        };
        let bodies = [("cheap", 0), ("expensive", EXPENSIVE)]
            .into_iter()
            .filter(|(name, _)| value("--body").is_none_or(|b| b == *name))
            .collect();
        let strategies = value("--strategies")
            .unwrap_or("rerun,fork,auto")
            .split(',')
            .map(|s| s.parse().expect("a strategy name"))
            .collect();
        Args {
            quick: args.iter().any(|a| a == "--quick"),
            sizes: value("--sizes")
                .map(|v| v.split(',').map(|n| n.parse().expect("a size")).collect()),
            jobs: value("--jobs").map(|j| j.parse().expect("a number of jobs")),
            bodies,
            strategies,
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // A sweep child: the supervisor started us with the check's name.
    if let Some(c) = args.first().and_then(|a| Config::parse(a)) {
        c.run();
        return;
    }
    let args = Args::parse(&args);
    let jobs = args.jobs.unwrap_or_else(cores);
    let sizes: &[usize] = match &args.sizes {
        Some(sizes) => sizes,
        None if args.quick => &[1_000, 3_000, 10_000],
        None => &[3_000, 10_000, 30_000, 100_000],
    };
    println!(
        "oomcheck-injector scale benchmark: {jobs} jobs for every strategy, load average {}",
        load_average()
    );
    let mut verdicts = Vec::new();
    for &(name, work) in &args.bodies {
        verdicts.extend(body_table(name, work, sizes, jobs, &args.strategies));
    }
    if args.bodies.iter().any(|b| b.1 == 0) {
        dedup(*sizes.last().expect("a size"), jobs);
    }
    println!("\nload average at the end: {}", load_average());
    for v in verdicts {
        println!("{v}");
    }
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// One strategy's time at one size: measured, or extrapolated from sampled indices.
#[derive(Clone, Copy, Debug)]
struct Cell {
    time: Timing,
    extrapolated: bool,
    /// What ran (`auto` resolves to another strategy).
    ran: Option<Strategy>,
}

/// The re-run sweep of every index of a body of `n` allocations, extrapolated from two sampled
/// re-run sweeps: they give the fixed cost and the cost per index; an index costs its prefix,
/// and uniformly sampled indices have the mean prefix of the whole range.
fn extrapolated_rerun(c: Config) -> Timing {
    let (k1, k2) = (100u64, 500u64);
    let (a, _) = timed(Config { sample: k1, ..c });
    let (b, _) = timed(Config { sample: k2, ..c });
    let line = |a: Duration, b: Duration| {
        let per = (b.as_secs_f64() - a.as_secs_f64()).max(0.0) / (k2 - k1) as f64;
        let fixed = (a.as_secs_f64() - per * k1 as f64).max(0.0);
        Duration::from_secs_f64(fixed + per * c.n as f64)
    };
    Timing {
        wall: line(a.wall, b.wall),
        cpu: line(a.cpu, b.cpu),
    }
}

/// How far off an estimate is: the larger of est/measured and measured/est.
fn off(estimate: f64, measured: Duration) -> f64 {
    let ratio = estimate / measured.as_secs_f64().max(1e-9);
    ratio.max(1.0 / ratio)
}

/// The worst case seen of a ratio, and where.
#[derive(Default)]
struct Worst(f64, String);

impl Worst {
    fn see(&mut self, value: f64, at: impl FnOnce() -> String) {
        if value > self.0 {
            *self = Worst(value, at());
        }
    }
}

/// Section 1 for one body: every strategy at every size, `auto` against the better fixed
/// strategy, the estimates against the measured times. Returns the verdict lines.
fn body_table(
    name: &str,
    work: u32,
    sizes: &[usize],
    jobs: usize,
    strategies: &[Strategy],
) -> Vec<String> {
    let cfg = |strategy, n| Config {
        strategy,
        n,
        jobs,
        work,
        dedup: false,
        sample: 0,
    };
    println!("\n1. {name} body ({work} spin units per allocation), exhaustive sweeps by size");
    let biggest = *sizes.last().expect("a size");
    let (mut auto_wall, mut auto_cpu) = (Worst::default(), Worst::default());
    let (mut est_wall, mut est_cpu) = (Worst::default(), Worst::default());
    let mut fits: Vec<(Strategy, Vec<(f64, f64)>)> =
        strategies.iter().map(|&s| (s, Vec::new())).collect();
    for &n in sizes {
        let mut cells = Vec::new();
        let mut estimates = None;
        for &s in strategies {
            let cell = if s == Strategy::Rerun && n == biggest {
                Cell {
                    time: extrapolated_rerun(cfg(s, n)),
                    extrapolated: true,
                    ran: Some(s),
                }
            } else {
                let (time, report) = timed(cfg(s, n));
                assert_eq!(report.swept(), n as u64);
                if report.estimates.is_some() {
                    estimates = report.estimates.clone();
                }
                Cell {
                    time,
                    extrapolated: false,
                    ran: report.strategy,
                }
            };
            if !cell.extrapolated {
                if let Some(f) = fits.iter_mut().find(|f| f.0 == s) {
                    f.1.push((n as f64, cell.time.wall.as_secs_f64().max(1e-6)));
                }
            }
            cells.push((s, cell));
        }
        let estimate_of = |s: Strategy| -> Option<Estimate> {
            let e = estimates.as_ref()?;
            match s {
                Strategy::Rerun => Some(e.rerun),
                Strategy::Fork => e.fork,
                Strategy::Hybrid => e.hybrid,
                Strategy::Auto => None,
            }
        };
        match &estimates {
            Some(e) => println!(
                "n = {n}: {:.0} ns per allocation, {} per fork{}",
                e.alloc_ns,
                e.fork_us
                    .map_or("not timed".to_string(), |f| format!("{f:.0} µs")),
                e.split
                    .map_or(String::new(), |s| format!(", hybrid split at {s}"))
            ),
            None => println!("n = {n}"),
        }
        println!(
            "  {:<18} {:>10} {:>10} {:>10} {:>10}",
            "", "wall", "est", "cpu", "est"
        );
        for (s, cell) in &cells {
            let ran = cell.ran.unwrap_or(*s);
            let est = estimate_of(ran);
            let ms = |v: f64| fmt(Duration::from_secs_f64(v / 1e3));
            let label = match (s, cell.extrapolated) {
                (_, true) => format!("{s} (extrapolated)"),
                _ if *s == Strategy::Auto || ran != *s => format!("{s} (ran {ran})"),
                _ => s.to_string(),
            };
            println!(
                "  {label:<18} {:>10} {:>10} {:>10} {:>10}",
                fmt(cell.time.wall),
                est.map_or("-".to_string(), |e| ms(e.wall_ms)),
                fmt(cell.time.cpu),
                est.map_or("-".to_string(), |e| ms(e.cpu_ms)),
            );
            if let Some(e) = est {
                let at = || format!("{s} at n = {n}");
                est_wall.see(off(e.wall_ms / 1e3, cell.time.wall), at);
                est_cpu.see(off(e.cpu_ms / 1e3, cell.time.cpu), at);
            }
        }
        let of = |s: Strategy| cells.iter().find(|c| c.0 == s).map(|c| c.1.time);
        if let (Some(a), Some(r), Some(f)) =
            (of(Strategy::Auto), of(Strategy::Rerun), of(Strategy::Fork))
        {
            let wall = a.wall.as_secs_f64() / r.wall.min(f.wall).as_secs_f64();
            let cpu = a.cpu.as_secs_f64() / r.cpu.min(f.cpu).as_secs_f64();
            println!("  auto / min(rerun, fork): {wall:.2} wall, {cpu:.2} cpu");
            auto_wall.see(wall, || format!("n = {n}"));
            auto_cpu.see(cpu, || format!("n = {n}"));
        }
    }
    for (s, points) in &fits {
        if points.len() >= 2 {
            println!("growth exponent, {s} wall: {:.2}", fit(points).0);
        }
    }
    vec![
        format!(
            "{name}: worst auto / min(rerun, fork): {:.2} wall ({}), {:.2} cpu ({}) (target ≤ 1.10)",
            auto_wall.0, auto_wall.1, auto_cpu.0, auto_cpu.1
        ),
        format!(
            "{name}: worst estimate off by {:.2}× wall ({}), {:.2}× cpu ({}) (target ≤ 2)",
            est_wall.0, est_wall.1, est_cpu.0, est_cpu.1
        ),
    ]
}

/// Section 2: site dedup on the cheap body.
fn dedup(n: usize, jobs: usize) {
    let (t, r) = timed(Config {
        strategy: Strategy::Auto,
        n,
        jobs,
        work: 0,
        dedup: true,
        sample: 0,
    });
    let sites = r.dedup.as_ref().map_or(0, |d| d.sites);
    println!(
        "\n2. site dedup, cheap body, n = {n}: {sites} sites swept in {} wall, {} cpu",
        fmt(t.wall),
        fmt(t.cpu)
    );
}
