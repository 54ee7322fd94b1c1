//! Site dedup (`OOMCHECK_DEDUP=site`, mallocfail's strategy): one extra counting run hashes the
//! return addresses of every allocation in range into a site id, and the sweep then fails only
//! the first allocation of each distinct site.
//!
//! The hash covers `depth` return addresses starting just above the allocator (the injector's
//! own frames are skipped, found once per process by the address of its counting function).
//! Addresses are only compared within the one process that hashed them, so position-independent
//! load addresses do not matter.

use crate::alloc;
use crate::frames::RawFrames;
use crate::sweep::Exec;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Default number of return addresses hashed. Test crates build without optimisation, where
/// std's own path from `Vec::push` or `format!` down to the allocator is up to ~10 frames deep:
/// 16 reaches into the caller's code.
pub(crate) const DEFAULT_DEPTH: usize = 16;

/// One distinct allocation site of the range.
pub(crate) struct Site {
    /// Index of its first allocation (the one the sweep fails).
    pub(crate) first: u64,
    /// Allocations of the range made from this site.
    pub(crate) count: u64,
    /// Full stack of the first allocation, to name the site.
    pub(crate) frames: RawFrames,
}

struct Table {
    lo: u64,
    hi: u64,
    depth: usize,
    by_hash: HashMap<u64, usize>,
    sites: Vec<Site>,
}

thread_local! {
    /// The table of the site-counting run on this thread (null outside it).
    static TABLE: Cell<*mut Table> = const { Cell::new(std::ptr::null_mut()) };
}

/// Frames between the unwinder and the allocator's caller; `usize::MAX` until calibrated.
static SKIP: AtomicUsize = AtomicUsize::new(usize::MAX);

/// The allocator's attempt hook during the site-counting run (re-entrancy guard set).
fn on_attempt(n: u64) {
    let table = TABLE.try_with(Cell::get).unwrap_or(std::ptr::null_mut());
    if table.is_null() {
        return;
    }
    // SAFETY: `count_sites` points TABLE at a table it owns for the duration of the armed run, on
    // this thread only, and nothing else borrows it meanwhile.
    let t = unsafe { &mut *table };
    if n < t.lo || n > t.hi {
        return;
    }
    let hash = site_hash(t.depth);
    match t.by_hash.get(&hash) {
        Some(&i) => t.sites[i].count += 1,
        None => {
            t.by_hash.insert(hash, t.sites.len());
            t.sites.push(Site {
                first: n,
                count: 1,
                // SAFETY: the allocator's re-entrancy guard is set (see `on_attempt`).
                frames: unsafe { RawFrames::capture() },
            });
        }
    }
}

/// Hash of `depth` return addresses above the allocator.
#[inline(never)]
fn site_hash(depth: usize) -> u64 {
    let mut skip = SKIP.load(Ordering::Relaxed);
    if skip == usize::MAX {
        // Calibrate from this very call chain, so the count matches the walk below.
        let target = alloc::armed_attempt_address();
        let mut i = 0usize;
        let mut found = 0usize;
        // SAFETY: the closure neither allocates nor panics; the allocator's re-entrancy guard is
        // set, so this thread does not re-enter; other threads walk their own stacks.
        unsafe {
            backtrace::trace_unsynchronized(|frame| {
                i += 1;
                if frame.symbol_address() as usize == target {
                    found = i;
                    return false;
                }
                i < 64
            });
        }
        skip = found;
        SKIP.store(skip, Ordering::Relaxed);
    }
    let end = skip + depth;
    let mut i = 0usize;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    // SAFETY: as above.
    unsafe {
        backtrace::trace_unsynchronized(|frame| {
            if i >= skip {
                hash =
                    (hash.rotate_left(5) ^ frame.ip() as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
            }
            i += 1;
            i < end
        });
    }
    hash
}

/// Runs the body once hashing the call site of every allocation of `lo..=hi`; returns the sites
/// in order of first appearance and the number of allocations the run made.
pub(crate) fn count_sites(exec: &Exec<'_>, lo: u64, hi: u64, depth: usize) -> (Vec<Site>, u64) {
    let mut table = Table {
        lo,
        hi,
        depth: depth.max(1),
        by_hash: HashMap::new(),
        sites: Vec::new(),
    };
    TABLE.with(|t| t.set(&mut table));
    alloc::set_attempt_hook(Some(on_attempt));
    let run = exec(0, false, false);
    alloc::set_attempt_hook(None);
    TABLE.with(|t| t.set(std::ptr::null_mut()));
    (table.sites, run.stats.count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn hash_from_a() -> u64 {
        std::hint::black_box(site_hash(8))
    }

    #[inline(never)]
    fn hash_from_b() -> u64 {
        std::hint::black_box(site_hash(8))
    }

    #[test]
    fn the_same_call_site_hashes_alike_and_different_ones_differ() {
        // Outside the allocator no frame matches the calibration target; calibrate to 0 first.
        let _ = SKIP.compare_exchange(usize::MAX, 0, Ordering::Relaxed, Ordering::Relaxed);
        let a: Vec<u64> = (0..3).map(|_| hash_from_a()).collect();
        assert_eq!(a[0], a[1]);
        assert_eq!(a[1], a[2]);
        assert_ne!(a[0], hash_from_b());
    }
}
