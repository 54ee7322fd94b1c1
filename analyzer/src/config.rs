//! Project configuration: `oomcheck.toml`, `[workspace.metadata.oomcheck]`,
//! `[package.metadata.oomcheck]`, found by walking up from the scanned path.
//!
//! The nearest directory that holds a configuration wins; inside one directory `oomcheck.toml`
//! wins over `[package.metadata.oomcheck]`, which wins over `[workspace.metadata.oomcheck]`.
//! Configurations are not merged: the one found is the whole configuration.
//!
//! ```toml
//! # oomcheck.toml (the same keys work under [package.metadata.oomcheck] in Cargo.toml)
//!
//! # Functions of your own (or of a crate without a pack) whose Result reports an allocation
//! # failure. A bare name matches any call or method of that name; a path matches calls whose
//! # path ends with the same segments.
//! alloc-functions = ["try_alloc_buf", "arena::Arena::try_grow"]
//!
//! # Names (variants, types, constants) that count as "this error says: out of memory".
//! no-memory-names = ["Exhausted", "BufferFull"]
//!
//! # Files to leave out, gitignore syntax, relative to this file; applies to files named on the
//! # command line too (pre-commit passes file names).
//! exclude = ["vendor/", "src/generated/*.rs"]
//!
//! # Files larger than this many bytes are skipped with an error (default 10 MiB).
//! max-file-size = 10485760
//!
//! # error, warn or off, per rule id.
//! [rules]
//! swallowed-alloc-failure = "warn"
//! unchecked-raw-alloc = "off"
//!
//! # Code that must never abort on OOM: `infallible-alloc` is checked in these files.
//! [infallible-alloc]
//! modules = ["net::parser"]   # a module of the crate (from src/ paths) and its submodules
//! paths = ["src/oom_safe/"]   # path prefixes, relative to this file
//! ```
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::rules::{Level, RuleId};

/// Name of the stand-alone configuration file.
pub const CONFIG_FILE_NAME: &str = "oomcheck.toml";

/// Files above this size are skipped (with an error) unless `max-file-size` says otherwise.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// The configuration keys (kebab-case in TOML). Unknown keys are errors.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Extra allocation functions: a bare name (`try_alloc`) matches a call or method of that
    /// name; a path (`my_crate::buf::try_grow`) matches calls whose path ends with it.
    #[serde(default)]
    pub alloc_functions: Vec<String>,
    /// Extra names (variants, types, constants) that count as NoMemory-like.
    #[serde(default)]
    pub no_memory_names: Vec<String>,
    /// Gitignore-style patterns, relative to the configuration's directory, of files to skip
    /// (also when named on the command line).
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
    /// Files larger than this many bytes are skipped and reported (default 10 MiB).
    #[serde(default)]
    pub max_file_size: Option<u64>,
    /// Level per rule id.
    #[serde(default)]
    pub rules: RuleLevels,
    /// Where the opt-in `infallible-alloc` rule is checked.
    #[serde(default)]
    pub infallible_alloc: InfallibleAllocScopes,
    /// `[run]`: settings of `oomcheck run` (the linter ignores them).
    #[serde(default)]
    pub run: RunConfig,
}

/// `[run]`: what `oomcheck run` reads besides `no-memory-names`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunConfig {
    /// `[[run.allow]]`: expected sweep results, accepted with a reason.
    #[serde(default)]
    pub allow: Vec<RunAllow>,
}

/// One `[[run.allow]]` entry: an outcome (anywhere), or any finding at a site, or both.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunAllow {
    /// The sweep outcome accepted (`abort`, `wrong-error`, …); any when absent.
    #[serde(default)]
    pub outcome: Option<String>,
    /// Part of a stack frame's function path or `file:line`; any site when absent.
    #[serde(default)]
    pub site: Option<String>,
    /// Why the result is expected (shown with it).
    pub reason: String,
}

/// A configured rule level.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LevelSetting {
    /// Report as an error.
    Error,
    /// Report as a warning.
    Warn,
    /// Do not report.
    Off,
}

impl LevelSetting {
    /// The level findings get, `None` for `off`.
    pub fn level(self) -> Option<Level> {
        match self {
            LevelSetting::Error => Some(Level::Error),
            LevelSetting::Warn => Some(Level::Warn),
            LevelSetting::Off => None,
        }
    }
}

/// `[rules]`: one optional level per rule id; an unknown id is an error (naming the known ones).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct RuleLevels(BTreeMap<RuleId, LevelSetting>);

impl RuleLevels {
    /// The configured level of `rule`, if any.
    pub fn get(&self, rule: RuleId) -> Option<LevelSetting> {
        self.0.get(&rule).copied()
    }
}

