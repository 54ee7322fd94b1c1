// Raw allocations checked for null before use; and `alloc` methods that are not raw allocators.
use std::alloc::{alloc, handle_alloc_error, GlobalAlloc, Layout, System};
use std::ptr::{self, NonNull};

unsafe fn checked(layout: Layout) -> Result<NonNull<u8>, ()> {
    let p = alloc(layout) as *mut u64;
    if p.is_null() {
        handle_alloc_error(layout);
    }
    ptr::write(p, 1);

    let q = alloc(layout);
    let Some(nn) = NonNull::new(q) else {
        return Err(());
    };
    nn.as_ptr().write(1);

    let r = libc::malloc(8) as *mut u8;
    if r == ptr::null_mut() {
        return Err(());
    }
    *r = 1;

    let s = System.alloc(layout);
    if !s.is_null() {
        *s = 2;
    }

    let t = alloc(layout);
    NonNull::new(t).ok_or(())
}

unsafe fn handed_out(layout: Layout) -> *mut u8 {
    let p = alloc(layout);
    p
}

struct Bump;

impl Bump {
    fn alloc<T>(&self, x: T) -> &mut T {
        Box::leak(Box::new(x))
    }
}

fn bump_values(bump: &Bump) {
    let x = bump.alloc(5);
    *x = 3;
}

// `alloc` here is the caller's closure (servo_arc's `Arc::new_static`): its contract is the
// caller's, and a call of it is not `std::alloc::alloc`.
unsafe fn place_with<F: FnOnce(Layout) -> *mut u8>(alloc: F, value: u64) -> *mut u64 {
    let layout = Layout::new::<u64>();
    let p = alloc(layout) as *mut u64;
    ptr::write(p, value);
    p
}
