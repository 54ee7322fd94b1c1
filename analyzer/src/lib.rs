//! oomcheck's static analyzer: files → parsed syntax → allocation sites → findings.
//!
//! The modules, lowest first (none uses a module after it):
//! - [`rules`]: the rule catalogue, one file per rule with its documentation, default level,
//!   message and help; [`RuleId`] and [`Level`].
//! - [`finding`]: what a run reports: [`Finding`] (with its [`Related`] places), [`Span`], and
//!   [`FileError`] for a file that could not be checked.
//! - [`config`]: `oomcheck.toml` / `[package.metadata.oomcheck]`, found by walking up; Cargo.toml
//!   dependencies.
//! - [`packs`]: the rule packs of `rules/*.toml` (allocation calls, error types, no-memory
//!   names), their activation, and the text-prefilter needles they imply.
//! - [`walk`]: find the Rust files under the given paths (honouring `.gitignore`, skipping
//!   `target/`) and tell test code by place.
//! - [`analysis`]: the analysis of parsed files: wrapper discovery across files, the traversal,
//!   the method-chain classifier, the checks of each rule, suppression comments.
//! - [`lint`]: the driver: paths + configuration → [`lint::LintReport`], on worker threads.
//! - `fuzzing`: the bodies of the cargo-fuzz targets.
pub mod analysis;
pub mod config;
pub mod finding;
/// The cargo-fuzz targets' bodies, shared with the regression test (not a stable API).
#[doc(hidden)]
pub mod fuzzing;
pub mod lint;
pub mod packs;
pub mod rules;
pub mod site;
pub mod walk;

pub use finding::{FileError, FileProblem, Finding, Related, Span};
pub use rules::{Level, RuleId};
pub use site::AllocSite;