/// `[infallible-alloc]`: the files in which aborting allocations are findings.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct InfallibleAllocScopes {
    /// Module paths of the crate (`net::parser`, optionally `crate::net::parser`), judged from
    /// the file's place under the crate's `src/`; submodules are included. `crate` is all of it.
    #[serde(default)]
    pub modules: Vec<String>,
    /// Path prefixes relative to the configuration's directory (`src/oom_safe/`).
    #[serde(default)]
    pub paths: Vec<String>,
}

/// A configuration that could not be loaded, with what is needed to point into the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", self.location())]
pub struct ConfigError {
    /// The file (oomcheck.toml or Cargo.toml).
    pub path: PathBuf,
    /// Its text (empty when it could not be read).
    pub text: String,
    /// The byte range the error is about, if known.
    pub span: Option<Range<usize>>,
    /// What is wrong, one line.
    pub message: String,
}

impl ConfigError {
    /// 1-based line and column (in characters) of the span's start.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        let start = self.span.as_ref()?.start.min(self.text.len());
        let before = self.text.get(..start)?;
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Some((line, before[line_start..].chars().count() + 1))
    }

    /// `path:line:col` (or just the path).
    pub fn location(&self) -> String {
        match self.line_col() {
            Some((l, c)) => format!("{}:{l}:{c}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }

    fn from_toml(path: &Path, text: &str, err: &toml::de::Error) -> ConfigError {
        ConfigError {
            path: path.to_path_buf(),
            text: text.to_string(),
            span: err.span(),
            message: format!(
                "invalid configuration: {}",
                err.message().trim().replace('\n', " ")
            ),
        }
    }
}

/// A configuration together with where it came from.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    /// The settings.
    pub config: Config,
    /// The file it was read from; `None` for the built-in defaults.
    pub source: Option<PathBuf>,
    /// The directory relative paths in it are resolved against.
    pub dir: PathBuf,
    excludes: ignore::gitignore::Gitignore,
}

impl LoadedConfig {
    /// The built-in defaults (no configuration file found), rooted at `dir`.
    pub fn defaults(dir: &Path) -> LoadedConfig {
        LoadedConfig {
            config: Config::default(),
            source: None,
            dir: dir.to_path_buf(),
            excludes: ignore::gitignore::Gitignore::empty(),
        }
    }

    fn new(
        config: Config,
        source: &Path,
        text: &str,
        dir: &Path,
    ) -> Result<LoadedConfig, ConfigError> {
        let mut builder = ignore::gitignore::GitignoreBuilder::new(dir);
        for pat in &config.exclude {
            if let Err(e) = builder.add_line(None, pat.get_ref()) {
                return Err(ConfigError {
                    path: source.to_path_buf(),
                    text: text.to_string(),
                    span: Some(pat.span()),
                    message: format!("invalid exclude pattern: {e}"),
                });
            }
        }
        let excludes = builder.build().map_err(|e| ConfigError {
            path: source.to_path_buf(),
            text: text.to_string(),
            span: None,
            message: format!("invalid exclude patterns: {e}"),
        })?;
        Ok(LoadedConfig {
            config,
            source: Some(source.to_path_buf()),
            dir: dir.to_path_buf(),
            excludes,
        })
    }

    /// Whether `path` (absolute, normalised) is excluded by the `exclude` patterns.
    pub fn is_excluded(&self, path: &Path, is_dir: bool) -> bool {
        if self.config.exclude.is_empty() || !path.starts_with(&self.dir) {
            return false;
        }
        self.excludes
            .matched_path_or_any_parents(path, is_dir)
            .is_ignore()
    }

    /// The size limit in bytes.
    pub fn max_file_size(&self) -> u64 {
        self.config.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE)
    }

    /// The level findings of `rule` get: the configured one, else `default`; `None` = off.
    pub fn level_of(&self, rule: RuleId, default: Option<Level>) -> Option<Level> {
        match self.config.rules.get(rule) {
            Some(setting) => setting.level(),
            None => default,
        }
    }

    /// Whether `infallible-alloc` is checked in `file` (absolute, normalised), whose crate root
    /// (the directory of its nearest Cargo.toml) is `crate_root`.
    pub fn infallible_alloc_checked(&self, file: &Path, crate_root: Option<&Path>) -> bool {
        let scopes = &self.config.infallible_alloc;
        if scopes
            .paths
            .iter()
            .any(|p| file.starts_with(normalize(&self.dir.join(p))))
        {
            return true;
        }
        if scopes.modules.is_empty() {
            return false;
        }
        let Some(module) = crate_root.and_then(|root| module_path(root, file)) else {
            return false;
        };
        scopes.modules.iter().any(|m| {
            let m = m.trim().trim_start_matches("crate::");
            m == "crate" || module == m || module.starts_with(&format!("{m}::"))
        })
    }
}

