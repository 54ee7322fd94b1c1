//! Rule packs (`rules/*.toml`, embedded): allocation calls, error types, raw allocators,
//! infallible allocators and no-memory names per ecosystem crate.
