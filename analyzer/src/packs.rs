//! Rule packs (`rules/*.toml`, embedded): allocation calls, error types, raw allocators,
//! infallible allocators and no-memory names per ecosystem crate.

/// One rule pack, parsed from its embedded TOML.
#[derive(Clone, Debug)]
pub struct Pack {
    /// `std`, `fallible_collections`, `hashbrown`, …
    pub name: String,
    // lint-core: the rest of the fields (methods, paths, macros, error types, raw allocators,
    // infallible allocators, no-memory names, receiver-typed methods…).
}

/// The packs in force for one lint run.
#[derive(Clone, Debug, Default)]
pub struct ActivePacks {
    pub packs: Vec<Pack>,
}

/// Every embedded pack (parsed once; the TOML is part of the binary, so a parse failure is a
/// bug caught by tests, not a user error).
pub fn all_packs() -> &'static [Pack] {
    todo!("lint-core")
}

/// Choose the packs: `std` always; another pack when `dependencies` (crate names from the
/// nearest Cargo.toml files, `-` and `_` equivalent) names its crate, or when any of `sources`
/// mentions it (`use crate_name…` or a path starting `crate_name::`).
pub fn activate<'a>(dependencies: &[String], sources: impl Iterator<Item = &'a str>) -> ActivePacks {
    let _ = (dependencies, sources.count());
    todo!("lint-core")
}

impl ActivePacks {
    /// Substrings such that a file containing none of them cannot contain an allocation call,
    /// an allocation wrapper, an alloc-error type or an allow comment (the text prefilter).
    /// Includes `extra` (configured allocation functions).
    pub fn prefilter_needles(&self, extra: &[String]) -> Vec<String> {
        let _ = extra;
        todo!("lint-core")
    }
}
