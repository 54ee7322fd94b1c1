//! End-to-end tests of `oomcheck lint`: the built binary on temporary crates, for each output
//! format, exit codes, configuration (and its errors), test-code skipping, ignore files and bad
//! input.
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

mod common;

use common::Crate;

/// Two mishandled allocations: line 3 turns failure into a panic, line 4 drops the Result.
const BAD: &str = "\
fn fill(n: usize) -> Vec<u8> {
    let mut v = Vec::new();
    v.try_reserve(n).unwrap();
    let _ = v.try_reserve_exact(n);
    v
}
";

/// Correct handling: the failure is propagated.
const GOOD: &str = "\
use std::collections::TryReserveError;
pub fn fill(n: usize) -> Result<Vec<u8>, TryReserveError> {
    let mut v = Vec::new();
    v.try_reserve(n)?;
    Ok(v)
}
";

fn bad_crate() -> Crate {
    Crate::new(&[("src/lib.rs", BAD)])
}

fn pair(rule: &str, line: u64) -> (String, u64) {
    (rule.to_string(), line)
}

#[test]
fn short_format_lists_each_finding_with_place_and_rule() {
    let c = bad_crate();
    let run = c.lint(&["--format", "short"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{run:#?}");
    assert!(
        lines[0].starts_with("src/lib.rs:3:") && lines[0].contains(": panic-on-alloc-failure: "),
        "{run:#?}"
    );
    assert!(
        lines[1].starts_with("src/lib.rs:4:") && lines[1].contains(": discarded-alloc-result: "),
        "{run:#?}"
    );
}

#[test]
fn human_format_shows_rule_message_help_and_summary() {
    let c = bad_crate();
    let run = c.lint(&[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.contains("panic-on-alloc-failure"), "{run:#?}");
    assert!(run.stdout.contains("discarded-alloc-result"), "{run:#?}");
    // Not a terminal: drawn as rustc draws in CI logs, in ASCII (issue 13).
    assert!(run.stdout.contains(",-[src/lib.rs:3:"), "{run:#?}");
    assert!(!run.stdout.contains("Begin snippet"), "{run:#?}");
    // Narrated on request: the file and line are spelled out.
    let narrated = std::process::Command::new(env!("CARGO_BIN_EXE_oomcheck"))
        .arg("lint")
        .current_dir(c.path())
        .env("NO_COLOR", "1")
        .env("OOMCHECK_NARRATE", "1")
        .output()
        .expect("run oomcheck");
    let narrated = String::from_utf8_lossy(&narrated.stdout);
    assert!(narrated.contains("src/lib.rs"), "{narrated}");
    assert!(narrated.contains("line 3"), "{narrated}");
    assert!(
        run.stdout
            .contains("found 2 problems (2 errors, 0 warnings) in 1 file"),
        "{run:#?}"
    );
}

#[test]
fn json_format_has_stable_fields() {
    let c = bad_crate();
    let run = c.lint(&["--format", "json", "src"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    let doc = run.json();
    assert_eq!(doc["version"], 1);
    let f = &doc["findings"][0];
    assert_eq!(f["rule"], "panic-on-alloc-failure");
    assert_eq!(f["path"], "src/lib.rs");
    assert_eq!(f["line"], 3);
    assert_eq!(f["level"], "error");
    assert!(f["column"].as_u64().is_some_and(|c| c >= 5), "{f}");
    assert!(f["end_line"].as_u64() >= f["line"].as_u64());
    assert!(!f["message"].as_str().unwrap_or("").is_empty());
    assert!(!f["help"].as_str().unwrap_or("").is_empty());
    assert_eq!(doc["findings"][1]["rule"], "discarded-alloc-result");
    assert_eq!(doc["summary"]["findings"], 2);
    assert_eq!(doc["summary"]["files_checked"], 1);
    assert_eq!(doc["errors"].as_array().map(Vec::len), Some(0));
}

/// A function returning `Option` that turns three allocation failures into `None` (lines 3,
/// 4 and 6): one finding at the first, the other two related.
const NONE_BY_SIGNATURE: &str = "\
fn table(n: usize) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve(n).ok()?;
    v.try_reserve_exact(1).ok()?;
    v.push(0);
    v.try_reserve(2).ok()?;
    Some(v)
}
";

#[test]
fn json_lists_the_related_places_of_a_grouped_finding() {
    let c = Crate::new(&[("src/lib.rs", NONE_BY_SIGNATURE)]);
    let doc = c.lint(&["--format", "json"]).json();
    assert_eq!(doc["summary"]["findings"], 1, "{doc:#}");
    let f = &doc["findings"][0];
    assert_eq!(f["rule"], "swallowed-alloc-failure");
    assert_eq!(f["line"], 3);
    assert!(
        f["message"]
            .as_str()
            .is_some_and(|m| m.contains("`table` turns allocation failure into `None` at 3 places")),
        "{f}"
    );
    let related: Vec<(String, u64, u64)> = f["related"]
        .as_array()
        .expect("related is an array")
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap_or_default().to_string(),
                r["line"].as_u64().unwrap_or_default(),
                r["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        related,
        [
            ("src/lib.rs".to_string(), 4, 7),
            ("src/lib.rs".to_string(), 6, 7)
        ]
    );
    // Other findings carry an empty list.
    let plain = bad_crate().lint(&["--format", "json"]).json();
    assert_eq!(plain["findings"][0]["related"], serde_json::json!([]));
    // The human rendering labels the related places.
    let human = c.lint(&[]);
    assert!(
        human
            .stdout
            .contains("`ok()?` on `try_reserve_exact` also turns its failure into `None`"),
        "{human:#?}"
    );
}

#[test]
fn sarif_format_has_rules_results_and_relative_uris() {
    let c = bad_crate();
    let run = c.lint(&["--format", "sarif", "./src/"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    let doc = run.json();
    assert_eq!(doc["version"], "2.1.0");
    let sarif_run = &doc["runs"][0];
    let rules = sarif_run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    for id in [
        "discarded-alloc-result",
        "swallowed-alloc-failure",
        "panic-on-alloc-failure",
        "remapped-alloc-error",
        "unchecked-raw-alloc",
        "infallible-alloc",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    for r in rules {
        for key in ["shortDescription", "fullDescription", "help"] {
            assert!(
                r[key]["text"].as_str().is_some_and(|t| !t.is_empty()),
                "{key} of {}",
                r["id"]
            );
        }
    }
    let result = &sarif_run["results"][0];
    assert_eq!(result["ruleId"], "panic-on-alloc-failure");
    assert_eq!(result["level"], "error");
    let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
    assert_eq!(rules[index]["id"], "panic-on-alloc-failure");
    assert!(result["message"]["text"].as_str().is_some());
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "src/lib.rs");
    assert_eq!(loc["region"]["startLine"], 3);
    assert!(loc["region"]["startColumn"].as_u64().is_some());
    assert!(loc["region"]["endLine"].as_u64().is_some());
    assert!(loc["region"]["endColumn"].as_u64().is_some());
    assert_eq!(
        sarif_run["invocations"][0]["executionSuccessful"],
        Value::Bool(true)
    );
}

#[test]
fn sarif_uri_is_relative_to_the_current_directory_not_the_argument() {
    let c = bad_crate();
    let abs = c.path().join("src/lib.rs");
    let run = c.lint(&["--format", "sarif", abs.to_str().expect("utf-8 path")]);
    let doc = run.json();
    assert_eq!(
        doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "src/lib.rs"
    );
}

#[test]
fn correct_code_exits_zero() {
    let c = Crate::new(&[("src/lib.rs", GOOD)]);
    let run = c.lint(&[]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(
        run.stdout.contains("no problems found in 1 file"),
        "{run:#?}"
    );
}

#[test]
fn default_path_is_the_current_directory() {
    let c = Crate::new(&[("src/lib.rs", GOOD), ("src/deep/x.rs", BAD)]);
    let run = c.lint(&["--format", "json"]);
    assert_eq!(
        run.rules_and_lines(),
        vec![
            pair("panic-on-alloc-failure", 3),
            pair("discarded-alloc-result", 4)
        ]
    );
    assert_eq!(run.json()["findings"][0]["path"], "src/deep/x.rs");
}

#[test]
fn rule_levels_from_oomcheck_toml() {
    let c = bad_crate();
    c.write(
        "oomcheck.toml",
        "[rules]\npanic-on-alloc-failure = \"off\"\ndiscarded-alloc-result = \"warn\"\n",
    );
    let run = c.lint(&["--format", "json"]);
    assert_eq!(
        run.rules_and_lines(),
        vec![pair("discarded-alloc-result", 4)]
    );
    assert_eq!(run.json()["findings"][0]["level"], "warn");
    // Warnings alone do not fail the run, unless asked.
    assert_eq!(run.code, Some(0), "{run:#?}");
    let strict = c.lint(&["--format", "json", "--deny-warnings"]);
    assert_eq!(strict.code, Some(1), "{strict:#?}");
    let sarif = c.lint(&["--format", "sarif"]).json();
    assert_eq!(sarif["runs"][0]["results"][0]["level"], "warning");
}

#[test]
fn config_from_package_metadata_in_cargo_toml() {
    let c = bad_crate();
    c.write(
        "Cargo.toml",
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n\n\
         [package.metadata.oomcheck.rules]\ndiscarded-alloc-result = \"off\"\n",
    );
    let run = c.lint(&["--format", "json"]);
    assert_eq!(
        run.rules_and_lines(),
        vec![pair("panic-on-alloc-failure", 3)]
    );
}

#[test]
fn config_is_found_by_walking_up_and_oomcheck_toml_wins() {
    let c = bad_crate();
    c.write(
        "oomcheck.toml",
        "[rules]\ndiscarded-alloc-result = \"off\"\n",
    );
    // Run from inside src/: the config one level up still applies.
    let out = Command::new(env!("CARGO_BIN_EXE_oomcheck"))
        .args(["lint", "--format", "short", "."])
        .current_dir(c.path().join("src"))
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("lib.rs:3:"), "{stdout}");
    assert!(!stdout.contains("discarded-alloc-result"), "{stdout}");
}

#[test]
fn explicit_config_flag_overrides_discovery() {
    let c = bad_crate();
    c.write("other.toml", "[rules]\npanic-on-alloc-failure = \"off\"\n");
    let run = c.lint(&["--format", "json", "--config", "other.toml"]);
    assert_eq!(
        run.rules_and_lines(),
        vec![pair("discarded-alloc-result", 4)]
    );
}

#[test]
fn unknown_config_key_is_an_error_naming_key_and_line() {
    let c = bad_crate();
    c.write(
        "oomcheck.toml",
        "alloc-functions = []\n\nalloc-fns = [\"grab\"]\n",
    );
    let run = c.lint(&[]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("alloc-fns"), "{run:#?}");
    assert!(run.stderr.contains("oomcheck.toml:3:1"), "{run:#?}");
    // The files it governs are not checked with a half-understood configuration.
    assert!(!run.stdout.contains("panic-on-alloc-failure"), "{run:#?}");
}

#[test]
fn config_syntax_error_points_into_the_file() {
    let c = bad_crate();
    c.write("oomcheck.toml", "[rules]\npanic-on-alloc-failure = \n");
    let run = c.lint(&["--format", "short"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("oomcheck.toml:2:"), "{run:#?}");
    assert!(run.stderr.contains("invalid configuration"), "{run:#?}");
}

#[test]
fn unknown_rule_id_and_bad_level_are_config_errors() {
    let c = bad_crate();
    c.write("oomcheck.toml", "[rules]\npanic-on-oom = \"off\"\n");
    let run = c.lint(&[]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("panic-on-oom"), "{run:#?}");
    assert!(run.stderr.contains("oomcheck.toml:2:1"), "{run:#?}");

    c.write(
        "oomcheck.toml",
        "[rules]\npanic-on-alloc-failure = \"loud\"\n",
    );
    let run = c.lint(&["--format", "json"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    let err = &run.json()["errors"][0];
    assert_eq!(err["path"], "oomcheck.toml");
    assert_eq!(err["line"], 2);
    assert!(
        err["message"].as_str().unwrap_or("").contains("loud"),
        "{err}"
    );
}

#[test]
fn human_config_error_shows_a_snippet() {
    let c = bad_crate();
    c.write("oomcheck.toml", "[rules]\npanic-on-oom = \"off\"\n");
    let run = c.lint(&["--color", "never"]);
    // Narrated miette output quotes the offending line of the file.
    assert!(run.stderr.contains("panic-on-oom = \"off\""), "{run:#?}");
}

#[test]
fn extra_alloc_functions_from_config() {
    let src = "\
fn load() -> Vec<u8> {
    let buf = grab_buffer(4096).unwrap();
    buf
}
";
    let c = Crate::new(&[("src/lib.rs", src)]);
    let without = c.lint(&["--format", "json"]);
    assert_eq!(without.rules_and_lines(), vec![]);
    c.write("oomcheck.toml", "alloc-functions = [\"grab_buffer\"]\n");
    let with = c.lint(&["--format", "json"]);
    assert_eq!(
        with.rules_and_lines(),
        vec![pair("panic-on-alloc-failure", 2)]
    );
}

#[test]
fn wrappers_are_found_across_files() {
    // b.rs mentions no allocation name at all: it calls a wrapper defined in a.rs.
    let a = "\
use std::collections::TryReserveError;
pub fn grow(v: &mut Vec<u8>, n: usize) -> Result<(), TryReserveError> {
    v.try_reserve(n)?;
    Ok(())
}
";
    let b = "\
fn user(v: &mut Vec<u8>) {
    crate::a::grow(v, 10).unwrap();
}
";
    let c = Crate::new(&[
        ("src/lib.rs", "pub mod a;\npub mod b;\n"),
        ("src/a.rs", a),
        ("src/b.rs", b),
    ]);
    for jobs in ["1", "2"] {
        let run = c.lint(&["--format", "json", "-j", jobs]);
        assert_eq!(
            run.rules_and_lines(),
            vec![pair("panic-on-alloc-failure", 2)],
            "jobs={jobs}"
        );
        assert_eq!(run.json()["findings"][0]["path"], "src/b.rs");
    }
}

#[test]
fn test_files_are_skipped_even_when_named() {
    let c = Crate::new(&[
        ("src/lib.rs", GOOD),
        ("tests/it.rs", BAD),
        ("benches/b.rs", BAD),
        ("examples/e.rs", BAD),
    ]);
    let run = c.lint(&["--format", "json"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.json()["summary"]["test_files_skipped"], 3);
    let named = c.lint(&["--format", "json", "tests/it.rs"]);
    assert_eq!(named.code, Some(0), "{named:#?}");
    assert_eq!(named.rules_and_lines(), vec![]);
    let included = c.lint(&["--format", "json", "--include-tests", "tests/it.rs"]);
    assert_eq!(
        included.rules_and_lines(),
        vec![
            pair("panic-on-alloc-failure", 3),
            pair("discarded-alloc-result", 4)
        ]
    );
    let human = c.lint(&[]);
    assert!(
        human
            .stdout
            .contains("3 test files skipped (--include-tests to check)"),
        "{human:#?}"
    );
}

#[test]
fn gitignore_target_and_exclude_are_honoured() {
    let c = Crate::new(&[
        ("src/lib.rs", GOOD),
        ("gen/out.rs", BAD),
        ("target/debug/build/x.rs", BAD),
        ("vendor/v.rs", BAD),
        (".gitignore", "gen/\n"),
    ]);
    c.write("oomcheck.toml", "exclude = [\"vendor/\"]\n");
    let run = c.lint(&["--format", "json"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.rules_and_lines(), vec![]);
    // `exclude` holds for files passed explicitly (as pre-commit does).
    let named = c.lint(&["--format", "json", "vendor/v.rs"]);
    assert_eq!(named.rules_and_lines(), vec![]);
    // A folder named `target` that is not Cargo's is linted.
    c.write("src/target/mod.rs", BAD);
    let run = c.lint(&["--format", "json"]);
    assert_eq!(run.rules_and_lines().len(), 2, "{run:#?}");
}

#[test]
fn infallible_alloc_only_inside_configured_scopes() {
    let src = "\
fn add(v: &mut Vec<u32>) {
    v.push(1);
}
";
    let c = Crate::new(&[
        ("src/lib.rs", "pub mod safe;\npub mod other;\n"),
        ("src/safe.rs", src),
        ("src/other.rs", src),
    ]);
    let off = c.lint(&["--format", "json"]);
    assert_eq!(off.rules_and_lines(), vec![]);
    c.write(
        "oomcheck.toml",
        "[infallible-alloc]\nmodules = [\"safe\"]\n",
    );
    let on = c.lint(&["--format", "json"]);
    assert_eq!(on.rules_and_lines(), vec![pair("infallible-alloc", 2)]);
    assert_eq!(on.json()["findings"][0]["path"], "src/safe.rs");
}

#[test]
fn unparsable_file_is_reported_with_line_and_column_and_the_rest_is_checked() {
    let c = Crate::new(&[
        ("src/lib.rs", BAD),
        // Files the prefilter rules out are never parsed; this one mentions an allocation.
        (
            "src/broken.rs",
            "fn ok(v: &mut Vec<u8>) { v.try_reserve(1).unwrap(); }\nfn broken( {\n",
        ),
    ]);
    let run = c.lint(&["--format", "short"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("src/broken.rs:2:"), "{run:#?}");
    assert!(run.stderr.contains("cannot parse"), "{run:#?}");
    assert_eq!(run.stdout.lines().count(), 2, "{run:#?}");
    let json = c.lint(&["--format", "json"]).json();
    assert_eq!(json["errors"][0]["path"], "src/broken.rs");
    assert_eq!(json["errors"][0]["line"], 2);
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(2));
    let sarif = c.lint(&["--format", "sarif"]).json();
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], Value::Bool(false));
    assert_eq!(
        inv["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]
            ["artifactLocation"]["uri"],
        "src/broken.rs"
    );
}

#[test]
fn files_that_are_not_utf8_are_reported() {
    let c = Crate::new(&[("src/lib.rs", BAD)]);
    c.write_bytes("src/latin1.rs", b"// caf\xe9\nfn x() {}\n");
    let run = c.lint(&["--format", "short"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stderr
            .contains("src/latin1.rs:1:7: error: not valid UTF-8"),
        "{run:#?}"
    );
    assert_eq!(run.stdout.lines().count(), 2, "{run:#?}");
}

#[test]
fn huge_files_are_skipped_with_a_message() {
    let c = Crate::new(&[("src/lib.rs", BAD)]);
    // 20 MB on one line, mentioning an allocation name so the prefilter would pick it.
    let mut huge = String::from("// try_reserve ");
    huge.push_str(&"x".repeat(20 * 1024 * 1024));
    c.write("src/huge.rs", &huge);
    let run = c.lint(&["--format", "short"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stderr.contains("src/huge.rs: error: skipped"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("max-file-size"), "{run:#?}");
    assert_eq!(run.stdout.lines().count(), 2, "{run:#?}");
    // Raising the limit makes it an ordinary (clean) file.
    c.write("oomcheck.toml", "max-file-size = 30000000\n");
    let run = c.lint(&["--format", "short"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(run.stderr, "");
}

#[test]
fn deeply_nested_expressions_do_not_overflow_the_stack() {
    let depth = 10_000;
    let src = format!(
        "fn deep(v: &mut Vec<u8>) -> usize {{\n    v.try_reserve(1).unwrap();\n    {}1{}\n}}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let c = Crate::new(&[("src/lib.rs", &src)]);
    let run = c.lint(&["--format", "json"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(
        run.rules_and_lines(),
        vec![pair("panic-on-alloc-failure", 2)]
    );
}

#[test]
fn missing_paths_and_symlink_loops_are_errors() {
    let c = Crate::new(&[("src/lib.rs", BAD)]);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("self.rs", c.path().join("src/self.rs")).expect("symlink");
        std::os::unix::fs::symlink("..", c.path().join("src/up")).expect("symlink");
    }
    let run = c.lint(&["--format", "short", "src", "nope.rs"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stderr
            .contains("nope.rs: error: no such file or directory"),
        "{run:#?}"
    );
    #[cfg(unix)]
    {
        assert!(run.stderr.contains("src/self.rs"), "{run:#?}");
        assert!(
            run.stderr.contains("src/up: error: symbolic link loop"),
            "{run:#?}"
        );
    }
    // The real file is still checked, once.
    assert_eq!(run.stdout.lines().count(), 2, "{run:#?}");
}

/// A write-only sysctl: reading it fails with "permission denied" for every user, root
/// included (the kernel checks a sysctl's mode bits itself, ignoring root's override), so the
/// test below runs where CI runs, as root.
#[cfg(target_os = "linux")]
fn unreadable_file() -> PathBuf {
    let candidates = [
        "/proc/sys/vm/compact_memory",
        "/proc/sys/vm/drop_caches",
        "/proc/sys/net/ipv4/route/flush",
        "/proc/sys/net/ipv6/route/flush",
    ];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| std::fs::read(p).is_err_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied))
        .unwrap_or_else(|| panic!("none of {candidates:?} is an unreadable file here"))
}

#[cfg(target_os = "linux")]
#[test]
fn unreadable_files_are_reported() {
    let c = Crate::new(&[("src/lib.rs", BAD)]);
    // Found by walking `src/` (the walk follows symbolic links), then unreadable.
    let secret: PathBuf = c.path().join("src/secret.rs");
    std::os::unix::fs::symlink(unreadable_file(), &secret).expect("symlink");
    assert!(
        std::fs::read(&secret).is_err(),
        "the file must be unreadable"
    );
    let run = c.lint(&["--format", "short"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stderr
            .contains("src/secret.rs: error: cannot read: permission denied"),
        "{run:#?}"
    );
    assert_eq!(run.stdout.lines().count(), 2, "{run:#?}");
}

#[test]
fn usage_errors_exit_two() {
    let c = bad_crate();
    let run = c.lint(&["--format", "xml"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
}

#[cfg(target_os = "linux")]
#[test]
fn read_errors_are_reported_with_the_file() {
    // Tests may run as root, for whom no permission bits make a file unreadable; reading
    // /proc/self/mem at offset 0 fails (EIO) for everyone.
    let c = bad_crate();
    let run = c.lint(&["--format", "short", "src", "/proc/self/mem"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stderr.contains("/proc/self/mem: error: cannot read: "),
        "{run:#?}"
    );
    assert_eq!(run.stdout.lines().count(), 2, "{run:#?}");
}

#[test]
fn overlapping_arguments_check_each_file_once() {
    let c = bad_crate();
    let abs = c.path().join("src/lib.rs");
    let run = c.lint(&[
        "--format",
        "short",
        "src",
        "./src/lib.rs",
        abs.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(run.stdout.lines().count(), 2, "{run:#?}");
}

/// Crate `a` defines the allocation wrapper `grow`; `b` calls a `grow` of its own.
const WRAPPER_A: &str = "\
use std::collections::TryReserveError;
pub fn grow(v: &mut Vec<u8>) -> Result<(), TryReserveError> {
    v.try_reserve(64)?;
    Ok(())
}
";

#[test]
fn wrappers_do_not_leak_into_unrelated_crates() {
    let b = "\
fn grow(n: u8) -> Result<u8, String> {
    n.checked_add(1).ok_or_else(String::new)
}
fn user() -> u8 {
    grow(1).unwrap()
}
";
    let c = Crate::new(&[
        ("a/Cargo.toml", "[package]\nname = \"a\"\n"),
        ("a/src/lib.rs", WRAPPER_A),
    ]);
    c.write("b/Cargo.toml", "[package]\nname = \"b\"\n");
    c.write("b/src/lib.rs", b);
    std::fs::remove_file(c.path().join("Cargo.toml")).expect("rm");
    let run = c.lint(&["--format", "json", "a", "b"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.rules_and_lines(), vec![]);
}

#[test]
fn wrappers_cross_crates_of_one_workspace() {
    let b = "\
fn user(v: &mut Vec<u8>) {
    a::grow(v).unwrap();
}
";
    let c = Crate::new(&[
        ("a/Cargo.toml", "[package]\nname = \"a\"\n"),
        ("a/src/lib.rs", WRAPPER_A),
    ]);
    c.write("Cargo.toml", "[workspace]\nmembers = [\"a\", \"b\"]\n");
    c.write(
        "b/Cargo.toml",
        "[package]\nname = \"b\"\n[dependencies]\na = { path = \"../a\" }\n",
    );
    c.write("b/src/lib.rs", b);
    let run = c.lint(&["--format", "json"]);
    assert_eq!(
        run.rules_and_lines(),
        vec![pair("panic-on-alloc-failure", 2)]
    );
    assert_eq!(run.json()["findings"][0]["path"], "b/src/lib.rs");
}
