// Contracts that are not dropped errors (issue 12, the "other" classes and pattern 8): the
// `GlobalAlloc` null signal, a documented `None` on allocation failure, a `fmt::Error` side
// channel, `use .. as` aliases of allocation error types, and the crate's own methods named
// like a pack's (`shrink`).
use std::alloc::{GlobalAlloc, Layout};
use std::collections::TryReserveError;
use std::collections::TryReserveError as ReserveFailed;
use std::fmt;

pub struct Pool;

impl Pool {
    fn allocate(&self, _layout: Layout) -> Result<*mut u8, TryReserveError> {
        let mut v: Vec<u8> = Vec::new();
        v.try_reserve(1)?;
        Ok(v.as_mut_ptr())
    }

    /// Returns `None` if allocation fails.
    pub fn try_block(&self, layout: Layout) -> Option<*mut u8> {
        let p = self.allocate(layout).ok()?;
        Some(p)
    }

    /// Returns `None` when the block is missing.
    pub fn block(&self, layout: Layout) -> Option<*mut u8> {
        let p = self.allocate(layout).ok()?; //~ swallowed-alloc-failure
        Some(p)
    }

    // The crate's own `shrink` (returns nothing, cannot fail), not `Allocator::shrink`.
    pub fn shrink(&mut self, _ptr: *mut u8, _old: Layout, _new: usize) {}
}

unsafe impl GlobalAlloc for Pool {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // Null is `GlobalAlloc`'s failure signal.
        self.allocate(layout).unwrap_or(std::ptr::null_mut())
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

pub fn trim(pool: &mut Pool, p: *mut u8, l: Layout) {
    pool.shrink(p, l, 0);
}

// An alias of `TryReserveError` is an allocation error: mapping to it is no remapping.
pub fn reserve(v: &mut Vec<u8>) -> Result<(), ReserveFailed> {
    v.try_reserve(8).map_err(|e| e)?;
    Ok(())
}

pub enum ParseError {
    Invalid,
    Io,
}

pub fn parse(v: &mut Vec<u8>) -> Result<(), ParseError> {
    v.try_reserve(8).map_err(|_| ParseError::Invalid)?; //~ remapped-alloc-error
    Ok(())
}

// `fmt::Write` must return `fmt::Error`, which cannot say "out of memory".
pub struct Out(String);

impl fmt::Write for Out {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.try_reserve(s.len()).map_err(|_| fmt::Error)?;
        self.0.push_str(s);
        Ok(())
    }
}
