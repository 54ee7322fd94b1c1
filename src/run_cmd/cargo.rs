//! Driving `cargo`: workspace metadata, the test build, and the test run itself.
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;

use serde::Deserialize;

/// The cargo options `oomcheck run` passes through to both the build and the run.
#[derive(Debug, Clone, Default)]
pub struct CargoOpts {
    /// `--manifest-path`.
    pub manifest_path: Option<PathBuf>,
    /// `-p` / `--package`, repeatable.
    pub packages: Vec<String>,
    /// `--release`.
    pub release: bool,
    /// `--features`, repeatable.
    pub features: Vec<String>,
    /// `--all-features`.
    pub all_features: bool,
    /// `--no-default-features`.
    pub no_default_features: bool,
}

impl CargoOpts {
    /// The selection and profile arguments, as cargo spells them.
    fn args(&self) -> Vec<OsString> {
        let mut out: Vec<OsString> = Vec::new();
        if let Some(path) = &self.manifest_path {
            out.push("--manifest-path".into());
            out.push(path.into());
        }
        for p in &self.packages {
            out.push("--package".into());
            out.push(p.into());
        }
        if self.release {
            out.push("--release".into());
        }
        for f in &self.features {
            out.push("--features".into());
            out.push(f.into());
        }
        if self.all_features {
            out.push("--all-features".into());
        }
        if self.no_default_features {
            out.push("--no-default-features".into());
        }
        out
    }
}

/// Why cargo could not be asked, or its answer not read.
#[derive(Debug, thiserror::Error)]
pub enum CargoError {
    /// Cargo could not be started.
    #[error("cannot run cargo")]
    Spawn(#[source] io::Error),
    /// Waiting for cargo to exit failed.
    #[error("cannot wait for cargo")]
    Wait(#[source] io::Error),
    /// `cargo metadata` failed: its own error text (no `Cargo.toml`, a broken one, …).
    #[error("{0}")]
    MetadataFailed(String),
    /// `cargo metadata` succeeded but printed something other than the metadata.
    #[error("cannot read cargo metadata")]
    MetadataJson(#[source] serde_json::Error),
}

/// The cargo to run: the one that started us (`cargo oomcheck`, or a test under cargo), else
/// the one on `PATH`.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// What `oomcheck run` needs from `cargo metadata`.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    /// The target directory (honours `CARGO_TARGET_DIR` and config).
    pub target_directory: PathBuf,
    /// The workspace root.
    pub workspace_root: PathBuf,
    /// The workspace's packages.
    #[serde(default)]
    pub packages: Vec<MetadataPackage>,
}

/// One package of `cargo metadata`.
#[derive(Debug, Clone, Deserialize)]
pub struct MetadataPackage {
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its `Cargo.toml`.
    pub manifest_path: PathBuf,
}

/// Run `cargo metadata --no-deps`; on failure return cargo's own error text.
pub fn metadata(opts: &CargoOpts) -> Result<Metadata, CargoError> {
    let mut cmd = cargo();
    cmd.args(["metadata", "--format-version", "1", "--no-deps"]);
    if let Some(path) = &opts.manifest_path {
        cmd.arg("--manifest-path").arg(path);
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(CargoError::Spawn)?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
        return Err(CargoError::MetadataFailed(text));
    }
    serde_json::from_slice(&out.stdout).map_err(CargoError::MetadataJson)
}

/// The result of building the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// Whether cargo succeeded.
    pub success: bool,
    /// Test executables produced.
    pub test_binaries: usize,
    /// Each of them, with its package (for `run --preload`).
    pub executables: Vec<TestExecutable>,
    /// Rendered compiler errors (cargo's own status and errors go straight to our stderr).
    pub errors: Vec<String>,
}

/// A test executable `cargo test --no-run` built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestExecutable {
    /// The executable.
    pub path: PathBuf,
    /// Its package's `Cargo.toml`.
    pub manifest_path: PathBuf,
}

#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    #[serde(default)]
    manifest_path: Option<PathBuf>,
    #[serde(default)]
    message: Option<CompilerMessage>,
    #[serde(default)]
    profile: Option<Profile>,
    #[serde(default)]
    executable: Option<PathBuf>,
}

#[derive(Deserialize)]
struct CompilerMessage {
    #[serde(default)]
    level: String,
    #[serde(default)]
    rendered: Option<String>,
}

