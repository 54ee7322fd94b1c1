//! End-to-end tests of `oomcheck exec`: a C program built with the system's `cc`, swept
//! unmodified through the allocation interposer.
use std::path::{Path, PathBuf};
use std::process::Command;

use common::Run;
use serde_json::Value;

mod common;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_source() -> PathBuf {
    repo().join("tests/fixtures/c/oom_paths.c")
}

/// The 1-based line of `fixture_source()` holding `marker`.
fn line_of(marker: &str) -> u64 {
    let text = std::fs::read_to_string(fixture_source()).unwrap();
    let i = text
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no line with {marker:?}"));
    i as u64 + 1
}

/// `cc ARGS -o DIR/NAME`, asserting that it builds.
fn cc(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let status = Command::new("cc")
        .args(args)
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run cc");
    assert!(status.success(), "cc {args:?} failed");
    out
}

/// The fixture built with debug info and without optimisation (one line per call).
fn fixture(dir: &Path) -> PathBuf {
    let src = fixture_source();
    cc(dir, "oom_paths", &["-g", "-O0", src.to_str().unwrap()])
}

fn exec(args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_oomcheck"))
        .arg("exec")
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .envs(env.iter().copied())
        .output()
        .expect("run oomcheck");
    Run::from(out)
}

fn record(run: &Run) -> Value {
    serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("not one JSON record ({e}): {}\n{}", run.stdout, run.stderr))
}

#[test]
fn the_unchecked_malloc_is_a_crash_at_its_line_and_the_checked_one_no_memory() {
    let dir = tempfile::tempdir().unwrap();
    let bin = fixture(dir.path());
    let run = exec(&["--format", "json", "--", bin.to_str().unwrap()], &[]);
    assert_eq!(run.code, Some(1), "findings exit 1: {}", run.stderr);
    let r = record(&run);
    // 1: the checked malloc in `copy`; 2: the unchecked one; 3: stdout's buffer, which glibc
    // does without.
    assert_eq!(r["nalloc"], 3, "{r:#}");
    assert_eq!(r["sequence"], ".At", "{r:#}");
    assert_eq!(r["outcomes"]["no-memory"], 1);
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{r:#}");
    let f = &findings[0];
    assert_eq!(f["alloc"], 2);
    assert_eq!(f["outcome"], "abort");
    assert!(f["message"].as_str().unwrap().contains("SIGSEGV"), "{f:#}");
    assert_eq!(f["site"]["function"], "main");
    assert_eq!(f["site"]["file"], fixture_source().to_str().unwrap());
    assert_eq!(f["site"]["line"], line_of("/* unchecked malloc */"));
    assert!(
        f["repro"]
            .as_str()
            .unwrap()
            .starts_with("oomcheck exec --alloc 2 -- "),
        "{f:#}"
    );
    assert_eq!(r["preload"]["swept"], serde_json::json!([1, 2, 3]));
    assert_eq!(
        r["preload"]["from_text"],
        serde_json::json!([1]),
        "the no-memory verdict was read from the message"
    );
}

#[test]
fn each_allocation_site_is_listed_and_the_crash_rendered_at_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let bin = fixture(dir.path());
    let bin = bin.to_str().unwrap();
    let run = exec(&["--dedup", "site", "--format", "json", "--", bin], &[]);
    let r = record(&run);
    let sites: Vec<(u64, &str, u64)> = r["dedup"]["site_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["alloc"].as_u64().unwrap(),
                s["function"].as_str().unwrap_or(""),
                s["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        sites[..2],
        [
            (1, "copy", line_of("/* checked malloc */")),
            (2, "main", line_of("/* unchecked malloc */")),
        ],
        "{r:#}"
    );

    let human = exec(&["--", bin], &[]);
    assert_eq!(human.code, Some(1));
    let e = &human.stderr;
    assert!(e.contains("nalloc=3  .At  FAILED (1/3)"), "{e}");
    assert!(e.contains("allocation failure aborts the process"), "{e}");
    assert!(e.contains("char *name = malloc(16);"), "the snippet: {e}");
    assert!(
        e.contains("reproduce with: oomcheck exec --alloc 2 -- "),
        "{e}"
    );
    assert!(
        e.contains("1 program: 0 clean, 1 failing (1 finding at 1 site)"),
        "{e}"
    );

    let one = exec(&["--alloc", "1", "--format", "json", "--", bin], &[]);
    assert_eq!(
        one.code,
        Some(0),
        "index 1 alone is handled: {}",
        one.stderr
    );
    assert_eq!(record(&one)["sequence"], ".");
}

#[test]
fn static_programs_and_programs_that_never_call_malloc_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("nothing.c");
    std::fs::write(&src, "int main(void) { return 0; }\n").unwrap();
    let src = src.to_str().unwrap();
    let fixed = cc(dir.path(), "static", &["-static", src]);
    let run = exec(&["--", fixed.to_str().unwrap()], &[]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("statically linked"), "{}", run.stderr);

    let none = cc(dir.path(), "nothing", &[src]);
    let run = exec(&["--", none.to_str().unwrap()], &[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("made no allocation through malloc"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("#[global_allocator]"), "{}", run.stderr);

    let run = exec(&["--", "/no/such/program"], &[]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("cannot find the program"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_inherited_ld_preload_still_loads_after_the_interposer() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("mark.c");
    // A preload of the user's own: it appends a line to $MARK in every process it loads into.
    std::fs::write(
        &src,
        "#include <fcntl.h>\n#include <stdlib.h>\n#include <unistd.h>\n\
         __attribute__((constructor)) static void mark(void) {\n\
             const char *p = getenv(\"MARK\");\n\
             if (p) { int fd = open(p, O_WRONLY | O_APPEND | O_CREAT, 0600); write(fd, \"x\\n\", 2); close(fd); }\n\
         }\n",
    )
    .unwrap();
    let lib = cc(
        dir.path(),
        "libmark.so",
        &["-shared", "-fPIC", src.to_str().unwrap()],
    );
    let bin = fixture(dir.path());
    let mark = dir.path().join("mark.txt");
    let run = exec(
        &["--format", "json", "--", bin.to_str().unwrap()],
        &[
            ("LD_PRELOAD", lib.to_str().unwrap()),
            ("MARK", mark.to_str().unwrap()),
        ],
    );
    assert_eq!(record(&run)["sequence"], ".At", "the sweep is unchanged");
    let lines = std::fs::read_to_string(&mark)
        .unwrap_or_default()
        .lines()
        .count();
    assert!(
        lines >= 5,
        "two counting runs and three sweeps loaded it: {lines}"
    );
}

#[test]
fn fork_server_and_reruns_give_identical_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let bin = fixture(dir.path());
    let bin = bin.to_str().unwrap();
    let sweep = |strategy: &str| {
        let r = record(&exec(
            &["--strategy", strategy, "--format", "json", "--", bin],
            &[],
        ));
        assert_eq!(r["strategy"], strategy);
        r
    };
    let (forked, rerun) = (sweep("fork"), sweep("rerun"));
    assert_eq!(forked["sequence"], ".At");
    for key in ["sequence", "outcomes", "findings", "nalloc"] {
        assert_eq!(forked[key], rerun[key], "{key}");
    }
    assert_eq!(
        forked["preload"]["rechecked"],
        serde_json::json!([2]),
        "the crash is re-run"
    );
}
