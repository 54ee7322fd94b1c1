//! The benchmark behind `bench/lint-bench.sh`: throughput of the lint driver against a full
//! `syn` parse of the same files.
//!
//! `lint_bench [--jobs N] [--rounds N] DIR…`: walks the folders as `oomcheck lint` does (same
//! files: ignore rules, no `target/`, test code included), then for each round times
//! (a) read + `syn::parse_file` of every file on N threads, no analysis, and
//! (b) [`oomcheck_analyzer::lint::lint`] with `include_tests`, and prints the best round of each.
use std::path::PathBuf;
use std::time::{Duration, Instant};

use oomcheck_analyzer::lint::{lint, LintOptions};
use rayon::prelude::*;

fn main() {
    let mut jobs = None;
    let mut rounds = 3;
    let mut dirs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--jobs" => jobs = args.next().and_then(|n| n.parse().ok()),
            "--rounds" => rounds = args.next().and_then(|n| n.parse().ok()).unwrap_or(3),
            _ => dirs.push(PathBuf::from(a)),
        }
    }
    if dirs.is_empty() {
        eprintln!("usage: lint_bench [--jobs N] [--rounds N] DIR…");
        std::process::exit(2);
    }

    let walked = oomcheck_analyzer::walk::walk(&dirs);
    let files: Vec<PathBuf> = walked.files.into_iter().map(|f| f.path).collect();
    // Warm the page cache and measure the corpus.
    let (bytes, lines) = files
        .par_iter()
        .map(|p| {
            let t = std::fs::read(p).unwrap_or_default();
            (
                t.len() as u64,
                t.iter().filter(|&&b| b == b'\n').count() as u64,
            )
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let threads = jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    println!(
        "corpus: {} crates, {} files, {} lines, {:.1} MB; {threads} threads",
        dirs.len(),
        files.len(),
        lines,
        bytes as f64 / 1e6
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(256 << 20)
        .build()
        .expect("thread pool");

    let mut best_parse = Duration::MAX;
    let mut best_lint = Duration::MAX;
    let mut last = None;
    for _ in 0..rounds {
        let t = Instant::now();
        let failed: usize = pool.install(|| {
            files
                .par_iter()
                .map(|p| {
                    let text = std::fs::read_to_string(p).unwrap_or_default();
                    usize::from(syn::parse_file(&text).is_err())
                })
                .sum()
        });
        best_parse = best_parse.min(t.elapsed());

        let t = Instant::now();
        let report = lint(&LintOptions {
            paths: dirs.clone(),
            include_tests: true,
            config: None,
            jobs: Some(threads),
        });
        best_lint = best_lint.min(t.elapsed());
        last = Some((failed, report));
    }
    let Some((failed, report)) = last else { return };
    let row = |name: &str, d: Duration| {
        let s = d.as_secs_f64();
        println!(
            "{name:<28} {:>8.3} s {:>9.1} MB/s {:>10.0} files/s",
            s,
            bytes as f64 / 1e6 / s,
            files.len() as f64 / s
        );
    };
    row("(a) full syn parse", best_parse);
    row("(b) oomcheck lint", best_lint);
    println!(
        "ratio (b)/(a): {:.2}x   [best of {rounds}]",
        best_parse.as_secs_f64() / best_lint.as_secs_f64()
    );
    println!(
        "lint: {} files checked, {} parsed ({:.1}% of bytes), {} findings, {} errors; syn parse failures in (a): {failed}",
        report.stats.files_checked,
        report.stats.files_parsed,
        100.0 * report.stats.bytes_parsed as f64 / report.stats.bytes_read.max(1) as f64,
        report.findings.len(),
        report.errors.len(),
    );
}
