//! # oomcheck-demo: a domain-description parser with real out-of-memory bugs
//!
//! The input describes a virtual machine the way libvirt's domain XML does, one element per line
//! (`#` starts a comment):
//!
//! ```text
//! domain name=web01 type=kvm
//! memory unit=MiB value=2048
//! vcpu count=2 placement=static current=1
//! disk device=disk source=/var/lib/libvirt/images/web01.qcow2 target=vda cache=none
//! interface type=network source=default mac=52:54:00:6b:3c:01 model=virtio
//! description front-end web server
//! ```
//!
//! Every allocation goes through the fallible API (`try_reserve`, `try_reserve_exact`) and a
//! failure should surface as [`Error::NoMemory`]. Most of the code does that; five places get it
//! wrong in the ways libvirt's "Out of memory testing" page describes. Each is marked `BUG` where
//! it happens. What the two halves of oomcheck say about them:
//!
//! | function              | bug                                              | `oomcheck run`                      | `oomcheck lint`           |
//! |-----------------------|--------------------------------------------------|-------------------------------------|---------------------------|
//! | [`parse_header`]      | none                                             | `...` OK                            | nothing                   |
//! | [`parse_memory`]      | failure remapped to a parse error                | `W` wrong-error                     | `remapped-alloc-error`    |
//! | [`parse_disk`]        | failure treated as "attribute absent"            | `C` corrupted (the cache mode is lost) | `swallowed-alloc-failure` |
//! | [`parse_interface`]   | `unwrap()` on a fallible allocation              | `P` panic                           | `panic-on-alloc-failure`  |
//! | [`parse_vcpu`]        | infallible `format!` on the unknown-attribute path | `A` abort                         | dynamic only (\*)         |
//! | [`parse_description`] | infallible `format!` while building the error    | `A` abort with `--mode persistent` only | dynamic only (\*)     |
//! | [`parse_domain`]      | all of the above, composed                       | `W`, `C`, `P` and `A` in one line   | (at the callees)          |
//!
//! (\*) An infallible allocation is not a mishandled *fallible* one, so the default rules cannot
//! see it; the opt-in `infallible-alloc` rule flags both `format!` calls once this file is
//! declared OOM-safe in `oomcheck.toml` (`[infallible-alloc]` `paths = ["src/"]`).
//!
//! `tests/oom.rs` holds one `oomcheck_injector::check` per function. `cargo test` runs each body
//! once; `oomcheck run` (or `OOMCHECK=1 cargo test`) sweeps every allocation index.
use std::collections::TryReserveError;
use std::fmt;

/// Why a description could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An allocation failed.
    NoMemory,
    /// An allocation failed, with a note on what was being allocated.
    OutOfMemory(String),
    /// The text is not a valid description.
    Parse(&'static str),
    /// A required attribute is missing.
    MissingAttribute(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoMemory => f.write_str("out of memory"),
            Error::OutOfMemory(what) => write!(f, "out of memory while {what}"),
            Error::Parse(msg) => write!(f, "invalid description: {msg}"),
            Error::MissingAttribute(key) => write!(f, "missing attribute '{key}'"),
        }
    }
}

impl std::error::Error for Error {}

impl From<TryReserveError> for Error {
    fn from(_: TryReserveError) -> Error {
        Error::NoMemory
    }
}

/// The `domain` line: the machine's name and hypervisor type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The domain's name.
    pub name: String,
    /// The hypervisor type (`kvm` when absent).
    pub kind: String,
}

/// The `memory` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    /// The size in KiB.
    pub kib: u64,
    /// The unit the size was written in.
    pub unit: String,
}

/// The `vcpu` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vcpu {
    /// Number of virtual CPUs.
    pub count: u32,
    /// CPU placement policy (`static` when absent).
    pub placement: String,
    /// Warnings about attributes that were ignored.
    pub ignored: Vec<String>,
}

/// A `disk` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    /// `disk` or `cdrom`.
    pub device: String,
    /// Path of the image on the host.
    pub source: String,
    /// Device name in the guest.
    pub target: String,
    /// Cache mode, if one is set.
    pub cache: Option<String>,
}

/// An `interface` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Interface type (`network` when absent).
    pub kind: String,
    /// The network it attaches to.
    pub source: String,
    /// Its MAC address.
    pub mac: [u8; 6],
    /// The emulated device model (`virtio` when absent).
    pub model: String,
}

/// A whole domain description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// The `domain` line.
    pub header: Header,
    /// The `memory` line, if any.
    pub memory: Option<Memory>,
    /// The `vcpu` line, if any.
    pub vcpu: Option<Vcpu>,
    /// The `disk` lines.
    pub disks: Vec<Disk>,
    /// The `interface` lines.
    pub interfaces: Vec<Interface>,
    /// The `description` line, if any.
    pub description: Option<String>,
}

