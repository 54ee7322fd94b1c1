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
//! journal, see `journal.rs`: `R <json>`, `A <signal> <ip>…` from the crash signal handler,
//! `H <index> <ip>…` from the timeout alarm, `E <index> <ip>…` from the `atexit` handler, plus
//! `F <ip>…`, the stack of the failed allocation), the other its stderr (the crash message, such
//! as "memory allocation of 24 bytes failed"). A forked process that dies is classified by
//! `outcome::died`, as a re-run child is. At most `jobs` forked processes are alive; the server
//! waits for one to end before forking the next.

use crate::alloc;
use crate::child::{self, Iterations};
use crate::env::ChildRequest;
use crate::journal::{self, Journal, RawLine};
use crate::outcome::{self, classify, died};
use crate::report::IterationResult;
use crate::selection::Selection;
use crate::sweep::Exec;
use crate::tokens::{Budget, Token};
use std::cell::Cell;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Set in a forked process: the run it is in fails the allocation in flight.
static IN_FORKED: AtomicBool = AtomicBool::new(false);

/// The exit status of a forked process its alarm ended.
const EXIT_TIMED_OUT: i32 = 86;

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
    /// Whether the pipes are still open at the forked process's end.
    journal_open: bool,
    stderr_open: bool,
    journal: Vec<u8>,
    stderr: Vec<u8>,
    started: Instant,
    killed: bool,
    /// Its job-budget token, if it needed one (released when reaped).
    token: Option<Token>,
}

/// A finding waiting for symbolization (done once the body's run is over).
struct Pending {
    result: IterationResult,
    frames: Vec<usize>,
}

