//! `discarded-alloc-result`: the Result of a fallible allocation is dropped uninspected.
//!
//! Decided in `analysis/checks/results.rs` (`discarded`: statements, `let _`, `drop`, `_ =`).
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
