//! Planning a run: which walked files are checked, under which configuration (found by
//! walking up, cached per folder), in which group (one configuration and one Cargo workspace:
//! allocation wrappers and packs of one workspace say nothing about an unrelated crate linted
//! in the same run), with which dependencies (for pack activation) and how many workers.
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::report::{LintError, Stats};
use crate::config::{self, ConfigError, LoadedConfig};
use crate::finding::{FileError, FileProblem};
use crate::walk::{self, io_message, CrateRoots, WalkedFile};

/// One file that passed walking, exclusion and the test-code rule.
pub(crate) struct Candidate {
    /// The path as shown to the user.
    pub path: PathBuf,
    /// The absolute, normalised path.
    pub abs: PathBuf,
    /// The folder of its crate's Cargo.toml, if any.
    pub crate_root: Option<PathBuf>,
    /// Test code by place (`tests/`, `benches/`, `examples/` of its crate).
    pub is_test_file: bool,
}

/// The files analysed together: one configuration, one Cargo workspace.
pub(crate) struct Group {
    /// The configuration governing the files.
    pub cfg: Arc<LoadedConfig>,
    /// Dependencies of its crates and workspace (for pack activation).
    pub deps: Vec<String>,
    /// The files.
    pub files: Vec<Candidate>,
    /// Worker threads for parsing and analysis.
    pub workers: usize,
}

/// The groups of a run, and what planning found on the way.
#[derive(Default)]
pub(crate) struct Plan {
    /// The groups, in walk order of their first file.
    pub groups: Vec<Group>,
    /// Invalid configurations (each once) and unreadable manifests.
    pub errors: Vec<LintError>,
    /// `files_found` and `test_files_skipped`.
    pub stats: Stats,
}

/// Plan the run over the walked `files`: `explicit_config` (from `--config`) governs every file
/// when given; `threads` are shared among the groups.
pub(crate) fn plan(
    files: Vec<WalkedFile>,
    explicit_config: Option<Arc<LoadedConfig>>,
    include_tests: bool,
    threads: usize,
) -> Plan {
    let mut out = Plan::default();
    let mut configs = ConfigCache::default();
    let mut roots = CrateRoots::default();
    let mut groups: Vec<(Arc<LoadedConfig>, Option<PathBuf>, Vec<Candidate>)> = Vec::new();
    let mut manifests = ManifestCache::default();
    let mut bad_configs = BTreeSet::new();
    for file in files {
        let abs = config::normalize(&file.path);
        let dir = abs.parent().unwrap_or(Path::new("/")).to_path_buf();
        let cfg = match &explicit_config {
            Some(c) => c.clone(),
            None => match configs.get(&dir) {
                Ok(c) => c,
                Err(e) => {
                    if bad_configs.insert(e.path.clone()) {
                        out.errors.push(LintError::Config(e));
                    }
                    continue;
                }
            },
        };
        if cfg.is_excluded(&abs, false) {
            continue;
        }
        out.stats.files_found += 1;
        let crate_root = roots.crate_root(&dir);
        let is_test_file = walk::is_test_path(&abs, crate_root.as_deref());
        if is_test_file && !include_tests {
            out.stats.test_files_skipped += 1;
            continue;
        }
        let cand = Candidate {
            path: file.path,
            abs,
            crate_root,
            is_test_file,
        };
        let workspace = cand
            .crate_root
            .as_deref()
            .map(|r| manifests.workspace_root(r));
        match groups
            .iter_mut()
            .find(|(c, w, _)| Arc::ptr_eq(c, &cfg) && *w == workspace)
        {
            Some((_, _, files)) => files.push(cand),
            None => groups.push((cfg, workspace, vec![cand])),
        }
    }

    // Dependencies of the crates (and workspace) of each group, read up front.
    let total_files: usize = groups.iter().map(|g| g.2.len()).sum::<usize>().max(1);
    let threads = threads.max(1);
    out.groups = groups
        .into_iter()
        .map(|(cfg, workspace, files)| {
            let mut deps = BTreeSet::new();
            let roots: BTreeSet<&Path> = files
                .iter()
                .filter_map(|c| c.crate_root.as_deref())
                .collect();
            for root in workspace.as_deref().into_iter().chain(roots) {
                deps.extend(manifests.dependencies(root).iter().cloned());
            }
            // Many small workspaces (a dependency tree) run side by side, one worker each; a
            // big one gets a share of the threads matching its share of the files.
            let workers = (threads * files.len())
                .div_ceil(total_files)
                .clamp(1, threads);
            Group {
                cfg,
                deps: deps.into_iter().collect(),
                files,
                workers,
            }
        })
        .collect();
    out.errors
        .extend(manifests.errors.into_iter().map(LintError::File));
    out
}

