//! The protocol between the interposer (`liboomcheck_preload.so`, loaded with `LD_PRELOAD`) and
//! the `oomcheck` driver that starts the program: the environment variables that configure the
//! interposer and the tags of the records it appends to its journal.
//!
//! This file is the one place these names are spelled. The interposer compiles it as one of its
//! modules; the driver includes the same file (`#[path]`), so the two cannot disagree.
//!
//! # Journal
//! The journal is a file the interposer appends lines to, each with one `write` (so records of
//! concurrent threads never interleave). Numbers are decimal, addresses hexadecimal:
//! - `N <count>`: allocations counted, written when the process exits normally.
//! - `F <index> <ip>…`: the first failed allocation, with its raw return addresses (innermost
//!   first), written before the allocation returns null.
//! - `A <index> <ip>…`: a counted allocation and its return addresses, for every counted
//!   allocation when [`STACKS`] is set.
//! - `T`: the thread named [`THREAD`] started (only the allocations of that thread count).
//! - `B`: a copy of `/proc/self/maps` follows, in `m <length>` records each followed by that
//!   many bytes of it (the load map needed to symbolize the addresses in another process).
//! - `S <index> <wait status> <timed out: 0|1> <stdout offset> <stderr offset>`: fork server: the
//!   child forked to fail allocation `index` ended (`wait status` as `waitpid` gives it, `-1`
//!   when the fork failed); its journal is `<JOURNAL>.<index>`, its stdout and stderr
//!   `<JOURNAL>.<index>.out` and `.err`, and the offsets are how far the server's own stdout
//!   and stderr (files) had been written when it forked.

/// Path of the journal file (appended to; created if missing).
pub const JOURNAL: &str = "OOMCHECK_PRELOAD_JOURNAL";
/// Process id of the driver. The interposer counts only in a process whose parent that is, so
/// that programs the swept program starts run with plain allocation.
pub const PARENT: &str = "OOMCHECK_PRELOAD_PARENT";
/// The 1-based index of the allocation to fail; unset or `0`: a counting run.
pub const FAIL: &str = "OOMCHECK_PRELOAD_FAIL";
/// `1`: fail every allocation from [`FAIL`] on (persistent mode), not only that one.
pub const PERSISTENT: &str = "OOMCHECK_PRELOAD_PERSISTENT";
/// `1`: write an `A` record (index and return addresses) for every counted allocation.
pub const STACKS: &str = "OOMCHECK_PRELOAD_STACKS";
/// Count only on the thread given this name (as `pthread_setname_np` sees it: at most 15 bytes
/// of it). Unset: every thread counts.
pub const THREAD: &str = "OOMCHECK_PRELOAD_THREAD";
/// `start-end,start-end…` (hexadecimal addresses of the main executable, before relocation):
/// count an allocation only when one of its callers lies in one of these ranges.
pub const SCOPE: &str = "OOMCHECK_PRELOAD_SCOPE";
/// The same form as [`SCOPE`]: an allocation with a caller in one of these ranges (found before
/// a caller in the scope) is not counted.
pub const EXCLUDE: &str = "OOMCHECK_PRELOAD_EXCLUDE";
/// Fork server: a comma-separated, ascending list of allocation indices. The process runs once;
/// at each listed allocation it forks, and the child fails that allocation with the journal
/// `<JOURNAL>.<index>` (and its stdout and stderr in `<JOURNAL>.<index>.out` and `.err`), while
/// the parent waits for it (at most [`TIMEOUT_MS`]) and carries on.
pub const FORK: &str = "OOMCHECK_PRELOAD_FORK";

/// Fork server: milliseconds a forked child may run before it is killed (and reported hung).
pub const TIMEOUT_MS: &str = "OOMCHECK_PRELOAD_TIMEOUT_MS";

/// Most return addresses recorded per allocation.
pub const MAX_FRAMES: usize = 64;
/// Most ranges in [`SCOPE`] and in [`EXCLUDE`].
pub const MAX_RANGES: usize = 16;
/// Most indices in a [`FORK`] list.
pub const MAX_FORK_INDICES: usize = 4096;

/// Record tag: the allocation count at exit.
pub const TAG_COUNT: u8 = b'N';
/// Record tag: the failed allocation.
pub const TAG_FAILED: u8 = b'F';
/// Record tag: a counted allocation's stack.
pub const TAG_STACK: u8 = b'A';
/// Record tag: a copy of the load map begins.
pub const TAG_MAPS_BEGIN: u8 = b'B';
/// Record tag: a piece of the load map.
pub const TAG_MAPS: u8 = b'm';
/// Record tag: the thread to count on was found.
pub const TAG_THREAD: u8 = b'T';
/// Record tag: a fork-server child.
pub const TAG_FORKED: u8 = b'S';
