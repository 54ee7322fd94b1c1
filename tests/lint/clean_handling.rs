// Correct handling of allocation failure: nothing here may be flagged.
use std::alloc::{AllocError, Layout};
use std::collections::TryReserveError;

#[derive(Debug)]
enum Error {
    OutOfMemory,
    Alloc(TryReserveError),
    Io(std::io::Error),
    Parse,
}

impl From<TryReserveError> for Error {
    fn from(e: TryReserveError) -> Self {
        Error::Alloc(e)
    }
}

impl From<AllocError> for Error {
    fn from(_: AllocError) -> Self {
        Error::OutOfMemory
    }
}

struct Wrapper(TryReserveError);

impl From<TryReserveError> for Wrapper {
    fn from(e: TryReserveError) -> Wrapper {
        Wrapper(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

fn propagate(v: &mut Vec<u8>, n: usize) -> Result<(), Error> {
    v.try_reserve(n)?;
    v.try_reserve(n).map_err(|_| Error::OutOfMemory)?;
    v.try_reserve(n).map_err(Error::from)?;
    v.try_reserve(n).map_err(Into::into)?;
    v.try_reserve(n).map_err(Error::Alloc)?;
    v.try_reserve(n).map_err(|e| Error::Alloc(e))?;
    v.try_reserve(n).map_err(|e| e.into()).map(|_: ()| ())?;
    v.try_reserve(n).map_err(|_| std::io::Error::from(std::io::ErrorKind::OutOfMemory))?;
    v.try_reserve(n).ok().ok_or(Error::OutOfMemory)?;
    v.try_reserve(n).or(Err(Error::OutOfMemory))?;
    let reserved = v.try_reserve(n);
    reserved?;
    let again = v.try_reserve(n);
    if again.is_err() {
        return Err(Error::OutOfMemory);
    }
    Ok(())
}

fn branches(v: &mut Vec<u8>, n: usize) -> Result<usize, Error> {
    match v.try_reserve(n) {
        Ok(()) => {}
        Err(e) => return Err(e.into()),
    }
    match v.try_reserve(n) {
        Ok(()) => {}
        Err(e) => return Err(Error::Alloc(e)),
    }
    if v.try_reserve(n).is_err() {
        return Err(Error::OutOfMemory);
    }
    if let Err(e) = v.try_reserve(n) {
        return Err(Error::from(e));
    }
    if v.try_reserve(n).is_ok() {
        v.push(1);
    } else {
        return Err(Error::OutOfMemory);
    }
    let Ok(()) = v.try_reserve(n) else {
        return Err(Error::OutOfMemory);
    };
    let t: Vec<u32> = match Vec::try_with_capacity(n) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot allocate: {e}");
            return Err(e.into());
        }
    };
    Ok(t.len())
}

fn tails(v: &mut Vec<u8>, n: usize) -> Result<(), TryReserveError> {
    let f = |v: &mut Vec<u8>| v.try_reserve(1);
    f(v)?;
    if n > 3 {
        return v.try_reserve(n);
    }
    v.try_reserve(n)
}

fn passed_on(v: &mut Vec<u8>) -> Result<(), TryReserveError> {
    let results = vec![v.try_reserve(1), v.try_reserve(2)];
    results.into_iter().collect()
}

fn infallible_outside_oom_safe_scopes(items: &[u32]) -> Vec<String> {
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        out.push(i.to_string());
    }
    let _layout = Layout::new::<u8>();
    out
}

fn layout_unwrap() -> Layout {
    Layout::array::<u8>(16).unwrap()
}

#[derive(Debug)]
enum KindError {
    Memory { kind: MemKind },
}

#[derive(Debug)]
enum MemKind {
    Oom,
}

fn struct_error(v: &mut Vec<u8>) -> Result<(), KindError> {
    v.try_reserve(1).map_err(|_| KindError::Memory { kind: MemKind::Oom })?;
    Ok(())
}

#[derive(Debug)]
enum AppError {
    Memory,
    OutOfMemoryError(String),
}

fn memory_words(v: &mut Vec<u8>) -> Result<(), AppError> {
    v.try_reserve(1).map_err(|_| AppError::Memory)?;
    v.try_reserve(1).map_err(|e| AppError::OutOfMemoryError(e.to_string()))?;
    Ok(())
}

fn reports(v: &mut Vec<u8>) -> anyhow::Result<()> {
    v.try_reserve(1).map_err(|e| anyhow::anyhow!(e))?;
    Ok(())
}

// A unit error says nothing either way (hashbrown's `do_alloc` uses `Err(())` for "allocation
// failed"): not judged.
fn unit_error(v: &mut Vec<u8>) -> Result<(), ()> {
    v.try_reserve(1).map_err(|_| ())?;
    match v.try_reserve(2) {
        Ok(()) => Ok(()),
        Err(_) => Err(()),
    }
}
