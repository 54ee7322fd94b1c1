//! The interposer library, embedded in the `oomcheck` binary by the build script, and its copy
//! on disk that `LD_PRELOAD` names.
use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::PreloadError;

/// `liboomcheck_preload.so` as built by `build.rs` (empty where it is unsupported).
static LIBRARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/liboomcheck_preload.so"));

/// FNV-1a: a stable content hash for the cached file's name (not for security: the directory
/// is the user's own).
fn content_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Where the library is cached: `$XDG_CACHE_HOME/oomcheck`, `~/.cache/oomcheck`, or the
/// temporary directory, whichever is set first.
fn cache_dir() -> PathBuf {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("XDG_CACHE_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("oomcheck")
}

/// The interposer on disk, written on first use under a name that carries its content hash, so
/// that every `oomcheck` build finds its own and concurrent runs share it safely (a private
/// temporary file renamed into place).
pub fn install() -> Result<PathBuf, PreloadError> {
    if LIBRARY.is_empty() {
        return Err(PreloadError::Unsupported);
    }
    let name = format!("liboomcheck_preload-{:016x}.so", content_hash(LIBRARY));
    let mut dir = cache_dir();
    // `LD_PRELOAD` separates its entries with spaces and colons: a path with one cannot be named.
    if dir.to_string_lossy().contains([' ', ':']) {
        dir = std::env::temp_dir().join("oomcheck");
    }
    let path = dir.join(&name);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == LIBRARY.len() as u64) {
        return Ok(path);
    }
    let write = |dir: &Path| -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile_in(dir)?;
        tmp.1.write_all(LIBRARY)?;
        tmp.1.sync_all()?;
        std::fs::rename(&tmp.0, dir.join(&name)).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp.0);
        })
    };
    write(&dir).map_err(|e| PreloadError::Install {
        path: path.clone(),
        source: e,
    })?;
    Ok(path)
}

/// A new file in `dir` with a name no other process uses.
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let path = dir.join(format!(".tmp-{}-{nanos}.so", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, file))
}

/// The `LD_PRELOAD` value: the interposer first, then whatever the caller's environment
/// preloads already.
pub fn ld_preload(library: &Path, inherited: Option<OsString>) -> OsString {
    let mut v = OsString::from(library);
    if let Some(rest) = inherited.filter(|r| !r.is_empty()) {
        v.push(":");
        v.push(rest);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inherited_preloads_come_after_ours() {
        let lib = Path::new("/c/liboomcheck_preload-1.so");
        assert_eq!(ld_preload(lib, None), "/c/liboomcheck_preload-1.so");
        assert_eq!(
            ld_preload(lib, Some("".into())),
            "/c/liboomcheck_preload-1.so"
        );
        assert_eq!(
            ld_preload(lib, Some("libfoo.so".into())),
            "/c/liboomcheck_preload-1.so:libfoo.so"
        );
    }

    #[test]
    fn the_library_installs_once_under_its_hash() {
        let a = install().expect("install");
        let b = install().expect("install again");
        assert_eq!(a, b);
        assert_eq!(std::fs::read(&a).unwrap(), LIBRARY);
        assert!(a
            .to_string_lossy()
            .contains(&format!("{:016x}", content_hash(LIBRARY))));
    }
}
