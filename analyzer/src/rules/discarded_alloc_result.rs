//! `discarded-alloc-result`: the Result of a fallible allocation is dropped uninspected.
//!
//! Decided in `analysis/checks/results.rs` (`discarded`: statements, `let _`, `drop`, `_ =`);
//! capacity hints are told apart in `analysis/checks/capacity_hint.rs`.
use super::doc::{Level, RuleDoc, RuleId};

/// The rule's documentation (shown by `oomcheck explain discarded-alloc-result`).
pub const DOC: RuleDoc = RuleDoc {
    id: RuleId::DiscardedAllocResult,
    name: "discarded-alloc-result",
    default_level: Some(Level::Error),
    summary: "the result of a fallible allocation is discarded without being inspected",
    explanation: r#"### What it does
Flags a fallible allocation (`try_reserve`, `Box::try_new`, an allocation wrapper of your code…)
whose `Result` is thrown away: `let _ = …;`, `let _x = …;`, `let _: Result<..> = …;`, a bare
`…;` statement, `drop(…)`, `_ = …;`, or `….ok();`.

Not flagged: a *capacity hint*. A discarded capacity-only reservation (`try_reserve`,
`try_reserve_exact`, a pack's fallible `reserve`) on a local bound in the same block to an empty
constructor (`Vec::new()`, `String::new()`, `Default::default()`, `vec![]`), whose next use
hands it to other code (`&mut buf` or `buf` passed to a call, moved into a struct literal or an
enum variant, returned). If the hint fails, nothing is lost: the collection is empty either way
and the code it is handed to grows it, and reports its own failures, as if no hint had been
given. A reservation on a parameter or a field (the caller expects the capacity), on a local
that already holds data, or followed by growing the local right there is still flagged.
```rust
let mut buf = Vec::new();
let _ = buf.try_reserve(input.len() / 2); // a hint: not flagged
compress_into(&mut buf, input)?;
```

### Why is this bad?
The fallible form was chosen so that running out of memory can be handled. Discarding the
result means the code carries on as if the allocation had succeeded: a later `push` aborts the
process, or the code works on a buffer that is smaller than it believes.

### Example
```rust
let _ = buf.try_reserve(len);
buf.extend_from_slice(data);
```

Use instead:
```rust
buf.try_reserve(len)?;
buf.extend_from_slice(data);
```
"#,
    help: "propagate the error with `?` or handle the `Err` case (for example by returning a NoMemory error)",
};

/// How a discarded result is worded in a finding.
pub(crate) fn message(call: &str, how: &str) -> String {
    format!("result of `{call}` is discarded {how}")
}
