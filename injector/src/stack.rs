//! Symbolizing the raw return addresses of a failed allocation and finding its site.

use crate::outcome::{locates, Classified};
use crate::report::{CoveredStack, Frame, IterationResult};
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

/// Paths of the machinery between the user's code and the allocator: the standard library
/// (and allocator_api2, its `alloc` API on stable), the unwinder, the injector, libtest and the
/// runtime's shims.
const MACHINERY: &[&str] = &[
    "std::",
    "core::",
    "alloc::",
    "allocator_api2::",
    "backtrace::",
    "oomcheck_injector::",
    "test::",
    "__r",
    "rust_",
    "0x",
];

/// Whether a path (a function, or one side of `<Type as Trait>`) is the machinery's. A path
/// without `::` (`[T]`, `T`, `str`) belongs to no crate: it is machinery too (the other side of
/// a trait impl decides).
fn is_machinery_path(path: &str) -> bool {
    let path = path
        .trim_start_matches(['<', '&', '*', '[', '(', ' '])
        .trim_start_matches("mut ")
        .trim_start_matches("dyn ");
    !path.contains("::") || MACHINERY.iter().any(|p| path.starts_with(p))
}

/// Whether a frame belongs to the machinery: a standard library source file, a function of the
/// machinery's paths, or a frame without a Rust path (`start_thread`, `clone3`, `main`). A trait
/// impl is the machinery's only when both its type and its trait are: `<Vec<T> as
/// FallibleVec<T>>::try_push` is fallible_collections' code, `<demo::Foo as Clone>::clone` the
/// demo's.
fn is_machinery(f: &Frame) -> bool {
    let file = f.file.as_deref().unwrap_or("");
    if file.contains("/rustc/")
        || ["std", "core", "alloc"]
            .iter()
            .any(|lib| file.contains(&format!("/library/{lib}/")))
    {
        return true;
    }
    let name = f.function.as_str();
    if let Some((self_ty, rest)) = name.strip_prefix('<').and_then(|n| n.split_once(" as ")) {
        return is_machinery_path(self_ty) && is_machinery_path(rest);
    }
    is_machinery_path(name)
}

/// Whether `site` is code of the test `test` itself (libtest's name, `module::name`): its
/// function, after the crate's name, is the test function or a closure in it.
pub(crate) fn in_test_body(site: &Frame, test: &str) -> bool {
    let name = site.function.trim_start_matches('<');
    let Some((_, path)) = name.split_once("::") else {
        return false;
    };
    path == test
        || path
            .strip_prefix(test)
            .is_some_and(|rest| rest.starts_with("::"))
}

/// The distinct stacks of the results' failed allocations (each cut after the test function
/// `test`), each with the indices that had it, in order of their first index: the record's
/// [`coverage`](crate::Report::coverage).
pub(crate) fn coverage(
    results: &std::collections::BTreeMap<u64, IterationResult>,
    test: &str,
) -> Vec<CoveredStack> {
    let mut stacks: Vec<CoveredStack> = Vec::new();
    let mut at: std::collections::HashMap<Vec<Frame>, usize> = std::collections::HashMap::new();
    for (index, result) in results {
        if result.stack.is_empty() {
            continue;
        }
        let mut stack = result.stack.clone();
        up_to_test(&mut stack, test);
        match at.get(&stack) {
            Some(&i) => stacks[i].indices.push(*index),
            None => {
                at.insert(stack.clone(), stacks.len());
                stacks.push(CoveredStack {
                    stack,
                    indices: vec![*index],
                });
            }
        }
    }
    stacks
}

/// Cuts `stack` after the test function `test` (dropping libtest's wrapper closure under it).
pub(crate) fn up_to_test(stack: &mut Vec<Frame>, test: &str) {
    let is_test = |f: &Frame| {
        f.function
            .split_once("::")
            .is_some_and(|(_, path)| path == test)
    };
    if let Some(at) = stack.iter().position(is_test) {
        stack.truncate(at + 1);
    }
}

/// The stack without the machinery frames (innermost first: the site, then its callers up to
/// the test), and the site: the innermost frame outside the machinery, in whatever crate (a
/// dependency's included).
pub(crate) fn site_of(frames: Vec<Frame>) -> (Option<Frame>, Vec<Frame>) {
    let stack: Vec<Frame> = frames.into_iter().filter(|f| !is_machinery(f)).collect();
    let site = stack.first().cloned();
    (site, stack)
}

/// The site and the filtered stack of raw addresses recorded in a process whose load address was
/// `bias` above this one's (see [`anchor`]).
pub(crate) fn locate(ips: &[usize], bias: usize) -> (Option<Frame>, Vec<Frame>) {
    site_of(symbolize(ips, bias))
}

