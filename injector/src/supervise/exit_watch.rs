//! Waking the supervisor when a child exits (Linux: a pidfd), instead of polling on a timer.

use std::process::Child;
use std::time::Duration;

/// A way to learn that one child exited.
pub(super) struct ExitWatch(Option<std::os::fd::OwnedFd>);

impl ExitWatch {
    #[cfg(target_os = "linux")]
    pub(super) fn new(child: &Child) -> ExitWatch {
        use std::os::fd::FromRawFd;
        // SAFETY: `pidfd_open` takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, child.id() as libc::pid_t, 0) };
        // SAFETY: a non-negative result is a descriptor this process now owns.
        ExitWatch((fd >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) }))
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn new(_child: &Child) -> ExitWatch {
        ExitWatch(None)
    }

    /// Sleeps until one of the children exits or `most` has passed; with a child that has no
    /// pidfd (old kernels, other systems), for a millisecond.
    pub(super) fn wait_any<'a>(watches: impl Iterator<Item = &'a ExitWatch>, most: Duration) {
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
