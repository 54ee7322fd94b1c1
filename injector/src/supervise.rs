//! The supervisor: runs a sweep in child processes that re-execute the test binary for one test,
//! `jobs` at a time, and turns a child that died into one `abort` (or `hang`) outcome.

use crate::child::{
    ChildResult, IndexSet, Journal, ENV_CAPTURE, ENV_CHECK, ENV_JOURNAL, ENV_PARENT, ENV_SET,
    ENV_TEST,
};
use crate::config::Mode;
use crate::report::Outcome;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One finished iteration, from a child's journal or from its death.
pub(crate) struct Done {
    pub(crate) result: ChildResult,
    /// Tail of the child's stderr, for crashes.
    pub(crate) stderr: Option<String>,
}

/// What the supervisor needs to know about the check.
pub(crate) struct Plan<'a> {
    pub(crate) test: &'a str,
    pub(crate) ordinal: u32,
    pub(crate) lo: u64,
    pub(crate) hi: u64,
    pub(crate) jobs: usize,
    pub(crate) mode: Mode,
    pub(crate) strict: bool,
    pub(crate) timeout: Duration,
    /// Arguments that make the test binary run exactly this test.
    pub(crate) args: Vec<String>,
    /// More environment for the children (index selection, fork strategy).
    pub(crate) env: Vec<(&'static str, String)>,
}

struct Running {
    child: Child,
    exited: ExitWatch,
    set: IndexSet,
    /// This child re-runs a crashed first index capturing stacks.
    capture: bool,
    journal: PathBuf,
    stderr: PathBuf,
    last_len: u64,
    last_change: Instant,
    killed: bool,
    /// The job-budget token this child runs on, released when it is dropped.
    _token: Option<crate::tokens::Token>,
}

impl Drop for Running {
    /// A child still running when the supervisor gives up (an error, an unwinding panic) is
    /// killed and reaped rather than left orphaned.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A temporary directory removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where sweeps keep their children's journals: the directory `TMPDIR` names when it is set;
/// otherwise, on Linux, `/dev/shm` when it is a writable memory file system with room to spare
/// (journal writes and clean-up then never touch a disk: on an ext4 mounted with `discard`,
/// removing the scratch directory alone took 0.5 ms, and a 100-allocation sweep ran 14 % faster);
/// else the system's temporary directory.
fn scratch_base() -> PathBuf {
    if std::env::var_os("TMPDIR").is_none() {
        let shm = Path::new("/dev/shm");
        if cfg!(target_os = "linux") && has_room(shm, 1 << 30) {
            return shm.to_path_buf();
        }
    }
    std::env::temp_dir()
}

/// Whether `dir` is a directory this process may write, with at least `bytes` available.
fn has_room(dir: &Path, bytes: u64) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a NUL-terminated path and `st` a zeroed struct `statvfs` fills.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0
            && libc::statvfs(c.as_ptr(), &mut st) == 0
            && (st.f_bavail as u64).saturating_mul(st.f_frsize as u64) >= bytes
    }
}

