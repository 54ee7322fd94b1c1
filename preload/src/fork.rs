//! The fork server: at each listed allocation the process forks; the child becomes a run that
//! fails that allocation, the server waits for it and carries on (see `protocol::FORK`).
use core::ffi::c_int;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

use crate::config::{config_mut, Decision};
use crate::protocol::TAG_FAILED;
use crate::record::{self, Line};
use crate::sys;
use crate::walk::{self, Stack};

/// Set around the server's own `fork`, so the `pthread_atfork` child handler tells it from the
/// program's forks.
static FORKING: AtomicBool = AtomicBool::new(false);

/// Whether the fork under way is the server's.
pub fn forking() -> bool {
    FORKING.load(Relaxed)
}

/// `<journal path>.<index><suffix>` as a C string.
fn child_path(base: &[u8], index: u64, suffix: &[u8]) -> Line<4200> {
    let mut p = Line::<4200>::new();
    p.bytes(base)
        .byte(b'.')
        .dec(index as i64)
        .bytes(suffix)
        .byte(0);
    p
}

/// Opens `path` for writing (truncated) onto descriptor `fd`.
unsafe fn reopen(path: &Line<4200>, fd: c_int) {
    let new = sys::open(
        path.as_bytes().as_ptr().cast(),
        sys::O_WRONLY | sys::O_CREAT | sys::O_TRUNC | sys::O_CLOEXEC,
        0o600 as c_int,
    );
    if new >= 0 {
        sys::dup2(new, fd);
        sys::close(new);
    }
}

/// Gives the child private copies of the seekable files it has open (reopened through
/// `/proc/self/fd` at the same offset): after `fork` parent and child share each open file's
/// offset, so a child reading on would move the server's position and change its run (a file
/// the program was reading when it forked, a directory it was listing).
unsafe fn private_files(keep: c_int) {
    let dir = sys::open(c"/proc/self/fd".as_ptr(), sys::O_RDONLY | sys::O_CLOEXEC);
    if dir < 0 {
        return;
    }
    let mut buf = [0u8; 4096];
    loop {
        let n = sys::getdents64(dir, buf.as_mut_ptr().cast(), buf.len());
        if n <= 0 {
            break;
        }
        let mut pos = 0usize;
        while pos + 19 < n as usize {
            // struct dirent64: inode (8), offset (8), record length (2), type (1), name.
            let reclen = u16::from_ne_bytes([buf[pos + 16], buf[pos + 17]]) as usize;
            let name = &buf[pos + 19..pos + reclen.max(19)];
            let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            if let Some(fd) = parse_fd(&name[..len]) {
                if fd > 2 && fd != dir && fd != keep {
                    private_copy(fd);
                }
            }
            if reclen == 0 {
                break;
            }
            pos += reclen;
        }
    }
    sys::close(dir);
}

fn parse_fd(name: &[u8]) -> Option<c_int> {
    if name.is_empty() || name.len() > 9 {
        return None;
    }
    let mut n: c_int = 0;
    for &b in name {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + c_int::from(b - b'0');
    }
    Some(n)
}

/// Replaces descriptor `fd` by a fresh open of the same file at the same offset, when it is
/// seekable (pipes, sockets and terminals are left shared: nothing can separate them).
unsafe fn private_copy(fd: c_int) {
    let offset = sys::lseek(fd, 0, sys::SEEK_CUR);
    if offset < 0 {
        return;
    }
    let flags = sys::fcntl(fd, sys::F_GETFL);
    let fd_flags = sys::fcntl(fd, sys::F_GETFD);
    if flags < 0 || fd_flags < 0 {
        return;
    }
    let mut path = Line::<32>::new();
    path.bytes(b"/proc/self/fd/").dec(i64::from(fd)).byte(0);
    // The access mode and status flags (append, non-blocking) carry over; creation flags
    // do not apply to an open file.
    let reopen_flags = flags & (sys::O_ACCMODE | sys::O_APPEND) | sys::O_CLOEXEC;
    let new = sys::open(path.as_bytes().as_ptr().cast(), reopen_flags);
    if new < 0 {
        return;
    }
    if sys::lseek(new, offset, sys::SEEK_SET) == offset {
        sys::dup2(new, fd);
        sys::fcntl(fd, sys::F_SETFD, fd_flags & sys::FD_CLOEXEC);
    }
    sys::close(new);
}

/// Forks at allocation `index`. The child becomes a run failing it (its own journal, stdout,
/// stderr and open files); the server waits for it, records how it ended and carries on.
pub unsafe fn fork_at(index: u64, stack: &mut Stack, walked: bool) -> Decision {
    let c = config_mut();
    c.fork_next += 1;
    let mut ended = record::Forked {
        index,
        status: -1,
        timed_out: false,
        stdout_offset: sys::lseek(1, 0, sys::SEEK_CUR),
        stderr_offset: sys::lseek(2, 0, sys::SEEK_CUR),
    };
    FORKING.store(true, Relaxed);
    let pid = sys::fork();
    FORKING.store(false, Relaxed);
    if pid == 0 {
        c.fork_len = 0;
        c.fail_at = index;
        private_files(c.journal);
        reopen(&child_path(c.journal_path, index, b""), c.journal);
        reopen(&child_path(c.journal_path, index, b".out"), 1);
        reopen(&child_path(c.journal_path, index, b".err"), 2);
        if !walked {
            walk::walk(stack, &c.scope, &c.exclude);
        }
        record::stack(c.journal, TAG_FAILED, index, stack);
        record::maps(c.journal);
        return Decision::Fail;
    }
    if pid > 0 {
        (ended.status, ended.timed_out) = wait_for(pid, c.timeout_ms);
    }
    record::forked(c.journal, &ended);
    Decision::Pass
}
/// Waits for child `pid`, killing it after `timeout_ms`: its wait status, and whether it was
/// killed for the timeout. A pidfd (Linux 5.3) wakes the server the moment the child ends;
/// without one it polls.
unsafe fn wait_for(pid: c_int, timeout_ms: i64) -> (i64, bool) {
    let deadline = sys::now_ms() + timeout_ms;
    let pidfd = sys::syscall(sys::SYS_PIDFD_OPEN, pid as i64, 0i64) as c_int;
    let mut status: c_int = 0;
    let mut pause_us: i64 = 20;
    let mut timed_out = false;
    loop {
        let r = sys::waitpid(pid, &mut status, sys::WNOHANG);
        if r == pid || r < 0 {
            if pidfd >= 0 {
                sys::close(pidfd);
            }
            let status = if r == pid { i64::from(status) } else { -1 };
            return (status, timed_out);
        }
        let left = deadline - sys::now_ms();
        if !timed_out && left <= 0 {
            sys::kill(pid, sys::SIGKILL);
            timed_out = true;
        }
        if pidfd >= 0 && !timed_out {
            let mut p = sys::PollFd {
                fd: pidfd,
                events: sys::POLLIN,
                revents: 0,
            };
            sys::poll(&mut p, 1, left.clamp(1, i64::from(c_int::MAX)) as c_int);
            continue;
        }
        let ts = sys::Timespec {
            sec: 0,
            nsec: pause_us * 1000,
        };
        sys::nanosleep(&ts, core::ptr::null_mut());
        pause_us = (pause_us * 2).min(2000);
    }
}
