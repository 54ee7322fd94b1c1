//! Fallible allocation sites: every allocation call the analyzer recognises (pack functions,
//! configured `alloc-functions`, discovered wrappers), whatever is done with its failure. This is
//! what `oomcheck report` joins with the failed allocations of a sweep.
use std::path::PathBuf;

use serde::Serialize;

/// One fallible allocation call in the source.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AllocSite {
    /// The file, as the linted paths name it.
    pub path: PathBuf,
    /// Line of the call (1-based): the method name's line for a method call, where a compiler's
    /// debug information puts the call.
    pub line: usize,
    /// Column of that place (1-based, in characters).
    pub column: usize,
    /// The enclosing function's name (`None` outside a function: a `static` initializer).
    pub function: Option<String>,
    /// The allocation called, as findings name it (`try_reserve`, `Box::try_new`, `grow_buf`).
    pub callee: String,
}
