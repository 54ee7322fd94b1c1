//! `swallowed-alloc-failure`: an allocation failure silently becomes success or absence.
//!
//! Decided in `analysis/chain.rs` (methods such as `unwrap_or`, `ok()` then `or`), in
//! `analysis/handling.rs` (a failure branch that carries on or returns `Ok`), and in
//! `analysis/checks/results.rs` (the `if`, `match`, `let … else` and `?` contexts).
use super::doc::{Level, RuleDoc, RuleId};

/// The rule's documentation (shown by `oomcheck explain swallowed-alloc-failure`).
pub const DOC: RuleDoc = RuleDoc {
    id: RuleId::SwallowedAllocFailure,
    name: "swallowed-alloc-failure",
    default_level: Some(Level::Error),
    summary: "an allocation failure is turned into success or absence",
    explanation: r#"### What it does
Flags a fallible allocation whose failure is replaced by a value or by nothing: `.ok()?`,
`.unwrap_or(..)`, `.unwrap_or_default()`, `.unwrap_or_else(..)` with a closure that returns,
`.map_or(..)`, `if ….is_ok() {…}` or `if let Ok(_) = … {…}` without an `else`,
`Err(_) => {}`, `if ….is_err() { return Ok(..) / continue / break }`, or `.ok()` returned
from a function returning `Option` (unless its documentation says it returns `None` when
allocation fails: then `None` is its failure signal). Adapters in between (`.map(..)`,
`.and_then(..)`, `.as_ref()`…) are seen through, and so is a closure that returns the result
(`.and_then(|()| v.try_reserve(n).ok())`).

### Why is this bad?
The caller cannot tell that memory ran out: it receives a default, an empty value, `None` or
`Ok`, and the data is silently incomplete. Out-of-memory testing reports this as corruption.

### Example
```rust
let table = Vec::try_with_capacity(n).unwrap_or_default();
```

Use instead:
```rust
let table = Vec::try_with_capacity(n).map_err(|_| Error::OutOfMemory)?;
```
"#,
    help: "propagate the error with `?` (or map it to a NoMemory variant) so the caller learns that memory ran out",
};

/// The finding's message.
pub(crate) fn message(call: &str, how: &str) -> String {
    format!("failure of `{call}` is swallowed by {how}")
}
