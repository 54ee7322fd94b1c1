//! Rule packs (`rules/*.toml`, embedded): allocation calls, error types, raw allocators,
//! infallible allocators and no-memory names per ecosystem crate; which packs are active for a
//! set of files; and the text-prefilter needles they imply.
//!
//! Adding a pack: write `rules/<name>.toml` (its `name` is the file's stem; the fields are those
//! of [`Pack`]), and add the file to [`PACK_SOURCES`]. A test fails while a file in `rules/` is
//! not registered there, or a registered one is missing; another checks that every pack
//! parses.
use std::sync::OnceLock;

use serde::Deserialize;

/// The embedded pack sources, `(file name, TOML text)`.
pub const PACK_SOURCES: [(&str, &str); 7] = [
    ("std.toml", include_str!("../../rules/std.toml")),
    (
        "fallible_collections.toml",
        include_str!("../../rules/fallible_collections.toml"),
    ),
    ("hashbrown.toml", include_str!("../../rules/hashbrown.toml")),
    ("smallvec.toml", include_str!("../../rules/smallvec.toml")),
    (
        "allocator_api2.toml",
        include_str!("../../rules/allocator_api2.toml"),
    ),
    ("kernel.toml", include_str!("../../rules/kernel.toml")),
    ("libc.toml", include_str!("../../rules/libc.toml")),
];

/// One rule pack, parsed from its embedded TOML.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    /// `std`, `fallible_collections`, `hashbrown`, …
    pub name: String,
    /// The crate whose dependency or `use` activates the pack (`_` form); empty for `std`.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// Method names that are fallible allocations on any receiver (`try_reserve`).
    #[serde(default)]
    pub alloc_methods: Vec<String>,
    /// Call paths that are fallible allocations, matched when a call's path ends with all of
    /// the segments (`Box::try_new`).
    #[serde(default)]
    pub alloc_paths: Vec<String>,
    /// Macros that are fallible allocations (`try_vec`).
    #[serde(default)]
    pub alloc_macros: Vec<String>,
    /// Methods that are fallible allocations only on certain receiver types.
    #[serde(default)]
    pub receivers: Vec<ReceiverMethods>,
    /// Allocation error types (last path segment): `TryReserveError`, `AllocError`, …
    #[serde(default)]
    pub error_types: Vec<String>,
    /// Names meaning "out of memory" (compared case-insensitively with identifiers).
    #[serde(default)]
    pub no_memory_names: Vec<String>,
    /// Raw allocator functions returning a pointer that is null on failure; a call matches when
    /// its path is a suffix of one of these (`alloc`, `alloc::alloc`, `std::alloc::alloc`).
    #[serde(default)]
    pub raw_functions: Vec<String>,
    /// Raw allocator methods called on an allocator value (`System.alloc(layout)`).
    #[serde(default)]
    pub raw_methods: Vec<String>,
    /// Aborting allocation methods, for the opt-in `infallible-alloc` rule.
    #[serde(default)]
    pub infallible_methods: Vec<String>,
    /// Aborting allocation paths (`Box::new`), matched like `alloc_paths`.
    #[serde(default)]
    pub infallible_paths: Vec<String>,
    /// Aborting allocation macros (`vec`, `format`).
    #[serde(default)]
    pub infallible_macros: Vec<String>,
}

/// Methods fallible only on the listed receiver types (`TryVec::push`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverMethods {
    /// Receiver type names (last path segment, generics ignored); empty: any receiver (the
    /// method is then told apart by its argument count alone).
    #[serde(default)]
    pub types: Vec<String>,
    /// Method names.
    pub methods: Vec<String>,
    /// Exact number of arguments (besides the receiver) the fallible form takes, if it differs
    /// from an infallible method of the same name (the kernel's `push(x, flags)`).
    #[serde(default)]
    pub args: Option<usize>,
}

/// The packs in force for one lint run.
#[derive(Clone, Debug, Default)]
pub struct ActivePacks {
    /// The active packs, `std` first.
    pub packs: Vec<Pack>,
}

/// Every embedded pack (parsed once; the TOML is part of the binary, so a parse failure is a
/// bug caught by tests, not a user error: a broken pack is left out rather than panicking).
pub fn all_packs() -> &'static [Pack] {
    static PACKS: OnceLock<Vec<Pack>> = OnceLock::new();
    PACKS.get_or_init(|| {
        PACK_SOURCES
            .iter()
            .filter_map(|(_, text)| toml::from_str::<Pack>(text).ok())
            .collect()
    })
}

