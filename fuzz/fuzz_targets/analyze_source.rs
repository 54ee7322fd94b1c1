//! Source text → `lint_source` (parse, wrapper discovery, analysis with every pack active,
//! suppression comments, `unused-allow`), as the lint driver treats each file.
//!
//! The first byte of the input chooses the per-file flags (test file, include tests,
//! `infallible-alloc` checked); the rest is the source text. Input that is not UTF-8 is skipped:
//! the driver reports such a file before parsing, so it never reaches this path.
//!
//! Build with `--no-cfg-fuzzing`: under `cfg(fuzzing)` proc-macro2 stops tracking source
//! locations (every span is line 0, column 0), which would fuzz a different analyzer from the
//! one users run (suppression comments, columns and `unused-allow` all depend on lines).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use oomcheck_analyzer::analysis::Settings;
use oomcheck_analyzer::lint::{lint_source, WORKER_STACK_SIZE};
use oomcheck_analyzer::packs::{all_packs, ActivePacks};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
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
    let text = text.to_string();
    // The driver parses and analyses on threads with WORKER_STACK_SIZE stacks; do the same so a
    // stack overflow here is one the driver would have too.
    let worker = std::thread::Builder::new()
        .stack_size(WORKER_STACK_SIZE)
        .spawn(move || {
            let result = lint_source(
                Path::new("fuzz.rs"),
                &text,
                flags & 2 != 0,
                flags & 4 != 0,
                &settings,
            );
            if let Ok(findings) = result {
                for f in &findings {
                    // Spans must be usable by the renderers: 1-based and ordered.
                    assert!(f.span.start_line >= 1 && f.span.start_column >= 1, "{f:?}");
                    assert!(
                        (f.span.start_line, f.span.start_column)
                            <= (f.span.end_line, f.span.end_column),
                        "{f:?}"
                    );
                }
            }
        })
        .expect("spawn worker thread");
    if let Err(panic) = worker.join() {
        std::panic::resume_unwind(panic);
    }
});
