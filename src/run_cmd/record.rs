//! The injector's report records: one JSON object per test, written to `OOMCHECK_REPORT`.
//!
//! The schema is the injector's own [`Report`] (and its [`Finding`](oomcheck_injector::Finding),
//! [`Frame`](oomcheck_injector::Frame), …), read leniently: unknown fields are ignored and a
//! missing field takes its default, so records of another injector version still read.
use std::path::Path;

use oomcheck_injector::{Report, Status};
use serde::Deserialize;

/// Whether this record makes the run fail: findings, a check that could not sweep, or a sweep
/// cut short (indices left unswept).
pub fn is_failure(r: &Report) -> bool {
    r.failing().next().is_some()
        || r.incomplete.is_some()
        || matches!(r.status, Status::NormalFailed | Status::UnstableCount)
}

/// A record read from disk: the parsed form and the raw JSON (re-emitted by `--format json`).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Parsed record.
    pub record: Report,
    /// The object exactly as the injector wrote it.
    pub raw: serde_json::Value,
}

/// Why a record file did not read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file could not be read.
    #[error(transparent)]
    Read(#[from] std::io::Error),
    /// The text is not JSON, or not a record (a required field is missing or mistyped).
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// Read one record file.
pub fn load(path: &Path) -> Result<Loaded, RecordError> {
    parse(&std::fs::read_to_string(path)?)
}

/// Parse one record's text.
pub fn parse(text: &str) -> Result<Loaded, RecordError> {
    let raw: serde_json::Value = serde_json::from_str(text)?;
    let record = Report::deserialize(&raw)?;
    Ok(Loaded { record, raw })
}

#[cfg(test)]
mod tests {
    use super::*;
    use oomcheck_injector::Outcome;

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
        assert_eq!(r.nalloc, 4);
        assert_eq!(r.swept(), 4);
        assert_eq!(r.outcomes[&Outcome::WrongError], 1);
        assert_eq!(r.findings.len(), 2);
        assert_eq!(r.findings[0].site.as_ref().and_then(|s| s.line), Some(12));
        assert!(r.findings[1].site.is_none());
        assert!(is_failure(r));
        assert_eq!(loaded.raw["schema"], 7);
    }

    #[test]
    fn statuses_decide_failure() {
        let r = parse(r#"{"test":"t","status":"normal-failed","message":"Err(Parse)"}"#).unwrap();
        assert!(is_failure(&r.record));
        let r = parse(r#"{"test":"t","status":"swept","sequence":"..t"}"#).unwrap();
        assert!(!is_failure(&r.record));
        assert_eq!(r.record.swept(), 3);
        let r = parse(
            r#"{"test":"t","status":"swept","sequence":".?","incomplete":
               {"reason":"cannot start a sweep child","indices":[2]}}"#,
        )
        .unwrap();
        assert!(is_failure(&r.record), "an index left unswept fails the run");
        let r = parse(r#"{"test":"t","status":"no-allocator"}"#).unwrap();
        assert!(!is_failure(&r.record), "reported apart, as a usage error");
        assert!(
            parse(r#"{"status":"swept"}"#).is_err(),
            "a record needs its test name"
        );
        assert!(parse("{").is_err());
    }
}
