// Panics on allocation failure in functions that cannot report an error (issue 12, patterns
// 1–3): the warn-level rule where there is no error channel, nothing for an infallible twin or
// an explicit "OOM ignored" marker, `panic-on-alloc-failure` where an error channel exists.
use std::collections::TryReserveError;
use std::fmt;

pub struct Buf {
    data: Vec<u8>,
}

// Pattern 2: trait methods with fixed signatures.
impl Clone for Buf {
    fn clone(&self) -> Self {
        let mut data = Vec::new();
        data.try_reserve(self.data.len()).expect("out of memory"); //~ alloc-panic-without-error-channel
        data.extend_from_slice(&self.data);
        Buf { data }
    }
}

impl Extend<u8> for Buf {
    fn extend<I: IntoIterator<Item = u8>>(&mut self, iter: I) {
        for b in iter {
            self.data.try_reserve(1).unwrap(); //~ alloc-panic-without-error-channel
            self.data.push(b);
        }
    }
}

impl fmt::Display for Buf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        s.try_reserve(self.data.len()).unwrap(); //~ alloc-panic-without-error-channel
        f.write_str(&s)
    }
}

impl Buf {
    // Pattern 2: a public function returning neither `Result` nor `Option`, no twin.
    pub fn from_slice(bytes: &[u8]) -> Buf {
        let mut data = Vec::new();
        data.try_reserve_exact(bytes.len()).expect("OOM"); //~ alloc-panic-without-error-channel
        data.extend_from_slice(bytes);
        Buf { data }
    }

    // Pattern 1: the infallible twin of `try_with_capacity` (not reported).
    pub fn with_capacity(n: usize) -> Buf {
        Self::try_with_capacity(n).unwrap()
    }

    pub fn try_with_capacity(n: usize) -> Result<Buf, TryReserveError> {
        let mut data = Vec::new();
        data.try_reserve(n)?;
        Ok(Buf { data })
    }

    /// Grows the buffer.
    ///
    /// # Panics
    /// Panics if allocating fails.
    pub fn grow(&mut self, n: usize) {
        self.data.try_reserve(n).expect("documented to panic");
    }

    // Pattern 3: an explicit "out of memory deliberately ignored" helper.
    pub fn push_panic_on_oom(&mut self, b: u8) {
        self.data.try_reserve(1).unwrap();
        self.data.push(b);
    }

    // Not a public function: still `panic-on-alloc-failure` (the caller could be changed).
    fn refill(&mut self, n: usize) {
        self.data.try_reserve(n).unwrap(); //~ panic-on-alloc-failure
    }

    // An error channel exists and is not used: `panic-on-alloc-failure`, twin or not.
    pub fn append(&mut self, n: usize) -> Result<(), String> {
        self.data.try_reserve(n).unwrap(); //~ panic-on-alloc-failure
        Ok(())
    }

    // `Result<Vec, Vec>`: the `Err` side is a second success, not an error channel.
    pub fn split(&self) -> Result<Vec<u8>, Vec<u8>> {
        let mut out = Vec::new();
        out.try_reserve(self.data.len()).unwrap(); //~ alloc-panic-without-error-channel
        Ok(out)
    }
}

// A helper nested in a function without an error channel has none either.
pub fn build(n: usize) -> Vec<u8> {
    fn inner(n: usize) -> Vec<u8> {
        let mut v = Vec::new();
        v.try_reserve(n).unwrap(); //~ alloc-panic-without-error-channel
        v
    }
    inner(n)
}

// A fallible counterpart the code already declares is named instead of asked for: `TryClone`
// beside `Clone` (also for a helper nested in `clone`), `Map::try_insert` beside `Extend`.
pub struct Map {
    keys: Vec<u32>,
}

pub trait TryClone: Sized {
    fn try_clone(&self) -> Result<Self, TryReserveError>;
}

impl TryClone for Map {
    fn try_clone(&self) -> Result<Self, TryReserveError> {
        let mut keys = Vec::new();
        keys.try_reserve(self.keys.len())?;
        keys.extend_from_slice(&self.keys);
        Ok(Map { keys })
    }
}

impl Clone for Map {
    fn clone(&self) -> Self {
        fn clone_keys(keys: &[u32]) -> Vec<u32> {
            let mut out = Vec::new();
            out.try_reserve(keys.len()).expect("out of memory"); //~ alloc-panic-without-error-channel
            out.extend_from_slice(keys);
            out
        }
        Map { keys: clone_keys(&self.keys) }
    }
}

impl Map {
    pub fn try_insert(&mut self, k: u32) -> Result<(), TryReserveError> {
        self.keys.try_reserve(1)?;
        self.keys.push(k);
        Ok(())
    }
}

impl Extend<u32> for Map {
    fn extend<I: IntoIterator<Item = u32>>(&mut self, iter: I) {
        for k in iter {
            self.try_insert(k).expect("out of memory"); //~ alloc-panic-without-error-channel
        }
    }
}

// Without a declared counterpart the wording asks for one, for a nested helper too.
pub struct Tree {
    nodes: Vec<u32>,
}

impl Clone for Tree {
    fn clone(&self) -> Self {
        fn clone_subtree(nodes: &[u32]) -> Vec<u32> {
            let mut out = Vec::new();
            out.try_reserve(nodes.len()).unwrap(); //~ alloc-panic-without-error-channel
            out.extend_from_slice(nodes);
            out
        }
        Tree { nodes: clone_subtree(&self.nodes) }
    }
}
