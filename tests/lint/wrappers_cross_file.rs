//@ aux: aux_wrappers.rs
// Calls wrappers defined in another file; the code names no allocation API itself.
fn caller(buf: &mut Vec<u8>) {
    grow_buffer(buf, 16).unwrap(); //~ panic-on-alloc-failure
    let _ = reserve_twice(buf); //~ discarded-alloc-result
    not_a_wrapper(buf).unwrap();
}
