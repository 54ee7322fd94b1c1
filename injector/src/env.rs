//! Every `OOMCHECK_*` environment variable, named once, with the parse and the render of each
//! setting side by side: [`Settings`] for the variables a user (or `oomcheck run`) sets,
//! `ChildRequest` for those a supervisor sets on its sweep children.
//!
//! A check reads the variables with [`Settings::from_env`]; whoever starts test processes (the
//! `oomcheck run` command, or the supervisor starting sweep children) writes them with
//! [`Settings::to_env`], so that both sides agree on every name and form.

use crate::allow::Allow;
use crate::frames::MAX_FRAMES;
use crate::options::{Dedup, Mode};
use crate::range::AllocRange;
use crate::selection::IndexSet;
use crate::strategy::Strategy;
use std::path::PathBuf;
use std::time::Duration;

/// `1` sweeps (otherwise a check runs its body once).
pub const OOMCHECK: &str = "OOMCHECK";
/// The allocation range, in [`AllocRange`]'s grammar (`17`, `7-10`).
pub const OOMCHECK_ALLOC: &str = "OOMCHECK_ALLOC";
/// The [`Mode`]: `transient` or `persistent`.
pub const OOMCHECK_MODE: &str = "OOMCHECK_MODE";
/// Most sweep processes per check.
pub const OOMCHECK_JOBS: &str = "OOMCHECK_JOBS";
/// Per-iteration timeout: seconds (`10`, `0.5`) or with a unit (`500ms`, `2m`).
pub const OOMCHECK_TIMEOUT: &str = "OOMCHECK_TIMEOUT";
/// `1`: full stacks in the summary.
pub const OOMCHECK_TRACE: &str = "OOMCHECK_TRACE";
/// `1`: every iteration in the summary and the record, and the strategy's estimates.
pub const OOMCHECK_DEBUG: &str = "OOMCHECK_DEBUG";
/// `1`: `tolerated` is a finding.
pub const OOMCHECK_STRICT: &str = "OOMCHECK_STRICT";
/// `1`: every swept index's failed allocation is located and its stack kept in the record's
/// `coverage` (what `oomcheck report` joins with the analyzer's sites; `oomcheck run` sets it).
pub const OOMCHECK_COVERAGE: &str = "OOMCHECK_COVERAGE";
/// A directory receiving one JSON record per check.
pub const OOMCHECK_REPORT: &str = "OOMCHECK_REPORT";
/// The [`Dedup`] choice: `site` or `none`.
pub const OOMCHECK_DEDUP: &str = "OOMCHECK_DEDUP";
/// Return addresses hashed into a site id (at most [`MAX_FRAMES`]).
pub const OOMCHECK_DEDUP_DEPTH: &str = "OOMCHECK_DEDUP_DEPTH";
/// Sweep this many indices chosen at random.
pub const OOMCHECK_SAMPLE: &str = "OOMCHECK_SAMPLE";
/// The seed of the sample (replays one).
pub const OOMCHECK_SEED: &str = "OOMCHECK_SEED";
/// The [`Strategy`]: `auto`, `rerun`, `fork` or `hybrid`.
pub const OOMCHECK_STRATEGY: &str = "OOMCHECK_STRATEGY";
/// With the `hybrid` strategy, the last index re-run (later ones fork) instead of the split
/// estimated from the measured costs.
pub const OOMCHECK_HYBRID_SPLIT: &str = "OOMCHECK_HYBRID_SPLIT";
/// A directory of job token files: a process budget shared by every check of a run.
pub const OOMCHECK_JOB_TOKENS: &str = "OOMCHECK_JOB_TOKENS";
/// Extra names that mean "out of memory" for the default NoMemory predicate, comma-separated
/// (`oomcheck run` passes the crate's `no-memory-names` configuration here).
pub const OOMCHECK_NO_MEMORY_NAMES: &str = "OOMCHECK_NO_MEMORY_NAMES";
/// Expected outcomes accepted with a reason, as a JSON array of [`Allow`] (`oomcheck run`
/// passes the crate's `[[run.allow]]` here): `[{"outcome":"abort","reason":"documented"}]`.
pub const OOMCHECK_ALLOW: &str = "OOMCHECK_ALLOW";

