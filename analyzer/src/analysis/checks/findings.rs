//! The findings of one file as the checks emit them, before suppression comments are applied
//! and the path and level are attached.
use crate::analysis::handling::Verdict;
use crate::analysis::traverse::Cx;
use crate::analysis::value::Val;
use crate::finding::Span;
use crate::rules::{panic_on_alloc_failure, remapped_alloc_error, swallowed_alloc_failure, RuleId};

/// One finding before suppression.
#[derive(Clone, Debug)]
pub(crate) struct RawFinding {
    /// The rule that fired.
    pub rule: RuleId,
    /// Where.
    pub span: Span,
    /// First line of the enclosing statement (for allow comments above a multi-line one).
    pub stmt_line: usize,
    /// The rule's message for this place.
    pub message: String,
}

/// The findings of a file, in the order they were found.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    /// What was found.
    pub list: Vec<RawFinding>,
}

impl Findings {
    /// A finding of `rule` at `span`, in the statement being visited.
    pub(crate) fn emit(&mut self, cx: &Cx, rule: RuleId, span: Span, message: String) {
        let stmt_line = cx.stmt_line().unwrap_or(span.start_line);
        self.list.push(RawFinding {
            rule,
            span,
            stmt_line,
            message,
        });
    }

    /// The finding a [`Verdict`] on the allocation value `val` means, if any: the one place a
    /// judged failure branch becomes a rule and a message.
    pub(crate) fn verdict(&mut self, cx: &Cx, val: &Val, verdict: Verdict) {
        let (rule, message) = match verdict {
            Verdict::Fine => return,
            Verdict::Swallowed(how) => (
                RuleId::SwallowedAllocFailure,
                swallowed_alloc_failure::message(&val.call, &how),
            ),
            Verdict::Panic(how) => (
                RuleId::PanicOnAllocFailure,
                panic_on_alloc_failure::message(&val.call, &how),
            ),
            Verdict::Remapped(to) => (
                RuleId::RemappedAllocError,
                remapped_alloc_error::message(&val.call, &to),
            ),
        };
        self.emit(cx, rule, val.span, message);
    }
}
