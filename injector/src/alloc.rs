//! The failing global allocator and the per-thread injection state it consults.
//!
//! Everything the allocator touches is a `const`-initialised thread local made of `Cell`s: no lazy
//! initialisation, no destructor, no allocation, so it is safe to use from inside `GlobalAlloc`.

use crate::frames::RawFrames;
use crate::site_hash::{self, Chain};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;

/// `State::flags`: counting (and possibly failing) this thread's allocations.
const ARMED: u8 = 1;
/// `State::flags`: counting frees without counting allocations (leak check of a result's drop).
const TRACK_FREES: u8 = 2;
/// `State::flags`: re-entrancy guard, set while the allocator itself captures a stack.
const BUSY: u8 = 4;
/// `State::flags`: the thread has not allocated yet (the initial value).
const FRESH: u8 = 8;
/// `State::flags`: the thread first allocated while a sweep child's body was armed, so the body
/// (or code it called) started it: its allocations are the uncounted ones of a documented limit.
const BORN_ARMED: u8 = 16;
/// `State::flags`: a thread of the harness itself (a sweep child's watchdog).
const HARNESS: u8 = 32;

/// Called with the 1-based index of every counted attempt of an armed thread that set it, under
/// the allocator's re-entrancy guard (its own allocations pass uncounted): site dedup hashes the
/// call site, the fork server forks. It must not unwind.
pub(crate) type AttemptHook = fn(u64);

/// Told the stack of every failed allocation whose stack is captured, under the re-entrancy
/// guard: a sweep child publishes it for its crash handlers. It must not unwind.
pub(crate) type FailureSink = fn(&RawFrames);

/// Injection state of one thread. The fast path of an allocation on a thread that is neither armed
/// nor new reads `flags` only (it is 0); a free only adds to `freed`.
struct State {
    flags: Cell<u8>,
    /// The per-attempt hook of the armed path; kept across `arm`.
    hook: Cell<Option<AttemptHook>>,
    /// Allocation attempts seen since arming.
    count: Cell<u64>,
    /// 1-based index of the attempt to fail; 0 fails nothing.
    fail_at: Cell<u64>,
    /// Fail `fail_at` and every later attempt.
    persistent: Cell<bool>,
    /// Capture the stack of failed allocations (costly: tens of µs each).
    capture: Cell<bool>,
    /// Attempts failed since arming.
    failed: Cell<u64>,
    /// Bytes allocated minus bytes freed while armed or tracking frees (frees are folded in when
    /// the stretch ends, from `freed`).
    live: Cell<i64>,
    /// Bytes this thread has freed, ever (wrapping), minus those freed by the allocator's own
    /// bookkeeping: counted unconditionally, so that `dealloc` needs no test.
    freed: Cell<u64>,
    /// `freed` when the current armed or free-tracking stretch began.
    freed_mark: Cell<u64>,
}

impl State {
    fn set_flag(&self, flag: u8, on: bool) {
        let f = self.flags.get();
        self.flags.set(if on { f | flag } else { f & !flag });
    }

    /// Whether attempt `n` of the armed run is to fail: `fail_at` itself and, in persistent mode,
    /// every later one.
    #[inline(always)]
    fn fails(&self, n: u64) -> bool {
        let at = self.fail_at.get();
        at != 0 && (n == at || (n > at && self.persistent.get()))
    }

    /// Starts a stretch whose frees count against `live`.
    fn mark_frees(&self) {
        self.freed_mark.set(self.freed.get());
    }

    /// Ends it: the bytes freed since [`State::mark_frees`] leave `live`.
    fn fold_frees(&self) {
        let since = self.freed.get().wrapping_sub(self.freed_mark.get());
        self.live.set(self.live.get().wrapping_sub(since as i64));
    }

    /// Runs the allocator's own bookkeeping: its allocations pass uncounted (`BUSY`) and its
    /// frees are forgotten.
    fn busy(&self, f: impl FnOnce()) {
        let freed = self.freed.get();
        self.set_flag(BUSY, true);
        f();
        self.set_flag(BUSY, false);
        self.freed.set(freed);
    }
}

