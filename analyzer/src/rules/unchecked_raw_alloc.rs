//! `unchecked-raw-alloc`: a raw allocator's pointer is used before it is checked for null.
//!
//! Decided in `analysis/checks/raw_alloc.rs`.
use super::doc::{Level, RuleDoc, RuleId};

/// The rule's documentation (shown by `oomcheck explain unchecked-raw-alloc`).
pub const DOC: RuleDoc = RuleDoc {
    id: RuleId::UncheckedRawAlloc,
    name: "unchecked-raw-alloc",
    default_level: Some(Level::Error),
    summary: "a pointer from a raw allocator is used before a null check",
    explanation: r#"### What it does
Flags a pointer returned by a raw allocator (`alloc`, `alloc_zeroed`, `realloc`,
`GlobalAlloc::alloc`, `System.alloc(..)`, `libc::malloc`, `libc::calloc`…) that is used —
dereferenced, written with `ptr::write`, offset with `.add`, turned into a `Box` with
`Box::from_raw` or a slice with `from_raw_parts` — before it is compared with null
(`is_null()`, `NonNull::new`, `== ptr::null_mut()`).

A call of a parameter or local that happens to be named like an allocator
(`fn new_static<F: FnOnce(Layout) -> *mut u8>(alloc: F, ..)` calling `alloc(layout)`) calls
that value, whose contract is its caller's: it is not flagged.

### Why is this bad?
Raw allocators report failure by returning a null pointer. Writing through it is undefined
behaviour: usually a segmentation fault, sometimes silent memory corruption.

### Example
```rust
let p = alloc(layout) as *mut u64;
ptr::write(p, 0);
```

Use instead:
```rust
let p = alloc(layout) as *mut u64;
if p.is_null() {
    handle_alloc_error(layout);
}
ptr::write(p, 0);
```
"#,
    help: "check the pointer with `is_null()` or `NonNull::new` first and return a NoMemory error (or call `handle_alloc_error`) when it is null",
};

/// The finding's message.
pub(crate) fn message(call: &str, how: &str) -> String {
    format!("pointer from `{call}` is used {how} before a null check")
}
