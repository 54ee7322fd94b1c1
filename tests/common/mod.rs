//! Helpers shared by the end-to-end tests: a temporary crate and the result of running the
//! built binary on it (`oomcheck lint`), the built binary with a clean injector environment
//! (`oomcheck run`), and checked-in snapshots of what a user reads.
// Each test binary uses its own subset of the helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// A temporary crate with the files given.
pub struct Crate {
    dir: tempfile::TempDir,
}

impl Crate {
    pub fn new(files: &[(&str, &str)]) -> Crate {
        let dir = tempfile::tempdir().expect("temp dir");
        let c = Crate { dir };
        c.write(
            "Cargo.toml",
            "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        );
        for (path, text) in files {
            c.write(path, text);
        }
        c
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        self.write_bytes(rel, text.as_bytes());
    }

    pub fn write_bytes(&self, rel: &str, bytes: &[u8]) {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, bytes).expect("write");
    }

    /// Run `oomcheck lint ARGS` in the crate's folder.
    pub fn lint(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_oomcheck"))
            .arg("lint")
            .args(args)
            .current_dir(self.path())
            .env("NO_COLOR", "1")
            .env_remove("CI")
            .env_remove("OOMCHECK_NARRATE")
            .output()
            .expect("run oomcheck");
        Run::from(out)
    }
}

#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    /// `(rule, line)` of every finding, from `--format json` output.
    pub fn rules_and_lines(&self) -> Vec<(String, u64)> {
        let doc = self.json();
        doc["findings"]
            .as_array()
            .expect("findings array")
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().expect("rule").to_string(),
                    f["line"].as_u64().expect("line"),
                )
            })
            .collect()
    }
    /// `path:line: rule` of every finding, from `--format json` output.
    pub fn findings(&self) -> Vec<String> {
        self.json()["findings"]
            .as_array()
            .expect("findings array")
            .iter()
            .map(|f| format!("{}:{}: {}", f["path"], f["line"], f["rule"]).replace('"', ""))
            .collect()
    }

    /// `path:line: message` of every error, from `--format json` output.
    pub fn errors(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .expect("errors array")
            .iter()
            .map(|e| format!("{}:{}: {}", e["path"], e["line"], e["message"]).replace('"', ""))
            .collect()
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `oomcheck ARGS` in `dir`, with a clean injector environment (no inherited `OOMCHECK*`), no
/// colour, and builds in the shared fixture target directory.
pub fn oomcheck_command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oomcheck"));
    cmd.args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", repo().join("target/fixtures"))
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "0");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("OOMCHECK") {
            cmd.env_remove(&k);
        }
    }
    cmd
}

/// What one `oomcheck` invocation did.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Run `oomcheck ARGS` in `dir`, with a clean injector environment and no colour.
pub fn oomcheck(dir: &Path, args: &[&str]) -> Out {
    let mut cmd = oomcheck_command(dir, args);
    let out = cmd.output().expect("run the oomcheck binary");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Whether snapshots are rewritten rather than compared: `OOMCHECK_BLESS=1`, and never under CI,
/// where a snapshot is only ever compared.
pub fn blessing() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    std::env::var_os("OOMCHECK_BLESS").is_some_and(|v| v == "1") && !ci
}

/// Compares `actual` with the snapshot file at `path`, or writes it when [`blessing`]; the
/// mismatch, if any, names the first differing line.
pub fn check_snapshot(path: &Path, actual: &str) -> Result<(), String> {
    if blessing() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir snapshots");
        std::fs::write(path, actual).expect("write snapshot");
        return Ok(());
    }
    let expected = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "no snapshot {} ({e}); write it with OOMCHECK_BLESS=1",
            path.display()
        )
    })?;
    if expected == actual {
        return Ok(());
    }
    let (want, got): (Vec<&str>, Vec<&str>) =
        (expected.lines().collect(), actual.lines().collect());
    let line = (0..want.len().max(got.len()))
        .find(|&i| want.get(i) != got.get(i))
        .map_or("only in line endings".to_string(), |i| {
            format!(
                "line {}:\n  expected: {:?}\n  actual:   {:?}",
                i + 1,
                want.get(i).copied().unwrap_or("<end>"),
                got.get(i).copied().unwrap_or("<end>")
            )
        });
    Err(format!(
        "{} differs from the output (OOMCHECK_BLESS=1 rewrites it if the change is meant); {line}",
        path.display()
    ))
}

/// Asserts that `actual` matches the checked-in `tests/snapshots/NAME` (see [`check_snapshot`]),
/// printing the whole output on a mismatch.
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = repo().join("tests/snapshots").join(name);
    if let Err(problem) = check_snapshot(&path, actual) {
        panic!("{problem}\n--- actual\n{actual}");
    }
}

/// Validates `instance` against the SARIF 2.1.0 JSON schema vendored in `tests/sarif/`.
pub fn validate_sarif(instance: &Value) -> Result<(), String> {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif/sarif-schema-2.1.0.json");
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    let index = compiler
        .compile(schema.to_str().expect("utf-8 path"), &mut schemas)
        .map_err(|e| format!("schema does not compile: {e:#}"))?;
    schemas
        .validate(instance, index)
        .map_err(|e| format!("{e:#}"))
}
