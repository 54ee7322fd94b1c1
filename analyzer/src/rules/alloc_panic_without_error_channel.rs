//! `alloc-panic-without-error-channel`: an allocation failure becomes a panic in a function
//! that cannot report an error.
//!
//! Decided where `panic-on-alloc-failure` is (`analysis/chain.rs`, `analysis/handling.rs`,
//! `analysis/checks/results.rs`), then sorted by the enclosing function
//! (`analysis/enclosing.rs`, applied in `analysis/checks/findings.rs`): a trait method with a
//! fixed signature, or a public function, returning neither `Result` nor `Option`. Infallible
//! twins (a `try_` sibling, or documented to panic) are not reported at all.
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

/// The finding's message: `how` the failure of `call` becomes a panic, and the fallible
/// `alternative` to offer.
pub(crate) fn message(call: &str, how: &str, alternative: &str) -> String {
    format!(
        "failure of `{call}` becomes a panic or abort through {how} in a function that cannot report an error; offer {alternative}"
    )
}
