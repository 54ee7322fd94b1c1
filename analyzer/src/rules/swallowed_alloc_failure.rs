//! `swallowed-alloc-failure`: an allocation failure silently becomes success or absence.
//!
//! Decided in `analysis/chain.rs` (methods such as `unwrap_or`, `ok()` then `or`), in
//! `analysis/handling.rs` (a failure branch that carries on or returns `Ok`), and in
//! `analysis/checks/results.rs` (the `if`, `match`, `let … else` and `?` contexts); the sites
//! one function's `Option` signature causes are folded into one in `analysis/signature_group.rs`.
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

In a function returning `Option`, several `….ok()?` (and `?` on a local holding `….ok()`)
have one root cause, the return type, which cannot say "out of memory": they are reported
as ONE finding at the first site, saying at how many places the function turns allocation
failure into `None`, with the other sites as related locations (secondary labels; `related`
in JSON; `relatedLocations` in SARIF). An `oomcheck:allow` on the first site's line allows
the group; one on another site's line drops that site from it.

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

/// The message of one finding for `places` sites of `function` where its `Option` return type
/// turns allocation failure into `None` (`call` is the first).
pub(crate) fn signature_message(function: &str, call: &str, how: &str, places: usize) -> String {
    format!(
        "`{function}` turns allocation failure into `None` at {places} places \
         ({how} on `{call}` here and {} related)",
        places - 1
    )
}

/// The label of another site of such a group.
pub(crate) fn related_message(call: &str, how: &str) -> String {
    format!("{how} on `{call}` also turns its failure into `None`")
}

/// The help of such a group: the fix is the signature.
pub(crate) const SIGNATURE_HELP: &str = "return a `Result` whose error can say that memory ran out (a NoMemory variant) instead of `Option`, so callers can tell out-of-memory from absence";
