// Fallible calls inside `macro_rules!` bodies (issue 12, pattern 7): reported once, at the
// call in the definition, not at each use.
use std::collections::TryReserveError;

macro_rules! reserve_all {
    ($v:expr, $($n:expr),*) => {
        $( $v.try_reserve($n).unwrap(); )* //~ panic-on-alloc-failure
    };
}

macro_rules! reserve_or_skip {
    ($v:expr) => {
        let _ = $v.try_reserve(1); //~ discarded-alloc-result
    };
}

// Propagates with `?`: clean.
macro_rules! reserve_or_return {
    ($v:expr, $n:expr) => {
        $v.try_reserve($n)?
    };
}

// Defines methods: judged in their own signatures.
macro_rules! growable {
    ($t:ident) => {
        impl $t {
            pub fn grow(&mut self) -> Result<(), TryReserveError> {
                self.buf.try_reserve(1)?;
                Ok(())
            }
            pub fn grow_or_panic(&mut self) {
                self.buf.try_reserve(1).expect("room"); //~ alloc-panic-without-error-channel
            }
        }
    };
}

// No allocation named: not parsed at all.
macro_rules! square {
    ($x:expr) => {
        $x * $x
    };
}

pub struct Buf {
    buf: Vec<u8>,
}

growable!(Buf);

pub fn fill(v: &mut Vec<u8>) -> Result<usize, TryReserveError> {
    reserve_all!(v, 1, 2, 3);
    reserve_all!(v, 4);
    reserve_or_skip!(v);
    reserve_or_return!(v, 8);
    Ok(square!(2))
}
