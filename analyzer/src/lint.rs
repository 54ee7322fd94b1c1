//! The driver: paths + configuration → findings and per-file errors.
//!
//! Data flow: [`walk`] the paths → find each file's configuration (walking up) and
//! crate (nearest Cargo.toml) → drop excluded files and test code → read (size limit, UTF-8) →
//! activate the rule packs from the crates' dependencies and the sources → text prefilter with
//! the packs' needles → parse and [`summarize`] in parallel → [`Context`] (allocation wrappers
//! and field types across files) → parse the files that mention a wrapper or such a field →
//! [`analyze_file`] on the thread that parsed each file → configured levels → sorted findings.
//!
//! A file the prefilter rules out is never parsed, so a syntax error in it is not reported: it
//! cannot hold an allocation call, and `rustc` reports the error anyway.
//!
//! Parsing, analysis and dropping of syntax trees all run on worker threads with a large stack
//! ([`WORKER_STACK_SIZE`]), so deeply nested expressions do not overflow it.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::{analyze_file, summarize, Context, FileSummary, Settings, SourceFile};
use crate::config::{self, ConfigError, LoadedConfig};
pub use crate::finding::FileError;
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
    // Files are analysed together per configuration and Cargo workspace: allocation wrappers
    // and packs of one workspace say nothing about an unrelated crate linted in the same run.
    let mut groups: Vec<(Arc<LoadedConfig>, Option<PathBuf>, Vec<Candidate>)> = Vec::new();
    let mut manifests = ManifestCache::default();
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
    let threads = pool.current_num_threads().max(1);
    let prepared: Vec<Group> = groups
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
    let include_tests = opts.include_tests;
    let parts: Vec<LintReport> = if prepared.len() > 1 && threads > 1 {
        pool.install(|| {
            prepared
                .into_par_iter()
                .map(|g| lint_group(&pool, g, include_tests))
                .collect()
        })
    } else {
        prepared
            .into_iter()
            .map(|g| lint_group(&pool, g, include_tests))
            .collect()
    };
    for part in parts {
        report.findings.extend(part.findings);
        report.errors.extend(part.errors);
        report.sources.extend(part.sources);
        let (s, p) = (&mut report.stats, part.stats);
        s.files_checked += p.files_checked;
        s.files_parsed += p.files_parsed;
        s.bytes_read += p.bytes_read;
        s.bytes_parsed += p.bytes_parsed;
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

/// Lint the files of one configuration and workspace (wrapper discovery spans all of them).
fn lint_group(pool: &rayon::ThreadPool, group: Group, include_tests: bool) -> LintReport {
    let mut report = LintReport::default();
    let Group {
        cfg,
        deps,
        files,
        workers,
    } = group;
    let cfg = &*cfg;
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
        return report;
    }

    let packs = packs::activate(&deps, loaded.iter().map(|l| l.text.as_str()));
    let settings = Arc::new(Settings {
        packs,
        extra_alloc_functions: cfg.config.alloc_functions.clone(),
        extra_no_memory_names: cfg.config.no_memory_names.clone(),
        include_tests,
    });
    let needles = settings
        .packs
        .prefilter_needles(&settings.extra_alloc_functions);
    let summary_needles = settings.packs.summary_needles();

    let outcome = std::thread::scope(|scope| {
        let mut crew = Crew::start(scope, workers, &settings, &summary_needles);
        let mut pending: Vec<Option<Loaded>> = loaded.into_iter().map(Some).collect();
        // Round one parses the files that mention an allocation name (and every file of an
        // OOM-safe scope, where any aborting allocation is a finding) and summarizes them;
        // round two parses the files that mention an allocation wrapper or a receiver-typed
        // field found in round one. One round of each suffices: every wrapper names an
        // allocation error type in its signature, which is a round-one needle.
        let first = take_matching(pool, &mut pending, Prefilter::calls(&needles), true);
        let summaries = crew.parse(first);
        let ctx = Context::new(&settings, &summaries);
        drop(summaries);
        let second_needles = ctx.cross_file_needles();
        if !second_needles.is_empty() {
            let second =
                take_matching(pool, &mut pending, Prefilter::words(&second_needles), false);
            // Files without a round-one needle contribute nothing to the context.
            crew.parse(second);
        }
        crew.analyze(Arc::new(ctx))
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
    report
}

/// The files analysed together: one configuration, one Cargo workspace.
struct Group {
    cfg: Arc<LoadedConfig>,
    /// Dependencies of its crates and workspace (for pack activation).
    deps: Vec<String>,
    files: Vec<Candidate>,
    /// Worker threads for parsing and analysis.
    workers: usize,
}

/// How a prefilter needle must occur for a file to be kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Occurrence {
    /// Anywhere (type names such as `TryReserveError`, `oomcheck:allow`).
    Anywhere,
    /// Inside an identifier that is called: followed (after the rest of the identifier and
    /// spaces) by `(`, `!` or `::<`. A pack's function and method names only matter as calls,
    /// and this keeps the needle `alloc` (which stands for `malloc`, `realloc`, `alloc_zeroed`…)
    /// from selecting every file that says `allocator` or `std::alloc::Layout`.
    Call,
    /// As a whole identifier (names of wrappers and fields found in other files).
    Word,
}

/// The file-selection test of one prefilter round.
struct Prefilter {
    matcher: AhoCorasick,
    kinds: Vec<Occurrence>,
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Prefilter {
    /// Round one: the packs' needles; lower-case identifiers must be called.
    fn calls(needles: &[String]) -> Option<Prefilter> {
        let kinds = needles
            .iter()
            .map(|n| {
                let ident = n.bytes().all(|b| is_ident_byte(b) || b == b':');
                if ident && n.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
                    Occurrence::Call
                } else {
                    Occurrence::Anywhere
                }
            })
            .collect();
        Prefilter::new(needles, kinds)
    }

    /// Round two: names from other files, as whole identifiers.
    fn words(needles: &[String]) -> Option<Prefilter> {
        Prefilter::new(needles, vec![Occurrence::Word; needles.len()])
    }

    fn new(needles: &[String], kinds: Vec<Occurrence>) -> Option<Prefilter> {
        let matcher = AhoCorasick::new(needles).ok()?;
        Some(Prefilter { matcher, kinds })
    }

    /// Whether `text` has a qualifying occurrence of a needle.
    fn keeps(&self, text: &str) -> bool {
        let bytes = text.as_bytes();
        self.matcher
            .find_overlapping_iter(text)
            .any(|m| match self.kinds[m.pattern().as_usize()] {
                Occurrence::Anywhere => true,
                Occurrence::Word => {
                    let before = m.start().checked_sub(1).map(|i| bytes[i]);
                    let after = bytes.get(m.end()).copied();
                    !before.is_some_and(is_ident_byte) && !after.is_some_and(is_ident_byte)
                }
                Occurrence::Call => {
                    let mut i = m.end();
                    while i < bytes.len() && is_ident_byte(bytes[i]) {
                        i += 1;
                    }
                    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    let rest = &bytes[i..];
                    rest.starts_with(b"(") || rest.starts_with(b"!") || rest.starts_with(b"::<")
                }
            })
    }
}

/// Take the files of `pending` that `filter` keeps (and, when `with_oom_safe`, every file in
/// an `infallible-alloc` scope); everything when there is no filter.
fn take_matching(
    pool: &rayon::ThreadPool,
    pending: &mut [Option<Loaded>],
    filter: Option<Prefilter>,
    with_oom_safe: bool,
) -> Vec<Loaded> {
    let hits: Vec<bool> = match filter {
        Some(f) => pool.install(|| {
            pending
                .par_iter()
                .map(|s| {
                    s.as_ref().is_some_and(|l| {
                        (with_oom_safe && l.infallible_alloc_checked) || f.keeps(&l.text)
                    })
                })
                .collect()
        }),
        // Needles that cannot be compiled (absurdly many): take everything.
        None => vec![true; pending.len()],
    };
    pending
        .iter_mut()
        .zip(hits)
        .filter(|(_, hit)| *hit)
        .filter_map(|(slot, _)| slot.take())
        .collect()
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
    Analyze(Arc<Context>),
}

enum Reply {
    Parsed(Vec<FileSummary>),
    Analyzed(CrewOutcome),
}

/// Worker threads with large stacks that keep the syntax trees of the files they parsed (a
/// `syn::File` is not `Send`, and its spans index a thread-local source map) and analyse them
/// once the cross-file [`Context`] is known.
struct Crew {
    commands: Vec<std::sync::mpsc::Sender<Command>>,
    replies: std::sync::mpsc::Receiver<Reply>,
    /// Bytes handed to each worker so far, to balance the load.
    load: Vec<u64>,
    /// Problems with the workers themselves.
    lost: Vec<String>,
}

impl Crew {
    fn start<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        n: usize,
        settings: &'scope Arc<Settings>,
        summary_needles: &'scope [String],
    ) -> Crew {
        let (reply_tx, replies) = std::sync::mpsc::channel();
        let mut commands = Vec::new();
        let mut lost = Vec::new();
        let summary_matcher = Arc::new(AhoCorasick::new(summary_needles).ok());
        for i in 0..n {
            let (tx, rx) = std::sync::mpsc::channel::<Command>();
            let reply_tx = reply_tx.clone();
            let matcher = summary_matcher.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("oomcheck-lint-{i}"))
                .stack_size(WORKER_STACK_SIZE)
                .spawn_scoped(scope, move || worker(rx, reply_tx, settings, &matcher));
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

    /// Parse `batch` (spread over the workers by size); the files' summaries.
    fn parse(&mut self, mut batch: Vec<Loaded>) -> Vec<FileSummary> {
        if self.commands.is_empty() || batch.is_empty() {
            return Vec::new();
        }
        batch.sort_by_key(|l| std::cmp::Reverse(l.text.len()));
        let mut shares: Vec<Vec<Loaded>> = (0..self.commands.len()).map(|_| Vec::new()).collect();
        for l in batch {
            let i = (0..self.load.len())
                .min_by_key(|&i| self.load[i])
                .unwrap_or(0);
            self.load[i] += l.text.len() as u64;
            shares[i].push(l);
        }
        let mut asked = 0;
        for (tx, share) in self.commands.iter().zip(shares) {
            if !share.is_empty() && tx.send(Command::Parse(share)).is_ok() {
                asked += 1;
            }
        }
        let mut summaries = Vec::new();
        for _ in 0..asked {
            match self.replies.recv() {
                Ok(Reply::Parsed(s)) => summaries.extend(s),
                Ok(Reply::Analyzed(_)) | Err(_) => {
                    self.lost
                        .push("a worker thread stopped unexpectedly".to_string());
                    break;
                }
            }
        }
        summaries
    }

    /// Analyse everything parsed, stop the workers, and merge their results.
    fn analyze(self, ctx: Arc<Context>) -> CrewOutcome {
        let mut out = CrewOutcome::default();
        let mut asked = 0;
        for tx in &self.commands {
            if tx.send(Command::Analyze(ctx.clone())).is_ok() {
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
                Ok(Reply::Parsed(_)) | Err(_) => {
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

/// The text of a caught panic.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// One worker: parse (and summarize) what it is given, keep the trees, analyse them when told.
fn worker(
    commands: std::sync::mpsc::Receiver<Command>,
    replies: std::sync::mpsc::Sender<Reply>,
    settings: &Settings,
    summary_matcher: &Option<AhoCorasick>,
) {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let mut files: Vec<SourceFile> = Vec::new();
    let mut errors: Vec<FileError> = Vec::new();
    while let Ok(command) = commands.recv() {
        match command {
            Command::Parse(batch) => {
                let mut summaries = Vec::new();
                for l in batch {
                    let path = l.cand.path.clone();
                    match catch_unwind(AssertUnwindSafe(|| parse(l))) {
                        Ok(Ok(sf)) => {
                            // Only files naming an error or receiver type can matter to others.
                            let relevant = summary_matcher
                                .as_ref()
                                .is_none_or(|m| m.is_match(&sf.text));
                            if relevant {
                                match catch_unwind(AssertUnwindSafe(|| summarize(&sf, settings))) {
                                    Ok(s) => summaries.push(s),
                                    Err(p) => errors.push(FileError::new(
                                        path,
                                        format!(
                                            "internal error: the analysis panicked: {}",
                                            panic_text(&*p)
                                        ),
                                    )),
                                }
                            }
                            files.push(sf);
                        }
                        Ok(Err(e)) => errors.push(e),
                        Err(p) => errors.push(FileError::new(
                            path,
                            format!("internal error: the parser panicked: {}", panic_text(&*p)),
                        )),
                    }
                }
                if replies.send(Reply::Parsed(summaries)).is_err() {
                    return;
                }
            }
            Command::Analyze(ctx) => {
                let mut out = CrewOutcome {
                    files_parsed: files.len(),
                    bytes_parsed: files.iter().map(|f| f.text.len() as u64).sum(),
                    ..CrewOutcome::default()
                };
                for f in &files {
                    match catch_unwind(AssertUnwindSafe(|| analyze_file(f, settings, &ctx))) {
                        Ok(found) => {
                            if !found.is_empty() {
                                out.texts.insert(f.path.clone(), Arc::from(f.text.as_str()));
                            }
                            out.findings.extend(found);
                        }
                        Err(p) => out.errors.push(FileError::new(
                            f.path.clone(),
                            format!("internal error: the analysis panicked: {}", panic_text(&*p)),
                        )),
                    }
                }
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
    SourceFile::parse(
        l.cand.path,
        l.text,
        l.cand.is_test_file,
        l.infallible_alloc_checked,
    )
}

/// Lint one file's text on its own, the way [`lint`] treats each parsed file: parse, then
/// analyse (allocation wrappers the file defines included, as the driver does across files),
/// with suppression comments and `unused-allow`. No prefilter, no
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
    let files = [SourceFile::parse(
        path.to_path_buf(),
        text.to_string(),
        is_test_file,
        infallible_alloc_checked,
    )?];
    Ok(crate::analysis::analyze(&files, settings))
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
                            format!(
                                "cannot read dependencies: {}",
                                e.message().trim().replace('\n', " ")
                            ),
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
                        format!("cannot read: {}", io_message(&e)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn keeps(f: &Option<Prefilter>, text: &str) -> bool {
        f.as_ref().expect("prefilter").keeps(text)
    }

    #[test]
    fn call_needles_must_be_called() {
        let f = Prefilter::calls(&["alloc".into(), "try_vec".into(), "TryReserveError".into()]);
        assert!(keeps(&f, "let p = alloc(layout);"));
        assert!(keeps(&f, "let p = libc::malloc (16);"));
        assert!(keeps(&f, "let p = std::alloc::alloc_zeroed(l);"));
        assert!(keeps(&f, "let v = try_vec![0; n]?;"));
        assert!(keeps(&f, "x.alloc::<u8>()"));
        assert!(keeps(&f, "fn f() -> Result<(), TryReserveError>"));
        assert!(!keeps(&f, "use std::alloc::Layout; // allocator"));
        assert!(!keeps(&f, "extern crate alloc;"));
    }

    #[test]
    fn word_needles_are_whole_identifiers() {
        let f = Prefilter::words(&["grow_buf".into(), "buf".into()]);
        assert!(keeps(&f, "grow_buf(&mut v)?;"));
        assert!(keeps(&f, "self.buf.push(1)"));
        assert!(!keeps(&f, "let buffer = regrow_buffer();"));
    }
}
