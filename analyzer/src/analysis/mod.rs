//! The analysis: classify how each allocation call's result is used.
//!
//! [`analyze`] runs in three steps over all files together:
//! 1. the index (module `index`): struct field types and the allocation wrappers of the scanned code,
//!    discovered to a fixed point (wrappers of wrappers count);
//! 2. one visitor per file (module `visitor`) following each allocation value through its method
//!    chain to where it is consumed, judging failure branches with module `handling`;
//! 3. suppression comments (`// oomcheck:allow(..)`), and `unused-allow` for those that
//!    suppress nothing.
//!
//! For a parallel driver the same steps are public: [`summarize`] each file (phase 1, plain data
//! out), [`Context::new`] over the summaries, [`analyze_file`] each file (phase 2). For the text
//! prefilter, [`Context::cross_file_needles`] gives the names that make a file relevant only
//! because of another file (wrapper calls, fields of receiver-typed types).
use std::path::PathBuf;

use syn::visit::Visit;

use crate::finding::{FileError, Finding};
use crate::packs::ActivePacks;
use crate::rules::{unused_allow, RuleId};

mod handling;
mod index;
pub(crate) mod syntax;
mod visitor;
mod vocab;

/// One parsed file handed to the analysis.
pub struct SourceFile {
    /// Path used in findings.
    pub path: PathBuf,
    /// The file's text (for suppression comments and columns).
    pub text: String,
    /// The parsed syntax.
    pub syntax: syn::File,
    /// The whole file is test code (under a crate's own `tests/`, `benches/`, `examples/`).
    pub is_test_file: bool,
    /// `infallible-alloc` is enabled for this file (it is inside a configured OOM-safe scope).
    pub infallible_alloc_checked: bool,
}

impl SourceFile {
    /// Parse `text` (the file at `path`); a syntax error becomes a [`FileError`] at the
    /// parser's location.
    ///
    /// `syn` recurses with expression nesting: call this on a thread with a large stack for
    /// untrusted input (the driver's workers have [`crate::lint::WORKER_STACK_SIZE`]), and drop
    /// the file there too.
    pub fn parse(
        path: PathBuf,
        text: String,
        is_test_file: bool,
        infallible_alloc_checked: bool,
    ) -> Result<SourceFile, FileError> {
        match syn::parse_file(&text) {
            Ok(syntax) => Ok(SourceFile {
                path,
                text,
                syntax,
                is_test_file,
                infallible_alloc_checked,
            }),
            Err(e) => {
                let start = e.span().start();
                Err(FileError {
                    path,
                    line: Some(start.line.max(1)),
                    column: Some(start.column + 1),
                    message: format!("cannot parse: {e}"),
                })
            }
        }
    }
}

/// Everything the analysis needs besides the files.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The rule packs in force.
    pub packs: ActivePacks,
    /// Extra allocation functions from the configuration: a bare name (`try_alloc`) matches a
    /// call or method of that name; a path (`my_crate::buf::try_grow`) matches calls whose
    /// path ends with the same segments.
    pub extra_alloc_functions: Vec<String>,
    /// Extra names that count as NoMemory-like.
    pub extra_no_memory_names: Vec<String>,
    /// Analyse `#[cfg(test)]` items and `#[test]` functions (and files marked `is_test_file`).
    pub include_tests: bool,
}

pub use index::FileSummary;

/// The cross-file facts of a lint run (allocation wrappers, struct field types) plus the
/// vocabulary of the active packs and configuration. Plain data: share it between threads.
#[derive(Debug)]
pub struct Context {
    vocab: vocab::Vocab,
    index: visitor::Index,
}