/// The module path (`net::parser`, empty for the crate root) of a file under `crate_root/src/`.
pub fn module_path(crate_root: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(crate_root.join("src")).ok()?;
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop()?;
    let stem = last.strip_suffix(".rs")?;
    let is_root_file = parts.is_empty() && (stem == "lib" || stem == "main");
    if stem != "mod" && !is_root_file {
        parts.push(stem.to_string());
    }
    Some(parts.join("::"))
}

/// Lexically normalise a path: make it absolute (against the current directory) and resolve
/// `.` and `..` without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Read the configuration of `dir`, if it holds one (`oomcheck.toml`, else the oomcheck table of
/// its Cargo.toml's `[package.metadata]`, else `[workspace.metadata]`).
pub fn load_dir(dir: &Path) -> Result<Option<LoadedConfig>, ConfigError> {
    let file = dir.join(CONFIG_FILE_NAME);
    if file.is_file() {
        return load_file(&file).map(Some);
    }
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Ok(None);
    }
    let text = read_text(&manifest)?;
    parse_manifest_config(&text, &manifest, dir)
}

/// The configuration in a Cargo.toml's text (`[package.metadata.oomcheck]`, else
/// `[workspace.metadata.oomcheck]`), if it has one; `manifest` names the file in errors and
/// relative paths are resolved against `dir`.
pub fn parse_manifest_config(
    text: &str,
    manifest: &Path,
    dir: &Path,
) -> Result<Option<LoadedConfig>, ConfigError> {
    let parsed: ManifestMeta =
        toml::from_str(text).map_err(|e| ConfigError::from_toml(manifest, text, &e))?;
    let from_meta = |m: Option<MetaHolder>| m.and_then(|h| h.metadata).and_then(|m| m.oomcheck);
    match from_meta(parsed.package).or_else(|| from_meta(parsed.workspace)) {
        Some(config) => LoadedConfig::new(config, manifest, text, dir).map(Some),
        None => Ok(None),
    }
}

/// Read a stand-alone configuration file (`--config FILE`); paths in it are relative to its
/// directory.
pub fn load_file(file: &Path) -> Result<LoadedConfig, ConfigError> {
    let text = read_text(file)?;
    let dir = normalize(file.parent().unwrap_or(Path::new(".")));
    parse_config(&text, file, &dir)
}

/// Parse and validate the text of an `oomcheck.toml` (unknown keys, rule ids and levels,
/// `exclude` patterns); `file` names it in errors and relative paths are resolved against `dir`.
pub fn parse_config(text: &str, file: &Path, dir: &Path) -> Result<LoadedConfig, ConfigError> {
    let config: Config =
        toml::from_str(text).map_err(|e| ConfigError::from_toml(file, text, &e))?;
    LoadedConfig::new(config, file, text, dir)
}

/// Find the configuration that governs `dir` (absolute) by walking up; the defaults (rooted
/// at `dir`) when there is none.
pub fn discover(dir: &Path) -> Result<LoadedConfig, ConfigError> {
    for ancestor in dir.ancestors() {
        if let Some(found) = load_dir(ancestor)? {
            return Ok(found);
        }
    }
    Ok(LoadedConfig::defaults(dir))
}

fn read_text(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        text: String::new(),
        span: None,
        message: format!("cannot read configuration: {e}"),
    })
}

/// The parts of a Cargo.toml that hold oomcheck's configuration (everything else is ignored).
#[derive(Deserialize)]
struct ManifestMeta {
    package: Option<MetaHolder>,
    workspace: Option<MetaHolder>,
}

#[derive(Deserialize)]
struct MetaHolder {
    metadata: Option<MetaTable>,
}

#[derive(Deserialize)]
struct MetaTable {
    oomcheck: Option<Config>,
}

/// What the driver needs from a Cargo.toml.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManifestInfo {
    /// The dependency names (package names, `-` as written) declared in `[dependencies]`,
    /// `[dev-dependencies]`, `[build-dependencies]`, their `[target.*]` forms and
    /// `[workspace.dependencies]`; renamed dependencies contribute both names.
    pub dependencies: Vec<String>,
    /// The manifest has a `[workspace]` table (it is a workspace root).
    pub is_workspace_root: bool,
}