/// The result of an iteration classified in this process, its failed allocation located when
/// the outcome is a finding or coverage is on (symbolizing costs too much for every index
/// otherwise).
pub(crate) fn located(c: Classified, strict: bool) -> IterationResult {
    let (site, stack) = if locates(c.outcome, strict) {
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
        site_hash: c.site_hash,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;

    fn frame(function: &str, file: &str) -> Frame {
        Frame {
            function: function.into(),
            file: Some(file.into()),
            line: Some(1),
        }
    }

    #[test]
    fn coverage_groups_indices_by_stack_cut_at_the_test() {
        let result = |alloc: u64, stack: Vec<Frame>| IterationResult {
            alloc,
            outcome: Outcome::NoMemory,
            message: String::new(),
            diff: None,
            site: stack.first().cloned(),
            stack,
            stderr: None,
            site_hash: None,
        };
        let site = frame("demo::parse", "src/lib.rs");
        let test = frame("demo::tests::parses", "src/lib.rs");
        let harness = frame("demo::tests::parses::{{closure}}", "src/lib.rs");
        let other = frame("demo::header", "src/lib.rs");
        let results: std::collections::BTreeMap<u64, IterationResult> = [
            result(1, vec![other.clone(), test.clone()]),
            result(2, vec![site.clone(), test.clone(), harness]),
            result(3, vec![]),
            result(4, vec![site.clone(), test.clone()]),
        ]
        .into_iter()
        .map(|r| (r.alloc, r))
        .collect();
        let covered = coverage(&results, "tests::parses");
        assert_eq!(covered.len(), 2);
        assert_eq!(covered[0].stack, [other, test.clone()]);
        assert_eq!(covered[0].indices, [1]);
        assert_eq!(covered[1].stack, [site, test]);
        assert_eq!(covered[1].indices, [2, 4], "index 3 has no stack");
    }

    #[test]
    fn site_is_the_innermost_frame_outside_the_machinery_in_any_crate() {
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
            frame("test::run_test", "/rustc/abc/library/test/src/lib.rs"),
            frame("start_thread", "./nptl/pthread_create.c"),
            frame("clone3", "../sysdeps/unix/sysv/linux/x86_64/clone3.S"),
        ];
        let (site, stack) = site_of(frames);
        assert_eq!(site.unwrap().function, "hashbrown::raw::RawTable::reserve");
        let names: Vec<&str> = stack.iter().map(|f| f.function.as_str()).collect();
        assert_eq!(
            names,
            [
                "hashbrown::raw::RawTable::reserve",
                "demo::parse",
                "demo::tests::t::{{closure}}"
            ]
        );
    }

    #[test]
    fn a_trait_impl_on_a_std_type_is_the_crates_code() {
        let mine = frame(
            "<alloc::vec::Vec<T> as fallible_collections::vec::FallibleVec<T>>::try_push",
            "/h/.cargo/registry/src/x/fallible_collections-0.4.9/src/vec.rs",
        );
        assert!(!is_machinery(&mine));
        let user_clone = Frame {
            file: None,
            ..frame("<demo::Foo as core::clone::Clone>::clone", "")
        };
        assert!(!is_machinery(&user_clone));
        let std_clone = Frame {
            file: None,
            ..frame("<alloc::vec::Vec<T> as core::clone::Clone>::clone", "")
        };
        assert!(is_machinery(&std_clone));
        let slice = Frame {
            file: None,
            ..frame("<[T] as alloc::slice::hack::ConvertVec>::to_vec", "")
        };
        assert!(is_machinery(&slice));
        let shim = Frame {
            file: None,
            ..frame(
                "<oomcheck_injector::alloc::FailingAllocator as core::alloc::global::GlobalAlloc>::alloc",
                "",
            )
        };
        assert!(is_machinery(&shim));
        // allocator_api2's `Global` is std's allocator API on stable: hashbrown's frame is the site.
        let api2 = Frame {
            file: None,
            ..frame(
                "<allocator_api2::stable::alloc::global::Global as allocator_api2::stable::alloc::Allocator>::allocate",
                "",
            )
        };
        assert!(is_machinery(&api2));
    }

    #[test]
    fn a_site_in_the_test_function_is_the_test_body() {
        let closure = frame("plain::parses::{{closure}}", "/t/tests/plain.rs");
        assert!(in_test_body(&closure, "parses"));
        assert!(!in_test_body(&closure, "parse"));
        let unit = frame("demo::tests::t::{{closure}}", "/src/lib.rs");
        assert!(in_test_body(&unit, "tests::t"));
        assert!(!in_test_body(
            &frame("demo::parse", "/src/lib.rs"),
            "tests::t"
        ));
        let mut stack = vec![
            frame("demo::parse", "/src/lib.rs"),
            closure.clone(),
            frame("plain::parses", "/t/tests/plain.rs"),
            frame("plain::parses::{{closure}}", "/t/tests/plain.rs"),
        ];
        up_to_test(&mut stack, "parses");
        assert_eq!(stack.len(), 3);
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
