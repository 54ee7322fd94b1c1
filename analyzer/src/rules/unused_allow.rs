//! `unused-allow`: an `oomcheck:allow(..)` comment that suppresses nothing or names an unknown
//! rule. Also home of the suppression logic itself.
use super::{RuleDoc, RuleId};
use crate::finding::{Level, Span};

/// The rule's documentation (shown by `oomcheck explain unused-allow`).
pub const DOC: RuleDoc = RuleDoc {
    id: RuleId::UnusedAllow,
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
};

/// The help line.
pub(crate) const HELP: &str =
    "remove the comment, fix the rule id, or move it onto or directly above the flagged line";

/// One rule named in an allow comment.
#[derive(Debug)]
pub(crate) struct AllowEntry {
    /// The text as written.
    pub name: String,
    /// The rule, if the name is known.
    pub rule: Option<RuleId>,
    /// Did it suppress something?
    pub used: bool,
}

/// One `// oomcheck:allow(..)` comment.
#[derive(Debug)]
pub(crate) struct Allow {
    /// 1-based line of the comment.
    pub line: usize,
    /// The comment's span (from `//` to the end of the line).
    pub span: Span,
    /// The rules it names (empty when malformed).
    pub entries: Vec<AllowEntry>,
    /// The comment has no closing `)`.
    pub malformed: bool,
}

const MARKER: &str = "oomcheck:allow";

/// Find the allow comments of a file: `oomcheck:allow(` after a `//` on the same line.
pub(crate) fn parse_allows(text: &str) -> Vec<Allow> {
    let mut out = Vec::new();
    if !text.contains(MARKER) {
        return out;
    }
    for (i, line) in text.lines().enumerate() {
        let Some(at) = line.find(MARKER) else {
            continue;
        };
        let Some(comment) = line[..at].rfind("//") else {
            continue;
        };
        let rest = &line[at + MARKER.len()..];
        let start_column = line[..comment].chars().count() + 1;
        let span = Span {
            start_line: i + 1,
            start_column,
            end_line: i + 1,
            end_column: line.chars().count() + 1,
        };
        let (entries, malformed) = match rest.strip_prefix('(').and_then(|r| r.split_once(')')) {
            Some((list, _)) => (
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|name| AllowEntry {
                        name: name.to_string(),
                        rule: RuleId::from_id(name),
                        used: false,
                    })
                    .collect(),
                false,
            ),
            None => (Vec::new(), true),
        };
        out.push(Allow {
            line: i + 1,
            span,
            entries,
            malformed,
        });
    }
    out
}

/// Does an allow cover a finding of `rule` starting on `line`, in a statement starting on
/// `stmt_line`? (A multi-line statement can carry its allow above its first line.) Marks the
/// entry used.
pub(crate) fn suppress(allows: &mut [Allow], rule: RuleId, line: usize, stmt_line: usize) -> bool {
    for allow in allows.iter_mut() {
        let covers = |l: usize| allow.line == l || allow.line + 1 == l;
        if covers(line) || covers(stmt_line) {
            if let Some(entry) = allow.entries.iter_mut().find(|e| e.rule == Some(rule)) {
                entry.used = true;
                return true;
            }
        }
    }
    false
}

/// The `unused-allow` findings of a file's allows after suppression: `(span, message)`.
/// Allows inside skipped test code are not judged.
pub(crate) fn unused(allows: &[Allow], skipped: &[(usize, usize)]) -> Vec<(Span, String)> {
    let mut out = Vec::new();
    for allow in allows {
        if skipped
            .iter()
            .any(|(a, b)| (*a..=*b).contains(&allow.line) || (*a..=*b).contains(&(allow.line + 1)))
        {
            continue;
        }
        if allow.malformed || allow.entries.is_empty() {
            out.push((
                allow.span,
                "malformed `oomcheck:allow` comment: expected `oomcheck:allow(rule-id) reason`"
                    .to_string(),
            ));
            continue;
        }
        for entry in &allow.entries {
            match entry.rule {
                None => out.push((
                    allow.span,
                    format!("unknown rule `{}` in `oomcheck:allow`", entry.name),
                )),
                Some(_) if !entry.used => out.push((
                    allow.span,
                    format!("allow comment for `{}` suppresses nothing", entry.name),
                )),
                Some(_) => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules_reason_and_malformed_comments() {
        let text = "let a = 1;\n    // oomcheck:allow(discarded-alloc-result, nope) reason\nx // oomcheck:allow(broken\n\"oomcheck:allow(x)\"\n";
        let allows = parse_allows(text);
        assert_eq!(allows.len(), 2);
        assert_eq!(allows[0].line, 2);
        assert_eq!(allows[0].span.start_column, 5);
        assert_eq!(allows[0].entries.len(), 2);
        assert_eq!(
            allows[0].entries[0].rule,
            Some(RuleId::DiscardedAllocResult)
        );
        assert_eq!(allows[0].entries[1].rule, None);
        assert!(allows[1].malformed);
    }

    #[test]
    fn suppresses_same_and_next_line_only() {
        let mut allows = parse_allows("// oomcheck:allow(panic-on-alloc-failure)\n\n");
        assert!(!suppress(&mut allows, RuleId::PanicOnAllocFailure, 3, 3));
        assert!(!suppress(&mut allows, RuleId::DiscardedAllocResult, 2, 2));
        assert_eq!(unused(&allows, &[]).len(), 1);
        assert!(suppress(&mut allows, RuleId::PanicOnAllocFailure, 4, 2));
        assert!(unused(&allows, &[]).is_empty());
    }
}
