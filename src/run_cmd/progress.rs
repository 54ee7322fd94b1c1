//! The libvirt-style line per checked test, and where it is drawn (a progress bar on a
//! terminal, plain lines otherwise).
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use oomcheck_injector::{Mode, Report, Status, Strategy};

use super::record::swept_count;

/// The width test names are padded to, so short names line up.
const NAME_WIDTH: usize = 28;

/// Longer sequences are wrapped onto lines of this many outcomes.
const SEQUENCE_WIDTH: usize = 100;

/// One test's line: `name  nalloc=N  ....W..A..  OK` or `FAILED (k/N)`; tests that were not
/// swept say why.
pub fn line(r: &Report) -> String {
    let name = format!("{:<NAME_WIDTH$}", r.test);
    let why = || r.message.as_deref().unwrap_or("no reason given").trim();
    match r.status {
        Status::Swept => {
            let verdict = if r.findings.is_empty() {
                "OK".to_string()
            } else {
                format!("FAILED ({}/{})", r.findings.len(), swept_count(r))
            };
            let nalloc = r.nalloc;
            let mut mode = match r.mode {
                Mode::Persistent => "  persistent".to_string(),
                Mode::Transient => String::new(),
            };
            // Dedup'd and sampled sweeps have a character per swept index only: say which.
            if let Some(d) = &r.dedup {
                mode.push_str(&format!("  sites={} (+{} covered)", d.sites, d.covered));
            }
            if let Some(s) = &r.sample {
                mode.push_str(&format!("  sample={} seed={}", s.n, s.seed));
            }
            if r.strategy == Some(Strategy::Fork) {
                mode.push_str("  fork");
            }
            if r.sequence.chars().count() <= SEQUENCE_WIDTH {
                return format!("{name}  nalloc={nalloc}{mode}  {}  {verdict}", r.sequence);
            }
            // A long sweep wraps, libvirt style, rather than making one line of thousands.
            let chars: Vec<char> = r.sequence.chars().collect();
            let mut out = format!("{name}  nalloc={nalloc}{mode}  {verdict}");
            for chunk in chars.chunks(SEQUENCE_WIDTH) {
                out.push_str("\n    ");
                out.extend(chunk);
            }
            out
        }
        Status::NormalFailed => {
            format!("{name}  normal run failed, not swept: {}  FAILED", why())
        }
        Status::UnstableCount => format!(
            "{name}  allocation count unstable, not swept: {}  FAILED",
            why()
        ),
        // The injector's message is the help printed at the end; keep the line short.
        Status::NoAllocator => format!("{name}  not swept: no failing global allocator"),
        Status::Disabled => format!("{name}  not swept ({}): {}", r.status.as_str(), why()),
    }
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
    fn swept_lines_show_sequence_and_verdict() {
        let r = parse(
            r#"{"test":"vcpu_survives_oom","status":"swept","nalloc":4,"range":[1,4],
               "sequence":"...A","findings":[{"alloc":4,"outcome":"abort"}]}"#,
        )
        .unwrap()
        .record;
        assert_eq!(
            line(&r),
            "vcpu_survives_oom             nalloc=4  ...A  FAILED (1/4)"
        );
        let ok = parse(r#"{"test":"h","status":"swept","nalloc":3,"sequence":"..."}"#)
            .unwrap()
            .record;
        assert!(line(&ok).ends_with("nalloc=3  ...  OK"), "{}", line(&ok));
    }

    #[test]
    fn dedup_and_sample_lines_say_what_was_swept() {
        let r = parse(
            r#"{"test":"big","status":"swept","nalloc":1000,"range":[1,1000],"sequence":"..W",
               "strategy":"fork","dedup":{"depth":16,"sites":3,"covered":997,"site_list":[]},
               "findings":[{"alloc":40,"outcome":"wrong-error"}]}"#,
        )
        .unwrap()
        .record;
        assert_eq!(swept_count(&r), 3);
        assert!(
            line(&r).ends_with("nalloc=1000  sites=3 (+997 covered)  fork  ..W  FAILED (1/3)"),
            "{}",
            line(&r)
        );
        let s = parse(
            r#"{"test":"s","status":"swept","nalloc":50,"range":[1,50],"sequence":"..",
               "sample":{"n":2,"seed":42,"indices":[3,9]}}"#,
        )
        .unwrap()
        .record;
        assert!(
            line(&s).ends_with("nalloc=50  sample=2 seed=42  ..  OK"),
            "{}",
            line(&s)
        );
    }

    #[test]
    fn long_sequences_wrap() {
        let seq = format!("{}A{}", ".".repeat(120), ".".repeat(129));
        let r = parse(&format!(
            r#"{{"test":"big","nalloc":250,"sequence":"{seq}","findings":[{{"alloc":121,"outcome":"abort"}}]}}"#
        ))
        .unwrap()
        .record;
        let text = line(&r);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].ends_with("nalloc=250  FAILED (1/250)"), "{text}");
        assert_eq!(lines[1].trim().len(), 100);
        assert_eq!(
            lines[2].trim(),
            format!("{}A{}", ".".repeat(20), ".".repeat(79))
        );
        assert_eq!(lines[3].trim().len(), 50);
    }

    #[test]
    fn unswept_lines_say_why() {
        let r = parse(r#"{"test":"t","status":"normal-failed","message":"Err(Parse)"}"#)
            .unwrap()
            .record;
        assert!(line(&r).contains("normal run failed, not swept: Err(Parse)  FAILED"));
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
