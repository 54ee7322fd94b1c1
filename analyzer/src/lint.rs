//! The driver: paths + configuration → findings and per-file errors.
//!
//! Data flow: [`walk`](crate::walk) the paths → find each file's configuration (walking up) and
//! crate (nearest Cargo.toml) → drop excluded files and test code → read (size limit, UTF-8) →
//! activate the rule packs from the crates' dependencies and the sources → text prefilter with
//! the packs' needles → parse in parallel → a second prefilter pass for callers of allocation
//! wrappers found in the parsed files (to a fixed point) → [`analyze`] → configured levels.
//!
//! Parsing, analysis and dropping of syntax trees all run on worker threads with a large stack
//! ([`WORKER_STACK_SIZE`]), so deeply nested expressions do not overflow it.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use quote::ToTokens;
use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::{analyze, Settings, SourceFile};
use crate::config::{self, ConfigError, LoadedConfig};
use crate::finding::Finding;
use crate::packs;
use crate::walk::{self, io_message, CrateRoots};

/// Stack size of the worker threads that parse and analyse (recursion depth of `syn` and of the
/// visitors grows with expression nesting; only the pages used are committed, so this is
/// address space, not memory). 1 GiB on 64-bit targets: a debug build of `syn` needs about
/// 13 KiB of stack per level of nested parentheses, so 256 MiB overflowed at 20 000 levels.
pub const WORKER_STACK_SIZE: usize = if cfg!(target_pointer_width = "64") {
    1024 * 1024 * 1024
} else {
    256 * 1024 * 1024
};

/// What to lint and how.
#[derive(Clone, Debug, Default)]
pub struct LintOptions {
    /// Files and folders; empty means the current directory.
    pub paths: Vec<PathBuf>,
    /// Also check test code (`tests/`, `benches/`, `examples/`, `#[cfg(test)]`, `#[test]`).
    pub include_tests: bool,
    /// Use this configuration file instead of discovering one.
    pub config: Option<PathBuf>,
    /// Worker threads (`None`: one per CPU).
    pub jobs: Option<usize>,
}

/// A file that could not be checked (or a path that could not be walked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}: {message}", self.location())]
pub struct FileError {
    /// The file, as given or discovered.
    pub path: PathBuf,
    /// 1-based line, when the error has a place in the file.
    pub line: Option<usize>,
    /// 1-based column (characters), when the error has a place in the file.
    pub column: Option<usize>,
    /// One line, lower-case start: what went wrong.
    pub message: String,
}

impl FileError {
    /// An error about a whole file.
    pub fn new(path: PathBuf, message: String) -> FileError {
        FileError {
            path,
            line: None,
            column: None,
            message,
        }
    }

    /// `path:line:col`, `path` or nothing.
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.path.display()),
            (Some(l), None) => format!("{}:{l}", self.path.display()),
            _ => self.path.display().to_string(),
        }
    }
}

/// Anything that makes the run incomplete (exit code 2).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LintError {
    /// A configuration file is invalid; the files it governs were not checked.
    #[error(transparent)]
    Config(ConfigError),
    /// A file or path could not be checked.
    #[error(transparent)]
    File(FileError),
}

/// Counters, for the summary line and the benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Rust files found (after `exclude`), test files included.
    pub files_found: usize,
    /// Test files skipped (no `--include-tests`).
    pub test_files_skipped: usize,
    /// Files read and considered.
    pub files_checked: usize,
    /// Files that passed the prefilter and were parsed.
    pub files_parsed: usize,
    /// Bytes of the files read.
    pub bytes_read: u64,
    /// Bytes of the files parsed.
    pub bytes_parsed: u64,
}

/// The result of a lint run.
#[derive(Debug, Default)]
pub struct LintReport {
    /// Findings at their configured level (rules set to `off` removed), sorted by path, span.
    pub findings: Vec<Finding>,
    /// Problems that stopped a file (or configuration) from being checked, sorted by path.
    pub errors: Vec<LintError>,
    /// The text of every file that has a finding (for rendering snippets).
    pub sources: BTreeMap<PathBuf, Arc<str>>,
    /// Counters.
    pub stats: Stats,
}

/// One file that passed walking, exclusion and the test-code rule.
struct Candidate {
    path: PathBuf,
    abs: PathBuf,
    crate_root: Option<PathBuf>,
    is_test_file: bool,
}

/// A file read into memory.
struct Loaded {
    cand: Candidate,
    text: String,
    infallible_alloc_checked: bool,
}

