// Raw allocator pointers used before a null check.
use std::alloc::{alloc, alloc_zeroed, realloc, GlobalAlloc, Layout, System};
use std::ptr;

unsafe fn std_forms(layout: Layout) {
    let p = alloc(layout) as *mut u64; //~ unchecked-raw-alloc
    ptr::write(p, 1);

    let q = alloc_zeroed(layout); //~ unchecked-raw-alloc
    *q = 1;

    let r = System.alloc(layout); //~ unchecked-raw-alloc
    r.add(1).write(0);

    let s = std::alloc::alloc(layout).cast::<u32>(); //~ unchecked-raw-alloc
    let boxed = Box::from_raw(s);
    drop(boxed);

    let t: *mut u8 = unsafe { realloc(q, layout, 64) }; //~ unchecked-raw-alloc
    let slice = std::slice::from_raw_parts_mut(t, 64);
    slice[0] = 1;

    let u = GlobalAlloc::alloc(&System, layout); //~ unchecked-raw-alloc
    u.write_bytes(0, 8);

    ptr::write(alloc(layout) as *mut u8, 1); //~ unchecked-raw-alloc
    let direct = std::slice::from_raw_parts_mut(alloc(layout), 4); //~ unchecked-raw-alloc
    *(alloc_zeroed(layout) as *mut u16) = 7; //~ unchecked-raw-alloc
    let _ = direct;
}

unsafe fn libc_forms(n: usize) {
    let p = libc::malloc(n) as *mut u8; //~ unchecked-raw-alloc
    *p.add(1) = 0;
    let q = libc::calloc(1, n); //~ unchecked-raw-alloc
    ptr::write_bytes(q as *mut u8, 0, n);
}

fn in_loop(n: usize) {
    for i in 1..n {
        unsafe {
            let layout = Layout::array::<u8>(i).unwrap();
            let p = alloc(layout); //~ unchecked-raw-alloc
            if i > 2 {
                p.write(1);
            }
        }
    }
}

struct Arena;

impl Arena {
    fn make(&self) -> Box<u64> {
        unsafe {
            let layout = Layout::new::<u64>();
            let raw = alloc(layout) as *mut u64; //~ unchecked-raw-alloc
            raw.write(5);
            Box::from_raw(raw)
        }
    }
}

// A parameter named `alloc` shadows the function only inside its own function.
unsafe fn shadowed<F: FnOnce(Layout) -> *mut u8>(alloc: F) -> *mut u8 {
    alloc(Layout::new::<u8>())
}

unsafe fn not_shadowed(layout: Layout) {
    let p = alloc(layout) as *mut u8; //~ unchecked-raw-alloc
    *p = 1;
}
