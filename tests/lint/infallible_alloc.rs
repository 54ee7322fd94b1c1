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
    // Within the capacity reserved just above: cannot allocate, not flagged.
    v.push(1);
    v.try_reserve(2)?;
    for b in [2, 3] {
        // A loop is beyond what the analysis counts: the author vouches for both passes.
        // oomcheck:allow(infallible-alloc) capacity reserved above for both passes
        v.push(b);
    }
    let b = Box::try_new(1u8)?;
    let _ = b;
    Ok(())
}

// Growth covered by the reservation before it: not flagged.
struct Window {
    buf: Vec<u8>,
    pos: usize,
}

impl Window {
    fn grow(&mut self, target: usize) -> Result<(), Error> {
        self.buf
            .try_reserve_exact(target - self.buf.len())
            .map_err(|_| Error::OutOfMemory)?;
        self.buf.resize(target, 0);
        Ok(())
    }

    fn save(&self, end: usize, full: bool) -> Result<Vec<u8>, TryReserveError> {
        let mut saved = Vec::new();
        if full {
            saved.try_reserve_exact(end - self.pos)?;
            saved.extend_from_slice(&self.buf[self.pos..end]);
        }
        Ok(saved)
    }

    fn copy(data: &[u8], n: usize) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        out.try_reserve(data.len())?;
        out.extend_from_slice(data);
        let Ok(()) = out.try_reserve(n) else {
            return Err(Error::OutOfMemory);
        };
        if cond() {
            out.resize(n, 0);
        }
        Ok(out)
    }

    // The crate's own `repeat`, which returns a `Result`: not `str::repeat`.
    fn repeat(&mut self, dist: usize, len: usize) -> Result<(), Error> {
        let _ = (dist, len);
        Ok(())
    }

    fn pending(&mut self) -> Result<(), Error> {
        self.repeat(1, 2)?;
        Ok(())
    }
}

fn decode(w: &mut Window) -> Result<(), Error> {
    w.repeat(1, 2)
}

// Growth the reservation does not cover: still flagged.
fn uncovered(v: &mut Vec<u8>, w: &mut Vec<u8>, s: &mut String, n: usize, xs: &[u8]) -> Result<(), TryReserveError> {
    v.try_reserve(1)?;
    v.push(1);
    v.push(2); //~ infallible-alloc
    w.try_reserve(1)?;
    for x in xs {
        w.push(*x); //~ infallible-alloc
    }
    let mut m = n;
    v.try_reserve(m)?;
    m += 1;
    v.resize(m, 0); //~ infallible-alloc
    w.try_reserve(2)?;
    w.extend_from_slice(&[1, 2, 3]); //~ infallible-alloc
    let _ = v.try_reserve(xs.len()); //~ discarded-alloc-result
    v.extend_from_slice(xs); //~ infallible-alloc
    s.try_reserve(1)?;
    s.push('é'); //~ infallible-alloc
    let r = "ab".repeat(3); //~ infallible-alloc
    let _ = r;
    Ok(())
}
