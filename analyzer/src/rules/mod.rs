//! The rule catalogue: what each rule reports and how its findings read. One file per rule
//! holds its id, default level, documentation (the text `oomcheck explain ID` prints, the
//! README table's summary, SARIF's rule descriptions), the help line and the message of its
//! findings. [`RuleId`] names the rules and [`REGISTRY`] lists their files' [`RuleDoc`]s.
//!
//! The catalogue knows no syntax: where each rule is decided is in `analysis` (each rule
//! file's module documentation names the places).
//!
//! Adding a rule: a file here with its `DOC` and message, a [`RuleId`] variant, an entry in
//! [`REGISTRY`] (in the same order), the check in `analysis`, and a fixture
//! `tests/lint/<rule_id>.rs` (a test fails without one).
use serde::{Deserialize, Serialize};

mod doc;

pub use doc::{Level, RuleDoc, RuleId};

pub mod alloc_panic_without_error_channel;
pub mod discarded_alloc_result;
pub mod infallible_alloc;
pub mod panic_on_alloc_failure;
pub mod remapped_alloc_error;
pub mod swallowed_alloc_failure;
pub mod unchecked_raw_alloc;
pub mod unused_allow;

/// Every rule's description, in documentation order (the order of [`RuleId`]'s variants).
pub const REGISTRY: [&RuleDoc; 8] = [
    &discarded_alloc_result::DOC,
    &swallowed_alloc_failure::DOC,
    &panic_on_alloc_failure::DOC,
    &alloc_panic_without_error_channel::DOC,
    &remapped_alloc_error::DOC,
    &unchecked_raw_alloc::DOC,
    &infallible_alloc::DOC,
    &unused_allow::DOC,
];

impl RuleId {
    /// Every rule, in documentation order.
    pub const ALL: [RuleId; REGISTRY.len()] = {
        let mut all = [RuleId::DiscardedAllocResult; REGISTRY.len()];
        let mut i = 0;
        while i < all.len() {
            all[i] = REGISTRY[i].id;
            i += 1;
        }
        all
    };

    /// Every rule's kebab-case id, in documentation order.
    pub const NAMES: [&'static str; REGISTRY.len()] = {
        let mut names = [""; REGISTRY.len()];
        let mut i = 0;
        while i < names.len() {
            names[i] = REGISTRY[i].name;
            i += 1;
        }
        names
    };

    /// The rule's description (from its file).
    pub fn doc(self) -> &'static RuleDoc {
        // The variants are declared in registry order (a test checks it).
        REGISTRY[self as usize]
    }

    /// The kebab-case id.
    pub fn as_str(self) -> &'static str {
        self.doc().name
    }

    /// Parse a kebab-case id.
    pub fn from_id(id: &str) -> Option<RuleId> {
        REGISTRY.iter().find(|d| d.name == id).map(|d| d.id)
    }

    /// The level a finding of this rule gets before configuration: the default level, or
    /// `warn` for an opt-in rule that was enabled without a level.
    pub fn default_finding_level(self) -> Level {
        self.doc().default_level.unwrap_or(Level::Warn)
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A rule id as written in configuration (`[rules]` keys); an unknown id is an error that
/// lists the known ones (worded as serde words an unknown key).
impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<RuleId, D::Error> {
        let id = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        RuleId::from_id(&id).ok_or_else(|| serde::de::Error::unknown_field(&id, &RuleId::NAMES))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_in_variant_order() {
        for (i, doc) in REGISTRY.iter().enumerate() {
            assert_eq!(doc.id as usize, i, "{} is out of order", doc.name);
            assert_eq!(RuleId::ALL[i], doc.id);
            assert_eq!(RuleId::NAMES[i], doc.name);
        }
    }

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
            assert!(!doc.help.is_empty() && !doc.help.contains('\n'), "{rule}");
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

    #[test]
    fn ids_round_trip_through_serde() {
        #[derive(Deserialize)]
        struct Key {
            rule: RuleId,
        }
        for rule in RuleId::ALL {
            let text = format!("rule = \"{rule}\"");
            let key: Key = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(key.rule, rule);
        }
        let err = toml::from_str::<Key>("rule = \"nope\"")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("unknown field `nope`, expected one of `discarded-alloc-result`"),
            "{err}"
        );
    }
}
