//! The hash of an allocation's call site: `depth` return addresses above the allocator, each
//! taken relative to the load address of the object (executable or shared library) holding it,
//! so that one site hashes alike in every process of a sweep — the test process, its re-run
//! children, a fork server and its forked processes — whatever address-space layout
//! randomisation did to each. Site dedup (`dedup.rs`) names sites with it, and the count-drift
//! check (`drift.rs`) compares the counting run's site of an index with the site a sweep child
//! failed at that index.
//!
//! The walk stops at the frame that runs the body ([`set_body_frame`]): what called the body
//! differs between the run that records the sites and the iterations (a sweep child's loop, a
//! fork server), and must not count in the hash of a shallow body's site.
//!
//! Everything here runs inside the allocator, under its re-entrancy guard: nothing allocates.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Default number of return addresses hashed. Test crates build without optimisation, where
/// std's own path from `Vec::push` or `format!` down to the allocator is up to ~10 frames deep:
/// 16 reaches into the caller's code.
pub(crate) const DEFAULT_DEPTH: usize = 16;

thread_local! {
    /// Stack address in the frame that runs the body on this thread: frames at or above it are
    /// the harness's, not hashed (`usize::MAX`: none set).
    static BODY_FRAME: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Marks `sp`, an address in the frame of the function about to run the body on this thread,
/// as where hashes of this thread's allocation sites stop.
pub(crate) fn set_body_frame(sp: usize) {
    BODY_FRAME.with(|f| f.set(sp));
}

/// Most loaded objects told apart; an address in any other hashes as "elsewhere".
const MAX_OBJECTS: usize = 64;

/// One call chain from the allocator's counting function into [`hash`]: how many frames of the
/// walk are the unwinder's, the hasher's and the allocator's own, found once per process from
/// the first walk (each chain has its own count, so each caller keeps its own `Chain`).
pub(crate) struct Chain {
    /// Frames skipped; `usize::MAX` until calibrated.
    skip: AtomicUsize,
}

impl Chain {
    /// A chain calibrated on its first hash.
    pub(crate) const fn new() -> Chain {
        Chain {
            skip: AtomicUsize::new(usize::MAX),
        }
    }

    /// A chain that skips exactly `skip` frames (tests call [`hash`] outside the allocator).
    #[cfg(test)]
    pub(crate) const fn skipping(skip: usize) -> Chain {
        Chain {
            skip: AtomicUsize::new(skip),
        }
    }
}

/// Hash of `depth` return addresses above the allocator, on the call chain `chain` from the
/// allocator's counting function at address `target`.
///
/// # Safety
/// The unwinder runs unsynchronised: the calling thread must not be able to re-enter it
/// meanwhile (inside the allocator, its re-entrancy guard must be set).
#[inline(never)]
pub(crate) unsafe fn hash(chain: &Chain, target: usize, depth: usize) -> u64 {
    let mut skip = chain.skip.load(Ordering::Relaxed);
    if skip == usize::MAX {
        // Calibrate from this very function, so that the count matches the walk below: skip
        // the frames up to the function at `target` (the allocator's counting function) and one
        // more, the allocator's own frame calling it, so that the hash starts where the
        // allocator was entered whichever of its paths reached the counting function.
        let mut i = 0usize;
        let mut found = 0usize;
        backtrace::trace_unsynchronized(|frame| {
            i += 1;
            if frame.symbol_address() as usize == target {
                found = i;
                return false;
            }
            i < 64
        });
        skip = if found == 0 { 0 } else { found + 1 };
        chain.skip.store(skip, Ordering::Relaxed);
    }
    let objects = objects();
    let body_frame = BODY_FRAME.try_with(Cell::get).unwrap_or(usize::MAX);
    let end = skip + depth.max(1);
    let mut i = 0usize;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    backtrace::trace_unsynchronized(|frame| {
        // The stack grows down: a frame whose stack pointer is at or above the body's caller's
        // is the harness's.
        if frame.sp() as usize >= body_frame {
            return false;
        }
        if i >= skip {
            let at = objects.relative(frame.ip() as usize) as u64;
            hash = (hash.rotate_left(5) ^ at).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        i += 1;
        i < end
    });
    hash
}

/// The executable segments of the objects loaded when first asked.
struct Objects {
    len: usize,
    /// `(start, end, load address)` of each executable segment.
    segments: [(usize, usize, usize); MAX_OBJECTS],
}

impl Objects {
    /// `ip` relative to the load address of the object holding it; 0 when none of the known
    /// objects holds it (a library loaded later, generated code): such frames hash alike.
    fn relative(&self, ip: usize) -> usize {
        self.segments[..self.len]
            .iter()
            .find(|(start, end, _)| (*start..*end).contains(&ip))
            .map_or(0, |(_, _, base)| ip - base)
    }
}

/// The loaded objects, read once per process (inherited by a forked process, whose layout is
/// its parent's).
fn objects() -> &'static Objects {
    static OBJECTS: OnceLock<Objects> = OnceLock::new();
    OBJECTS.get_or_init(|| {
        let mut objects = Objects {
            len: 0,
            segments: [(0, 0, 0); MAX_OBJECTS],
        };
        // SAFETY: the callback only reads the headers it is given and writes into `objects`,
        // which outlives the call; neither allocates.
        unsafe {
            libc::dl_iterate_phdr(Some(add_object), (&mut objects as *mut Objects).cast());
        }
        objects
    })
}

/// `dl_iterate_phdr`'s callback: adds the executable segments of one object.
unsafe extern "C" fn add_object(
    info: *mut libc::dl_phdr_info,
    _size: libc::size_t,
    data: *mut libc::c_void,
) -> libc::c_int {
    let objects = &mut *data.cast::<Objects>();
    let info = &*info;
    if info.dlpi_phdr.is_null() {
        return 0;
    }
    let base = info.dlpi_addr as usize;
    let headers = std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize);
    for h in headers {
        if h.p_type != libc::PT_LOAD || h.p_flags & libc::PF_X == 0 {
            continue;
        }
        if objects.len == MAX_OBJECTS {
            return 1;
        }
        let start = base.wrapping_add(h.p_vaddr as usize);
        objects.segments[objects.len] = (start, start.wrapping_add(h.p_memsz as usize), base);
        objects.len += 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    static CHAIN: Chain = Chain::skipping(0);

    #[inline(never)]
    fn hash_from_a() -> u64 {
        // SAFETY: not inside the allocator; nothing on this thread re-enters the unwinder.
        std::hint::black_box(unsafe { hash(&CHAIN, 0, 8) })
    }

    #[inline(never)]
    fn hash_from_b() -> u64 {
        // SAFETY: as above.
        std::hint::black_box(unsafe { hash(&CHAIN, 0, 8) })
    }

    #[test]
    fn the_same_call_site_hashes_alike_and_different_ones_differ() {
        let a: Vec<u64> = (0..3).map(|_| hash_from_a()).collect();
        assert_eq!(a[0], a[1]);
        assert_eq!(a[1], a[2]);
        assert_ne!(a[0], hash_from_b());
    }

    #[inline(never)]
    fn deep_hash() -> u64 {
        // SAFETY: as above.
        std::hint::black_box(unsafe { hash(&CHAIN, 0, 48) })
    }

    /// Runs `deep_hash` as the body, its frame marked as the body's caller or not.
    #[inline(never)]
    fn run_body(marked: bool) -> u64 {
        let marker = 0u8;
        if marked {
            set_body_frame(std::hint::black_box(&marker) as *const u8 as usize);
        }
        let h = deep_hash();
        set_body_frame(usize::MAX);
        std::hint::black_box(h)
    }

    #[inline(never)]
    fn from_one_harness(marked: bool) -> u64 {
        std::hint::black_box(run_body(marked))
    }

    #[inline(never)]
    fn from_another_harness(marked: bool) -> u64 {
        std::hint::black_box(run_body(marked))
    }

    #[test]
    fn the_hash_stops_at_the_frame_that_runs_the_body() {
        assert_eq!(from_one_harness(true), from_another_harness(true));
        // Without the mark, the callers of the body count.
        assert_ne!(from_one_harness(false), from_another_harness(false));
    }

    #[test]
    fn addresses_are_taken_relative_to_their_objects_load_address() {
        // This test binary's own code: its offset from the binary's load address, which
        // `dladdr` reports too, is the same in every process running the binary.
        let here = hash_from_a as fn() -> u64 as usize;
        // SAFETY: `info` is filled by `dladdr` for an address of this binary.
        let base = unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            assert_ne!(libc::dladdr(here as *const libc::c_void, &mut info), 0);
            info.dli_fbase as usize
        };
        assert_eq!(objects().relative(here), here - base);
        // libc's code too, relative to libc's own load address.
        let strlen = libc::strlen as unsafe extern "C" fn(*const libc::c_char) -> usize as usize;
        // SAFETY: as above, for an address of libc.
        let libc_base = unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            assert_ne!(libc::dladdr(strlen as *const libc::c_void, &mut info), 0);
            info.dli_fbase as usize
        };
        assert_ne!(libc_base, base, "libc is its own object");
        assert_eq!(objects().relative(strlen), strlen - libc_base);
        // An address in no object hashes as "elsewhere".
        assert_eq!(objects().relative(8), 0);
    }
}
