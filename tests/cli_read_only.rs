//! `oomcheck lint` is read-only: after linting a tree in every format, every file and folder is
//! byte-for-byte unchanged, with the same modification times and permissions, and nothing was
//! added or removed (folder modification times would also reveal a file created and deleted).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// What is recorded of each entry of the tree.
#[derive(Debug, PartialEq, Eq)]
struct Entry {
    /// File contents (`None` for folders and symlinks).
    bytes: Option<Vec<u8>>,
    modified: SystemTime,
    permissions: std::fs::Permissions,
    len: u64,
}

fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    fn visit(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Entry>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            let bytes = meta.is_file().then(|| std::fs::read(&path).expect("read"));
            out.insert(
                path.strip_prefix(root).expect("under root").to_path_buf(),
                Entry {
                    bytes,
                    modified: meta.modified().expect("mtime"),
                    permissions: meta.permissions(),
                    len: meta.len(),
                },
            );
            if meta.is_dir() {
                visit(root, &path, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    let meta = std::fs::metadata(root).expect("root metadata");
    out.insert(
        PathBuf::from("."),
        Entry {
            bytes: None,
            modified: meta.modified().expect("mtime"),
            permissions: meta.permissions(),
            len: meta.len(),
        },
    );
    visit(root, root, &mut out);
    out
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, bytes).expect("write");
}

/// A workspace with two crates (one with its own configuration), a `.gitignore`, a `target/`
/// folder, test code, an unparsable file and a file that is not UTF-8.
fn tree(root: &Path) {
    let bad = b"fn f(v: &mut Vec<u8>) {\n    v.try_reserve(1).unwrap();\n    let _ = v.try_reserve(2);\n}\n";
    write(
        root,
        "Cargo.toml",
        b"[workspace]\nmembers = [\"a\", \"b\"]\n\n[workspace.metadata.oomcheck.rules]\nunused-allow = \"error\"\n",
    );
    write(root, ".gitignore", b"/ignored/\n*.generated.rs\n");
    write(
        root,
        "oomcheck.toml",
        b"[rules]\ndiscarded-alloc-result = \"warn\"\n",
    );
    write(root, "ignored/x.rs", bad);
    write(root, "a/src/gen.generated.rs", bad);
    write(
        root,
        "a/Cargo.toml",
        b"[package]\nname = \"a\"\nversion = \"0.1.0\"\n[dependencies]\nhashbrown = \"0.17\"\n",
    );
    write(root, "a/src/lib.rs", bad);
    write(root, "a/src/broken.rs", b"fn broken( {\n");
    write(root, "a/src/latin1.rs", b"// caf\xe9\n");
    write(root, "a/tests/t.rs", bad);
    write(root, "a/target/debug/build/x.rs", bad);
    write(
        root,
        "a/target/CACHEDIR.TAG",
        b"Signature: 8a477f597d28d172789f06886806bc55\n",
    );
    write(
        root,
        "b/Cargo.toml",
        b"[package]\nname = \"b\"\nversion = \"0.1.0\"\n[package.metadata.oomcheck]\nexclude = [\"src/skip.rs\"]\n",
    );
    write(
        root,
        "b/oomcheck.toml",
        b"no-memory-names = [\"Exhausted\"]\n",
    );
    write(root, "b/src/main.rs", bad);
    write(root, "b/src/skip.rs", bad);
    write(
        root,
        "b/src/allow.rs",
        b"fn g(v: &mut Vec<u8>) {\n    // oomcheck:allow(panic-on-alloc-failure) ok\n    v.try_reserve(1).unwrap();\n}\n",
    );
}

#[test]
fn lint_leaves_the_tree_unchanged_in_every_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("project");
    tree(&root);
    // Coarse file-system timestamps: make any later write visible as a different mtime.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let before = snapshot(&root);
    for format in ["human", "short", "json", "sarif"] {
        // The whole tree has unreadable files (exit 2); the two paths alone only findings (1).
        let cases = [
            (&[][..], 2),
            (&["--include-tests"][..], 2),
            (&["a/src/lib.rs", "b"][..], 1),
        ];
        for (extra, code) in cases {
            let out = Command::new(env!("CARGO_BIN_EXE_oomcheck"))
                .args(["lint", "--format", format])
                .args(extra)
                .current_dir(&root)
                .env("NO_COLOR", "1")
                .env_remove("CI")
                .output()
                .expect("run oomcheck");
            assert_eq!(out.status.code(), Some(code), "{format} {extra:?}: {out:?}");
            assert!(!out.stdout.is_empty(), "{format} {extra:?}: {out:?}");
            let after = snapshot(&root);
            let changed: Vec<&PathBuf> = before
                .keys()
                .chain(after.keys())
                .filter(|p| before.get(*p) != after.get(*p))
                .collect();
            assert!(
                changed.is_empty(),
                "{format} {extra:?} changed the tree: {changed:?}"
            );
        }
    }
}
