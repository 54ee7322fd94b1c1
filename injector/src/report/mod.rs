//! The report of one check and its JSON record schema (the types `oomcheck run` reads back). Its
//! human summary is in `summary.rs`, writing the record in `record.rs`.

mod record;
pub(crate) mod summary;

use crate::allow::Allow;
use crate::options::Mode;
use crate::outcome::Outcome;
use crate::strategy::{Estimates, Strategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the record schema this injector writes. Records written before records had a
/// version read as version 0. Version 2 added [`Report::coverage`].
pub const RECORD_VERSION: u32 = 2;

/// The character of the sequence that marks an index left unswept (see [`Report::incomplete`]).
pub const UNSWEPT_SYMBOL: char = '?';

/// Where a check ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The sweep ran over the whole range, but for the indices [`Report::incomplete`] lists (also
    /// what a record without a status reads as).
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
    /// Nothing was swept: the body makes no allocation, or the allocation range
    /// (`OOMCHECK_ALLOC`) lies beyond the allocations it makes. Not a failure of the check, but
    /// never silent: its line says "nothing swept" and `oomcheck run` counts it.
    NothingSwept,
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
            Status::NothingSwept => "nothing-swept",
        }
    }
}

/// One symbolized stack frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// The failed allocation's innermost frame outside std, alloc, core, backtrace and the
    /// injector, in whatever crate (a dependency's included).
    pub site: Option<Frame>,
    /// The failed allocation's stack, std frames filtered out: the site, then its callers up to
    /// the test.
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
    /// The site is in the test's own code (the closure passed to the check), not in the code
    /// under test: setup to move before the check (build inputs before calling `check`).
    #[serde(default)]
    pub in_test_body: bool,
    /// Why this outcome is expected ([`Check::allow`](crate::Check::allow)): an allowed finding
    /// is reported and counted, but does not fail the check.
    #[serde(default)]
    pub allowed: Option<String>,
}

impl Finding {
    /// The reason of the first of `allows` that accepts this finding: its outcome (if the allow
    /// names one) and a frame of its stack whose function path or `file:line` contains the
    /// allow's site (if it names one).
    pub(crate) fn allowed_by(&self, allows: &[Allow]) -> Option<String> {
        allows
            .iter()
            .find(|a| self.accepted_by(a))
            .map(|a| a.reason.clone())
    }

    fn accepted_by(&self, allow: &Allow) -> bool {
        if allow.outcome.is_some_and(|o| o != self.outcome) {
            return false;
        }
        let Some(pattern) = &allow.site else {
            return true;
        };
        self.stack.iter().chain(self.site.as_ref()).any(|f| {
            let place = format!(
                "{}:{}",
                f.file.as_deref().unwrap_or(""),
                f.line.map(|l| l.to_string()).unwrap_or_default()
            );
            f.function.contains(pattern.as_str()) || place.contains(pattern.as_str())
        })
    }
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

/// One distinct stack of failed allocations, with the swept indices whose failed allocation had
/// it (`OOMCHECK_COVERAGE=1`): which source lines each failing stack passed through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoveredStack {
    /// The stack, machinery filtered out: the site first, then its callers up to the test.
    pub stack: Vec<Frame>,
    /// The swept indices whose failed allocation had this stack, in order.
    pub indices: Vec<u64>,
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

/// The indices of a sweep that were never swept because the sweep machinery failed midway (a
/// sweep child could no longer be started, say). The check does not pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incomplete {
    /// What stopped the sweep.
    #[serde(default)]
    pub reason: String,
    /// The indices left unswept, in order.
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
/// mode `transient`, version 0). Outcome, status, mode and strategy names must be known ones.
/// Writing always writes every field (but the optional `iterations`, `strategy`, `estimates`,
/// `dedup`, `sample`, `incomplete`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The record schema's version ([`RECORD_VERSION`] when written by this injector; 0 for a
    /// record written before records had one).
    #[serde(default)]
    pub version: u32,
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
    /// for those only, which are listed in `dedup.site_list` or `sample.indices`. An index left
    /// unswept by an [incomplete](Report::incomplete) sweep is a [`UNSWEPT_SYMBOL`].
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
    /// How the iterations ran (`rerun`, `fork` or `hybrid`), when swept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// What `auto` measured and estimated to choose the strategy (also with `OOMCHECK_DEBUG=1`
    /// for a strategy asked for by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimates: Option<Estimates>,
    /// Site dedup: the distinct sites, whose first allocations were the swept indices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup: Option<DedupInfo>,
    /// Sampling: the seed and the swept indices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<SampleInfo>,
    /// The indices never swept because the sweep machinery failed midway, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<Incomplete>,
    /// With `OOMCHECK_COVERAGE=1`: every distinct stack of a failed allocation with the indices
    /// that had it (empty otherwise, and in records before version 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<CoveredStack>,
    /// Whether `tolerated` counted as a finding.
    #[serde(skip)]
    pub strict: bool,
    /// Print full stacks in the summary.
    #[serde(skip)]
    pub trace: bool,
    /// Print every iteration, and the estimates, in the summary.
    #[serde(skip)]
    pub debug: bool,
}

