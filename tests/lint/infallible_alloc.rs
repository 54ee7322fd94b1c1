//@ infallible-alloc
// An OOM-safe module: aborting allocations are flagged.
fn build(items: &[u32]) -> Vec<String> {
    let mut out = Vec::with_capacity(items.len()); //~ infallible-alloc
    for i in items {
        out.push(i.to_string()); //~ infallible-alloc infallible-alloc
    }
    let b = Box::new(5); //~ infallible-alloc
    let s = format!("{}", b); //~ infallible-alloc
    let v = vec![1, 2, 3]; //~ infallible-alloc
    let c: Vec<u32> = items.iter().copied().collect(); //~ infallible-alloc
    let t = String::from("x"); //~ infallible-alloc
    let _ = (s, v, c, t);
    out
}

fn fallible(v: &mut Vec<u8>) -> Result<(), std::collections::TryReserveError> {
    v.try_reserve(1)?;
    // oomcheck:allow(infallible-alloc) capacity reserved above
    v.push(1);
    let b = Box::try_new(1u8)?;
    let _ = b;
    Ok(())
}