thread_local! {
    static STATE: State = const {
        State {
            flags: Cell::new(FRESH),
            hook: Cell::new(None),
            count: Cell::new(0),
            fail_at: Cell::new(0),
            persistent: Cell::new(false),
            capture: Cell::new(false),
            failed: Cell::new(0),
            live: Cell::new(0),
            freed: Cell::new(0),
            freed_mark: Cell::new(0),
        }
    };
    static FIRST_FAILED: Cell<RawFrames> = const { Cell::new(RawFrames::EMPTY) };
    /// Site hash of the first failed allocation of the last armed run (always computed: the
    /// count-drift check compares it with the counting run's).
    static FIRST_SITE: Cell<Option<u64>> = const { Cell::new(None) };
}

/// The call chain from [`armed_attempt`] to the site hash of a failed allocation.
static FAILED_SITE: Chain = Chain::new();

/// Process-wide: where the stacks of failed allocations go besides the thread's own record (set
/// once, by a sweep child, before anything is armed).
static FAILURE_SINK: OnceLock<FailureSink> = OnceLock::new();
/// Process-wide: capture the stack of every failed allocation, whatever `State::capture` says.
static CAPTURE_ALL: AtomicBool = AtomicBool::new(false);
/// Process-wide: note allocations of threads started while a thread is armed.
static WATCH_ENABLED: AtomicBool = AtomicBool::new(false);
/// Set while an armed stretch runs and threads are watched: a thread's first allocation now makes
/// it a thread the armed code started.
static WATCHING: AtomicBool = AtomicBool::new(false);
/// Allocations on threads started by armed code, while it is armed.
static FOREIGN_ALLOCS: AtomicU64 = AtomicU64::new(0);

/// A global allocator that counts and fails allocations on request of an armed check.
///
/// Install it in the test crate; it forwards to the wrapped allocator and only behaves
/// differently on a thread where `oomcheck_injector::check` or `Check::run` is
/// sweeping. Elsewhere it costs one thread-local load and a branch per allocation and one
/// thread-local addition per free (about 5 instructions per allocate/free pair):
///
/// ```
/// #[global_allocator]
/// static ALLOC: oomcheck_injector::FailingAllocator = oomcheck_injector::FailingAllocator::system();
/// # fn main() {}
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct FailingAllocator<A = System> {
    inner: A,
}

impl FailingAllocator<System> {
    /// The failing allocator over the system allocator, usable in `#[global_allocator]`.
    pub const fn system() -> Self {
        FailingAllocator { inner: System }
    }
}

impl<A> FailingAllocator<A> {
    /// The failing allocator over another global allocator (jemalloc, mimalloc, …).
    pub const fn new(inner: A) -> Self {
        FailingAllocator { inner }
    }
}

/// What the allocator does with one attempt.
#[derive(PartialEq, Eq)]
enum Attempt {
    /// Not armed on this thread: forward, count nothing.
    Pass,
    /// Armed: forward and account the bytes.
    Counted,
    /// Armed and this attempt is the one to fail: return null.
    Fail,
}

/// This thread's flags; 0 (the fast path of every allocator method) means neither armed, nor
/// tracking frees, nor new, nor special. A destroyed thread-local reads as 0: such a late
/// allocation is simply forwarded.
#[inline(always)]
fn thread_flags() -> u8 {
    STATE.try_with(|s| s.flags.get()).unwrap_or(0)
}

/// What to do with an attempt of a thread whose flags are not 0. The common case of a sweep, an
/// armed thread without hooks making an attempt that is not to fail, is counted right here; the
/// rest goes through [`armed_attempt`], whose frame marks where a failed allocation's stack
/// leaves the injector.
#[inline(always)]
fn attempt() -> Attempt {
    STATE
        .try_with(|s| {
            let f = s.flags.get();
            if f == ARMED && s.hook.get().is_none() {
                let n = s.count.get() + 1;
                if !s.fails(n) {
                    s.count.set(n);
                    return Attempt::Counted;
                }
            }
            flagged_attempt(s, f)
        })
        .unwrap_or(Attempt::Pass)
}

