//! The libvirt-style line per checked test, and where it is drawn (a progress bar on a
//! terminal, plain lines otherwise).
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use oomcheck_injector::{LineStyle, Report};

/// The width test names are padded to, so short names line up.
const NAME_WIDTH: usize = 28;

/// One test's line: `name  nalloc=N  ....W..A..  OK` or `FAILED (k/N)`; tests that were not
/// swept say why. The injector renders it, as it renders the line a check prints under
/// `cargo test`.
pub fn line(r: &Report) -> String {
    r.line(LineStyle::Progress {
        name_width: NAME_WIDTH,
    })
}

/// The `--debug` lines of one test: every iteration with its outcome and detail.
pub fn iteration_lines(r: &Report) -> Vec<String> {
    r.iterations
        .iter()
        .flatten()
        .map(|it| {
            let msg = it.message.trim();
            format!("    #{:<5} {:<12} {msg}", it.alloc, it.outcome.as_str())
        })
        .collect()
}

/// Where progress goes: a spinner with a message that lines scroll above, or plain stderr lines.
pub struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    done: u64,
}

impl Progress {
    /// `bar`: draw a live spinner (terminal, not CI). `quiet`: print no progress lines at all
    /// (machine-readable output).
    pub fn new(bar: bool, quiet: bool) -> Progress {
        let bar = (bar && !quiet).then(|| {
            let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            pb.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            pb.enable_steady_tick(Duration::from_millis(120));
            pb
        });
        Progress {
            bar,
            quiet,
            done: 0,
        }
    }

    /// Say what is happening now (only on the bar).
    pub fn stage(&self, msg: &str) {
        if let Some(pb) = &self.bar {
            pb.set_message(msg.to_string());
        }
    }

    /// Print one line above the bar (or plainly).
    pub fn println(&self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(pb) => pb.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// A test's record arrived.
    pub fn record(&mut self, r: &Report, debug: bool) {
        self.done += 1;
        self.println(&line(r));
        if debug {
            for l in iteration_lines(r) {
                self.println(&l);
            }
        }
        self.stage(&format!("sweeping: {} checks done", self.done));
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(pb) = &self.bar {
            pb.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::parse;
    use super::*;

    #[test]
    fn debug_lines_show_each_iteration() {
        let r = parse(
            r#"{"test":"t","status":"swept","sequence":".W","iterations":[
                {"alloc":1,"outcome":"no-memory","message":"NoMemory"},
                {"alloc":2,"outcome":"wrong-error","message":" Parse \n"}]}"#,
        )
        .unwrap()
        .record;
        let lines = iteration_lines(&r);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["#1", "no-memory", "NoMemory"]
        );
        assert_eq!(lines[1], "    #2     wrong-error  Parse");
    }
}
