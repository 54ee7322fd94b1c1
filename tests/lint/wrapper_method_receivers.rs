// Wrapper methods resolved by name on any receiver where the name is unambiguous
// (issue 12, pattern 5): `node.into_root_mut().push_level()`.
use std::collections::TryReserveError;

pub struct Root {
    levels: Vec<u32>,
}

pub struct Node {
    root: Root,
}

impl Root {
    pub fn push_level(&mut self) -> Result<&mut Self, TryReserveError> {
        self.levels.try_reserve(1)?;
        self.levels.push(0);
        Ok(self)
    }

    // A wrapper named like a std method: resolved only on a receiver of known type.
    pub fn append(&mut self, n: u32) -> Result<(), TryReserveError> {
        self.levels.try_reserve(1)?;
        self.levels.push(n);
        Ok(())
    }

    // A wrapper whose name another, infallible method also bears (`Cursor::grow_to`).
    pub fn grow_to(&mut self, n: usize) -> Result<(), TryReserveError> {
        self.levels.try_reserve(n)
    }
}

pub struct Cursor {
    at: usize,
}

impl Cursor {
    pub fn grow_to(&mut self, n: usize) -> Option<usize> {
        self.at = n;
        Some(n)
    }
}

impl Node {
    fn into_root_mut(&mut self) -> &mut Root {
        &mut self.root
    }

    fn cursor(&mut self) -> &mut Cursor {
        unimplemented!()
    }
}

// A function with an error channel: error level.
pub fn bulk_push(node: &mut Node) -> Result<(), TryReserveError> {
    node.into_root_mut().push_level().expect("Out of Mem"); //~ panic-on-alloc-failure
    let _ = node.into_root_mut().append(1);
    node.into_root_mut().grow_to(2).unwrap();
    node.cursor().grow_to(3).unwrap();
    let root = node.into_root_mut();
    root.push_level()?;
    Ok(())
}

// No error channel: the warn rule.
pub fn append_all(node: &mut Node) {
    node.into_root_mut().push_level().expect("Out of Mem"); //~ alloc-panic-without-error-channel
}

// A second type with a wrapper of that name: the name stays unambiguous.
pub struct Stack {
    levels: Vec<u8>,
}

impl Stack {
    pub fn push_level(&mut self) -> Result<(), TryReserveError> {
        self.levels.try_reserve(1)
    }
}