/// Lint `opts.paths`.
pub fn lint(opts: &LintOptions) -> LintReport {
    let mut report = LintReport::default();
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .stack_size(WORKER_STACK_SIZE)
        .thread_name(|i| format!("oomcheck-lint-{i}"))
        .build()
    {
        Ok(pool) => pool,
        Err(e) => {
            report.errors.push(LintError::File(FileError::new(
                PathBuf::new(),
                format!("cannot start worker threads: {e}"),
            )));
            return report;
        }
    };

    let explicit_config = match &opts.config {
        Some(file) => match config::load_file(file) {
            Ok(c) => Some(Arc::new(c)),
            Err(e) => {
                report.errors.push(LintError::Config(e));
                return report;
            }
        },
        None => None,
    };

    let default_paths = [PathBuf::from(".")];
    let paths = if opts.paths.is_empty() {
        &default_paths[..]
    } else {
        &opts.paths[..]
    };
    let walked = walk::walk(paths);
    report
        .errors
        .extend(walked.errors.into_iter().map(LintError::File));

    // Group the files by the configuration that governs them.
    let mut configs = ConfigCache::default();
    let mut roots = CrateRoots::default();
    let mut groups: Vec<(Arc<LoadedConfig>, Vec<Candidate>)> = Vec::new();
    let mut bad_configs = BTreeSet::new();
    for file in walked.files {
        let abs = config::normalize(&file.path);
        let dir = abs.parent().unwrap_or(Path::new("/")).to_path_buf();
        let cfg = match &explicit_config {
            Some(c) => c.clone(),
            None => match configs.get(&dir) {
                Ok(c) => c,
                Err(e) => {
                    if bad_configs.insert(e.path.clone()) {
                        report.errors.push(LintError::Config(e));
                    }
                    continue;
                }
            },
        };
        if cfg.is_excluded(&abs, false) {
            continue;
        }
        report.stats.files_found += 1;
        let crate_root = roots.crate_root(&dir);
        let is_test_file = walk::is_test_path(&abs, crate_root.as_deref());
        if is_test_file && !opts.include_tests {
            report.stats.test_files_skipped += 1;
            continue;
        }
        let cand = Candidate {
            path: file.path,
            abs,
            crate_root,
            is_test_file,
        };
        match groups.iter_mut().find(|(c, _)| Arc::ptr_eq(c, &cfg)) {
            Some((_, files)) => files.push(cand),
            None => groups.push((cfg, vec![cand])),
        }
    }

    let mut manifests = ManifestCache::default();
    for (cfg, files) in groups {
        lint_group(
            &pool,
            &cfg,
            files,
            opts.include_tests,
            &mut manifests,
            &mut report,
        );
    }
    report
        .errors
        .extend(manifests.errors.into_iter().map(LintError::File));

    report.findings.sort_by(|a, b| {
        (&a.path, a.span, a.rule, &a.message).cmp(&(&b.path, b.span, b.rule, &b.message))
    });
    report.findings.dedup();
    report.errors.sort_by_key(error_key);
    report
}

fn error_key(e: &LintError) -> (PathBuf, usize, usize, String) {
    match e {
        LintError::Config(c) => {
            let (l, col) = c.line_col().unwrap_or((0, 0));
            (c.path.clone(), l, col, c.message.clone())
        }
        LintError::File(f) => (
            f.path.clone(),
            f.line.unwrap_or(0),
            f.column.unwrap_or(0),
            f.message.clone(),
        ),
    }
}

