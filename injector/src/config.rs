//! Settings of one check: builder values, overridden by the `OOMCHECK_*` environment variables
//! that `oomcheck run` (or a user) sets.

use std::fmt;
use std::time::Duration;

/// Which allocations a sweep iteration fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Fail only allocation *i*; later allocations succeed (a failure the code may recover from).
    #[default]
    Transient,
    /// Fail allocation *i* and every later one (memory stays exhausted).
    Persistent,
}

impl Mode {
    /// The mode's name as used by `OOMCHECK_MODE` and the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Transient => "transient",
            Mode::Persistent => "persistent",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An inclusive, 1-based range of allocation indices; `hi == None` means "up to the last one".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AllocRange {
    pub(crate) lo: u64,
    pub(crate) hi: Option<u64>,
}

impl AllocRange {
    /// Every allocation.
    pub(crate) const ALL: AllocRange = AllocRange { lo: 1, hi: None };

    /// Parses `17`, `7-10`, `7-` or `-10`.
    pub(crate) fn parse(text: &str) -> Option<AllocRange> {
        let text = text.trim();
        let num = |s: &str| -> Option<u64> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok().filter(|&n| n >= 1)
        };
        let range = match text.split_once('-') {
            None => {
                let n = num(text)?;
                AllocRange { lo: n, hi: Some(n) }
            }
            Some((a, b)) if a.trim().is_empty() && b.trim().is_empty() => return None,
            Some((a, b)) => AllocRange {
                lo: if a.trim().is_empty() { 1 } else { num(a)? },
                hi: if b.trim().is_empty() {
                    None
                } else {
                    Some(num(b)?)
                },
            },
        };
        if a_after_b(range) {
            return None;
        }
        Some(range)
    }

    /// The indices of this range that exist in a body making `nalloc` allocations, or `None` when
    /// none does.
    pub(crate) fn clamp(self, nalloc: u64) -> Option<(u64, u64)> {
        let hi = self.hi.unwrap_or(nalloc).min(nalloc);
        (self.lo <= hi).then_some((self.lo, hi))
    }
}

fn a_after_b(r: AllocRange) -> bool {
    matches!(r.hi, Some(hi) if hi < r.lo)
}

/// A usage error in one `OOMCHECK_*` variable: the check panics with it, which is how a test
/// harness reports a usage error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvError {
    pub(crate) var: &'static str,
    pub(crate) value: String,
    pub(crate) expected: &'static str,
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "oomcheck: invalid {}={:?}: expected {}",
            self.var, self.value, self.expected
        )
    }
}

/// Values read from the environment; `None` where the variable is unset or empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EnvSettings {
    pub(crate) enabled: bool,
    pub(crate) range: Option<AllocRange>,
    pub(crate) mode: Option<Mode>,
    pub(crate) jobs: Option<usize>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) trace: bool,
    pub(crate) debug: bool,
    pub(crate) strict: Option<bool>,
    pub(crate) report_dir: Option<std::path::PathBuf>,
    /// `OOMCHECK_DEDUP`: `site` (true) or `none` (false).
    pub(crate) dedup: Option<bool>,
    pub(crate) dedup_depth: Option<usize>,
    pub(crate) sample: Option<u64>,
    pub(crate) seed: Option<u64>,
    pub(crate) strategy: Option<crate::strategy::Strategy>,
}