/// Every variable of [`Settings`], for a launcher that removes those it does not set.
pub const VARIABLES: [&str; 19] = [
    OOMCHECK,
    OOMCHECK_ALLOC,
    OOMCHECK_MODE,
    OOMCHECK_JOBS,
    OOMCHECK_TIMEOUT,
    OOMCHECK_TRACE,
    OOMCHECK_DEBUG,
    OOMCHECK_STRICT,
    OOMCHECK_REPORT,
    OOMCHECK_DEDUP,
    OOMCHECK_DEDUP_DEPTH,
    OOMCHECK_SAMPLE,
    OOMCHECK_SEED,
    OOMCHECK_STRATEGY,
    OOMCHECK_HYBRID_SPLIT,
    OOMCHECK_JOB_TOKENS,
    OOMCHECK_NO_MEMORY_NAMES,
    OOMCHECK_ALLOW,
    OOMCHECK_COVERAGE,
];

/// Sweep children: the journal file (its presence makes a process a sweep child).
pub(crate) const OOMCHECK_CHILD_JOURNAL: &str = "OOMCHECK_CHILD_JOURNAL";
/// Sweep children: the test being swept.
pub(crate) const OOMCHECK_CHILD_TEST: &str = "OOMCHECK_CHILD_TEST";
/// Sweep children: the ordinal of the check within the test.
pub(crate) const OOMCHECK_CHILD_CHECK: &str = "OOMCHECK_CHILD_CHECK";
/// Sweep children: the child's share of the range ([`IndexSet::encode`]).
pub(crate) const OOMCHECK_CHILD_SET: &str = "OOMCHECK_CHILD_SET";
/// Sweep children: `1` captures stacks in the first index (re-running a crash to find its site).
pub(crate) const OOMCHECK_CHILD_CAPTURE: &str = "OOMCHECK_CHILD_CAPTURE";
/// Sweep children: the process id of the supervisor.
pub(crate) const OOMCHECK_CHILD_PARENT: &str = "OOMCHECK_CHILD_PARENT";
/// Sweep children: a file listing the indices to sweep (the others of the set are skipped).
pub(crate) const OOMCHECK_CHILD_SELECT: &str = "OOMCHECK_CHILD_SELECT";
/// Sweep children: run the fork strategy with this many forked processes alive at most.
pub(crate) const OOMCHECK_CHILD_FORK: &str = "OOMCHECK_CHILD_FORK";

/// A malformed `OOMCHECK_*` variable: a check panics with it, which is how a test harness
/// reports a usage error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("oomcheck: invalid {var}={value:?}: expected {expected}")]
pub struct EnvError {
    /// The variable.
    pub var: &'static str,
    /// Its value.
    pub value: String,
    /// The accepted form.
    pub expected: &'static str,
}

