//! The pre-commit integrations, tested with the real thing: the pre-commit framework from PyPI
//! (`pre-commit try-repo` against this repository, which builds the hook with `cargo install`)
//! and the plain git hook written by `oomcheck hook install`.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BAD: &str = "pub fn grow(v: &mut Vec<u8>) {\n    let _ = v.try_reserve(10);\n}\n";
const CLEAN: &str = "use std::collections::TryReserveError;\n\npub fn grow(v: &mut Vec<u8>) -> Result<(), TryReserveError> {\n    v.try_reserve(10)?;\n    Ok(())\n}\n";
/// Test code of the scratch crate: not flagged, even though pre-commit names it explicitly.
const TEST_CODE: &str =
    "#[test]\nfn t() {\n    let mut v: Vec<u8> = Vec::new();\n    v.try_reserve(1).unwrap();\n}\n";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    eprintln!(
        "$ {cmd:?}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn git(dir: &Path, args: &[&str]) -> Output {
    let out = run(Command::new("git").arg("-C").arg(dir).args(args));
    assert!(out.status.success(), "git {args:?} failed");
    out
}

/// A scratch crate in a fresh git repository with `src/lib.rs` = `lib` and a test file.
fn scratch_repo(lib: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = dir.path();
    git(p, &["init", "-q", "-b", "main"]);
    git(p, &["config", "user.email", "t@example.invalid"]);
    git(p, &["config", "user.name", "t"]);
    git(p, &["config", "commit.gpgsign", "false"]);
    std::fs::create_dir_all(p.join("src")).unwrap();
    std::fs::create_dir_all(p.join("tests")).unwrap();
    std::fs::write(
        p.join("Cargo.toml"),
        "[package]\nname = \"scratch\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(p.join("src/lib.rs"), lib).unwrap();
    std::fs::write(p.join("tests/it.rs"), TEST_CODE).unwrap();
    git(p, &["add", "-A"]);
    dir
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn pre_commit_available() -> bool {
    let ok = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("OOMCHECK_SKIP_PRE_COMMIT").is_some(),
            "the real pre-commit is needed: `pip install pre-commit` (or set OOMCHECK_SKIP_PRE_COMMIT=1 to skip)"
        );
    }
    ok
}

/// `pre-commit try-repo <this repo> oomcheck-lint` on the staged files of `repo`.
fn try_repo(repo: &Path, home: &Path) -> Output {
    run(Command::new("pre-commit")
        .current_dir(repo)
        .args(["try-repo", "--color", "never"])
        .arg(repo_root())
        .arg("oomcheck-lint")
        .env("PRE_COMMIT_HOME", home)
        // The hook is built by `cargo install`; a shared target dir lets later runs reuse
        // the compiled dependencies, and an unoptimised release profile keeps that build as
        // cheap as a debug one (this tests the hook's wiring, not the optimiser).
        .env("CARGO_TARGET_DIR", repo_root().join("target/pre-commit"))
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false"))
}

#[test]
fn pre_commit_framework_refuses_a_bad_file_and_passes_a_clean_one() {
    if !pre_commit_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();

    let bad = scratch_repo(BAD);
    let out = try_repo(bad.path(), home.path());
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "bad file must fail the hook");
    assert!(
        t.contains("src/lib.rs:2:") && t.contains("discarded-alloc-result"),
        "the finding must be shown: {t}"
    );
    assert!(!t.contains("tests/it.rs"), "test code must be skipped: {t}");

    let clean = scratch_repo(CLEAN);
    let out = try_repo(clean.path(), home.path());
    assert_eq!(out.status.code(), Some(0), "clean files must pass");
    assert!(text(&out).contains("Passed"));
}

#[test]
fn hook_install_refuses_bad_commits_and_keeps_existing_hooks() {
    let oomcheck = env!("CARGO_BIN_EXE_oomcheck");
    let repo = scratch_repo(BAD);
    let p = repo.path();
    git(p, &["reset", "-q"]);

    let install = |force: bool| {
        let mut c = Command::new(oomcheck);
        c.args(["hook", "install", "--repo"]).arg(p);
        if force {
            c.arg("--force");
        }
        run(&mut c)
    };
    let out = install(false);
    assert!(out.status.success());
    let hook = p.join(".git/hooks/pre-commit");
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("\"$oomcheck\" lint --format short"));

    let again = install(false);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again).contains("--force"), "{}", text(&again));
    assert!(install(true).status.success());

    // A PATH without any installed oomcheck: the hook falls back to the installing binary.
    let commit = |msg: &str| {
        run(Command::new("git")
            .arg("-C")
            .arg(p)
            .args(["commit", "-q", "-m", msg])
            .env("PATH", "/usr/local/bin:/usr/bin:/bin"))
    };
    git(p, &["add", "src/lib.rs", "Cargo.toml"]);
    let refused = commit("bad");
    assert!(!refused.status.success(), "a bad commit must be refused");
    assert!(text(&refused).contains("discarded-alloc-result"));

    std::fs::write(p.join("src/lib.rs"), CLEAN).unwrap();
    git(p, &["add", "src/lib.rs", "tests/it.rs"]);
    let accepted = commit("clean");
    assert!(accepted.status.success(), "{}", text(&accepted));
}
