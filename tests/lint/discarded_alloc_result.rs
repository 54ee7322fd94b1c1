// Every form of a dropped allocation result, in several nestings.
use std::collections::TryReserveError;

fn statements(v: &mut Vec<u8>, n: usize) {
    let _ = v.try_reserve(n); //~ discarded-alloc-result
    let _unused = v.try_reserve_exact(n); //~ discarded-alloc-result
    let _: Result<(), TryReserveError> = v.try_reserve(n); //~ discarded-alloc-result
    v.try_reserve(n); //~ discarded-alloc-result
    drop(v.try_reserve(n)); //~ discarded-alloc-result
    std::mem::drop(v.try_reserve(n)); //~ discarded-alloc-result
    v.try_reserve(n).ok(); //~ discarded-alloc-result
    _ = v.try_reserve(n); //~ discarded-alloc-result
    v.try_reserve(n).is_ok(); //~ discarded-alloc-result
    let _ = v.try_reserve(n).map(|_| n); //~ discarded-alloc-result
    let _ = Box::try_new(5u8); //~ discarded-alloc-result
    let _b = String::try_with_capacity(n); //~ discarded-alloc-result
}

fn through_a_local(v: &mut Vec<u8>) {
    let reserved = v.try_reserve(1); //~ discarded-alloc-result
    drop(reserved);
}

fn nested(items: &[Vec<u8>]) {
    for item in items {
        let mut copy = Vec::new();
        copy.try_reserve(item.len()); //~ discarded-alloc-result
    }
    items.iter().for_each(|item| {
        let mut buf: Vec<u8> = Vec::new();
        let _ = buf.try_reserve(item.len()); //~ discarded-alloc-result
    });
    match items.len() {
        0 => {}
        n => {
            let mut v: Vec<u32> = Vec::new();
            v.try_reserve(n); //~ discarded-alloc-result
        }
    }
    loop {
        let mut v: Vec<u32> = Vec::new();
        if items.is_empty() {
            let _ = v.try_reserve(1); //~ discarded-alloc-result
        }
        break;
    }
}

mod inner {
    pub mod deeper {
        pub struct Buf {
            data: Vec<u8>,
        }

        impl Buf {
            pub fn grow(&mut self, n: usize) {
                self.data
                    .try_reserve(n); //~ discarded-alloc-result
            }

            pub fn grow_in_closure(&mut self) {
                let mut f = |n: usize| {
                    self.data.try_reserve_exact(n).ok(); //~ discarded-alloc-result
                };
                f(1);
            }
        }
    }
}

trait Grow {
    fn grow(&mut self) {
        let mut v: Vec<u8> = Vec::new();
        let _ = v.try_reserve(8); //~ discarded-alloc-result
    }
}