/// The settings of a check that the environment can give: each field is one variable, `None`
/// (or `false`) where it is unset or empty. In a check they override the builder's values.
///
/// ```
/// use oomcheck_injector::{env, Mode, Settings};
///
/// let settings = Settings {
///     enabled: true,
///     mode: Some(Mode::Persistent),
///     range: Some("7-10".parse().unwrap()),
///     ..Settings::default()
/// };
/// let vars = settings.to_env();
/// assert_eq!(
///     vars,
///     [
///         (env::OOMCHECK, "1".to_string()),
///         (env::OOMCHECK_ALLOC, "7-10".to_string()),
///         (env::OOMCHECK_MODE, "persistent".to_string()),
///     ]
/// );
/// let read = Settings::from_lookup(|k| {
///     vars.iter().find(|(name, _)| *name == k).map(|(_, v)| v.clone())
/// });
/// assert_eq!(read, Ok(settings));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// [`OOMCHECK`]: sweep.
    pub enabled: bool,
    /// [`OOMCHECK_REPORT`]: the directory of the JSON records.
    pub report_dir: Option<PathBuf>,
    /// [`OOMCHECK_JOB_TOKENS`]: the shared job budget's token directory.
    pub job_tokens: Option<PathBuf>,
    /// [`OOMCHECK_ALLOC`]: the swept range.
    pub range: Option<AllocRange>,
    /// [`OOMCHECK_MODE`].
    pub mode: Option<Mode>,
    /// [`OOMCHECK_JOBS`]: at least 1.
    pub jobs: Option<usize>,
    /// [`OOMCHECK_TIMEOUT`]: per iteration.
    pub timeout: Option<Duration>,
    /// [`OOMCHECK_DEDUP`].
    pub dedup: Option<Dedup>,
    /// [`OOMCHECK_DEDUP_DEPTH`]: 1 to [`MAX_FRAMES`] (larger values read as [`MAX_FRAMES`]).
    pub dedup_depth: Option<usize>,
    /// [`OOMCHECK_SAMPLE`]: at least 1.
    pub sample: Option<u64>,
    /// [`OOMCHECK_SEED`].
    pub seed: Option<u64>,
    /// [`OOMCHECK_STRATEGY`].
    pub strategy: Option<Strategy>,
    /// [`OOMCHECK_HYBRID_SPLIT`]: at least 1.
    pub hybrid_split: Option<u64>,
    /// [`OOMCHECK_TRACE`].
    pub trace: bool,
    /// [`OOMCHECK_DEBUG`].
    pub debug: bool,
    /// [`OOMCHECK_COVERAGE`].
    pub coverage: bool,
    /// [`OOMCHECK_STRICT`].
    pub strict: Option<bool>,
    /// [`OOMCHECK_NO_MEMORY_NAMES`]: names the default NoMemory predicate accepts besides the
    /// rule packs'.
    pub no_memory_names: Vec<String>,
    /// [`OOMCHECK_ALLOW`]: expected outcomes, added to the check's own.
    pub allow: Vec<Allow>,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, EnvError> {
        Self::from_lookup(|k| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned()))
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, EnvError> {
        let get = &get;
        Ok(Settings {
            enabled: parse(get, OOMCHECK, FLAG, parse_bool)?.unwrap_or(false),
            report_dir: get(OOMCHECK_REPORT)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            job_tokens: get(OOMCHECK_JOB_TOKENS)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            range: parse(
                get,
                OOMCHECK_ALLOC,
                "an allocation index like `17` or an inclusive range like `7-10` (indices start at 1)",
                |v| v.parse().ok(),
            )?,
            mode: parse(get, OOMCHECK_MODE, "`transient` or `persistent`", |v| {
                v.parse().ok()
            })?,
            jobs: parse(get, OOMCHECK_JOBS, "a number of jobs, at least 1", |v| {
                v.trim().parse().ok().filter(|&j: &usize| j >= 1)
            })?,
            timeout: parse(
                get,
                OOMCHECK_TIMEOUT,
                "a per-iteration timeout in seconds like `10` or `0.5`, or with a unit like `500ms`",
                parse_duration,
            )?,
            dedup: parse(get, OOMCHECK_DEDUP, "`site` or `none`", |v| v.parse().ok())?,
            dedup_depth: parse(
                get,
                OOMCHECK_DEDUP_DEPTH,
                "a number of return addresses, at least 1",
                |v| number(v, 1),
            )?
            .map(|d| d.min(MAX_FRAMES as u64) as usize),
            sample: parse(
                get,
                OOMCHECK_SAMPLE,
                "a number of indices to sample, at least 1",
                |v| number(v, 1),
            )?,
            seed: parse(
                get,
                OOMCHECK_SEED,
                "a seed: a whole number from 0 to 2^64-1",
                |v| number(v, 0),
            )?,
            strategy: parse(
                get,
                OOMCHECK_STRATEGY,
                "`auto`, `rerun`, `fork` or `hybrid`",
                |v| v.parse().ok(),
            )?,
            hybrid_split: parse(
                get,
                OOMCHECK_HYBRID_SPLIT,
                "an allocation index, at least 1",
                |v| number(v, 1),
            )?,
            trace: parse(get, OOMCHECK_TRACE, FLAG, parse_bool)?.unwrap_or(false),
            debug: parse(get, OOMCHECK_DEBUG, FLAG, parse_bool)?.unwrap_or(false),
            coverage: parse(get, OOMCHECK_COVERAGE, FLAG, parse_bool)?.unwrap_or(false),
            strict: parse(get, OOMCHECK_STRICT, FLAG, parse_bool)?,
            no_memory_names: get(OOMCHECK_NO_MEMORY_NAMES)
                .map(|v| parse_names(&v))
                .unwrap_or_default(),
            allow: parse(
                get,
                OOMCHECK_ALLOW,
                "a JSON array like `[{\"outcome\":\"abort\",\"site\":\"src/io.rs\",\"reason\":\"documented\"}]`",
                |v| serde_json::from_str(v).ok(),
            )?
            .unwrap_or_default(),
        })
    }

    /// The variables that give these settings, in a fixed order; unset settings (`None`,
    /// `false`) are left out. [`Settings::from_lookup`] reads them back to equal settings (but
    /// for durations finer than a millisecond, and depths above [`MAX_FRAMES`]).
    pub fn to_env(&self) -> Vec<(&'static str, String)> {
        let mut env = Vec::new();
        let mut set = |var: &'static str, value: Option<String>| {
            if let Some(value) = value {
                env.push((var, value));
            }
        };
        let flag = |on: bool| on.then(|| "1".to_string());
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        set(OOMCHECK, flag(self.enabled));
        set(OOMCHECK_REPORT, path(&self.report_dir));
        set(OOMCHECK_JOB_TOKENS, path(&self.job_tokens));
        set(OOMCHECK_COVERAGE, flag(self.coverage));
        set(OOMCHECK_ALLOC, self.range.map(|r| r.to_string()));
        set(OOMCHECK_MODE, self.mode.map(|m| m.to_string()));
        set(OOMCHECK_JOBS, self.jobs.map(|j| j.to_string()));
        set(OOMCHECK_TIMEOUT, self.timeout.map(render_duration));
        set(OOMCHECK_DEDUP, self.dedup.map(|d| d.to_string()));
        set(
            OOMCHECK_DEDUP_DEPTH,
            self.dedup_depth.map(|d| d.to_string()),
        );
        set(OOMCHECK_SAMPLE, self.sample.map(|n| n.to_string()));
        set(OOMCHECK_SEED, self.seed.map(|s| s.to_string()));
        set(OOMCHECK_STRATEGY, self.strategy.map(|s| s.to_string()));
        set(
            OOMCHECK_HYBRID_SPLIT,
            self.hybrid_split.map(|s| s.to_string()),
        );
        set(OOMCHECK_TRACE, flag(self.trace));
        set(OOMCHECK_DEBUG, flag(self.debug));
        set(
            OOMCHECK_STRICT,
            self.strict.map(|s| if s { "1" } else { "0" }.to_string()),
        );
        set(
            OOMCHECK_NO_MEMORY_NAMES,
            (!self.no_memory_names.is_empty()).then(|| self.no_memory_names.join(",")),
        );
        set(
            OOMCHECK_ALLOW,
            (!self.allow.is_empty())
                .then(|| serde_json::to_string(&self.allow).unwrap_or_default()),
        );
        env
    }

    /// These settings (the environment's) over `base` (a builder's): each setting this one
    /// leaves unset comes from `base`.
    pub fn over(&self, base: &Settings) -> Settings {
        Settings {
            enabled: self.enabled || base.enabled,
            report_dir: self.report_dir.clone().or_else(|| base.report_dir.clone()),
            job_tokens: self.job_tokens.clone().or_else(|| base.job_tokens.clone()),
            range: self.range.or(base.range),
            mode: self.mode.or(base.mode),
            jobs: self.jobs.or(base.jobs),
            timeout: self.timeout.or(base.timeout),
            dedup: self.dedup.or(base.dedup),
            dedup_depth: self.dedup_depth.or(base.dedup_depth),
            sample: self.sample.or(base.sample),
            seed: self.seed.or(base.seed),
            strategy: self.strategy.or(base.strategy),
            hybrid_split: self.hybrid_split.or(base.hybrid_split),
            trace: self.trace || base.trace,
            debug: self.debug || base.debug,
            coverage: self.coverage || base.coverage,
            strict: self.strict.or(base.strict),
            no_memory_names: if self.no_memory_names.is_empty() {
                base.no_memory_names.clone()
            } else {
                self.no_memory_names.clone()
            },
            allow: self.allow.iter().chain(&base.allow).cloned().collect(),
        }
    }
}

