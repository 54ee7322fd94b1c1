//! The flags of `oomcheck run`, their value types, and the one combination check clap cannot
//! express. What the flags mean to the injector is decided in `child_env`.
use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};
use oomcheck_injector::{AllocRange, Dedup, Mode, Strategy, MAX_FRAMES};

use super::cargo::CargoOpts;

/// Arguments of `oomcheck run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
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
    /// Most child processes per sweep (default: available cores; short sweeps use fewer).
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
    /// Sweep N indices chosen at random (reproducibly: the seed is printed).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub sample: Option<u64>,
    /// Seed of `--sample` (default: made up and printed, to replay a sample).
    #[arg(long, value_name = "S", requires = "sample")]
    pub seed: Option<u64>,
    /// How iterations run: re-run the body per index, fork at each allocation of one run, or
    /// choose from the body's allocation count (auto).
    #[arg(long, value_parser = choice(Strategy::ALL, Strategy::as_str, Strategy::help))]
    pub strategy: Option<Strategy>,
    /// Also report a failure that is silently tolerated (Ok with unchanged output).
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Path to the crate's (or workspace's) Cargo.toml.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Package(s) to check.
    #[arg(short = 'p', long = "package", value_name = "PKG")]
    pub packages: Vec<String>,
    /// Build and run the tests in release mode.
    #[arg(long)]
    pub release: bool,
    /// Features to activate (passed to cargo).
    #[arg(long, value_name = "FEATURES")]
    pub features: Vec<String>,
    /// Activate all features.
    #[arg(long)]
    pub all_features: bool,
    /// Do not activate the default feature.
    #[arg(long)]
    pub no_default_features: bool,
    /// Sweep the crate's existing tests, unmodified: each test runs in processes of its own
    /// with an allocation interposer (`LD_PRELOAD`) failing its allocations one by one (Linux
    /// with glibc).
    #[arg(long)]
    pub preload: bool,
    /// With `--preload`: also sweep allocations that no frame of the crate's own code makes
    /// (test setup, the tests' own helpers).
    #[arg(long, requires = "preload")]
    pub sweep_all: bool,
    /// Sweep one shard of the tests, as cargo-nextest partitions them: `count:K/N`
    /// (round-robin within each test binary), `hash:K/N` (by the test name's hash) or
    /// `slice:K/N` (round-robin across binaries). `oomcheck report` merges the shards' records.
    #[arg(long, value_name = "KIND:K/N", conflicts_with_all = ["preload", "test_args"])]
    pub partition: Option<super::partition::Partition>,
    /// Test name filter and other libtest arguments, after `--`.
    #[arg(last = true, value_name = "TEST ARGS")]
    pub test_args: Vec<String>,
}

/// The parser of a flag whose values are one of the injector's named choices (`--mode`,
/// `--dedup`, `--strategy`): the injector's names and help, so the two can never disagree.
pub(super) fn choice<T>(
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

impl RunArgs {
    /// The checks between flags that clap's `requires` cannot express (it sees that a flag is
    /// present, not which value it has).
    pub fn check_combinations(&self) -> Result<(), FlagConflict> {
        if self.dedup_depth.is_some() && self.dedup != Some(Dedup::Site) {
            return Err(FlagConflict::DedupDepthWithoutSites);
        }
        Ok(())
    }

    /// The cargo options passed through to both the build and the run.
    pub fn cargo_opts(&self) -> CargoOpts {
        CargoOpts {
            manifest_path: self.manifest_path.clone(),
            packages: self.packages.clone(),
            release: self.release,
            features: self.features.clone(),
            all_features: self.all_features,
            no_default_features: self.no_default_features,
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        run: RunArgs,
    }

    /// Parse `oomcheck run ARGS` (flags only, without the global ones).
    pub(in crate::run_cmd) fn parse(args: &[&str]) -> Result<RunArgs, clap::Error> {
        Wrap::try_parse_from(std::iter::once("run").chain(args.iter().copied())).map(|w| w.run)
    }

    #[test]
    fn invalid_alloc_is_a_usage_error_naming_the_problem() {
        let e = parse(&["--alloc", "10-7"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("start is after its end"), "{e}");
        assert!(parse(&["--alloc", "0"]).is_err());
        assert!(parse(&["--jobs", "0"]).is_err());
    }

    #[test]
    fn dependent_flags_need_the_flag_they_refine() {
        for alone in [&["--dedup-depth", "6"][..], &["--seed", "42"]] {
            let e = parse(alone).expect_err("rejected");
            assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
            assert_eq!(e.exit_code(), 2);
        }
        let none = parse(&["--dedup", "none", "--dedup-depth", "6"]).unwrap();
        assert_eq!(
            none.check_combinations(),
            Err(FlagConflict::DedupDepthWithoutSites)
        );
        let site = parse(&["--dedup", "site", "--dedup-depth", "6"]).unwrap();
        assert_eq!(site.check_combinations(), Ok(()));
        assert!(parse(&["--dedup", "site", "--dedup-depth", "0"]).is_err());
        assert!(parse(&["--dedup", "site", "--dedup-depth", "49"]).is_err());
        assert_eq!(parse(&[]).unwrap().check_combinations(), Ok(()));
    }
}