/// An attempt of a thread with flags: armed, busy, new, started by an armed body, or the harness.
#[inline]
fn flagged_attempt(s: &State, mut f: u8) -> Attempt {
    if f & (ARMED | BUSY) == ARMED {
        return armed_attempt(s);
    }
    if f & (ARMED | BUSY | HARNESS) != 0 {
        return Attempt::Pass;
    }
    if f & FRESH != 0 {
        // A thread's first allocation; one made while a body is armed is the body's thread.
        f &= !FRESH;
        if WATCHING.load(Ordering::Relaxed) {
            f |= BORN_ARMED;
        }
        s.flags.set(f);
    }
    if f & BORN_ARMED != 0 && WATCHING.load(Ordering::Relaxed) {
        FOREIGN_ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
    Attempt::Pass
}

/// Marks the calling thread as the harness's own: its allocations are never counted or noted.
pub(crate) fn mark_harness_thread() {
    let _ = STATE.try_with(|s| s.set_flag(HARNESS, true));
}

/// Counts an attempt of an armed thread and decides whether to fail it.
#[inline(never)]
fn armed_attempt(s: &State) -> Attempt {
    let n = s.count.get() + 1;
    s.count.set(n);
    if let Some(hook) = s.hook.get() {
        s.busy(|| hook(n));
    }
    if s.fails(n) {
        s.failed.set(s.failed.get() + 1);
        if s.failed.get() == 1 {
            s.busy(record_site);
        }
        if s.capture.get() || CAPTURE_ALL.load(Ordering::Relaxed) {
            s.busy(|| record_failure(s.failed.get() == 1));
        }
        Attempt::Fail
    } else {
        Attempt::Counted
    }
}

/// Captures the return addresses of the allocation being failed, without allocating.
#[cold]
#[inline(never)]
fn record_failure(first: bool) {
    // SAFETY: called under the `busy` guard, which keeps this thread from re-entering the
    // unwinder; other threads trace their own stacks.
    let frames = unsafe { RawFrames::capture() };
    if first {
        let _ = FIRST_FAILED.try_with(|f| f.set(frames));
    }
    if let Some(sink) = FAILURE_SINK.get() {
        sink(&frames);
    }
}

/// Hashes the call site of the first failed allocation of the run (one stack walk of
/// [`site_hash::DEFAULT_DEPTH`] frames, without allocating).
#[cold]
#[inline(never)]
fn record_site() {
    // SAFETY: called under the `busy` guard, which keeps this thread from re-entering the
    // unwinder.
    let hash = unsafe {
        site_hash::hash(
            &FAILED_SITE,
            armed_attempt_address(),
            site_hash::DEFAULT_DEPTH,
        )
    };
    let _ = FIRST_SITE.try_with(|f| f.set(Some(hash)));
}

#[inline]
fn add_live(delta: i64) {
    let _ = STATE.try_with(|s| s.live.set(s.live.get().wrapping_add(delta)));
}

/// Counts a free of `size` bytes: no test, one thread-local addition. Whether it counted against
/// `live` is settled when the stretch ends ([`State::fold_frees`]).
#[inline(always)]
fn freed(size: usize) {
    let _ = STATE.try_with(|s| s.freed.set(s.freed.get().wrapping_add(size as u64)));
}

// SAFETY: every method forwards to the inner allocator with the caller's arguments, or returns
// null (always allowed for `alloc`, `alloc_zeroed` and `realloc`, which leaves the block intact).
//
// Each allocating method is a flags test and a tail call: on a thread with no flags (every thread
// that is not sweeping) it costs one thread-local load and one branch over the inner allocator,
// with no register saving; everything else is out of line. A free costs one thread-local addition.
unsafe impl<A: GlobalAlloc> GlobalAlloc for FailingAllocator<A> {
    #[inline(always)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if thread_flags() == 0 {
            self.inner.alloc(layout)
        } else {
            self.flagged_alloc(layout, false)
        }
    }

    #[inline(always)]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if thread_flags() == 0 {
            self.inner.alloc_zeroed(layout)
        } else {
            self.flagged_alloc(layout, true)
        }
    }

    #[inline(always)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        freed(layout.size());
        self.inner.dealloc(ptr, layout)
    }

    #[inline(always)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if thread_flags() == 0 {
            self.inner.realloc(ptr, layout, new_size)
        } else {
            self.flagged_realloc(ptr, layout, new_size)
        }
    }
}

