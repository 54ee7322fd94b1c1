//! Raw return addresses of one allocation, captured without allocating: what the allocator
//! records for a failed allocation and site dedup hashes. Symbolizing them is `stack.rs`'s
//! business, later and outside the armed region.

/// Most return addresses kept for one allocation (and the deepest site dedup can hash).
pub const MAX_FRAMES: usize = 48;

/// Raw return addresses of one allocation, innermost first.
#[derive(Clone, Copy)]
pub(crate) struct RawFrames {
    len: usize,
    ips: [usize; MAX_FRAMES],
}

impl RawFrames {
    /// No frames.
    pub(crate) const EMPTY: RawFrames = RawFrames {
        len: 0,
        ips: [0; MAX_FRAMES],
    };

    /// The captured addresses.
    pub(crate) fn as_slice(&self) -> &[usize] {
        &self.ips[..self.len.min(MAX_FRAMES)]
    }

    /// Up to [`MAX_FRAMES`] return addresses of the calling thread's stack, innermost first.
    ///
    /// # Safety
    /// The unwinder runs unsynchronised: the calling thread must not be able to re-enter it
    /// meanwhile (inside the allocator, its re-entrancy guard must be set). The walk itself
    /// neither allocates nor panics.
    #[inline(never)]
    pub(crate) unsafe fn capture() -> RawFrames {
        let mut frames = RawFrames::EMPTY;
        backtrace::trace_unsynchronized(|frame| {
            frames.ips[frames.len] = frame.ip() as usize;
            frames.len += 1;
            frames.len < MAX_FRAMES
        });
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capture_holds_at_most_max_frames_of_this_stack() {
        // SAFETY: not inside the allocator; nothing on this thread re-enters the unwinder.
        let frames = unsafe { RawFrames::capture() };
        assert!(!frames.as_slice().is_empty());
        assert!(frames.as_slice().len() <= MAX_FRAMES);
        assert!(RawFrames::EMPTY.as_slice().is_empty());
    }
}