/// The names of an [`OOMCHECK_NO_MEMORY_NAMES`] value: comma-separated, blanks ignored, a path
/// (`my::Exhausted`) kept as its last segment.
pub fn parse_names(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|n| {
            n.trim()
                .rsplit("::")
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// What a boolean variable accepts.
const FLAG: &str = "1 or 0 (also true/false, yes/no, on/off)";

/// Reads variable `var` through `get` with `parse`; unset or blank is `None`, and a value `parse`
/// refuses is an [`EnvError`] naming `expected`.
fn parse<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    expected: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, EnvError> {
    match get(var).filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(v) => parse(&v).map(Some).ok_or(EnvError {
            var,
            value: v,
            expected,
        }),
    }
}

/// A whole number of at least `min`.
fn number(v: &str, min: u64) -> Option<u64> {
    v.trim().parse::<u64>().ok().filter(|&n| n >= min)
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Parses `10`, `0.5`, `10s`, `500ms`, `2m`.
fn parse_duration(v: &str) -> Option<Duration> {
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

/// `10` for whole seconds, `500ms` for whole milliseconds, else fractional seconds.
fn render_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        d.as_secs().to_string()
    } else if d.subsec_nanos().is_multiple_of(1_000_000) {
        format!("{}ms", d.as_millis())
    } else {
        d.as_secs_f64().to_string()
    }
}

/// What a supervisor asks of a sweep child: the variables that make a test process one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChildRequest {
    /// The journal file.
    pub(crate) journal: PathBuf,
    /// The test being swept.
    pub(crate) test: String,
    /// The ordinal of the check within the test.
    pub(crate) ordinal: u32,
    /// The child's share of the range.
    pub(crate) set: IndexSet,
    /// Capture stacks while running the first index.
    pub(crate) capture_first: bool,
    /// The supervisor's process id, when it said.
    pub(crate) parent: Option<i32>,
    /// The file listing the indices to sweep, with site dedup or sampling.
    pub(crate) select: Option<PathBuf>,
    /// Run the fork strategy with this many forked processes alive at most.
    pub(crate) fork_jobs: Option<usize>,
}

