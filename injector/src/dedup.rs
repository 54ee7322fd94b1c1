//! Site dedup (`OOMCHECK_DEDUP=site`, mallocfail's strategy): one extra counting run hashes the
//! return addresses of every allocation in range into a site id, and the sweep then fails only
//! the first allocation of each distinct site.
//!
//! A site is the hash of `depth` return addresses starting just above the allocator
//! (`site_hash.rs`, shared with the count-drift check).

use crate::alloc;
use crate::frames::RawFrames;
use crate::site_hash::{self, Chain};
use crate::sweep::Exec;
use std::cell::Cell;
use std::collections::HashMap;

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

/// The call chain from the allocator's counting function through this module's hook.
static CHAIN: Chain = Chain::new();

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
    // SAFETY: the allocator's re-entrancy guard is set (see `AttemptHook`).
    let hash = unsafe { site_hash::hash(&CHAIN, alloc::armed_attempt_address(), t.depth) };
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
