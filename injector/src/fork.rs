//! The fork strategy: a sweep child (the "fork server") runs the body once, and at each swept
//! allocation *i* the allocator calls `fork()`. The forked process fails allocation *i* (and every
//! later one in persistent mode), runs on to the body's verdict and reports it through a pipe;
//! the server carries on with the allocation succeeding. The prefix before *i* is never run
//! again, so a sweep costs one run of the body plus one fork (and one error path) per index
//! instead of a run of the prefix per index.
//!
//! Why this is safe enough: the server is a re-executed test binary running this one test with
//! `--test-threads=1`, so besides the forking thread only libtest's main thread exists, blocked
//! waiting for the test. A forked process has only the forking thread; it takes no lock another
//! thread may hold (glibc's malloc re-initialises its locks in the child through its atfork
//! handlers, and the forked process writes its results with `write(2)`, not through std's
//! locked stdout). The server's own bookkeeping runs under the allocator's re-entrancy guard, so
//! none of its allocations is counted, failed, or accounted as live memory of the body.
//!
//! Per forked process, two pipes: one carries journal lines (the same format as a sweep child's
//! journal: `R <json>`, `A <signal> <ip>…` from the crash signal handler, `H <index> <ip>…` from
//! the timeout alarm, plus `F <ip>…`, the stack of the failed allocation), the other its stderr
//! (the crash message, such as "memory allocation of 24 bytes failed"). At most `jobs` forked
//! processes are alive; the server waits for one to end before forking the next.

use crate::alloc::{self, CHILD_MODE, CHILD_NFRAMES, HOOK_FORK};
use crate::child::{self, ChildResult, ChildSpec, Journal, RawLine};
use crate::report::Outcome;
use crate::strategy::Selection;
use crate::sweep::{self, Exec};
use crate::tokens::{Budget, Token};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Set in a forked process: the run it is in fails allocation [`FORKED_INDEX`].
static IN_FORKED: AtomicBool = AtomicBool::new(false);
static FORKED_INDEX: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The fork server of the run on this thread (null outside it).
    static SERVER: Cell<*mut Server> = const { Cell::new(std::ptr::null_mut()) };
}

/// A forked process being waited for.
struct Forked {
    pid: libc::pid_t,
    index: u64,
    journal_fd: libc::c_int,
    stderr_fd: libc::c_int,
    journal: Vec<u8>,
    stderr: Vec<u8>,
    started: Instant,
    killed: bool,
    /// Its job-budget token, if it needed one (released when reaped).
    token: Option<Token>,
}

/// A finding waiting for symbolization (done once the body's run is over).
struct Pending {
    result: ChildResult,
    frames: Vec<usize>,
}

struct Server {
    set: Selection,
    selection: Option<Selection>,
    jobs: usize,
    persistent: bool,
    strict: bool,
    timeout: Duration,
    alive: Vec<Forked>,
    findings: Vec<Pending>,
    last_note: Instant,
    forked: u64,
    budget: Option<Budget>,
}

/// Most bytes of a forked process's stderr kept (its tail).
const STDERR_KEEP: usize = 8192;

impl Server {
    fn wants(&self, n: u64) -> bool {
        self.set.contains(n) && self.selection.as_ref().is_none_or(|s| s.contains(n))
    }

