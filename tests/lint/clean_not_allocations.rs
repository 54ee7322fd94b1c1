// Names that look fallible but are not allocations, and infallible code outside OOM-safe scopes.
use arrayvec::ArrayVec;
use std::convert::TryFrom;
use std::sync::{mpsc, Mutex};

fn lookalikes(
    tx: mpsc::SyncSender<u8>,
    m: &Mutex<u8>,
    a: &mut ArrayVec<u8, 4>,
    h: &mut std::collections::HashMap<u8, u8>,
) {
    let _ = tx.try_send(1);
    tx.try_send(2).unwrap();
    let _ = u8::try_from(300u32);
    let x = u8::try_from(1u32).unwrap();
    let _g = m.try_lock();
    a.try_push(1).unwrap();
    let _ = a.try_insert(0, 2);
    let _ = h.try_insert(1, 2);
    let mut v = Vec::new();
    v.push(x);
    let _ = v.pop();
    let s = format!("{x}");
    let b = Box::new(s);
    let _ = b;
}

// A `push` returning Result on a type that is not in a pack and not an allocation wrapper.
struct Stack;

impl Stack {
    fn push(&mut self, _x: u8) -> Result<(), String> {
        Ok(())
    }
}

fn stack(s: &mut Stack) {
    s.push(1).unwrap();
    let _ = s.push(2);
}
