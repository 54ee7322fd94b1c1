//! Configuration text → `oomcheck.toml` parsing and validation, the Cargo.toml metadata form,
//! the manifest reader, and the uses of a loaded configuration (excludes, levels,
//! `infallible-alloc` scopes, error locations). The body lives in
//! `oomcheck_analyzer::fuzzing::config`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oomcheck_analyzer::fuzzing::config(data));
