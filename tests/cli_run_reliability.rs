//! `oomcheck run` as a dependable CI step: Ctrl-C stops the whole process tree and says which
//! checks are incomplete, and a run writes nothing into the crate's source tree.
use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{oomcheck_command as oomcheck, repo};

/// Processes whose environment holds `key=value`, and whether each also holds `also` (any value).
fn processes_with_env(key: &str, value: &str, also: &str) -> Vec<(u32, bool)> {
    let needle = format!("{key}={value}");
    let also = format!("{also}=");
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        let mut vars = env.split(|b| *b == 0);
        if vars.clone().any(|kv| kv == needle.as_bytes()) {
            found.push((pid, vars.any(|kv| kv.starts_with(also.as_bytes()))));
        }
    }
    found
}

#[test]
fn ctrl_c_stops_every_process_and_names_the_incomplete_checks() {
    let tag = format!("{}-interrupt", std::process::id());
    let fixture = repo().join("tests/fixtures/oom-fixture");
    let stderr_path = std::env::temp_dir().join(format!("oomcheck-interrupt-{tag}.stderr"));
    let stderr_file = std::fs::File::create(&stderr_path).expect("stderr file");
    let mut cmd = oomcheck(
        &fixture,
        &["run", "--jobs", "2", "--", "--ignored", "slow_sweep"],
    );
    // Its own process group, as a shell gives a foreground job: the test sends SIGINT to the
    // group, as a terminal does on Ctrl-C.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .env("OOMCHECK_E2E_INTERRUPT", &tag)
        .stdout(Stdio::null())
        .stderr(stderr_file)
        .spawn()
        .expect("start oomcheck run");
    let pgid = child.id() as libc::pid_t;

    // Wait until the sweep runs in child processes (the build may come first).
    let deadline = Instant::now() + Duration::from_secs(300);
    let sweeping = loop {
        let procs = processes_with_env("OOMCHECK_E2E_INTERRUPT", &tag, "OOMCHECK_CHILD_JOURNAL");
        if procs.iter().any(|(_, sweep_child)| *sweep_child) {
            break procs;
        }
        if Instant::now() > deadline || child.try_wait().expect("try_wait").is_some() {
            let _ = child.kill();
            let mut text = String::new();
            let _ = std::fs::File::open(&stderr_path).and_then(|mut f| f.read_to_string(&mut text));
            panic!("the sweep never started:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        sweeping.len() >= 4,
        "oomcheck, cargo, the test, children: {sweeping:?}"
    );

    // SAFETY: a plain system call on the group we created.
    unsafe {
        libc::kill(-pgid, libc::SIGINT);
    }
    let status = child.wait().expect("wait for oomcheck");
    let mut stderr = String::new();
    std::fs::File::open(&stderr_path)
        .and_then(|mut f| f.read_to_string(&mut stderr))
        .expect("read stderr");
    let _ = std::fs::remove_file(&stderr_path);
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: 0 checks finished; incomplete (sweep cut short): slow_sweep"),
        "{stderr}"
    );

    // No process of the run is left: not cargo, not the test executable, not a sweep child.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = processes_with_env("OOMCHECK_E2E_INTERRUPT", &tag, "OOMCHECK_CHILD_JOURNAL");
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "orphans left: {left:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every file under `root` (skipping `skip`), by relative path, with its bytes.
fn snapshot(root: &Path, skip: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = e.path();
            if path == skip {
                continue;
            }
            let kind = e.file_type().expect("file type");
            if kind.is_dir() {
                dirs.push(path);
            } else {
                let rel = path.strip_prefix(root).expect("under root").to_path_buf();
                out.insert(rel, std::fs::read(&path).expect("read file"));
            }
        }
    }
    out
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let name = e.file_name();
        if name == "target" {
            continue;
        }
        if e.file_type().expect("file type").is_dir() {
            copy_tree(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).expect("copy file");
        }
    }
}

#[test]
fn run_and_lint_leave_the_source_tree_unchanged() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let crate_dir = tmp.path().join("demo");
    copy_tree(&repo().join("examples/demo"), &crate_dir);
    // The copy depends on this repository's injector by absolute path. It is a package of its
    // own name (same library name): in the shared target directory, a copy of the demo under
    // the demo's name would replace the demo's own test executables (cargo names path
    // packages' artifacts without their path, and tracks their sources relative to it).
    let manifest = crate_dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("Cargo.toml");
    let injector = repo().join("injector").display().to_string();
    let patched = text
        .replace("\"../../injector\"", &format!("{injector:?}"))
        .replace(
            "name = \"oomcheck-demo\"",
            "name = \"oomcheck-demo-tree-check\"",
        )
        .replace(
            "[dependencies]",
            "[lib]\nname = \"oomcheck_demo\"\n\n[dependencies]",
        );
    assert_eq!(
        patched.matches("tree-check").count() + patched.matches("[lib]").count(),
        2,
        "the demo's manifest changed shape:\n{patched}"
    );
    assert!(
        patched.contains(&injector),
        "the demo's injector dependency moved"
    );
    std::fs::write(&manifest, patched).expect("write Cargo.toml");

    // Cargo settles the lock file of the renamed package now, as it would on a user's first
    // build: the tree is then as a user has it.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let settled = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(&crate_dir)
        .stdout(Stdio::null())
        .status()
        .expect("cargo metadata");
    assert!(settled.success());

    let target = crate_dir.join("target");
    let before = snapshot(&crate_dir, &target);
    // A sweep with findings (abort, panic, corruption: crashing children, stderr files, reports)
    // and a clean one; then the linter.
    let out = oomcheck(&crate_dir, &["run", "--", "domain_survives_oom"])
        .output()
        .expect("oomcheck run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = oomcheck(
        &crate_dir,
        &["run", "--format", "json", "--", "header_survives_oom"],
    )
    .output()
    .expect("oomcheck run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = oomcheck(&crate_dir, &["lint", "src", "tests"])
        .output()
        .expect("oomcheck lint");
    assert!(out.status.code().is_some_and(|c| c < 2), "{out:?}");
    let after = snapshot(&crate_dir, &target);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "files appeared or vanished"
    );
    for (path, bytes) in &before {
        assert!(after[path] == *bytes, "{} changed", path.display());
    }
    assert!(
        !target.exists(),
        "the build went to CARGO_TARGET_DIR, outside the tree"
    );
}

#[test]
fn a_sweep_whose_test_process_died_is_reported_incomplete() {
    let fixture = repo().join("tests/fixtures/oom-fixture");
    let out = oomcheck(
        &fixture,
        &["run", "--", "--ignored", "dies_in_its_normal_run"],
    )
    .output()
    .expect("oomcheck run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "error: the sweep of dies_in_its_normal_run did not finish (its test process died): no outcome was recorded"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("no OOM checks found"), "{stderr}");
}
