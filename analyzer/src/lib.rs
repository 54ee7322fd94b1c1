//! oomcheck's static analyzer: files → parsed syntax → allocation sites → findings.
//!
//! The pieces, in data-flow order:
//! - [`walk`]: find the Rust files under the given paths (honouring `.gitignore`, skipping
//!   `target/`), decide which are test code, and prefilter by text.
//! - [`config`]: `oomcheck.toml` / `[package.metadata.oomcheck]`, found by walking up.
//! - [`packs`]: the rule packs of `rules/*.toml` (allocation calls, error types, no-memory names).
//! - [`analysis`]: per-file syntax visitor, allocation-wrapper discovery, receiver-type
//!   resolution, suppression comments.
//! - [`rules`]: one module per rule id, each with its documentation.
//! - [`lint`]: the driver tying them together: paths + config → [`lint::LintReport`].
pub mod analysis;
pub mod config;
pub mod finding;
/// The cargo-fuzz targets' bodies, shared with the regression test (not a stable API).
#[doc(hidden)]
pub mod fuzzing;
pub mod lint;
pub mod packs;
pub mod rules;
pub mod walk;

pub use finding::{FileError, FileProblem, Finding, Span};
pub use rules::{Level, RuleId};
