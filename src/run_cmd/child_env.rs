//! The environment of the `cargo test` child: the one place where `oomcheck run`'s flags become
//! the injector's `OOMCHECK_*` variables.
use std::path::Path;
use std::time::Duration;

use oomcheck_injector::Settings;

use super::args::RunArgs;
use super::crate_config::RunConfig;
use super::tokens;

/// The injector's environment for `args`, its records going to `report_dir` (and its job
/// tokens to [`tokens::dir`] of it). Rendered by the injector's own [`Settings`], which also
/// parses it, so a flag and the variable it becomes cannot drift apart.
/// The crate's configuration goes along: `no-memory-names` to the default NoMemory predicate,
/// `[[run.allow]]` to every check's expected outcomes.
pub fn injector_env(
    args: &RunArgs,
    report_dir: &Path,
    config: &RunConfig,
) -> Vec<(&'static str, String)> {
    Settings {
        enabled: true,
        report_dir: Some(report_dir.to_path_buf()),
        job_tokens: Some(tokens::dir(report_dir)),
        range: args.sweep.alloc,
        mode: args.sweep.mode,
        jobs: args.sweep.jobs.map(|n| n as usize),
        timeout: args.sweep.timeout.map(Duration::from_secs),
        dedup: args.sweep.dedup,
        dedup_depth: args.sweep.dedup_depth.map(|n| n as usize),
        sample: args.sweep.sample,
        seed: args.sweep.seed,
        strategy: args.sweep.strategy,
        // The split of `hybrid` is the estimated one; OOMCHECK_HYBRID_SPLIT is for experiments.
        hybrid_split: None,
        trace: args.sweep.trace,
        debug: args.sweep.debug,
        coverage: true,
        strict: args.sweep.strict.then_some(true),
        no_memory_names: config.no_memory_names.clone(),
        allow: config.allow.clone(),
    }
    .to_env()
}

#[cfg(test)]
mod tests {
    use super::super::args::tests::parse;
    use super::*;

    /// The environment of `oomcheck run ARGS` (reporting to `/t/r`) as `K=V K=V …`, in the
    /// order set, after checking that it sets only variables the injector reads.
    fn env_of(args: &[&str]) -> String {
        let env = injector_env(
            &parse(args).unwrap(),
            Path::new("/t/r"),
            &RunConfig::default(),
        );
        assert!(env
            .iter()
            .all(|(k, _)| oomcheck_injector::env::VARIABLES.contains(k)));
        let pairs: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.join(" ")
    }

    /// What every run sets: the switch, the report directory, the job tokens and coverage (the
    /// stacks `oomcheck report` joins with the analyzer's sites).
    const BASE: &str =
        "OOMCHECK=1 OOMCHECK_REPORT=/t/r OOMCHECK_JOB_TOKENS=/t/r/tokens OOMCHECK_COVERAGE=1";

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
