//! The stamp of a run's records: which crate they belong to and which source they swept, so
//! that records of another crate or another commit are never merged.
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The file holding the stamp in a record directory (not a `.json` record).
pub const STAMP_FILE: &str = "run.stamp";

/// The version of the stamp schema written.
pub const STAMP_VERSION: u32 = 1;

/// Which crate and source a record directory belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStamp {
    /// The schema's version (0 when absent).
    #[serde(default)]
    pub version: u32,
    /// The names of the workspace's packages, sorted.
    pub packages: Vec<String>,
    /// [`source_hash`] of the workspace's Rust sources when the run started.
    pub source_hash: String,
    /// The `--partition` the run swept (`count:1/2`), if any.
    #[serde(default)]
    pub partition: Option<String>,
}

impl RunStamp {
    /// The stamp of the workspace at `root` with these packages.
    pub fn of(root: &Path, mut packages: Vec<String>, partition: Option<String>) -> RunStamp {
        packages.sort();
        packages.dedup();
        RunStamp {
            version: STAMP_VERSION,
            packages,
            source_hash: source_hash(root),
            partition,
        }
    }

    /// Writes the stamp into the record directory `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(dir.join(STAMP_FILE), text)
    }
}

/// A stable hash (64-bit FNV-1a, hex) of the Rust files under `root` (as `oomcheck lint` walks
/// them: ignore files honoured, `target/` skipped) and the package manifests: their paths
/// relative to `root` and their bytes, in path order. The same source gives the same hash on
/// every machine and toolchain.
pub fn source_hash(root: &Path) -> String {
    let walked = oomcheck_analyzer::walk::walk(&[root.to_path_buf()]);
    let mut files: Vec<(String, std::path::PathBuf)> = walked
        .files
        .into_iter()
        .map(|f| f.path)
        .chain(manifests(root))
        .filter_map(|p| {
            let rel = p
                .strip_prefix(root)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            Some((rel, p))
        })
        .collect();
    files.sort();
    files.dedup();
    let mut hash = Fnv::new();
    for (rel, path) in &files {
        hash.write(rel.as_bytes());
        hash.write(&[0]);
        hash.write(&std::fs::read(path).unwrap_or_default());
        hash.write(&[0]);
    }
    format!("{:016x}", hash.0)
}

/// The `Cargo.toml` files next to the walked sources (the root's and its members').
fn manifests(root: &Path) -> Vec<std::path::PathBuf> {
    let walked = oomcheck_analyzer::walk::walk(&[root.to_path_buf()]);
    let mut dirs: Vec<&Path> = walked
        .files
        .iter()
        .flat_map(|f| f.path.ancestors().skip(1))
        .filter(|d| d.starts_with(root))
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs.into_iter()
        .map(|d| d.join("Cargo.toml"))
        .filter(|m| m.is_file())
        .collect()
}

/// 64-bit FNV-1a.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_follows_the_source_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        std::fs::create_dir(root.join("src")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
        let first = source_hash(root);
        assert_eq!(first.len(), 16);
        assert_eq!(source_hash(root), first, "deterministic");
        std::fs::create_dir_all(root.join("target/debug")).unwrap();
        std::fs::write(root.join("target/debug/gen.rs"), "x").unwrap();
        assert_eq!(source_hash(root), first, "target/ is not source");
        std::fs::write(root.join("src/lib.rs"), "pub fn g() {}\n").unwrap();
        assert_ne!(source_hash(root), first, "an edit changes it");
    }
}
