//! oomcheck's allocation-failure injector: a failing global allocator and a crash-proof harness
//! that re-runs a test body failing its 1st, 2nd, … *n*th allocation and classifies each run.
//!
//! ```
//! use std::collections::TryReserveError;
//!
//! #[global_allocator]
//! static ALLOC: oomcheck_injector::FailingAllocator = oomcheck_injector::FailingAllocator::system();
//!
//! #[derive(Debug)]
//! enum Error {
//!     OutOfMemory,
//!     Invalid,
//! }
//!
//! fn parse(input: &str) -> Result<Vec<u8>, TryReserveError> {
//!     let mut out = Vec::new();
//!     out.try_reserve_exact(input.len())?;
//!     out.extend_from_slice(input.as_bytes());
//!     Ok(out)
//! }
//!
//! fn read(input: &str) -> Result<Vec<u8>, Error> {
//!     let mut out = Vec::new();
//!     out.try_reserve(input.len()).map_err(|_| Error::OutOfMemory)?;
//!     out.extend(input.bytes().filter(u8::is_ascii_digit));
//!     if out.is_empty() { Err(Error::Invalid) } else { Ok(out) }
//! }
//!
//! # fn main() {
//! // In a #[test]: Fn() -> Result<T, E> with T: Debug, E: Debug.
//! oomcheck_injector::check(|| parse("a=1"));
//!
//! oomcheck_injector::Check::new()
//!     .no_memory(|e: &Error| matches!(e, Error::OutOfMemory))
//!     .run(|| read("12"))
//!     .assert(); // panics with a readable summary on findings
//! # }
//! ```
//!
//! Without `OOMCHECK=1` (and without [`Check::always`]) the body runs once and the check passes
//! when it returns `Ok`. With it, a sweep: a prime run, counting runs until two agree on the number
//! of allocations *n*, then one run per index *i* in range failing allocation *i* (transient mode)
//! or *i* and every later one (persistent mode). Each run is classified as an [`Outcome`]:
//! `no-memory` (pass), `tolerated` (pass unless strict), `wrong-error`, `corrupted`, `panic`,
//! `abort`, `hang` or `leak` (findings). An iteration that did not test the allocation its index
//! names is neither: `not-reached` when that allocation never came, `drifted` when the one it
//! failed has another call site than in a run made before the sweep (its site hash, the same
//! in every process, is compared with that run's).
//!
//! The sweep runs in child processes that re-execute the test binary for this one test
//! (`NAME --exact --include-ignored --nocapture --test-threads=1`), up to `jobs` of them in
//! parallel (fewer when the sweep is too short to pay for more process starts), each running its
//! share of indices in-process. A child killed by an aborting allocation costs
//! one index, recorded as `abort` with the failed allocation's stack, and a new child carries on.
//!
//! With the fork strategy a single child runs the body once and forks at each swept allocation:
//! the forked process fails it and runs to the verdict, so the prefix is never re-run. The hybrid
//! strategy re-runs the early indices (whose prefix costs less than a fork) and forks at the
//! later ones. `auto`, the default, estimates each strategy's time from what the sweep measures
//! (the body's time per allocation, the cost of a fork of the test process) and runs the
//! cheapest; the report records the estimates ([`Estimates`]).
//!
//! Stacks are expensive to capture (tens of microseconds), so iterations run without them; an
//! iteration whose outcome is a finding is run once more capturing them (a crashed index in a
//! fresh child), and the site reported is the first frame of the failed allocation's stack
//! outside std, core, alloc, backtrace and this crate, preferring the test crate's own code over
//! dependencies downloaded by cargo. A hang that keeps failing allocations (a retry loop) is
//! reported with the latest one failed after half its timeout, without a re-run.
//!
//! # Environment
//! `OOMCHECK` (1 to sweep), `OOMCHECK_ALLOC` (`17` or `7-10`), `OOMCHECK_MODE`
//! (`transient`/`persistent`), `OOMCHECK_JOBS`, `OOMCHECK_TIMEOUT` (seconds per iteration, or
//! `500ms`), `OOMCHECK_TRACE` (full stacks in the summary), `OOMCHECK_DEBUG` (every iteration,
//! and `auto`'s estimates), `OOMCHECK_STRICT` (`tolerated` is a finding), `OOMCHECK_REPORT` (a
//! directory: one JSON record per check), `OOMCHECK_DEDUP` (`site`: fail only the first
//! allocation of each distinct call site) with `OOMCHECK_DEDUP_DEPTH` (return addresses hashed,
//! default 16), `OOMCHECK_SAMPLE` (sweep N indices chosen at random) with `OOMCHECK_SEED`
//! (replays a sample; printed), `OOMCHECK_STRATEGY` (`auto`, `rerun`, `fork` or `hybrid`) with
//! `OOMCHECK_HYBRID_SPLIT` (the last index the hybrid re-runs), `OOMCHECK_JOB_TOKENS` (a
//! directory of token files: a job budget shared by every check of the run). The variables
//! override the builder. A malformed value makes the check panic with a message naming the
//! variable and the accepted form.
//! The [`env`](mod@env) module names them all; [`Settings`] reads and writes them.
//!
//! # Limits
//! - Only allocations of the thread running the body are counted and failed: allocations on
//!   threads the body spawns (or hands work to, like a thread pool) pass through untouched. A
//!   sweep child notices allocations on threads started while the body runs and the report's
//!   message says so ("the body allocated on another thread"); a pool started earlier goes
//!   unnoticed.
//! - A child that dies costs its index only, whatever the death: an aborting allocation, a
//!   signal (SIGSEGV after an unchecked null, SIGKILL from outside), a stack overflow, or
//!   `std::process::exit` in the body are all `abort` findings naming the cause. Sweep children
//!   die with the test process (Linux: `PR_SET_PDEATHSIG`).
//! - If a sweep child can no longer be started midway through a sweep, the results so far are
//!   kept and the remaining indices are reported as not swept ([`Report::incomplete`], `?` in the
//!   sequence); the check fails.
//! - With `OOMCHECK_REPORT`, a sweep leaves `<record>.started` in the directory until its record
//!   replaces it: a marker without a record is a sweep that never finished.
//! - The body must be repeatable: it runs many times, so state it mutates outside itself (files,
//!   globals) must be reset by the body. A count that differs between runs is reported as
//!   `unstable-count`; an order that differs, as `drifted` indices.
//! - libtest captures a test's output unless run with `--nocapture`, and its buffer grows on the
//!   test's thread: a body that prints allocates there in the test process (whose runs count)
//!   but not in the sweep's processes (always `--nocapture`), so its indices drift. Run such
//!   tests with `--nocapture`; drift messages name this cause when the output was captured.
//! - `leak` compares live bytes: it is only judged when the normal run leaves no bytes of its own
//!   live after its result is dropped, and memory the body hands to another thread (freed there)
//!   counts as live.
//! - The panic hook that keeps the body's panics quiet and disarms before the panic runtime
//!   allocates is installed on the first check; a test that replaces the panic hook afterwards may
//!   see persistent-mode panics reported as `abort`.
//! - Crash isolation needs a libtest harness (the test thread is named after the test). Called
//!   elsewhere (a thread named `main`, no name) the sweep runs in-process: an abort then ends the
//!   process and a hang is not interrupted.
//! - Sites are found from debug info; without it (`debug = false`) findings have no site.

#![warn(missing_docs)]

mod alloc;
mod allow;
mod check;
mod child;
mod dedup;
mod drift;
pub mod env;
mod fork;
mod frames;
mod journal;
mod options;
mod outcome;
mod output_capture;
mod panics;
mod predicate;
mod range;
mod report;
mod run;
mod sample;
mod select;
mod selection;
mod site_hash;
mod site_run;
mod stack;
mod strategy;
mod supervise;
mod sweep;
mod text;
mod tokens;
mod vocabulary;

pub use alloc::FailingAllocator;
pub use allow::Allow;
pub use check::{check, Check};
pub use env::{EnvError, Settings};
pub use frames::MAX_FRAMES;
pub use options::{Dedup, Mode, UnknownName};
pub use outcome::Outcome;
pub use predicate::{DefaultNoMemory, NoMemoryPredicate};
pub use range::{AllocRange, AllocRangeError};
pub use report::summary::LineStyle;
pub use report::{
    CoveredStack, DedupInfo, DedupSite, Finding, Frame, Incomplete, Iteration, Report, SampleInfo,
    Status, RECORD_VERSION, UNSWEPT_SYMBOL,
};
pub use strategy::{Estimate, Estimates, Strategy};
pub use vocabulary::pack_no_memory_names;
