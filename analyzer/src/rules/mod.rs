//! The rules: one module per rule id, each documented with the text `oomcheck explain ID` shows.
use serde::Serialize;

use crate::finding::Level;

pub mod discarded_alloc_result;
pub mod infallible_alloc;
pub mod panic_on_alloc_failure;
pub mod remapped_alloc_error;
pub mod swallowed_alloc_failure;
pub mod unchecked_raw_alloc;
pub mod unused_allow;

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
        match self {
            RuleId::DiscardedAllocResult => discarded_alloc_result::DOC,
            RuleId::SwallowedAllocFailure => swallowed_alloc_failure::DOC,
            RuleId::PanicOnAllocFailure => panic_on_alloc_failure::DOC,
            RuleId::RemappedAllocError => remapped_alloc_error::DOC,
            RuleId::UncheckedRawAlloc => unchecked_raw_alloc::DOC,
            RuleId::InfallibleAlloc => infallible_alloc::DOC,
            RuleId::UnusedAllow => unused_allow::DOC,
        }
    }

    /// The level a finding of this rule gets before configuration: the default level, or
    /// `warn` for an opt-in rule that was enabled without a level.
    pub fn default_finding_level(self) -> Level {
        self.doc().default_level.unwrap_or(Level::Warn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_complete_doc() {
        for rule in RuleId::ALL {
            let doc = rule.doc();
            assert_eq!(doc.id, rule);
            assert_eq!(RuleId::from_id(rule.as_str()), Some(rule));
            assert!(
                !doc.summary.is_empty() && !doc.summary.contains('\n'),
                "{rule}"
            );
            for section in [
                "### What it does",
                "### Why is this bad?",
                "### Example",
                "Use instead:",
            ] {
                assert!(doc.explanation.contains(section), "{rule} lacks {section}");
            }
        }
        assert_eq!(RuleId::InfallibleAlloc.doc().default_level, None);
        assert_eq!(
            RuleId::DiscardedAllocResult.doc().default_level,
            Some(Level::Error)
        );
    }
}
