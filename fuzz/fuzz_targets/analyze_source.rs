//! Source text → `lint_source` with every rule pack active, on a thread with the driver's stack
//! size; the first byte of the input holds the per-file flags. The body, its input format and
//! its checks live in `oomcheck_analyzer::fuzzing::analyze_source_findings`.
//!
//! Build with `--no-cfg-fuzzing`: under `cfg(fuzzing)` proc-macro2 stops tracking source
//! locations (every span is line 0, column 0), which would fuzz a different analyzer from the
//! one users run (suppression comments, columns and `unused-allow` all depend on lines).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oomcheck_analyzer::fuzzing::analyze_source(data));