/// Copy `s` into a new `String`, reporting allocation failure instead of aborting.
fn try_string(s: &str) -> Result<String, TryReserveError> {
    let mut out = String::new();
    out.try_reserve_exact(s.len())?;
    out.push_str(s);
    Ok(out)
}

/// A line split into its keyword and `key=value` attributes (borrowed from the line).
struct Attrs<'a> {
    keyword: &'a str,
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Attrs<'a> {
    fn parse(line: &'a str, keyword: &'static str) -> Result<Attrs<'a>, Error> {
        let mut words = line.split_whitespace();
        let first = words.next().ok_or(Error::Parse("empty line"))?;
        let mut pairs = Vec::new();
        pairs.try_reserve_exact(words.clone().count())?;
        for word in words {
            let pair = word
                .split_once('=')
                .ok_or(Error::Parse("expected key=value"))?;
            pairs.push(pair);
        }
        let attrs = Attrs {
            keyword: first,
            pairs,
        };
        if attrs.keyword != keyword {
            return Err(Error::Parse("unexpected element"));
        }
        Ok(attrs)
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn require(&self, key: &'static str) -> Result<&'a str, Error> {
        self.get(key).ok_or(Error::MissingAttribute(key))
    }
}

/// Parse the `domain name=… type=…` line. Correct: every failure is `NoMemory`.
pub fn parse_header(line: &str) -> Result<Header, Error> {
    let attrs = Attrs::parse(line, "domain")?;
    Ok(Header {
        name: try_string(attrs.require("name")?)?,
        kind: try_string(attrs.get("type").unwrap_or("kvm"))?,
    })
}

/// Parse `memory unit=… value=…`.
pub fn parse_memory(line: &str) -> Result<Memory, Error> {
    let attrs = Attrs::parse(line, "memory")?;
    let value: u64 = attrs
        .require("value")?
        .parse()
        .map_err(|_| Error::Parse("memory value is not a number"))?;
    // BUG (wrong-error; lint: remapped-alloc-error): the copy of the unit can only fail for lack
    // of memory, but the failure is reported as a syntax error. A caller (or a user reading the
    // log) now believes the configuration is broken and may "fix" a valid file.
    let unit = try_string(attrs.get("unit").unwrap_or("KiB"))
        .map_err(|_| Error::Parse("invalid memory unit"))?;
    let factor = match unit.as_str() {
        "KiB" => 1,
        "MiB" => 1024,
        "GiB" => 1024 * 1024,
        _ => return Err(Error::Parse("unknown memory unit")),
    };
    let kib = value
        .checked_mul(factor)
        .ok_or(Error::Parse("memory size overflows"))?;
    Ok(Memory { kib, unit })
}

/// Parse `disk device=… source=… target=… [cache=…]`.
pub fn parse_disk(line: &str) -> Result<Disk, Error> {
    let attrs = Attrs::parse(line, "disk")?;
    Ok(Disk {
        device: try_string(attrs.get("device").unwrap_or("disk"))?,
        source: try_string(attrs.require("source")?)?,
        target: try_string(attrs.require("target")?)?,
        cache: optional_attr(&attrs, "cache"),
    })
}

/// An optional attribute, copied.
///
/// BUG (corrupted; lint: swallowed-alloc-failure): `None` means both "the attribute is absent"
/// and "copying it failed", like libvirt's `virXMLPropString` returning NULL for either. When the
/// copy fails the disk silently loses its cache mode and the guest runs with the default one:
/// the parse "succeeds" with wrong data.
fn optional_attr(attrs: &Attrs<'_>, key: &str) -> Option<String> {
    let raw = attrs.get(key)?;
    let copy = try_string(raw).ok()?;
    Some(copy)
}

/// Parse `interface type=… source=… mac=… [model=…]`.
pub fn parse_interface(line: &str) -> Result<Interface, Error> {
    let attrs = Attrs::parse(line, "interface")?;
    let kind = try_string(attrs.get("type").unwrap_or("network"))?;
    let source = try_string(attrs.require("source")?)?;
    let mac = parse_mac(attrs.require("mac")?)?;
    // BUG (panic; lint: panic-on-alloc-failure): the fallible allocation's error is unwrapped, so
    // running out of memory here panics instead of returning `Error::NoMemory`.
    let model = try_string(attrs.get("model").unwrap_or("virtio")).unwrap();
    Ok(Interface {
        kind,
        source,
        mac,
        model,
    })
}

/// `52:54:00:6b:3c:01` to bytes, without allocating.
fn parse_mac(text: &str) -> Result<[u8; 6], Error> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        let part = parts.next().ok_or(Error::Parse("short MAC address"))?;
        *byte = u8::from_str_radix(part, 16).map_err(|_| Error::Parse("bad MAC address"))?;
    }
    if parts.next().is_some() {
        return Err(Error::Parse("long MAC address"));
    }
    Ok(mac)
}

