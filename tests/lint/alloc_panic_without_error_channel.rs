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
