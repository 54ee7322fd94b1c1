//! Symbolizing the raw return addresses of a failed allocation and finding its site.

use crate::outcome::Classified;
use crate::report::{Frame, IterationResult};

/// A function of this binary whose address, recorded by a child and compared with the
/// supervisor's, gives the difference of their load bases (binaries are position-independent).
#[inline(never)]
pub(crate) fn anchor() -> usize {
    anchor as fn() -> usize as usize
}

/// Symbolizes raw return addresses (innermost first) into frames; inlined calls give several
/// frames for one address. `bias` is subtracted from every address first.
pub(crate) fn symbolize(ips: &[usize], bias: usize) -> Vec<Frame> {
    let mut frames = Vec::new();
    for &ip in ips {
        let ip = ip.wrapping_sub(bias);
        let mut any = false;
        backtrace::resolve(ip as *mut std::ffi::c_void, |sym| {
            any = true;
            let function = sym
                .name()
                .map(|n| format!("{n:#}"))
                .unwrap_or_else(|| format!("{ip:#x}"));
            frames.push(Frame {
                function,
                file: sym.filename().map(|p| p.display().to_string()),
                line: sym.lineno(),
            });
        });
        if !any {
            frames.push(Frame {
                function: format!("{ip:#x}"),
                file: None,
                line: None,
            });
        }
    }
    frames
}

/// Whether a frame belongs to the machinery between the user's code and the allocator.
fn is_machinery(f: &Frame) -> bool {
    let name = f.function.trim_start_matches('<');
    const PREFIXES: &[&str] = &[
        "std::",
        "core::",
        "alloc::",
        "backtrace::",
        "oomcheck_injector::",
        "__rust",
        "rust_",
        "test::",
        "__libc",
        "_start",
        "__GI_",
        "0x",
    ];
    if PREFIXES.iter().any(|p| name.starts_with(p)) {
        return true;
    }
    let file = f.file.as_deref().unwrap_or("");
    file.contains("/rustc/") || file.contains("/library/std/") || file.contains("/library/core/")
}

/// Whether a frame is code of a dependency downloaded by cargo.
fn is_dependency(f: &Frame) -> bool {
    let file = f.file.as_deref().unwrap_or("");
    file.contains("/.cargo/registry/") || file.contains("/.cargo/git/")
}

/// The stack without the machinery frames, and the site: the first frame of the user's own code,
/// else the first frame outside the machinery (a dependency's).
pub(crate) fn site_of(frames: Vec<Frame>) -> (Option<Frame>, Vec<Frame>) {
    let stack: Vec<Frame> = frames.into_iter().filter(|f| !is_machinery(f)).collect();
    let site = stack
        .iter()
        .find(|f| !is_dependency(f))
        .or_else(|| stack.first())
        .cloned();
    (site, stack)
}

/// The site and the filtered stack of raw addresses recorded in a process whose load address was
/// `bias` above this one's (see [`anchor`]).
pub(crate) fn locate(ips: &[usize], bias: usize) -> (Option<Frame>, Vec<Frame>) {
    site_of(symbolize(ips, bias))
}

/// The result of an iteration classified in this process, its failed allocation located when
/// the outcome is a finding (symbolizing costs too much for every index).
pub(crate) fn located(c: Classified, strict: bool) -> IterationResult {
    let (site, stack) = if c.outcome.is_finding(strict) {
        locate(c.frames.as_slice(), 0)
    } else {
        (None, Vec::new())
    };
    IterationResult {
        alloc: c.alloc,
        outcome: c.outcome,
        message: c.message,
        diff: c.diff,
        site,
        stack,
        stderr: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(function: &str, file: &str) -> Frame {
        Frame {
            function: function.into(),
            file: Some(file.into()),
            line: Some(1),
        }
    }

    #[test]
    fn site_skips_std_and_dependencies() {
        let frames = vec![
            frame(
                "oomcheck_injector::alloc::record_failure",
                "/x/injector/src/alloc.rs",
            ),
            frame(
                "alloc::raw_vec::finish_grow",
                "/rustc/abc/library/alloc/src/raw_vec.rs",
            ),
            frame(
                "<alloc::vec::Vec<T> as core::clone::Clone>::clone",
                "/rustc/abc/library/alloc/src/vec.rs",
            ),
            frame(
                "hashbrown::raw::RawTable::reserve",
                "/h/.cargo/registry/src/x/hashbrown/raw.rs",
            ),
            frame("demo::parse", "/src/lib.rs"),
            frame("demo::tests::t::{{closure}}", "/src/lib.rs"),
        ];
        let (site, stack) = site_of(frames);
        assert_eq!(site.unwrap().function, "demo::parse");
        assert_eq!(stack.len(), 3);
        assert_eq!(stack[0].function, "hashbrown::raw::RawTable::reserve");
    }

    #[test]
    fn symbolizes_an_address_of_this_binary() {
        let frames = symbolize(&[anchor() + 1], 0);
        assert!(
            frames.iter().any(|f| f.function.contains("anchor")),
            "{frames:?}"
        );
    }
}
