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
/// see [`RuleId::as_str`]). The variants are in [`REGISTRY`](super::REGISTRY) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleId {
    /// [`discarded_alloc_result`](super::discarded_alloc_result).
    DiscardedAllocResult,
    /// [`swallowed_alloc_failure`](super::swallowed_alloc_failure).
    SwallowedAllocFailure,
    /// [`panic_on_alloc_failure`](super::panic_on_alloc_failure).
    PanicOnAllocFailure,
    /// [`alloc_panic_without_error_channel`](super::alloc_panic_without_error_channel).
    AllocPanicWithoutErrorChannel,
    /// [`remapped_alloc_error`](super::remapped_alloc_error).
    RemappedAllocError,
    /// [`unchecked_raw_alloc`](super::unchecked_raw_alloc).
    UncheckedRawAlloc,
    /// [`infallible_alloc`](super::infallible_alloc) (opt-in).
    InfallibleAlloc,
    /// [`unused_allow`](super::unused_allow): a `// oomcheck:allow(..)` comment that suppresses nothing or names an
    /// unknown rule.
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
