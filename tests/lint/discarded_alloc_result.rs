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

// Capacity hints: a reservation on a fresh, empty local that is then handed to other code (which
// grows it and reports its own failures) loses nothing when it fails (lodepng's
// `let _ = vec.try_reserve(inp.len() / 2); zlib::compress_into(&mut vec, ..)`). Not flagged.
struct Sink {
    buf: Vec<u8>,
}

enum Decoder {
    Custom(u8, Vec<u8>),
}

fn compress_into(out: &mut Vec<u8>, inp: &[u8]) -> Result<(), TryReserveError> {
    out.try_reserve(inp.len())?;
    out.extend_from_slice(inp);
    Ok(())
}

fn hint_then_borrowed(inp: &[u8]) -> Result<Vec<u8>, TryReserveError> {
    let mut vec = Vec::new();
    let _ = vec.try_reserve(inp.len() / 2);
    let res = compress_into(&mut vec, inp);
    res.map(|()| vec)
}

fn hint_then_moved(n: usize) -> Decoder {
    let mut buf = Vec::new();
    let _ = buf.try_reserve_exact(n);
    Decoder::Custom(1, buf)
}

fn hint_then_struct(n: usize) -> Sink {
    let mut buf: Vec<u8> = Default::default();
    buf.try_reserve(n);
    Sink { buf }
}

fn hint_then_returned(n: usize) -> String {
    let mut s = String::new();
    _ = s.try_reserve(n);
    s
}

// Not hints: the capacity is relied on here, or by the caller.
fn grown_here(d: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = v.try_reserve(d.len()); //~ discarded-alloc-result
    v.extend_from_slice(d);
    v
}

fn a_parameter(v: &mut Vec<u8>) {
    let _ = v.try_reserve(10); //~ discarded-alloc-result
}

fn not_empty(inp: &[u8]) -> Result<(), TryReserveError> {
    let mut vec = vec![1u8];
    let _ = vec.try_reserve(inp.len()); //~ discarded-alloc-result
    compress_into(&mut vec, inp)
}

fn used_before(inp: &[u8]) -> Result<(), TryReserveError> {
    let mut vec = Vec::new();
    vec.push(0u8);
    let _ = vec.try_reserve(inp.len()); //~ discarded-alloc-result
    compress_into(&mut vec, inp)
}

fn handed_and_grown(inp: &[u8]) -> Result<(), TryReserveError> {
    let mut vec = Vec::new();
    let _ = vec.try_reserve(inp.len()); //~ discarded-alloc-result
    compress_into(&mut vec, inp).map(|()| vec.push(0))
}

fn never_used_again(n: usize) {
    let mut vec: Vec<u8> = Vec::new();
    let _ = vec.try_reserve(n); //~ discarded-alloc-result
}