#[derive(Deserialize)]
struct Profile {
    #[serde(default)]
    test: bool,
}

/// `cargo test --no-run --message-format=json`: build every test target. Cargo's stderr
/// (progress, "could not compile") is passed through; compiler errors are collected from the
/// JSON stream.
pub fn build(opts: &CargoOpts, color: bool) -> Result<Build, CargoError> {
    let mut cmd = cargo();
    cmd.args(["test", "--no-run"]);
    cmd.arg(if color {
        "--message-format=json-diagnostic-rendered-ansi"
    } else {
        "--message-format=json"
    });
    cmd.args(opts.args());
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(CargoError::Spawn)?;
    let mut build = Build {
        success: false,
        test_binaries: 0,
        executables: Vec::new(),
        errors: Vec::new(),
    };
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let Ok(msg) = serde_json::from_str::<CargoMessage>(&line) else {
                continue;
            };
            match msg.reason.as_str() {
                "compiler-message" => {
                    if let Some(m) = msg.message {
                        if m.level.starts_with("error") {
                            build.errors.extend(m.rendered);
                        }
                    }
                }
                "compiler-artifact" if msg.profile.is_some_and(|p| p.test) => {
                    if let Some(path) = msg.executable {
                        build.test_binaries += 1;
                        build.executables.push(TestExecutable {
                            path,
                            manifest_path: msg.manifest_path.unwrap_or_default(),
                        });
                    }
                }
                _ => {}
            }
        }
    }
    build.success = child.wait().map_err(CargoError::Wait)?.success();
    Ok(build)
}

/// A running `cargo test`, its output collected on background threads.
pub struct TestRun {
    child: Child,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

/// What a finished `cargo test` printed.
#[derive(Debug)]
pub struct TestOutput {
    /// Cargo's exit status.
    pub status: ExitStatus,
    /// libtest's stdout.
    pub stdout: String,
    /// Cargo's and the tests' stderr.
    pub stderr: String,
}

fn collect(mut r: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = r.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

impl TestRun {
    /// Start `cargo test --no-fail-fast OPTS -- LIBTEST_ARGS` with `env` set; every other
    /// variable named in `clear` is removed so the flags alone decide the sweep.
    pub fn spawn(
        opts: &CargoOpts,
        libtest_args: &[String],
        env: &[(&str, String)],
        clear: &[&str],
    ) -> Result<TestRun, CargoError> {
        let mut cmd = cargo();
        cmd.args(["test", "--no-fail-fast"]).args(opts.args());
        cmd.arg("--").args(libtest_args);
        for k in clear {
            cmd.env_remove(k);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Cargo, the test executables and their sweep children get a process group of their
        // own, so that an interrupt reaches all of them through `signal_group` (a terminal's
        // Ctrl-C reaches only our group; `kill -INT` only us) and none outlives the run.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(CargoError::Spawn)?;
        let stdout = child.stdout.take().map(collect);
        let stderr = child.stderr.take().map(collect);
        Ok(TestRun {
            child,
            stdout,
            stderr,
        })
    }

    /// Sends `signal` to cargo's process group: cargo, the test executables and their sweep
    /// children.
    pub fn signal_group(&self, signal: i32) {
        if let Ok(pgid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: a plain system call; the group exists while any member (or the unreaped
            // cargo) does, so the id names no one else's group.
            unsafe {
                libc::kill(-pgid, signal);
            }
        }
    }

    /// Whether cargo has exited.
    pub fn is_done(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Wait for cargo and return what it printed.
    pub fn finish(mut self) -> Result<TestOutput, CargoError> {
        let status = self.child.wait().map_err(CargoError::Wait)?;
        let join = |h: Option<JoinHandle<String>>| {
            h.map(|h| h.join().unwrap_or_default()).unwrap_or_default()
        };
        Ok(TestOutput {
            status,
            stdout: join(self.stdout.take()),
            stderr: join(self.stderr.take()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opts_become_cargo_arguments() {
        let opts = CargoOpts {
            manifest_path: Some("a/Cargo.toml".into()),
            packages: vec!["p".into()],
            release: true,
            features: vec!["f g".into()],
            all_features: false,
            no_default_features: true,
        };
        let args: Vec<String> = opts
            .args()
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "--manifest-path",
                "a/Cargo.toml",
                "--package",
                "p",
                "--release",
                "--features",
                "f g",
                "--no-default-features"
            ]
        );
    }
}
