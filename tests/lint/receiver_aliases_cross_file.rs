//@ aux: aux_rows.rs
// The alias is declared in another file; this file names neither the pack nor its types.
pub fn fill(n: usize) -> Option<Rows<u8>> {
    let mut rows = Rows::with_capacity(n).unwrap(); //~ panic-on-alloc-failure
    rows.push(1).ok()?; //~ swallowed-alloc-failure
    Some(rows)
}
