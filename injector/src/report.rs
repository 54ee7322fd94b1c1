//! Outcomes, the report of one check, its JSON record and its human summary.

use crate::config::Mode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// How one iteration of a sweep (one failed allocation index) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Returned an error the NoMemory predicate accepts: the code handled the failure.
    NoMemory,
    /// Returned `Ok` with the same output as the normal run (a finding only in strict mode).
    Tolerated,
    /// Returned an error that is not NoMemory.
    WrongError,
    /// Returned `Ok` with an output that differs from the normal run.
    Corrupted,
    /// Panicked.
    Panic,
    /// The process died (an infallible allocation aborted, or a signal).
    Abort,
    /// Ran past the per-iteration timeout.
    Hang,
    /// Returned a NoMemory error but left memory allocated during the run live.
    Leak,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 8] = [
        Outcome::NoMemory,
        Outcome::Tolerated,
        Outcome::WrongError,
        Outcome::Corrupted,
        Outcome::Panic,
        Outcome::Abort,
        Outcome::Hang,
        Outcome::Leak,
    ];

    /// The outcome's kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::NoMemory => "no-memory",
            Outcome::Tolerated => "tolerated",
            Outcome::WrongError => "wrong-error",
            Outcome::Corrupted => "corrupted",
            Outcome::Panic => "panic",
            Outcome::Abort => "abort",
            Outcome::Hang => "hang",
            Outcome::Leak => "leak",
        }
    }

    /// The character of the progress sequence (libvirt style).
    pub fn symbol(self) -> char {
        match self {
            Outcome::NoMemory => '.',
            Outcome::Tolerated => 't',
            Outcome::WrongError => 'W',
            Outcome::Corrupted => 'C',
            Outcome::Panic => 'P',
            Outcome::Abort => 'A',
            Outcome::Hang => 'H',
            Outcome::Leak => 'L',
        }
    }

    /// Whether this outcome is a finding (`tolerated` is one only in strict mode).
    pub fn is_finding(self, strict: bool) -> bool {
        match self {
            Outcome::NoMemory => false,
            Outcome::Tolerated => strict,
            _ => true,
        }
    }
}

/// Where a check ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The sweep ran over the whole range (also what a record without a status reads as).
    #[default]
    Swept,
    /// The body failed (returned `Err` or panicked) in its normal run, so nothing was swept.
    NormalFailed,
    /// The counting runs did not agree on the number of allocations.
    UnstableCount,
    /// The process's global allocator is not a `FailingAllocator`.
    NoAllocator,
    /// `OOMCHECK` was not set: the body ran once.
    Disabled,
}

impl Status {
    /// The status's kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Swept => "swept",
            Status::NormalFailed => "normal-failed",
            Status::UnstableCount => "unstable-count",
            Status::NoAllocator => "no-allocator",
            Status::Disabled => "disabled",
        }
    }
}

/// One symbolized stack frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// Demangled function path without the hash (its address when it has no symbol; empty only
    /// in a record read without one).
    #[serde(default)]
    pub function: String,
    /// Source file, when debug info knows it.
    pub file: Option<String>,
    /// Source line, when debug info knows it.
    pub line: Option<u32>,
}

/// One iteration whose outcome is a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The 1-based index of the failed allocation.
    pub alloc: u64,
    /// What happened.
    pub outcome: Outcome,
    /// The failed allocation's first frame outside std, alloc, core, backtrace and the injector.
    pub site: Option<Frame>,
    /// The failed allocation's stack, std frames filtered out.
    #[serde(default)]
    pub stack: Vec<Frame>,
    /// The error, panic message or crash reason.
    #[serde(default)]
    pub message: String,
    /// Unified diff of the `{:#?}` output against the normal run (for `corrupted`).
    pub diff: Option<String>,
    /// Tail of the crashed child's stderr (for `abort` and `hang`).
    pub stderr: Option<String>,
    /// A command that replays this one iteration (empty only in a record read without one).
    #[serde(default)]
    pub repro: String,
}

/// What site dedup found in the range (`OOMCHECK_DEDUP=site`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DedupInfo {
    /// Return addresses hashed into a site id.
    #[serde(default)]
    pub depth: usize,
    /// Distinct sites: the number of swept indices.
    pub sites: u64,
    /// Indices of the range not swept because an earlier allocation of their site was.
    #[serde(default)]
    pub covered: u64,
    /// Each site with its first allocation (the swept index), in index order.
    #[serde(default)]
    pub site_list: Vec<DedupSite>,
}

