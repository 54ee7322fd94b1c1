//! What zero-code sweeps print, for `oomcheck run --preload` and `oomcheck exec` alike: the
//! progress line, diagnostics and JSON records of `oomcheck run` (through
//! [`crate::run_cmd::progress`] and [`crate::run_cmd::diagnostic`]), the summary line, and the
//! exit status.
use std::io::Write as _;
use std::path::{Path, PathBuf};

use oomcheck_injector::Report;
use serde::Serialize;

use crate::preload::sweep::Swept;
use crate::preload::PreloadInfo;
use crate::run_cmd::diagnostic::{self, Detail, Explanations, SourceRoots};
use crate::run_cmd::progress::Progress;
use crate::run_cmd::record;
use crate::run_cmd::sweep_flags::Format;
use crate::run_cmd::sweep_flags::SweepFlags;
use crate::{ui::Ui, Status};

/// What to tell a user whose program allocated nothing through `malloc`.
pub const NO_ALLOCATIONS: &str = "\
help: a program with its own allocator (a Rust `#[global_allocator]` that does not call malloc, \
jemalloc or mimalloc linked in) makes no malloc call the interposer can fail. For Rust code, \
install oomcheck's failing allocator instead and sweep with `check()`:
       #[global_allocator]
       static ALLOC: oomcheck_injector::FailingAllocator = oomcheck_injector::FailingAllocator::system();
       #[test] fn survives_oom() { oomcheck_injector::check(|| my_crate::run(INPUT)); }
     (`oomcheck init` prints the lines to add.)";

/// A record as `--format json` prints it: the schema `oomcheck run` prints, plus `preload`.
#[derive(Serialize)]
struct Record<'a> {
    #[serde(flatten)]
    report: &'a Report,
    preload: &'a PreloadInfo,
}

/// The JSON record of a sweep.
pub fn record_json(s: &Swept) -> serde_json::Value {
    serde_json::to_value(Record {
        report: &s.report,
        preload: &s.info,
    })
    .unwrap_or_default()
}

/// Prints each sweep as it finishes (a progress line, or its JSON record), then the
/// diagnostics and the summary.
pub struct Reporter {
    progress: Progress,
    json: bool,
    debug: bool,
    detail: Detail,
    /// What a record is a sweep of, for the summary: "test" or "program".
    noun: &'static str,
    swept: Vec<Swept>,
}

impl Reporter {
    /// A reporter for sweeps of `noun`s ("test", "program").
    pub fn new(ui: &Ui, flags: &SweepFlags, noun: &'static str) -> Reporter {
        let json = flags.format == Format::Json;
        Reporter {
            progress: Progress::new(ui.progress, json),
            json,
            debug: flags.debug,
            detail: Detail {
                trace: flags.trace,
                debug: flags.debug,
            },
            noun,
            swept: Vec::new(),
        }
    }

    /// Say what is happening now (on the progress bar only).
    pub fn stage(&self, msg: &str) {
        self.progress.stage(msg);
    }

    /// A line above the progress bar (not in JSON mode).
    pub fn note(&self, text: &str) {
        self.progress.println(text);
    }

    /// A sweep finished: its line (and `--debug` lines), or its record.
    pub fn add(&mut self, s: Swept) {
        if self.json {
            // A closed pipe (`| head`) is not worth a panic: the sweep goes on.
            let _ = writeln!(std::io::stdout().lock(), "{}", record_json(&s));
        } else {
            self.progress.record(&s.report, self.debug);
            let skipped = s.info.skipped.len();
            if skipped > 0 {
                let what = if skipped == 1 {
                    "allocation"
                } else {
                    "allocations"
                };
                self.progress.println(&format!(
                    "    {skipped} {what} outside the crate's own code not swept (--sweep-all sweeps them)"
                ));
            }
        }
        self.swept.push(s);
    }

    /// Ends the progress display and prints nothing more (the caller reports an error).
    pub fn abandon(self) {
        self.progress.finish();
    }

    /// The sweeps so far.
    pub fn swept(&self) -> &[Swept] {
        &self.swept
    }

    /// Ends the progress display; with human output, prints a diagnostic per failing site and
    /// the summary. The exit status: findings (or sweeps that could not run) → 1.
    pub fn finish(self, roots: &SourceRoots, explanations: &Explanations, ui: &Ui) -> Status {
        self.progress.finish();
        let records: Vec<&Report> = self.swept.iter().map(|s| &s.report).collect();
        if !self.json {
            let groups = diagnostic::group(&records);
            if !groups.is_empty() {
                eprintln!();
            }
            for g in &groups {
                eprintln!(
                    "{}",
                    ui.render(&diagnostic::diagnostic(g, roots, self.detail, explanations))
                );
            }
            let findings: usize = records.iter().map(|r| r.findings.len()).sum();
            let failing = records.iter().filter(|r| record::is_failure(r)).count();
            let from_text: usize = self.swept.iter().map(|s| s.info.from_text.len()).sum();
            let plural = |n: usize, what: &str| match n {
                1 => format!("1 {what}"),
                n => format!("{n} {what}s"),
            };
            let mut line = format!(
                "{}: {} clean, {} failing ({} at {})",
                plural(records.len(), self.noun),
                records.len() - failing,
                failing,
                plural(findings, "finding"),
                plural(groups.len(), "site"),
            );
            if from_text > 0 {
                line.push_str(&format!(
                    "; {} read from printed text",
                    plural(from_text, "verdict")
                ));
            }
            eprintln!("{line}");
        }
        if records.iter().any(|r| record::is_failure(r)) {
            Status::Findings
        } else {
            Status::Clean
        }
    }
}

/// Source roots for a sweep run from `dirs` (their sources are found below them).
pub fn roots(dirs: impl IntoIterator<Item = PathBuf>) -> SourceRoots {
    SourceRoots {
        roots: dirs.into_iter().collect(),
        display_base: std::env::current_dir().ok(),
    }
}

/// `text` quoted for a POSIX shell when it needs to be.
pub fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Where a program's own sources probably are: its directory and the current one.
pub fn program_roots(program: &Path) -> SourceRoots {
    let mut dirs: Vec<PathBuf> = std::env::current_dir().into_iter().collect();
    dirs.extend(program.parent().map(Path::to_path_buf));
    roots(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_leaves_plain_words_alone() {
        assert_eq!(shell_quote("./prog"), "./prog");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
