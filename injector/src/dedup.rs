//! Site dedup (`OOMCHECK_DEDUP=site`, mallocfail's strategy): one extra counting run hashes the
//! return addresses of every allocation in range into a site id, and the sweep then fails only
//! the first allocation of each distinct site.
//!
//! A site is the hash of `depth` return addresses starting just above the allocator
//! (`site_hash.rs`, shared with the count-drift check).

use crate::frames::RawFrames;
use crate::site_run::{self, SiteVisitor};
use crate::sweep::Exec;
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

/// The sites of `lo..=hi` found so far by the site-counting run.
struct Table {
    lo: u64,
    hi: u64,
    by_hash: HashMap<u64, usize>,
    sites: Vec<Site>,
}

impl SiteVisitor for Table {
    fn wants(&mut self, n: u64) -> bool {
        (self.lo..=self.hi).contains(&n)
    }

    fn visit(&mut self, n: u64, hash: u64) {
        match self.by_hash.get(&hash) {
            Some(&i) => self.sites[i].count += 1,
            None => {
                self.by_hash.insert(hash, self.sites.len());
                self.sites.push(Site {
                    first: n,
                    count: 1,
                    // SAFETY: called inside the allocator with its re-entrancy guard set
                    // (`SiteVisitor`).
                    frames: unsafe { RawFrames::capture() },
                });
            }
        }
    }
}

/// Runs the body once hashing the call site of every allocation of `lo..=hi`; returns the sites
/// in order of first appearance and the number of allocations the run made.
pub(crate) fn count_sites(exec: &Exec<'_>, lo: u64, hi: u64, depth: usize) -> (Vec<Site>, u64) {
    let mut table = Table {
        lo,
        hi,
        by_hash: HashMap::new(),
        sites: Vec::new(),
    };
    let run = site_run::hash_sites(exec, depth, &mut table);
    (table.sites, run.stats.count)
}
