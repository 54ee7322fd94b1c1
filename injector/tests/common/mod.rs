//! Helpers shared by the end-to-end tests that run real `cargo test` on the fixture crate
//! `tests/fixtures/oom-fixture`: its command with a clean injector environment, fresh report
//! directories, the JSON records read back by test name, and the checks every swept record
//! must pass.
//!
//! Every helper here is used by each test file that includes this module (`failure_modes`,
//! `fixture_sweeps`); a helper only one of them needs lives in that file.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root, the parent of the injector crate.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the injector crate lives in the repository root")
        .to_path_buf()
}

/// The fixture crate's directory.
pub fn fixture_dir() -> PathBuf {
    repo_root().join("tests/fixtures/oom-fixture")
}

/// The line of the fixture's `file` (relative to the fixture crate) carrying `// SITE: <what>`.
pub fn site_line(file: &str, what: &str) -> u64 {
    let text = std::fs::read_to_string(fixture_dir().join(file)).expect("fixture source");
    let marker = format!("// SITE: {what}");
    let index = text
        .lines()
        .position(|l| l.trim_end().ends_with(&marker))
        .unwrap_or_else(|| panic!("no `{marker}` in the fixture"));
    index as u64 + 1
}

/// Asserts that the finding `f` names the fixture's `file` (relative to the fixture crate) at
/// `line` as its site.
pub fn assert_site(f: &Value, file: &str, line: u64) {
    let site = &f["site"];
    assert!(
        site["file"]
            .as_str()
            .unwrap_or("")
            .ends_with(&format!("oom-fixture/{file}")),
        "{f:#}"
    );
    assert_eq!(site["line"].as_u64(), Some(line), "{f:#}");
}

/// Removes every `OOMCHECK*` variable of this process's environment from `cmd`, so that only
/// the variables a test sets reach the child. Call it before setting any.
pub fn clear_oomcheck_env(cmd: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("OOMCHECK") {
            cmd.env_remove(&k);
        }
    }
    cmd
}

/// A `cargo` command on the fixture, with a clean injector environment. Every fixture build
/// shares one target directory, `target/fixtures`, so the fixture is compiled once for all the
/// tests.
pub fn cargo_on_fixture() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    clear_oomcheck_env(&mut cmd)
        .env("CARGO_TARGET_DIR", repo_root().join("target/fixtures"))
        .env("RUST_BACKTRACE", "0");
    cmd
}

/// An empty directory `oomcheck-<name>-<pid>` under the temporary directory; whatever an
/// earlier run left there is removed.
pub fn fresh_temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oomcheck-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

/// Reads every record of the report directory `dir`, by test name, each test's records in the
/// order of their file names; any file that is not a record is an error.
pub fn read_records(dir: &Path) -> BTreeMap<String, Vec<Value>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("report dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    files.sort();
    let mut records: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for path in files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        assert!(
            name.ends_with(".json") && !name.starts_with('.'),
            "stray file {name} in the report dir"
        );
        let text = std::fs::read_to_string(&path).expect("record");
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{name} is not one JSON object: {e}\n{text}"));
        let test = v["test"].as_str().expect("test name").to_string();
        records.entry(test).or_default().push(v);
    }
    records
}

/// Output of one `cargo test` run of the fixture and the records it wrote, by test name.
pub struct Run {
    /// Cargo's and the tests' stdout, then their stderr.
    pub output: String,
    /// Every record of the run's report directory, by test name.
    pub records: BTreeMap<String, Vec<Value>>,
}

impl Run {
    /// The last 20,000 bytes or so of the output (a flood of output can run to megabytes).
    pub fn output_tail(&self) -> &str {
        let mut start = self.output.len().saturating_sub(20_000);
        while !self.output.is_char_boundary(start) {
            start += 1;
        }
        &self.output[start..]
    }

    /// The records of `test`; a missing test panics with the tail of the output.
    pub fn records_of(&self, test: &str) -> &[Value] {
        self.records.get(test).unwrap_or_else(|| {
            panic!(
                "no record for {test}; cargo output (tail):\n{}",
                self.output_tail()
            )
        })
    }
}

/// Runs `cargo test --no-fail-fast <args>` on the fixture with the injector variables `env`
/// (after clearing this process's) and a fresh report directory named after `tag`, and reads
/// back the records. See [`run_fixture_then`] to check something before the records are read.
pub fn run_fixture(tag: &str, env: &[(&str, &str)], args: &[&str]) -> Run {
    run_fixture_then(tag, env, args, || {})
}

/// [`run_fixture`], calling `after_exit` as soon as `cargo test` has exited, before the records
/// are read.
pub fn run_fixture_then(
    tag: &str,
    env: &[(&str, &str)],
    args: &[&str],
    after_exit: impl FnOnce(),
) -> Run {
    let report_dir = fresh_temp_dir(&format!("e2e-{tag}"));
    let mut cmd = cargo_on_fixture();
    cmd.arg("test")
        .arg("--manifest-path")
        .arg(fixture_dir().join("Cargo.toml"))
        .arg("--no-fail-fast")
        .args(args)
        .env("OOMCHECK_REPORT", &report_dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("cargo test on the fixture");
    after_exit();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let records = read_records(&report_dir);
    let _ = std::fs::remove_dir_all(&report_dir);
    Run { output, records }
}

/// A record's outcome counts, by outcome name.
pub fn outcome_counts(v: &Value) -> BTreeMap<String, u64> {
    v["outcomes"]
        .as_object()
        .expect("outcomes object")
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().expect("count")))
        .collect()
}

/// Checks what every swept record of `test` keeps: status `swept`, exactly `sequence` (one
/// symbol per index of the range), and outcome counts that cover the range. Returns each finding
/// with the symbol of the sequence at its index, for the caller's own checks.
pub fn assert_swept_record<'a>(test: &str, v: &'a Value, sequence: &str) -> Vec<(&'a Value, char)> {
    assert_eq!(v["status"], "swept", "{test}: {v:#}");
    assert_eq!(v["sequence"], sequence, "{test}: {v:#}");
    let range = v["range"].as_array().expect("range");
    let (lo, hi) = (
        range[0].as_u64().expect("range start"),
        range[1].as_u64().expect("range end"),
    );
    let total: u64 = outcome_counts(v).values().sum();
    assert_eq!(
        total,
        hi - lo + 1,
        "{test}: counts must cover the range: {v:#}"
    );
    assert_eq!(sequence.len() as u64, total, "{test}: one symbol per index");
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let alloc = f["alloc"].as_u64().expect("finding index");
            (f, sequence.as_bytes()[(alloc - lo) as usize] as char)
        })
        .collect()
}
