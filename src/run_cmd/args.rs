//! The flags of `oomcheck run`: the sweep's own ([`SweepFlags`], shared with `oomcheck exec`)
//! and cargo's. What the flags mean to the injector is decided in `child_env`.
use std::path::PathBuf;

use clap::Args;

use super::cargo::CargoOpts;
use super::sweep_flags::SweepFlags;

/// Arguments of `oomcheck run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The sweep's flags, shared with `oomcheck exec`.
    #[command(flatten)]
    pub sweep: SweepFlags,
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
    /// `slice:K/N` (round-robin across binaries). A test filter after `--` applies first. A
    /// shard that gets no test (or none with a check) sweeps nothing and exits 0.
    /// `oomcheck report` merges the shards' records.
    #[arg(long, value_name = "KIND:K/N", conflicts_with = "preload")]
    pub partition: Option<super::partition::Partition>,
    /// Test name filter and other libtest arguments, after `--`.
    #[arg(last = true, value_name = "TEST ARGS")]
    pub test_args: Vec<String>,
}

impl RunArgs {
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
    use crate::run_cmd::sweep_flags::FlagConflict;
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
            none.sweep.check_combinations(),
            Err(FlagConflict::DedupDepthWithoutSites)
        );
        let site = parse(&["--dedup", "site", "--dedup-depth", "6"]).unwrap();
        assert_eq!(site.sweep.check_combinations(), Ok(()));
        assert!(parse(&["--dedup", "site", "--dedup-depth", "0"]).is_err());
        assert!(parse(&["--dedup", "site", "--dedup-depth", "49"]).is_err());
        assert_eq!(parse(&[]).unwrap().sweep.check_combinations(), Ok(()));
    }
}
