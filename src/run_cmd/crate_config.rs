//! The crate's oomcheck configuration (`oomcheck.toml` or `[package.metadata.oomcheck]`, found
//! as `oomcheck lint` finds it) as far as `oomcheck run` uses it: the `no-memory-names` the
//! injector's default NoMemory predicate accepts besides the rule packs', and the expected
//! outcomes of `[[run.allow]]`.
use std::path::{Path, PathBuf};

use oomcheck_analyzer::config::{discover, normalize, ConfigError};
use oomcheck_injector::{Allow, Outcome};

/// What `oomcheck run` passes to the test binaries from the crate's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunConfig {
    /// `no-memory-names`.
    pub no_memory_names: Vec<String>,
    /// `[[run.allow]]`.
    pub allow: Vec<Allow>,
}

/// Why the crate's configuration cannot be used by `oomcheck run`.
#[derive(Debug, thiserror::Error)]
pub enum CrateConfigError {
    /// The configuration does not read (the linter reports the same).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A `[[run.allow]]` entry names no sweep outcome.
    #[error("[[run.allow]] outcome `{0}` is not a sweep outcome (expected one of {expected})", expected = outcome_names())]
    UnknownOutcome(String),
}

/// The outcome names, for the error message.
fn outcome_names() -> String {
    Outcome::ALL
        .iter()
        .map(|o| o.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The directory whose configuration governs the run: the manifest's, else the current one.
fn crate_dir(manifest_path: Option<&Path>) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let dir = match manifest_path.and_then(Path::parent) {
        Some(parent) if parent.as_os_str().is_empty() => cwd,
        Some(parent) => cwd.join(parent),
        None => cwd,
    };
    normalize(&dir)
}

/// The run configuration of the crate at `manifest_path` (or the current directory).
pub fn load(manifest_path: Option<&Path>) -> Result<RunConfig, CrateConfigError> {
    let config = discover(&crate_dir(manifest_path))?.config;
    let allow = config
        .run
        .allow
        .into_iter()
        .map(|a| {
            let outcome = match a.outcome {
                None => None,
                Some(name) => Some(
                    Outcome::ALL
                        .into_iter()
                        .find(|o| o.as_str() == name)
                        .ok_or(CrateConfigError::UnknownOutcome(name))?,
                ),
            };
            Ok(Allow {
                outcome,
                site: a.site,
                reason: a.reason,
            })
        })
        .collect::<Result<_, CrateConfigError>>()?;
    Ok(RunConfig {
        no_memory_names: config.no_memory_names,
        allow,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_manifest(metadata: &str) -> Result<RunConfig, CrateConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Cargo.toml"),
            format!("[package]\nname = \"x\"\nversion = \"0.0.0\"\n\n{metadata}"),
        )
        .unwrap();
        load(Some(&dir.path().join("Cargo.toml")))
    }

    #[test]
    fn reads_names_and_allowed_outcomes_of_a_manifests_oomcheck_table() {
        let c = load_manifest(
            "[package.metadata.oomcheck]\nno-memory-names = [\"Exhausted\"]\n\n\
             [[package.metadata.oomcheck.run.allow]]\noutcome = \"abort\"\n\
             site = \"Rc::from\"\nreason = \"documented\"\n",
        )
        .unwrap();
        assert_eq!(c.no_memory_names, ["Exhausted"]);
        assert_eq!(
            c.allow,
            [Allow {
                outcome: Some(Outcome::Abort),
                site: Some("Rc::from".into()),
                reason: "documented".into(),
            }]
        );
        let bad = load_manifest(
            "[[package.metadata.oomcheck.run.allow]]\noutcome = \"boom\"\nreason = \"x\"\n",
        )
        .unwrap_err();
        assert!(
            bad.to_string().contains("`boom` is not a sweep outcome"),
            "{bad}"
        );
    }
}
