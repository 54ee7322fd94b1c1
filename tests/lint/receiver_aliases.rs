// Receiver types through local type aliases and struct literals (issue 12, pattern 4).
use fallible_collections::{TryReserveError, TryVec};

type Rows<T> = TryVec<T>;
// An alias of the same name as the type (avif-parse's `pub(crate) type TryVec<T> = ..`).
pub(crate) type Items<T> = fallible_collections::TryVec<T>;
// An alias of a std type: its `push` is not fallible.
type Plain<T> = Vec<T>;

fn declared(x: u8) -> Result<(), TryReserveError> {
    let mut v: Rows<u8> = Rows::new();
    v.push(x).unwrap(); //~ panic-on-alloc-failure
    let mut w = Rows::with_capacity(4)?;
    w.push(x).expect("room"); //~ panic-on-alloc-failure
    let _ = Rows::<u8>::with_capacity(8); //~ discarded-alloc-result
    let mut p: Plain<u8> = Plain::new();
    p.push(x);
    let _ = p.insert(0, x);
    Ok(())
}

// Every call propagated: nothing to report once the alias is resolved.
fn propagated(n: usize) -> Result<Items<u32>, TryReserveError> {
    let mut items = Items::with_capacity(n)?;
    items.push(1)?;
    Ok(items)
}

// A field declared with a generic parameter: the struct literal says what it holds.
struct Table<R> {
    rows: R,
    len: usize,
}

impl Table<TryVec<u32>> {
    fn new(n: usize) -> Result<Self, TryReserveError> {
        Ok(Table {
            rows: TryVec::with_capacity(n)?,
            len: 0,
        })
    }

    fn add(&mut self, x: u32) -> Result<(), TryReserveError> {
        self.rows.push(x).ok(); //~ discarded-alloc-result
        self.len += 1;
        Ok(())
    }
}

// The same shape built from a std `Vec`: nothing to report.
struct Log<R> {
    lines: R,
}

impl Log<Vec<u32>> {
    fn new() -> Self {
        Self { lines: Vec::new() }
    }

    fn add(&mut self, x: u32) {
        self.lines.push(x);
    }
}

// A field declared through an alias.
struct Sheet {
    cells: Rows<u8>,
}

impl Sheet {
    fn fill(&mut self) -> Result<(), TryReserveError> {
        let _ = self.cells.push(0); //~ discarded-alloc-result
        let _ = propagated(1)?;
        Ok(())
    }
}
