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

// tokio's `Sender::try_reserve()` takes no argument: a permit, not an allocation.
async fn permits(tx: tokio::sync::mpsc::Sender<u8>) {
    let permit = tx.try_reserve().unwrap();
    let _ = tx.try_reserve();
    permit.send(1);
}

// A `try_new` constructor that wraps an allocation: only calls on its own type count, and
// `Other::try_new` is another type's constructor.
struct Buffer(Vec<u8>);

impl Buffer {
    fn try_new(n: usize) -> Result<Self, std::collections::TryReserveError> {
        let mut v = Vec::new();
        v.try_reserve(n)?;
        Ok(Buffer(v))
    }
}

struct Other;

impl Other {
    fn try_new(_n: usize) -> Result<Self, ()> {
        Ok(Other)
    }
}

fn constructors() -> Result<(), std::collections::TryReserveError> {
    let o = Other::try_new(1).unwrap();
    let b = Buffer::try_new(4)?;
    let _ = (o, b);
    Ok(())
}

// A field named like a receiver-typed field of another struct is that struct's own field.
struct Rows {
    rows: Vec<u32>,
}

impl Rows {
    fn add(&mut self) {
        self.rows.push(1);
    }
}

// A wrapper named like a pack method does not widen that method: `try_reserve()` without an
// argument on an unknown receiver stays a non-allocation.
struct Pool(Vec<u8>);

impl Pool {
    fn try_reserve(&mut self, n: usize) -> Result<(), std::collections::TryReserveError> {
        self.0.try_reserve(n)
    }
}

fn channel_permit() {
    let (tx, _rx) = tokio::sync::mpsc::channel::<u8>(1);
    let permit = tx.try_reserve().unwrap();
    let _ = permit;
}
