//! The worker threads that parse and analyse. They are scoped threads with large stacks
//! ([`WORKER_STACK_SIZE`]): `syn` and the analysis recurse with expression nesting, and
//! dropping a syntax tree recurses too, so parsing, analysis and dropping all happen on them.
//! Each worker keeps the syntax trees it parsed (a `syn::File` is not `Send`) until the
//! cross-file context is known, then analyses them. A panic of the parser or the analysis
//! becomes an "internal error" for the file concerned.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use aho_corasick::AhoCorasick;

use super::read::{parse, Loaded};
use crate::analysis::{
    analyze_file_with_sites, summarize, summarize_matched, Context, FileSummary, Settings,
    SourceFile,
};
use crate::finding::{FileError, FileProblem, Finding};
use crate::site::AllocSite;

/// Stack size of the worker threads that parse and analyse (recursion depth of `syn` and of the
/// visitors grows with expression nesting; only the pages used are committed, so this is
/// address space, not memory). 1 GiB on 64-bit targets: a debug build of `syn` needs about
/// 13 KiB of stack per level of nested parentheses, so 256 MiB overflowed at 20 000 levels.
pub const WORKER_STACK_SIZE: usize = if cfg!(target_pointer_width = "64") {
    1024 * 1024 * 1024
} else {
    256 * 1024 * 1024
};

/// What the workers hand back at the end.
#[derive(Default)]
pub(crate) struct CrewOutcome {
    /// The findings, at their rules' default levels.
    pub findings: Vec<Finding>,
    /// The fallible allocation calls of the files analysed.
    pub sites: Vec<AllocSite>,
    /// Files that could not be parsed or analysed, and problems with the workers.
    pub errors: Vec<FileError>,
    /// The text of every file with a finding.
    pub texts: BTreeMap<PathBuf, Arc<str>>,
    /// Files parsed.
    pub files_parsed: usize,
    /// Bytes of the files parsed.
    pub bytes_parsed: u64,
}

/// What a worker is told to do.
enum Command {
    Parse(Vec<Loaded>),
    Analyze(Arc<Context>),
}

/// What a worker answers.
enum Reply {
    Parsed(Vec<FileSummary>),
    Analyzed(CrewOutcome),
}

/// Worker threads with large stacks that keep the syntax trees of the files they parsed (a
/// `syn::File` is not `Send`, and its spans index a thread-local source map) and analyse them
/// once the cross-file [`Context`] is known.
pub(crate) struct Crew {
    commands: Vec<std::sync::mpsc::Sender<Command>>,
    replies: std::sync::mpsc::Receiver<Reply>,
    /// Bytes handed to each worker so far, to balance the load.
    load: Vec<u64>,
    /// Problems with the workers themselves.
    lost: Vec<FileProblem>,
}

impl Crew {
    pub(crate) fn start<'scope>(
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
                Err(e) => lost.push(FileProblem::WorkerNotStarted(e.to_string())),
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
    pub(crate) fn parse(&mut self, mut batch: Vec<Loaded>) -> Vec<FileSummary> {
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
                    self.lost.push(FileProblem::WorkerLost);
                    break;
                }
            }
        }
        summaries
    }

    /// Analyse everything parsed, stop the workers, and merge their results.
    pub(crate) fn analyze(self, ctx: Arc<Context>) -> CrewOutcome {
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
                    out.sites.extend(part.sites);
                    out.errors.extend(part.errors);
                    out.texts.extend(part.texts);
                    out.files_parsed += part.files_parsed;
                    out.bytes_parsed += part.bytes_parsed;
                }
                Ok(Reply::Parsed(_)) | Err(_) => {
                    out.errors
                        .push(FileError::new(PathBuf::new(), FileProblem::WorkerLost));
                    break;
                }
            }
        }
        for problem in self.lost {
            out.errors.push(FileError::new(PathBuf::new(), problem));
        }
        out
    }
}

/// The problem of a caught panic of `stage` (`parser`, `analysis`), with the panic's text.
fn panicked(stage: &'static str, panic: &(dyn std::any::Any + Send)) -> FileProblem {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    FileProblem::Panicked { stage, message }
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
                            let matched = summary_matcher.as_ref().map(|m| m.is_match(&sf.text));
                            if matched != Some(false) {
                                let summary = || match matched {
                                    Some(true) => summarize_matched(&sf, settings),
                                    _ => summarize(&sf, settings),
                                };
                                match catch_unwind(AssertUnwindSafe(summary)) {
                                    Ok(s) => summaries.push(s),
                                    Err(p) => {
                                        errors.push(FileError::new(path, panicked("analysis", &*p)))
                                    }
                                }
                            }
                            files.push(sf);
                        }
                        Ok(Err(e)) => errors.push(e),
                        Err(p) => errors.push(FileError::new(path, panicked("parser", &*p))),
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
                    let analysis = || analyze_file_with_sites(f, settings, &ctx);
                    match catch_unwind(AssertUnwindSafe(analysis)) {
                        Ok((found, sites)) => {
                            out.sites.extend(sites);
                            if !found.is_empty() {
                                out.texts.insert(f.path.clone(), Arc::from(f.text.as_str()));
                            }
                            out.findings.extend(found);
                        }
                        Err(p) => out
                            .errors
                            .push(FileError::new(f.path.clone(), panicked("analysis", &*p))),
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
