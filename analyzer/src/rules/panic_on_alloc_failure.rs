//! `panic-on-alloc-failure`: an allocation failure becomes a panic or an abort.
//!
//! Decided in `analysis/chain.rs` (`unwrap`, `expect`, `unwrap_or_else(|_| panic!())`), in
//! `analysis/handling.rs` (a failure branch that panics or aborts), and in
//! `analysis/checks/results.rs` (the contexts, and `assert!(….is_ok())`).
use super::doc::{Level, RuleDoc, RuleId};

/// The rule's documentation (shown by `oomcheck explain panic-on-alloc-failure`).
pub const DOC: RuleDoc = RuleDoc {
    id: RuleId::PanicOnAllocFailure,
    name: "panic-on-alloc-failure",
    default_level: Some(Level::Error),
    summary: "an allocation failure is turned into a panic or an abort",
    explanation: r#"### What it does
Flags a fallible allocation whose failure ends in a panic or an abort: `.unwrap()`,
`.expect(..)`, `.unwrap_or_else(|e| panic!(..))`, `Err(_) => panic!(..)`,
`Err(_) => unreachable!()`, `Err(e) => handle_alloc_error(..)`,
`if ….is_err() { unreachable!() }`, `if let Err(_) = … { handle_alloc_error(..) }`,
`assert!(….is_ok())`.

Not flagged: `unsafe { ….unwrap_unchecked() }` and a failure branch that is
`unreachable_unchecked()` (`Err(_) => unsafe { unreachable_unchecked() }`,
`.unwrap_or_else(|_| unsafe { unreachable_unchecked() })`). They do not panic: they are the
author's `unsafe` assertion that the call cannot fail (an allocator whose contract forbids a
failing `shrink`, capacity reserved earlier), an explicit marker of intent like an
`oomcheck:allow` comment, and it is the `unsafe` block's safety argument that a reviewer checks.

### Why is this bad?
Using the fallible API and then panicking on failure costs the same as the infallible API
while hiding the crash behind a `try_` name. The process (or the thread) dies instead of the
caller getting an error it could recover from.

### Example
```rust
let mut v = Vec::new();
v.try_reserve(n).expect("out of memory");
```

Use instead:
```rust
let mut v = Vec::new();
v.try_reserve(n)?;
```
"#,
    help: "propagate the error with `?` or map it to a NoMemory variant instead of panicking",
};

/// The finding's message.
pub(crate) fn message(call: &str, how: &str) -> String {
    format!("failure of `{call}` becomes a panic or abort through {how}")
}
