//@ include-tests
// With include-tests, test code is analysed too.
#[cfg(test)]
mod tests {
    #[test]
    fn t() {
        let mut v: Vec<u8> = Vec::new();
        v.try_reserve(1).unwrap(); //~ panic-on-alloc-failure
    }
}

#[test]
fn top_level_test() {
    let _ = Vec::<u8>::new().try_reserve(1); //~ discarded-alloc-result
}