    /// Reads what the forked processes wrote, reaps the ones that ended, and kills one that
    /// outlived its alarm. Waits up to `wait` for something to happen.
    fn pump(&mut self, wait: Duration) {
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(self.alive.len() * 2);
        for f in &self.alive {
            for fd in [f.journal_fd, f.stderr_fd] {
                fds.push(libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
        }
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures.
        unsafe {
            libc::poll(
                fds.as_mut_ptr(),
                fds.len() as libc::nfds_t,
                wait.as_millis().min(1000) as libc::c_int,
            );
        }
        let mut i = 0;
        while i < self.alive.len() {
            let f = &mut self.alive[i];
            let closed = read_available(f.journal_fd, &mut f.journal, usize::MAX)
                & read_available(f.stderr_fd, &mut f.stderr, STDERR_KEEP);
            // Both pipes closed: the process is exiting (or ends at its alarm at the latest), so
            // wait for it rather than spin on the hung-up pipes until it is reapable.
            let flags = if closed { 0 } else { libc::WNOHANG };
            let mut status: libc::c_int = 0;
            // SAFETY: waits for our own child.
            let r = unsafe { libc::waitpid(f.pid, &mut status, flags) };
            if r == f.pid || r < 0 {
                let mut f = self.alive.swap_remove(i);
                read_available(f.journal_fd, &mut f.journal, usize::MAX);
                read_available(f.stderr_fd, &mut f.stderr, STDERR_KEEP);
                // SAFETY: closing our own descriptors once.
                unsafe {
                    libc::close(f.journal_fd);
                    libc::close(f.stderr_fd);
                }
                self.ended(f, status);
                continue;
            }
            // The alarm ends a forked process at its timeout; this is the backstop for one that
            // blocks the alarm or is stuck in the kernel.
            if !f.killed && f.started.elapsed() > self.timeout * 2 + Duration::from_secs(2) {
                f.killed = true;
                // SAFETY: signals our own child.
                unsafe {
                    libc::kill(f.pid, libc::SIGKILL);
                }
            }
            i += 1;
        }
        if self.last_note.elapsed() > Duration::from_secs(1) {
            // Keeps the supervisor's stall detection fed while findings are held back.
            self.last_note = Instant::now();
            child::write_line(&format!("P {}", self.forked));
        }
    }

    /// Classifies a forked process that ended, from its journal and exit status.
    fn ended(&mut self, f: Forked, status: libc::c_int) {
        let text = String::from_utf8_lossy(&f.journal);
        let journal = Journal::parse(&text);
        let failed_frames = text
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("F "))
            .map(hexes)
            .unwrap_or_default();
        let stderr = String::from_utf8_lossy(&f.stderr).into_owned();
        let (outcome, message, frames, result) = if let Some(r) = journal.results.into_iter().next()
        {
            (r.outcome, String::new(), failed_frames, Some(r))
        } else if let Some((_, frames)) = journal.hang {
            let m = format!("ran past the per-iteration timeout of {:?}", self.timeout);
            (Outcome::Hang, m, frames, None)
        } else if f.killed {
            let m = format!(
                "the forked process stopped responding and was killed after {:?}",
                self.timeout * 2
            );
            (Outcome::Hang, m, failed_frames, None)
        } else if let Some((sig, frames)) = journal.crash {
            (
                Outcome::Abort,
                crash_message(&stderr, Some(sig), status),
                frames,
                None,
            )
        } else {
            (
                Outcome::Abort,
                crash_message(&stderr, None, status),
                failed_frames,
                None,
            )
        };
        let result = result.unwrap_or(ChildResult {
            alloc: f.index,
            outcome,
            message,
            diff: None,
            site: None,
            stack: Vec::new(),
        });
        if result.outcome.is_finding(self.strict) {
            self.findings.push(Pending { result, frames });
        } else {
            journal_result(&result);
        }
    }

    /// Forks at allocation `n`; returns in the forked process with [`IN_FORKED`] set.
    fn fork_at(&mut self, n: u64) {
        // The first forked process runs on the server's own job token (the server mostly waits
        // meanwhile); each further one needs a token of the shared budget, if there is one.
        let token = loop {
            if self.alive.len() < self.jobs {
                if self.alive.is_empty() {
                    break None;
                }
                match &self.budget {
                    None => break None,
                    Some(b) => {
                        if let Some(t) = b.try_acquire() {
                            break Some(t);
                        }
                    }
                }
            }
            let wait = if self.alive.len() >= self.jobs { 50 } else { 2 };
            self.pump(Duration::from_millis(wait));
        };
        let (Some((journal_r, journal_w)), Some((stderr_r, stderr_w))) = (pipe(), pipe()) else {
            // Out of descriptors: nothing is journaled for this index, which the sweep reports
            // as an index without an outcome.
            return;
        };
        // SAFETY: see the module documentation; the forked process only runs this thread.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // The forked process: report through the pipes, fail this allocation, and time out.
            // SAFETY: plain descriptor and signal calls on this process's own state.
            unsafe {
                libc::close(journal_r);
                libc::close(stderr_r);
                for f in &self.alive {
                    libc::close(f.journal_fd);
                    libc::close(f.stderr_fd);
                    if let Some(t) = &f.token {
                        libc::close(t.fd());
                    }
                }
                if let Some(t) = &token {
                    libc::close(t.fd());
                }
                // The descriptors are closed: the File wrappers must not close them again.
                std::mem::forget(token);
                for f in std::mem::take(&mut self.alive) {
                    std::mem::forget(f.token);
                }
                libc::dup2(stderr_w, 2);
                libc::close(stderr_w);
            }
            child::JOURNAL_FD.store(journal_w, Ordering::Relaxed);
            IN_FORKED.store(true, Ordering::Relaxed);
            FORKED_INDEX.store(n, Ordering::Relaxed);
            CHILD_NFRAMES.store(0, Ordering::Release);
            SERVER.with(|s| s.set(std::ptr::null_mut()));
            alloc::fail_from_here(n, self.persistent);
            set_alarm(self.timeout);
            return;
        }
        // SAFETY: the parent's copies of the write ends belong to the forked process now.
        unsafe {
            libc::close(journal_w);
            libc::close(stderr_w);
        }
        if pid < 0 {
            // SAFETY: closing our own descriptors once.
            unsafe {
                libc::close(journal_r);
                libc::close(stderr_r);
            }
            return;
        }
        self.forked += 1;
        self.alive.push(Forked {
            pid,
            index: n,
            journal_fd: journal_r,
            stderr_fd: stderr_r,
            journal: Vec::new(),
            stderr: Vec::new(),
            started: Instant::now(),
            killed: false,
            token,
        });
    }
}

