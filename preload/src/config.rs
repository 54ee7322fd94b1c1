//! The interposer's configuration: read once by the constructor (`state::init`) while the
//! process is single-threaded, read-only afterwards; and the decision type every allocation gets.
use core::cell::UnsafeCell;
use core::ffi::c_int;

use crate::protocol::MAX_FORK_INDICES;
use crate::walk::Ranges;

/// What the allocator does with one call.
pub enum Decision {
    Pass,
    Fail,
}

/// Written by the constructor while the process is still single-threaded (and by a fork-server
/// child, single-threaded too), read-only everywhere else.
pub struct Config {
    /// The journal's file descriptor (`-1`: none).
    pub journal: c_int,
    /// The journal's path (a C string in the environment), for fork-server children's journals.
    pub journal_path: &'static [u8],
    /// The index to fail (`0`: none).
    pub fail_at: u64,
    pub persistent: bool,
    pub stacks: bool,
    /// The thread name to count on (empty: every thread), cut as `pthread_setname_np` cuts it.
    pub thread: &'static [u8],
    pub scope: Ranges,
    pub exclude: Ranges,
    /// Fork server: the indices to fork at, ascending, and the next one's position.
    pub fork: [u64; MAX_FORK_INDICES],
    pub fork_len: usize,
    pub fork_next: usize,
    pub timeout_ms: i64,
}

struct Global(UnsafeCell<Config>);

// SAFETY: see `Config`: written only while a single thread runs.
unsafe impl Sync for Global {}

static CONFIG: Global = Global(UnsafeCell::new(Config {
    journal: -1,
    journal_path: &[],
    fail_at: 0,
    persistent: false,
    stacks: false,
    thread: &[],
    scope: Ranges::new(),
    exclude: Ranges::new(),
    fork: [0; MAX_FORK_INDICES],
    fork_len: 0,
    fork_next: 0,
    timeout_ms: 10_000,
}));

pub fn config() -> &'static Config {
    // SAFETY: see `Config`.
    unsafe { &*CONFIG.0.get() }
}

#[allow(clippy::mut_from_ref)]
pub unsafe fn config_mut() -> &'static mut Config {
    &mut *CONFIG.0.get()
}
