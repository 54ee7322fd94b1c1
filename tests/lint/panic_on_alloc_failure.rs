// Failure turned into a panic or an abort.
use std::alloc::{handle_alloc_error, Layout};

fn methods(v: &mut Vec<u8>, n: usize) {
    v.try_reserve(n).unwrap(); //~ panic-on-alloc-failure
    v.try_reserve(n).expect("out of memory"); //~ panic-on-alloc-failure
    v.try_reserve(n).unwrap_or_else(|e| panic!("{e}")); //~ panic-on-alloc-failure
    v.try_reserve(n).unwrap_or_else(|_| handle_alloc_error(Layout::new::<u8>())); //~ panic-on-alloc-failure
    let b = Box::try_new(1u8).ok().unwrap(); //~ panic-on-alloc-failure
    v.try_reserve(n).map(|_| b).expect("room"); //~ panic-on-alloc-failure
    v
        .try_reserve(n) //~ panic-on-alloc-failure
        .expect("reserve");
    assert!(v.try_reserve(n).is_ok()); //~ panic-on-alloc-failure
    debug_assert!(v.try_reserve_exact(n).is_ok()); //~ panic-on-alloc-failure
}

fn arms(v: &mut Vec<u8>, n: usize) {
    match v.try_reserve(n) { //~ panic-on-alloc-failure
        Ok(()) => {}
        Err(_) => panic!("out of memory"),
    }
    match v.try_reserve(n) { //~ panic-on-alloc-failure
        Ok(()) => {}
        Err(_) => unreachable!(),
    }
    match v.try_reserve(n) { //~ panic-on-alloc-failure
        Ok(()) => {}
        Err(_) => handle_alloc_error(Layout::new::<u8>()),
    }
    match v.try_reserve(n) { //~ panic-on-alloc-failure
        Ok(()) => {}
        Err(e) => {
            eprintln!("{e}");
            std::process::abort();
        }
    }
}

fn branches(v: &mut Vec<u8>, n: usize) {
    if v.try_reserve(n).is_err() { //~ panic-on-alloc-failure
        unreachable!()
    }
    if let Err(_) = v.try_reserve(n) { //~ panic-on-alloc-failure
        handle_alloc_error(Layout::new::<u8>());
    }
    let Ok(()) = v.try_reserve(n) else { //~ panic-on-alloc-failure
        panic!("no memory");
    };
    if v.try_reserve(n).is_ok() { //~ panic-on-alloc-failure
        v.push(1);
    } else {
        todo!()
    }
}

struct Parser {
    out: Vec<u32>,
}

impl Parser {
    fn parse(&mut self, input: &[u32]) {
        input.iter().for_each(|x| {
            self.out.try_reserve(1).expect("oom"); //~ panic-on-alloc-failure
            self.out.push(*x);
        });
        for chunk in input.chunks(4) {
            let mut buf: Vec<u32> = Vec::try_with_capacity(chunk.len()).unwrap(); //~ panic-on-alloc-failure
            buf.extend_from_slice(chunk);
        }
    }
}

// A function of the scanned code that never returns counts as an abort.
fn oom_abort(what: &str) -> ! {
    panic!("out of memory: {what}")
}

fn diverging_helpers(v: &mut Vec<u8>) {
    v.try_reserve(1).unwrap_or_else(|_| oom_abort("v")); //~ panic-on-alloc-failure
    if v.try_reserve(2).is_err() { //~ panic-on-alloc-failure
        oom_abort("v");
    }
}

fn asserted_local(v: &mut Vec<u8>) {
    let reserved = v.try_reserve(8); //~ panic-on-alloc-failure
    assert!(reserved.is_ok(), "room for 8");
    println!("{}", v.len());
}

// Methods called in path form.
fn path_form(v: &mut Vec<u8>, t: &mut fallible_collections::TryVec<u8>) {
    Vec::try_reserve(v, 8).unwrap(); //~ panic-on-alloc-failure
    fallible_collections::FallibleVec::try_reserve(v, 8).unwrap(); //~ panic-on-alloc-failure
    fallible_collections::TryVec::push(t, 1).expect("room"); //~ panic-on-alloc-failure
    Vec::push(v, 1);
    Vec::reserve(v, 1);
}

fn qualified_path() {
    let b = <Box<_> as fallible_collections::FallibleBox<_>>::try_new(5u8).unwrap(); //~ panic-on-alloc-failure
    let _ = b;
}

// `unwrap_unchecked` and `unreachable_unchecked()` are the author's `unsafe` proof that the
// call cannot fail (bump-scope's `shrink` on an allocator whose contract forbids failing): an
// explicit marker of intent, not a panic. `unwrap` beside them still is one.
fn asserted_infallible(v: &mut Vec<u8>, n: usize) {
    unsafe { v.try_reserve(n).unwrap_unchecked() };
    let b = unsafe { Box::try_new(1u8).ok().unwrap_unchecked() };
    match v.try_reserve(n) {
        Ok(()) => {}
        Err(_) => unsafe { std::hint::unreachable_unchecked() },
    }
    v.try_reserve(n).unwrap_or_else(|_| unsafe { std::hint::unreachable_unchecked() });
    v.try_reserve(n).unwrap(); //~ panic-on-alloc-failure
    let _ = b;
}
