//! `infallible-alloc` (opt-in): an aborting allocation inside code marked OOM-safe.
//!
//! Decided in `analysis/checks/infallible.rs`; the OOM-safe scopes are configuration
//! (`config.rs`, `[infallible-alloc]`).
use super::doc::{RuleDoc, RuleId};

/// The rule's documentation (shown by `oomcheck explain infallible-alloc`).
pub const DOC: RuleDoc = RuleDoc {
    id: RuleId::InfallibleAlloc,
    name: "infallible-alloc",
    default_level: None,
    summary: "an allocation that aborts the process on failure, in code marked OOM-safe",
    explanation: r#"### What it does
In modules listed as OOM-safe in the configuration (`oomcheck.toml`), flags allocations that
abort the process when memory runs out: `push`, `insert`, `extend`, `reserve`, `collect`,
`to_string`, `to_vec`, `Box::new`, `Vec::with_capacity`, `String::from`, `format!`, `vec![..]`…
The rule is off unless enabled.

### Why is this bad?
Rust's infallible collections call `handle_alloc_error` on failure, which aborts. Code that
promises to survive out-of-memory (a parser of untrusted input, a kernel module, a server's
request path) must use the fallible forms everywhere.

### Example
```rust
let mut out = Vec::with_capacity(n);
out.push(item);
```

Use instead:
```rust
let mut out = Vec::new();
out.try_reserve(n)?;
// oomcheck:allow(infallible-alloc) within the capacity reserved above: cannot allocate
out.push(item);
```
"#,
    help: "use the fallible form (`try_reserve` before pushing, `Box::try_new`, `Vec::try_with_capacity`…) and propagate the error",
};

/// The finding's message.
pub(crate) fn message(call: &str) -> String {
    format!("`{call}` aborts the process when allocation fails")
}