impl Report {
    /// A report of `test` that has swept nothing yet, stamped with [`RECORD_VERSION`].
    pub(crate) fn new(test: String, mode: Mode, strict: bool, trace: bool) -> Report {
        Report {
            version: RECORD_VERSION,
            test,
            binary: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            status: Status::Swept,
            nalloc: 0,
            mode,
            range: None,
            elapsed_ms: 0,
            sequence: String::new(),
            outcomes: BTreeMap::new(),
            findings: Vec::new(),
            message: None,
            iterations: None,
            strategy: None,
            estimates: None,
            dedup: None,
            sample: None,
            incomplete: None,
            coverage: Vec::new(),
            strict,
            trace,
            debug: false,
        }
    }

    /// Whether the check passed: swept completely (or run once, disabled, or with nothing to
    /// sweep) without findings but [allowed](Finding::allowed) ones.
    pub fn passed(&self) -> bool {
        matches!(
            self.status,
            Status::Swept | Status::Disabled | Status::NothingSwept
        ) && self.findings.iter().all(|f| f.allowed.is_some())
            && self.incomplete.is_none()
    }

    /// The findings not [allowed](Finding::allowed): those that fail the check.
    pub fn failing(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.allowed.is_none())
    }

    /// The findings accepted by [`Check::allow`](crate::Check::allow) or
    /// [`Check::allow_site`](crate::Check::allow_site), with their reasons.
    pub fn allowed(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.allowed.is_some())
    }

    /// Panics with [`Report::summary`] unless the check [passed](Report::passed).
    #[track_caller]
    pub fn assert(&self) {
        if !self.passed() {
            panic!("{}", self.summary());
        }
    }

    /// Number of swept indices: the indices with an outcome. For a record read without outcome
    /// counts, the outcome symbols of its sequence, or else the size of its range.
    pub fn swept(&self) -> u64 {
        if !self.outcomes.is_empty() {
            return self.outcomes.values().sum();
        }
        let symbols = self
            .sequence
            .chars()
            .filter(|&c| c != UNSWEPT_SYMBOL)
            .count() as u64;
        match self.range {
            Some([lo, hi])
                if symbols == 0
                    && hi >= lo
                    && self.dedup.is_none()
                    && self.sample.is_none()
                    && self.incomplete.is_none() =>
            {
                hi - lo + 1
            }
            _ => symbols,
        }
    }

    /// Count of one outcome.
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes.get(&outcome).copied().unwrap_or(0)
    }
}

