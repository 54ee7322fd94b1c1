//! The rules: one module per rule id, each documented with the text `oomcheck explain ID` shows.
use serde::Serialize;

use crate::finding::Level;

/// Stable rule identifiers (kebab-case on the command line and in output).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleId {
    DiscardedAllocResult,
    SwallowedAllocFailure,
    PanicOnAllocFailure,
    RemappedAllocError,
    UncheckedRawAlloc,
    InfallibleAlloc,
    /// A `// oomcheck:allow(..)` comment that suppresses nothing or names an unknown rule.
    UnusedAllow,
}

impl RuleId {
    /// Every rule, in documentation order.
    pub const ALL: [RuleId; 7] = [
        RuleId::DiscardedAllocResult,
        RuleId::SwallowedAllocFailure,
        RuleId::PanicOnAllocFailure,
        RuleId::RemappedAllocError,
        RuleId::UncheckedRawAlloc,
        RuleId::InfallibleAlloc,
        RuleId::UnusedAllow,
    ];

    /// The kebab-case id.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::DiscardedAllocResult => "discarded-alloc-result",
            RuleId::SwallowedAllocFailure => "swallowed-alloc-failure",
            RuleId::PanicOnAllocFailure => "panic-on-alloc-failure",
            RuleId::RemappedAllocError => "remapped-alloc-error",
            RuleId::UncheckedRawAlloc => "unchecked-raw-alloc",
            RuleId::InfallibleAlloc => "infallible-alloc",
            RuleId::UnusedAllow => "unused-allow",
        }
    }

    /// Parse a kebab-case id.
    pub fn from_id(id: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|r| r.as_str() == id)
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule's documentation, written once next to its code.
#[derive(Clone, Copy, Debug)]
pub struct RuleDoc {
    pub id: RuleId,
    /// `None` = off unless enabled (opt-in rules).
    pub default_level: Option<Level>,
    /// One line.
    pub summary: &'static str,
    /// Markdown: `### What it does`, `### Why is this bad?`, `### Example`, `Use instead:`.
    pub explanation: &'static str,
}

impl RuleId {
    /// The rule's documentation.
    pub fn doc(self) -> RuleDoc {
        todo!("lint-core: one module per rule, doc from its doc comment")
    }
}
