//! One run of the body with the call site of every allocation attempt hashed
//! ([`site_hash::hash`]) and handed to a [`SiteVisitor`]: the site-counting run of `--dedup site`
//! (`dedup.rs`) and the recording run of the count-drift check (`drift.rs`).
//!
//! The allocator's attempt hook is a plain function pointer (it runs inside the allocator), so
//! the visitor of the run in progress is reached through a thread-local pointer, set only for
//! the duration of [`hash_sites`] on the thread that runs the body.

use crate::alloc;
use crate::site_hash::{self, Chain};
use crate::sweep::{Exec, RunData};
use std::cell::Cell;

/// What a site-hashing run does with each allocation attempt. Both methods run inside the
/// allocator with its re-entrancy guard set: they may allocate (those allocations go straight
/// to the system allocator, uncounted) but must not panic.
pub(crate) trait SiteVisitor {
    /// Whether attempt `n` is wanted: hashing costs a stack walk, so unwanted ones are skipped.
    fn wants(&mut self, n: u64) -> bool;
    /// Attempt `n`'s site hash.
    fn visit(&mut self, n: u64, hash: u64);
}

/// The visitor of the run in progress, type-erased.
#[derive(Clone, Copy)]
struct Active {
    visitor: *mut (),
    depth: usize,
    wants: unsafe fn(*mut (), u64) -> bool,
    visit: unsafe fn(*mut (), u64, u64),
}

thread_local! {
    /// The visitor of the site-hashing run on this thread (`None` outside it).
    static ACTIVE: Cell<Option<Active>> = const { Cell::new(None) };
}

/// The call chain from the allocator's counting function through [`on_attempt`].
static CHAIN: Chain = Chain::new();

/// Runs the body once (nothing failed) offering every allocation attempt to `visitor`, its
/// site hashed over `depth` return addresses; returns the run.
pub(crate) fn hash_sites<V: SiteVisitor>(
    exec: &Exec<'_>,
    depth: usize,
    visitor: &mut V,
) -> RunData {
    /// # Safety
    /// `v` is the `&mut V` [`hash_sites`] erased, alive for the run.
    unsafe fn wants<V: SiteVisitor>(v: *mut (), n: u64) -> bool {
        // SAFETY: see the function's contract.
        unsafe { (*v.cast::<V>()).wants(n) }
    }
    /// # Safety
    /// As for `wants`.
    unsafe fn visit<V: SiteVisitor>(v: *mut (), n: u64, hash: u64) {
        // SAFETY: see the function's contract.
        unsafe { (*v.cast::<V>()).visit(n, hash) }
    }
    let active = Active {
        visitor: (visitor as *mut V).cast(),
        depth: depth.max(1),
        wants: wants::<V>,
        visit: visit::<V>,
    };
    ACTIVE.with(|a| a.set(Some(active)));
    alloc::set_attempt_hook(Some(on_attempt));
    let run = exec(0, false, false);
    alloc::set_attempt_hook(None);
    ACTIVE.with(|a| a.set(None));
    run
}

/// The allocator's attempt hook during a site-hashing run (re-entrancy guard set).
fn on_attempt(n: u64) {
    let Some(a) = ACTIVE.try_with(Cell::get).ok().flatten() else {
        return;
    };
    // SAFETY: `hash_sites` set ACTIVE from a visitor it borrows mutably for the whole armed run,
    // on this thread only, and nothing else touches the visitor meanwhile; the allocator's
    // re-entrancy guard is set (see `AttemptHook`), so the stack walk does not re-enter.
    unsafe {
        if !(a.wants)(a.visitor, n) {
            return;
        }
        let hash = site_hash::hash(&CHAIN, alloc::armed_attempt_address(), a.depth);
        (a.visit)(a.visitor, n, hash);
    }
}
