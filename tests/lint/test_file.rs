//@ test-file
// A whole test file (under a crate's `tests/`): skipped, allow comments included.
#[test]
fn t() {
    let mut v: Vec<u8> = Vec::new();
    v.try_reserve(1).unwrap();
    // oomcheck:allow(discarded-alloc-result) not judged in a skipped file
    let _ = v.try_reserve(2);
}

fn helper(v: &mut Vec<u8>) {
    v.try_reserve(1).expect("room");
}
