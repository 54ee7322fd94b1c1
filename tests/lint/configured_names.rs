//@ extra-alloc-functions: try_alloc_node, arena::grow_arena
//@ extra-no-memory-names: Exhausted
// Allocation functions and no-memory names from the configuration.
enum Error {
    Exhausted,
    Parse,
}

fn f(a: &mut Arena) -> Result<(), Error> {
    a.try_alloc_node(1).unwrap(); //~ panic-on-alloc-failure
    let _ = arena::grow_arena(a, 2); //~ discarded-alloc-result
    let _ = grow_arena(a, 2); //~ discarded-alloc-result
    let _ = other::grow_arena_not(a, 2);
    try_alloc_node(a).map_err(|_| Error::Exhausted)?;
    a.try_alloc_node(1).map_err(|_| Error::Parse)?; //~ remapped-alloc-error
    Ok(())
}