/// Removes the scratch directories (`oomcheck-<pid>-<n>`) of supervisors that died without
/// cleaning up (killed test processes), so that they do not pile up in the temporary directory.
fn prune_dead_scratch(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some((pid, seq)) = name
            .to_str()
            .and_then(|n| n.strip_prefix("oomcheck-"))
            .and_then(|n| n.split_once('-'))
        else {
            continue;
        };
        let (Ok(pid), Ok(_)) = (pid.parse::<libc::pid_t>(), seq.parse::<u64>()) else {
            continue;
        };
        // SAFETY: signal 0 only checks whether the process exists.
        let gone = pid > 0
            && unsafe { libc::kill(pid, 0) } == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Runs the sweep in children; every index of `lo..=hi` ends up in the result. Notes about the
/// sweep as a whole (the body allocating on threads it started) are pushed to `notes`.
pub(crate) fn supervise(
    plan: &Plan<'_>,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<u64, Done>, String> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the test executable: {e}"))?;
    let base = scratch_base();
    prune_dead_scratch(&base);
    let dir = base.join(format!(
        "oomcheck-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let scratch = Scratch(dir);
    let my_anchor = crate::stack::anchor();

    let n = plan.hi - plan.lo + 1;
    let jobs = (plan.jobs.max(1) as u64).min(n);
    // Sets of indices waiting for a child; `true` re-runs a crashed first index capturing stacks.
    let mut pending: Vec<(IndexSet, bool)> = (0..jobs)
        .map(|k| {
            let set = IndexSet {
                start: plan.lo + k,
                end: plan.hi,
                step: jobs,
            };
            (set, false)
        })
        .collect();
    // Crashes waiting for their re-run with stack capture.
    let mut awaiting: BTreeMap<u64, Done> = BTreeMap::new();
    let mut running: Vec<Running> = Vec::new();
    let mut done: BTreeMap<u64, Done> = BTreeMap::new();
    let mut spawned = 0u64;
    // Consecutive children of one set that made no progress.
    let mut stuck: BTreeMap<u64, u32> = BTreeMap::new();
    // A child that stops journaling for this long is wedged outside any iteration.
    let stall = plan.timeout * 2 + Duration::from_secs(10);
    // Most allocations a child saw on threads the body started.
    let mut foreign = 0u64;

    let budget = crate::tokens::Budget::from_env();
    while !pending.is_empty() || !running.is_empty() {
        while let Some((set, capture)) = pending.pop() {
            // A shared job budget (`oomcheck run`): start a child only with a token in hand.
            let token = match &budget {
                None => None,
                Some(b) => match b.try_acquire() {
                    Some(t) => Some(t),
                    None => {
                        pending.push((set, capture));
                        break;
                    }
                },
            };
            spawned += 1;
            let journal = scratch.0.join(format!("journal-{spawned}"));
            let stderr = scratch.0.join(format!("stderr-{spawned}"));
            let err_file = std::fs::File::create(&stderr)
                .map_err(|e| format!("cannot create {}: {e}", stderr.display()))?;
            let mut command = Command::new(&exe);
            command
                .args(&plan.args)
                .env(ENV_JOURNAL, &journal)
                .env(ENV_TEST, plan.test)
                .env(ENV_CHECK, plan.ordinal.to_string())
                .env(ENV_SET, set.encode())
                .env(ENV_CAPTURE, if capture { "1" } else { "0" })
                .env(ENV_PARENT, std::process::id().to_string())
                .envs(plan.env.iter().map(|(k, v)| (k, v)))
                // std's allocation-error hook reads RUST_BACKTRACE on first use; a set value is
                // copied into a new allocation, which fails too under persistent exhaustion and
                // muddles the crash report. Children need no std backtraces: we capture our own.
                .env_remove("RUST_BACKTRACE")
                .env_remove("RUST_LIB_BACKTRACE")
                .env("OOMCHECK_MODE", plan.mode.as_str())
                .env("OOMCHECK_STRICT", if plan.strict { "1" } else { "0" })
                .env(
                    "OOMCHECK_TIMEOUT",
                    format!("{}ms", plan.timeout.as_millis().max(1)),
                )
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(err_file);
            let child = command
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
            running.push(Running {
                exited: ExitWatch::new(&child),
                child,
                set,
                capture,
                journal,
                stderr,
                last_len: 0,
                last_change: Instant::now(),
                killed: false,
                _token: token,
            });
        }

        let mut i = 0;
        let mut any_exited = false;
        while i < running.len() {
            let status = match running[i].child.try_wait() {
                Ok(s) => s,
                Err(e) => return Err(format!("cannot wait for a sweep child: {e}")),
            };
            let Some(status) = status else {
                watch_stall(&mut running[i], stall);
                i += 1;
                continue;
            };
            any_exited = true;
            let r = running.swap_remove(i);
            let text = std::fs::read_to_string(&r.journal).unwrap_or_default();
            let journal = Journal::parse(&text);
            foreign = foreign.max(journal.foreign_allocs);
            let progressed = !journal.results.is_empty() || journal.in_flight.is_some();
            let mut next: Option<u64> = None;
            for res in journal.results.iter().cloned() {
                next = Some(res.alloc);
                let d = match awaiting.remove(&res.alloc) {
                    // The crash did not repeat: keep it, with the site the re-run found.
                    Some(crash) => with_site_of(crash, res),
                    None => Done {
                        result: res,
                        stderr: None,
                    },
                };
                done.insert(d.result.alloc, d);
            }
            if journal.done {
                continue;
            }
            if let Some(index) = journal.in_flight {
                let stderr = tail(&r.stderr);
                let bias = journal.anchor.map_or(0, |a| a.wrapping_sub(my_anchor));
                let mut d = died(index, &journal, r.killed, status, &stderr, bias);
                if d.result.outcome == Outcome::Hang {
                    d.result.message = format!("{} of {:?}", d.result.message, plan.timeout);
                }
                if let Some(crash) = awaiting.remove(&index) {
                    d = with_site_of(crash, d.result);
                } else if d.result.stack.is_empty() && !r.capture && !r.killed {
                    // Stacks are not captured in a first run (too costly for every index): run
                    // this index again, capturing them, in a child that then carries on. (A hang
                    // that kept failing allocations already has the latest one's stack.)
                    awaiting.insert(index, d);
                    pending.push((
                        IndexSet {
                            start: index,
                            ..r.set
                        },
                        true,
                    ));
                    continue;
                }
                done.insert(index, d);
                next = Some(index);
            }
            let rest = match next {
                Some(index) => r.set.after(index),
                None => r.set,
            };
            if rest.is_empty() {
                continue;
            }
            let tries = stuck.entry(rest.start).or_insert(0);
            if progressed {
                *tries = 0;
            } else {
                *tries += 1;
            }
            if *tries >= 2 {
                // The child cannot even reach the sweep: account every remaining index so the
                // counts still add up, with the reason.
                let why = journal.error.clone().unwrap_or_else(|| {
                    format!(
                        "the sweep child exited ({}) before reaching this index",
                        describe_status(status)
                    )
                });
                let stderr = tail(&r.stderr);
                for index in rest.iter() {
                    if let Some(crash) = awaiting.remove(&index) {
                        done.insert(index, crash);
                        continue;
                    }
                    done.insert(
                        index,
                        Done {
                            result: ChildResult {
                                alloc: index,
                                outcome: Outcome::Abort,
                                message: why.clone(),
                                diff: None,
                                site: None,
                                stack: Vec::new(),
                            },
                            stderr: stderr.clone(),
                        },
                    );
                }
            } else {
                pending.push((rest, false));
            }
        }
        if !any_exited {
            // Children waiting for a job token retry soon; otherwise sleep until a child exits,
            // waking now and then to look for stalled ones.
            let most = if pending.is_empty() {
                Duration::from_millis(100)
            } else {
                Duration::from_millis(2)
            };
            ExitWatch::wait_any(running.iter().map(|r| &r.exited), most);
        }
    }
    for (index, crash) in awaiting {
        done.entry(index).or_insert(crash);
    }
    if foreign > 0 {
        notes.push(format!(
            "the body allocated on another thread ({foreign} allocations on threads it started): \
             allocations there are neither counted nor failed, so their failures were not tested"
        ));
    }
    Ok(done)
}

/// Wakes the supervisor when a child exits (Linux: a pidfd), instead of polling on a timer.
struct ExitWatch(Option<std::os::fd::OwnedFd>);

impl ExitWatch {
    #[cfg(target_os = "linux")]
    fn new(child: &Child) -> ExitWatch {
        use std::os::fd::FromRawFd;
        // SAFETY: `pidfd_open` takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, child.id() as libc::pid_t, 0) };
        // SAFETY: a non-negative result is a descriptor this process now owns.
        ExitWatch((fd >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) }))
    }

    #[cfg(not(target_os = "linux"))]
    fn new(_child: &Child) -> ExitWatch {
        ExitWatch(None)
    }

    /// Sleeps until one of the children exits or `most` has passed; with a child that has no
    /// pidfd (old kernels, other systems), for a millisecond.
    fn wait_any<'a>(watches: impl Iterator<Item = &'a ExitWatch>, most: Duration) {
        use std::os::fd::AsRawFd;
        let mut fds = Vec::new();
        for w in watches {
            match &w.0 {
                Some(fd) => fds.push(libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                }),
                None => {
                    std::thread::sleep(Duration::from_millis(1).min(most));
                    return;
                }
            }
        }
        if fds.is_empty() {
            // Nothing running (children waiting for a job token): just wait.
            std::thread::sleep(most);
            return;
        }
        let ms = most.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: `fds` is a valid array of `fds.len()` entries for the duration of the call. An
        // interrupted or failed poll returns early, which only means one more loop.
        unsafe {
            libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms);
        }
    }
}