impl Context {
    /// Merge the files' summaries (from [`summarize`]) and discover the allocation wrappers to
    /// a fixed point.
    pub fn new<'a>(
        settings: &Settings,
        summaries: impl IntoIterator<Item = &'a FileSummary>,
    ) -> Context {
        let mut vocab = vocab::Vocab::new(settings);
        let index = index::resolve(&mut vocab, summaries);
        Context { vocab, index }
    }

    /// Names that make a file relevant to the analysis because of *other* files: the
    /// allocation wrappers found (a file calling `grow_buf(..)` mentions no pack name) and the
    /// struct fields whose declared type is a receiver-typed pack type (`self.buf.push(x)` with
    /// `buf: TryVec<u8>` declared elsewhere).
    pub fn cross_file_needles(&self) -> Vec<String> {
        let receiver_types: std::collections::HashSet<&String> = self
            .vocab
            .receivers
            .iter()
            .flat_map(|g| g.types.iter())
            .collect();
        let mut names: Vec<String> = self.vocab.wrappers.names().cloned().collect();
        for (field, types) in &self.index.fields {
            if types.iter().any(|t| receiver_types.contains(t)) {
                names.push(field.clone());
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

/// Summarize what one file contributes to the cross-file facts (phase 1). Files whose text
/// contains none of [`ActivePacks::summary_needles`] have an empty summary and need not be
/// summarized at all.
pub fn summarize(file: &SourceFile, settings: &Settings) -> FileSummary {
    let vocab = vocab::Vocab::new(settings);
    index::summarize(file, &vocab, settings.include_tests)
}

/// Analyse one file against the run's [`Context`] (phase 2): its findings, including unused or
/// unknown `oomcheck:allow` comments, with `level` set to the rule's default level. Sorted by
/// span.
///
/// Spans are 1-based; `end_column` is exclusive (the column after the last character), as in
/// SARIF regions. Never panics on any syntax; very deep expressions are analysed to a bounded
/// depth.
pub fn analyze_file(file: &SourceFile, settings: &Settings, ctx: &Context) -> Vec<Finding> {
    let mut out = analyze_one(file, settings, &ctx.vocab, &ctx.index);
    out.sort_by(|a, b| (a.span, a.rule, &a.message).cmp(&(b.span, b.rule, &b.message)));
    out
}

/// Analyse all files together (wrapper discovery crosses files) and return the findings,
/// including unused or unknown `oomcheck:allow` comments, with `level` set to the rule's
/// default level (the driver applies configured levels afterwards). Sorted by path, then span.
///
/// This is [`summarize`] on every file, [`Context::new`], then [`analyze_file`] on every file.
/// Syntax trees are not `Send`, so a parallel driver uses those three steps itself: parse and
/// summarize in parallel, keep the summaries, build the context, then parse again and analyse
/// in parallel (only files containing [`ActivePacks::summary_needles`] need the first parse).
pub fn analyze(files: &[SourceFile], settings: &Settings) -> Vec<Finding> {
    let vocab = vocab::Vocab::new(settings);
    let summaries: Vec<FileSummary> = files
        .iter()
        .map(|f| index::summarize(f, &vocab, settings.include_tests))
        .collect();
    let ctx = Context::new(settings, &summaries);
    let mut findings: Vec<Finding> = files
        .iter()
        .flat_map(|file| analyze_one(file, settings, &ctx.vocab, &ctx.index))
        .collect();
    findings.sort_by(|a, b| {
        (&a.path, a.span, a.rule, &a.message).cmp(&(&b.path, b.span, b.rule, &b.message))
    });
    findings
}

fn analyze_one(
    file: &SourceFile,
    settings: &Settings,
    vocab: &vocab::Vocab,
    index: &visitor::Index,
) -> Vec<Finding> {
    if file.is_test_file && !settings.include_tests {
        return Vec::new();
    }
    let mut v = visitor::FileVisitor::new(
        vocab,
        index,
        settings.include_tests,
        file.infallible_alloc_checked,
    );
    v.visit_file(&file.syntax);
    let mut allows = unused_allow::parse_allows(&file.text);
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in v.findings {
        // The same call can be reached twice (a macro argument parsed from tokens); keep one.
        if !seen.insert((f.rule, f.span)) {
            continue;
        }
        if unused_allow::suppress(&mut allows, f.rule, f.span.start_line, f.stmt_line) {
            continue;
        }
        out.push(Finding {
            rule: f.rule,
            path: file.path.clone(),
            span: f.span,
            message: f.message,
            help: f.help.to_string(),
            level: f.rule.default_finding_level(),
        });
    }
    for (span, message) in unused_allow::unused(&allows, &v.skipped) {
        out.push(Finding {
            rule: RuleId::UnusedAllow,
            path: file.path.clone(),
            span,
            message,
            help: unused_allow::HELP.to_string(),
            level: RuleId::UnusedAllow.default_finding_level(),
        });
    }
    out
}

/// [`Context::cross_file_needles`] for a set of parsed files: the two-phase prefilter in one
/// call. Parse the files that contain one of [`ActivePacks::prefilter_needles`], call this on
/// them, then also keep any other file that contains one of the returned names. One round
/// suffices: every wrapper (also a wrapper of a wrapper) names an allocation error type in its
/// signature, which is a needle, so all wrapper definitions are in the first set.
pub fn cross_file_needles(files: &[SourceFile], settings: &Settings) -> Vec<String> {
    let summaries: Vec<FileSummary> = files.iter().map(|f| summarize(f, settings)).collect();
    Context::new(settings, &summaries).cross_file_needles()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: String) -> Option<SourceFile> {
        let syntax = syn::parse_file(&text).ok()?;
        Some(SourceFile {
            path: PathBuf::from("deep.rs"),
            text,
            syntax,
            is_test_file: false,
            infallible_alloc_checked: true,
        })
    }

    /// Deeply nested expressions: parsing needs a big stack (the driver's business), the
    /// analysis must not add unbounded recursion and must still see shallow findings.
    #[test]
    fn deeply_nested_expressions_do_not_overflow() {
        let handle = std::thread::Builder::new()
            .stack_size(512 << 20)
            .spawn(|| {
                for depth in [100, 20_000] {
                    let mut text = String::from("fn f(v: &mut Vec<u8>) -> u32 {\n");
                    text.push_str("    let _ = v.try_reserve(1);\n    ");
                    text.push_str(&"(".repeat(depth));
                    text.push_str("v.try_reserve(2).unwrap()");
                    text.push_str(&")".repeat(depth));
                    text.push_str(";\n    ");
                    text.push_str(&"{ ".repeat(depth / 4));
                    text.push_str("vec![1]");
                    text.push_str(&" }".repeat(depth / 4));
                    text.push_str(";\n    1");
                    for _ in 0..depth {
                        text.push_str(" + 1");
                    }
                    text.push_str("\n}\n");
                    let files: Vec<SourceFile> = file(text).into_iter().collect();
                    assert_eq!(files.len(), 1, "the generated file parses");
                    let settings = Settings {
                        packs: ActivePacks::named(&[]),
                        ..Settings::default()
                    };
                    let findings = analyze(&files, &settings);
                    let rules: Vec<(usize, RuleId)> = findings
                        .iter()
                        .map(|f| (f.span.start_line, f.rule))
                        .collect();
                    // The shallow finding is there; nothing panicked or overflowed.
                    assert!(
                        rules.contains(&(2, RuleId::DiscardedAllocResult)),
                        "{rules:?}"
                    );
                    if depth < 300 {
                        // Within the depth bound everything is analysed.
                        assert!(
                            rules.contains(&(3, RuleId::PanicOnAllocFailure)),
                            "{rules:?}"
                        );
                        assert!(rules.contains(&(4, RuleId::InfallibleAlloc)), "{rules:?}");
                    }
                    // Leak the syntax tree: dropping a 20 000-deep tree recurses in syn's `Drop`.
                    std::mem::forget(files);
                }
            })
            .expect("spawn");
        assert!(handle.join().is_ok());
    }
}
