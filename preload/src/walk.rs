//! Stacks without allocating: `_Unwind_Backtrace` into a fixed array, and the scope test that
//! decides whether an allocation counts.
use core::ffi::{c_int, c_void};

use crate::protocol::{MAX_FRAMES, MAX_RANGES};
use crate::sys;

/// Raw return addresses, innermost first (the interposer's own frames included: the driver
/// drops them by module when it symbolizes).
pub struct Stack {
    pub ips: [usize; MAX_FRAMES],
    pub len: usize,
}

impl Stack {
    pub const fn new() -> Stack {
        Stack {
            ips: [0; MAX_FRAMES],
            len: 0,
        }
    }

    pub fn frames(&self) -> &[usize] {
        &self.ips[..self.len]
    }
}

/// Address ranges `[start, end)`, already relocated.
pub struct Ranges {
    pairs: [(usize, usize); MAX_RANGES],
    len: usize,
}

impl Ranges {
    pub const fn new() -> Ranges {
        Ranges {
            pairs: [(0, 0); MAX_RANGES],
            len: 0,
        }
    }

    pub fn push(&mut self, start: usize, end: usize) {
        if self.len < MAX_RANGES {
            self.pairs[self.len] = (start, end);
            self.len += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn contains(&self, addr: usize) -> bool {
        self.pairs[..self.len]
            .iter()
            .any(|&(s, e)| s <= addr && addr < e)
    }
}

/// Whether an allocation is inside the scope the driver asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    In,
    Out,
}

struct Walk<'a> {
    stack: &'a mut Stack,
    scope: &'a Ranges,
    exclude: &'a Ranges,
    found: Option<Scope>,
}

unsafe extern "C" fn step(context: *mut c_void, arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `Walk` that `walk` passed, alive for the whole walk.
    let w = &mut *(arg as *mut Walk<'_>);
    let ip = sys::_Unwind_GetIP(context);
    if ip == 0 {
        return sys::URC_END_OF_STACK;
    }
    if w.stack.len < MAX_FRAMES {
        w.stack.ips[w.stack.len] = ip;
        w.stack.len += 1;
    }
    // A return address may be one past its function when the call was its last instruction.
    let at = ip - 1;
    if w.exclude.contains(at) {
        w.found = Some(Scope::Out);
        return sys::URC_END_OF_STACK;
    }
    if w.scope.contains(at) {
        w.found = Some(Scope::In);
        return sys::URC_END_OF_STACK;
    }
    if w.scope.is_empty() && w.stack.len == MAX_FRAMES {
        return sys::URC_END_OF_STACK;
    }
    sys::URC_NO_REASON
}

/// Walks the calling thread's stack into `stack`. With a non-empty `scope`, the allocation is
/// in it when a caller lies in `scope` before any caller lies in `exclude` (the walk stops at
/// whichever comes first); with an empty one, every allocation is in scope unless excluded.
pub unsafe fn walk(stack: &mut Stack, scope: &Ranges, exclude: &Ranges) -> Scope {
    stack.len = 0;
    let mut w = Walk {
        stack,
        scope,
        exclude,
        found: None,
    };
    sys::_Unwind_Backtrace(step, &mut w as *mut Walk<'_> as *mut c_void);
    match w.found {
        Some(s) => s,
        None if scope.is_empty() => Scope::In,
        None => Scope::Out,
    }
}
