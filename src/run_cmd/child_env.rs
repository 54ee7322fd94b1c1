//! The environment of the `cargo test` child: the one place where `oomcheck run`'s flags become
//! the injector's `OOMCHECK_*` variables.
use std::path::Path;

use clap::ValueEnum;

use super::args::RunArgs;
use super::tokens;

/// Every environment variable the injector reads; those not set from flags are removed so the
/// flags alone decide the sweep.
pub const INJECTOR_VARS: &[&str] = &[
    "OOMCHECK",
    "OOMCHECK_REPORT",
    "OOMCHECK_ALLOC",
    "OOMCHECK_MODE",
    "OOMCHECK_JOBS",
    "OOMCHECK_TIMEOUT",
    "OOMCHECK_TRACE",
    "OOMCHECK_DEBUG",
    "OOMCHECK_STRICT",
    "OOMCHECK_DEDUP",
    "OOMCHECK_DEDUP_DEPTH",
    "OOMCHECK_SAMPLE",
    "OOMCHECK_SEED",
    "OOMCHECK_STRATEGY",
    "OOMCHECK_JOB_TOKENS",
];

/// The injector's environment for `args`, its records going to `report_dir` (and its job
/// tokens to [`tokens::dir`] of it).
pub fn injector_env(args: &RunArgs, report_dir: &Path) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("OOMCHECK", "1".to_string()),
        ("OOMCHECK_REPORT", report_dir.display().to_string()),
        (
            "OOMCHECK_JOB_TOKENS",
            tokens::dir(report_dir).display().to_string(),
        ),
    ];
    let set = |flag: bool| flag.then(|| "1".to_string());
    let valued = [
        ("OOMCHECK_ALLOC", args.alloc.map(|r| r.to_string())),
        ("OOMCHECK_MODE", args.mode.map(value_name)),
        ("OOMCHECK_JOBS", args.jobs.map(|n| n.to_string())),
        ("OOMCHECK_TIMEOUT", args.timeout.map(|s| s.to_string())),
        ("OOMCHECK_DEDUP", args.dedup.map(value_name)),
        (
            "OOMCHECK_DEDUP_DEPTH",
            args.dedup_depth.map(|n| n.to_string()),
        ),
        ("OOMCHECK_SAMPLE", args.sample.map(|n| n.to_string())),
        ("OOMCHECK_SEED", args.seed.map(|s| s.to_string())),
        ("OOMCHECK_STRATEGY", args.strategy.map(value_name)),
        ("OOMCHECK_TRACE", set(args.trace)),
        ("OOMCHECK_DEBUG", set(args.debug)),
        ("OOMCHECK_STRICT", set(args.strict)),
    ];
    env.extend(valued.into_iter().filter_map(|(k, v)| Some((k, v?))));
    env
}

/// The injector spells a choice as the flag does (`--mode persistent`: `persistent`).
fn value_name(choice: impl ValueEnum) -> String {
    choice
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .expect("no choice of `oomcheck run` is hidden")
}

#[cfg(test)]
mod tests {
    use super::super::args::tests::parse;
    use super::*;

    /// The environment of `oomcheck run ARGS` (reporting to `/t/r`) as `K=V K=V …`, in the
    /// order set, after checking that it sets only variables the injector reads.
    fn env_of(args: &[&str]) -> String {
        let env = injector_env(&parse(args).unwrap(), Path::new("/t/r"));
        assert!(env.iter().all(|(k, _)| INJECTOR_VARS.contains(k)));
        let pairs: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.join(" ")
    }

    /// What every run sets: the switch, the report directory and the job tokens.
    const BASE: &str = "OOMCHECK=1 OOMCHECK_REPORT=/t/r OOMCHECK_JOB_TOKENS=/t/r/tokens";

    #[test]
    fn flags_become_injector_environment() {
        let a = parse(&["--trace", "--", "disk", "--exact"]).unwrap();
        assert_eq!(a.test_args, ["disk", "--exact"]);
        assert_eq!(
            env_of(&[
                "--alloc",
                "7-10",
                "--mode",
                "persistent",
                "--jobs",
                "3",
                "--timeout",
                "9",
                "--trace",
                "--strict",
            ]),
            format!(
                "{BASE} OOMCHECK_ALLOC=7-10 OOMCHECK_MODE=persistent OOMCHECK_JOBS=3 \
                 OOMCHECK_TIMEOUT=9 OOMCHECK_TRACE=1 OOMCHECK_STRICT=1"
            )
        );
        assert_eq!(env_of(&[]), BASE, "no flag, no setting");
    }

    #[test]
    fn scaling_flags_become_injector_environment() {
        assert_eq!(
            env_of(&[
                "--dedup",
                "site",
                "--dedup-depth",
                "6",
                "--sample",
                "500",
                "--seed",
                "42",
                "--strategy",
                "fork",
            ]),
            format!(
                "{BASE} OOMCHECK_DEDUP=site OOMCHECK_DEDUP_DEPTH=6 OOMCHECK_SAMPLE=500 \
                 OOMCHECK_SEED=42 OOMCHECK_STRATEGY=fork"
            )
        );
        assert!(parse(&["--sample", "0"]).is_err());
        assert!(parse(&["--strategy", "spoon"]).is_err());
        assert!(parse(&["--dedup", "stack"]).is_err());
        assert!(parse(&["--dedup-depth", "0"]).is_err());
    }

    #[test]
    fn every_choice_reads_as_the_injector_spells_it() {
        assert_eq!(
            env_of(&[
                "--mode",
                "transient",
                "--dedup",
                "none",
                "--strategy",
                "auto"
            ]),
            format!("{BASE} OOMCHECK_MODE=transient OOMCHECK_DEDUP=none OOMCHECK_STRATEGY=auto")
        );
        assert_eq!(
            env_of(&["--strategy", "rerun", "--debug"]),
            format!("{BASE} OOMCHECK_STRATEGY=rerun OOMCHECK_DEBUG=1")
        );
    }
}