impl<A: GlobalAlloc> FailingAllocator<A> {
    /// `alloc` or `alloc_zeroed` on a thread with flags.
    ///
    /// # Safety
    /// As [`GlobalAlloc::alloc`].
    #[inline(never)]
    unsafe fn flagged_alloc(&self, layout: Layout, zeroed: bool) -> *mut u8 {
        let inner = |layout| {
            if zeroed {
                self.inner.alloc_zeroed(layout)
            } else {
                self.inner.alloc(layout)
            }
        };
        match attempt() {
            Attempt::Fail => null_mut(),
            Attempt::Pass => inner(layout),
            Attempt::Counted => {
                let p = inner(layout);
                if !p.is_null() {
                    add_live(layout.size() as i64);
                }
                p
            }
        }
    }

    /// `realloc` on a thread with flags.
    ///
    /// # Safety
    /// As [`GlobalAlloc::realloc`].
    #[inline(never)]
    unsafe fn flagged_realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match attempt() {
            Attempt::Fail => null_mut(),
            Attempt::Pass => {
                let p = self.inner.realloc(ptr, layout, new_size);
                if !p.is_null() {
                    // A block allocated while armed may be resized after disarming, while the
                    // result of a run is dropped under free tracking.
                    let _ = STATE.try_with(|s| {
                        if s.flags.get() & (TRACK_FREES | BUSY) == TRACK_FREES {
                            add_live(new_size as i64 - layout.size() as i64);
                        }
                    });
                }
                p
            }
            Attempt::Counted => {
                let p = self.inner.realloc(ptr, layout, new_size);
                if !p.is_null() {
                    add_live(new_size as i64 - layout.size() as i64);
                }
                p
            }
        }
    }
}

/// What one armed stretch of a thread did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    /// Allocation attempts.
    pub(crate) count: u64,
    /// Attempts that were failed.
    pub(crate) failed: u64,
}

/// Starts counting this thread's allocations, failing attempt `fail_at` (1-based, 0 = none) and,
/// when `persistent`, every later one; with `capture`, failed allocations record their stack.
pub(crate) fn arm(fail_at: u64, persistent: bool, capture: bool) {
    FIRST_FAILED.with(|f| f.set(RawFrames::EMPTY));
    FIRST_SITE.with(|f| f.set(None));
    STATE.with(|s| {
        s.count.set(0);
        s.failed.set(0);
        s.live.set(0);
        s.mark_frees();
        s.fail_at.set(fail_at);
        s.persistent.set(persistent);
        s.capture.set(capture);
        s.flags.set(ARMED);
    });
    if WATCH_ENABLED.load(Ordering::Relaxed) {
        WATCHING.store(true, Ordering::Relaxed);
    }
}

/// Sets (or with `None` clears) the per-attempt hook of this thread's armed runs.
pub(crate) fn set_attempt_hook(hook: Option<AttemptHook>) {
    STATE.with(|s| s.hook.set(hook));
}

/// Sends the stack of every failed allocation whose stack is captured to `sink` as well, in this
/// process from now on. Only the first sink set counts (a process sets one, before arming).
pub(crate) fn set_failure_sink(sink: FailureSink) {
    let _ = FAILURE_SINK.set(sink);
}

/// Captures the stack of every failed allocation from now on (`true`), on every thread, or only
/// where the armed run asked for it (`false`).
pub(crate) fn capture_every_failure(on: bool) {
    CAPTURE_ALL.store(on, Ordering::Relaxed);
}

/// Notes, from now on, allocations made on threads that started while a thread was armed (a
/// body handing work to threads it spawns); see [`foreign_allocs`].
pub(crate) fn watch_threads() {
    WATCH_ENABLED.store(true, Ordering::Relaxed);
}

/// Allocations made, while a thread was armed, on threads started during an armed run (counted
/// once [`watch_threads`] was called).
pub(crate) fn foreign_allocs() -> u64 {
    FOREIGN_ALLOCS.load(Ordering::Relaxed)
}

/// In a process just forked at attempt `n` of an armed run: fail attempt `n` (and, when
/// `persistent`, every later one), capture the stacks of failed attempts, and stop the hook.
pub(crate) fn fail_from_here(n: u64, persistent: bool) {
    STATE.with(|s| {
        s.hook.set(None);
        s.fail_at.set(n);
        s.persistent.set(persistent);
        s.capture.set(true);
    });
}

/// The address of the allocator's counting function: frames up to it are the injector's own.
pub(crate) fn armed_attempt_address() -> usize {
    armed_attempt as fn(&State) -> Attempt as usize
}