/// One distinct allocation site of a dedup'd sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DedupSite {
    /// Index of the site's first allocation, the one failed.
    pub alloc: u64,
    /// Allocations of the range made from this site.
    pub count: u64,
    /// The site's function (first frame outside std and the injector), when symbolized.
    pub function: Option<String>,
    /// Its source file.
    pub file: Option<String>,
    /// Its line.
    pub line: Option<u32>,
}

/// The sample of a sampled sweep (`OOMCHECK_SAMPLE`), replayable with its seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleInfo {
    /// Indices asked for.
    pub n: u64,
    /// The seed they were chosen with (`OOMCHECK_SEED` replays the same choice).
    pub seed: u64,
    /// The swept indices, in order.
    #[serde(default)]
    pub indices: Vec<u64>,
}

/// One iteration as listed with `OOMCHECK_DEBUG=1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Iteration {
    /// The 1-based index of the failed allocation.
    pub alloc: u64,
    /// What happened.
    pub outcome: Outcome,
    /// The error, panic message or crash reason.
    #[serde(default)]
    pub message: String,
}

/// The result of one check, also written as its JSON record with `OOMCHECK_REPORT=DIR` (and
/// read back from it with `serde_json::from_str::<Report>`, as `oomcheck run` does).
///
/// Reading is lenient so that records of another injector version still read: unknown fields
/// are ignored, and a missing field takes its default (empty, zero, `None`, status `swept`,
/// mode `transient`). Outcome, status, mode and strategy names must be known ones. Writing
/// always writes every field (but the optional `iterations`, `strategy`, `dedup`, `sample`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The test's path as libtest names it (`module::name`).
    pub test: String,
    /// The test executable.
    #[serde(default)]
    pub binary: String,
    /// Where the check ended up.
    #[serde(default)]
    pub status: Status,
    /// Allocations the body makes in its normal run.
    #[serde(default)]
    pub nalloc: u64,
    /// Failure mode of the sweep.
    #[serde(default)]
    pub mode: Mode,
    /// The swept indices (inclusive), if any.
    pub range: Option<[u64; 2]>,
    /// Wall time of the whole check.
    #[serde(default)]
    pub elapsed_ms: u64,
    /// One character per swept index (see [`Outcome::symbol`]), in index order. With site dedup
    /// or sampling only some indices of the range are swept: the sequence then has characters
    /// for those only, which are listed in `dedup.site_list` or `sample.indices`.
    #[serde(default)]
    pub sequence: String,
    /// Number of indices per outcome; sums to the number of swept indices.
    #[serde(default)]
    pub outcomes: BTreeMap<Outcome, u64>,
    /// The iterations whose outcome is a finding.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Why the body was not swept, or a note about the sweep.
    pub message: Option<String>,
    /// Every iteration (only with `OOMCHECK_DEBUG=1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<Vec<Iteration>>,
    /// How the iterations ran (`rerun` or `fork`), when swept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<crate::strategy::Strategy>,
    /// Site dedup: the distinct sites, whose first allocations were the swept indices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup: Option<DedupInfo>,
    /// Sampling: the seed and the swept indices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<SampleInfo>,
    /// Whether `tolerated` counted as a finding.
    #[serde(skip)]
    pub strict: bool,
    /// Print full stacks in the summary.
    #[serde(skip)]
    pub trace: bool,
}

impl Report {
    /// Whether the check passed: swept (or run once, disabled) without findings.
    pub fn passed(&self) -> bool {
        matches!(self.status, Status::Swept | Status::Disabled) && self.findings.is_empty()
    }

    /// Panics with [`Report::summary`] unless the check [passed](Report::passed).
    #[track_caller]
    pub fn assert(&self) {
        if !self.passed() {
            panic!("{}", self.summary());
        }
    }

    /// Number of swept indices.
    pub fn swept(&self) -> u64 {
        self.outcomes.values().sum()
    }

