// Test code is skipped by default.
fn real(v: &mut Vec<u8>) {
    v.try_reserve(1).unwrap(); //~ panic-on-alloc-failure
}

#[cfg(test)]
mod tests {
    #[test]
    fn t() {
        let mut v: Vec<u8> = Vec::new();
        v.try_reserve(1).unwrap();
        // oomcheck:allow(panic-on-alloc-failure) in skipped code: not judged
    }
}

#[test]
fn top_level_test() {
    Vec::<u8>::new().try_reserve(1).unwrap();
}

#[tokio::test]
async fn async_test() {
    let _ = Vec::<u8>::new().try_reserve(1);
}

#[cfg(all(test, feature = "slow"))]
fn helper(v: &mut Vec<u8>) {
    v.try_reserve(1).expect("test");
}

#[cfg(not(test))]
fn not_test(v: &mut Vec<u8>) {
    v.try_reserve(1).unwrap(); //~ panic-on-alloc-failure
}

struct S(Vec<u8>);

impl S {
    #[cfg(test)]
    fn only_in_tests(&mut self) {
        self.0.try_reserve(1).unwrap();
    }
}
