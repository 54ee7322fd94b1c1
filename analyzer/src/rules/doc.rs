//! What a rule file declares: its [`RuleDoc`], naming its [`RuleId`] and default [`Level`].
use serde::Serialize;

/// How seriously a finding is taken (a rule's default, or set per rule by configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// A warning.
    Warn,
    /// An error.
    Error,
}

/// Stable rule identifiers (kebab-case on the command line, in configuration and in output:
/// see [`RuleId::as_str`]). The variants are in `REGISTRY` (documented in `rules/REGISTRY.rs`) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleId {
    /// `discarded-alloc-result` (documented in `rules/discarded_alloc_result.rs`).
    DiscardedAllocResult,
    /// `swallowed-alloc-failure` (documented in `rules/swallowed_alloc_failure.rs`).
    SwallowedAllocFailure,
    /// `panic-on-alloc-failure` (documented in `rules/panic_on_alloc_failure.rs`).
    PanicOnAllocFailure,
    /// `alloc-panic-without-error-channel` (documented in
    /// `rules/alloc_panic_without_error_channel.rs`).
    AllocPanicWithoutErrorChannel,
    /// `remapped-alloc-error` (documented in `rules/remapped_alloc_error.rs`).
    RemappedAllocError,
    /// `unchecked-raw-alloc` (documented in `rules/unchecked_raw_alloc.rs`).
    UncheckedRawAlloc,
    /// `infallible-alloc` (documented in `rules/infallible_alloc.rs`) (opt-in).
    InfallibleAlloc,
    /// `unused-allow` (documented in `rules/unused_allow.rs`): a `// oomcheck:allow(..)` comment
    /// that suppresses nothing or names an unknown rule.
    UnusedAllow,
}

/// A rule's description, written once in its file.
#[derive(Clone, Copy, Debug)]
pub struct RuleDoc {
    /// The rule.
    pub id: RuleId,
    /// The kebab-case id users write and read (`discarded-alloc-result`).
    pub name: &'static str,
    /// `None` = off unless enabled (opt-in rules).
    pub default_level: Option<Level>,
    /// One line, lower-case start, no trailing period.
    pub summary: &'static str,
    /// Markdown: `### What it does`, `### Why is this bad?`, `### Example`, `Use instead:`.
    pub explanation: &'static str,
    /// One line shown under every finding: how to handle the failure instead.
    pub help: &'static str,
}
