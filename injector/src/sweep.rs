//! Running the body in-process: one armed run, the normal runs, and classifying an iteration.

use crate::alloc::{self, RawFrames, Stats};
use crate::report::Outcome;
use std::time::{Duration, Instant};

/// How one armed run of the body ended, with everything computed after disarming.
pub(crate) enum Ended {
    /// Returned `Ok`; the value's `{:#?}` text.
    Ok { debug: String },
    /// Returned `Err`; the error's `{:?}` text and the predicate's verdict.
    Err { debug: String, no_memory: bool },
    /// Panicked.
    Panic { message: String },
}

/// One armed run of the body.
pub(crate) struct RunData {
    pub(crate) ended: Ended,
    pub(crate) stats: Stats,
    /// Bytes allocated during the run and still live once its result was dropped.
    pub(crate) live: i64,
    /// Stack of the first failed allocation.
    pub(crate) first: RawFrames,
    pub(crate) elapsed: Duration,
}

/// The body with its types erased: runs it failing allocation `fail_at` (0 = none), in persistent
/// mode or not, capturing the failed allocations' stacks or not.
pub(crate) type Exec<'a> = dyn Fn(u64, bool, bool) -> RunData + 'a;

/// What the normal runs established.
pub(crate) struct Baseline {
    /// `{:#?}` of the normal result.
    pub(crate) debug: String,
    /// Allocation attempts of the normal run.
    pub(crate) nalloc: u64,
    /// Live bytes left by the normal run (leak detection needs 0).
    pub(crate) live: i64,
    /// Duration of one normal run.
    pub(crate) elapsed: Duration,
}

/// Why the body cannot be swept.
pub(crate) enum NotSwept {
    /// The normal run failed.
    NormalFailed(String),
    /// Counting runs disagree.
    Unstable(u64, u64),
}

/// Runs the prime run, then counting runs until two agree.
pub(crate) fn prepare(exec: &Exec<'_>) -> Result<Baseline, NotSwept> {
    let prime = exec(0, false, false);
    normal_ok(&prime)?;
    let mut previous = prime.stats.count;
    let mut last = None;
    for _ in 0..5 {
        let run = exec(0, false, false);
        let debug = normal_ok(&run)?;
        if run.stats.count == previous {
            return Ok(Baseline {
                debug,
                nalloc: run.stats.count,
                live: run.live,
                elapsed: run.elapsed,
            });
        }
        last = Some((previous, run.stats.count));
        previous = run.stats.count;
    }
    let (a, b) = last.unwrap_or((previous, previous));
    Err(NotSwept::Unstable(a, b))
}

fn normal_ok(run: &RunData) -> Result<String, NotSwept> {
    match &run.ended {
        Ended::Ok { debug } => Ok(debug.clone()),
        Ended::Err { debug, .. } => Err(NotSwept::NormalFailed(format!(
            "the body failed in its normal run (no allocation failed): Err({debug})"
        ))),
        Ended::Panic { message } => Err(NotSwept::NormalFailed(format!(
            "the body failed in its normal run (no allocation failed): {message}"
        ))),
    }
}

/// One classified iteration, before symbolization.
pub(crate) struct Classified {
    pub(crate) alloc: u64,
    pub(crate) outcome: Outcome,
    pub(crate) message: String,
    pub(crate) diff: Option<String>,
    /// The failed allocation that explains the outcome.
    pub(crate) frames: RawFrames,
}

/// Runs iteration `alloc` and classifies it.
///
/// Stacks are not captured in the first run (it costs tens of microseconds per failed
/// allocation, more than the rest of a typical iteration): an iteration whose outcome is a finding
/// runs a second time capturing them.
pub(crate) fn iterate(
    exec: &Exec<'_>,
    alloc: u64,
    persistent: bool,
    strict: bool,
    base: &Baseline,
) -> Classified {
    let mut c = classify(alloc, exec(alloc, persistent, false), base);
    if c.outcome.is_finding(strict) {
        c.frames = exec(alloc, persistent, true).first;
    }
    c
}

/// Classifies one armed run against the normal run.
pub(crate) fn classify(alloc: u64, run: RunData, base: &Baseline) -> Classified {
    let not_reached = (run.stats.failed == 0).then(|| {
        format!(
            " (allocation {alloc} was not reached: this run made {} allocations)",
            run.stats.count
        )
    });
    let (outcome, mut message, diff) = match run.ended {
        Ended::Panic { message } => (Outcome::Panic, message, None),
        Ended::Err {
            debug,
            no_memory: true,
        } => {
            if base.live == 0 && run.live > 0 {
                let m = format!(
                    "returned Err({debug}) but {} bytes allocated during the run are still live",
                    run.live
                );
                (Outcome::Leak, m, None)
            } else {
                (Outcome::NoMemory, format!("Err({debug})"), None)
            }
        }
        Ended::Err {
            debug,
            no_memory: false,
        } => (
            Outcome::WrongError,
            format!("returned Err({debug}), which is not a NoMemory error"),
            None,
        ),
        Ended::Ok { debug } if debug == base.debug => (
            Outcome::Tolerated,
            "returned Ok with the same output as the normal run".to_string(),
            None,
        ),
        Ended::Ok { debug } => {
            let diff = similar::TextDiff::from_lines(&base.debug, &debug)
                .unified_diff()
                .context_radius(3)
                .header("normal run", &format!("allocation {alloc} failed"))
                .to_string();
            (
                Outcome::Corrupted,
                "returned Ok but the output differs from the normal run".to_string(),
                Some(diff),
            )
        }
    };
    truncate(&mut message, MAX_MESSAGE);
    if let Some(note) = not_reached {
        message.push_str(&note);
    }
    let diff = diff.map(|mut d| {
        truncate(&mut d, MAX_DIFF);
        d
    });
    Classified {
        alloc,
        outcome,
        message,
        diff,
        frames: run.first,
    }
}

