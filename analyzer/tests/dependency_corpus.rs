//! Zero-panic corpus runs: lint the full source of the crates in the workspace's dependency
//! tree (dependencies and dev-dependencies, every platform, as `cargo metadata` lists them),
//! each crate root separately, with test code included.
//!
//! The driver turns a panic of the parser or the analysis into an "internal error" for the
//! files concerned (so one bad file cannot take down a CI run). That must not hide bugs here: a
//! panic hook counts every panic on any thread (the hook runs before any unwinding or catching),
//! and both the count and any "internal error" fail the test.
//!
//! - `dependency_corpus_subset_has_no_panics` (default suite, debug): the crates whose code is
//!   about fallible allocation (hashbrown, smallvec, fallible_collections: about 60 000
//!   lines).
//! - `full_dependency_corpus_has_no_panics` (`#[ignore]`, run by `scripts/lint-corpus.sh` in
//!   a release build): every registry package of the tree, over 2 million lines; then every
//!   one of their Rust files again through `lint_source` with every rule pack active and test
//!   code included, which skips the driver's text prefilter (the driver parses only the files
//!   that mention an allocation name), so the parser and analysis see all of the code.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::Instant;

use oomcheck_analyzer::analysis::Settings;
use oomcheck_analyzer::lint::{lint, lint_source, LintError, LintOptions, WORKER_STACK_SIZE};
use oomcheck_analyzer::packs::{all_packs, ActivePacks};

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Count every panic, then report it as usual.
fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
}

/// One package of the dependency tree.
struct Package {
    name: String,
    version: String,
    root: PathBuf,
}

/// The packages of the workspace's dependency tree that come from a registry (the
/// workspace's own crates are linted by the CLI tests).
fn dependency_packages() -> Vec<Package> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(&workspace)
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let mut packages: Vec<Package> = meta["packages"]
        .as_array()
        .expect("packages array")
        .iter()
        .filter(|p| {
            p["source"]
                .as_str()
                .is_some_and(|s| s.starts_with("registry+"))
        })
        .filter_map(|p| {
            let manifest = PathBuf::from(p["manifest_path"].as_str()?);
            Some(Package {
                name: p["name"].as_str()?.to_string(),
                version: p["version"].as_str()?.to_string(),
                root: manifest.parent()?.to_path_buf(),
            })
        })
        .collect();
    packages.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    packages
}

