// Allocation wrappers of the scanned code: discovered to a fixed point.
use std::collections::TryReserveError;

fn vec_try_with_capacity<T>(n: usize) -> Result<Vec<T>, TryReserveError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)?;
    Ok(v)
}

fn grow_tail(v: &mut Vec<u8>, n: usize) -> Result<(), TryReserveError> {
    v.try_reserve(n)
}

// A wrapper of a wrapper.
fn table(n: usize) -> Result<Vec<u32>, TryReserveError> {
    let t = vec_try_with_capacity(n)?;
    Ok(t)
}

// A wrapper of a wrapper of a wrapper, through an adapter.
fn table_len(n: usize) -> Result<usize, TryReserveError> {
    table(n).map(|t| t.len())
}

// Not a wrapper: returns the error type but allocates nothing fallibly.
fn not_a_wrapper() -> Result<(), TryReserveError> {
    Ok(())
}

#[derive(Debug)]
enum Error {
    OutOfMemory,
}

// A wrapper returning the crate's own error type, whose `OutOfMemory` variant the allocation
// failure becomes (issue 12, pattern 6).
fn other_error(v: &mut Vec<u8>) -> Result<(), Error> {
    v.try_reserve(1).map_err(|_| Error::OutOfMemory)?;
    Ok(())
}

enum Parse {
    Invalid,
}

// Not a wrapper: its error type has no NoMemory variant (the remapping is reported here).
fn parse_error(v: &mut Vec<u8>) -> Result<(), Parse> {
    v.try_reserve(1).map_err(|_| Parse::Invalid)?; //~ remapped-alloc-error
    Ok(())
}

struct Pool {
    data: Vec<u8>,
}

impl Pool {
    fn try_grow_pool(&mut self, n: usize) -> Result<(), TryReserveError> {
        self.data.try_reserve(n)?;
        Ok(())
    }

    fn with_room(n: usize) -> Result<Self, TryReserveError> {
        let data = vec_try_with_capacity(n)?;
        Ok(Pool { data })
    }

    fn push(&mut self, x: u8) -> Result<(), TryReserveError> {
        self.try_grow_pool(1)?;
        self.data.push(x);
        Ok(())
    }

    fn refill(&mut self) {
        self.push(0).unwrap(); //~ panic-on-alloc-failure
        Self::with_room(1).ok(); //~ discarded-alloc-result
    }
}

fn callers(v: &mut Vec<u8>, pool: &mut Pool) {
    let _ = vec_try_with_capacity::<u8>(4); //~ discarded-alloc-result
    grow_tail(v, 1).unwrap(); //~ panic-on-alloc-failure
    let t = table(3).unwrap_or_default(); //~ swallowed-alloc-failure
    let n = table_len(3).expect("room"); //~ panic-on-alloc-failure
    not_a_wrapper().unwrap();
    other_error(v).unwrap(); //~ panic-on-alloc-failure
    parse_error(v).unwrap();
    pool.try_grow_pool(2).expect("x"); //~ panic-on-alloc-failure
    let p = Pool::with_room(3).unwrap(); //~ panic-on-alloc-failure
    pool.push(1).unwrap(); //~ panic-on-alloc-failure
    // A `push` on another receiver type is not the wrapper.
    v.push(1);
    let _ = (t, n, p);
}

// `try_new` wrappers are matched on their own type only.
struct Frame(Vec<u8>);

impl Frame {
    fn try_new(n: usize) -> Result<Self, TryReserveError> {
        let v = vec_try_with_capacity(n)?;
        Ok(Frame(v))
    }

    fn try_double(&self) -> Result<Self, TryReserveError> {
        Frame::try_new(self.0.len() * 2)
    }
}

fn frames(f: &Frame) {
    let a = Frame::try_new(3).unwrap(); //~ panic-on-alloc-failure
    let b = f.try_double().expect("room"); //~ panic-on-alloc-failure
    let c = std::num::NonZeroU8::try_from(3u8).unwrap();
    let _ = (a, b, c);
}