/// Read the dependencies and the workspace flag of a Cargo.toml.
pub fn read_manifest(text: &str) -> Result<ManifestInfo, toml::de::Error> {
    let table: toml::Table = toml::from_str(text)?;
    let mut names = Vec::new();
    let mut add_deps = |deps: Option<&toml::Value>| {
        let Some(deps) = deps.and_then(|d| d.as_table()) else {
            return;
        };
        for (name, spec) in deps {
            names.push(name.clone());
            if let Some(pkg) = spec.get("package").and_then(|p| p.as_str()) {
                names.push(pkg.to_string());
            }
        }
    };
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        add_deps(table.get(key));
    }
    if let Some(targets) = table.get("target").and_then(|t| t.as_table()) {
        for target in targets.values() {
            for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
                add_deps(target.get(key));
            }
        }
    }
    add_deps(table.get("workspace").and_then(|w| w.get("dependencies")));
    names.sort();
    names.dedup();
    Ok(ManifestInfo {
        dependencies: names,
        is_workspace_root: table.contains_key("workspace"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        toml::from_str(text)
            .map_err(|e| ConfigError::from_toml(Path::new("oomcheck.toml"), text, &e))
    }

    #[test]
    fn full_config_parses() {
        let c = parse(
            "alloc-functions = [\"try_grow\"]\nno-memory-names = [\"Exhausted\"]\n\
             exclude = [\"vendor/\"]\nmax-file-size = 100\n[rules]\nswallowed-alloc-failure = \"warn\"\n\
             unchecked-raw-alloc = \"off\"\n[infallible-alloc]\nmodules = [\"net\"]\npaths = [\"src/x\"]\n",
        )
        .unwrap();
        assert_eq!(c.alloc_functions, vec!["try_grow"]);
        assert_eq!(
            c.rules.get(RuleId::SwallowedAllocFailure),
            Some(LevelSetting::Warn)
        );
        assert_eq!(
            c.rules.get(RuleId::UncheckedRawAlloc),
            Some(LevelSetting::Off)
        );
        assert_eq!(c.rules.get(RuleId::PanicOnAllocFailure), None);
        assert_eq!(c.max_file_size, Some(100));
        assert_eq!(c.infallible_alloc.modules, vec!["net"]);
    }

    #[test]
    fn unknown_key_names_the_key_and_line() {
        let e = parse("alloc-functions = []\n\nalloc-fns = [\"x\"]\n").unwrap_err();
        assert!(e.message.contains("alloc-fns"), "{}", e.message);
        assert_eq!(e.line_col(), Some((3, 1)));
        assert!(e.to_string().starts_with("oomcheck.toml:3:1: "), "{e}");
    }

    #[test]
    fn unknown_rule_and_bad_level_are_errors() {
        let e = parse("[rules]\nno-such-rule = \"warn\"\n").unwrap_err();
        assert!(e.message.contains("no-such-rule"), "{}", e.message);
        assert_eq!(e.line_col().map(|l| l.0), Some(2));
        let e = parse("[rules]\nunchecked-raw-alloc = \"loud\"\n").unwrap_err();
        assert!(e.message.contains("loud"), "{}", e.message);
        assert_eq!(e.line_col().map(|l| l.0), Some(2));
    }

    #[test]
    fn module_paths_follow_the_src_layout() {
        let root = Path::new("/c");
        assert_eq!(
            module_path(root, Path::new("/c/src/lib.rs")).as_deref(),
            Some("")
        );
        assert_eq!(
            module_path(root, Path::new("/c/src/net/mod.rs")).as_deref(),
            Some("net")
        );
        assert_eq!(
            module_path(root, Path::new("/c/src/net/parser.rs")).as_deref(),
            Some("net::parser")
        );
        assert_eq!(module_path(root, Path::new("/c/tests/a.rs")), None);
    }

    #[test]
    fn infallible_scopes_match_modules_and_paths() {
        let mut lc = LoadedConfig::defaults(Path::new("/c"));
        lc.config.infallible_alloc.modules = vec!["crate::net".into()];
        lc.config.infallible_alloc.paths = vec!["src/safe".into()];
        let root = Some(Path::new("/c"));
        assert!(lc.infallible_alloc_checked(Path::new("/c/src/net/parser.rs"), root));
        assert!(lc.infallible_alloc_checked(Path::new("/c/src/net.rs"), root));
        assert!(!lc.infallible_alloc_checked(Path::new("/c/src/network.rs"), root));
        assert!(lc.infallible_alloc_checked(Path::new("/c/src/safe/a.rs"), root));
        assert!(!lc.infallible_alloc_checked(Path::new("/c/src/lib.rs"), root));
    }

    #[test]
    fn dependencies_include_renames_targets_and_workspace() {
        let info = read_manifest(
            "[dependencies]\nsmallvec = \"1\"\nhb = { package = \"hashbrown\", version = \"0.14\" }\n\
             [target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n[workspace.dependencies]\nallocator-api2 = \"0.2\"\n",
        )
        .unwrap();
        assert_eq!(
            info.dependencies,
            vec!["allocator-api2", "hashbrown", "hb", "libc", "smallvec"]
        );
        assert!(info.is_workspace_root);
        let plain = read_manifest("[package]\nname = \"x\"\n").unwrap();
        assert!(!plain.is_workspace_root);
    }
}
