//! What the ELF file of a program says before it runs: whether `LD_PRELOAD` can interpose its
//! allocator at all, and where libtest's functions lie in a test executable.
use std::ops::Range;
use std::path::Path;

use object::elf;
use object::read::elf::{ElfFile64, ProgramHeader};
use object::{Object, ObjectSymbol};

use super::symbolize::demangle;
use super::PreloadError;

/// Why a program cannot be swept with the interposer (see [`check_program`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsweepable {
    /// No program interpreter (`PT_INTERP`) or dynamic section: statically linked, so the
    /// dynamic loader never reads `LD_PRELOAD`.
    Static,
    /// Its interpreter is musl's loader: the interposer forwards to glibc's `__libc_malloc`.
    Musl(String),
    /// Built with a sanitizer, which replaces the allocator itself.
    Sanitizer(&'static str),
    /// Not an ELF file of this machine's kind.
    NotElf,
}

impl std::fmt::Display for Unsweepable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unsweepable::Static => f.write_str(
                "it is statically linked (no dynamic section), so LD_PRELOAD cannot replace its allocator",
            ),
            Unsweepable::Musl(interp) => write!(
                f,
                "it is linked against musl ({interp}); the interposer needs glibc"
            ),
            Unsweepable::Sanitizer(name) => write!(
                f,
                "it is built with {name}, which replaces the allocator itself"
            ),
            Unsweepable::NotElf => f.write_str("it is not a 64-bit ELF executable"),
        }
    }
}

/// Whether `path` is a dynamically linked glibc program whose allocator `LD_PRELOAD` replaces.
/// A script (`#!`) passes: its interpreter is what runs (and is checked when it is an ELF).
pub fn check_program(path: &Path) -> Result<Result<(), Unsweepable>, PreloadError> {
    let data = std::fs::read(path).map_err(|e| PreloadError::Read {
        path: path.to_path_buf(),
        source: e,
    })?;
    if let Some(line) = data.strip_prefix(b"#!") {
        let line = String::from_utf8_lossy(line.split(|&b| b == b'\n').next().unwrap_or(b""));
        let interpreter = line.split_ascii_whitespace().next().unwrap_or("");
        if interpreter.is_empty() || !Path::new(interpreter).is_file() {
            return Ok(Ok(()));
        }
        return check_program(Path::new(interpreter));
    }
    let Ok(file) = ElfFile64::<object::Endianness>::parse(&*data) else {
        return Ok(Err(Unsweepable::NotElf));
    };
    let endian = file.endian();
    let mut interp = None;
    let mut dynamic = false;
    for ph in file.elf_program_headers() {
        match ph.p_type(endian) {
            elf::PT_INTERP => {
                let bytes = ph.data(endian, &*data).unwrap_or(&[]);
                let text = String::from_utf8_lossy(bytes);
                interp = Some(text.trim_end_matches('\0').to_string());
            }
            elf::PT_DYNAMIC => dynamic = true,
            _ => {}
        }
    }
    // A static-pie executable has a dynamic section but no interpreter: no loader reads
    // `LD_PRELOAD` for it either.
    if !dynamic || interp.is_none() {
        return Ok(Err(Unsweepable::Static));
    }
    if let Some(i) = interp.as_deref().filter(|i| i.contains("musl")) {
        return Ok(Err(Unsweepable::Musl(i.to_string())));
    }
    const SANITIZERS: &[(&str, &str)] = &[
        ("__asan_init", "AddressSanitizer"),
        ("__msan_init", "MemorySanitizer"),
        ("__tsan_init", "ThreadSanitizer"),
        ("__hwasan_init", "HWAddressSanitizer"),
        ("__lsan_init", "LeakSanitizer"),
    ];
    for sym in file.symbols().chain(file.dynamic_symbols()) {
        if let Ok(name) = sym.name() {
            if let Some((_, what)) = SANITIZERS.iter().find(|(s, _)| *s == name) {
                return Ok(Err(Unsweepable::Sanitizer(what)));
            }
        }
    }
    Ok(Ok(()))
}