/// A crash with the site and stack found by the re-run of its index.
fn with_site_of(mut crash: Done, rerun: ChildResult) -> Done {
    crash.result.site = rerun.site;
    crash.result.stack = rerun.stack;
    crash
}

/// Kills a child that stopped journaling for longer than `stall`.
fn watch_stall(r: &mut Running, stall: Duration) {
    let len = std::fs::metadata(&r.journal).map(|m| m.len()).unwrap_or(0);
    if len != r.last_len {
        r.last_len = len;
        r.last_change = Instant::now();
    } else if !r.killed && r.last_change.elapsed() > stall {
        r.killed = true;
        let _ = r.child.kill();
    }
}

/// The outcome of the index a child was running when it died.
fn died(
    index: u64,
    j: &Journal,
    killed: bool,
    status: ExitStatus,
    stderr: &Option<String>,
    bias: usize,
) -> Done {
    let (outcome, frames, message) = match (&j.hang, &j.crash) {
        (Some((h, frames)), _) if *h == index => (
            Outcome::Hang,
            frames.clone(),
            "ran past the per-iteration timeout".to_string(),
        ),
        _ if killed => (
            Outcome::Hang,
            Vec::new(),
            "the sweep child stopped responding and was killed".to_string(),
        ),
        (_, Some((sig, frames))) => (
            Outcome::Abort,
            frames.clone(),
            crash_message(stderr.as_deref(), Some(*sig), status),
        ),
        _ => (
            Outcome::Abort,
            // The body exited the process: the `atexit` handler journaled the stack.
            j.exited
                .as_ref()
                .filter(|(i, _)| *i == index)
                .map(|(_, frames)| frames.clone())
                .unwrap_or_default(),
            crash_message(stderr.as_deref(), None, status),
        ),
    };
    let (site, stack) = crate::stack::site_of(crate::stack::symbolize(&frames, bias));
    Done {
        result: ChildResult {
            alloc: index,
            outcome,
            message,
            diff: None,
            site,
            stack,
        },
        stderr: stderr.clone(),
    }
}