    /// Count of one outcome.
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes.get(&outcome).copied().unwrap_or(0)
    }

    /// The human summary: a libvirt-style line, then each finding with its site and repro.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let verdict = match self.status {
            Status::Swept if self.findings.is_empty() => "OK".to_string(),
            Status::Swept => format!("FAILED ({}/{})", self.findings.len(), self.swept()),
            Status::Disabled if self.findings.is_empty() => "OK (not swept: OOMCHECK unset)".into(),
            other => format!("FAILED ({})", other.as_str()),
        };
        let _ = write!(out, "{}  nalloc={}", self.test, self.nalloc);
        if self.mode == Mode::Persistent {
            out.push_str("  mode=persistent");
        }
        if let Some([lo, hi]) = self.range {
            if lo != 1 || hi != self.nalloc {
                let _ = write!(out, "  alloc={lo}-{hi}");
            }
        }
        if let Some(d) = &self.dedup {
            let _ = write!(out, "  sites={} (+{} covered)", d.sites, d.covered);
        }
        if let Some(s) = &self.sample {
            let _ = write!(out, "  sample={} seed={}", s.n, s.seed);
        }
        if self.strategy == Some(crate::strategy::Strategy::Fork) {
            out.push_str("  strategy=fork");
        }
        if !self.sequence.is_empty() {
            out.push_str("  ");
            if self.sequence.len() <= 100 {
                out.push_str(&self.sequence);
            } else {
                for chunk in self.sequence.as_bytes().chunks(100) {
                    out.push_str("\n    ");
                    out.push_str(&String::from_utf8_lossy(chunk));
                }
                out.push_str("\n ");
            }
        }
        let _ = writeln!(out, "  {verdict}");
        if let Some(m) = &self.message {
            let _ = writeln!(out, "  {m}");
        }
        for f in &self.findings {
            let _ = write!(out, "  alloc {}: {}", f.alloc, f.outcome.as_str());
            if let Some(site) = &f.site {
                let _ = write!(out, " at {}", describe_frame(site));
            }
            let _ = writeln!(out, ": {}", one_line(&f.message));
            if let Some(diff) = &f.diff {
                for line in diff.lines() {
                    let _ = writeln!(out, "      {line}");
                }
            }
            if let Some(stderr) = &f.stderr {
                if self.trace {
                    for line in stderr.lines() {
                        let _ = writeln!(out, "      stderr| {line}");
                    }
                }
            }
            if self.trace {
                for frame in &f.stack {
                    let _ = writeln!(out, "      {}", describe_frame(frame));
                }
            }
            let _ = writeln!(out, "    repro: {}", f.repro);
        }
        if let Some(its) = &self.iterations {
            for it in its {
                let _ = writeln!(
                    out,
                    "  [{}] {}: {}",
                    it.alloc,
                    it.outcome.as_str(),
                    one_line(&it.message)
                );
            }
        }
        out
    }

    /// The record's file name: the test name with every non-alphanumeric character replaced by
    /// `_`, the process id, and the check's ordinal within the test when it is not the first.
    pub fn record_file_name(&self, ordinal: u32) -> String {
        let name: String = self
            .test
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if ordinal <= 1 {
            format!("{name}-{}.json", std::process::id())
        } else {
            format!("{name}-{}-{ordinal}.json", std::process::id())
        }
    }

    /// The marker a sweep leaves in the report directory while it runs: the record's file name
    /// with `.started` for `.json`, holding the test name. [`Report::write_record`]'s caller
    /// removes it once the record is written, so a marker without its record is a sweep that
    /// never finished (interrupted, or its process killed).
    pub fn started_marker(&self, dir: &Path, ordinal: u32) -> PathBuf {
        let name = self.record_file_name(ordinal);
        let stem = name.strip_suffix(".json").unwrap_or(&name);
        dir.join(format!("{stem}.started"))
    }

    /// Writes the JSON record into `dir` atomically (a temporary file in `dir`, then a rename).
    pub fn write_record(&self, dir: &Path, ordinal: u32) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(self.record_file_name(ordinal));
        // A temporary name of its own per write: two writers of one record name (two checks
        // of one test on different threads) never share a temporary file.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("record"),
            WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&json)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }
}

/// `function (file:line)`.
pub(crate) fn describe_frame(f: &Frame) -> String {
    match (&f.file, f.line) {
        (Some(file), Some(line)) => format!("{} ({file}:{line})", f.function),
        (Some(file), None) => format!("{} ({file})", f.function),
        _ => f.function.clone(),
    }
}

