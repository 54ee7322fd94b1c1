//! Symbolizing another process's return addresses: its load map (`/proc/PID/maps`, copied into
//! the journal) names the file and offset of each address, and the file's DWARF (read with
//! `addr2line`, the reader `backtrace` uses) names the function, file and line; the ELF symbol
//! table stands in where there is no DWARF.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use addr2line::gimli;
use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol};
use oomcheck_injector::Frame;

/// One mapping of a file, from a `/proc/PID/maps` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// Offset in the file of `start`.
    pub offset: u64,
    /// The file.
    pub path: PathBuf,
}

/// The file-backed mappings of a load map.
pub fn parse_maps(text: &str) -> Vec<Mapping> {
    text.lines()
        .filter_map(|line| {
            let mut w = line.split_ascii_whitespace();
            let (range, _perms, offset, _dev, _inode) =
                (w.next()?, w.next()?, w.next()?, w.next()?, w.next()?);
            let path: Vec<&str> = w.collect();
            let path = path.join(" ");
            if !path.starts_with('/') {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            Some(Mapping {
                start: u64::from_str_radix(start, 16).ok()?,
                end: u64::from_str_radix(end, 16).ok()?,
                offset: u64::from_str_radix(offset, 16).ok()?,
                path: PathBuf::from(path.trim_end_matches(" (deleted)")),
            })
        })
        .collect()
}

/// A symbolized return address: the frames it stands for (several when calls were inlined,
/// innermost first) and the file it lies in.
#[derive(Debug, Clone)]
pub struct Located {
    /// The module (executable or shared library) holding the address.
    pub module: Option<PathBuf>,
    /// Its frames.
    pub frames: Vec<Frame>,
}

type Reader = gimli::EndianArcSlice<gimli::RunTimeEndian>;

/// One loaded file: its segments (to turn file offsets into addresses), DWARF and symbols.
struct Module {
    segments: Vec<(u64, u64, u64)>,
    dwarf: Option<addr2line::Context<Reader>>,
    symbols: Vec<(u64, u64, String)>,
}

impl Module {
    fn load(path: &Path) -> Option<Module> {
        let data: Arc<[u8]> = std::fs::read(path).ok()?.into();
        let file = object::File::parse(&*data).ok()?;
        let segments = file
            .segments()
            .filter_map(|s| {
                let (offset, size) = s.file_range();
                (size > 0).then_some((offset, size, s.address()))
            })
            .collect();
        let endian = if file.is_little_endian() {
            gimli::RunTimeEndian::Little
        } else {
            gimli::RunTimeEndian::Big
        };
        let whole = gimli::EndianReader::new(data.clone(), endian);
        let load = |id: gimli::SectionId| -> Result<Reader, gimli::Error> {
            let range = file
                .section_by_name(id.name())
                .and_then(|s| s.compressed_file_range().ok())
                .filter(|r| r.format == object::CompressionFormat::None)
                .and_then(|r| {
                    let start = usize::try_from(r.offset).ok()?;
                    Some(start..start.checked_add(usize::try_from(r.compressed_size).ok()?)?)
                })
                .filter(|r| r.end <= data.len());
            Ok(match range {
                Some(r) => whole.range(r),
                None => whole.range(0..0),
            })
        };
        let dwarf = file
            .section_by_name(".debug_info")
            .and_then(|_| gimli::Dwarf::load(load).ok())
            .and_then(|d| addr2line::Context::from_dwarf(d).ok());
        let mut symbols: Vec<(u64, u64, String)> = file
            .symbols()
            .chain(file.dynamic_symbols())
            .filter(|s| s.kind() == object::SymbolKind::Text && s.address() != 0)
            .filter_map(|s| Some((s.address(), s.size(), demangle(s.name().ok()?))))
            .collect();
        symbols.sort();
        symbols.dedup_by_key(|s| s.0);
        Some(Module {
            segments,
            dwarf,
            symbols,
        })
    }

    /// The address in the file's own numbering of the byte at `offset` in the file.
    fn address_of_offset(&self, offset: u64) -> Option<u64> {
        self.segments
            .iter()
            .find(|&&(o, size, _)| o <= offset && offset < o + size)
            .map(|&(o, _, addr)| offset - o + addr)
    }

    fn frames(&self, addr: u64) -> Vec<Frame> {
        let mut out = Vec::new();
        if let Some(ctx) = &self.dwarf {
            if let Ok(mut frames) = ctx.find_frames(addr).skip_all_loads() {
                while let Ok(Some(f)) = frames.next() {
                    let function = f
                        .function
                        .as_ref()
                        .and_then(|n| n.demangle().ok())
                        .map(|n| n.into_owned())
                        .unwrap_or_default();
                    out.push(Frame {
                        function,
                        file: f.location.as_ref().and_then(|l| l.file.map(str::to_string)),
                        line: f.location.as_ref().and_then(|l| l.line),
                    });
                }
            }
        }
        if out.iter().all(|f| f.function.is_empty()) {
            if let Some(name) = self.symbol(addr) {
                match out.first_mut() {
                    Some(f) => f.function = name.to_string(),
                    None => out.push(Frame {
                        function: name.to_string(),
                        file: None,
                        line: None,
                    }),
                }
            }
        }
        out
    }

    fn symbol(&self, addr: u64) -> Option<&str> {
        let i = self
            .symbols
            .partition_point(|s| s.0 <= addr)
            .checked_sub(1)?;
        let (start, size, name) = &self.symbols[i];
        (size == &0 || addr < start + size).then_some(name.as_str())
    }
}

/// A Rust symbol demangled without its hash (as `backtrace` prints with `{:#}`); any other name
/// as it is.
pub fn demangle(name: &str) -> String {
    match rustc_demangle::try_demangle(name) {
        Ok(d) => format!("{d:#}"),
        Err(_) => name.to_string(),
    }
}

/// Symbolizes addresses of processes that ran the same files, loading each file once.
#[derive(Default)]
pub struct Symbolizer {
    modules: HashMap<PathBuf, Option<Module>>,
}

impl Symbolizer {
    /// A symbolizer with nothing loaded yet.
    pub fn new() -> Symbolizer {
        Symbolizer::default()
    }

    /// The frames of return address `ip` of a process whose load map is `maps`. Return
    /// addresses point after their call: the call's line is that of the byte before.
    pub fn locate(&mut self, maps: &[Mapping], ip: u64) -> Located {
        let addr = ip.saturating_sub(1);
        let Some(m) = maps.iter().find(|m| m.start <= addr && addr < m.end) else {
            return Located {
                module: None,
                frames: vec![unknown(ip)],
            };
        };
        let module = self
            .modules
            .entry(m.path.clone())
            .or_insert_with(|| Module::load(&m.path));
        let frames = module
            .as_ref()
            .and_then(|module| {
                let a = module.address_of_offset(addr - m.start + m.offset)?;
                Some(module.frames(a))
            })
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| vec![unknown(ip)]);
        Located {
            module: Some(m.path.clone()),
            frames,
        }
    }
}