/// Called by the allocator (re-entrancy guard set) for attempt `n` of the server's run.
pub(crate) fn on_attempt(n: u64) {
    let server = SERVER.try_with(Cell::get).unwrap_or(std::ptr::null_mut());
    if server.is_null() {
        return;
    }
    // SAFETY: `run_child` points SERVER at a server it owns for the duration of the armed run, on
    // this thread only, and does not touch it meanwhile.
    let s = unsafe { &mut *server };
    if s.wants(n) {
        s.fork_at(n);
    }
}

/// A pipe whose read end does not block; both ends close on exec.
fn pipe() -> Option<(libc::c_int, libc::c_int)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return None;
    }
    // SAFETY: `fds[0]` is the read end we just created.
    unsafe {
        let flags = libc::fcntl(fds[0], libc::F_GETFL);
        libc::fcntl(fds[0], libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    Some((fds[0], fds[1]))
}

/// Appends what can be read from `fd` without blocking, keeping the last `keep` bytes; returns
/// whether the writing end is closed (end of file).
fn read_available(fd: libc::c_int, into: &mut Vec<u8>, keep: usize) -> bool {
    let mut buf = [0u8; 16384];
    loop {
        // SAFETY: `buf` is valid for `buf.len()` bytes.
        let r = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if r == 0 {
            return true;
        }
        if r < 0 {
            return false;
        }
        into.extend_from_slice(&buf[..r as usize]);
        if into.len() > keep {
            into.drain(..into.len() - keep);
        }
    }
}

fn hexes(text: &str) -> Vec<usize> {
    text.split_whitespace()
        .filter_map(|h| usize::from_str_radix(h, 16).ok())
        .collect()
}

extern "C" fn on_alarm(_sig: libc::c_int) {
    let mut line = RawLine::new(b'H');
    line.hex(FORKED_INDEX.load(Ordering::Relaxed) as usize);
    line.frames();
    line.finish();
    // SAFETY: ends the process at once; the pipe already has the line.
    unsafe { libc::_exit(86) }
}

/// Arms (or with a zero duration, disarms) the per-iteration timeout of a forked process.
fn set_alarm(timeout: Duration) {
    let it = libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: libc::timeval {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_usec: timeout.subsec_micros() as libc::suseconds_t,
        },
    };
    // SAFETY: the handler only performs async-signal-safe operations.
    unsafe {
        libc::signal(
            libc::SIGALRM,
            on_alarm as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
        libc::setitimer(libc::ITIMER_REAL, &it, std::ptr::null_mut());
    }
}

fn journal_result(result: &ChildResult) {
    match serde_json::to_string(result) {
        Ok(json) => child::write_line(&format!("R {json}")),
        Err(e) => child::write_line(&format!(
            "X cannot encode result: {}",
            child::one_line(&e.to_string())
        )),
    }
}

/// The reason a forked process died, as the re-run strategy words it.
fn crash_message(stderr: &str, signal: Option<i32>, status: libc::c_int) -> String {
    if let Some(line) = stderr
        .lines()
        .find(|l| l.contains("memory allocation of") || l.contains("has overflowed its stack"))
    {
        return line.trim().to_string();
    }
    let name = |sig: i32| match sig {
        libc::SIGABRT => "SIGABRT".to_string(),
        libc::SIGSEGV => "SIGSEGV".to_string(),
        libc::SIGBUS => "SIGBUS".to_string(),
        libc::SIGILL => "SIGILL".to_string(),
        libc::SIGFPE => "SIGFPE".to_string(),
        libc::SIGKILL => "SIGKILL".to_string(),
        s => format!("signal {s}"),
    };
    match signal {
        Some(sig) => format!("the process was killed by {}", name(sig)),
        None if libc::WIFSIGNALED(status) => {
            format!("the process was killed by {}", name(libc::WTERMSIG(status)))
        }
        None => format!(
            "the process ended during the run (exit status {})",
            libc::WEXITSTATUS(status)
        ),
    }
}

/// Whether this sweep child was asked to run the fork strategy, and with how many forked
/// processes alive at most.
pub(crate) fn requested() -> Option<usize> {
    std::env::var(crate::strategy::ENV_FORK)
        .ok()?
        .trim()
        .parse::<usize>()
        .ok()
        .map(|j| j.max(1))
}

/// Runs this child's share of the sweep with the fork strategy and exits the process.
pub(crate) fn run_child(
    spec: &ChildSpec,
    exec: &Exec<'_>,
    persistent: bool,
    strict: bool,
    timeout: Duration,
    jobs: usize,
) -> ! {
    let journal = child::open_journal(spec);
    CHILD_MODE.store(true, Ordering::Relaxed);
    child::write_line(&format!("B {:x}", crate::stack::anchor()));

    let base = match sweep::prepare(exec) {
        Ok(base) => base,
        Err(sweep::NotSwept::NormalFailed(m)) => {
            child::exit_with(&format!("X {}", child::one_line(&m)))
        }
        Err(sweep::NotSwept::Unstable(a, b)) => child::exit_with(&format!(
            "X allocation counts of the normal runs differ: {a} vs {b}"
        )),
    };
    if crate::alloc::FOREIGN_ALLOCS.load(Ordering::Relaxed) > 0 {
        // The body starts threads, and only the forking thread survives a fork: forked
        // processes would run a different program. Sweep this body by re-running instead.
        // SAFETY: registers a handler that only reads atomics and writes the journal.
        unsafe {
            libc::atexit(child::on_exit);
        }
        let epoch = std::time::Instant::now();
        child::start_watchdog(epoch, timeout);
        child::sweep_indices(spec, exec, &base, persistent, strict, epoch, &journal);
    }
    let selection = Selection::from_child_env()
        .unwrap_or_else(|e| child::exit_with(&format!("X {}", child::one_line(&e))));
    let set = spec.set;
    let mut server = Server {
        set: if set.step == 1 {
            Selection::Range(set.start, set.end)
        } else {
            Selection::List(set.iter().collect())
        },
        selection,
        jobs,
        persistent,
        strict,
        timeout,
        alive: Vec::new(),
        findings: Vec::new(),
        last_note: Instant::now(),
        forked: 0,
        budget: crate::tokens::Budget::from_env(),
    };
    SERVER.with(|s| s.set(&mut server));
    alloc::set_hooks(HOOK_FORK);
    let run = exec(0, false, false);
    alloc::set_hooks(0);
    SERVER.with(|s| s.set(std::ptr::null_mut()));

    if IN_FORKED.load(Ordering::Relaxed) {
        // The forked process: the body has run to its verdict with allocation `index` failed.
        set_alarm(Duration::ZERO);
        let index = FORKED_INDEX.load(Ordering::Relaxed);
        let c = sweep::classify(index, run, &base);
        let mut line = RawLine::new(b'F');
        for ip in c.frames.as_slice() {
            line.hex(*ip);
        }
        line.finish();
        journal_result(&ChildResult {
            alloc: c.alloc,
            outcome: c.outcome,
            message: c.message,
            diff: c.diff,
            site: None,
            stack: Vec::new(),
        });
        // SAFETY: ends the forked process without running the test harness's exit path.
        unsafe { libc::_exit(0) }
    }

    drop(run);
    while !server.alive.is_empty() {
        server.pump(Duration::from_millis(50));
    }
    // Findings are symbolized here, once the body's run is over: in this process, whose
    // addresses the forked processes shared.
    for p in std::mem::take(&mut server.findings) {
        let mut result = p.result;
        let (site, stack) = crate::stack::site_of(crate::stack::symbolize(&p.frames, 0));
        result.site = site;
        result.stack = stack;
        journal_result(&result);
    }
    drop(journal);
    child::exit_with("D")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_messages_match_the_rerun_wording() {
        assert_eq!(
            crash_message("noise\nmemory allocation of 24 bytes failed\n", Some(6), 0),
            "memory allocation of 24 bytes failed"
        );
        assert_eq!(
            crash_message("", Some(libc::SIGSEGV), 0),
            "the process was killed by SIGSEGV"
        );
        assert_eq!(
            crash_message("", None, 3 << 8),
            "the process ended during the run (exit status 3)"
        );
    }

    #[test]
    fn reads_what_a_pipe_holds_and_keeps_the_tail() {
        let (r, w) = pipe().expect("pipe");
        let data = b"0123456789";
        // SAFETY: writes our own buffer to our own pipe.
        unsafe {
            libc::write(w, data.as_ptr().cast(), data.len());
            libc::close(w);
        }
        let mut got = Vec::new();
        assert!(read_available(r, &mut got, 4), "the writer is closed");
        assert_eq!(got, b"6789");
        // SAFETY: closing our own descriptor.
        unsafe { libc::close(r) };
        assert_eq!(hexes("a ff x"), vec![10, 255]);
    }
}
