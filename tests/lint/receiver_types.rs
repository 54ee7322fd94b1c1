// Methods fallible only on some receiver types, resolved from declarations.
use fallible_collections::{TryHashMap, TryReserveError, TryVec};

struct Table {
    rows: TryVec<u32>,
    plain: Vec<u32>,
}

impl Table {
    fn add(&mut self, x: u32) {
        self.rows.push(x); //~ discarded-alloc-result
        self.plain.push(x);
        let _ = self.plain.insert(0, x);
    }
}

fn params(v: &mut TryVec<u8>, w: &mut Vec<u8>) {
    v.push(1).unwrap(); //~ panic-on-alloc-failure
    v.extend_from_slice(&[1, 2]).ok(); //~ discarded-alloc-result
    w.push(1);
    w.extend_from_slice(&[1, 2]);
}

fn locals() -> Result<(), TryReserveError> {
    let mut m: TryHashMap<u32, u32> = TryHashMap::with_capacity(4)?;
    m.insert(1, 2).ok(); //~ discarded-alloc-result
    let mut n = TryHashMap::with_capacity(4)?;
    let _ = n.insert(1, 2); //~ discarded-alloc-result
    let mut v = TryVec::new();
    v.push(1u8).expect("room"); //~ panic-on-alloc-failure
    let mut std_map = std::collections::HashMap::new();
    std_map.insert(1, 2);
    let _ = std_map.insert(3, 4);
    let closure = |t: &mut TryVec<u16>| {
        let _ = t.push(1); //~ discarded-alloc-result
    };
    let _ = closure;
    m.insert(3, 4)?;
    Ok(())
}

// The same field name on a struct whose field is a std Vec.
struct Log {
    rows: Vec<u32>,
}

impl Log {
    fn add(&mut self, x: u32) {
        self.rows.push(x);
    }
}
