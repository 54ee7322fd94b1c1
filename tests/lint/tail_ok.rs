// A tail `.ok()` in a function returning `Option` (issue 12, pattern 7): the allocation
// failure becomes `None`, unless the documentation makes `None` the allocation-failure signal.
use std::collections::TryReserveError;

pub fn room(v: &mut Vec<u8>, n: usize) -> Option<()> {
    v.try_reserve(n).ok() //~ swallowed-alloc-failure
}

pub fn early(v: &mut Vec<u8>, n: usize) -> Option<usize> {
    if n == 0 {
        return None;
    }
    return v.try_reserve(n).map(|()| n).ok(); //~ swallowed-alloc-failure
}

/// Reserves room for `n` more bytes. Returns `None` if allocation fails.
pub fn try_room(v: &mut Vec<u8>, n: usize) -> Option<()> {
    v.try_reserve(n).ok()
}

// Not a tail: returned through a `Result`.
pub fn propagated(v: &mut Vec<u8>, n: usize) -> Result<(), TryReserveError> {
    v.try_reserve(n)
}

// A local returned whole is followed as it is bound.
pub fn through_local(v: &mut Vec<u8>) -> Option<()> {
    let r = v.try_reserve(1).ok(); //~ swallowed-alloc-failure
    r
}

// With `ok()?` in the same function: one finding for the signature, the tail related.
pub fn both(v: &mut Vec<u8>, n: usize) -> Option<()> {
    v.try_reserve(n).ok()?; //~ swallowed-alloc-failure
    v.try_reserve(n * 2).ok() //~ related:swallowed-alloc-failure
}