/// Lint the files governed by one configuration (wrapper discovery spans all of them).
fn lint_group(
    pool: &rayon::ThreadPool,
    cfg: &LoadedConfig,
    files: Vec<Candidate>,
    include_tests: bool,
    manifests: &mut ManifestCache,
    report: &mut LintReport,
) {
    let read: Vec<Result<Loaded, FileError>> =
        pool.install(|| files.into_par_iter().map(|c| read_file(c, cfg)).collect());
    let mut loaded = Vec::with_capacity(read.len());
    for r in read {
        match r {
            Ok(l) => {
                report.stats.files_checked += 1;
                report.stats.bytes_read += l.text.len() as u64;
                loaded.push(l);
            }
            Err(e) => report.errors.push(LintError::File(e)),
        }
    }
    if loaded.is_empty() {
        return;
    }

    let mut deps = BTreeSet::new();
    for root in loaded.iter().filter_map(|l| l.cand.crate_root.as_deref()) {
        deps.extend(manifests.dependencies(root).iter().cloned());
    }
    let deps: Vec<String> = deps.into_iter().collect();
    let packs = packs::activate(&deps, loaded.iter().map(|l| l.text.as_str()));
    let mut settings = Settings {
        packs,
        extra_alloc_functions: cfg.config.alloc_functions.clone(),
        extra_no_memory_names: cfg.config.no_memory_names.clone(),
        include_tests,
    };
    let needles = settings
        .packs
        .prefilter_needles(&settings.extra_alloc_functions);
    let error_types = wrapper_error_types(&needles);

    let workers = pool.current_num_threads().max(1);
    let outcome = std::thread::scope(|scope| {
        let mut crew = Crew::start(scope, workers, &error_types);
        let mut pending: Vec<Option<Loaded>> = loaded.into_iter().map(Some).collect();
        let mut round_needles = needles.clone();
        let mut wrappers: BTreeSet<String> = BTreeSet::new();
        // Round one parses the files that mention an allocation name; later rounds parse the
        // files that mention an allocation wrapper found in a file parsed before.
        while !round_needles.is_empty() {
            let chosen = match AhoCorasick::new(&round_needles) {
                Ok(m) => pool.install(|| {
                    let hits: Vec<bool> = pending
                        .par_iter()
                        .map(|s| {
                            // In an OOM-safe scope every aborting allocation is a finding, so
                            // the file is parsed whatever it mentions.
                            s.as_ref()
                                .is_some_and(|l| l.infallible_alloc_checked || m.is_match(&l.text))
                        })
                        .collect();
                    hits
                }),
                // Needles that cannot be compiled (absurdly many): parse everything.
                Err(_) => vec![true; pending.len()],
            };
            let batch: Vec<Loaded> = pending
                .iter_mut()
                .zip(chosen)
                .filter(|(_, hit)| *hit)
                .filter_map(|(slot, _)| slot.take())
                .collect();
            if batch.is_empty() {
                break;
            }
            let found = crew.parse(batch);
            round_needles = found
                .into_iter()
                .filter(|w| wrappers.insert(w.clone()))
                .map(|w| w.rsplit("::").next().unwrap_or(&w).to_string())
                .collect();
        }
        // Wrappers cross files, and files are analysed where they were parsed (syn trees and
        // their spans are tied to their thread): every worker learns every wrapper's name.
        settings.extra_alloc_functions.extend(wrappers);
        crew.analyze(Arc::new(settings))
    });
    report.stats.files_parsed += outcome.files_parsed;
    report.stats.bytes_parsed += outcome.bytes_parsed;
    report
        .errors
        .extend(outcome.errors.into_iter().map(LintError::File));
    for mut f in outcome.findings {
        let default = f.level;
        if let Some(level) = cfg.level_of(f.rule, Some(default)) {
            f.level = level;
            report.findings.push(f);
        }
    }
    report.sources.extend(outcome.texts);
}

/// What the workers hand back at the end.
#[derive(Default)]
struct CrewOutcome {
    findings: Vec<Finding>,
    errors: Vec<FileError>,
    texts: BTreeMap<PathBuf, Arc<str>>,
    files_parsed: usize,
    bytes_parsed: u64,
}

enum Command {
    Parse(Vec<Loaded>),
    Analyze(Arc<Settings>),
}

enum Reply {
    Parsed { wrappers: Vec<String> },
    Analyzed(CrewOutcome),
}

/// Worker threads with large stacks that keep the syntax trees of the files they parsed (a
/// `syn::File` is neither `Send` nor meaningful on another thread: its spans index a
/// thread-local source map) and analyse them at the end.
struct Crew {
    commands: Vec<std::sync::mpsc::Sender<Command>>,
    replies: std::sync::mpsc::Receiver<Reply>,
    /// Bytes handed to each worker so far, to balance the load.
    load: Vec<u64>,
    /// Workers that could not be started or have stopped answering.
    lost: Vec<String>,
}