/// Choose the packs: `std` always; another pack when `dependencies` (crate names from the
/// nearest Cargo.toml files, `-` and `_` equivalent) names its crate, or when any of `sources`
/// mentions it (`use crate_name…` or a path starting `crate_name::`).
pub fn activate<'a>(
    dependencies: &[String],
    sources: impl Iterator<Item = &'a str>,
) -> ActivePacks {
    let packs = all_packs();
    let mut on: Vec<bool> = packs
        .iter()
        .map(|p| {
            p.crate_name.is_empty()
                || dependencies
                    .iter()
                    .any(|d| d.replace('-', "_") == p.crate_name)
        })
        .collect();
    for text in sources {
        if on.iter().all(|b| *b) {
            break;
        }
        for (pack, flag) in packs.iter().zip(on.iter_mut()) {
            if !*flag && mentions_crate(text, &pack.crate_name) {
                *flag = true;
            }
        }
    }
    ActivePacks {
        packs: packs
            .iter()
            .zip(on)
            .filter(|(_, on)| *on)
            .map(|(p, _)| p.clone())
            .collect(),
    }
}

/// Does `text` use the crate: `crate_name::` not preceded by an identifier character or `::`
/// (so `my_libc::` and `self::libc::` do not count), or `extern crate crate_name`.
fn mentions_crate(text: &str, crate_name: &str) -> bool {
    let needle = format!("{crate_name}::");
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = text[from..].find(&needle) {
        let at = from + pos;
        let before = if at == 0 { b' ' } else { bytes[at - 1] };
        if !(before.is_ascii_alphanumeric() || before == b'_' || before == b':') {
            return true;
        }
        from = at + needle.len();
    }
    text.contains(&format!("extern crate {crate_name}"))
}

