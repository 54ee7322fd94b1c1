//! The crate's oomcheck configuration (`oomcheck.toml` or `[package.metadata.oomcheck]`, found
//! as `oomcheck lint` finds it) as far as `oomcheck run` uses it: the `no-memory-names` the
//! injector's default NoMemory predicate accepts besides the rule packs'.
use std::path::{Path, PathBuf};

use oomcheck_analyzer::config::{discover, normalize, ConfigError};

/// The directory whose configuration governs the run: the manifest's, else the current one.
fn crate_dir(manifest_path: Option<&Path>) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let dir = match manifest_path.and_then(Path::parent) {
        Some(parent) if parent.as_os_str().is_empty() => cwd,
        Some(parent) => cwd.join(parent),
        None => cwd,
    };
    normalize(&dir)
}

/// The configured `no-memory-names` of the crate at `manifest_path` (or the current directory).
pub fn no_memory_names(manifest_path: Option<&Path>) -> Result<Vec<String>, ConfigError> {
    Ok(discover(&crate_dir(manifest_path))?.config.no_memory_names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_names_of_a_manifests_oomcheck_table() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"x\"\nversion = \"0.0.0\"\n\n\
             [package.metadata.oomcheck]\nno-memory-names = [\"Exhausted\"]\n",
        )
        .unwrap();
        let names = no_memory_names(Some(&dir.path().join("Cargo.toml"))).unwrap();
        assert_eq!(names, ["Exhausted"]);
    }
}