fn one_line(s: &str) -> String {
    let mut line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.len() > 300 {
        let mut cut = 300;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let mut outcomes = BTreeMap::new();
        outcomes.insert(Outcome::NoMemory, 2);
        outcomes.insert(Outcome::Abort, 1);
        Report {
            test: "tests::parse ok".into(),
            binary: "/bin/t".into(),
            status: Status::Swept,
            nalloc: 3,
            mode: Mode::Transient,
            range: Some([1, 3]),
            elapsed_ms: 5,
            sequence: "..A".into(),
            outcomes,
            findings: vec![Finding {
                alloc: 3,
                outcome: Outcome::Abort,
                site: Some(Frame {
                    function: "demo::parse".into(),
                    file: Some("/src/lib.rs".into()),
                    line: Some(12),
                }),
                stack: vec![],
                message: "memory allocation of 24 bytes failed".into(),
                diff: None,
                stderr: None,
                repro: "OOMCHECK=1 OOMCHECK_ALLOC=3 cargo test -- tests::parse --exact".into(),
            }],
            message: None,
            iterations: None,
            strict: false,
            trace: false,
            strategy: None,
            dedup: None,
            sample: None,
        }
    }

    #[test]
    fn record_has_the_agreed_shape() {
        let v = serde_json::to_value(report()).unwrap();
        assert_eq!(v["status"], "swept");
        assert_eq!(v["mode"], "transient");
        assert_eq!(v["range"], serde_json::json!([1, 3]));
        assert_eq!(v["outcomes"]["no-memory"], 2);
        assert_eq!(v["outcomes"]["abort"], 1);
        assert_eq!(v["findings"][0]["outcome"], "abort");
        assert_eq!(v["findings"][0]["site"]["line"], 12);
        assert!(v["message"].is_null());
        assert!(v.get("iterations").is_none());
        assert!(v.get("strict").is_none());
    }

    #[test]
    fn records_read_back() {
        let text = serde_json::to_string(&report()).unwrap();
        let back: Report = serde_json::from_str(&text).unwrap();
        assert_eq!(back.count(Outcome::Abort), 1);
        assert_eq!(back.findings, report().findings);
        assert_eq!(back.status, Status::Swept);
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }

    #[test]
    fn records_read_leniently() {
        // Unknown fields are ignored; missing ones take their defaults.
        let back: Report = serde_json::from_str(
            r#"{"test":"t","sequence":".A","schema":7,
                "findings":[{"alloc":2,"outcome":"abort","site":{"file":"x.rs"},"future":1}]}"#,
        )
        .unwrap();
        assert_eq!(back.status, Status::Swept);
        assert_eq!(
            (back.nalloc, back.mode, back.binary.as_str()),
            (0, Mode::Transient, "")
        );
        assert!(back.outcomes.is_empty() && back.range.is_none() && back.message.is_none());
        let f = &back.findings[0];
        assert_eq!(
            (f.outcome, f.message.as_str(), f.repro.as_str()),
            (Outcome::Abort, "", "")
        );
        assert!(f.stack.is_empty() && f.diff.is_none() && f.stderr.is_none());
        let site = f.site.as_ref().unwrap();
        assert_eq!(
            (site.function.as_str(), site.file.as_deref(), site.line),
            ("", Some("x.rs"), None)
        );
        // Names must be known ones, and a record needs its test.
        assert!(serde_json::from_str::<Report>(r#"{"test":"t","status":"gone"}"#).is_err());
        assert!(serde_json::from_str::<Report>(r#"{"status":"swept"}"#).is_err());
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
    fn record_file_name_is_sanitized_and_written_atomically() {
        let r = report();
        let name = r.record_file_name(1);
        assert_eq!(name, format!("tests__parse_ok-{}.json", std::process::id()));
        assert!(r.record_file_name(2).ends_with("-2.json"));
        let dir = std::env::temp_dir().join(format!("oomcheck-report-test-{}", std::process::id()));
        let path = r.write_record(&dir, 1).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["test"], "tests::parse ok");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_reader_never_sees_a_partial_record() {
        // Writers replace records (big ones: a long message) while a reader parses every
        // visible record; a non-atomic write would show a reader an empty or cut file.
        let dir = std::env::temp_dir().join(format!("oomcheck-atomic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut big = report();
        big.message = Some("x".repeat(100_000));
        let stop = std::sync::atomic::AtomicBool::new(false);
        let reads = std::thread::scope(|s| {
            for t in 0..2u32 {
                let (big, dir, stop) = (&big, &dir, &stop);
                s.spawn(move || {
                    for _ in 0..20 {
                        big.write_record(dir, 1 + t).unwrap();
                    }
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                });
            }
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || reads == 0 {
                for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let name = e.file_name().to_string_lossy().to_string();
                    if name.starts_with('.') {
                        continue;
                    }
                    // A record may be replaced between listing and opening, never cut.
                    let Ok(text) = std::fs::read_to_string(e.path()) else {
                        continue;
                    };
                    let back: Report = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("{name}: partial record ({e})"));
                    assert_eq!(back.message.as_deref().map(str::len), Some(100_000));
                    reads += 1;
                }
            }
            reads
        });
        assert!(reads > 0);
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(
            names.len(),
            2,
            "two records and no temporary file: {names:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn assert_passes_only_clean_sweeps() {
        let mut r = report();
        assert!(!r.passed());
        r.findings.clear();
        assert!(r.passed());
        r.status = Status::NoAllocator;
        assert!(!r.passed());
    }
}
