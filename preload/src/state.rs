//! The interposer's state: the configuration read once in the constructor, the counter, and the
//! decision taken at each allocation.
use core::ffi::{c_char, c_int, c_void};
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};

use crate::config::{config, config_mut, Config, Decision};
use crate::fork;
use crate::protocol::{self, MAX_FORK_INDICES, TAG_FAILED, TAG_STACK};
use crate::record::{self, Line};
use crate::sys;
use crate::walk::{self, Ranges, Scope, Stack};

/// Counting and failing are on (the constructor found a configuration from our driver).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The thread counted on (`pthread_self`), once it has been named; unused when every thread
/// counts.
static TARGET: AtomicUsize = AtomicUsize::new(0);
/// Allocations counted so far.
static COUNT: AtomicU64 = AtomicU64::new(0);
/// The key of the per-thread "inside the interposer" flag, plus one (`0`: no key).
static BUSY_KEY: AtomicUsize = AtomicUsize::new(0);

/// The value of environment variable `name`, without its terminating NUL (which follows it).
unsafe fn env(name: &str) -> Option<&'static [u8]> {
    let mut p = sys::environ;
    if p.is_null() {
        return None;
    }
    while !(*p).is_null() {
        let entry = *p as *const u8;
        let mut len = 0;
        while *entry.add(len) != 0 {
            len += 1;
        }
        let entry = core::slice::from_raw_parts(entry, len);
        if let Some(value) = entry
            .strip_prefix(name.as_bytes())
            .and_then(|rest| rest.strip_prefix(b"="))
        {
            return Some(value);
        }
        p = p.add(1);
    }
    None
}

