//! The fuzzing entry points: what each cargo-fuzz target in `fuzz/fuzz_targets/` does with one
//! input, including the invariants it checks. The targets are one-line calls into this module,
//! and `analyzer/tests/fuzz_regressions.rs` replays `fuzz/regressions/<target>/` through the same
//! functions, so the fuzzer and the test suite cannot drift apart.
//!
//! Not a stable API (hidden from the docs): each function panics when an invariant breaks,
//! which is how libFuzzer and the test harness notice a bug.
use std::path::Path;

use crate::analysis::Settings;
use crate::config::{parse_config, parse_manifest_config, read_manifest};
use crate::finding::Finding;
use crate::lint::{lint_source, WORKER_STACK_SIZE};
use crate::packs::{all_packs, ActivePacks};
use crate::rules::RuleId;

/// Target `analyze_source`: source text → [`lint_source`] (parse, wrapper discovery, analysis
/// with every pack active, suppression comments, `unused-allow`), as the lint driver treats each
/// file. See [`analyze_source_findings`] for the input format and the checks.
pub fn analyze_source(data: &[u8]) {
    let _ = analyze_source_findings(data);
}

/// [`analyze_source`], returning the findings: `None` when the input is skipped (empty, or not
/// UTF-8 after the flags byte) or does not parse.
///
/// The first byte of the input chooses the per-file flags (1: include tests, 2: test file,
/// 4: `infallible-alloc` checked); the rest is the source text. Input that is not UTF-8 is
/// skipped: the driver reports such a file before parsing, so it never reaches this path.
///
/// Runs on a thread with a stack of [`WORKER_STACK_SIZE`], as the driver parses and analyses,
/// so a stack overflow here is one the driver would have too; a panic there is resumed on the
/// calling thread.
///
/// # Panics
/// When a finding's span is not usable by the renderers (not 1-based, outside the text, or
/// ending before it starts), when the analysis panics, or when the worker thread cannot be
/// spawned.
pub fn analyze_source_findings(data: &[u8]) -> Option<Vec<Finding>> {
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
    let joined = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(WORKER_STACK_SIZE)
            .spawn_scoped(scope, || {
                let findings = lint_source(
                    Path::new("fuzz.rs"),
                    text,
                    flags & 2 != 0,
                    flags & 4 != 0,
                    &settings,
                )
                .ok()?;
                let lines: Vec<&str> = text.split('\n').collect();
                // Where (line, column) may be: on a line of the text, at most one column past
                // its last character (an exclusive end).
                let inside = |line: usize, column: usize| {
                    line >= 1
                        && column >= 1
                        && lines
                            .get(line - 1)
                            .is_some_and(|l| column <= l.chars().count() + 1)
                };
                for f in &findings {
                    // Spans must be usable by the renderers: 1-based, ordered, inside the text.
                    let s = f.span;
                    assert!(inside(s.start_line, s.start_column), "{f:?}");
                    assert!(inside(s.end_line, s.end_column), "{f:?}");
                    assert!(
                        (s.start_line, s.start_column) <= (s.end_line, s.end_column),
                        "{f:?}"
                    );
                }
                Some(findings)
            })
            .expect("spawn worker thread")
            .join()
    });
    joined.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Target `config`: configuration text → `oomcheck.toml` parsing and validation
/// ([`parse_config`]), the Cargo.toml metadata form ([`parse_manifest_config`]), the manifest
/// reader ([`read_manifest`]), and the uses of a loaded configuration (maximum file size,
/// levels, excludes, `infallible-alloc` scopes) or of an error (location, message). Input that
/// is not UTF-8 is skipped. Runs on the calling thread.
///
/// # Panics
/// When any of these panics: no outcome of them is checked beyond that.
pub fn config(data: &[u8]) {
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