struct Server {
    /// This process's id (the forked processes' parent).
    pid: i32,
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

/// A forked process running longer than this is waited for (without blocking) at every pump,
/// even while its pipes are open.
const LONG_RUNNING: Duration = Duration::from_millis(50);

/// Whether `poll` said the writing end of a pipe is closed.
fn hung_up(revents: libc::c_short) -> bool {
    revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

impl Server {
    fn wants(&self, n: u64) -> bool {
        self.set.contains(n) && self.selection.as_ref().is_none_or(|s| s.contains(n))
    }

    /// Reads what the forked processes wrote, reaps the ones that ended, and kills one that
    /// outlived its alarm. Waits up to `wait` for something to happen.
    ///
    /// The server forks one index after another, so its own work per index bounds the whole
    /// sweep: it reads only the pipes `poll` says are ready, and waits for a forked process once
    /// both its pipes are closed (it is exiting), or now and then for one that runs long (its
    /// pipes may be held open by a process it started).
    fn pump(&mut self, wait: Duration) {
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(self.alive.len() * 2);
        for f in &self.alive {
            for (fd, open) in [(f.journal_fd, f.journal_open), (f.stderr_fd, f.stderr_open)] {
                fds.push(libc::pollfd {
                    // A negative descriptor is left out of the poll.
                    fd: if open { fd } else { -1 },
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
        }
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures.
        let ready = unsafe {
            libc::poll(
                fds.as_mut_ptr(),
                fds.len() as libc::nfds_t,
                wait.as_millis().min(1000) as libc::c_int,
            )
        };
        let backstop = outcome::fork_backstop(self.timeout);
        // From the last, so that `swap_remove` only moves a process already seen.
        for i in (0..self.alive.len()).rev() {
            let f = &mut self.alive[i];
            let [journal, stderr] = [fds[2 * i].revents, fds[2 * i + 1].revents];
            if journal != 0 {
                f.journal_open =
                    !read_available(f.journal_fd, &mut f.journal, usize::MAX, hung_up(journal));
            }
            if stderr != 0 {
                f.stderr_open =
                    !read_available(f.stderr_fd, &mut f.stderr, STDERR_KEEP, hung_up(stderr));
            }
            // Both pipes closed: the process is exiting (or ends at its alarm at the latest), so
            // wait for it rather than poll the hung-up pipes until it is reapable.
            let closed = !f.journal_open && !f.stderr_open;
            if closed || ready == 0 || f.started.elapsed() > LONG_RUNNING {
                let flags = if closed { 0 } else { libc::WNOHANG };
                let mut status: libc::c_int = 0;
                // SAFETY: waits for our own child.
                let r = unsafe { libc::waitpid(f.pid, &mut status, flags) };
                if r == f.pid || r < 0 {
                    let mut f = self.alive.swap_remove(i);
                    read_available(f.journal_fd, &mut f.journal, usize::MAX, true);
                    read_available(f.stderr_fd, &mut f.stderr, STDERR_KEEP, true);
                    // SAFETY: closing our own descriptors once.
                    unsafe {
                        libc::close(f.journal_fd);
                        libc::close(f.stderr_fd);
                    }
                    self.ended(f, status);
                    continue;
                }
            }
            if !f.killed && f.started.elapsed() > backstop {
                f.killed = true;
                // SAFETY: signals our own child.
                unsafe {
                    libc::kill(f.pid, libc::SIGKILL);
                }
            }
        }
        if self.last_note.elapsed() > Duration::from_secs(1) {
            // Keeps the supervisor's stall detection fed while findings are held back.
            self.last_note = Instant::now();
            journal::write_line(&format!("P {}", self.forked));
        }
    }

    /// Journals the result of a forked process that ended, or holds it back for symbolization.
    fn ended(&mut self, f: Forked, status: libc::c_int) {
        let killed_after = f.killed.then(|| outcome::fork_backstop(self.timeout));
        let (result, frames) = judge(
            f.index,
            &String::from_utf8_lossy(&f.journal),
            &String::from_utf8_lossy(&f.stderr),
            ExitStatus::from_raw(status),
            killed_after,
            self.timeout,
        );
        if outcome::locates(result.outcome, self.strict) {
            self.findings.push(Pending { result, frames });
        } else {
            journal::write_raw(journal::result_line(&result).as_bytes());
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
            // Killed with the server (itself killed with the test process), not left running.
            child::die_with_supervisor(Some(self.pid));
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
                // The write ends block again: a full pipe waits for the server to read it.
                libc::fcntl(journal_w, libc::F_SETFL, 0);
                libc::fcntl(stderr_w, libc::F_SETFL, 0);
                libc::dup2(stderr_w, 2);
                libc::close(stderr_w);
            }
            journal::set_fd(journal_w);
            IN_FORKED.store(true, Ordering::Relaxed);
            child::forget_failures();
            child::begin(n, 0);
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
            journal_open: true,
            stderr_open: true,
            journal: Vec::new(),
            stderr: Vec::new(),
            started: Instant::now(),
            killed: false,
            token,
        });
    }
}

/// The result of a forked process that ended, from what it journaled, its stderr and its wait
/// status, with the raw frames of its failed allocation (symbolized later, for findings).
pub(crate) fn judge(
    index: u64,
    journal: &str,
    stderr: &str,
    status: ExitStatus,
    killed_after: Option<Duration>,
    timeout: Duration,
) -> (IterationResult, Vec<usize>) {
    let mut journal = Journal::parse(journal);
    if !journal.results.is_empty() {
        let result = journal.results.swap_remove(0);
        return (result, journal.failed);
    }
    let stderr = crate::text::stderr_tail(stderr);
    let verdict = died(&journal.death(index, status, killed_after, stderr.as_deref(), timeout));
    let result = IterationResult {
        alloc: index,
        outcome: verdict.outcome,
        message: verdict.message,
        diff: None,
        site: None,
        stack: Vec::new(),
        stderr,
        site_hash: None,
    };
    (result, verdict.frames)
}

/// The allocator's attempt hook during the server's run: forks at attempt `n` when it is swept.
fn on_attempt(n: u64) {
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

/// A pipe that does not block (the forked process makes its write ends blocking again); both
/// ends close on exec.
fn pipe() -> Option<(libc::c_int, libc::c_int)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return None;
    }
    Some((fds[0], fds[1]))
}

/// Appends what can be read from `fd` without blocking, keeping the last `keep` bytes; returns
/// whether the writing end is closed (end of file). A short read ends the reading (the next
/// `poll` tells of more), unless the writer has `hung_up`: then it reads on to the end.
fn read_available(fd: libc::c_int, into: &mut Vec<u8>, keep: usize, hung_up: bool) -> bool {
    const CHUNK: usize = 16384;
    loop {
        into.reserve(CHUNK);
        let spare = into.capacity() - into.len();
        // SAFETY: the spare capacity of `into` is valid for `spare` bytes, and only the bytes
        // `read` wrote are then counted in.
        let r = unsafe {
            let r = libc::read(fd, into.as_mut_ptr().add(into.len()).cast(), spare);
            if r > 0 {
                into.set_len(into.len() + r as usize);
            }
            r
        };
        if r == 0 {
            return true;
        }
        if r < 0 {
            return false;
        }
        if into.len() > keep {
            into.drain(..into.len() - keep);
        }
        if (r as usize) < spare && !hung_up {
            return false;
        }
    }
}

/// Ends a forked process at its timeout, journaling `H <index>` (which `outcome::died` turns
/// into `hang`).
extern "C" fn on_alarm(_sig: libc::c_int) {
    child::journal_with_frames(b'H', child::in_flight().0);
    // SAFETY: ends the process at once; the pipe already has the line.
    unsafe { libc::_exit(EXIT_TIMED_OUT) }
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

/// Runs this child's share of the sweep with the fork strategy, at most `jobs` forked processes
/// alive (more only with tokens of `budget`), and exits the process.
pub(crate) fn run_child(
    request: &ChildRequest,
    exec: &Exec<'_>,
    how: Iterations,
    jobs: usize,
    budget: Option<Budget>,
) -> ! {
    let journal = child::setup(request);
    let base = child::prepare(exec);
    if alloc::foreign_allocs() > 0 {
        // The body starts threads, and only the forking thread survives a fork: forked
        // processes would run a different program. Sweep this body by re-running instead.
        child::rerun_share(request, exec, &base, how, &journal);
    }
    let mut server = Server {
        pid: std::process::id() as i32,
        set: request.set.to_selection(),
        selection: child::selection(request),
        jobs,
        persistent: how.persistent,
        strict: how.strict,
        timeout: how.timeout,
        alive: Vec::new(),
        findings: Vec::new(),
        last_note: Instant::now(),
        forked: 0,
        budget,
    };
    SERVER.with(|s| s.set(&mut server));
    alloc::set_attempt_hook(Some(on_attempt));
    let run = exec(0, false, false);
    alloc::set_attempt_hook(None);
    SERVER.with(|s| s.set(std::ptr::null_mut()));

    if IN_FORKED.load(Ordering::Relaxed) {
        // The forked process: the body has run to its verdict with allocation `index` failed.
        set_alarm(Duration::ZERO);
        let index = child::in_flight().0;
        let c = classify(index, run, &base);
        let mut line = RawLine::new(b'F');
        for ip in c.frames.as_slice() {
            line.hex(*ip);
        }
        let result = IterationResult {
            alloc: c.alloc,
            outcome: c.outcome,
            message: c.message,
            diff: c.diff,
            site: None,
            stack: Vec::new(),
            stderr: None,
            site_hash: c.site_hash,
        };
        // One write, the stack and the result: the server wakes once to read them.
        let mut lines = line.ended().to_vec();
        lines.extend_from_slice(journal::result_line(&result).as_bytes());
        journal::write_raw(&lines);
        // SAFETY: ends the forked process without running the test harness's exit path.
        unsafe { libc::_exit(0) }
    }

    let made = run.stats.count;
    drop(run);
    while !server.alive.is_empty() {
        server.pump(Duration::from_millis(50));
    }
    // The indices past the end of the run (the count drifted since the counting runs): nothing
    // was forked there, and they must not read as a child that died before reaching them.
    for n in server
        .set
        .indices()
        .filter(|&n| n > made && server.wants(n))
    {
        let result = IterationResult {
            alloc: n,
            outcome: outcome::Outcome::NotReached,
            message: outcome::unreached_message(n, made),
            diff: None,
            site: None,
            stack: Vec::new(),
            stderr: None,
            site_hash: None,
        };
        journal::write_raw(journal::result_line(&result).as_bytes());
    }
    // Findings are symbolized here, once the body's run is over: in this process, whose
    // addresses the forked processes shared.
    for p in std::mem::take(&mut server.findings) {
        let mut result = p.result;
        (result.site, result.stack) = crate::stack::locate(&p.frames, 0);
        journal::write_raw(journal::result_line(&result).as_bytes());
    }
    drop(journal);
    child::exit_with("D")
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(read_available(r, &mut got, 4, true), "the writer is closed");
        assert_eq!(got, b"6789");
        // SAFETY: closing our own descriptor.
        unsafe { libc::close(r) };
    }

    #[test]
    fn a_forked_process_with_a_result_is_judged_by_it() {
        let text = "F a b\nR {\"alloc\":3,\"outcome\":\"wrong-error\",\"message\":\"m\",\"diff\":null,\"site\":null,\"stack\":[]}\n";
        let (r, frames) = judge(
            3,
            text,
            "",
            ExitStatus::from_raw(0),
            None,
            Duration::from_secs(1),
        );
        assert_eq!(r.outcome, outcome::Outcome::WrongError);
        assert_eq!(frames, vec![0xa, 0xb]);
    }
}