/// Stops counting and failing on this thread (idempotent) and returns what the run did.
pub(crate) fn disarm() -> Stats {
    WATCHING.store(false, Ordering::Relaxed);
    STATE.with(|s| {
        if s.flags.get() & ARMED != 0 {
            s.fold_frees();
            s.set_flag(ARMED, false);
        }
        Stats {
            count: s.count.get(),
            failed: s.failed.get(),
        }
    })
}

/// Runs `f` (dropping a run's result) while counting frees, and returns the live bytes left over
/// from the last armed run afterwards.
pub(crate) fn live_after(f: impl FnOnce()) -> i64 {
    STATE.with(|s| {
        s.mark_frees();
        s.set_flag(TRACK_FREES, true);
    });
    f();
    STATE.with(|s| {
        s.set_flag(TRACK_FREES, false);
        s.fold_frees();
        s.live.get()
    })
}

/// Stack of the first failed allocation of the last armed run (captured only when asked for).
pub(crate) fn failed_frames() -> RawFrames {
    FIRST_FAILED.with(Cell::get)
}

/// Site hash ([`site_hash::hash`]) of the first failed allocation of the last armed run, if one
/// failed.
pub(crate) fn failed_site() -> Option<u64> {
    FIRST_SITE.with(Cell::get)
}

/// Whether the global allocator of this process is a [`FailingAllocator`]: arms this thread,
/// makes one allocation and looks whether it was counted.
pub(crate) fn installed() -> bool {
    arm(0, false, false);
    let b = std::hint::black_box(Box::new(std::hint::black_box(0x5eed_u64)));
    drop(std::hint::black_box(b));
    disarm().count > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Used directly (this test binary's global allocator is `System`), so that only the blocks
    /// the tests make go through it.
    static A: FailingAllocator = FailingAllocator::system();

    /// Runs `f` on a fresh thread: its injection state starts clean.
    fn on_fresh_thread(f: impl FnOnce() + Send + 'static) {
        std::thread::spawn(f).join().expect("test thread");
    }

    fn block(size: usize) -> (*mut u8, Layout) {
        let l = Layout::from_size_align(size, 8).expect("layout");
        // SAFETY: non-zero size.
        let p = unsafe { A.alloc(l) };
        assert!(!p.is_null());
        (p, l)
    }

    fn free((p, l): (*mut u8, Layout)) {
        // SAFETY: `p` came from `A` with layout `l`.
        unsafe { A.dealloc(p, l) }
    }

    #[test]
    fn frees_count_only_while_armed_or_tracking() {
        on_fresh_thread(|| {
            let before = block(100);
            arm(0, false, false);
            let kept = block(64);
            free(block(32));
            // A block from before the run, freed during it, counts against the run.
            free(before);
            assert_eq!(disarm().count, 2);
            // Disarmed and not tracking: neither counted nor freed.
            free(block(1000));
            assert_eq!(live_after(|| {}), 64 - 100);
            // Dropping the result under tracking frees what the run kept.
            assert_eq!(live_after(|| free(kept)), -100);
            // Disarming twice folds the run's frees once.
            arm(0, false, false);
            let leaked = block(16);
            free(block(8));
            disarm();
            disarm();
            assert_eq!(live_after(|| {}), 16);
            free(leaked);
        });
    }

    #[test]
    fn frees_of_the_allocators_own_bookkeeping_are_forgotten() {
        on_fresh_thread(|| {
            let hook_block = block(48);
            arm(0, false, false);
            STATE.with(|s| s.busy(|| free(hook_block)));
            disarm();
            assert_eq!(live_after(|| {}), 0);
        });
    }

    #[test]
    fn a_resized_block_counts_its_growth_while_tracking() {
        on_fresh_thread(|| {
            arm(0, false, false);
            let (p, l) = block(10);
            disarm();
            // SAFETY: `p` came from `A` with layout `l`.
            let q = unsafe { A.realloc(p, l, 30) };
            assert!(!q.is_null());
            let grown = Layout::from_size_align(30, 8).expect("layout");
            // Resized while neither armed nor tracking: the run still left its 10 bytes.
            assert_eq!(live_after(|| {}), 10);
            // SAFETY: as above.
            let r = live_after(|| unsafe {
                let r = A.realloc(q, grown, 50);
                A.dealloc(r, Layout::from_size_align(50, 8).expect("layout"));
            });
            assert_eq!(r, 10 + 20 - 50);
        });
    }
}