impl EnvSettings {
    /// Reads the process environment.
    pub(crate) fn from_env() -> Result<EnvSettings, EnvError> {
        Self::from_lookup(|k| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned()))
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let var = |name: &'static str| get(name).filter(|v| !v.trim().is_empty());
        let err = |var: &'static str, value: &str, expected: &'static str| EnvError {
            var,
            value: value.to_string(),
            expected,
        };
        let flag = |name: &'static str| -> Result<Option<bool>, EnvError> {
            match var(name) {
                None => Ok(None),
                Some(v) => parse_bool(&v)
                    .map(Some)
                    .ok_or_else(|| err(name, &v, "1 or 0 (also true/false, yes/no, on/off)")),
            }
        };
        let range = match var("OOMCHECK_ALLOC") {
            None => None,
            Some(v) => Some(AllocRange::parse(&v).ok_or_else(|| {
                err(
                    "OOMCHECK_ALLOC",
                    &v,
                    "an allocation index like `17` or an inclusive range like `7-10` (indices start at 1)",
                )
            })?),
        };
        let mode = match var("OOMCHECK_MODE") {
            None => None,
            Some(v) => Some(match v.trim().to_ascii_lowercase().as_str() {
                "transient" => Mode::Transient,
                "persistent" => Mode::Persistent,
                _ => return Err(err("OOMCHECK_MODE", &v, "`transient` or `persistent`")),
            }),
        };
        let jobs = match var("OOMCHECK_JOBS") {
            None => None,
            Some(v) => Some(
                v.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|&j| j >= 1)
                    .ok_or_else(|| err("OOMCHECK_JOBS", &v, "a number of jobs, at least 1"))?,
            ),
        };
        let timeout = match var("OOMCHECK_TIMEOUT") {
            None => None,
            Some(v) => Some(parse_duration(&v).ok_or_else(|| {
                err(
                    "OOMCHECK_TIMEOUT",
                    &v,
                    "a per-iteration timeout in seconds like `10` or `0.5`, or with a unit like `500ms`",
                )
            })?),
        };
        let number = |name: &'static str, min: u64, expected: &'static str| match var(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|&n| n >= min)
                .map(Some)
                .ok_or_else(|| err(name, &v, expected)),
        };
        let dedup = match var("OOMCHECK_DEDUP") {
            None => None,
            Some(v) => Some(match v.trim().to_ascii_lowercase().as_str() {
                "site" | "sites" => true,
                "none" | "off" | "0" => false,
                _ => return Err(err("OOMCHECK_DEDUP", &v, "`site` or `none`")),
            }),
        };
        let strategy = match var("OOMCHECK_STRATEGY") {
            None => None,
            Some(v) => Some(
                crate::strategy::Strategy::parse(&v)
                    .ok_or_else(|| err("OOMCHECK_STRATEGY", &v, "`auto`, `rerun` or `fork`"))?,
            ),
        };
        Ok(EnvSettings {
            dedup,
            dedup_depth: number(
                "OOMCHECK_DEDUP_DEPTH",
                1,
                "a number of return addresses, at least 1",
            )?
            .map(|d| d.min(crate::alloc::MAX_FRAMES as u64) as usize),
            sample: number(
                "OOMCHECK_SAMPLE",
                1,
                "a number of indices to sample, at least 1",
            )?,
            seed: number(
                "OOMCHECK_SEED",
                0,
                "a seed: a whole number from 0 to 2^64-1",
            )?,
            strategy,
            enabled: flag("OOMCHECK")?.unwrap_or(false),
            range,
            mode,
            jobs,
            timeout,
            trace: flag("OOMCHECK_TRACE")?.unwrap_or(false),
            debug: flag("OOMCHECK_DEBUG")?.unwrap_or(false),
            strict: flag("OOMCHECK_STRICT")?,
            report_dir: get("OOMCHECK_REPORT")
                .filter(|v| !v.is_empty())
                .map(std::path::PathBuf::from),
        })
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Parses `10`, `0.5`, `10s`, `500ms`, `2m`.
pub(crate) fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    let (num, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60.0)
    } else {
        (v, 1.0)
    };
    let secs: f64 = num.trim().parse().ok()?;
    let secs = secs * scale;
    (secs.is_finite() && secs > 0.0 && secs < 1.0e9).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn parses_single_index_and_ranges() {
        assert_eq!(
            AllocRange::parse("17"),
            Some(AllocRange {
                lo: 17,
                hi: Some(17)
            })
        );
        assert_eq!(
            AllocRange::parse(" 7-10 "),
            Some(AllocRange {
                lo: 7,
                hi: Some(10)
            })
        );
        assert_eq!(
            AllocRange::parse("7-"),
            Some(AllocRange { lo: 7, hi: None })
        );
        assert_eq!(
            AllocRange::parse("-3"),
            Some(AllocRange { lo: 1, hi: Some(3) })
        );
    }

    #[test]
    fn rejects_bad_ranges() {
        for bad in [
            "", "0", "abc", "10-7", "1-2-3", "+4", "4.5", "-", "1-x", "0-3",
        ] {
            assert_eq!(AllocRange::parse(bad), None, "{bad:?} must be rejected");
        }
    }

    #[test]
    fn clamps_to_the_counted_allocations() {
        let r = AllocRange::parse("7-10").unwrap();
        assert_eq!(r.clamp(42), Some((7, 10)));
        assert_eq!(r.clamp(8), Some((7, 8)));
        assert_eq!(r.clamp(6), None);
        assert_eq!(AllocRange::ALL.clamp(3), Some((1, 3)));
        assert_eq!(AllocRange::ALL.clamp(0), None);
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("10"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), None);
        assert_eq!(parse_duration("-1"), None);
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("inf"), None);
    }

    fn env(pairs: &[(&str, &str)]) -> Result<EnvSettings, EnvError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvSettings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn reads_every_variable() {
        let s = env(&[
            ("OOMCHECK", "1"),
            ("OOMCHECK_ALLOC", "7-10"),
            ("OOMCHECK_MODE", "persistent"),
            ("OOMCHECK_JOBS", "3"),
            ("OOMCHECK_TIMEOUT", "2"),
            ("OOMCHECK_TRACE", "yes"),
            ("OOMCHECK_DEBUG", "true"),
            ("OOMCHECK_STRICT", "1"),
            ("OOMCHECK_REPORT", "/tmp/r"),
            ("OOMCHECK_DEDUP", "site"),
            ("OOMCHECK_DEDUP_DEPTH", "6"),
            ("OOMCHECK_SAMPLE", "100"),
            ("OOMCHECK_SEED", "42"),
            ("OOMCHECK_STRATEGY", "fork"),
        ])
        .unwrap();
        assert_eq!(s.dedup, Some(true));
        assert_eq!(s.dedup_depth, Some(6));
        assert_eq!(s.sample, Some(100));
        assert_eq!(s.seed, Some(42));
        assert_eq!(s.strategy, Some(crate::strategy::Strategy::Fork));
        assert!(s.enabled && s.trace && s.debug);
        assert_eq!(
            s.range,
            Some(AllocRange {
                lo: 7,
                hi: Some(10)
            })
        );
        assert_eq!(s.mode, Some(Mode::Persistent));
        assert_eq!(s.jobs, Some(3));
        assert_eq!(s.timeout, Some(Duration::from_secs(2)));
        assert_eq!(s.strict, Some(true));
        assert_eq!(
            s.report_dir.as_deref(),
            Some(std::path::Path::new("/tmp/r"))
        );
        assert_eq!(env(&[]).unwrap(), EnvSettings::default());
    }

    #[test]
    fn names_the_variable_and_the_accepted_form() {
        let e = env(&[("OOMCHECK_ALLOC", "ten")]).unwrap_err();
        assert_eq!(e.var, "OOMCHECK_ALLOC");
        let text = e.to_string();
        assert!(text.contains("OOMCHECK_ALLOC=\"ten\""), "{text}");
        assert!(text.contains("`7-10`"), "{text}");
        assert_eq!(
            env(&[("OOMCHECK_MODE", "sometimes")]).unwrap_err().var,
            "OOMCHECK_MODE"
        );
        assert_eq!(
            env(&[("OOMCHECK_JOBS", "0")]).unwrap_err().var,
            "OOMCHECK_JOBS"
        );
        assert_eq!(env(&[("OOMCHECK", "maybe")]).unwrap_err().var, "OOMCHECK");
        for (var, bad) in [
            ("OOMCHECK_DEDUP", "stack"),
            ("OOMCHECK_DEDUP_DEPTH", "0"),
            ("OOMCHECK_SAMPLE", "0"),
            ("OOMCHECK_SAMPLE", "lots"),
            ("OOMCHECK_SEED", "-1"),
            ("OOMCHECK_STRATEGY", "spoon"),
        ] {
            assert_eq!(env(&[(var, bad)]).unwrap_err().var, var, "{var}={bad}");
        }
        assert_eq!(
            env(&[("OOMCHECK_DEDUP", "none")]).unwrap().dedup,
            Some(false)
        );
        assert_eq!(
            env(&[("OOMCHECK_TIMEOUT", "soon")]).unwrap_err().var,
            "OOMCHECK_TIMEOUT"
        );
    }
}