/// `path` relative to the current directory when it is inside it (for messages).
fn relative_to_cwd(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(config::normalize(&cwd)).ok())
        .filter(|rel| !rel.as_os_str().is_empty())
        .map_or_else(|| path.to_path_buf(), Path::to_path_buf)
}

/// Configuration lookups, cached per folder (each ancestor is read once).
#[derive(Default)]
struct ConfigCache {
    by_dir: HashMap<PathBuf, Result<Arc<LoadedConfig>, ConfigError>>,
}

impl ConfigCache {
    fn get(&mut self, dir: &Path) -> Result<Arc<LoadedConfig>, ConfigError> {
        if let Some(hit) = self.by_dir.get(dir) {
            return hit.clone();
        }
        let found = match config::load_dir(dir) {
            Ok(Some(c)) => Ok(Arc::new(c)),
            Ok(None) => match dir.parent() {
                Some(parent) => self.get(parent),
                None => Ok(Arc::new(LoadedConfig::defaults(dir))),
            },
            Err(mut e) => {
                e.path = relative_to_cwd(&e.path);
                Err(e)
            }
        };
        self.by_dir.insert(dir.to_path_buf(), found.clone());
        found
    }
}

/// Cargo.toml facts per crate root, read once; unreadable manifests are reported once.
#[derive(Default)]
struct ManifestCache {
    info: HashMap<PathBuf, config::ManifestInfo>,
    workspace_of: HashMap<PathBuf, PathBuf>,
    errors: Vec<FileError>,
}

impl ManifestCache {
    fn info(&mut self, root: &Path) -> &config::ManifestInfo {
        if !self.info.contains_key(root) {
            let manifest = root.join("Cargo.toml");
            let info = match std::fs::read_to_string(&manifest) {
                Ok(text) => match config::read_manifest(&text) {
                    Ok(info) => info,
                    Err(e) => {
                        let mut fe = FileError::new(
                            relative_to_cwd(&manifest),
                            FileProblem::Dependencies(e.message().trim().replace('\n', " ")),
                        );
                        if let Some(before) = e.span().and_then(|s| text.get(..s.start)) {
                            fe.line = Some(before.matches('\n').count() + 1);
                        }
                        self.errors.push(fe);
                        config::ManifestInfo::default()
                    }
                },
                Err(e) => {
                    self.errors.push(FileError::new(
                        relative_to_cwd(&manifest),
                        FileProblem::Unreadable(io_message(&e)),
                    ));
                    config::ManifestInfo::default()
                }
            };
            self.info.insert(root.to_path_buf(), info);
        }
        &self.info[root]
    }

    fn dependencies(&mut self, root: &Path) -> &[String] {
        &self.info(root).dependencies
    }

    /// The workspace a crate belongs to: the nearest folder at or above `crate_root` whose
    /// Cargo.toml has a `[workspace]` table, else the crate itself.
    fn workspace_root(&mut self, crate_root: &Path) -> PathBuf {
        if let Some(ws) = self.workspace_of.get(crate_root) {
            return ws.clone();
        }
        let mut found = crate_root.to_path_buf();
        for dir in crate_root.ancestors() {
            if dir.join("Cargo.toml").is_file() && self.info(dir).is_workspace_root {
                found = dir.to_path_buf();
                break;
            }
        }
        self.workspace_of
            .insert(crate_root.to_path_buf(), found.clone());
        found
    }
}
