//! The C library and libgcc_s functions the interposer calls, declared by hand (no `libc` crate:
//! the interposer is built by `rustc` alone, without cargo).
use core::ffi::{c_char, c_int, c_void};
use core::sync::atomic::{AtomicUsize, Ordering};

pub const ENOMEM: c_int = 12;
pub const EINVAL: c_int = 22;
pub const ENOSYS: c_int = 38;
pub const O_RDONLY: c_int = 0;
pub const O_WRONLY: c_int = 1;
pub const O_CREAT: c_int = 0o100;
pub const O_TRUNC: c_int = 0o1000;
pub const O_APPEND: c_int = 0o2000;
pub const O_CLOEXEC: c_int = 0o2000000;
pub const SEEK_SET: c_int = 0;
pub const SEEK_CUR: c_int = 1;
pub const F_GETFD: c_int = 1;
pub const F_SETFD: c_int = 2;
pub const F_GETFL: c_int = 3;
pub const FD_CLOEXEC: c_int = 1;
pub const O_ACCMODE: c_int = 0o3;
pub const SIGKILL: c_int = 9;
pub const WNOHANG: c_int = 1;
pub const CLOCK_MONOTONIC: c_int = 1;
/// `pidfd_open`'s number, the same on every Linux architecture (a syscall of 5.3).
pub const SYS_PIDFD_OPEN: i64 = 434;
pub const POLLIN: i16 = 1;
pub const RTLD_NEXT: *mut c_void = -1isize as *mut c_void;

/// `struct timespec`.
#[repr(C)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

/// `struct pollfd`.
#[repr(C)]
pub struct PollFd {
    pub fd: c_int,
    pub events: i16,
    pub revents: i16,
}

/// The part of `struct dl_phdr_info` the interposer reads.
#[repr(C)]
pub struct DlPhdrInfo {
    pub addr: usize,
}

#[link(name = "c")]
extern "C" {
    pub fn __libc_malloc(size: usize) -> *mut c_void;
    pub fn __libc_calloc(n: usize, size: usize) -> *mut c_void;
    pub fn __libc_realloc(p: *mut c_void, size: usize) -> *mut c_void;
    pub fn __libc_free(p: *mut c_void);
    pub fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
    pub fn __libc_valloc(size: usize) -> *mut c_void;
    pub fn __libc_pvalloc(size: usize) -> *mut c_void;
    pub fn __errno_location() -> *mut c_int;
    pub fn abort() -> !;
    pub fn pthread_self() -> usize;
    pub fn pthread_key_create(
        key: *mut u32,
        destructor: Option<unsafe extern "C" fn(*mut c_void)>,
    ) -> c_int;
    pub fn pthread_getspecific(key: u32) -> *mut c_void;
    pub fn pthread_setspecific(key: u32, value: *const c_void) -> c_int;
    pub fn pthread_atfork(
        prepare: Option<extern "C" fn()>,
        parent: Option<extern "C" fn()>,
        child: Option<extern "C" fn()>,
    ) -> c_int;
    pub fn getppid() -> c_int;
    pub fn fork() -> c_int;
    pub fn kill(pid: c_int, signal: c_int) -> c_int;
    pub fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    pub fn open(path: *const c_char, flags: c_int, ...) -> c_int;
    pub fn read(fd: c_int, buf: *mut c_void, n: usize) -> isize;
    pub fn write(fd: c_int, buf: *const c_void, n: usize) -> isize;
    pub fn lseek(fd: c_int, offset: i64, whence: c_int) -> i64;
    pub fn close(fd: c_int) -> c_int;
    pub fn dup2(old: c_int, new: c_int) -> c_int;
    pub fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    pub fn getdents64(fd: c_int, buf: *mut c_void, n: usize) -> isize;
    pub fn clock_gettime(clock: c_int, ts: *mut Timespec) -> c_int;
    pub fn nanosleep(req: *const Timespec, rem: *mut Timespec) -> c_int;
    pub fn poll(fds: *mut PollFd, n: u64, timeout_ms: c_int) -> c_int;
    pub fn syscall(number: i64, ...) -> i64;
    pub fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void;
    pub fn dl_iterate_phdr(
        callback: unsafe extern "C" fn(*mut DlPhdrInfo, usize, *mut c_void) -> c_int,
        data: *mut c_void,
    ) -> c_int;
    pub static environ: *const *const c_char;
}

/// `_Unwind_Reason_Code` values the walk uses.
pub const URC_NO_REASON: c_int = 0;
pub const URC_END_OF_STACK: c_int = 5;

#[link(name = "gcc_s")]
extern "C" {
    pub fn _Unwind_Backtrace(
        trace: unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int,
        arg: *mut c_void,
    ) -> c_int;
    pub fn _Unwind_GetIP(context: *mut c_void) -> usize;
}

/// The real `pthread_setname_np`'s signature.
pub type SetName = unsafe extern "C" fn(usize, *const c_char) -> c_int;

/// The next `pthread_setname_np` after ours, looked up once (never from the allocator).
static REAL_SETNAME: AtomicUsize = AtomicUsize::new(0);

/// The `pthread_setname_np` the interposer forwards to.
pub unsafe fn real_setname() -> Option<SetName> {
    let mut f = REAL_SETNAME.load(Ordering::Acquire);
    if f == 0 {
        f = dlsym(RTLD_NEXT, c"pthread_setname_np".as_ptr()) as usize;
        REAL_SETNAME.store(f, Ordering::Release);
    }
    if f == 0 {
        return None;
    }
    // SAFETY: `dlsym` found the C library's function of this name and signature.
    Some(core::mem::transmute::<usize, SetName>(f))
}

/// Monotonic time in milliseconds.
pub unsafe fn now_ms() -> i64 {
    let mut ts = Timespec { sec: 0, nsec: 0 };
    clock_gettime(CLOCK_MONOTONIC, &mut ts);
    ts.sec * 1000 + ts.nsec / 1_000_000
}
