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
