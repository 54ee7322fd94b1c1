//! `liboomcheck_preload.so`: an allocator interposed with `LD_PRELOAD` that counts a program's
//! allocations and fails the one the driver asks for.
//!
//! It exports the C allocation functions (`malloc`, `calloc`, `realloc`, `reallocarray`, `free`,
//! `posix_memalign`, `aligned_alloc`, `memalign`, `valloc`, `pvalloc`) and forwards each to
//! glibc's own entry point (`__libc_malloc`, …), so there is no `dlsym` on the allocation path.
//! It never allocates itself: its state is a few atomics, its records are formatted in stack
//! buffers and written with one `write` each, and stacks are walked with `_Unwind_Backtrace`
//! (libgcc_s), warmed once in the constructor so that later walks allocate nothing.
//!
//! The driver configures it through environment variables and reads its journal; both are
//! described in [`protocol`]. Built by the `oomcheck` crate's build script with
//! `rustc --crate-type cdylib -C panic=abort` and embedded in the `oomcheck` binary.
#![no_std]
// Each exported function has the contract of its C namesake (`malloc(3)`, …): no `# Safety`
// section repeats the C standard.
#![allow(clippy::missing_safety_doc)]

mod config;
mod fork;
mod protocol;
mod record;
mod state;
mod sys;
mod walk;

use core::ffi::{c_char, c_int, c_void};

use config::Decision;

/// A call of the allocator that may fail: decide, and set `errno` when it does.
#[inline(always)]
unsafe fn fails() -> bool {
    match state::decide() {
        Decision::Pass => false,
        Decision::Fail => {
            *sys::__errno_location() = sys::ENOMEM;
            true
        }
    }
}

/// `malloc(3)`.
#[no_mangle]
pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    if fails() {
        return core::ptr::null_mut();
    }
    sys::__libc_malloc(size)
}

/// `calloc(3)`.
#[no_mangle]
pub unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    if fails() {
        return core::ptr::null_mut();
    }
    sys::__libc_calloc(n, size)
}

/// `realloc(3)`. `realloc(p, 0)` frees `p` and is not an allocation attempt.
#[no_mangle]
pub unsafe extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    if (size != 0 || p.is_null()) && fails() {
        return core::ptr::null_mut();
    }
    sys::__libc_realloc(p, size)
}

/// `reallocarray(3)`: `realloc` with an overflow check.
#[no_mangle]
pub unsafe extern "C" fn reallocarray(p: *mut c_void, n: usize, size: usize) -> *mut c_void {
    let Some(bytes) = n.checked_mul(size) else {
        *sys::__errno_location() = sys::ENOMEM;
        return core::ptr::null_mut();
    };
    realloc(p, bytes)
}

/// `free(3)`: never fails, never counted.
#[no_mangle]
pub unsafe extern "C" fn free(p: *mut c_void) {
    sys::__libc_free(p)
}

/// `posix_memalign(3)`.
#[no_mangle]
pub unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int {
    // A power of two is a multiple of the pointer size when it is at least that large.
    if !align.is_power_of_two() || align < core::mem::size_of::<usize>() {
        return sys::EINVAL;
    }
    if fails() {
        return sys::ENOMEM;
    }
    let p = sys::__libc_memalign(align, size);
    if p.is_null() {
        return sys::ENOMEM;
    }
    *out = p;
    0
}

/// `aligned_alloc(3)`.
#[no_mangle]
pub unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    memalign(align, size)
}

/// `memalign(3)`.
#[no_mangle]
pub unsafe extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    if fails() {
        return core::ptr::null_mut();
    }
    sys::__libc_memalign(align, size)
}

/// `valloc(3)`.
#[no_mangle]
pub unsafe extern "C" fn valloc(size: usize) -> *mut c_void {
    if fails() {
        return core::ptr::null_mut();
    }
    sys::__libc_valloc(size)
}

/// `pvalloc(3)`.
#[no_mangle]
pub unsafe extern "C" fn pvalloc(size: usize) -> *mut c_void {
    if fails() {
        return core::ptr::null_mut();
    }
    sys::__libc_pvalloc(size)
}

/// `pthread_setname_np(3)`: libtest names the thread running a test after the test, which is
/// how the interposer finds the thread to count on ([`protocol::THREAD`]).
#[no_mangle]
pub unsafe extern "C" fn pthread_setname_np(thread: usize, name: *const c_char) -> c_int {
    state::thread_named(thread, name);
    match sys::real_setname() {
        Some(real) => real(thread, name),
        None => sys::ENOSYS,
    }
}

/// Reads the configuration and warms the unwinder, before `main`.
extern "C" fn init() {
    // SAFETY: runs once, before the program's own code, single-threaded.
    unsafe { state::init() }
}

/// Writes the allocation count (and the load map, when stacks were recorded) at exit.
extern "C" fn fini() {
    // SAFETY: plain system calls on the journal.
    unsafe { state::fini() }
}

#[used]
#[link_section = ".init_array"]
static INIT: extern "C" fn() = init;

#[used]
#[link_section = ".fini_array"]
static FINI: extern "C" fn() = fini;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: `abort` has no preconditions.
    unsafe { sys::abort() }
}

/// Never called (`panic = "abort"`), but a `no_std` library linked on stable Rust needs it.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