/// Longest error or panic text kept in a report (a huge Debug output would bloat every record).
const MAX_MESSAGE: usize = 4_000;
/// Longest diff kept in a report.
const MAX_DIFF: usize = 32_000;

/// Cuts `s` to at most `max` bytes at a character boundary, marking the cut.
fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        let dropped = s.len() - cut;
        s.truncate(cut);
        s.push_str(&format!("… ({dropped} more bytes)"));
    }
}

/// Wraps a typed body and NoMemory predicate into an [`Exec`].
pub(crate) fn exec_of<'a, T, E, F, P>(
    body: &'a F,
    is_no_memory: &'a P,
) -> impl Fn(u64, bool, bool) -> RunData + 'a
where
    F: Fn() -> Result<T, E>,
    T: std::fmt::Debug,
    E: std::fmt::Debug,
    P: Fn(&E, &str) -> bool,
{
    move |fail_at, persistent, capture| {
        crate::panics::install_hook();
        crate::panics::enter_body();
        let start = Instant::now();
        alloc::arm(fail_at, persistent, capture);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        let stats = alloc::disarm();
        let elapsed = start.elapsed();
        let panicked = crate::panics::leave_body();
        let first = alloc::failed_frames();
        let (ended, live) = match result {
            Ok(Ok(value)) => {
                let debug = format!("{value:#?}");
                let live = alloc::live_after(|| drop(value));
                (Ended::Ok { debug }, live)
            }
            Ok(Err(error)) => {
                let debug = format!("{error:?}");
                let no_memory = is_no_memory(&error, &debug);
                let live = alloc::live_after(|| drop(error));
                (Ended::Err { debug, no_memory }, live)
            }
            Err(payload) => {
                let message = panicked.unwrap_or_else(|| {
                    payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "panicked".to_string())
                });
                drop(payload);
                (Ended::Panic { message }, 0)
            }
        };
        RunData {
            ended,
            stats,
            live,
            first,
            elapsed,
        }
    }
}

/// The default NoMemory predicate: the error's Debug text names an out-of-memory condition.
pub(crate) fn default_no_memory(debug: &str) -> bool {
    let lower = debug.to_ascii_lowercase();
    if lower.contains("out of memory") || lower.contains("cannot allocate memory") {
        return true;
    }
    for word in debug.split(|c: char| !c.is_ascii_alphanumeric()) {
        let w = word.to_ascii_lowercase();
        if [
            "nomemory",
            "outofmemory",
            "tryreserveerror",
            "allocerror",
            "enomem",
            "allocationerror",
        ]
        .iter()
        .any(|k| w.contains(k))
        {
            return true;
        }
        // `Oom`, `OomError`, `ErrOom`: the camel-case part "Oom", not "room" or "zoom".
        if camel_parts(word).any(|p| p.eq_ignore_ascii_case("oom")) {
            return true;
        }
    }
    false
}

/// Splits `OomError` into `Oom`, `Error`; `OOM_ERR` was split on `_` before.
fn camel_parts(word: &str) -> impl Iterator<Item = &str> {
    let mut starts = vec![0];
    let b = word.as_bytes();
    for i in 1..b.len() {
        if b[i].is_ascii_uppercase() && b[i - 1].is_ascii_lowercase() {
            starts.push(i);
        }
    }
    let mut ends: Vec<usize> = starts[1..].to_vec();
    ends.push(word.len());
    starts.into_iter().zip(ends).map(move |(s, e)| &word[s..e])
}

#[cfg(test)]
mod tests {
    use super::{default_no_memory, truncate};

    #[test]
    fn long_texts_are_cut_at_a_char_boundary() {
        let mut s = "é".repeat(10);
        truncate(&mut s, 5);
        assert_eq!(s, "éé… (16 more bytes)");
        let mut short = "ok".to_string();
        truncate(&mut short, 5);
        assert_eq!(short, "ok");
    }

    #[test]
    fn default_predicate_recognises_oom_names() {
        for yes in [
            "NoMemory",
            "Error::OutOfMemory",
            "Oom",
            "OomError",
            "OOM",
            "ENOMEM",
            "TryReserveError { kind: AllocError { layout: Layout { size: 8, align: 1 }, non_exhaustive: () } }",
            "Custom { kind: OutOfMemory, error: \"x\" }",
            "\"out of memory\"",
            "Parse(AllocError)",
        ] {
            assert!(default_no_memory(yes), "{yes}");
        }
        for no in [
            "InvalidData",
            "Room",
            "Zoom(3)",
            "Truncated { at: 4 }",
            "\"no more items\"",
            "Io(Os { code: 2 })",
        ] {
            assert!(!default_no_memory(no), "{no}");
        }
    }
}
