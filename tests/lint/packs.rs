// Packs activated by the file's `use` lines: hashbrown, smallvec, allocator_api2, libc.
use allocator_api2::alloc::{Allocator, Global, Layout};
use hashbrown::HashMap;
use smallvec::{CollectionAllocErr, SmallVec};

#[derive(Debug)]
enum Error {
    Alloc,
    Other,
}

impl From<CollectionAllocErr> for Error {
    fn from(_: CollectionAllocErr) -> Self {
        Error::Other //~ remapped-alloc-error
    }
}

fn maps(m: &mut HashMap<u32, u32>) -> Result<(), Error> {
    m.try_reserve(10).unwrap(); //~ panic-on-alloc-failure
    // hashbrown's `try_insert` inserts if absent: not an allocation.
    let _ = m.try_insert(1, 2);
    m.try_reserve(10).map_err(|_| Error::Alloc)?;
    Ok(())
}

fn small(s: &mut SmallVec<[u8; 4]>) -> Result<(), Error> {
    s.try_grow(64).ok(); //~ discarded-alloc-result
    s.try_reserve_exact(8).map_err(|_| Error::Other)?; //~ remapped-alloc-error
    s.try_reserve(8)?;
    Ok(())
}

fn allocator(layout: Layout) -> Result<(), Error> {
    let p = Global.allocate(layout).expect("x"); //~ panic-on-alloc-failure
    let q = Global.allocate_zeroed(layout).map_err(|_| Error::Alloc)?;
    let b = allocator_api2::boxed::Box::try_new(5u8).unwrap_or_default(); //~ swallowed-alloc-failure
    let _ = (p, q, b);
    Ok(())
}

unsafe fn c_heap(n: usize) {
    let p = libc::strdup(c"x".as_ptr()); //~ unchecked-raw-alloc
    *p = 0;
}
