//! `unused-allow`: an `oomcheck:allow(..)` comment that suppresses nothing or names an unknown
//! rule.
//!
//! Decided in `analysis/suppress.rs`, which also finds the comments and applies them.
use super::doc::{Level, RuleDoc, RuleId};

/// The rule's documentation (shown by `oomcheck explain unused-allow`).
pub const DOC: RuleDoc = RuleDoc {
    id: RuleId::UnusedAllow,
    name: "unused-allow",
    default_level: Some(Level::Warn),
    summary: "an `oomcheck:allow` comment suppresses nothing or names an unknown rule",
    explanation: r#"### What it does
A finding is suppressed by a comment `// oomcheck:allow(rule-id[, rule-id]) reason` on the
flagged line or on the line above. This rule reports such a comment when no finding of a rule it
names is on its line or the next one, and when it names a rule that does not exist.

### Why is this bad?
A stale allow comment hides nothing today but will silently hide a real problem tomorrow when
code moves under it; a misspelt rule id suppresses nothing while looking like it does.

### Example
```rust
// oomcheck:allow(discarded-alloc-reslt) best effort
let _ = cache.try_reserve(n);
```

Use instead:
```rust
// oomcheck:allow(discarded-alloc-result) best effort: the cache works without the room
let _ = cache.try_reserve(n);
```
"#,
    help: "remove the comment, fix the rule id, or move it onto or directly above the flagged line",
};

/// The message of a comment that does not say which rules it allows.
pub(crate) fn malformed_message() -> String {
    "malformed `oomcheck:allow` comment: expected `oomcheck:allow(rule-id) reason`".to_string()
}

/// The message of a comment naming `name`, which is not a rule.
pub(crate) fn unknown_rule_message(name: &str) -> String {
    format!("unknown rule `{name}` in `oomcheck:allow`")
}

/// The message of a comment allowing `name` where no finding of it is.
pub(crate) fn unused_message(name: &str) -> String {
    format!("allow comment for `{name}` suppresses nothing")
}
