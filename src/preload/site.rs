//! From a failed allocation's raw stack to its site: the frames that are the program's own, and
//! among them the one to report.
use std::path::{Path, PathBuf};

use oomcheck_injector::Frame;

use super::symbolize::{Mapping, Symbolizer};

/// A symbolized frame with the file it was loaded from.
#[derive(Debug, Clone)]
pub struct ModuleFrame {
    /// The executable or shared library.
    pub module: Option<PathBuf>,
    /// The frame.
    pub frame: Frame,
}

/// Symbolizes `ips` (innermost first) in a process with load map `maps`, dropping the
/// interposer's own frames.
pub fn symbolize(
    symbolizer: &mut Symbolizer,
    maps: &[Mapping],
    ips: &[u64],
    interposer: &Path,
) -> Vec<ModuleFrame> {
    let mut out = Vec::new();
    for &ip in ips {
        let located = symbolizer.locate(maps, ip);
        if located.module.as_deref() == Some(interposer) {
            continue;
        }
        for frame in located.frames {
            out.push(ModuleFrame {
                module: located.module.clone(),
                frame,
            });
        }
    }
    out
}

/// A crate's own code: what `oomcheck run --preload` sweeps by default.
#[derive(Debug, Clone)]
pub struct OwnCode {
    /// The package's directory (its own code is below it, outside `tests/`, `benches/` and
    /// `examples/`).
    pub root: PathBuf,
    /// The test being swept, as libtest names it: its own frames are test code.
    pub test: String,
}

impl OwnCode {
    /// Whether `f` is the crate's own non-test code.
    pub fn contains(&self, f: &Frame) -> bool {
        let Some(file) = f.file.as_deref().map(Path::new) else {
            return false;
        };
        let Ok(rel) = file.strip_prefix(&self.root) else {
            return false;
        };
        if ["tests", "benches", "examples", "target"]
            .iter()
            .any(|d| rel.starts_with(d))
        {
            return false;
        }
        // Unit tests live in the crate's files: their module (`tests` or `test`, by convention)
        // and the test itself are test code.
        let test_fn = format!("::{}", self.test);
        !(f.function.contains("::tests::")
            || f.function.contains("::test::")
            || f.function.ends_with(&test_fn)
            || f.function.contains(&format!("{test_fn}::")))
    }
}

/// Whether a frame belongs to the machinery between the program's code and the allocator: the
/// system's libraries (C library, loader, unwinder, C++ runtime) and Rust's standard library.
fn is_machinery(f: &ModuleFrame) -> bool {
    let system = f.module.as_deref().is_some_and(|m| {
        [
            "/lib/",
            "/lib64/",
            "/usr/lib/",
            "/usr/lib64/",
            "/usr/libexec/",
        ]
        .iter()
        .any(|p| m.starts_with(p))
    });
    let name = f.frame.function.trim_start_matches('<');
    const RUST: &[&str] = &[
        "std::", "core::", "alloc::", "__rust", "rust_", "test::", "__libc", "_start", "0x",
    ];
    let file = f.frame.file.as_deref().unwrap_or("");
    system
        || RUST.iter().any(|p| name.starts_with(p))
        || file.contains("/rustc/")
        || file.contains("/library/std/")
        || file.contains("/library/core/")
        || file.contains("/library/alloc/")
}

/// Whether a frame is a dependency's code downloaded by cargo.
fn is_dependency(f: &Frame) -> bool {
    let file = f.file.as_deref().unwrap_or("");
    file.contains("/.cargo/registry/") || file.contains("/.cargo/git/")
}

/// The stack without machinery frames, and the site: the first frame of the crate's own code
/// (with `own`), else the first frame that is not a dependency's, else the first frame.
pub fn site_of(frames: &[ModuleFrame], own: Option<&OwnCode>) -> (Option<Frame>, Vec<Frame>) {
    let stack: Vec<Frame> = frames
        .iter()
        .filter(|f| !is_machinery(f))
        .map(|f| f.frame.clone())
        .collect();
    let site = own
        .and_then(|o| stack.iter().find(|f| o.contains(f)))
        .or_else(|| stack.iter().find(|f| !is_dependency(f)))
        .or_else(|| stack.first())
        .cloned();
    (site, stack)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mf(module: &str, function: &str, file: &str) -> ModuleFrame {
        ModuleFrame {
            module: Some(module.into()),
            frame: Frame {
                function: function.into(),
                file: (!file.is_empty()).then(|| file.into()),
                line: Some(3),
            },
        }
    }

    #[test]
    fn the_site_is_the_first_frame_past_the_c_library_and_std() {
        let frames = [
            mf(
                "/usr/lib/x86_64-linux-gnu/libc.so.6",
                "_IO_file_doallocate",
                "",
            ),
            mf(
                "/t/prog",
                "alloc::raw_vec::finish_grow",
                "/rustc/x/library/alloc/src/raw_vec.rs",
            ),
            mf(
                "/t/prog",
                "dep::grow",
                "/h/.cargo/registry/src/x/dep/lib.rs",
            ),
            mf("/t/prog", "main", "/t/prog.c"),
        ];
        let (site, stack) = site_of(&frames, None);
        assert_eq!(site.unwrap().function, "main");
        assert_eq!(stack.len(), 2);
    }

    #[test]
    fn own_code_excludes_tests_and_the_test_itself() {
        let own = OwnCode {
            root: "/w/fix".into(),
            test: "tests::parses".into(),
        };
        let f = |function: &str, file: &str| Frame {
            function: function.into(),
            file: Some(file.into()),
            line: Some(1),
        };
        assert!(own.contains(&f("fix::parse", "/w/fix/src/lib.rs")));
        assert!(!own.contains(&f("fix::tests::parses", "/w/fix/src/lib.rs")));
        assert!(!own.contains(&f("fix::tests::helper", "/w/fix/src/lib.rs")));
        assert!(!own.contains(&f("fix::arc::test::helper", "/w/fix/src/arc.rs")));
        assert!(!own.contains(&f("cli::works", "/w/fix/tests/cli.rs")));
        assert!(!own.contains(&f("dep::x", "/h/.cargo/registry/src/dep/lib.rs")));
        let frames = [
            mf("/t/fix-1", "fix::tests::parses", "/w/fix/src/lib.rs"),
            mf("/t/fix-1", "fix::parse", "/w/fix/src/lib.rs"),
        ];
        assert_eq!(
            site_of(&frames, Some(&own)).0.unwrap().function,
            "fix::parse"
        );
    }
}