/// Parse `vcpu count=… [placement=…]`; unknown attributes are ignored with a warning.
pub fn parse_vcpu(line: &str) -> Result<Vcpu, Error> {
    let attrs = Attrs::parse(line, "vcpu")?;
    let mut count = 1;
    let mut placement = None;
    let mut ignored = Vec::new();
    for &(key, value) in &attrs.pairs {
        match key {
            "count" => {
                count = value
                    .parse()
                    .map_err(|_| Error::Parse("vcpu count is not a number"))?
            }
            "placement" => placement = Some(try_string(value)?),
            _ => {
                // BUG (abort; dynamic only): room for the warning is reserved fallibly, but the
                // warning itself is built with `format!`, an infallible allocation. When that
                // allocation fails Rust calls `handle_alloc_error` and the whole process aborts:
                // no `Result`, no unwinding, nothing a caller can handle.
                ignored.try_reserve(1)?;
                ignored.push(format!("ignored unknown vcpu attribute '{key}'"));
            }
        }
    }
    let placement = match placement {
        Some(p) => p,
        None => try_string("static")?,
    };
    Ok(Vcpu {
        count,
        placement,
        ignored,
    })
}

/// Parse `description FREE TEXT`.
pub fn parse_description(line: &str) -> Result<String, Error> {
    let text = line
        .strip_prefix("description")
        .ok_or(Error::Parse("expected a description"))?
        .trim();
    let mut out = String::new();
    // BUG (abort in persistent mode only; dynamic only): the error path allocates infallibly to
    // describe the failure. When only the `try_reserve_exact` fails (transient mode) the
    // `format!` succeeds and the caller gets `OutOfMemory(..)`, as it should; when memory stays
    // exhausted (persistent mode, and real life) the `format!` aborts the process.
    out.try_reserve_exact(text.len()).map_err(|_| {
        Error::OutOfMemory(format!("copying a description of {} bytes", text.len()))
    })?;
    out.push_str(text);
    Ok(out)
}

/// Parse a whole description: a `domain` line first, then any of the other elements.
pub fn parse_domain(text: &str) -> Result<Domain, Error> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let header = parse_header(lines.next().ok_or(Error::Parse("empty description"))?)?;
    let mut domain = Domain {
        header,
        memory: None,
        vcpu: None,
        disks: Vec::new(),
        interfaces: Vec::new(),
        description: None,
    };
    for line in lines {
        match line.split_whitespace().next().unwrap_or_default() {
            "memory" => domain.memory = Some(parse_memory(line)?),
            "vcpu" => domain.vcpu = Some(parse_vcpu(line)?),
            "disk" => {
                let disk = parse_disk(line)?;
                domain.disks.try_reserve(1)?;
                domain.disks.push(disk);
            }
            "interface" => {
                let interface = parse_interface(line)?;
                domain.interfaces.try_reserve(1)?;
                domain.interfaces.push(interface);
            }
            "description" => domain.description = Some(parse_description(line)?),
            _ => return Err(Error::Parse("unknown element")),
        }
    }
    Ok(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_description() {
        let text = "domain name=web01\n# a comment\nmemory unit=MiB value=2\n\
                    vcpu count=2 current=1\n\
                    disk source=/img/web01.qcow2 target=vda cache=none\n\
                    interface source=default mac=52:54:00:6b:3c:01\n\
                    description front-end web server\n";
        let d = parse_domain(text).expect("valid description");
        assert_eq!(d.header.name, "web01");
        assert_eq!(d.header.kind, "kvm");
        assert_eq!(d.memory.as_ref().map(|m| m.kib), Some(2048));
        let vcpu = d.vcpu.expect("vcpu line");
        assert_eq!((vcpu.count, vcpu.placement.as_str()), (2, "static"));
        assert_eq!(vcpu.ignored, ["ignored unknown vcpu attribute 'current'"]);
        assert_eq!(d.disks[0].cache.as_deref(), Some("none"));
        assert_eq!(d.disks[0].device, "disk");
        assert_eq!(d.interfaces[0].mac, [0x52, 0x54, 0, 0x6b, 0x3c, 0x01]);
        assert_eq!(d.interfaces[0].model, "virtio");
        assert_eq!(d.description.as_deref(), Some("front-end web server"));
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(parse_domain(""), Err(Error::Parse("empty description")));
        assert_eq!(
            parse_header("domain type=kvm"),
            Err(Error::MissingAttribute("name"))
        );
        assert_eq!(
            parse_memory("memory value=x"),
            Err(Error::Parse("memory value is not a number"))
        );
        assert_eq!(
            parse_interface("interface source=a mac=52:54"),
            Err(Error::Parse("short MAC address"))
        );
        assert_eq!(
            parse_domain("domain name=a\nfloppy x=1"),
            Err(Error::Parse("unknown element"))
        );
    }
}
