//! Zero-code sweeps on the command line: `oomcheck run --preload` (a crate's unmodified tests,
//! one process per test) and the reporting it shares with `oomcheck exec` (the progress line,
//! diagnostics and JSON records of `oomcheck run`, through [`super::progress`] and
//! [`super::diagnostic`]).
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use oomcheck_injector::{Report, Status as CheckStatus};
use serde::Serialize;

use super::cargo::{self, TestExecutable};
use super::diagnostic::{self, Detail, SourceRoots};
use super::progress::Progress;
use super::record;
use super::sweep_flags::SweepFlags;
use super::{Format, RunArgs};
use crate::preload::launch::{Program, ThreadScope};
use crate::preload::site::OwnCode;
use crate::preload::sweep::{self, Kind, Swept, Target};
use crate::preload::symbolize::Symbolizer;
use crate::preload::{elf, library, PreloadError, PreloadInfo};
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
    pub fn finish(self, roots: &SourceRoots, ui: &Ui) -> Status {
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
                    ui.render(&diagnostic::diagnostic(g, roots, self.detail))
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

/// The tests of `exe` that `libtest_args` select (`--list`), each with whether it is ignored.
fn list_tests(exe: &Path, libtest_args: &[String]) -> Result<Vec<(String, bool)>, String> {
    let list = |extra: &[&str]| -> Result<Vec<String>, String> {
        let out = Command::new(exe)
            .args(["--list", "--format", "terse"])
            .args(extra)
            .args(libtest_args)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} --list failed: {}",
                exe.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_suffix(": test"))
            .map(str::to_string)
            .collect())
    };
    let ignored = list(&["--ignored"])?;
    Ok(list(&[])?
        .into_iter()
        .map(|t| {
            let i = ignored.contains(&t);
            (t, i)
        })
        .collect())
}

/// What the tests of one executable are swept as.
fn test_target(exe: &TestExecutable, test: &str, scope: &ThreadScope, args: &RunArgs) -> Target {
    let mut run_args: Vec<std::ffi::OsString> = vec![
        test.into(),
        "--exact".into(),
        "--test-threads=1".into(),
        "--nocapture".into(),
    ];
    if args
        .test_args
        .iter()
        .any(|a| a == "--ignored" || a == "--include-ignored")
    {
        run_args.push("--include-ignored".into());
    }
    let mut repro_flags = SweepFlags::from(args).repro_flags().to_string();
    if args.sweep_all {
        repro_flags.push_str(" --sweep-all");
    }
    if let Some(m) = &args.manifest_path {
        repro_flags.push_str(&format!(
            " --manifest-path {}",
            shell_quote(&m.to_string_lossy())
        ));
    }
    let quoted = shell_quote(test);
    Target {
        name: test.to_string(),
        program: Program {
            path: exe.path.clone(),
            args: run_args,
            env: vec![("RUST_BACKTRACE".into(), "0".into())],
            scope: Some(ThreadScope {
                thread: test.to_string(),
                ..scope.clone()
            }),
        },
        kind: Kind::Test(test.to_string()),
        own: Some(OwnCode {
            root: exe
                .manifest_path
                .parent()
                .unwrap_or(Path::new("/"))
                .to_path_buf(),
            test: test.to_string(),
        }),
        repro: Box::new(move |i| {
            format!("oomcheck run --preload --alloc {i}{repro_flags} -- {quoted} --exact")
        }),
    }
}

fn error(msg: &str) -> Status {
    eprintln!("error: {msg}");
    Status::Error
}

/// Run `oomcheck run --preload`: build the tests, list them, sweep each in its own processes.
pub fn execute(args: &RunArgs, ui: &Ui) -> Status {
    let opts = args.cargo_opts();
    let meta = match cargo::metadata(&opts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return error("cannot read the crate's metadata (is there a Cargo.toml?)");
        }
    };
    let lib = match library::install() {
        Ok(l) => l,
        Err(e) => return error(&e.to_string()),
    };
    let build = match cargo::build(&opts, ui.color) {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    if !build.success {
        for e in &build.errors {
            eprint!("{e}");
        }
        return error("the tests do not build");
    }
    let flags = SweepFlags::from(args);
    let settings = flags.settings(args.sweep_all);
    let include_ignored = args
        .test_args
        .iter()
        .any(|a| a == "--ignored" || a == "--include-ignored");
    let mut reporter = Reporter::new(ui, &flags, "test");
    let mut symbolizer = Symbolizer::new();
    for exe in &build.executables {
        let scope = match elf::libtest_ranges(&exe.path) {
            Ok(r) => ThreadScope {
                thread: String::new(),
                include: elf::format_ranges(&r.body),
                exclude: elf::format_ranges(&r.after_body),
            },
            Err(e @ PreloadError::NotATestBinary { .. }) => {
                reporter.note(&format!("skipped: {e}"));
                continue;
            }
            Err(e) => return error(&e.to_string()),
        };
        let tests = match list_tests(&exe.path, &args.test_args) {
            Ok(t) => t,
            Err(e) => return error(&e),
        };
        for (test, ignored) in tests {
            if ignored && !include_ignored {
                continue;
            }
            let target = test_target(exe, &test, &scope, args);
            reporter.stage(&format!("sweeping {test}"));
            match sweep::sweep(&target, &settings, &lib, &mut symbolizer) {
                Ok(s) => reporter.add(s),
                Err(e) => {
                    reporter.abandon();
                    return error(&e.to_string());
                }
            }
        }
    }
    let swept = reporter.swept();
    if swept.is_empty() {
        reporter.abandon();
        let filters = cargo::filters(&args.test_args);
        return error(&if filters.is_empty() {
            "no tests to sweep".to_string()
        } else {
            format!("no test matched {}", filters.join(" "))
        });
    }
    if swept
        .iter()
        .all(|s| s.report.status == CheckStatus::Swept && s.no_allocations)
    {
        reporter.abandon();
        eprintln!("error: no test allocated through malloc in its body: nothing to sweep\n{NO_ALLOCATIONS}");
        return Status::Error;
    }
    let roots = roots(
        std::iter::once(meta.workspace_root.clone()).chain(
            meta.packages
                .iter()
                .filter_map(|p| p.manifest_path.parent().map(Path::to_path_buf)),
        ),
    );
    reporter.finish(&roots, ui)
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