impl ChildRequest {
    /// Whether this process is a sweep child (of any check).
    pub(crate) fn in_child() -> bool {
        std::env::var_os(OOMCHECK_CHILD_JOURNAL).is_some()
    }

    /// The request in the environment, if this process is a sweep child and the request is whole.
    pub(crate) fn from_env() -> Option<ChildRequest> {
        Self::from_lookup(|k| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned()))
    }

    /// Reads a request through `get`.
    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Option<ChildRequest> {
        Some(ChildRequest {
            journal: PathBuf::from(get(OOMCHECK_CHILD_JOURNAL)?),
            test: get(OOMCHECK_CHILD_TEST)?,
            ordinal: get(OOMCHECK_CHILD_CHECK)?.parse().ok()?,
            set: IndexSet::decode(&get(OOMCHECK_CHILD_SET)?)?,
            capture_first: get(OOMCHECK_CHILD_CAPTURE).is_some_and(|v| v == "1"),
            parent: get(OOMCHECK_CHILD_PARENT).and_then(|p| p.parse().ok()),
            select: get(OOMCHECK_CHILD_SELECT)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            fork_jobs: get(OOMCHECK_CHILD_FORK)
                .and_then(|j| j.trim().parse::<usize>().ok())
                .map(|j| j.max(1)),
        })
    }

    /// The variables of this request.
    pub(crate) fn to_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            (OOMCHECK_CHILD_JOURNAL, self.journal.display().to_string()),
            (OOMCHECK_CHILD_TEST, self.test.clone()),
            (OOMCHECK_CHILD_CHECK, self.ordinal.to_string()),
            (OOMCHECK_CHILD_SET, self.set.encode()),
            (
                OOMCHECK_CHILD_CAPTURE,
                if self.capture_first { "1" } else { "0" }.to_string(),
            ),
        ];
        if let Some(p) = self.parent {
            env.push((OOMCHECK_CHILD_PARENT, p.to_string()));
        }
        if let Some(s) = &self.select {
            env.push((OOMCHECK_CHILD_SELECT, s.display().to_string()));
        }
        if let Some(j) = self.fork_jobs {
            env.push((OOMCHECK_CHILD_FORK, j.to_string()));
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;
    use std::collections::HashMap;

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

    #[test]
    fn durations_render_in_a_form_that_parses_back() {
        for d in [
            Duration::from_secs(10),
            Duration::from_millis(500),
            Duration::from_millis(1500),
            Duration::from_micros(250),
        ] {
            let back = parse_duration(&render_duration(d)).expect("parses");
            assert!(back.abs_diff(d) < Duration::from_nanos(10), "{d:?}");
        }
        assert_eq!(render_duration(Duration::from_secs(9)), "9");
        assert_eq!(render_duration(Duration::from_millis(1500)), "1500ms");
    }

    fn env(pairs: &[(&str, &str)]) -> Result<Settings, EnvError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
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
            ("OOMCHECK_COVERAGE", "1"),
            ("OOMCHECK_STRICT", "1"),
            ("OOMCHECK_REPORT", "/tmp/r"),
            ("OOMCHECK_DEDUP", "site"),
            ("OOMCHECK_DEDUP_DEPTH", "6"),
            ("OOMCHECK_SAMPLE", "100"),
            ("OOMCHECK_SEED", "42"),
            ("OOMCHECK_STRATEGY", "fork"),
            ("OOMCHECK_HYBRID_SPLIT", "12"),
            ("OOMCHECK_JOB_TOKENS", "/tmp/t"),
            ("OOMCHECK_NO_MEMORY_NAMES", "Exhausted, my::BufferFull,"),
            (
                "OOMCHECK_ALLOW",
                r#"[{"outcome":"abort","reason":"documented"},{"site":"src/io.rs","reason":"io"}]"#,
            ),
        ])
        .unwrap();
        assert_eq!(s.allow.len(), 2);
        assert_eq!(s.allow[0].outcome, Some(Outcome::Abort));
        assert_eq!(s.allow[1].site.as_deref(), Some("src/io.rs"));
        assert_eq!(s.no_memory_names, ["Exhausted", "BufferFull"]);
        assert_eq!(s.dedup, Some(Dedup::Site));
        assert_eq!(s.dedup_depth, Some(6));
        assert_eq!(s.sample, Some(100));
        assert_eq!(s.seed, Some(42));
        assert_eq!(s.strategy, Some(Strategy::Fork));
        assert_eq!(s.hybrid_split, Some(12));
        assert!(s.enabled && s.trace && s.debug && s.coverage);
        assert_eq!(s.range, Some(AllocRange::new(7, Some(10)).unwrap()));
        assert_eq!(s.mode, Some(Mode::Persistent));
        assert_eq!(s.jobs, Some(3));
        assert_eq!(s.timeout, Some(Duration::from_secs(2)));
        assert_eq!(s.strict, Some(true));
        assert_eq!(
            s.report_dir.as_deref(),
            Some(std::path::Path::new("/tmp/r"))
        );
        assert_eq!(
            s.job_tokens.as_deref(),
            Some(std::path::Path::new("/tmp/t"))
        );
        assert_eq!(env(&[]).unwrap(), Settings::default());
        // Every variable set renders, and reads back to the same settings.
        let rendered = s.to_env();
        assert_eq!(rendered.len(), VARIABLES.len());
        let pairs: Vec<(&str, &str)> = rendered.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(env(&pairs).unwrap(), s);
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
            ("OOMCHECK_HYBRID_SPLIT", "0"),
        ] {
            assert_eq!(env(&[(var, bad)]).unwrap_err().var, var, "{var}={bad}");
        }
        assert_eq!(
            env(&[("OOMCHECK_DEDUP", "none")]).unwrap().dedup,
            Some(Dedup::None)
        );
        assert_eq!(
            env(&[("OOMCHECK_TIMEOUT", "soon")]).unwrap_err().var,
            "OOMCHECK_TIMEOUT"
        );
    }

    #[test]
    fn the_environment_overrides_the_builder() {
        let builder = Settings {
            enabled: true,
            mode: Some(Mode::Persistent),
            jobs: Some(2),
            ..Settings::default()
        };
        let env = Settings {
            jobs: Some(5),
            strict: Some(false),
            ..Settings::default()
        };
        let s = env.over(&builder);
        assert!(s.enabled);
        assert_eq!(
            (s.mode, s.jobs, s.strict),
            (Some(Mode::Persistent), Some(5), Some(false))
        );
    }

    #[test]
    fn a_child_request_round_trips_through_its_variables() {
        let request = ChildRequest {
            journal: PathBuf::from("/tmp/j"),
            test: "m::t".into(),
            ordinal: 2,
            set: IndexSet {
                start: 3,
                end: 9,
                step: 2,
            },
            capture_first: true,
            parent: Some(42),
            select: Some(PathBuf::from("/tmp/s")),
            fork_jobs: Some(4),
        };
        let vars = request.to_env();
        let get = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        assert_eq!(ChildRequest::from_lookup(get), Some(request));
        assert_eq!(ChildRequest::from_lookup(|_| None), None);
    }
}
