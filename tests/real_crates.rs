//! `oomcheck lint` on real published code: the sources of the dev-dependencies
//! `fallible_collections`, `hashbrown`, `smallvec`, `aligned-vec`, `bumpalo`, `mp4parse` and
//! `png`, located with `cargo metadata` (the last four are issue 12's triage corpus findings,
//! see `scripts/triage/triage.tsv`).
//!
//! Every assertion below was checked by reading the crate's source at the version in
//! Cargo.lock (the line numbers are of that version; the test fails loudly if another version
//! is resolved).
use std::path::{Path, PathBuf};
use std::process::Command;

use oomcheck_analyzer::lint::{lint, LintOptions, LintReport};

/// The source folder of the package `name` whose version starts with `version`.
fn package_dir(name: &str, version: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let pkg = packages
        .iter()
        .find(|p| {
            p["name"] == name
                && p["version"]
                    .as_str()
                    .is_some_and(|v| v.starts_with(version))
        })
        .unwrap_or_else(|| panic!("{name} {version}* is not in the dependency graph"));
    let manifest = PathBuf::from(pkg["manifest_path"].as_str().expect("manifest_path"));
    manifest.parent().expect("package folder").to_path_buf()
}

fn lint_crate(dir: &Path, include_tests: bool) -> LintReport {
    let report = lint(&LintOptions {
        paths: vec![dir.join("src")],
        include_tests,
        config: None,
        jobs: None,
    });
    assert!(
        report.errors.is_empty(),
        "every file of {} must be checked: {:?}",
        dir.display(),
        report.errors
    );
    report
}

/// `(file relative to the crate, line, rule id)` of every finding, and
/// `(file, line, "related:" + rule id)` of each of their related locations.
fn findings(report: &LintReport, dir: &Path) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    for f in &report.findings {
        let rel = f.path.strip_prefix(dir).unwrap_or(&f.path);
        let file = rel.to_string_lossy().replace('\\', "/");
        out.push((file.clone(), f.span.start_line, f.rule.as_str().to_string()));
        for r in &f.related {
            out.push((
                file.clone(),
                r.span.start_line,
                format!("related:{}", f.rule),
            ));
        }
    }
    out
}

fn has(found: &[(String, usize, String)], file: &str, line: usize, rule: &str) -> bool {
    found
        .iter()
        .any(|(f, l, r)| f == file && *l == line && r == rule)
}

fn any_at(found: &[(String, usize, String)], file: &str, line: usize) -> bool {
    found.iter().any(|(f, l, _)| f == file && *l == line)
}

#[test]
fn fallible_collections() {
    let dir = package_dir("fallible_collections", "0.5.");
    let report = lint_crate(&dir, false);
    let found = findings(&report, &dir);

    // `try_read_up_to`: `buf: &mut TryVec<u8>`; `buf.reserve(additional).map_err(|_|
    // io::Error::new(io::ErrorKind::Other, "reserve allocation failed"))?` turns an
    // allocation failure into an `Other` I/O error.
    assert!(
        has(&found, "src/vec.rs", 260, "remapped-alloc-error"),
        "{found:?}"
    );
    // `impl Write for TryVec<u8>`: `self.extend_from_slice(buf).map_err(|_|
    // io::Error::new(io::ErrorKind::Other, "extend_from_slice failed"))?`.
    assert!(
        has(&found, "src/vec.rs", 268, "remapped-alloc-error"),
        "{found:?}"
    );
    // `BTreeMap::clone` helper: `node::Root::new_leaf().expect("Out of Mem")`, where
    // `new_leaf() -> Result<Self, TryReserveError>` propagates `FallibleBox::try_new(..)?`:
    // a wrapper (defined in another file) whose failure becomes a panic — inside
    // `Clone::clone`, which cannot report an error (issue 12: the warn-level rule).
    assert!(
        has(
            &found,
            "src/btree/map.rs",
            231,
            "alloc-panic-without-error-channel"
        ),
        "{found:?}"
    );
    // `impl Extend for BTreeMap`: `self.try_insert(k, v).expect("Out of Mem")`, the same.
    assert!(
        has(
            &found,
            "src/btree/map.rs",
            1798,
            "alloc-panic-without-error-channel"
        ),
        "{found:?}"
    );
    // `from_sorted_iter` (no error channel: `append` is its only caller):
    // `node.into_root_mut().push_level().expect("Out of Mem")` on a method-call receiver of
    // unknown type, resolved because every `push_level` of the crate (`node.rs:266`,
    // propagating `FallibleBox::try_new(..)?`) is a wrapper (issue 12, pattern 5), reported
    // like `right_tree.push_level()` on a local at :1020.
    for line in [1010, 1020] {
        assert!(
            has(
                &found,
                "src/btree/map.rs",
                line,
                "alloc-panic-without-error-channel"
            ),
            "line {line}: {found:?}"
        );
    }
    // Correct propagation with `?` is not flagged: `try_push` (`self.try_reserve(1)?`),
    // `try_with_capacity` (`FallibleVec::try_reserve(&mut n, capacity)?`), `try_append`,
    // `try_resize`; and `new_leaf`'s own `try_new(..)?`.
    for line in [449, 470, 486, 496, 507] {
        assert!(
            !any_at(&found, "src/vec.rs", line),
            "line {line}: {found:?}"
        );
    }
    assert!(!any_at(&found, "src/btree/node.rs", 230), "{found:?}");
    // `#[cfg(test)] mod tests` (from line 722) is skipped by default…
    assert!(
        !found.iter().any(|(f, l, _)| f == "src/vec.rs" && *l > 722),
        "{found:?}"
    );

    // …and checked with `--include-tests`: `FallibleVec::try_reserve(&mut vec,
    // additional).unwrap();` in `fn try_reserve()`.
    let with_tests = lint_crate(&dir, true);
    let found = findings(&with_tests, &dir);
    assert!(
        has(&found, "src/vec.rs", 809, "panic-on-alloc-failure"),
        "{found:?}"
    );
}

