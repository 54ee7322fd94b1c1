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
    /// Set when the failure becomes `None` only because the enclosing function returns
    /// `Option` (`.ok()?`): the sites of one function with this set are one finding, since its
    /// signature is where they are all fixed (`analysis::signature_group`).
    pub none_by_signature: Option<SignatureSite>,
}

/// A site where a function's `Option` return type swallows an allocation failure.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SignatureSite {
    /// The function's name.
    pub function: String,
    /// Where the function's name is (tells same-named functions of a file apart).
    pub function_at: Span,
    /// The allocation call's name, for messages.
    pub call: String,
    /// How the failure becomes `None` (`` `ok()?` ``).
    pub how: String,
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
            none_by_signature: None,
        });
    }

    /// `val`'s failure becomes `None` by `how` (`.ok()?`): [`Findings::verdict`] on a
    /// swallowed failure, marked as caused by the function's signature when the `?` returns
    /// from a function returning `Option` (not from a closure inside it).
    pub(crate) fn none_by_signature(&mut self, cx: &Cx, val: &Val, how: &str) {
        let before = self.list.len();
        self.verdict(cx, val, Verdict::Swallowed(how.to_string()));
        let Some(f) = cx
            .enclosing_fn()
            .filter(|f| f.channel == Channel::Option && f.closures == 0)
        else {
            return;
        };
        if let Some(found) = self.list.get_mut(before) {
            found.none_by_signature = Some(SignatureSite {
                function: f.name.clone(),
                function_at: f.at,
                call: val.call.clone(),
                how: how.to_string(),
            });
        }
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
                    alloc_panic_without_error_channel::message(
                        &val.call,
                        &how,
                        &f.alternative(&cx.vocab.counterparts),
                    ),
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
