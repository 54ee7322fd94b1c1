//! The findings of one file as the checks emit them, before suppression comments are applied
//! and the path and level are attached.
use crate::analysis::enclosing::Channel;
use crate::analysis::handling::Verdict;
use crate::analysis::traverse::Cx;
use crate::analysis::value::Val;
use crate::finding::Span;
use crate::rules::{
    alloc_panic_without_error_channel, panic_on_alloc_failure, remapped_alloc_error,
    swallowed_alloc_failure, RuleId,
};

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
    /// judged failure branch becomes a rule and a message, in view of the enclosing function
    /// (its error channel and contract, `enclosing`):
    /// - a panic in an infallible twin is its contract (no finding); in a function that cannot
    ///   report an error it is `alloc-panic-without-error-channel`;
    /// - a swallowed failure in a `GlobalAlloc` method (null is its failure signal), in an
    ///   `extern "C" fn` (null or a status is C's only channel) or in a
    ///   function documented to return `None` on allocation failure is the contract;
    /// - a remapping into `fmt::Error` (a trait's fixed error type) is no error channel.
    pub(crate) fn verdict(&mut self, cx: &Cx, val: &Val, verdict: Verdict) {
        let frame = cx.enclosing_fn();
        let (rule, message) = match verdict {
            Verdict::Fine => return,
            Verdict::Swallowed(how) => {
                if frame.is_some_and(|f| {
                    f.implements_global_alloc() || f.none_on_alloc_failure || f.foreign_abi
                }) {
                    return;
                }
                (
                    RuleId::SwallowedAllocFailure,
                    swallowed_alloc_failure::message(&val.call, &how),
                )
            }
            Verdict::Panic(how) => match frame {
                Some(f) if f.infallible_twin || f.oom_ignore_marker => return,
                Some(f) if f.cannot_report() => (
                    RuleId::AllocPanicWithoutErrorChannel,
                    alloc_panic_without_error_channel::message(&val.call, &how, &f.alternative()),
                ),
                _ => (
                    RuleId::PanicOnAllocFailure,
                    panic_on_alloc_failure::message(&val.call, &how),
                ),
            },
            Verdict::Remapped(to) => {
                if frame.is_some_and(|f| f.channel == Channel::FixedError) {
                    return;
                }
                (
                    RuleId::RemappedAllocError,
                    remapped_alloc_error::message(&val.call, &to),
                )
            }
        };
        self.emit(cx, rule, val.span, message);
    }
}