impl ActivePacks {
    /// The active packs for the given pack names (unknown names are ignored); `std` is always
    /// included. Handy for tests and for forcing packs from configuration.
    pub fn named(names: &[&str]) -> ActivePacks {
        ActivePacks {
            packs: all_packs()
                .iter()
                .filter(|p| p.crate_name.is_empty() || names.contains(&p.name.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// Substrings such that a file containing none of them cannot contain an allocation call,
    /// an allocation wrapper, an alloc-error type or an allow comment (the text prefilter).
    /// Includes `extra` (configured allocation functions).
    ///
    /// Two things cross files and are not covered here: calls of allocation wrappers defined
    /// in another file, and receiver-typed methods on struct fields declared in another file.
    /// The driver builds the analysis context from the files that passed this filter and
    /// prefilters the rest again with the context's cross-file names. Files where
    /// `infallible-alloc` is enabled are not prefiltered: any aborting allocation in them is a
    /// finding.
    pub fn prefilter_needles(&self, extra: &[String]) -> Vec<String> {
        let mut needles: Vec<String> = vec!["oomcheck:allow".to_string()];
        for pack in &self.packs {
            needles.extend(pack.alloc_methods.iter().cloned());
            needles.extend(pack.alloc_paths.iter().map(|p| path_needle(p)));
            needles.extend(pack.alloc_macros.iter().cloned());
            for group in &pack.receivers {
                // A receiver-typed call needs its type named in the file (a local or parameter
                // declaration) unless the receiver is a field declared elsewhere.
                needles.extend(group.types.iter().cloned());
                if group.types.is_empty() {
                    needles.extend(group.methods.iter().cloned());
                }
            }
            needles.extend(pack.error_types.iter().cloned());
            // `alloc` alone appears in half of all Rust files (`alloc::vec::Vec`, `allocator`);
            // a raw allocator *call* is written `alloc(` (rustfmt never splits a call's name
            // from its parenthesis).
            needles.extend(
                pack.raw_functions
                    .iter()
                    .map(|p| format!("{}(", last_segment(p))),
            );
            needles.extend(pack.raw_methods.iter().map(|m| format!("{m}(")));
        }
        needles.extend(extra.iter().map(|p| last_segment(p)));
        finish_needles(needles)
    }

    /// Substrings such that a file containing none of them defines no allocation wrapper, no
    /// alias of an allocation `Result` and no struct field of a receiver-typed pack type
    /// (`TryVec`), so summarizing it for the analysis can be skipped in phase 1: the
    /// allocation error types, the receiver types, and every pack allocation name (a wrapper
    /// whose return type is an alias such as `AllocResult<T>` names no error type, but
    /// propagates an allocation).
    ///
    /// Not covered: a wrapper of a configured extra allocation function (add those names), a
    /// wrapper that only calls wrappers of other files *and* returns an alias type, and the
    /// other struct fields of skipped files (a call through such a field to a wrapper *method*
    /// with a common name, like `self.pool.push(x)` with `Pool::push` a wrapper).
    pub fn summary_needles(&self) -> Vec<String> {
        let mut needles = Vec::new();
        for pack in &self.packs {
            needles.extend(pack.error_types.iter().cloned());
            needles.extend(pack.alloc_methods.iter().cloned());
            needles.extend(pack.alloc_paths.iter().map(|p| path_needle(p)));
            needles.extend(pack.alloc_macros.iter().cloned());
            for group in &pack.receivers {
                needles.extend(group.types.iter().cloned());
                if group.types.is_empty() {
                    needles.extend(group.methods.iter().cloned());
                }
            }
        }
        finish_needles(needles)
    }
}

/// Sort, dedupe, and drop needles contained in another (shorter ones already match).
fn finish_needles(mut needles: Vec<String>) -> Vec<String> {
    needles.retain(|n| !n.is_empty());
    needles.sort();
    needles.dedup();
    let all = needles.clone();
    needles.retain(|n| !all.iter().any(|m| m != n && n.contains(m.as_str())));
    needles
}

/// The most specific segment a file calling `path` must contain: the last segment, unless it is
/// a generic constructor name (`new`, `with_capacity`), then the type segment before it.
fn path_needle(path: &str) -> String {
    let segs: Vec<&str> = path.split("::").collect();
    match segs.as_slice() {
        [.., ty, last] if matches!(*last, "new" | "with_capacity" | "pin" | "from_elem") => {
            ty.to_string()
        }
        [.., last] => last.to_string(),
        [] => String::new(),
    }
}

fn last_segment(path: &str) -> String {
    path.rsplit("::").next().unwrap_or(path).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_pack_parses() {
        let packs: Vec<Pack> = PACK_SOURCES
            .iter()
            .map(|(file, text)| toml::from_str(text).unwrap_or_else(|e| panic!("{file}: {e}")))
            .collect();
        assert_eq!(packs.len(), PACK_SOURCES.len());
        assert_eq!(all_packs().len(), PACK_SOURCES.len());
        let names: Vec<&str> = packs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "std",
                "fallible_collections",
                "hashbrown",
                "smallvec",
                "allocator_api2",
                "kernel",
                "libc"
            ]
        );
        for (pack, (file, _)) in packs.iter().zip(PACK_SOURCES) {
            assert_eq!(format!("{}.toml", pack.name), file);
        }
    }

    /// The packs registered in [`PACK_SOURCES`] are exactly the files of `rules/`.
    #[test]
    fn every_pack_file_is_registered() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| {
                e.expect("directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut registered: Vec<String> = PACK_SOURCES
            .iter()
            .map(|(file, _)| file.to_string())
            .collect();
        registered.sort();
        assert_eq!(
            registered, on_disk,
            "rules/*.toml and PACK_SOURCES (analyzer/src/packs.rs) disagree"
        );
        for (file, text) in PACK_SOURCES {
            let on_disk = std::fs::read_to_string(dir.join(file)).expect("pack file");
            assert_eq!(text, on_disk, "{file} is embedded from another file");
        }
    }

    #[test]
    fn activation_by_dependency_and_use() {
        let only_std = activate(&[], ["fn main() {}"].into_iter());
        assert_eq!(only_std.packs.len(), 1);
        assert_eq!(only_std.packs[0].name, "std");

        let deps = vec!["fallible-collections".to_string()];
        let by_dep = activate(&deps, std::iter::empty());
        assert!(by_dep
            .packs
            .iter()
            .any(|p| p.name == "fallible_collections"));

        let by_use = activate(
            &[],
            ["use smallvec::SmallVec;", "let p = libc::malloc(4);"].into_iter(),
        );
        let names: Vec<&str> = by_use.packs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["std", "smallvec", "libc"]);

        let not_a_use = activate(&[], ["use my_libc::x; self::kernel::y();"].into_iter());
        assert_eq!(not_a_use.packs.len(), 1);
    }

    #[test]
    fn needles_cover_names_and_skip_generic_segments() {
        let active = ActivePacks::named(&["kernel", "libc", "fallible_collections"]);
        let needles = active.prefilter_needles(&["my::grow_buffer".to_string()]);
        for n in [
            "try_reserve",
            "TryReserveError",
            "KBox",
            "TryVec",
            "malloc(",
            "alloc(",
            "alloc_zeroed(",
            "grow_buffer",
            "oomcheck:allow",
        ] {
            assert!(
                needles.iter().any(|x| n.contains(x.as_str())),
                "missing {n}"
            );
        }
        assert!(!needles
            .iter()
            .any(|n| n == "new" || n == "push" || n == "alloc"));
    }
}
