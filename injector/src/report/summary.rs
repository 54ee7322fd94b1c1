//! What a user reads of a report: its one-line summary (libvirt style), under `cargo test` or in
//! `oomcheck run`'s column, and the full summary a failing check panics with.

use super::{Frame, Report, Status, UNSWEPT_SYMBOL};
use crate::env::OOMCHECK;
use crate::options::Mode;
use crate::outcome::Outcome;
use crate::strategy::Strategy;
use crate::text::{one_line, truncate};
use std::fmt::Write as _;

/// Longer sequences are wrapped onto lines of this many outcomes.
const SEQUENCE_WIDTH: usize = 100;

/// Longest message of a finding or iteration on its summary line.
const MAX_LINE_MESSAGE: usize = 300;

/// How [`Report::line`] lays out a check's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStyle {
    /// What a check prints under `cargo test`: settings as `key=value`
    /// (`name  nalloc=4  mode=persistent  alloc=2-3  strategy=fork  .A  FAILED (1/2)`), and a
    /// check that was not swept as `FAILED (<status>)`.
    Harness,
    /// What `oomcheck run` prints per check: the name padded to `name_width`, settings as words
    /// (`name  nalloc=4  persistent  fork  .A  FAILED (1/2)`, no range), and a check that was not
    /// swept with its reason on the line.
    Progress {
        /// Width the test name is padded to, so that short names line up; a longer name is
        /// alone on its line, the columns below it.
        name_width: usize,
    },
}

impl Report {
    /// The check's summary line: `name  nalloc=N  …  SEQUENCE  VERDICT`, the verdict being `OK`,
    /// `FAILED (findings/swept)` or, for a sweep cut short, `INCOMPLETE (…)`. A sequence longer
    /// than 100 outcomes is wrapped onto the following lines, after the verdict.
    pub fn line(&self, style: LineStyle) -> String {
        let name = match style {
            LineStyle::Harness => self.test.clone(),
            // A name longer than the column gets a line of its own, and the columns start
            // below it at the usual place: they stay aligned whatever the names.
            LineStyle::Progress { name_width } if self.test.len() > name_width => {
                format!("{}\n{:<name_width$}", self.test, "")
            }
            LineStyle::Progress { name_width } => format!("{:<name_width$}", self.test),
        };
        let harness = style == LineStyle::Harness;
        if !harness {
            let why = || self.message.as_deref().unwrap_or("no reason given").trim();
            match self.status {
                Status::Swept => {}
                Status::NothingSwept => {
                    return format!(
                        "{name}  nalloc={}  nothing swept: {}  OK (nothing swept)",
                        self.nalloc,
                        why()
                    )
                }
                Status::NormalFailed => {
                    return format!("{name}  normal run failed, not swept: {}  FAILED", why())
                }
                Status::UnstableCount => {
                    return format!(
                        "{name}  allocation count unstable, not swept: {}  FAILED",
                        why()
                    )
                }
                // The injector's message is the help printed at the end; keep the line short.
                Status::NoAllocator => {
                    return format!("{name}  not swept: no failing global allocator")
                }
                Status::Disabled => {
                    return format!("{name}  not swept ({}): {}", self.status.as_str(), why())
                }
            }
        }
        let mut out = format!("{name}  nalloc={}", self.nalloc);
        if self.mode == Mode::Persistent {
            out.push_str(if harness {
                "  mode=persistent"
            } else {
                "  persistent"
            });
        }
        if let (true, Some([lo, hi])) = (harness, self.range) {
            if lo != 1 || hi != self.nalloc {
                let _ = write!(out, "  alloc={lo}-{hi}");
            }
        }
        // Dedup'd and sampled sweeps have a character per swept index only: say which.
        if let Some(d) = &self.dedup {
            let _ = write!(out, "  sites={} (+{} covered)", d.sites, d.covered);
        }
        if let Some(s) = &self.sample {
            let _ = write!(out, "  sample={} seed={}", s.n, s.seed);
        }
        if let Some(s @ (Strategy::Fork | Strategy::Hybrid)) = self.strategy {
            let _ = write!(out, "  {}{s}", if harness { "strategy=" } else { "" });
        }
        let verdict = self.verdict();
        let symbols: Vec<char> = self.sequence.chars().collect();
        if symbols.len() <= SEQUENCE_WIDTH {
            if !symbols.is_empty() {
                out.push_str("  ");
                out.push_str(&self.sequence);
            }
            let _ = write!(out, "  {verdict}");
            return out;
        }
        // A long sweep wraps, libvirt style, rather than making one line of thousands.
        let _ = write!(out, "  {verdict}");
        for chunk in symbols.chunks(SEQUENCE_WIDTH) {
            out.push_str("\n    ");
            out.extend(chunk);
        }
        out
    }

