//! The flags of a sweep, the same for `oomcheck run` (with or without `--preload`) and
//! `oomcheck exec`: their value types, the one combination check clap cannot express, and the
//! zero-code sweep engine's settings made from them.
use std::time::Duration;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};
use oomcheck_injector::{AllocRange, Dedup, Mode, Strategy, MAX_FRAMES};

use crate::preload::sweep::Settings;

/// Return addresses hashed into a site id when `--dedup site` names no depth (as the injector).
const DEFAULT_DEDUP_DEPTH: usize = 16;

/// The flags of a sweep (`oomcheck run` flattens them into its own).
#[derive(Args, Debug, Clone, Default)]
pub struct SweepFlags {
    /// Show every iteration's outcome and error, and the captured stderr of each finding.
    #[arg(long)]
    pub debug: bool,
    /// Show the stack of each failed allocation.
    #[arg(long)]
    pub trace: bool,
    /// Only fail these allocation indices: `17`, `7-10`, `7-` (to the last) or `-10` (from the
    /// first); 1-based, inclusive.
    #[arg(long, value_name = "RANGE")]
    pub alloc: Option<AllocRange>,
    /// Fail only the chosen allocation (transient) or it and every later one (persistent).
    #[arg(long, value_parser = choice(Mode::ALL, Mode::as_str, Mode::help))]
    pub mode: Option<Mode>,
    /// Most processes sweeping at once (default: available cores; short sweeps use fewer).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Per-iteration timeout in seconds, after which the iteration counts as a hang.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// Fail only the first allocation of each distinct call site (`site`), the site being a
    /// hash of the allocation's return addresses; `none` sweeps every index.
    #[arg(long, value_name = "KIND", value_parser = choice(Dedup::ALL, Dedup::as_str, Dedup::help))]
    pub dedup: Option<Dedup>,
    /// Return addresses hashed into a site id with `--dedup site` (default 16).
    // `requires` rejects it alone; `check_combinations` rejects it beside `--dedup none`.
    #[arg(long, value_name = "N", requires = "dedup",
          value_parser = clap::value_parser!(u32).range(1..=MAX_FRAMES as i64))]
    pub dedup_depth: Option<u32>,
    /// Sweep N indices chosen at random (reproducibly: the seed is printed and recorded).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub sample: Option<u64>,
    /// Seed of `--sample` (default: made up and printed, to replay a sample).
    #[arg(long, value_name = "S", requires = "sample")]
    pub seed: Option<u64>,
    /// How iterations run: re-run the body (or program) per index, run it once and fork at each
    /// swept allocation, or choose from measured costs (auto).
    #[arg(long, value_parser = choice(Strategy::ALL, Strategy::as_str, Strategy::help))]
    pub strategy: Option<Strategy>,
    /// Also report a failure that is silently tolerated (success with unchanged output).
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// The parser of a flag whose values are one of the injector's named choices (`--mode`,
/// `--dedup`, `--strategy`): the injector's names and help, so the two can never disagree.
fn choice<T>(
    all: impl IntoIterator<Item = T>,
    name: fn(T) -> &'static str,
    help: fn(T) -> &'static str,
) -> impl TypedValueParser<Value = T>
where
    T: std::str::FromStr + Copy + Clone + Send + Sync + 'static,
    T::Err: std::fmt::Debug,
{
    let values = all
        .into_iter()
        .map(move |v| PossibleValue::new(name(v)).help(help(v)));
    PossibleValuesParser::new(values).map(|s| {
        s.parse::<T>()
            .expect("a possible value parses as its choice")
    })
}

/// `--format`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Progress lines and diagnostics on stderr.
    #[default]
    Human,
    /// One JSON record per test on stdout.
    Json,
}

/// A combination of flags that parses but means nothing; reported as a usage error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FlagConflict {
    /// `--dedup-depth` beside `--dedup none`: no site is hashed, so the depth would be ignored.
    #[error("`--dedup-depth` applies to `--dedup site` only (`--dedup none` hashes no call site)")]
    DedupDepthWithoutSites,
}

impl SweepFlags {
    /// The checks between flags that clap's `requires` cannot express (it sees that a flag is
    /// present, not which value it has).
    pub fn check_combinations(&self) -> Result<(), FlagConflict> {
        if self.dedup_depth.is_some() && self.dedup != Some(Dedup::Site) {
            return Err(FlagConflict::DedupDepthWithoutSites);
        }
        Ok(())
    }

    /// The engine's settings; `sweep_all`: sweep allocations outside the crate's own code too.
    pub fn settings(&self, sweep_all: bool) -> Settings {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Settings {
            range: self.alloc,
            mode: self.mode.unwrap_or_default(),
            jobs: self.jobs.map_or(cores, |j| j as usize),
            timeout: self.timeout.map(Duration::from_secs),
            strategy: self.strategy.unwrap_or_default(),
            dedup_depth: (self.dedup == Some(Dedup::Site))
                .then(|| self.dedup_depth.map_or(DEFAULT_DEDUP_DEPTH, |d| d as usize)),
            sample: self.sample,
            seed: self.seed,
            strict: self.strict,
            debug: self.debug,
            sweep_all,
        }
    }

    /// The flags that change which runs a repro replays (`--mode persistent`), as arguments.
    pub fn repro_flags(&self) -> &'static str {
        match self.mode {
            Some(Mode::Persistent) => " --mode persistent",
            Some(Mode::Transient) | None => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        flags: SweepFlags,
    }

    #[test]
    fn flags_become_settings() {
        let w = Wrap::try_parse_from([
            "x",
            "--alloc",
            "3-9",
            "--mode",
            "persistent",
            "--jobs",
            "3",
            "--timeout",
            "4",
            "--dedup",
            "site",
            "--sample",
            "5",
            "--seed",
            "7",
            "--strategy",
            "fork",
            "--strict",
        ])
        .unwrap();
        let s = w.flags.settings(false);
        assert_eq!(s.range.and_then(|r| r.clamp(100)), Some((3, 9)));
        assert_eq!(s.mode, Mode::Persistent);
        assert_eq!(s.jobs, 3);
        assert_eq!(s.timeout, Some(Duration::from_secs(4)));
        assert_eq!(s.dedup_depth, Some(16));
        assert_eq!((s.sample, s.seed), (Some(5), Some(7)));
        assert_eq!(s.strategy, Strategy::Fork);
        assert!(s.strict && !s.sweep_all);
        assert_eq!(w.flags.repro_flags(), " --mode persistent");
        assert!(Wrap::try_parse_from(["x", "--jobs", "0"]).is_err());
    }
}
