//! An allocation value: what a fallible allocation's result has become at some point of the
//! code (a `Result`, an `Option` after `.ok()`, a `bool` after `.is_ok()`), and where the
//! allocation is, for the finding.
use crate::finding::Span;

/// What an allocation's result has become along a method chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `Result<_, E>` whose `Err` is the allocation failure.
    Result,
    /// `Option` whose `None` is the allocation failure (after `.ok()`).
    Option,
    /// A `bool` saying whether the allocation succeeded (`true_is_success`) or failed.
    Probe { true_is_success: bool },
}

/// An allocation value being followed.
#[derive(Clone, Debug)]
pub(crate) struct Val {
    /// What the result has become.
    pub kind: Kind,
    /// The allocation call's name, for messages (`try_reserve`, `Box::try_new`).
    pub call: String,
    /// The allocation call's span (where findings are reported).
    pub span: Span,
}

impl Val {
    /// The same allocation, become `kind`.
    pub(crate) fn as_kind(&self, kind: Kind) -> Val {
        Val {
            kind,
            ..self.clone()
        }
    }
}
