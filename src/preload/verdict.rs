//! Judging one run with a failed allocation, from what a process shows from outside: how it
//! ended and what it printed. A program (`exec`) is judged by its exit status and output; an
//! unmodified libtest test (`run --preload`) by its panic message, as libtest prints it.
//!
//! Verdicts read from printed text are marked as such ([`Verdict::from_text`]): a `check()`
//! with a NoMemory predicate stays the precise way to judge an error.
use oomcheck_injector::{DefaultNoMemory, NoMemoryPredicate, Outcome};

use super::launch::{Ended, RunOutput};

/// The outcome of one run and what explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The outcome.
    pub outcome: Outcome,
    /// The error, panic message or cause of death.
    pub message: String,
    /// For `corrupted`: how the output differs.
    pub diff: Option<String>,
    /// Whether the outcome was read from printed text (a message naming out of memory, a panic
    /// message) rather than from how the process ended.
    pub from_text: bool,
}

impl Verdict {
    fn new(outcome: Outcome, message: impl Into<String>, from_text: bool) -> Verdict {
        Verdict {
            outcome,
            message: message.into(),
            diff: None,
            from_text,
        }
    }
}

/// Whether `text` names running out of memory, in the vocabulary `check()` uses for an error's
/// Debug text (`NoMemory`, `OutOfMemory`, `Oom`, `TryReserveError`, `AllocError`, `ENOMEM`,
/// "out of memory", "Cannot allocate memory").
pub fn names_no_memory(text: &str) -> bool {
    DefaultNoMemory.is_no_memory(&(), text)
}

/// Whether a program's output says it ran out of memory: the shared vocabulary, or gnulib's
/// `memory exhausted` (what `xalloc_die` prints for coreutils and many GNU programs).
fn program_says_no_memory(text: &str) -> bool {
    names_no_memory(text) || text.to_ascii_lowercase().contains("memory exhausted")
}

/// The signal's name (`SIGSEGV`), or its number.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGSEGV => "SIGSEGV (segmentation fault)",
        libc::SIGABRT => "SIGABRT (abort)",
        libc::SIGBUS => "SIGBUS (bus error)",
        libc::SIGILL => "SIGILL (illegal instruction)",
        libc::SIGFPE => "SIGFPE (arithmetic exception)",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGTRAP => "SIGTRAP",
        _ => return format!("signal {sig}"),
    };
    name.to_string()
}

/// The last non-empty lines of `text`, at most `n`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A program run: killed → `abort`; timed out → `hang`; exit 0 with the normal run's stdout →
/// `tolerated`, with another → `corrupted`; another exit status with a message naming out of
/// memory → `no-memory`, without → `wrong-error`. `normal_stdout` is `None` when the normal
/// runs disagreed on their output (then no output is judged corrupted).
pub fn program(run: &RunOutput, normal_stdout: Option<&str>) -> Verdict {
    match run.ended {
        Ended::TimedOut => Verdict::new(Outcome::Hang, "no exit within the timeout", false),
        Ended::Signaled(sig) => {
            let mut msg = format!("killed by {}", signal_name(sig));
            let t = tail(&run.stderr, 2);
            if !t.is_empty() {
                msg.push_str(&format!(": {t}"));
            }
            Verdict::new(Outcome::Abort, msg, false)
        }
        Ended::Exited(0) => match normal_stdout {
            Some(normal) if normal != run.stdout => {
                let diff = similar::TextDiff::from_lines(normal, &run.stdout)
                    .unified_diff()
                    .context_radius(3)
                    .header("normal run", "allocation failed")
                    .to_string();
                Verdict {
                    diff: Some(diff),
                    ..Verdict::new(
                        Outcome::Corrupted,
                        "exited 0 but its output differs from the normal run",
                        false,
                    )
                }
            }
            _ => Verdict::new(Outcome::Tolerated, "exited 0 with the normal output", false),
        },
        Ended::Exited(code) => {
            let said = tail(&run.stderr, 3);
            let said = if said.is_empty() {
                tail(&run.stdout, 3)
            } else {
                said
            };
            let msg = format!("exit status {code}: {said}");
            if program_says_no_memory(&run.stderr) || program_says_no_memory(&run.stdout) {
                Verdict::new(Outcome::NoMemory, msg, true)
            } else {
                Verdict::new(Outcome::WrongError, msg, true)
            }
        }
    }
}