impl Crew {
    fn start<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        n: usize,
        error_types: &'scope [String],
    ) -> Crew {
        let (reply_tx, replies) = std::sync::mpsc::channel();
        let mut commands = Vec::new();
        let mut lost = Vec::new();
        for i in 0..n {
            let (tx, rx) = std::sync::mpsc::channel::<Command>();
            let reply_tx = reply_tx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("oomcheck-parse-{i}"))
                .stack_size(WORKER_STACK_SIZE)
                .spawn_scoped(scope, move || worker(rx, reply_tx, error_types));
            match spawned {
                Ok(_) => commands.push(tx),
                Err(e) => lost.push(format!("cannot start a worker thread: {e}")),
            }
        }
        Crew {
            load: vec![0; commands.len()],
            commands,
            replies,
            lost,
        }
    }

    /// Parse `batch` (spread over the workers by size); the possible wrapper names found.
    fn parse(&mut self, mut batch: Vec<Loaded>) -> Vec<String> {
        if self.commands.is_empty() {
            return Vec::new();
        }
        batch.sort_by_key(|l| std::cmp::Reverse(l.text.len()));
        let mut shares: Vec<Vec<Loaded>> = (0..self.commands.len()).map(|_| Vec::new()).collect();
        for l in batch {
            let (i, _) = self
                .load
                .iter()
                .enumerate()
                .min_by_key(|(_, b)| **b)
                .unwrap_or((0, &0));
            self.load[i] += l.text.len() as u64;
            shares[i].push(l);
        }
        let mut asked = 0;
        for (tx, share) in self.commands.iter().zip(shares) {
            if tx.send(Command::Parse(share)).is_ok() {
                asked += 1;
            }
        }
        let mut names = Vec::new();
        for _ in 0..asked {
            match self.replies.recv() {
                Ok(Reply::Parsed { wrappers }) => names.extend(wrappers),
                Ok(Reply::Analyzed(_)) | Err(_) => {
                    self.lost
                        .push("a worker thread stopped unexpectedly".to_string());
                    break;
                }
            }
        }
        names.sort();
        names.dedup();
        names
    }

    /// Analyse everything parsed, stop the workers, and merge their results.
    fn analyze(self, settings: Arc<Settings>) -> CrewOutcome {
        let mut out = CrewOutcome::default();
        let mut asked = 0;
        for tx in &self.commands {
            if tx.send(Command::Analyze(settings.clone())).is_ok() {
                asked += 1;
            }
        }
        drop(self.commands);
        for _ in 0..asked {
            match self.replies.recv() {
                Ok(Reply::Analyzed(part)) => {
                    out.findings.extend(part.findings);
                    out.errors.extend(part.errors);
                    out.texts.extend(part.texts);
                    out.files_parsed += part.files_parsed;
                    out.bytes_parsed += part.bytes_parsed;
                }
                Ok(Reply::Parsed { .. }) | Err(_) => {
                    out.errors.push(FileError::new(
                        PathBuf::new(),
                        "internal error: a worker thread stopped unexpectedly".to_string(),
                    ));
                    break;
                }
            }
        }
        for message in self.lost {
            out.errors.push(FileError::new(
                PathBuf::new(),
                format!("internal error: {message}"),
            ));
        }
        out
    }
}

/// One worker: parse what it is given, keep the trees, analyse them when told.
fn worker(
    commands: std::sync::mpsc::Receiver<Command>,
    replies: std::sync::mpsc::Sender<Reply>,
    error_types: &[String],
) {
    let mut files: Vec<SourceFile> = Vec::new();
    let mut errors: Vec<FileError> = Vec::new();
    while let Ok(command) = commands.recv() {
        match command {
            Command::Parse(batch) => {
                let mut wrappers = Vec::new();
                for l in batch {
                    let path = l.cand.path.clone();
                    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(l))) {
                        Ok(Ok(sf)) => {
                            wrappers.extend(wrapper_candidates(&sf.syntax, error_types));
                            files.push(sf);
                        }
                        Ok(Err(e)) => errors.push(e),
                        Err(_) => errors.push(FileError::new(
                            path,
                            "internal error: the parser panicked".to_string(),
                        )),
                    }
                }
                if replies.send(Reply::Parsed { wrappers }).is_err() {
                    return;
                }
            }
            Command::Analyze(settings) => {
                let mut out = CrewOutcome {
                    files_parsed: files.len(),
                    bytes_parsed: files.iter().map(|f| f.text.len() as u64).sum(),
                    ..CrewOutcome::default()
                };
                if !files.is_empty() {
                    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        analyze(&files, &settings)
                    }));
                    match run {
                        Ok(findings) => out.findings = findings,
                        Err(panic) => {
                            let what = panic
                                .downcast_ref::<&str>()
                                .map(|s| s.to_string())
                                .or_else(|| panic.downcast_ref::<String>().cloned())
                                .unwrap_or_default();
                            for f in &files {
                                out.errors.push(FileError::new(
                                    f.path.clone(),
                                    format!("internal error: the analysis panicked: {what}"),
                                ));
                            }
                        }
                    }
                }
                let with_findings: BTreeSet<&Path> =
                    out.findings.iter().map(|f| f.path.as_path()).collect();
                out.texts = files
                    .iter()
                    .filter(|f| with_findings.contains(f.path.as_path()))
                    .map(|f| (f.path.clone(), Arc::from(f.text.as_str())))
                    .collect();
                out.errors.append(&mut errors);
                // Syntax trees of deeply nested code drop recursively: drop them on this stack.
                drop(std::mem::take(&mut files));
                let _ = replies.send(Reply::Analyzed(out));
                return;
            }
        }
    }
}

