//! `oomcheck init`: the written configuration is valid, carries the defaults, is used by
//! `oomcheck lint`, and is never silently overwritten.
use std::process::{Command, Output};

fn oomcheck(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oomcheck"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run oomcheck")
}

#[test]
fn init_writes_a_config_that_lint_accepts_and_prints_the_injector_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = oomcheck(dir.path(), &["init"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("oomcheck-injector = "), "{stdout}");
    assert!(stdout.contains("#[global_allocator]"), "{stdout}");
    assert!(stdout.contains("oomcheck_injector::check(||"), "{stdout}");

    let config = std::fs::read_to_string(dir.path().join("oomcheck.toml")).unwrap();
    assert!(
        config.contains("discarded-alloc-result = \"error\""),
        "{config}"
    );
    // The opt-in rule stays off unless asked (README: "off (opt-in)"): no level, no scope.
    assert!(
        config.contains("# infallible-alloc = \"error\""),
        "{config}"
    );
    assert!(!config.contains("\ninfallible-alloc ="), "{config}");

    // The written file is a valid configuration: a level set in it takes effect.
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/lib.rs"),
        "pub fn f(v: &mut Vec<u8>) {\n    let _ = v.try_reserve(1);\n}\n",
    )
    .unwrap();
    let lint = oomcheck(dir.path(), &["lint", "--format", "short"]);
    assert_eq!(
        lint.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&lint.stderr)
    );
    assert!(String::from_utf8_lossy(&lint.stdout).contains("src/lib.rs:2:"));

    let edited = config.replace(
        "discarded-alloc-result = \"error\"",
        "discarded-alloc-result = \"off\"",
    );
    std::fs::write(dir.path().join("oomcheck.toml"), edited).unwrap();
    let lint = oomcheck(dir.path(), &["lint", "--format", "short"]);
    assert_eq!(
        lint.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("oomcheck.toml"), "# mine\n").unwrap();
    let out = oomcheck(dir.path(), &["init"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("oomcheck.toml")).unwrap(),
        "# mine\n"
    );
    assert!(oomcheck(dir.path(), &["init", "--force"]).status.success());
}
