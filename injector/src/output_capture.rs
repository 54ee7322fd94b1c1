//! Whether libtest captures the output of the test this process runs. It does by default, and
//! its capture buffer grows on the test's thread: a body that prints (`println!`, `eprintln!`,
//! a logger) allocates there in the test process, whose runs count the allocations and record
//! their sites, but not in the sweep's processes, which run with `--nocapture`. Every index
//! after such an allocation then names another allocation in the sweep than in the counting
//! run (drift). Stable Rust offers no way to lift the capture, so drift messages name it as a
//! cause when it is on (`drift.rs`).

use std::ffi::OsStr;

/// libtest's variable that turns capture off (any value but `0`).
const NOCAPTURE_VAR: &str = "RUST_TEST_NOCAPTURE";

/// Whether this process's libtest captures output: read once, outside the body.
pub(crate) fn libtest_captures_output() -> bool {
    captures(
        std::env::args_os().skip(1),
        std::env::var_os(NOCAPTURE_VAR).as_deref(),
    )
}

/// Whether libtest, given `args` and `RUST_TEST_NOCAPTURE=nocapture_var`, captures output.
fn captures<A: AsRef<OsStr>>(
    args: impl IntoIterator<Item = A>,
    nocapture_var: Option<&OsStr>,
) -> bool {
    if nocapture_var.is_some_and(|v| v != "0") {
        return false;
    }
    // `--` ends libtest's options: what follows is a test name filter.
    !args
        .into_iter()
        .take_while(|a| a.as_ref() != "--")
        .any(|a| matches!(a.as_ref().to_str(), Some("--nocapture" | "--no-capture")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_is_on_unless_turned_off_by_flag_or_variable() {
        assert!(captures(["parse", "--exact"], None));
        assert!(!captures(["--nocapture", "parse"], None));
        assert!(!captures(["parse", "--no-capture"], None));
        // After `--` it is a test name, not an option.
        assert!(captures(["--", "--nocapture"], None));
        assert!(!captures(["parse"], Some(OsStr::new("1"))));
        assert!(captures(["parse"], Some(OsStr::new("0"))));
    }
}