/// Rust files and their lines under `dir` (the size of what is linted; the driver also
/// honours `.gitignore` files, which published crates rarely ship).
fn count_rust(dir: &Path) -> (usize, usize) {
    let (mut files, mut lines) = (0, 0);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && entry.file_name() != "target" {
            let (f, l) = count_rust(&path);
            files += f;
            lines += l;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "rs") {
            files += 1;
            lines += std::fs::read(&path).map_or(0, |b| bytecount_lines(&b));
        }
    }
    (files, lines)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && entry.file_name() != "target" {
            rust_files(&path, out);
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every Rust file of `packages` through `lint_source` (all packs, tests included, no
/// prefilter), on one thread with the driver's stack size. Prints and returns
/// (files, parsed, findings, parse errors).
fn lint_every_file(packages: &[Package]) -> (usize, usize, usize, usize) {
    let mut files = Vec::new();
    for p in packages {
        rust_files(&p.root, &mut files);
    }
    let started = Instant::now();
    let worker = std::thread::Builder::new()
        .stack_size(WORKER_STACK_SIZE)
        .spawn(move || {
            let names: Vec<&str> = all_packs().iter().map(|p| p.name.as_str()).collect();
            let settings = Settings {
                packs: ActivePacks::named(&names),
                include_tests: true,
                ..Settings::default()
            };
            let (mut parsed, mut findings, mut errors) = (0, 0, 0);
            for path in &files {
                let Ok(text) = std::fs::read_to_string(path) else {
                    continue;
                };
                match lint_source(path, &text, false, true, &settings) {
                    Ok(f) => {
                        parsed += 1;
                        findings += f.len();
                    }
                    Err(_) => errors += 1,
                }
            }
            (files.len(), parsed, findings, errors)
        })
        .expect("spawn");
    let totals = worker.join().expect("lint_source panicked (see above)");
    println!(
        "EVERY FILE (no prefilter, all packs, infallible-alloc on) files={} parsed={} \
         findings={} parse-errors={} time={:.1}s",
        totals.0,
        totals.1,
        totals.2,
        totals.3,
        started.elapsed().as_secs_f64()
    );
    totals
}

fn bytecount_lines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// Totals of a corpus run.
#[derive(Default)]
struct Totals {
    crates: usize,
    rust_files: usize,
    lines: usize,
    files_checked: usize,
    files_parsed: usize,
    findings: usize,
    errors: usize,
    internal_errors: Vec<String>,
}

/// Lint every package separately; print one line per package and the totals.
fn lint_corpus(packages: &[Package]) -> Totals {
    count_panics();
    let mut t = Totals::default();
    let started = Instant::now();
    for p in packages {
        let (files, lines) = count_rust(&p.root);
        let report = lint(&LintOptions {
            paths: vec![p.root.clone()],
            include_tests: true,
            config: None,
            jobs: None,
        });
        t.crates += 1;
        t.rust_files += files;
        t.lines += lines;
        t.files_checked += report.stats.files_checked;
        t.files_parsed += report.stats.files_parsed;
        t.findings += report.findings.len();
        t.errors += report.errors.len();
        for e in &report.errors {
            let text = e.to_string();
            if text.contains("internal error") {
                t.internal_errors
                    .push(format!("{} {}: {text}", p.name, p.version));
            }
        }
        println!(
            "{:<28} {:>10} files={:<5} lines={:<7} checked={:<5} parsed={:<5} findings={:<4} errors={}",
            p.name,
            p.version,
            files,
            lines,
            report.stats.files_checked,
            report.stats.files_parsed,
            report.findings.len(),
            report.errors.len(),
        );
        for e in &report.errors {
            match e {
                LintError::File(f) => println!("    error: {f}"),
                LintError::Config(c) => println!("    config error: {c}"),
            }
        }
    }
    println!(
        "TOTAL crates={} rust-files={} lines={} checked={} parsed={} findings={} errors={} \
         panics={} time={:.1}s",
        t.crates,
        t.rust_files,
        t.lines,
        t.files_checked,
        t.files_parsed,
        t.findings,
        t.errors,
        PANICS.load(Ordering::SeqCst),
        started.elapsed().as_secs_f64(),
    );
    t
}

fn assert_no_panics(t: &Totals) {
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        0,
        "panics while linting the corpus"
    );
    assert!(
        t.internal_errors.is_empty(),
        "internal errors: {:#?}",
        t.internal_errors
    );
}

#[test]
fn dependency_corpus_subset_has_no_panics() {
    let wanted = ["hashbrown", "smallvec", "fallible_collections"];
    let packages: Vec<Package> = dependency_packages()
        .into_iter()
        .filter(|p| wanted.contains(&p.name.as_str()))
        .collect();
    for name in wanted {
        assert!(
            packages.iter().any(|p| p.name == name),
            "{name} is not in the dependency tree"
        );
    }
    let t = lint_corpus(&packages);
    assert_no_panics(&t);
    assert!(t.lines > 30_000, "only {} lines found", t.lines);
    // fallible_collections and hashbrown handle allocation failure for a living: the
    // analyzer must have parsed them and found something (a finding or an allow that fits).
    assert!(t.files_parsed > 20, "{} files parsed", t.files_parsed);
    assert!(
        t.findings > 0,
        "no findings in the fallible-allocation crates"
    );
}

#[test]
#[ignore = "minutes in a debug build; run by scripts/lint-corpus.sh (release)"]
fn full_dependency_corpus_has_no_panics() {
    let packages = dependency_packages();
    let t = lint_corpus(&packages);
    assert_no_panics(&t);
    assert!(
        t.lines >= 1_000_000,
        "the dependency tree has only {} lines of Rust",
        t.lines
    );
    let (files, parsed, _, _) = lint_every_file(&packages);
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "panics in lint_source");
    assert!(
        parsed * 10 >= files * 9,
        "only {parsed} of {files} files parse"
    );
}
