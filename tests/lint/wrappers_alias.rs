// Wrappers whose return type is an alias of `Result<T, AllocErrorType>`.
use std::collections::TryReserveError;

type AllocResult<T> = Result<T, TryReserveError>;
type TextResult<T> = Result<T, String>;

fn grow(v: &mut Vec<u8>) -> AllocResult<()> {
    v.try_reserve(1)
}

fn grow_twice(v: &mut Vec<u8>) -> AllocResult<usize> {
    grow(v)?;
    grow(v)?;
    Ok(v.len())
}

// Not a wrapper: the alias is not an allocation error type.
fn text(v: &mut Vec<u8>) -> TextResult<()> {
    v.clear();
    Ok(())
}

fn user(v: &mut Vec<u8>) {
    grow(v).unwrap(); //~ panic-on-alloc-failure
    let _ = grow_twice(v); //~ discarded-alloc-result
    text(v).unwrap();
}