#[test]
fn hashbrown() {
    let dir = package_dir("hashbrown", "0.17.");
    let report = lint_crate(&dir, false);
    let found = findings(&report, &dir);
    // `HashMap::try_reserve` returns `self.table.try_reserve(..)` (tail propagation) and
    // `RawTable::try_reserve` returns `self.reserve_rehash(..)`: nothing to flag there.
    assert!(!any_at(&found, "src/map.rs", 1133), "{found:?}");
    assert!(!any_at(&found, "src/raw.rs", 935), "{found:?}");
    // The `let _ = empty_bytes2.try_reserve(MAX_ISIZE / 5);` lines are in `#[cfg(test)] mod
    // test_map`: skipped by default.
    assert!(!any_at(&found, "src/map.rs", 6346), "{found:?}");

    let with_tests = lint_crate(&dir, true);
    let found = findings(&with_tests, &dir);
    for line in [6346, 6348] {
        assert!(
            has(&found, "src/map.rs", line, "discarded-alloc-result"),
            "line {line}: {found:?}"
        );
    }
}

#[test]
fn smallvec() {
    let dir = package_dir("smallvec", "1.");
    let report = lint_crate(&dir, false);
    let found = findings(&report, &dir);
    // `try_grow` allocates with `alloc::alloc::alloc(layout)` and checks the pointer with
    // `NonNull::new(..).ok_or(CollectionAllocErr::AllocErr { layout })?` before use.
    assert!(
        !found.iter().any(|(_, _, r)| r == "unchecked-raw-alloc"),
        "{found:?}"
    );
    // `try_reserve` and `try_reserve_exact` end with `self.try_grow(new_cap)`: propagated.
    assert!(!any_at(&found, "src/lib.rs", 1411), "{found:?}");
    assert!(!any_at(&found, "src/lib.rs", 1432), "{found:?}");
}

/// `(file, line)` of the error-level findings.
fn error_level(report: &LintReport, dir: &Path) -> Vec<(String, usize)> {
    report
        .findings
        .iter()
        .filter(|f| f.level == oomcheck_analyzer::Level::Error)
        .map(|f| {
            let rel = f.path.strip_prefix(dir).unwrap_or(&f.path);
            (rel.to_string_lossy().replace('\\', "/"), f.span.start_line)
        })
        .collect()
}

#[test]
fn aligned_vec() {
    let dir = package_dir("aligned-vec", "0.6.4");
    let found = findings(&lint_crate(&dir, false), &dir);
    // `shrink_to`: `let ptr = realloc(..); let ptr = ptr as *mut T; …
    // NonNull::new_unchecked(ptr)`: realloc's null never checked (a true bug).
    assert!(
        has(&found, "src/raw.rs", 272, "unchecked-raw-alloc"),
        "{found:?}"
    );
    // The other allocations are checked before use.
    for line in [322, 349, 402] {
        assert!(
            !any_at(&found, "src/raw.rs", line),
            "line {line}: {found:?}"
        );
    }
}

#[test]
fn bumpalo() {
    let dir = package_dir("bumpalo", "3.20.4");
    let report = lint_crate(&dir, false);
    let errors = error_level(&report, &dir);
    // `with_capacity` / `with_min_align_and_capacity`: documented "Panics if allocating the
    // initial capacity fails", twins of `try_with_capacity` / `try_with_min_align_and_capacity`:
    // not error-level findings, and treated alike.
    for line in [683, 782] {
        assert!(
            !errors.contains(&("src/lib.rs".to_string(), line)),
            "line {line}: {errors:?}"
        );
    }
}

#[test]
fn mp4parse() {
    let dir = package_dir("mp4parse", "0.17.0");
    let found = findings(&lint_crate(&dir, false), &dir);
    // `create_sample_table -> Option<..>`: `TryVec::with_capacity(..).ok()?` turns out of
    // memory into "no sample table" (`None` also means invalid data): true bugs, at 161 and
    // 253. Its `Option` return type is the one root cause of those and of the `push(..).ok()?`
    // at 183 and 256: ONE finding at 161, the other three its related locations.
    assert!(
        has(&found, "src/unstable.rs", 161, "swallowed-alloc-failure"),
        "{found:?}"
    );
    for line in [183, 253, 256] {
        assert!(
            has(
                &found,
                "src/unstable.rs",
                line,
                "related:swallowed-alloc-failure"
            ),
            "line {line}: {found:?}"
        );
        assert!(
            !has(&found, "src/unstable.rs", line, "swallowed-alloc-failure"),
            "line {line}: {found:?}"
        );
    }
    // `read_ilst_data` and its callers propagate with `?`.
    assert!(!any_at(&found, "src/lib.rs", 6228), "{found:?}");
}

#[test]
fn png() {
    let dir = package_dir("png", "0.18.1");
    let found = findings(&lint_crate(&dir, false), &dir);
    // `write_zlib_encoded_idat`: `data.try_reserve_exact(chunk_size)
    // .map_err(|_| EncodingError::LimitsExceeded)?`: png's memory-limit variant (image maps it
    // to `LimitErrorKind::InsufficientMemory`) is NoMemory-class: not a remapping.
    assert!(!any_at(&found, "src/encoder.rs", 688), "{found:?}");
}
