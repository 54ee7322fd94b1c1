// Issue 12, patterns 4, 6, 7 and 8: receivers inferred from constructors, wrappers returning
// the crate's own error type, results that flow on before being judged, and the crate's own
// methods named like std's.
use fallible_collections::TryVec;
use std::collections::TryReserveError;

#[derive(Debug)]
pub enum Error {
    Invalid,
    Io(std::io::Error),
    OutOfMemory,
}

// `?` on an allocation makes an `Error::OutOfMemory`: `Error` is an allocation error type.
impl From<TryReserveError> for Error {
    fn from(_: TryReserveError) -> Error {
        Error::OutOfMemory
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

// Pattern 6: a wrapper returning the crate's own error through the alias.
fn read_data(n: usize) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve(n)?;
    Ok(v)
}

pub struct Meta {
    cover: Option<Vec<u8>>,
}

pub fn read_meta(meta: &mut Meta, n: usize) -> Result<()> {
    meta.cover = read_data(n).ok(); //~ swallowed-alloc-failure
    let data = read_data(n)?;
    meta.cover = Some(data);
    Ok(())
}

// Pattern 6, the other way: the crate error's NoMemory variant folded by a wildcard arm.
impl From<Error> for std::io::Error {
    fn from(err: Error) -> Self {
        let kind = match err {
            Error::Invalid => std::io::ErrorKind::InvalidData,
            Error::Io(e) => return e,
            _ => std::io::ErrorKind::Other, //~ remapped-alloc-error
        };
        Self::new(kind, "mp4")
    }
}

#[derive(Debug)]
pub enum Status {
    Bad,
    NoMemory,
}

impl From<TryReserveError> for Status {
    fn from(_: TryReserveError) -> Status {
        Status::NoMemory
    }
}

// The NoMemory variant has its own arm: nothing folded.
impl From<Status> for std::io::Error {
    fn from(s: Status) -> Self {
        let kind = match s {
            Status::NoMemory => std::io::ErrorKind::OutOfMemory,
            _ => std::io::ErrorKind::Other,
        };
        Self::new(kind, "status")
    }
}

// Pattern 4: receivers inferred from `.ok()?` and `?` constructors.
pub fn table(n: usize) -> Option<TryVec<u32>> {
    let mut v = TryVec::with_capacity(n).ok()?; //~ swallowed-alloc-failure
    v.push(1).ok()?; //~ related:swallowed-alloc-failure
    Some(v)
}

pub fn table_checked(n: usize) -> std::result::Result<TryVec<u32>, TryReserveError> {
    let mut v = TryVec::with_capacity(n)?;
    v.push(1)?;
    Ok(v)
}

// Pattern 7: a result inspected by `if let`, then returned, is propagated…
pub fn grow_zeroed(v: &mut Vec<u8>) -> std::result::Result<(), TryReserveError> {
    let res = v.try_reserve(16);
    if let Ok(()) = res {
        v.resize(16, 0);
    }
    res
}

// …but inspected and dropped, it is swallowed.
pub fn grow_quietly(v: &mut Vec<u8>) {
    let res = v.try_reserve(16); //~ swallowed-alloc-failure
    if let Ok(()) = res {
        v.resize(16, 0);
    }
}

// An `Option<Result<..>>` (as `Iterator::next` returns) carries the error in `Some(Err(e))`.
pub fn next_frame(v: &mut Vec<u8>) -> Option<Result<u8>> {
    match read_data(4) {
        Ok(d) => d.first().copied().map(Ok),
        Err(e) => Some(Err(e)),
    }
}

// Pattern 8: the crate's own `extend_from_slice`, a wrapper (its body propagates
// `try_reserve`), named like `Vec`'s.
pub struct ChunkBuilder<'a> {
    buf: &'a mut Vec<u8>,
}

impl<'a> ChunkBuilder<'a> {
    pub fn new(buf: &'a mut Vec<u8>, kind: &[u8; 4]) -> Self {
        let mut new = Self { buf };
        new.buf.extend_from_slice(&[0, 0, 0, 0]);
        let _ = new.extend_from_slice(kind); //~ discarded-alloc-result
        new
    }

    pub fn write_u32be(&mut self, n: u32) {
        let _ = self.extend_from_slice(&n.to_be_bytes()); //~ discarded-alloc-result
    }

    pub fn extend_from_slice(&mut self, s: &[u8]) -> Result<()> {
        self.buf.try_reserve(s.len())?;
        self.buf.extend_from_slice(s);
        Ok(())
    }
}
