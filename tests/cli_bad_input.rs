//! Bad input for `oomcheck lint`, beyond the cases of `cli_lint.rs` (non-UTF-8 text, a 20 MB
//! file over the size limit, 10 000 nested parentheses, missing paths, symlink loops, unknown
//! config keys and rule ids): each case gives a clear message naming the file (and the line
//! where there is one), the other files are still linted (a finding from a good file is
//! asserted), and errors exit with code 2.
use std::process::Command;

mod common;
use common::Crate;

/// A mishandled allocation on line 2 (`panic-on-alloc-failure`).
const BAD: &str = "fn fill(v: &mut Vec<u8>) {\n    v.try_reserve(1).unwrap();\n}\n";

/// A crate `demo` with `src/lib.rs` = [`BAD`].
fn tree() -> Crate {
    Crate::new(&[("src/lib.rs", BAD)])
}

const GOOD_FINDING: &str = "src/lib.rs:2: panic-on-alloc-failure";

#[test]
fn empty_and_whitespace_only_files_are_clean() {
    let t = tree();
    t.write("src/empty.rs", "");
    t.write("src/blank.rs", "\n\n   \n");
    t.write("src/bom.rs", "\u{feff}// oomcheck:allow(no-such-rule)\n");
    let run = t.lint(&["--format", "json"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(
        run.findings(),
        vec!["src/bom.rs:1: unused-allow", GOOD_FINDING],
        "{run:#?}"
    );
    assert!(run.errors().is_empty(), "{run:#?}");
}

#[test]
fn allow_comment_naming_an_unknown_rule_is_reported_with_file_and_line() {
    let t = tree();
    t.write(
        "src/typo.rs",
        "fn f(v: &mut Vec<u8>) {\n    // oomcheck:allow(panic-on-alloc-fail) typo\n    \
         v.try_reserve(1).unwrap();\n}\n",
    );
    let run = t.lint(&["--format", "short"]);
    // An unknown rule id is a warning (`unused-allow`) and suppresses nothing: the real
    // finding under it is still reported, so the run fails with findings (1), not errors.
    assert_eq!(run.code, Some(1), "{run:#?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{run:#?}");
    assert!(lines[0].starts_with("src/lib.rs:2:"), "{run:#?}");
    assert!(
        lines[1].starts_with("src/typo.rs:2:5: unused-allow: ")
            && lines[1].contains("panic-on-alloc-fail"),
        "{run:#?}"
    );
    assert!(
        lines[2].starts_with("src/typo.rs:3:") && lines[2].contains("panic-on-alloc-failure"),
        "{run:#?}"
    );
}

/// A single line of 20 MB of real code (over the default 10 MiB limit it is skipped with a
/// message, see `cli_lint.rs`): with the limit raised it is parsed and analysed, and the
/// finding at its far end has the right column.
#[test]
fn twenty_megabyte_single_line_of_code_is_linted() {
    let t = tree();
    t.write("oomcheck.toml", "max-file-size = 30000000\n");
    let mut src = String::from("fn long(v: &mut Vec<u8>) { ");
    // Statements with long string literals: 20 MB of code that a debug build parses quickly.
    let filler = format!("let _a = [1, 2]; let _b = \"{}\"; ", "é".repeat(2000));
    while src.len() < 20 * 1024 * 1024 {
        src.push_str(&filler);
    }
    // The finding is reported at the method name; columns count characters, not bytes.
    let column = src.chars().count() + "v.".len() + 1;
    src.push_str("v.try_reserve(1).unwrap(); }");
    t.write("src/long.rs", &src);
    let run = t.lint(&["--format", "json"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(
        run.findings(),
        vec![GOOD_FINDING, "src/long.rs:1: panic-on-alloc-failure"]
    );
    let long = &run.json()["findings"][1];
    assert_eq!(long["column"].as_u64(), Some(column as u64), "{long}");
}

#[cfg(unix)]
#[test]
fn fifos_and_other_special_files_are_errors_not_hangs() {
    let t = tree();
    let mkfifo = |rel: &str| {
        let status = Command::new("mkfifo")
            .arg(t.path().join(rel))
            .status()
            .expect("run mkfifo");
        assert!(status.success());
    };
    // Found while walking, and named on the command line (reported once). Reading either
    // would block.
    mkfifo("src/pipe.rs");
    mkfifo("named.rs");
    // A folder named like a source file is walked as a folder.
    t.write("src/dir.rs/inner.rs", BAD);
    let run = t.lint(&["--format", "json", "named.rs", "."]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert_eq!(
        run.errors(),
        vec![
            "named.rs:null: not a regular file or folder",
            "src/pipe.rs:null: not a regular file",
        ],
        "{run:#?}"
    );
    assert_eq!(
        run.findings(),
        vec![
            "src/dir.rs/inner.rs:2: panic-on-alloc-failure",
            GOOD_FINDING
        ]
    );
    let short = t.lint(&["--format", "short"]);
    assert!(
        short
            .stderr
            .contains("src/pipe.rs: error: not a regular file"),
        "{short:#?}"
    );
}

#[cfg(unix)]
#[test]
fn file_names_that_are_not_utf8_are_linted() {
    use std::os::unix::ffi::OsStrExt;
    let t = tree();
    let name = std::ffi::OsStr::from_bytes(b"src/caf\xe9.rs");
    std::fs::write(t.path().join(name), BAD).expect("write");
    for format in ["json", "sarif", "short", "human"] {
        let run = t.lint(&["--format", format]);
        assert_eq!(run.code, Some(1), "{format}: {run:#?}");
        assert!(run.stdout.contains("caf"), "{format}: {run:#?}");
        assert!(run.stdout.contains("src/lib.rs"), "{format}: {run:#?}");
    }
}

#[test]
fn a_broken_config_stops_only_the_crate_it_governs() {
    let t = tree();
    t.write(
        "other/Cargo.toml",
        "[package]\nname = \"other\"\nversion = \"0.1.0\"\n",
    );
    t.write("other/src/lib.rs", BAD);
    t.write("other/oomcheck.toml", "[rules]\n\nno-such-key = 1\n");
    let run = t.lint(&["--format", "json"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert_eq!(run.findings(), vec![GOOD_FINDING], "{run:#?}");
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{run:#?}");
    assert!(
        // Discovered configurations are named by their absolute path.
        errors[0].contains("other/oomcheck.toml:3: ") && errors[0].contains("no-such-key"),
        "{run:#?}"
    );
}

#[test]
fn config_that_is_not_utf8_is_an_error_naming_the_file() {
    let t = tree();
    t.write(
        "nested/Cargo.toml",
        "[package]\nname = \"nested\"\nversion = \"0.1.0\"\n",
    );
    t.write("nested/src/lib.rs", BAD);
    t.write_bytes("nested/oomcheck.toml", b"# caf\xe9\n");
    let run = t.lint(&["--format", "short"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("nested/oomcheck.toml"), "{run:#?}");
    assert!(run.stderr.contains("UTF-8"), "{run:#?}");
    assert_eq!(run.stdout.lines().count(), 1, "{run:#?}");
    assert!(run.stdout.starts_with("src/lib.rs:2:"), "{run:#?}");
}

#[test]
fn explicit_config_that_does_not_exist_is_an_error() {
    let t = tree();
    let run = t.lint(&["--format", "short", "--config", "missing.toml"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("missing.toml"), "{run:#?}");
}
