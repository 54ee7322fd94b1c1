// Rust-for-Linux: allocations take GFP flags; `KVec::push(x, flags)` is fallible.
use kernel::prelude::*;

struct Dev {
    queue: KVec<u32>,
}

impl Dev {
    fn enqueue(&mut self, x: u32) {
        let _ = self.queue.push(x, GFP_KERNEL); //~ discarded-alloc-result
    }
}

fn k(v: &mut KVec<u8>) -> Result {
    v.push(1, GFP_KERNEL).unwrap(); //~ panic-on-alloc-failure
    let mut w = KVec::new();
    let _ = w.push(2, GFP_KERNEL); //~ discarded-alloc-result
    let b = KBox::new(5, GFP_KERNEL).expect("x"); //~ panic-on-alloc-failure
    let mut plain = Vec::new();
    let _ = plain.push(3);
    v.push(1, GFP_KERNEL)?;
    v.push(2, GFP_KERNEL).map_err(|_| ENOMEM)?;
    v.push(3, GFP_KERNEL).map_err(|_| EINVAL)?; //~ remapped-alloc-error
    let _ = b;
    Ok(())
}