/// Where libtest's frames lie in a test executable (addresses of the file, before relocation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LibtestRanges {
    /// `test::__rust_begin_short_backtrace`: the test body runs below it.
    pub body: Vec<Range<u64>>,
    /// The panic runtime and libtest's handling of the body's result: allocations below these
    /// happen after the body has decided its verdict.
    pub after_body: Vec<Range<u64>>,
}

/// Functions whose allocations are never the body's own: the panic runtime (formatting the
/// message, boxing the payload) and libtest turning a returned `Err` into a failure.
/// (Names of older and newer standard libraries: `rust_panic_with_hook` became
/// `panic_with_hook`, `begin_panic_handler` became `panic_handler`.)
const AFTER_BODY: &[&str] = &[
    "std::panicking::rust_panic_with_hook",
    "std::panicking::panic_with_hook",
    "std::panicking::begin_panic_handler",
    "std::panicking::panic_handler",
    "std::panicking::begin_panic",
    "std::panicking::default_hook",
    "test::assert_test_result",
];

/// Reads the ranges from the symbol table of test executable `path`.
pub fn libtest_ranges(path: &Path) -> Result<LibtestRanges, PreloadError> {
    let data = std::fs::read(path).map_err(|e| PreloadError::Read {
        path: path.to_path_buf(),
        source: e,
    })?;
    let file = object::File::parse(&*data).map_err(|_| PreloadError::NotATestBinary {
        path: path.to_path_buf(),
    })?;
    let mut r = LibtestRanges::default();
    for sym in file.symbols() {
        let (Ok(name), addr, size) = (sym.name(), sym.address(), sym.size()) else {
            continue;
        };
        if size == 0 || addr == 0 {
            continue;
        }
        let name = demangle(name);
        let range = addr..addr + size;
        if name.starts_with("test::__rust_begin_short_backtrace") {
            r.body.push(range);
        } else if AFTER_BODY.iter().any(|p| name.starts_with(p))
            || name.contains(" as std::process::Termination>::report")
        {
            r.after_body.push(range);
        }
    }
    r.body.sort_by_key(|r| r.start);
    r.body.dedup();
    r.after_body.sort_by_key(|r| r.start);
    r.after_body.dedup();
    if r.body.is_empty() {
        return Err(PreloadError::NotATestBinary {
            path: path.to_path_buf(),
        });
    }
    Ok(r)
}

/// `start-end,…` in hexadecimal, as the interposer reads ranges.
pub fn format_ranges(ranges: &[Range<u64>]) -> String {
    ranges
        .iter()
        .map(|r| format!("{:x}-{:x}", r.start, r.end))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_test_binary_is_sweepable_and_has_libtest_ranges() {
        let me = std::env::current_exe().unwrap();
        assert_eq!(check_program(&me).unwrap(), Ok(()));
        let r = libtest_ranges(&me).unwrap();
        assert!(!r.body.is_empty());
        assert!(!r.after_body.is_empty(), "the panic runtime is linked in");
    }

    #[test]
    fn scripts_and_non_elf_files_are_told_apart() {
        let dir = std::env::temp_dir().join(format!("oomcheck-elf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("s.sh");
        std::fs::write(&script, "#!/no/such/shell\necho hi\n").unwrap();
        assert_eq!(check_program(&script).unwrap(), Ok(()));
        let text = dir.join("t.txt");
        std::fs::write(&text, "hello").unwrap();
        assert_eq!(check_program(&text).unwrap(), Err(Unsweepable::NotElf));
        assert!(check_program(&dir.join("missing")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn ranges_format_for_the_interposer() {
        assert_eq!(format_ranges(&[0x10..0x20, 0xab..0xcd]), "10-20,ab-cd");
    }
}
