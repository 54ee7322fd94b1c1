//! `remapped-alloc-error`: an allocation failure becomes an error that is not NoMemory.
//!
//! Decided in `analysis/handling.rs` (whether an error value built on failure is NoMemory-like,
//! the original error, or another error: `error_value`, `mapper`), applied by
//! `analysis/chain.rs` (`map_err`, `or`, `ok_or`, `or_else`), `analysis/checks/results.rs`
//! (failure branches) and `analysis/checks/from_impl.rs` (`impl From<AllocError> for E`).
use super::doc::{Level, RuleDoc, RuleId};

/// The rule's documentation (shown by `oomcheck explain remapped-alloc-error`).
pub const DOC: RuleDoc = RuleDoc {
    id: RuleId::RemappedAllocError,
    name: "remapped-alloc-error",
    default_level: Some(Level::Error),
    summary: "an allocation failure is turned into an error that does not say out of memory",
    explanation: r#"### What it does
Flags a fallible allocation whose error is replaced by an error that is not NoMemory-like:
`.map_err(|_| Error::InvalidData(..))`, `.map_err(|e| format!(..))`, `.ok().ok_or(Error::X)`,
`.or(Err(Error::X))`, `Err(_) => return Err(Error::X)`, `if ….is_err() { return Err(Error::X) }`,
and `impl From<TryReserveError> for E` whose `from` builds a non-NoMemory value. NoMemory-like
is decided by name (`NoMemory`, `OutOfMemory`, `Oom`, `Alloc`, `ENOMEM`…, plus the configured
extra names). Conversions the analysis cannot see through (`map_err(Error::from)`,
`map_err(Into::into)`, `?`) are not flagged at the call; the `From` impl itself is checked.

### Why is this bad?
The caller is told the input was bad (or something else went wrong) when the machine simply
ran out of memory: it may reject valid data, retry forever, or report a misleading error.
Out-of-memory testing reports such runs as `wrong-error`.

### Example
```rust
let mut table = Vec::new();
table.try_reserve(count).map_err(|_| Error::InvalidData("table too large"))?;
```

Use instead:
```rust
let mut table = Vec::new();
table.try_reserve(count).map_err(|_| Error::OutOfMemory)?;
```
"#,
    help: "map the allocation error to a NoMemory variant (for example `Error::OutOfMemory`) or keep it as the source",
};

/// The finding's message at a call.
pub(crate) fn message(call: &str, to: &str) -> String {
    format!("failure of `{call}` is remapped to {to}, which is not a NoMemory error")
}

/// The finding's message at a `From` impl.
/// The message at the wildcard arm of `impl From<CrateError> for F` that folds the crate's
/// NoMemory variant of `source` into `to`.
pub(crate) fn wildcard_message(source: &str, target: &str, to: &str) -> String {
    format!(
        "conversion `From<{source}>` for `{target}` turns `{source}`'s NoMemory variant into {to} through a wildcard arm"
    )
}

/// The message at a value of `impl From<AllocError> for E` that is not NoMemory-like.
pub(crate) fn from_impl_message(source: &str, target: &str, to: &str) -> String {
    format!("conversion `From<{source}>` for `{target}` builds {to}, which is not a NoMemory error")
}