fn parse_number(s: &[u8], radix: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        let d = (b as char).to_digit(radix)?;
        n = n.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// `start-end,…` in hexadecimal, relocated by `bias`.
fn parse_ranges(s: &[u8], bias: usize, into: &mut Ranges) {
    for part in s.split(|&b| b == b',') {
        let mut ends = part.splitn(2, |&b| b == b'-');
        let (Some(a), Some(b)) = (ends.next(), ends.next()) else {
            continue;
        };
        if let (Some(a), Some(b)) = (parse_number(a, 16), parse_number(b, 16)) {
            into.push(bias.wrapping_add(a as usize), bias.wrapping_add(b as usize));
        }
    }
}

/// The main executable's load bias (the first object `dl_iterate_phdr` reports).
unsafe fn main_bias() -> usize {
    unsafe extern "C" fn first(info: *mut sys::DlPhdrInfo, _: usize, out: *mut c_void) -> c_int {
        *(out as *mut usize) = (*info).addr;
        1
    }
    let mut bias = 0usize;
    sys::dl_iterate_phdr(first, &mut bias as *mut usize as *mut c_void);
    bias
}

/// Forked children of the program (not of the fork server) allocate normally.
extern "C" fn forked_child() {
    if !fork::forking() {
        ACTIVE.store(false, Relaxed);
    }
}

pub unsafe fn init() {
    let Some(parent) = env(protocol::PARENT).and_then(|v| parse_number(v, 10)) else {
        return;
    };
    if parent != sys::getppid() as u64 {
        return;
    }
    let c = config_mut();
    if let Some(path) = env(protocol::JOURNAL) {
        c.journal_path = path;
        c.journal = sys::open(
            path.as_ptr().cast(),
            sys::O_WRONLY | sys::O_APPEND | sys::O_CREAT | sys::O_CLOEXEC,
            0o600 as c_int,
        );
    }
    c.fail_at = env(protocol::FAIL)
        .and_then(|v| parse_number(v, 10))
        .unwrap_or(0);
    c.persistent = env(protocol::PERSISTENT) == Some(b"1");
    c.stacks = env(protocol::STACKS) == Some(b"1");
    if let Some(name) = env(protocol::THREAD) {
        c.thread = &name[..name.len().min(15)];
    }
    let bias = main_bias();
    if let Some(s) = env(protocol::SCOPE) {
        parse_ranges(s, bias, &mut c.scope);
    }
    if let Some(s) = env(protocol::EXCLUDE) {
        parse_ranges(s, bias, &mut c.exclude);
    }
    if let Some(list) = env(protocol::FORK) {
        for n in list
            .split(|&b| b == b',')
            .filter_map(|n| parse_number(n, 10))
        {
            if c.fork_len < MAX_FORK_INDICES {
                c.fork[c.fork_len] = n;
                c.fork_len += 1;
            }
        }
    }
    if let Some(ms) = env(protocol::TIMEOUT_MS).and_then(|v| parse_number(v, 10)) {
        c.timeout_ms = ms as i64;
    }
    let mut key = 0u32;
    if sys::pthread_key_create(&mut key, None) == 0 {
        BUSY_KEY.store(key as usize + 1, Relaxed);
    }
    sys::pthread_atfork(None, None, Some(forked_child));
    // The first walk makes libgcc_s find and cache the unwind tables, which allocates: done
    // here, later walks allocate nothing.
    let mut stack = Stack::new();
    walk::walk(&mut stack, &Ranges::new(), &Ranges::new());
    ACTIVE.store(true, Relaxed);
}

pub unsafe fn fini() {
    if !ACTIVE.load(Relaxed) {
        return;
    }
    let c = config();
    record::count(c.journal, COUNT.load(Relaxed));
    if c.stacks {
        record::maps(c.journal);
    }
}

/// `pthread_setname_np` was called: the thread given the configured name is the one to count.
pub unsafe fn thread_named(thread: usize, name: *const c_char) {
    let c = config();
    if !ACTIVE.load(Relaxed) || c.thread.is_empty() || TARGET.load(Relaxed) != 0 {
        return;
    }
    let name = name as *const u8;
    for (i, &want) in c.thread.iter().enumerate() {
        if *name.add(i) != want {
            return;
        }
    }
    if *name.add(c.thread.len()) == 0 {
        TARGET.store(thread, Relaxed);
        let mut l = Line::<2>::new();
        l.byte(protocol::TAG_THREAD).byte(b'\n').write(c.journal);
    }
}

/// Whether this thread is already inside the interposer (the unwinder or a record allocating).
unsafe fn busy() -> bool {
    match BUSY_KEY.load(Relaxed) {
        0 => false,
        k => !sys::pthread_getspecific(k as u32 - 1).is_null(),
    }
}

unsafe fn set_busy(on: bool) {
    if let k @ 1.. = BUSY_KEY.load(Relaxed) {
        let v: *const c_void = if on {
            core::ptr::NonNull::<c_void>::dangling().as_ptr()
        } else {
            core::ptr::null()
        };
        sys::pthread_setspecific(k as u32 - 1, v);
    }
}

/// The allocator's question: pass this call through, or fail it?
#[inline(always)]
pub unsafe fn decide() -> Decision {
    if !ACTIVE.load(Relaxed) {
        return Decision::Pass;
    }
    let c = config();
    if !c.thread.is_empty() {
        let target = TARGET.load(Relaxed);
        if target == 0 || target != sys::pthread_self() {
            return Decision::Pass;
        }
    }
    if busy() {
        return Decision::Pass;
    }
    set_busy(true);
    let d = count_one(c);
    set_busy(false);
    d
}

unsafe fn count_one(c: &Config) -> Decision {
    let mut stack = Stack::new();
    let walked = !c.scope.is_empty() || c.stacks;
    if walked && walk::walk(&mut stack, &c.scope, &c.exclude) == Scope::Out {
        return Decision::Pass;
    }
    let index = COUNT.fetch_add(1, Relaxed) + 1;
    if c.stacks {
        record::stack(c.journal, TAG_STACK, index, &stack);
    }
    if c.fork_next < c.fork_len && c.fork[c.fork_next] == index {
        return fork::fork_at(index, &mut stack, walked);
    }
    let fail_at = c.fail_at;
    if fail_at == 0 || index < fail_at || (index > fail_at && !c.persistent) {
        return Decision::Pass;
    }
    if index == fail_at {
        if !walked {
            walk::walk(&mut stack, &c.scope, &c.exclude);
        }
        record::stack(c.journal, TAG_FAILED, index, &stack);
        record::maps(c.journal);
    }
    Decision::Fail
}