/// Read a file with the size limit and the UTF-8 check.
fn read_file(cand: Candidate, cfg: &LoadedConfig) -> Result<Loaded, FileError> {
    let max_size = cfg.max_file_size();
    let err = |message: String| FileError::new(cand.path.clone(), message);
    let meta = std::fs::metadata(&cand.path)
        .map_err(|e| err(format!("cannot read: {}", io_message(&e))))?;
    if !meta.is_file() {
        // Reading a FIFO would block until someone writes to it.
        return Err(err("not a regular file".to_string()));
    }
    if meta.len() > max_size {
        return Err(err(format!(
            "skipped: the file is {} bytes, more than the limit of {max_size} (max-file-size)",
            meta.len()
        )));
    }
    let bytes =
        std::fs::read(&cand.path).map_err(|e| err(format!("cannot read: {}", io_message(&e))))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Loaded {
            infallible_alloc_checked: cfg
                .infallible_alloc_checked(&cand.abs, cand.crate_root.as_deref()),
            cand,
            text,
        }),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&valid[line_start..])
                .chars()
                .count()
                + 1;
            Err(FileError {
                path: cand.path.clone(),
                line: Some(line),
                column: Some(column),
                message: "not valid UTF-8".to_string(),
            })
        }
    }
}

/// Parse one file into a [`SourceFile`].
fn parse(l: Loaded) -> Result<SourceFile, FileError> {
    let syntax = parse_source(&l.cand.path, &l.text)?;
    Ok(SourceFile {
        path: l.cand.path,
        text: l.text,
        syntax,
        is_test_file: l.cand.is_test_file,
        infallible_alloc_checked: l.infallible_alloc_checked,
    })
}

/// `syn::parse_file`, with a parse error as a [`FileError`] at the parser's location.
fn parse_source(path: &Path, text: &str) -> Result<syn::File, FileError> {
    syn::parse_file(text).map_err(|e| {
        let start = e.span().start();
        FileError {
            path: path.to_path_buf(),
            line: Some(start.line.max(1)),
            column: Some(start.column + 1),
            message: format!("cannot parse: {e}"),
        }
    })
}

/// The allocation error types among the prefilter needles (`TryReserveError`, `AllocError`…):
/// a function whose return type names one may be an allocation wrapper.
fn wrapper_error_types(needles: &[String]) -> Vec<String> {
    needles
        .iter()
        .filter(|n| n.starts_with(|c: char| c.is_ascii_uppercase()))
        .cloned()
        .collect()
}

/// Lint one file's text on its own, the way [`lint`] treats each parsed file: parse, find the
/// allocation wrappers it defines (added to the allocation functions, as the driver does across
/// files), then analyse with suppression comments and `unused-allow`. No prefilter, no
/// configured levels (findings keep their default level), no panic catching: this is the
/// single-file entry point for fuzzing and tests.
///
/// Runs on the calling thread: `syn` and the analysis recurse with expression nesting, so call
/// it from a thread with a stack of [`WORKER_STACK_SIZE`] for untrusted input, as the driver
/// does. The syntax tree is dropped on the calling thread too.
pub fn lint_source(
    path: &Path,
    text: &str,
    is_test_file: bool,
    infallible_alloc_checked: bool,
    settings: &Settings,
) -> Result<Vec<Finding>, FileError> {
    let syntax = parse_source(path, text)?;
    let needles = settings
        .packs
        .prefilter_needles(&settings.extra_alloc_functions);
    let wrappers = wrapper_candidates(&syntax, &wrapper_error_types(&needles));
    let mut settings = settings.clone();
    settings.extra_alloc_functions.extend(wrappers);
    let files = [SourceFile {
        path: path.to_path_buf(),
        text: text.to_string(),
        syntax,
        is_test_file,
        infallible_alloc_checked,
    }];
    Ok(analyze(&files, &settings))
}

