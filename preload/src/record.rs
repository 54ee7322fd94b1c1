//! Journal records, formatted in stack buffers and written with one `write` each.
use core::ffi::c_int;

use crate::protocol::{TAG_COUNT, TAG_FORKED, TAG_MAPS, TAG_MAPS_BEGIN};
use crate::sys;
use crate::walk::Stack;

/// A record being formatted: at most `N` bytes, silently cut beyond.
pub struct Line<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Line<N> {
    pub const fn new() -> Self {
        Line {
            buf: [0; N],
            len: 0,
        }
    }

    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        let n = b.len().min(N - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
        self
    }

    pub fn byte(&mut self, b: u8) -> &mut Self {
        self.bytes(&[b])
    }

    /// `n` in decimal (a leading `-` for negative numbers).
    pub fn dec(&mut self, n: i64) -> &mut Self {
        if n < 0 {
            self.byte(b'-');
        }
        self.digits(n.unsigned_abs(), 10)
    }

    /// `n` in hexadecimal, without a prefix.
    pub fn hex(&mut self, n: usize) -> &mut Self {
        self.digits(n as u64, 16)
    }

    fn digits(&mut self, mut n: u64, radix: u64) -> &mut Self {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b"0123456789abcdef"[(n % radix) as usize];
            n /= radix;
            if n == 0 {
                break;
            }
        }
        self.bytes(&tmp[i..])
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Writes the record (one `write`; a short write is not retried: the journal is a regular
    /// file, where writes are whole).
    pub unsafe fn write(&self, fd: c_int) {
        if fd >= 0 {
            sys::write(fd, self.buf.as_ptr().cast(), self.len);
        }
    }
}

/// `tag index ip…`
pub unsafe fn stack(fd: c_int, tag: u8, index: u64, stack: &Stack) {
    let mut l = Line::<1400>::new();
    l.byte(tag).byte(b' ').dec(index as i64);
    for &ip in stack.frames() {
        l.byte(b' ').hex(ip);
    }
    l.byte(b'\n').write(fd);
}

/// `N count`
pub unsafe fn count(fd: c_int, count: u64) {
    let mut l = Line::<32>::new();
    l.byte(TAG_COUNT).byte(b' ').dec(count as i64).byte(b'\n');
    l.write(fd);
}

/// How a fork-server child ended, and where the server's output stood when it forked.
pub struct Forked {
    pub index: u64,
    pub status: i64,
    pub timed_out: bool,
    pub stdout_offset: i64,
    pub stderr_offset: i64,
}

/// `S index status timed-out stdout-offset stderr-offset`
pub unsafe fn forked(fd: c_int, f: &Forked) {
    let mut l = Line::<128>::new();
    l.byte(TAG_FORKED).byte(b' ').dec(f.index as i64);
    l.byte(b' ')
        .dec(f.status)
        .byte(b' ')
        .dec(f.timed_out as i64);
    l.byte(b' ').dec(f.stdout_offset);
    l.byte(b' ').dec(f.stderr_offset).byte(b'\n');
    l.write(fd);
}

/// `B`, then `/proc/self/maps` in `m <length>` pieces.
pub unsafe fn maps(fd: c_int) {
    if fd < 0 {
        return;
    }
    let maps = sys::open(c"/proc/self/maps".as_ptr(), sys::O_RDONLY | sys::O_CLOEXEC);
    if maps < 0 {
        return;
    }
    let mut begin = Line::<2>::new();
    begin.byte(TAG_MAPS_BEGIN).byte(b'\n').write(fd);
    // Room before the data for its `m <length>\n` header, so each piece is one write.
    const HEAD: usize = 24;
    let mut buf = [0u8; HEAD + 4000];
    loop {
        let n = sys::read(maps, buf[HEAD..].as_mut_ptr().cast(), buf.len() - HEAD);
        if n <= 0 {
            break;
        }
        let mut head = Line::<HEAD>::new();
        head.byte(TAG_MAPS).byte(b' ').dec(n as i64).byte(b'\n');
        let h = head.as_bytes();
        let start = HEAD - h.len();
        buf[start..HEAD].copy_from_slice(h);
        sys::write(fd, buf[start..].as_ptr().cast(), h.len() + n as usize);
    }
    sys::close(maps);
}
