//! Running the program once with the interposer: its environment, a timeout, and what it left
//! behind (exit, output, journal).
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::journal::{self, Journal};
use super::{library, protocol, PreloadError};

/// Every variable of the interposer's protocol: removed from the inherited environment, so that
/// each run is configured by its own settings alone.
const PROTOCOL_VARS: &[&str] = &[
    protocol::JOURNAL,
    protocol::PARENT,
    protocol::FAIL,
    protocol::PERSISTENT,
    protocol::STACKS,
    protocol::THREAD,
    protocol::SCOPE,
    protocol::EXCLUDE,
    protocol::FORK,
    protocol::TIMEOUT_MS,
];

/// The program and the environment every run of it shares.
#[derive(Debug, Clone)]
pub struct Program {
    /// The executable.
    pub path: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Variables set for it (beyond the inherited environment).
    pub env: Vec<(OsString, OsString)>,
    /// Count only on the thread of this name, below these ranges (libtest), when set.
    pub scope: Option<ThreadScope>,
}

/// The interposer's scope for a libtest test (see [`protocol::THREAD`] and [`protocol::SCOPE`]).
#[derive(Debug, Clone)]
pub struct ThreadScope {
    /// The test thread's name.
    pub thread: String,
    /// [`protocol::SCOPE`]'s value.
    pub include: String,
    /// [`protocol::EXCLUDE`]'s value.
    pub exclude: String,
}

/// What one run asks of the interposer.
#[derive(Debug, Clone, Default)]
pub struct RunConfig {
    /// The allocation to fail (`None`: a counting run).
    pub fail: Option<u64>,
    /// Fail every allocation from `fail` on.
    pub persistent: bool,
    /// Record every counted allocation's stack.
    pub stacks: bool,
    /// Fork server: fork at these allocations.
    pub fork: Vec<u64>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this status.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// It ran past the timeout and was killed.
    TimedOut,
}

impl Ended {
    /// From a `waitpid` status.
    pub fn from_wait_status(status: i32) -> Ended {
        if libc::WIFSIGNALED(status) {
            Ended::Signaled(libc::WTERMSIG(status))
        } else {
            Ended::Exited(libc::WEXITSTATUS(status))
        }
    }

    fn from_exit_status(s: ExitStatus) -> Ended {
        use std::os::unix::process::ExitStatusExt;
        match (s.code(), s.signal()) {
            (Some(code), _) => Ended::Exited(code),
            (None, Some(sig)) => Ended::Signaled(sig),
            (None, None) => Ended::Exited(-1),
        }
    }
}

/// What a run left behind.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// How it ended.
    pub ended: Ended,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
    /// The interposer's journal.
    pub journal: Journal,
    /// Wall time.
    pub elapsed: Duration,
    /// A fork-server child's: it forked from a run at the failed allocation rather than
    /// starting afresh.
    pub forked: bool,
}

/// Private files of one worker: journal, stdout and stderr of its current run.
#[derive(Debug, Clone)]
pub struct Slot {
    /// The journal.
    pub journal: PathBuf,
    out: PathBuf,
    err: PathBuf,
}

impl Slot {
    /// The files of worker `n` in `dir`.
    pub fn new(dir: &Path, n: usize) -> Slot {
        Slot {
            journal: dir.join(format!("w{n}.journal")),
            out: dir.join(format!("w{n}.out")),
            err: dir.join(format!("w{n}.err")),
        }
    }
}

/// Runs `program` once as `config` asks, killing it after `timeout`.
pub fn run(
    program: &Program,
    lib: &Path,
    config: &RunConfig,
    slot: &Slot,
    timeout: Duration,
) -> Result<RunOutput, PreloadError> {
    let io = |e: std::io::Error| PreloadError::Launch {
        program: program.path.clone(),
        source: e,
    };
    let _ = std::fs::remove_file(&slot.journal);
    let mut cmd = Command::new(&program.path);
    cmd.args(&program.args);
    for k in PROTOCOL_VARS {
        cmd.env_remove(k);
    }
    cmd.envs(program.env.iter().map(|(k, v)| (k, v)));
    cmd.env(
        "LD_PRELOAD",
        library::ld_preload(lib, std::env::var_os("LD_PRELOAD")),
    )
    .env(protocol::PARENT, std::process::id().to_string())
    .env(protocol::JOURNAL, &slot.journal);
    if let Some(i) = config.fail {
        cmd.env(protocol::FAIL, i.to_string());
    }
    if config.persistent {
        cmd.env(protocol::PERSISTENT, "1");
    }
    if config.stacks {
        cmd.env(protocol::STACKS, "1");
    }
    if let Some(s) = &program.scope {
        cmd.env(protocol::THREAD, &s.thread)
            .env(protocol::SCOPE, &s.include)
            .env(protocol::EXCLUDE, &s.exclude);
    }
    if !config.fork.is_empty() {
        let list: Vec<String> = config.fork.iter().map(u64::to_string).collect();
        cmd.env(protocol::FORK, list.join(","))
            .env(protocol::TIMEOUT_MS, timeout.as_millis().to_string());
    }
    let out = std::fs::File::create(&slot.out).map_err(io)?;
    let err = std::fs::File::create(&slot.err).map_err(io)?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(io)?;
    // A fork server waits for each forked child up to the timeout itself.
    let limit = timeout * (config.fork.len() as u32 + 1);
    let ended = wait(&mut child, limit).map_err(io)?;
    let elapsed = started.elapsed();
    let read = |p: &Path| {
        std::fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    Ok(RunOutput {
        ended,
        stdout: read(&slot.out),
        stderr: read(&slot.err),
        journal: journal::parse(&std::fs::read(&slot.journal).unwrap_or_default()),
        elapsed,
        forked: false,
    })
}

/// Waits for `child`, killing it once `timeout` has passed.
fn wait(child: &mut Child, timeout: Duration) -> std::io::Result<Ended> {
    let deadline = Instant::now() + timeout;
    let pid = child.id() as libc::pid_t;
    // SAFETY: a plain system call; the descriptor is closed below.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as libc::c_int;
    let mut pause = Duration::from_micros(50);
    loop {
        if let Some(status) = child.try_wait()? {
            if pidfd >= 0 {
                // SAFETY: our own descriptor.
                unsafe { libc::close(pidfd) };
            }
            return Ok(Ended::from_exit_status(status));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let _ = child.kill();
            child.wait()?;
            if pidfd >= 0 {
                // SAFETY: our own descriptor.
                unsafe { libc::close(pidfd) };
            }
            return Ok(Ended::TimedOut);
        }
        if pidfd >= 0 {
            // The descriptor becomes readable when the child exits.
            let mut p = libc::pollfd {
                fd: pidfd,
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut p, 1, ms) };
        } else {
            std::thread::sleep(pause.min(left));
            pause = (pause * 2).min(Duration::from_millis(5));
        }
    }
}