    /// `OK`, `FAILED (findings/swept)`, `INCOMPLETE (…)`, or for a check not swept `FAILED
    /// (status)` (`OK (not swept: OOMCHECK unset)` for one run once). The indices allowed,
    /// drifted and not reached are named in the parentheses (`OK (3 drifted)`): an `OK` whose
    /// indices tested other allocations than they name must not read as a clean sweep.
    fn verdict(&self) -> String {
        let unswept = self.incomplete.as_ref().map(|i| i.indices.len());
        let failing = self.failing().count();
        let allowed = self.findings.len() - failing;
        let apart: String = [
            (allowed as u64, "allowed"),
            (self.count(Outcome::Drifted), "drifted"),
            (self.count(Outcome::NotReached), "not reached"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!(", {n} {what}"))
        .collect();
        match (self.status, unswept) {
            (Status::Swept, None) if failing == 0 && !apart.is_empty() => {
                format!("OK ({})", &apart[2..])
            }
            (Status::Swept, None) if failing == 0 => "OK".to_string(),
            (Status::Swept, None) => format!("FAILED ({failing}/{}{apart})", self.swept()),
            (Status::Swept, Some(n)) if failing == 0 => {
                format!("INCOMPLETE ({n} not swept)")
            }
            (Status::Swept, Some(n)) => format!(
                "FAILED ({failing}/{}{apart}), INCOMPLETE ({n} not swept)",
                self.swept()
            ),
            (Status::NothingSwept, _) => "OK (nothing swept)".to_string(),
            (Status::Disabled, _) if self.findings.is_empty() => {
                format!("OK (not swept: {OOMCHECK} unset)")
            }
            (other, _) => format!("FAILED ({})", other.as_str()),
        }
    }

    /// The human summary: the [harness line](LineStyle::Harness), the report's message (with
    /// `debug`, the strategy's estimates), the indices left unswept, then each finding with its
    /// site and repro (and with `trace`, its stack and stderr).
    pub fn summary(&self) -> String {
        let mut out = self.line(LineStyle::Harness);
        out.push('\n');
        if let Some(m) = &self.message {
            let _ = writeln!(out, "  {m}");
        }
        if let (true, Some(e)) = (self.debug, &self.estimates) {
            let _ = writeln!(out, "  {}", e.describe(self.strategy));
        }
        if let Some(i) = &self.incomplete {
            let _ = writeln!(
                out,
                "  {} indices not swept (`{UNSWEPT_SYMBOL}` in the sequence): {}",
                i.indices.len(),
                i.reason
            );
        }
        for f in &self.findings {
            let _ = write!(out, "  alloc {}: {}", f.alloc, f.outcome.as_str());
            if let Some(reason) = &f.allowed {
                let _ = write!(out, " (allowed: {reason})");
            }
            if let Some(site) = &f.site {
                let _ = write!(out, " at {}", describe_frame(site));
            }
            if f.in_test_body {
                out.push_str(" (in the test body, not the code under test)");
            }
            let _ = writeln!(out, ": {}", short(&f.message));
            if let Some(diff) = &f.diff {
                for line in diff.lines() {
                    let _ = writeln!(out, "      {line}");
                }
            }
            if self.trace {
                for line in f.stderr.iter().flat_map(|s| s.lines()) {
                    let _ = writeln!(out, "      stderr| {line}");
                }
                for frame in &f.stack {
                    let _ = writeln!(out, "      {}", describe_frame(frame));
                }
            }
            let _ = writeln!(out, "    repro: {}", f.repro);
        }
        for it in self.iterations.iter().flatten() {
            let _ = writeln!(
                out,
                "  [{}] {}: {}",
                it.alloc,
                it.outcome.as_str(),
                short(&it.message)
            );
        }
        out
    }
}

/// A message on one line, cut to [`MAX_LINE_MESSAGE`] bytes.
fn short(message: &str) -> String {
    let mut line = one_line(message);
    truncate(&mut line, MAX_LINE_MESSAGE, false);
    line
}

/// `function (file:line)`.
fn describe_frame(f: &Frame) -> String {
    match (&f.file, f.line) {
        (Some(file), Some(line)) => format!("{} ({file}:{line})", f.function),
        (Some(file), None) => format!("{} ({file})", f.function),
        _ => f.function.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::report;
    use super::super::{DedupInfo, Incomplete, SampleInfo};
    use super::*;

    const PROGRESS: LineStyle = LineStyle::Progress { name_width: 28 };

    fn record(json: &str) -> Report {
        serde_json::from_str(json).expect("a record")
    }

    #[test]
    fn summary_is_a_libvirt_line_then_findings() {
        let s = report().summary();
        let first = s.lines().next().unwrap();
        assert_eq!(first, "tests::parse ok  nalloc=3  ..A  FAILED (1/3)");
        assert!(s.contains("alloc 3: abort at demo::parse (/src/lib.rs:12): memory allocation"));
        assert!(s.contains("repro: OOMCHECK=1 OOMCHECK_ALLOC=3"));
    }

    #[test]
    fn allowed_findings_and_empty_sweeps_are_named_on_the_line() {
        let mut r = report();
        r.findings[0].allowed = Some("documented".into());
        assert!(r.passed());
        assert_eq!(r.line(PROGRESS).split_whitespace().last(), Some("allowed)"));
        assert!(r.line(PROGRESS).ends_with("..A  OK (1 allowed)"));
        assert!(r.summary().contains("abort (allowed: documented)"));
        let mut empty = report();
        empty.findings.clear();
        empty.status = Status::NothingSwept;
        empty.message = Some("nothing to sweep: the body makes no allocation".into());
        assert!(empty.passed());
        assert!(empty
            .line(PROGRESS)
            .contains("nothing swept: nothing to sweep"));
        assert!(empty
            .line(LineStyle::Harness)
            .ends_with("OK (nothing swept)"));
    }

    #[test]
    fn drifted_and_unreached_indices_are_named_in_the_verdict() {
        // Every index drifted or unreached: an `OK` alone would read as a clean sweep.
        let mut r = report();
        r.findings.clear();
        r.sequence = "DND".into();
        r.outcomes = [(Outcome::Drifted, 2), (Outcome::NotReached, 1)].into();
        assert!(r.passed());
        assert!(
            r.line(PROGRESS)
                .ends_with("nalloc=3  DND  OK (2 drifted, 1 not reached)"),
            "{}",
            r.line(PROGRESS)
        );
        assert!(r
            .line(LineStyle::Harness)
            .ends_with("DND  OK (2 drifted, 1 not reached)"));
        // Beside findings and allowed ones.
        let mut r = report();
        r.sequence = ".DA".into();
        r.outcomes = [
            (Outcome::NoMemory, 1),
            (Outcome::Drifted, 1),
            (Outcome::Abort, 1),
        ]
        .into();
        assert!(r.line(PROGRESS).ends_with(".DA  FAILED (1/3, 1 drifted)"));
        r.findings[0].allowed = Some("documented".into());
        assert!(r.line(PROGRESS).ends_with(".DA  OK (1 allowed, 1 drifted)"));
    }

    #[test]
    fn a_long_name_keeps_the_progress_columns_aligned() {
        let mut r = report();
        r.test = "a_test_name_much_longer_than_the_column".into();
        let line = r.line(PROGRESS);
        let (name, columns) = line.split_once('\n').expect("two lines");
        assert_eq!(name, r.test);
        assert_eq!(columns, format!("{:28}  nalloc=3  ..A  FAILED (1/3)", ""));
        let short = report().line(PROGRESS);
        assert_eq!(short.find("nalloc"), columns.find("nalloc"));
    }

    #[test]
    fn harness_lines_name_every_setting() {
        let mut r = report();
        r.mode = Mode::Persistent;
        r.nalloc = 10;
        r.range = Some([2, 4]);
        r.strategy = Some(Strategy::Fork);
        r.dedup = Some(DedupInfo {
            depth: 16,
            sites: 3,
            covered: 0,
            site_list: vec![],
        });
        r.sample = Some(SampleInfo {
            n: 3,
            seed: 7,
            indices: vec![],
        });
        assert_eq!(
            r.line(LineStyle::Harness),
            "tests::parse ok  nalloc=10  mode=persistent  alloc=2-4  sites=3 (+0 covered)  \
             sample=3 seed=7  strategy=fork  ..A  FAILED (1/3)"
        );
        assert_eq!(
            r.line(PROGRESS),
            "tests::parse ok               nalloc=10  persistent  sites=3 (+0 covered)  \
             sample=3 seed=7  fork  ..A  FAILED (1/3)"
        );
    }

    #[test]
    fn debug_summaries_give_the_estimates_and_hybrid_sweeps_say_so() {
        let mut r = report();
        r.strategy = Some(Strategy::Hybrid);
        r.estimates = Some(crate::strategy::Estimates {
            alloc_ns: 40.0,
            fork_us: None,
            rerun: crate::strategy::Estimate {
                wall_ms: 2.0,
                cpu_ms: 3.0,
            },
            fork: None,
            hybrid: None,
            split: None,
        });
        assert!(r.line(LineStyle::Harness).contains("  strategy=hybrid  "));
        assert!(r.line(PROGRESS).contains("  hybrid  "));
        assert!(!r.summary().contains("estimated:"), "only with debug");
        r.debug = true;
        let summary = r.summary();
        assert_eq!(
            summary.lines().nth(1),
            Some(
                "  estimated: rerun 2.0 ms (3.0 ms cpu), fork not timed; 40 ns per allocation; \
                 ran hybrid"
            ),
            "{summary}"
        );
    }

    // The line `oomcheck run` prints per test (these were `run_cmd::progress`'s own tests).
    #[test]
    fn swept_lines_show_sequence_and_verdict() {
        let r = record(
            r#"{"test":"vcpu_survives_oom","status":"swept","nalloc":4,"range":[1,4],
               "sequence":"...A","findings":[{"alloc":4,"outcome":"abort"}]}"#,
        );
        assert_eq!(
            r.line(PROGRESS),
            "vcpu_survives_oom             nalloc=4  ...A  FAILED (1/4)"
        );
        let ok = record(r#"{"test":"h","status":"swept","nalloc":3,"sequence":"..."}"#);
        assert!(
            ok.line(PROGRESS).ends_with("nalloc=3  ...  OK"),
            "{}",
            ok.line(PROGRESS)
        );
    }

    #[test]
    fn dedup_and_sample_lines_say_what_was_swept() {
        let r = record(
            r#"{"test":"big","status":"swept","nalloc":1000,"range":[1,1000],"sequence":"..W",
               "strategy":"fork","dedup":{"depth":16,"sites":3,"covered":997,"site_list":[]},
               "findings":[{"alloc":40,"outcome":"wrong-error"}]}"#,
        );
        assert_eq!(r.swept(), 3);
        assert!(
            r.line(PROGRESS)
                .ends_with("nalloc=1000  sites=3 (+997 covered)  fork  ..W  FAILED (1/3)"),
            "{}",
            r.line(PROGRESS)
        );
        let s = record(
            r#"{"test":"s","status":"swept","nalloc":50,"range":[1,50],"sequence":"..",
               "sample":{"n":2,"seed":42,"indices":[3,9]}}"#,
        );
        assert!(
            s.line(PROGRESS)
                .ends_with("nalloc=50  sample=2 seed=42  ..  OK"),
            "{}",
            s.line(PROGRESS)
        );
    }

