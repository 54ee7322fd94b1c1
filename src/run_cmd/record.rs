//! The injector's report records: one JSON object per test, written to `OOMCHECK_REPORT`.
//!
//! Parsed leniently: unknown fields are ignored and most fields have defaults, so a newer
//! injector still produces readable reports.
use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// What happened to one test's check.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Record {
    /// The libtest name of the test (`module::name`).
    pub test: String,
    /// The test executable.
    #[serde(default)]
    pub binary: Option<String>,
    /// `swept`, `normal-failed`, `unstable-count`, `no-allocator` or `disabled`.
    #[serde(default = "swept")]
    pub status: String,
    /// Allocations counted in the normal run.
    #[serde(default)]
    pub nalloc: Option<u64>,
    /// `transient` or `persistent`.
    #[serde(default)]
    pub mode: Option<String>,
    /// The swept indices, inclusive.
    #[serde(default)]
    pub range: Option<[u64; 2]>,
    /// Wall time of the sweep.
    #[serde(default)]
    pub elapsed_ms: Option<u64>,
    /// One outcome character per swept index.
    #[serde(default)]
    pub sequence: String,
    /// Count of each outcome.
    #[serde(default)]
    pub outcomes: BTreeMap<String, u64>,
    /// Every index whose outcome is a finding.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Why the test was not swept, when it was not.
    #[serde(default)]
    pub message: Option<String>,
    /// Every iteration (only with `OOMCHECK_DEBUG=1`).
    #[serde(default)]
    pub iterations: Vec<Iteration>,
    /// `rerun` or `fork`.
    #[serde(default)]
    pub strategy: Option<String>,
    /// Site dedup's summary, when the sweep was dedup'd.
    #[serde(default)]
    pub dedup: Option<Dedup>,
    /// The sample, when the sweep was sampled.
    #[serde(default)]
    pub sample: Option<Sample>,
}

/// Site dedup's summary in a record.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Dedup {
    /// Distinct sites (the swept indices).
    pub sites: u64,
    /// Indices skipped because their site was swept.
    #[serde(default)]
    pub covered: u64,
}

/// A sampled sweep's sample in a record.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Sample {
    /// Indices asked for.
    pub n: u64,
    /// The seed that replays the choice.
    pub seed: u64,
}

fn swept() -> String {
    "swept".to_string()
}

/// One allocation index whose outcome is a finding.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Finding {
    /// The failed allocation's index (1-based).
    pub alloc: u64,
    /// The outcome (`wrong-error`, `corrupted`, `panic`, `abort`, …).
    pub outcome: String,
    /// The first frame outside std and the injector, when known.
    #[serde(default)]
    pub site: Option<Frame>,
    /// The failed allocation's filtered stack.
    #[serde(default)]
    pub stack: Vec<Frame>,
    /// The error text, panic message or abort reason.
    #[serde(default)]
    pub message: Option<String>,
    /// Unified diff of the output against the normal run (`corrupted`).
    #[serde(default)]
    pub diff: Option<String>,
    /// Captured stderr of the failing run.
    #[serde(default)]
    pub stderr: Option<String>,
    /// A command that reproduces this index alone.
    #[serde(default)]
    pub repro: Option<String>,
}

/// One stack frame.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Frame {
    /// Demangled function path.
    #[serde(default)]
    pub function: Option<String>,
    /// Source file, as the debug info names it.
    #[serde(default)]
    pub file: Option<String>,
    /// 1-based line.
    #[serde(default)]
    pub line: Option<u32>,
}

/// One iteration of the sweep (debug records only).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Iteration {
    /// The failed allocation's index.
    pub alloc: u64,
    /// Its outcome.
    pub outcome: String,
    /// The error text or other detail.
    #[serde(default)]
    pub message: Option<String>,
    /// Diff against the normal run, if any.
    #[serde(default)]
    pub diff: Option<String>,
    /// Captured stderr, if any.
    #[serde(default)]
    pub stderr: Option<String>,
}

impl Record {
    /// Whether this record makes the run fail: findings, or a check that could not sweep.
    pub fn is_failure(&self) -> bool {
        !self.findings.is_empty()
            || matches!(self.status.as_str(), "normal-failed" | "unstable-count")
    }

    /// Number of swept indices.
    pub fn swept_count(&self) -> u64 {
        if self.dedup.is_some() || self.sample.is_some() {
            // Only some indices of the range were swept: one character each.
            return self.sequence.chars().count() as u64;
        }
        match self.range {
            Some([a, b]) if b >= a => b - a + 1,
            _ => self.sequence.chars().count() as u64,
        }
    }
}

/// A record read from disk: the parsed form and the raw JSON (re-emitted by `--format json`).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Parsed record.
    pub record: Record,
    /// The object exactly as the injector wrote it.
    pub raw: serde_json::Value,
}

/// Read one record file.
pub fn load(path: &Path) -> Result<Loaded, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    parse(&text)
}

/// Parse one record's text.
pub fn parse(text: &str) -> Result<Loaded, String> {
    let raw: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let record = Record::deserialize(&raw).map_err(|e| e.to_string())?;
    Ok(Loaded { record, raw })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"test":"domain_survives_oom","binary":"/t/oom-1","status":"swept",
      "nalloc":4,"mode":"transient","range":[1,4],"elapsed_ms":12,"sequence":".W.A",
      "outcomes":{"no-memory":2,"wrong-error":1,"abort":1},
      "findings":[{"alloc":2,"outcome":"wrong-error","site":{"function":"demo::parse","file":"/s/lib.rs","line":12},
        "stack":[],"message":"Parse(\"x\")","diff":null,"stderr":null,"repro":"OOMCHECK=1 OOMCHECK_ALLOC=2 cargo test -- domain_survives_oom --exact"},
        {"alloc":4,"outcome":"abort","site":null,"message":"memory allocation of 8 bytes failed","future":1}],
      "message":null, "schema": 7}"#;

    #[test]
    fn parses_a_record_and_ignores_unknown_fields() {
        let loaded = parse(SAMPLE).expect("valid record");
        let r = &loaded.record;
        assert_eq!(r.test, "domain_survives_oom");
        assert_eq!(r.nalloc, Some(4));
        assert_eq!(r.swept_count(), 4);
        assert_eq!(r.outcomes["wrong-error"], 1);
        assert_eq!(r.findings.len(), 2);
        assert_eq!(r.findings[0].site.as_ref().and_then(|s| s.line), Some(12));
        assert!(r.findings[1].site.is_none());
        assert!(r.is_failure());
        assert_eq!(loaded.raw["schema"], 7);
    }

    #[test]
    fn statuses_decide_failure() {
        let r = parse(r#"{"test":"t","status":"normal-failed","message":"Err(Parse)"}"#).unwrap();
        assert!(r.record.is_failure());
        let r = parse(r#"{"test":"t","status":"swept","sequence":"..t"}"#).unwrap();
        assert!(!r.record.is_failure());
        assert_eq!(r.record.swept_count(), 3);
        assert!(
            parse(r#"{"status":"swept"}"#).is_err(),
            "a record needs its test name"
        );
        assert!(parse("{").is_err());
    }
}