/// One iteration's result, as a sweep child journals it (`R <json>`) and as the sweep collects
/// it, in-process or from a child's death.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IterationResult {
    /// The index.
    pub(crate) alloc: u64,
    pub(crate) outcome: Outcome,
    pub(crate) message: String,
    pub(crate) diff: Option<String>,
    pub(crate) site: Option<Frame>,
    pub(crate) stack: Vec<Frame>,
    /// The tail of the dead process's stderr (added by the supervisor, never journaled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stderr: Option<String>,
    /// Site hash of the failed allocation, when the iteration finished (see `drift.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) site_hash: Option<u64>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn finding_at(outcome: Outcome, function: &str) -> Finding {
        let site = Frame {
            function: function.into(),
            file: Some("src/io.rs".into()),
            line: Some(42),
        };
        Finding {
            alloc: 3,
            outcome,
            site: Some(site.clone()),
            stack: vec![site],
            message: String::new(),
            diff: None,
            stderr: None,
            repro: String::new(),
            in_test_body: false,
            allowed: None,
        }
    }

    #[test]
    fn an_allow_matches_its_outcome_and_site() {
        let abort = Allow {
            outcome: Some(Outcome::Abort),
            site: None,
            reason: "documented".into(),
        };
        let at_io = Allow {
            outcome: None,
            site: Some("src/io.rs:42".into()),
            reason: "io".into(),
        };
        let f = finding_at(Outcome::Abort, "demo::read");
        assert_eq!(
            f.allowed_by(std::slice::from_ref(&abort)).as_deref(),
            Some("documented")
        );
        let w = finding_at(Outcome::WrongError, "demo::read");
        assert_eq!(w.allowed_by(std::slice::from_ref(&abort)), None);
        assert_eq!(w.allowed_by(&[abort, at_io]).as_deref(), Some("io"));
        let by_name = Allow {
            outcome: None,
            site: Some("demo::write".into()),
            reason: "w".into(),
        };
        assert_eq!(w.allowed_by(&[by_name]), None);
    }

    /// A swept report with one finding, for the tests of the report's modules.
    pub(crate) fn report() -> Report {
        let mut outcomes = BTreeMap::new();
        outcomes.insert(Outcome::NoMemory, 2);
        outcomes.insert(Outcome::Abort, 1);
        Report {
            version: RECORD_VERSION,
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
                in_test_body: false,
                allowed: None,
            }],
            message: None,
            iterations: None,
            strict: false,
            trace: false,
            debug: false,
            strategy: None,
            estimates: None,
            dedup: None,
            sample: None,
            incomplete: None,
            coverage: Vec::new(),
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
    fn records_carry_their_version_and_older_ones_read_as_version_0() {
        let v = serde_json::to_value(report()).unwrap();
        assert_eq!(v["version"], RECORD_VERSION);
        let old: Report = serde_json::from_str(r#"{"test":"t","sequence":"."}"#).unwrap();
        assert_eq!(old.version, 0);
        assert!(
            v.get("incomplete").is_none(),
            "written only when incomplete"
        );
    }

    #[test]
    fn records_keep_auto_s_estimates_and_read_without_them() {
        let mut r = report();
        r.strategy = Some(Strategy::Hybrid);
        r.estimates = Some(Estimates {
            alloc_ns: 40.0,
            fork_us: Some(150.0),
            rerun: crate::strategy::Estimate {
                wall_ms: 9.0,
                cpu_ms: 18.0,
            },
            fork: None,
            hybrid: None,
            split: None,
        });
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["strategy"], "hybrid");
        assert_eq!(v["estimates"]["fork_us"], 150.0);
        assert_eq!(v["estimates"]["rerun"]["cpu_ms"], 18.0);
        let back: Report = serde_json::from_value(v).unwrap();
        assert_eq!(back.estimates, r.estimates);
        // Records written before estimates (or by a named strategy) have none; partial ones
        // read with defaults.
        let old: Report = serde_json::from_str(r#"{"test":"t","strategy":"fork"}"#).unwrap();
        assert_eq!((old.strategy, old.estimates), (Some(Strategy::Fork), None));
        let partial: Report =
            serde_json::from_str(r#"{"test":"t","estimates":{"alloc_ns":3}}"#).unwrap();
        let e = partial.estimates.expect("estimates");
        assert_eq!((e.alloc_ns, e.fork_us, e.rerun.wall_ms), (3.0, None, 0.0));
        assert!(serde_json::to_value(report())
            .unwrap()
            .get("estimates")
            .is_none());
    }

    #[test]
    fn swept_counts_outcomes_or_else_what_the_record_shows() {
        let r = |json: &str| serde_json::from_str::<Report>(json).unwrap();
        assert_eq!(report().swept(), 3);
        // Records without outcome counts (the cases `oomcheck run` met).
        assert_eq!(
            r(r#"{"test":"t","range":[1,4],"sequence":"...A"}"#).swept(),
            4
        );
        assert_eq!(r(r#"{"test":"t","sequence":"..t"}"#).swept(), 3);
        assert_eq!(r(r#"{"test":"t","range":[2,5]}"#).swept(), 4);
        assert_eq!(
            r(r#"{"test":"t","range":[1,9],"sequence":"..?",
                 "incomplete":{"reason":"x","indices":[3]}}"#)
            .swept(),
            2
        );
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
    fn assert_passes_only_clean_sweeps() {
        let mut r = report();
        assert!(!r.passed());
        r.findings.clear();
        assert!(r.passed());
        r.status = Status::NoAllocator;
        assert!(!r.passed());
    }
}