fn crash_message(stderr: Option<&str>, signal: Option<i32>, status: ExitStatus) -> String {
    // The first such line: allocations made while reporting the failure may fail in turn.
    // The body's own output may precede it on the line (no newline before the abort).
    for line in stderr.into_iter().flat_map(str::lines) {
        if let Some(at) = line.find("memory allocation of") {
            return line[at..].trim().to_string();
        }
        if let Some(at) = line.find("has overflowed its stack") {
            let from = line[..at].rfind("thread '").unwrap_or(0);
            return line[from..].trim().to_string();
        }
    }
    use std::os::unix::process::ExitStatusExt;
    // A signal without a journaled crash is one no handler could see (SIGKILL from outside); an
    // exit status while an index was in flight means the body ended the process itself.
    match (signal.or(status.signal()), status.code()) {
        (Some(sig), _) => format!("the process was killed by {}", signal_name(sig)),
        (None, Some(code)) => format!("the body exited the process (exit status {code})"),
        (None, None) => format!(
            "the process ended during the run ({})",
            describe_status(status)
        ),
    }
}

fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        _ => return format!("signal {sig}"),
    };
    name.to_string()
}

fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => signal_name(sig),
        _ => status.to_string(),
    }
}

/// The last lines of a child's stderr, without libtest's own chatter.
fn tail(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let from = bytes.len().saturating_sub(4096);
    let text = String::from_utf8_lossy(&bytes[from..]);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| !l.starts_with("running ") && !l.starts_with("test result:"))
        .collect();
    let keep = &lines[lines.len().saturating_sub(20)..];
    (!keep.is_empty()).then(|| keep.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn scratch_goes_where_there_is_room() {
        let temp = std::env::temp_dir();
        assert!(has_room(&temp, 1));
        assert!(!has_room(&temp, u64::MAX));
        assert!(!has_room(Path::new("/nonexistent/oomcheck"), 0));
        let base = scratch_base();
        assert!(
            base == temp || base == Path::new("/dev/shm"),
            "{}",
            base.display()
        );
    }

    #[test]
    fn a_crash_is_named_by_the_allocation_failure_line() {
        let status = ExitStatus::from_raw(libc::SIGABRT);
        let stderr = "running 1 test\nmemory allocation of 24 bytes failed\n";
        assert_eq!(
            crash_message(Some(stderr), Some(libc::SIGABRT), status),
            "memory allocation of 24 bytes failed"
        );
        assert_eq!(
            crash_message(
                Some("xxxxmemory allocation of 8 bytes failed\n"),
                None,
                status
            ),
            "memory allocation of 8 bytes failed"
        );
        assert_eq!(
            crash_message(
                Some("out\nxxthread 't' has overflowed its stack\nfatal runtime error: stack overflow\n"),
                Some(libc::SIGABRT),
                status
            ),
            "thread 't' has overflowed its stack"
        );
        assert_eq!(
            crash_message(Some("boom"), Some(libc::SIGSEGV), status),
            "the process was killed by SIGSEGV"
        );
        assert_eq!(
            crash_message(None, None, ExitStatus::from_raw(3 << 8)),
            "the body exited the process (exit status 3)"
        );
        assert_eq!(
            crash_message(Some("x"), None, ExitStatus::from_raw(libc::SIGKILL)),
            "the process was killed by SIGKILL"
        );
    }

    #[test]
    fn the_index_in_flight_is_an_abort_or_a_hang() {
        let status = ExitStatus::from_raw(libc::SIGABRT);
        let crashed = Journal::parse("B 0\nI 4\nA 6\n");
        let d = died(4, &crashed, false, status, &None, 0);
        assert_eq!(d.result.outcome, Outcome::Abort);
        assert_eq!(d.result.message, "the process was killed by SIGABRT");
        // An exit (status 0 too) with an index in flight is not the child being done.
        let exited = Journal::parse("B 0\nI 2\nE 2 10 20\n");
        assert!(!exited.done);
        let d = died(2, &exited, false, ExitStatus::from_raw(0), &None, 0);
        assert_eq!(d.result.outcome, Outcome::Abort);
        assert_eq!(
            d.result.message,
            "the body exited the process (exit status 0)"
        );
        let hung = Journal::parse("B 0\nI 5\nH 5\n");
        let d = died(5, &hung, false, ExitStatus::from_raw(86 << 8), &None, 0);
        assert_eq!(d.result.outcome, Outcome::Hang);
        let wedged = Journal::parse("I 6\n");
        let d = died(
            6,
            &wedged,
            true,
            ExitStatus::from_raw(libc::SIGKILL),
            &None,
            0,
        );
        assert_eq!(d.result.outcome, Outcome::Hang);
    }

    #[test]
    fn scratch_of_dead_supervisors_is_pruned() {
        let temp = std::env::temp_dir().join(format!("oomcheck-prune-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&temp);
        let mut child = Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let mine = std::process::id();
        for name in [
            format!("oomcheck-{dead}-3"),
            format!("oomcheck-{mine}-3"),
            format!("oomcheck-{dead}-e2e"),
            "oomcheck-report".to_string(),
        ] {
            std::fs::create_dir_all(temp.join(name).join("sub")).unwrap();
        }
        prune_dead_scratch(&temp);
        let mut left: Vec<String> = std::fs::read_dir(&temp)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        left.sort();
        let mut expected = vec![
            format!("oomcheck-{mine}-3"),
            format!("oomcheck-{dead}-e2e"),
            "oomcheck-report".to_string(),
        ];
        expected.sort();
        assert_eq!(left, expected);
        let _ = std::fs::remove_dir_all(&temp);
    }

    #[test]
    fn the_stderr_tail_drops_libtest_chatter() {
        let path = std::env::temp_dir().join(format!("oomcheck-tail-{}", std::process::id()));
        std::fs::write(
            &path,
            "running 1 test\n\nmemory allocation of 8 bytes failed\n",
        )
        .unwrap();
        assert_eq!(
            tail(&path).as_deref(),
            Some("memory allocation of 8 bytes failed")
        );
        let _ = std::fs::remove_file(&path);
    }
}
