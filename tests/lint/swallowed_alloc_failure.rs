// Failure turned into success or absence.
fn option_forms(v: &mut Vec<u8>, n: usize) -> Option<usize> {
    v.try_reserve(n).ok()?; //~ swallowed-alloc-failure
    let a = v.try_reserve(n).unwrap_or(()); //~ swallowed-alloc-failure
    let b = v.try_reserve(n).unwrap_or_default(); //~ swallowed-alloc-failure
    let c = v.try_reserve(n).unwrap_or_else(|_| ()); //~ swallowed-alloc-failure
    let d = v.try_reserve(n).map(|_| 1).unwrap_or(0); //~ swallowed-alloc-failure
    let e = v.try_reserve(n).map_or(false, |_| true); //~ swallowed-alloc-failure
    let f = v.try_reserve(n).ok().unwrap_or_default(); //~ swallowed-alloc-failure
    let g = v.try_reserve(n).or(Ok(())); //~ swallowed-alloc-failure
    let h = v.try_reserve(n).map(|_| n).ok()?; //~ related:swallowed-alloc-failure
    Some(d + h)
}

fn branches(v: &mut Vec<u8>, n: usize) {
    if v.try_reserve(n).is_ok() { //~ swallowed-alloc-failure
        v.push(1);
    }
    if let Ok(()) = v.try_reserve(n) { //~ swallowed-alloc-failure
        v.push(2);
    }
    if let Some(()) = v.try_reserve(n).ok() { //~ swallowed-alloc-failure
        v.push(3);
    }
    match v.try_reserve(n) { //~ swallowed-alloc-failure
        Ok(()) => v.push(3),
        Err(_) => {}
    }
    match v.try_reserve(n) { //~ swallowed-alloc-failure
        Ok(()) => v.push(4),
        Err(e) => eprintln!("no room: {e}"),
    }
    let table: Vec<u32> = match Vec::try_with_capacity(n) { //~ swallowed-alloc-failure
        Ok(t) => t,
        Err(_) => Vec::new(),
    };
    let _ = table;
}

fn early_exits(items: &[u32]) -> Result<(), std::fmt::Error> {
    let mut v = Vec::new();
    for _ in items {
        if v.try_reserve(1).is_err() { //~ swallowed-alloc-failure
            continue;
        }
        v.push(1);
    }
    while !v.is_empty() {
        if v.try_reserve(1).is_err() { //~ swallowed-alloc-failure
            break;
        }
        v.pop();
    }
    if !v.try_reserve(2).is_ok() { //~ swallowed-alloc-failure
        return Ok(());
    }
    if let Err(_) = v.try_reserve(3) { //~ swallowed-alloc-failure
        return Ok(());
    }
    let closure = |v: &mut Vec<u8>| -> Option<()> {
        v.try_reserve(1).ok()?; //~ swallowed-alloc-failure
        Some(())
    };
    let _ = closure;
    Ok(())
}

struct Cache {
    entries: Vec<u64>,
}

impl Cache {
    fn add(&mut self, x: u64) -> bool {
        self.entries
            .try_reserve(1) //~ swallowed-alloc-failure
            .map(|()| self.entries.push(x))
            .unwrap_or(());
        match self.entries.try_reserve(1).map(|_| x) { //~ swallowed-alloc-failure
            Ok(_) => true,
            Err(_) => false,
        }
    }
}

// One finding per root cause at the signature: in a function returning `Option`, each
// `….ok()?` turns an allocation failure into `None`, and the return type is where all are
// fixed (mp4parse's `create_sample_table`). One finding at the first site, the others related.
fn create_sample_table(v: &mut Vec<u32>, n: usize) -> Option<Vec<u32>> {
    let mut table: Vec<u32> = Vec::new();
    table.try_reserve_exact(n).ok()?; //~ swallowed-alloc-failure
    for i in 0..n {
        v.try_reserve(1).ok()?; //~ related:swallowed-alloc-failure
        v.push(i as u32);
    }
    let reserved = table.try_reserve(n).ok(); //~ related:swallowed-alloc-failure
    reserved?;
    // Another handling in the same function stays its own finding.
    let _ = v.try_reserve(n).unwrap_or(()); //~ swallowed-alloc-failure
    // A `?` inside a closure leaves the closure, not the function: its own finding.
    let grow = |w: &mut Vec<u32>| -> Option<()> {
        w.try_reserve(1).ok()?; //~ swallowed-alloc-failure
        Some(())
    };
    grow(&mut table)?;
    Some(table)
}

// One site: the ordinary message.
fn one_site(v: &mut Vec<u8>) -> Option<()> {
    v.try_reserve(1).ok()?; //~ swallowed-alloc-failure
    Some(())
}

// Suppression comments per site: on the first site's line, the whole group is allowed…
fn allowed_group(v: &mut Vec<u8>) -> Option<()> {
    // oomcheck:allow(swallowed-alloc-failure) `None` is documented as "no room" to the caller
    v.try_reserve(1).ok()?;
    v.try_reserve(2).ok()?;
    Some(())
}

// …on another site's line, that site leaves the group…
fn allowed_site(v: &mut Vec<u8>) -> Option<()> {
    v.try_reserve(1).ok()?; //~ swallowed-alloc-failure
    // oomcheck:allow(swallowed-alloc-failure) an optional cache
    v.try_reserve(2).ok()?;
    let n = v.len();
    v.try_reserve(n).ok()?; //~ related:swallowed-alloc-failure
    Some(())
}

// …and a group left with one site is an ordinary finding.
fn allowed_down_to_one(v: &mut Vec<u8>) -> Option<()> {
    v.try_reserve(1).ok()?; //~ swallowed-alloc-failure
    v.try_reserve(2).ok()?; // oomcheck:allow(swallowed-alloc-failure) an optional cache
    Some(())
}