/// The panic message libtest's test thread printed: what follows `thread 'NAME' panicked at
/// LOCATION:` up to the `note:` libtest adds.
/// (Newer standard libraries put the thread id after the name: `thread 'NAME' (42) panicked`.)
pub fn panic_message(stderr: &str, test: &str) -> Option<String> {
    let name = format!("thread '{test}' ");
    let mut at = 0;
    let body = loop {
        let start = at + stderr[at..].find(&name)?;
        let rest = &stderr[start + name.len()..];
        let (line, body) = rest.split_once('\n').unwrap_or((rest, ""));
        if line.contains("panicked at ") {
            break body;
        }
        at = start + name.len();
    };
    let mut lines = Vec::new();
    for l in body.lines() {
        if l.starts_with("note: ") || l.starts_with("thread '") {
            break;
        }
        lines.push(l);
    }
    Some(lines.join("\n").trim_end().to_string())
}

/// The `Error: X` line a `-> Result` test prints when it returns `Err(X)`.
fn returned_error(stderr: &str) -> Option<&str> {
    stderr.lines().find_map(|l| l.strip_prefix("Error: "))
}

/// An unmodified libtest test run (`BINARY NAME --exact --nocapture`): see the module docs and
/// the README for the rules. `passed_by_status`: judge exit status 0 as a pass whatever was
/// printed (re-runs; a forked child always exits 0, so there only the text counts).
pub fn libtest(run: &RunOutput, test: &str, passed_by_status: bool) -> Verdict {
    let stderr = &run.stderr;
    let code = match run.ended {
        Ended::TimedOut => {
            return Verdict::new(Outcome::Hang, "no result within the timeout", false)
        }
        Ended::Signaled(sig) => {
            let line = |needle: &str| stderr.lines().find(|l| l.contains(needle)).map(str::trim);
            if let Some(l) = line("memory allocation of ") {
                return Verdict::new(Outcome::Abort, l, false);
            }
            if let Some(l) = line("unsafe precondition(s) violated") {
                return Verdict::new(Outcome::Abort, format!("{} ({l})", signal_name(sig)), false);
            }
            return Verdict::new(
                Outcome::Abort,
                format!("killed by {}", signal_name(sig)),
                false,
            );
        }
        Ended::Exited(code) => code,
    };
    if code == 0 && passed_by_status {
        return Verdict::new(Outcome::Tolerated, "the test passed", false);
    }
    let error_value = |x: &str, how: &str| {
        let outcome = if names_no_memory(x) {
            Outcome::NoMemory
        } else {
            Outcome::WrongError
        };
        Verdict::new(outcome, format!("{how}{x}"), true)
    };
    if let Some(msg) = panic_message(stderr, test) {
        const UNWRAP: &str = "called `Result::unwrap()` on an `Err` value: ";
        if let Some(x) = msg.strip_prefix(UNWRAP) {
            return error_value(x, UNWRAP);
        }
        if msg.starts_with("assertion") {
            return Verdict {
                diff: Some(msg.clone()),
                ..Verdict::new(Outcome::Corrupted, "an assertion failed", true)
            };
        }
        if names_no_memory(&msg) {
            // An `expect` message (`msg: X`) or a panic naming out of memory.
            return Verdict::new(Outcome::NoMemory, msg, true);
        }
        return Verdict::new(Outcome::Panic, msg, true);
    }
    if let Some(x) = returned_error(stderr) {
        return error_value(x, "returned Err: ");
    }
    match code {
        0 => Verdict::new(Outcome::Tolerated, "the test passed", true),
        101 => Verdict::new(
            Outcome::Panic,
            "the test failed without a panic message",
            true,
        ),
        _ => Verdict::new(
            Outcome::Abort,
            format!("the test process exited with status {code}"),
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn out(ended: Ended, stdout: &str, stderr: &str) -> RunOutput {
        RunOutput {
            ended,
            stdout: stdout.into(),
            stderr: stderr.into(),
            journal: Default::default(),
            elapsed: Duration::ZERO,
            forked: false,
        }
    }

    #[test]
    fn programs_are_judged_by_status_and_output() {
        let normal = Some("hello world\n");
        let v = |o: &RunOutput| program(o, normal).outcome;
        assert_eq!(
            v(&out(Ended::Exited(1), "", "error: out of memory\n")),
            Outcome::NoMemory
        );
        assert_eq!(
            v(&out(Ended::Exited(1), "", "open: Cannot allocate memory\n")),
            Outcome::NoMemory
        );
        assert_eq!(
            v(&out(Ended::Exited(2), "", "ls: memory exhausted\n")),
            Outcome::NoMemory
        );
        assert_eq!(
            v(&out(Ended::Exited(2), "", "bad input\n")),
            Outcome::WrongError
        );
        assert_eq!(
            v(&out(Ended::Exited(0), "hello world\n", "")),
            Outcome::Tolerated
        );
        let c = program(&out(Ended::Exited(0), "hello\n", ""), normal);
        assert_eq!(c.outcome, Outcome::Corrupted);
        assert!(c.diff.unwrap().contains("-hello world\n+hello\n"));
        assert_eq!(
            program(&out(Ended::Exited(0), "x\n", ""), None).outcome,
            Outcome::Tolerated
        );
        let s = program(&out(Ended::Signaled(libc::SIGSEGV), "", ""), normal);
        assert_eq!(
            (s.outcome, s.message.as_str()),
            (Outcome::Abort, "killed by SIGSEGV (segmentation fault)")
        );
        assert_eq!(v(&out(Ended::TimedOut, "", "")), Outcome::Hang);
    }

    const NOTE: &str =
        "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";

    fn panicked(msg: &str) -> String {
        format!("thread 't::x' (81) panicked at tests/a.rs:3:5:\n{msg}\n{NOTE}")
    }

    #[test]
    fn panic_messages_are_found_with_or_without_a_thread_id() {
        let old = format!("thread 't::x' panicked at src/a.rs:1:1:\nboom\nmore\n{NOTE}");
        assert_eq!(panic_message(&old, "t::x").as_deref(), Some("boom\nmore"));
        assert_eq!(
            panic_message(&panicked("boom"), "t::x").as_deref(),
            Some("boom")
        );
        assert_eq!(panic_message(&panicked("boom"), "t::y"), None);
    }

    #[test]
    fn tests_are_judged_by_their_panic_message() {
        let v = |stderr: &str| libtest(&out(Ended::Exited(101), "", stderr), "t::x", true);
        let unwrap = "called `Result::unwrap()` on an `Err` value: ";
        let r = v(&panicked(&format!("{unwrap}OutOfMemory")));
        assert_eq!((r.outcome, r.from_text), (Outcome::NoMemory, true));
        assert_eq!(
            v(&panicked(&format!("{unwrap}Parse(\"x\")"))).outcome,
            Outcome::WrongError
        );
        assert_eq!(
            v(&panicked(
                "load failed: TryReserveError { kind: CapacityOverflow }"
            ))
            .outcome,
            Outcome::NoMemory
        );
        let a = v(&panicked(
            "assertion `left == right` failed\n  left: 2\n right: 3",
        ));
        assert_eq!(a.outcome, Outcome::Corrupted);
        assert_eq!(
            a.diff.as_deref(),
            Some("assertion `left == right` failed\n  left: 2\n right: 3")
        );
        assert_eq!(v(&panicked("index out of bounds")).outcome, Outcome::Panic);
        assert_eq!(v("Error: NoMemory\n").outcome, Outcome::NoMemory);
        assert_eq!(v("Error: Invalid\n").outcome, Outcome::WrongError);
        let ok = libtest(&out(Ended::Exited(0), "", ""), "t::x", true);
        assert_eq!((ok.outcome, ok.from_text), (Outcome::Tolerated, false));
    }

    #[test]
    fn deaths_name_their_cause() {
        let d = |sig, stderr: &str| libtest(&out(Ended::Signaled(sig), "", stderr), "t::x", true);
        let a = d(libc::SIGABRT, "memory allocation of 48 bytes failed\n");
        assert_eq!(
            (a.outcome, a.message.as_str()),
            (Outcome::Abort, "memory allocation of 48 bytes failed")
        );
        let ub = d(libc::SIGABRT, "thread 't::x' panicked at library/core/src/panicking.rs:1:1:\nunsafe precondition(s) violated: slice::from_raw_parts requires the pointer to be aligned and non-null\n");
        assert!(
            ub.message
                .starts_with("SIGABRT (abort) (unsafe precondition(s) violated"),
            "{}",
            ub.message
        );
        assert_eq!(
            d(libc::SIGSEGV, "").message,
            "killed by SIGSEGV (segmentation fault)"
        );
        let exit = libtest(&out(Ended::Exited(3), "", ""), "t::x", true);
        assert_eq!(exit.outcome, Outcome::Abort);
    }

    #[test]
    fn a_forked_child_is_judged_by_its_text_alone() {
        let forked = out(Ended::Exited(0), "", &panicked("boom"));
        assert_eq!(libtest(&forked, "t::x", false).outcome, Outcome::Panic);
        assert_eq!(libtest(&forked, "t::x", true).outcome, Outcome::Tolerated);
    }
}
