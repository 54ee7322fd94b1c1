// Allocation results that flow through a closure's return value (issue 12, pattern 7).
use std::collections::TryReserveError;

pub struct Limiter;

impl Limiter {
    pub fn increase_usage(&self, _n: usize) -> Result<(), ()> {
        Ok(())
    }
}

// lol_html's arena: the reservation is the closure's tail, `.is_some()` then `debug_assert!`
// turns its failure into a panic; no error channel, so the warn rule.
pub fn arena(limiter: &Limiter, n: usize) -> Vec<u8> {
    let mut data = Vec::new();
    let preallocated = limiter
        .increase_usage(n)
        .ok()
        .and_then(|()| data.try_reserve_exact(n).ok()) //~ alloc-panic-without-error-channel
        .is_some();
    debug_assert!(preallocated, "preallocation failed");
    data
}

pub fn with_channel(v: &mut Vec<u8>, slot: Option<u8>) -> Result<(), TryReserveError> {
    slot.and_then(|_| v.try_reserve(1).ok()).unwrap(); //~ panic-on-alloc-failure
    let _ = slot.ok_or(()).or_else(|_| v.try_reserve(2)); //~ discarded-alloc-result
    let _ = slot.and_then(|_| {
        let n = 3;
        v.try_reserve(n).ok() //~ discarded-alloc-result
    });
    // Adapters after the closure are seen through.
    slot.ok_or(()).ok().and_then(|_| v.try_reserve(4).ok()).map(|_| ()); //~ discarded-alloc-result
    // Propagated: the closure's result reaches `?`.
    slot.ok_or(()).map_err(|_| unreachable!()).and_then(|_| v.try_reserve(5))?;
    // The closure's allocation is not its return value.
    let _ = slot.and_then(|x| {
        v.try_reserve(6)?;
        Some(x)
    });
    Ok(())
}