fn unknown(ip: u64) -> Frame {
    Frame {
        function: format!("{ip:#x}"),
        file: None,
        line: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines_give_file_mappings_only() {
        let text = "\
55d0a000-55d0b000 r-xp 00001000 08:01 1234 /usr/bin/my prog\n\
7ffd000-7ffe000 rw-p 00000000 00:00 0 [stack]\n\
7f00000-7f01000 rw-p 00000000 00:00 0\n\
7f10000-7f20000 r-xp 00002000 08:01 99 /lib/libc.so.6 (deleted)\n";
        let maps = parse_maps(text);
        assert_eq!(maps.len(), 2);
        assert_eq!(maps[0].start, 0x55d0a000);
        assert_eq!(maps[0].offset, 0x1000);
        assert_eq!(maps[0].path, Path::new("/usr/bin/my prog"));
        assert_eq!(maps[1].path, Path::new("/lib/libc.so.6"));
    }

    #[test]
    fn demangling_drops_the_hash() {
        assert_eq!(
            demangle("_ZN4core9panicking5panic17h0123456789abcdefE"),
            "core::panicking::panic"
        );
        assert_eq!(demangle("malloc"), "malloc");
    }

    /// Symbolizes an address of this very test binary through its own load map.
    #[test]
    fn an_address_of_this_process_resolves_to_its_function() {
        #[inline(never)]
        fn here() -> u64 {
            here as fn() -> u64 as usize as u64
        }
        let maps = parse_maps(&std::fs::read_to_string("/proc/self/maps").unwrap());
        let loc = Symbolizer::new().locate(&maps, here() + 1);
        assert!(
            loc.frames.iter().any(|f| f.function.ends_with("here")),
            "{loc:?}"
        );
        assert!(
            loc.frames.iter().any(|f| f
                .file
                .as_deref()
                .is_some_and(|f| f.ends_with("symbolize.rs"))),
            "{loc:?}"
        );
    }
}
