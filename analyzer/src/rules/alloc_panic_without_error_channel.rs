//! `alloc-panic-without-error-channel`: an allocation failure becomes a panic in a function
//! that cannot report an error.
//!
//! Decided where `panic-on-alloc-failure` is (`analysis/chain.rs`, `analysis/handling.rs`,
//! `analysis/checks/results.rs`), then sorted by the enclosing function
//! (`analysis/enclosing.rs`, applied in `analysis/checks/findings.rs`): a trait method with a
//! fixed signature, or a public function, returning neither `Result` nor `Option`. Infallible
//! twins (a `try_` sibling, or documented to panic) are not reported at all. The fallible
//! counterparts named in the message are collected across files (`analysis/counterparts.rs`).
use super::doc::{Level, RuleDoc, RuleId};

/// The rule's documentation (shown by `oomcheck explain alloc-panic-without-error-channel`).
pub const DOC: RuleDoc = RuleDoc {
    id: RuleId::AllocPanicWithoutErrorChannel,
    name: "alloc-panic-without-error-channel",
    default_level: Some(Level::Warn),
    summary: "an allocation failure becomes a panic in a function that cannot report an error",
    explanation: r#"### What it does
Flags a fallible allocation whose failure ends in a panic or an abort inside a function that
has no way to report an error: a trait method with a fixed signature (`Clone::clone`,
`Extend::extend`, `FromIterator::from_iter`, `Default::default`, `Display::fmt`,
`Index::index`, `Drop::drop`…), or a public function returning neither `Result` nor `Option`.

Functions whose contract is to panic on allocation failure are not reported: an infallible
twin beside a `try_`-named sibling (`with_capacity` next to `try_with_capacity`, as
`Vec::reserve` mirrors `Vec::try_reserve`), or a function documented to panic or abort.
Where the function *can* report an error, the same panic is `panic-on-alloc-failure`.

The message says what to do instead. When the function (or the function a helper is nested
in) implements a trait with a known fallible counterpart that the scanned code already
declares for the same type, it names that counterpart and where it is: `TryClone::try_clone`
beside `Clone`; `TryExtend::try_extend`, or a `try_extend` / `try_extend_from_slice` /
`try_insert` / `try_push` of the type, beside `Extend`; `TryFromIterator::try_from_iter` or
`try_from_iter` / `try_collect` beside `FromIterator`; `try_default` / `try_new` beside
`Default`; `TryToOwned::try_to_owned` or `try_to_owned` beside `ToOwned`. Otherwise it asks
for one (a `try_` variant of the function, a `TryClone`-style `try_clone`, a fallible method
beside the trait implementation).

### Why is this bad?
It is a design decision rather than a dropped error, but callers that must survive running
out of memory have no way to: offer a fallible alternative (a `try_` variant returning
`Result`, or a `TryClone`-style trait beside `Clone`).

### Example
```rust
impl Clone for Buffer {
    fn clone(&self) -> Self {
        Buffer { data: self.data.try_clone().expect("out of memory") }
    }
}
```

Use instead:
```rust
impl Buffer {
    pub fn try_clone(&self) -> Result<Self, TryReserveError> {
        Ok(Buffer { data: self.data.try_clone()? })
    }
}
```
"#,
    help: "offer a fallible alternative (a `try_` variant returning `Result`, or `TryClone`), or document the panic",
};

/// The finding's message: `how` the failure of `call` becomes a panic, and the `advice`
/// (the fallible alternative to offer, or the one the code already declares).
pub(crate) fn message(call: &str, how: &str, advice: &str) -> String {
    format!(
        "failure of `{call}` becomes a panic or abort through {how} in a function that cannot report an error; {advice}"
    )
}
