//! Suppression comments: finding the `// oomcheck:allow(rule-id, …) reason` comments of a
//! file, applying them to its findings (same line or the line above, or above the statement),
//! and the `unused-allow` findings of the comments that suppressed nothing, name an unknown
//! rule, or are malformed.
use crate::finding::Span;
use crate::rules::{unused_allow, RuleId};

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

/// Find the allow comments of a file: plain `//` line comments (not doc comments, not text
/// inside string literals) whose text starts with `oomcheck:allow`.
pub(crate) fn parse_allows(text: &str) -> Vec<Allow> {
    let mut out = Vec::new();
    if !text.contains(MARKER) {
        return out;
    }
    let literals = literal_spans(text);
    for (i, line) in text.lines().enumerate() {
        if !line.contains(MARKER) {
            continue;
        }
        // The line's comment starts at its first `//` outside a literal.
        let Some(comment) = line.match_indices("//").map(|(b, _)| b).find(|&b| {
            let col = line[..b].chars().count();
            !literals.iter().any(|l| l.contains(i + 1, col))
        }) else {
            continue;
        };
        // `// oomcheck:allow(..)` and nothing else before the marker: a doc comment (`///`,
        // `//!`) or prose that mentions the syntax is not a suppression.
        let body = &line[comment + 2..];
        if body.starts_with('/') || body.starts_with('!') || !body.trim_start().starts_with(MARKER)
        {
            continue;
        }
        let at = comment + 2 + (body.len() - body.trim_start().len());
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

/// A string-like literal's extent (1-based lines, 0-based character columns, end exclusive).
struct LiteralSpan {
    start: (usize, usize),
    end: (usize, usize),
}

impl LiteralSpan {
    fn contains(&self, line: usize, column: usize) -> bool {
        (line, column) >= self.start && (line, column) < self.end
    }
}

/// The extents of all literals of `text`, so that `//` inside a string is not taken for a
/// comment. Tokenizing drops comments, so what remains are real tokens. A file that does not
/// tokenize has no literal extents (the parser reports it anyway).
fn literal_spans(text: &str) -> Vec<LiteralSpan> {
    fn walk(stream: proc_macro2::TokenStream, out: &mut Vec<LiteralSpan>) {
        for tree in stream {
            match tree {
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), out),
                proc_macro2::TokenTree::Literal(l) => {
                    let (s, e) = (l.span().start(), l.span().end());
                    out.push(LiteralSpan {
                        start: (s.line, s.column),
                        end: (e.line, e.column),
                    });
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    if let Ok(stream) = text.parse::<proc_macro2::TokenStream>() {
        walk(stream, &mut out);
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
            out.push((allow.span, unused_allow::malformed_message()));
            continue;
        }
        for entry in &allow.entries {
            match entry.rule {
                None => out.push((allow.span, unused_allow::unknown_rule_message(&entry.name))),
                Some(_) if !entry.used => {
                    out.push((allow.span, unused_allow::unused_message(&entry.name)))
                }
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
    fn doc_comments_strings_and_prose_are_not_allow_comments() {
        let text = concat!(
            "/// Suppress with `// oomcheck:allow(discarded-alloc-result)`.\n",
            "//! // oomcheck:allow(panic-on-alloc-failure)\n",
            "const DOC: &str = r\"\n",
            "// oomcheck:allow(nope) inside a raw string\n",
            "\";\n",
            "const S: &str = \"// oomcheck:allow(x)\";\n",
            "// see the oomcheck:allow(..) syntax\n",
            "let a = 1; // oomcheck:allow(swallowed-alloc-failure) real\n",
        );
        let allows = parse_allows(text);
        assert_eq!(allows.len(), 1, "only the last line is an allow comment");
        assert_eq!(allows[0].line, 8);
        assert_eq!(
            allows[0].entries[0].rule,
            Some(RuleId::SwallowedAllocFailure)
        );
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