/// Functions in `file` whose return type is a `Result` naming one of `error_types` (allocation
/// error types): possible allocation wrappers. Methods with a receiver are named bare
/// (`try_grow`, matched as a method call), associated functions as `Type::name`, free
/// functions bare.
pub fn wrapper_candidates(file: &syn::File, error_types: &[String]) -> Vec<String> {
    struct Collect<'a> {
        error_types: &'a [String],
        self_ty: Option<String>,
        out: Vec<String>,
    }
    impl Collect<'_> {
        fn check(&mut self, sig: &syn::Signature) {
            let syn::ReturnType::Type(_, ty) = &sig.output else {
                return;
            };
            let text = ty.to_token_stream().to_string();
            if !text.contains("Result")
                || !self.error_types.iter().any(|n| text.contains(n.as_str()))
            {
                return;
            }
            let name = sig.ident.to_string();
            match (&self.self_ty, sig.receiver()) {
                (Some(ty), None) => self.out.push(format!("{ty}::{name}")),
                _ => self.out.push(name),
            }
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Collect<'_> {
        fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
            let outer = self.self_ty.take();
            self.check(&f.sig);
            syn::visit::visit_item_fn(self, f);
            self.self_ty = outer;
        }
        fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
            let outer = self.self_ty.take();
            if let syn::Type::Path(p) = &*i.self_ty {
                self.self_ty = p.path.segments.last().map(|s| s.ident.to_string());
            }
            syn::visit::visit_item_impl(self, i);
            self.self_ty = outer;
        }
        fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
            self.check(&f.sig);
            syn::visit::visit_impl_item_fn(self, f);
        }
        fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
            // Trait methods are called as methods (or `Trait::name`, which ends with `name`).
            let outer = self.self_ty.take();
            self.check(&f.sig);
            syn::visit::visit_trait_item_fn(self, f);
            self.self_ty = outer;
        }
    }
    let mut c = Collect {
        error_types,
        self_ty: None,
        out: Vec::new(),
    };
    syn::visit::visit_file(&mut c, file);
    c.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_candidates_are_named_by_how_they_are_called() {
        let file = syn::parse_file(
            "fn grow(v: &mut Vec<u8>) -> Result<(), TryReserveError> { v.try_reserve(1) }\n\
             fn plain() -> Result<(), io::Error> { Ok(()) }\n\
             impl Buf { fn with_room(n: usize) -> Result<Self, TryReserveError> { todo!() }\n\
             fn extend(&mut self) -> Result<(), std::collections::TryReserveError> { todo!() } }\n",
        )
        .unwrap();
        let names = wrapper_candidates(&file, &["TryReserveError".to_string()]);
        assert_eq!(names, vec!["grow", "Buf::with_room", "extend"]);
    }
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
            Err(e) => Err(e),
        };
        self.by_dir.insert(dir.to_path_buf(), found.clone());
        found
    }
}

/// Dependencies per crate root, read once; unreadable manifests are reported once.
#[derive(Default)]
struct ManifestCache {
    deps: HashMap<PathBuf, Vec<String>>,
    errors: Vec<FileError>,
}

impl ManifestCache {
    fn dependencies(&mut self, root: &Path) -> &[String] {
        if !self.deps.contains_key(root) {
            let manifest = root.join("Cargo.toml");
            let deps = match std::fs::read_to_string(&manifest) {
                Ok(text) => match config::manifest_dependencies(&text) {
                    Ok(d) => d,
                    Err(e) => {
                        let mut fe = FileError::new(
                            walk::display_path(&manifest),
                            format!(
                                "cannot read dependencies: {}",
                                e.message().trim().replace('\n', " ")
                            ),
                        );
                        if let Some(before) = e.span().and_then(|s| text.get(..s.start)) {
                            fe.line = Some(before.matches('\n').count() + 1);
                        }
                        self.errors.push(fe);
                        Vec::new()
                    }
                },
                Err(e) => {
                    self.errors.push(FileError::new(
                        walk::display_path(&manifest),
                        format!("cannot read: {}", io_message(&e)),
                    ));
                    Vec::new()
                }
            };
            self.deps.insert(root.to_path_buf(), deps);
        }
        self.deps.get(root).map_or(&[], |d| d.as_slice())
    }
}
