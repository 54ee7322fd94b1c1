//! The inputs kept from fuzzing (`fuzz/regressions/<target>/`: crashers once fixed, and a
//! minimized subset of each corpus), run through the same entry points as the fuzz targets in
//! `fuzz/fuzz_targets/`. Nothing here catches panics: a panic fails the test.
use std::path::{Path, PathBuf};

use oomcheck_analyzer::analysis::Settings;
use oomcheck_analyzer::config::{parse_config, parse_manifest_config, read_manifest};
use oomcheck_analyzer::lint::{lint_source, WORKER_STACK_SIZE};
use oomcheck_analyzer::packs::{all_packs, ActivePacks};
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

/// What `fuzz_targets/analyze_source.rs` does with one input (first byte: flags).
fn analyze_source(data: &[u8]) -> Option<usize> {
    let (&flags, rest) = data.split_first()?;
    let text = std::str::from_utf8(rest).ok()?;
    let names: Vec<&str> = all_packs().iter().map(|p| p.name.as_str()).collect();
    let settings = Settings {
        packs: ActivePacks::named(&names),
        extra_alloc_functions: vec![
            "try_alloc_buf".to_string(),
            "arena::Arena::try_grow".to_string(),
        ],
        extra_no_memory_names: vec!["Exhausted".to_string()],
        include_tests: flags & 1 != 0,
    };
    let findings = lint_source(
        Path::new("fuzz.rs"),
        text,
        flags & 2 != 0,
        flags & 4 != 0,
        &settings,
    )
    .ok()?;
    for f in &findings {
        assert!(f.span.start_line >= 1 && f.span.start_column >= 1, "{f:?}");
        assert!(
            (f.span.start_line, f.span.start_column) <= (f.span.end_line, f.span.end_column),
            "{f:?}"
        );
    }
    Some(findings.len())
}

/// What `fuzz_targets/config.rs` does with one input.
fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = Path::new("/project");
    let probe = [
        Path::new("/project/src/lib.rs"),
        Path::new("/project/src/net/parser.rs"),
        Path::new("/project/vendor/x/src/mod.rs"),
        Path::new("/elsewhere/a.rs"),
    ];
    let loaded = [
        parse_config(text, Path::new("/project/oomcheck.toml"), dir).map(Some),
        parse_manifest_config(text, Path::new("/project/Cargo.toml"), dir),
    ];
    for result in loaded {
        match result {
            Ok(Some(cfg)) => {
                let _ = cfg.max_file_size();
                for rule in RuleId::ALL {
                    let _ = cfg.level_of(rule, None);
                }
                for file in probe {
                    let _ = cfg.is_excluded(file, false);
                    let _ = cfg.is_excluded(file, true);
                    let _ = cfg.infallible_alloc_checked(file, Some(dir));
                }
            }
            Ok(None) => {}
            Err(e) => {
                let _ = e.line_col();
                let _ = e.to_string();
            }
        }
    }
    let _ = read_manifest(text);
}

/// Run `f` on a thread with the driver's stack size (as the fuzz target does); a panic in it
/// fails the test with the input's name.
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
        let (tx, rx) = std::sync::mpsc::channel();
        on_big_stack(&path, move || {
            let _ = tx.send(analyze_source(&data));
        });
        if rx.recv().ok().flatten().is_some_and(|n| n > 0) {
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
        on_big_stack(&path, move || config(&data));
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
