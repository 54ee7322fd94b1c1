// Wrappers used by wrappers_cross_file.rs.
use std::collections::TryReserveError;

pub fn grow_buffer(buf: &mut Vec<u8>, n: usize) -> Result<(), TryReserveError> {
    buf.try_reserve(n)
}

pub fn reserve_twice(buf: &mut Vec<u8>) -> Result<(), TryReserveError> {
    grow_buffer(buf, 1)?;
    grow_buffer(buf, 2)
}

pub fn not_a_wrapper(_buf: &mut Vec<u8>) -> Result<(), TryReserveError> {
    Ok(())
}
