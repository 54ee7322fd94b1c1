//! `infallible-alloc` (opt-in): an aborting allocation inside code marked OOM-safe.
//!
//! Decided in `analysis/checks/infallible.rs`, with growth within a reservation found in
//! `analysis/checks/reserved_growth.rs`; the OOM-safe scopes are configuration (`config.rs`,
//! `[infallible-alloc]`).
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

Not flagged: a growth call that a reservation just before it covers, which cannot allocate.
The reservation `v.try_reserve(n)` / `try_reserve_exact(n)` must propagate its failure
(`?`, also after `.map_err(..)`), or leave in `if ….is_err() { return … }`,
`if let Err(..) = … { return … }` or `let Ok(..) = … else { … }`. The first thing after it
that touches the same value (`v`, `self.buf`) must be the growth call, in the same block or a
nested block that runs at most once (not in a loop or a closure), with nothing in between
naming what `n` is computed from; and `n` must cover the growth syntactically:

| growth | covered by `n` = |
|---|---|
| `push`, `push_back`, `push_front`, `insert` (one element; not on a known `String`, `OsString` or `PathBuf`) | an integer literal ≥ 1 |
| `resize(m, ..)`, `resize_with(m, ..)` | `m`, or `m - v.len()` |
| `extend_from_slice(s)`, `extend(s)`, `append(s)`, `push_str(s)`, `insert_str(_, s)` | `s.len()` |
| the same with `s` = `&x[lo..hi]`, `&x[..hi]`, `&[a, b, c]` | `hi - lo`, `hi`, a literal ≥ 3 |

`n` may only be made of names, fields, literals, arithmetic, casts and `.len()`. One
reservation covers one growth call: a second `push` after `try_reserve(1)`, or a `push` in a
loop after `try_reserve(items.len())`, is still flagged (an `oomcheck:allow` comment saying
why it cannot allocate is the way out). As everywhere in this rule, cloning the elements
(`extend_from_slice` of a `Clone` type) is not judged.

Nor is a method the scanned crate defines itself on the receiver's type (`self.repeat(..)`
of a decoder returning `Result` is not `str::repeat`).

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
out.try_reserve(1)?;
out.push(item); // within the capacity reserved above: cannot allocate, not flagged
```
"#,
    help: "use the fallible form (`try_reserve` before pushing, `Box::try_new`, `Vec::try_with_capacity`…) and propagate the error",
};

/// The finding's message.
pub(crate) fn message(call: &str) -> String {
    format!("`{call}` aborts the process when allocation fails")
}