    #[test]
    fn long_sequences_wrap() {
        let seq = format!("{}A{}", ".".repeat(120), ".".repeat(129));
        let r = record(&format!(
            r#"{{"test":"big","nalloc":250,"sequence":"{seq}","findings":[{{"alloc":121,"outcome":"abort"}}]}}"#
        ));
        for style in [PROGRESS, LineStyle::Harness] {
            let text = r.line(style);
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
    }

    #[test]
    fn unswept_lines_say_why() {
        let r = record(r#"{"test":"t","status":"normal-failed","message":"Err(Parse)"}"#);
        assert!(r
            .line(PROGRESS)
            .contains("normal run failed, not swept: Err(Parse)  FAILED"));
        assert_eq!(
            r.line(LineStyle::Harness),
            "t  nalloc=0  FAILED (normal-failed)"
        );
        let d = record(r#"{"test":"t","status":"disabled"}"#);
        assert_eq!(
            d.line(LineStyle::Harness),
            "t  nalloc=0  OK (not swept: OOMCHECK unset)"
        );
        assert!(d
            .line(PROGRESS)
            .ends_with("not swept (disabled): no reason given"));
    }

    #[test]
    fn an_incomplete_sweep_says_so_and_does_not_pass() {
        let mut r = report();
        r.findings.clear();
        r.outcomes = [(Outcome::NoMemory, 2)].into_iter().collect();
        r.sequence = "..?".into();
        r.incomplete = Some(Incomplete {
            reason: "cannot start /t: No such file".into(),
            indices: vec![3],
        });
        assert!(!r.passed());
        assert_eq!(r.swept(), 2);
        assert_eq!(
            r.line(LineStyle::Harness),
            "tests::parse ok  nalloc=3  ..?  INCOMPLETE (1 not swept)"
        );
        assert!(
            r.summary()
                .contains("1 indices not swept (`?` in the sequence): cannot start /t"),
            "{}",
            r.summary()
        );
    }
}
