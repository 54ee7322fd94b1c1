// Failure turned into an error that does not say out of memory.
use std::alloc::AllocError;
use std::collections::TryReserveError;

#[derive(Debug)]
enum Error {
    OutOfMemory,
    InvalidData(&'static str),
    Parse,
    Io(std::io::Error),
}

fn forms(v: &mut Vec<u8>, n: usize) -> Result<(), Error> {
    v.try_reserve(n).map_err(|_| Error::InvalidData("too big"))?; //~ remapped-alloc-error
    v.try_reserve(n).map_err(|_| Error::Parse)?; //~ remapped-alloc-error
    v.try_reserve(n).ok().ok_or(Error::Parse)?; //~ remapped-alloc-error
    v.try_reserve(n).ok().ok_or_else(|| Error::Parse)?; //~ remapped-alloc-error
    v.try_reserve(n).or(Err(Error::Parse))?; //~ remapped-alloc-error
    v.try_reserve(n).map(|_| n).map_err(|_| Error::Parse)?; //~ remapped-alloc-error
    v.try_reserve(n).map_err(|e| Error::Io(std::io::Error::other(e)))?; //~ remapped-alloc-error
    v.try_reserve(n).map_err(Error::Io)?; //~ remapped-alloc-error
    match v.try_reserve(n) { //~ remapped-alloc-error
        Ok(()) => {}
        Err(_) => return Err(Error::Parse),
    }
    if v.try_reserve(n).is_err() { //~ remapped-alloc-error
        return Err(Error::InvalidData("no room"));
    }
    if let Err(_) = v.try_reserve(n) { //~ remapped-alloc-error
        Err(Error::Parse)?;
    }
    let Ok(()) = v.try_reserve(n) else { //~ remapped-alloc-error
        return Err(Error::Parse);
    };
    v.try_reserve(n).map_err(|_| Error::OutOfMemory)?;
    Ok(())
}

fn strings(v: &mut Vec<u8>) -> Result<(), String> {
    v.try_reserve(1).map_err(|e| format!("reserve failed: {e}"))?; //~ remapped-alloc-error
    v.try_reserve(1).map_err(|e| e.to_string())?; //~ remapped-alloc-error
    v.try_reserve(1).or_else(|_| Err("no".to_string()))?; //~ remapped-alloc-error
    Ok(())
}

fn as_value(v: &mut Vec<u8>) -> Result<(), Error> {
    match v.try_reserve(1) { //~ remapped-alloc-error
        Ok(()) => Ok(()),
        Err(_) => Err(Error::InvalidData("x")),
    }
}

impl From<TryReserveError> for Error {
    fn from(_: TryReserveError) -> Self {
        Error::Parse //~ remapped-alloc-error
    }
}

enum Wrapped {
    Alloc(AllocError),
    Bad(String),
}

impl From<AllocError> for Wrapped {
    fn from(e: AllocError) -> Self {
        if cfg!(debug_assertions) { Wrapped::Alloc(e) } else { Wrapped::Bad(String::new()) } //~ remapped-alloc-error
    }
}

struct Message(String);

impl From<TryReserveError> for Message {
    fn from(e: TryReserveError) -> Message {
        Message(e.to_string()) //~ remapped-alloc-error
    }
}


// A decoder's memory-limit error is NoMemory-class (png's `EncodingError::LimitsExceeded`,
// which image maps to `LimitErrorKind::InsufficientMemory`; gif's `MemoryLimit`); a size or
// dimension limit is not.
enum EncodingError {
    LimitsExceeded,
    MemoryLimit,
    Dimensions,
}

fn write_chunk(data: &mut Vec<u8>, chunk_size: usize) -> Result<(), EncodingError> {
    data.try_reserve_exact(chunk_size).map_err(|_| EncodingError::LimitsExceeded)?;
    data.try_reserve(chunk_size).map_err(|_| EncodingError::MemoryLimit)?;
    data.try_reserve(chunk_size).map_err(|_| EncodingError::Dimensions)?; //~ remapped-alloc-error
    Ok(())
}
