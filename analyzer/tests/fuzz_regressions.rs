//! The inputs kept from fuzzing (`fuzz/regressions/<target>/`: crashers once fixed, and a
//! minimized subset of each corpus), run through the same entry points as the fuzz targets in
//! `fuzz/fuzz_targets/`: the functions of `oomcheck_analyzer::fuzzing`. A panic fails the test,
//! naming the input.
use std::path::{Path, PathBuf};

use oomcheck_analyzer::analysis::Settings;
use oomcheck_analyzer::fuzzing;
use oomcheck_analyzer::lint::{lint_source, WORKER_STACK_SIZE};
use oomcheck_analyzer::packs::ActivePacks;
use oomcheck_analyzer::RuleId;

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Run `f` on a thread with the driver's stack size (libFuzzer runs the `config` target on the
/// main thread, whose stack is larger than a test thread's); a panic in it fails the test with
/// the input's name.
fn on_big_stack(name: &Path, f: impl FnOnce() + Send + 'static) {
    let worker = std::thread::Builder::new()
        .stack_size(WORKER_STACK_SIZE)
        .spawn(f)
        .expect("spawn");
    if worker.join().is_err() {
        panic!("{} panicked", name.display());
    }
}

#[test]
fn analyze_source_regressions() {
    let files = inputs("analyze_source");
    assert!(!files.is_empty());
    let mut with_findings = 0;
    for path in files {
        let data = std::fs::read(&path).expect("read input");
        // `analyze_source_findings` runs on its own big-stack thread and resumes its panics here.
        let findings = std::panic::catch_unwind(|| fuzzing::analyze_source_findings(&data))
            .unwrap_or_else(|_| panic!("{} panicked", path.display()));
        if findings.is_some_and(|f| !f.is_empty()) {
            with_findings += 1;
        }
    }
    // The kept corpus is interesting input: some of it must still produce findings.
    assert!(with_findings > 0, "no kept input produces a finding");
}

#[test]
fn config_regressions() {
    let files = inputs("config");
    assert!(!files.is_empty());
    for path in files {
        let data = std::fs::read(&path).expect("read input");
        on_big_stack(&path, move || fuzzing::config(&data));
    }
}

#[test]
fn lint_source_matches_the_driver_on_a_wrapper_and_an_allow() {
    let text = "use std::collections::TryReserveError;\n\
                fn grow(v: &mut Vec<u8>) -> Result<(), TryReserveError> { v.try_reserve(1) }\n\
                fn user(v: &mut Vec<u8>) {\n    grow(v).unwrap();\n    \
                // oomcheck:allow(discarded-alloc-result) best effort\n    \
                let _ = grow(v);\n    // oomcheck:allow(no-such-rule)\n}\n";
    let settings = Settings {
        packs: ActivePacks::named(&[]),
        ..Settings::default()
    };
    let findings = lint_source(Path::new("w.rs"), text, false, false, &settings).expect("parses");
    let got: Vec<(RuleId, usize)> = findings
        .iter()
        .map(|f| (f.rule, f.span.start_line))
        .collect();
    assert_eq!(
        got,
        vec![(RuleId::PanicOnAllocFailure, 4), (RuleId::UnusedAllow, 7)]
    );
    let err = lint_source(Path::new("w.rs"), "fn (", false, false, &settings)
        .expect_err("does not parse");
    assert_eq!((err.path.as_path(), err.line), (Path::new("w.rs"), Some(1)));
}
