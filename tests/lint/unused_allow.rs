// Suppression comments: used ones silence findings, unused or unknown ones are reported.
fn suppressed(v: &mut Vec<u8>) {
    // oomcheck:allow(discarded-alloc-result) best effort: the cache works without the room
    let _ = v.try_reserve(1);
    let _ = v.try_reserve(2); // oomcheck:allow(discarded-alloc-result) same line
    // oomcheck:allow(panic-on-alloc-failure, discarded-alloc-result) one of two used //~ unused-allow
    v.try_reserve(3).unwrap();
}

fn stale(v: &mut Vec<u8>) {
    // oomcheck:allow(panic-on-alloc-failure) nothing is flagged here //~ unused-allow
    let x = 1;
    // oomcheck:allow(no-such-rule) typo in the rule id //~ unused-allow
    let y = 2;
    // oomcheck:allow(discarded-alloc-result) wrong rule for the line below //~ unused-allow
    v.try_reserve(4).unwrap(); //~ panic-on-alloc-failure
    // oomcheck:allow(discarded-alloc-result) two lines above the finding //~ unused-allow

    let _ = v.try_reserve(5); //~ discarded-alloc-result
    // oomcheck:allow broken comment without parentheses //~ unused-allow
    let _ = (x, y);
}

#[cfg(test)]
mod tests {
    // oomcheck:allow(panic-on-alloc-failure) inside skipped test code: not judged
    fn helper() {}
}

struct Buf {
    data: Vec<u8>,
}

impl Buf {
    fn grow(&mut self) {
        // oomcheck:allow(panic-on-alloc-failure) start-up only: aborting is the policy
        self.data
            .try_reserve(64)
            .expect("start-up allocation");
    }
}
