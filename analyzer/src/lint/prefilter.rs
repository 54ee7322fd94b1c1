//! The text prefilter: which files are worth parsing. A file mentions none of the active
//! packs' names (and no allocation wrapper or receiver-typed field found in other files) cannot
//! hold an allocation call, so it is never parsed. A syntax error in such a file is therefore
//! not reported: `rustc` reports it anyway.
use aho_corasick::AhoCorasick;
use rayon::prelude::*;

use super::read::Loaded;

/// How a prefilter needle must occur for a file to be kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Occurrence {
    /// Anywhere (type names such as `TryReserveError`, `oomcheck:allow`).
    Anywhere,
    /// Inside an identifier that is called: followed (after the rest of the identifier and
    /// spaces) by `(`, `!` or `::<`. A pack's function and method names only matter as calls,
    /// and this keeps the needle `alloc` (which stands for `malloc`, `realloc`, `alloc_zeroed`…)
    /// from selecting every file that says `allocator` or `std::alloc::Layout`.
    Call,
    /// As a whole identifier (names of wrappers and fields found in other files).
    Word,
}

/// The file-selection test of one prefilter round.
pub(crate) struct Prefilter {
    matcher: AhoCorasick,
    kinds: Vec<Occurrence>,
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Prefilter {
    /// Round one: the packs' needles; lower-case identifiers must be called.
    pub(crate) fn calls(needles: &[String]) -> Option<Prefilter> {
        let kinds = needles
            .iter()
            .map(|n| {
                let ident = n.bytes().all(|b| is_ident_byte(b) || b == b':');
                if ident && n.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
                    Occurrence::Call
                } else {
                    Occurrence::Anywhere
                }
            })
            .collect();
        Prefilter::new(needles, kinds)
    }

    /// Round two: names from other files, as whole identifiers.
    pub(crate) fn words(needles: &[String]) -> Option<Prefilter> {
        Prefilter::new(needles, vec![Occurrence::Word; needles.len()])
    }

    fn new(needles: &[String], kinds: Vec<Occurrence>) -> Option<Prefilter> {
        let matcher = AhoCorasick::new(needles).ok()?;
        Some(Prefilter { matcher, kinds })
    }

    /// Whether `text` has a qualifying occurrence of a needle.
    fn keeps(&self, text: &str) -> bool {
        let bytes = text.as_bytes();
        self.matcher
            .find_overlapping_iter(text)
            .any(|m| match self.kinds[m.pattern().as_usize()] {
                Occurrence::Anywhere => true,
                Occurrence::Word => {
                    let before = m.start().checked_sub(1).map(|i| bytes[i]);
                    let after = bytes.get(m.end()).copied();
                    !before.is_some_and(is_ident_byte) && !after.is_some_and(is_ident_byte)
                }
                Occurrence::Call => {
                    let mut i = m.end();
                    while i < bytes.len() && is_ident_byte(bytes[i]) {
                        i += 1;
                    }
                    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    let rest = &bytes[i..];
                    rest.starts_with(b"(") || rest.starts_with(b"!") || rest.starts_with(b"::<")
                }
            })
    }
}

/// Take the files of `pending` that `filter` keeps (and, when `with_oom_safe`, every file in
/// an `infallible-alloc` scope); everything when there is no filter.
pub(crate) fn take_matching(
    pool: &rayon::ThreadPool,
    pending: &mut [Option<Loaded>],
    filter: Option<Prefilter>,
    with_oom_safe: bool,
) -> Vec<Loaded> {
    let hits: Vec<bool> = match filter {
        Some(f) => pool.install(|| {
            pending
                .par_iter()
                .map(|s| {
                    s.as_ref().is_some_and(|l| {
                        (with_oom_safe && l.infallible_alloc_checked) || f.keeps(&l.text)
                    })
                })
                .collect()
        }),
        // Needles that cannot be compiled (absurdly many): take everything.
        None => vec![true; pending.len()],
    };
    pending
        .iter_mut()
        .zip(hits)
        .filter(|(_, hit)| *hit)
        .filter_map(|(slot, _)| slot.take())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keeps(f: &Option<Prefilter>, text: &str) -> bool {
        f.as_ref().expect("prefilter").keeps(text)
    }

    #[test]
    fn call_needles_must_be_called() {
        let f = Prefilter::calls(&["alloc".into(), "try_vec".into(), "TryReserveError".into()]);
        assert!(keeps(&f, "let p = alloc(layout);"));
        assert!(keeps(&f, "let p = libc::malloc (16);"));
        assert!(keeps(&f, "let p = std::alloc::alloc_zeroed(l);"));
        assert!(keeps(&f, "let v = try_vec![0; n]?;"));
        assert!(keeps(&f, "x.alloc::<u8>()"));
        assert!(keeps(&f, "fn f() -> Result<(), TryReserveError>"));
        assert!(!keeps(&f, "use std::alloc::Layout; // allocator"));
        assert!(!keeps(&f, "extern crate alloc;"));
    }

    #[test]
    fn word_needles_are_whole_identifiers() {
        let f = Prefilter::words(&["grow_buf".into(), "buf".into()]);
        assert!(keeps(&f, "grow_buf(&mut v)?;"));
        assert!(keeps(&f, "self.buf.push(1)"));
        assert!(!keeps(&f, "let buffer = regrow_buffer();"));
    }
}
