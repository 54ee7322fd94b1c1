//! The analysis: classify how each allocation call's result is used.
//!
//! [`analyze`] runs in three steps over all files together:
//! 1. the index (`index`): what each file contributes across files (struct field types,
//!    wrapper candidates), merged into the field types and the allocation wrappers of the
//!    scanned code, discovered to a fixed point (`discovery` judges one function);
//! 2. one traversal per file (`traverse`) with the checks (`checks`) as its listener: each
//!    allocation value is followed through its method chain (`chain`) to where it is
//!    consumed, failure branches are judged by `handling`;
//! 3. suppression comments (`suppress`): `// oomcheck:allow(..)`, and `unused-allow` for those
//!    that suppress nothing; with them, the sites of one function whose `Option` return type
//!    swallows allocation failures become one finding (`signature_group`).
//!
//! For a parallel driver the same steps are public: [`summarize`] each file (phase 1, plain data
//! out), [`Context::new`] over the summaries, [`analyze_file`] each file (phase 2). For the text
//! prefilter, [`Context::cross_file_needles`] gives the names that make a file relevant only
//! because of another file (wrapper calls, fields of receiver-typed types).
//!
//! The modules, lowest first (a module uses only modules before it): `input` (the files
//! and settings), `syntax` (syn helpers), `vocab` (the names in force), `fields`
//! (struct field types), `value` (an allocation value), `enclosing` (the enclosing function's error
//! channel and contract), `callers` (private helpers of functions without one), `bindings` (names in scope and
//! their types), `literal_fields` (field types struct literals show), `handling` (failure
//! branches and error values), `chain` (the method-chain classifier), `macro_bodies`
//! (`macro_rules!` transcribers as statements), `traverse`, then its two listeners `checks`
//! and `discovery`, `index` (cross-file facts), `suppress` (allow comments), `signature_group`
//! (one finding for the sites a function's `Option` signature causes). This module puts them
//! together.
use syn::visit::Visit;

use crate::finding::Finding;
use crate::rules::RuleId;
use crate::site::AllocSite;

mod bindings;
mod callers;
mod chain;
mod checks;
mod counterparts;
mod discovery;
mod enclosing;
mod fields;
mod handling;
mod index;
mod input;
mod literal_fields;
mod macro_bodies;
mod signature_group;
mod sites;
mod suppress;
mod syntax;
mod traverse;
mod value;
mod vocab;

pub use index::FileSummary;
pub use input::{Settings, SourceFile};

/// The cross-file facts of a lint run (allocation wrappers, struct field types) plus the
/// vocabulary of the active packs and configuration. Plain data: share it between threads.
#[derive(Debug)]
pub struct Context {
    vocab: vocab::Vocab,
    fields: fields::FieldTypes,
}

impl Context {
    /// Merge the files' summaries (from [`summarize`]) and discover the allocation wrappers to
    /// a fixed point.
    pub fn new<'a>(
        settings: &Settings,
        summaries: impl IntoIterator<Item = &'a FileSummary>,
    ) -> Context {
        let mut vocab = vocab::Vocab::new(settings);
        let fields = index::resolve(&mut vocab, summaries);
        Context { vocab, fields }
    }

    /// Names that make a file relevant to the analysis because of *other* files: the
    /// allocation wrappers found (a file calling `grow_buf(..)` mentions no pack name) and the
    /// struct fields whose declared type is a receiver-typed pack type (`self.buf.push(x)` with
    /// `buf: TryVec<u8>` declared elsewhere), and the type aliases of such types
    /// (`type Rows = TryVec<u32>;`).
    pub fn cross_file_needles(&self) -> Vec<String> {
        let receiver_types: std::collections::HashSet<&String> = self
            .vocab
            .receivers
            .iter()
            .flat_map(|g| g.types.iter())
            .collect();
        // Wrapper functions by name. A wrapper method not named `try_…` (and not the only kind
        // of method of its name) is matched only on a receiver known to be of its `impl` type, which a file shows by naming the type (a
        // declaration, a constructor, its `impl`) or a field of that type: those are its
        // needles, rather than a name as common as `get` or `read`.
        let mut names: Vec<String> = self.vocab.wrappers.functions.iter().cloned().collect();
        let mut owner_types: std::collections::HashSet<&String> = Default::default();
        for (method, owners) in &self.vocab.wrappers.methods {
            // A wrapper method resolved by name alone (named `try_…`, a trait default, or the
            // only kind of method of its name) is a needle itself; the others need their type.
            let by_name = method.starts_with("try_")
                || owners.contains(&None)
                || self.vocab.unambiguous_wrapper(method, owners);
            if by_name {
                names.push(method.clone());
            } else {
                owner_types.extend(owners.iter().flatten());
            }
        }
        // Aliases of a receiver-typed or wrapper-owning type (`type Rows = TryVec<u32>;`) name
        // that type in files that never spell it.
        let interesting = |t: &String| receiver_types.contains(t) || owner_types.contains(t);
        let path_types: std::collections::HashSet<&String> = self
            .vocab
            .alloc_paths
            .iter()
            .filter_map(|p| p.len().checked_sub(2).map(|i| &p[i]))
            .collect();
        for alias in self.vocab.type_aliases.keys() {
            let resolved = self.vocab.with_aliases(vec![alias.clone()]);
            if resolved
                .iter()
                .any(|t| interesting(t) || path_types.contains(t))
            {
                names.push(alias.clone());
            }
        }
        names.extend(owner_types.iter().map(|t| t.to_string()));
        for (field, types) in &self.fields.by_name {
            let types = self.vocab.with_aliases(types.iter().cloned().collect());
            if types.iter().any(interesting) {
                names.push(field.clone());
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

/// Summarize what one file contributes to the cross-file facts (phase 1). Files whose text
/// contains none of [`ActivePacks::summary_needles`](crate::packs::ActivePacks::summary_needles) have an empty summary and need not be
/// summarized at all.
pub fn summarize(file: &SourceFile, settings: &Settings) -> FileSummary {
    let vocab = vocab::Vocab::new(settings);
    index::summarize(file, &vocab, &settings.packs, settings.include_tests, false)
}

/// [`summarize`] a file the caller knows contains one of the
/// [`ActivePacks::summary_needles`](crate::packs::ActivePacks::summary_needles) (the driver's
/// matcher found one): the same summary, without searching the text for them again.
pub fn summarize_matched(file: &SourceFile, settings: &Settings) -> FileSummary {
    let vocab = vocab::Vocab::new(settings);
    index::summarize(file, &vocab, &settings.packs, settings.include_tests, true)
}

/// Analyse one file against the run's [`Context`] (phase 2): its findings, including unused or
/// unknown `oomcheck:allow` comments, with `level` set to the rule's default level. Sorted by
/// span.
///
/// Spans are 1-based; `end_column` is exclusive (the column after the last character), as in
/// SARIF regions. Never panics on any syntax; very deep expressions are analysed to a bounded
/// depth.
pub fn analyze_file(file: &SourceFile, settings: &Settings, ctx: &Context) -> Vec<Finding> {
    analyze_file_with_sites(file, settings, ctx).0
}

/// [`analyze_file`], plus every fallible allocation call the analysis recognised in the file
/// (pack functions, configured `alloc-functions`, discovered wrappers), sorted by place: the
/// same traversal, its listener noting each allocation call it meets.
pub fn analyze_file_with_sites(
    file: &SourceFile,
    settings: &Settings,
    ctx: &Context,
) -> (Vec<Finding>, Vec<AllocSite>) {
    let (mut out, mut sites) = analyze_one(file, settings, ctx);
    out.sort_by(|a, b| (a.span, a.rule, &a.message).cmp(&(b.span, b.rule, &b.message)));
    sites.sort();
    sites.dedup();
    (out, sites)
}

/// Analyse all files together (wrapper discovery crosses files) and return the findings,
/// including unused or unknown `oomcheck:allow` comments, with `level` set to the rule's
/// default level (the driver applies configured levels afterwards). Sorted by path, then span.
///
/// This is [`summarize`] on every file, [`Context::new`], then [`analyze_file`] on every file,
/// on the calling thread. Syntax trees are not `Send`, so the parallel driver (`lint`) runs the
/// three steps itself: each worker thread parses and summarizes its share of the files and
/// keeps their trees; once the context is built from all summaries, each worker analyses the
/// trees it kept (only files containing [`ActivePacks::summary_needles`](crate::packs::ActivePacks::summary_needles) need summarizing).
pub fn analyze(files: &[SourceFile], settings: &Settings) -> Vec<Finding> {
    let vocab = vocab::Vocab::new(settings);
    let summaries: Vec<FileSummary> = files
        .iter()
        .map(|f| index::summarize(f, &vocab, &settings.packs, settings.include_tests, false))
        .collect();
    let ctx = Context::new(settings, &summaries);
    let mut findings: Vec<Finding> = files
        .iter()
        .flat_map(|file| analyze_one(file, settings, &ctx).0)
        .collect();
    findings.sort_by(|a, b| {
        (&a.path, a.span, a.rule, &a.message).cmp(&(&b.path, b.span, b.rule, &b.message))
    });
    findings
}

/// One file's findings, suppression comments applied, in the order found, and its allocation
/// sites.
fn analyze_one(
    file: &SourceFile,
    settings: &Settings,
    ctx: &Context,
) -> (Vec<Finding>, Vec<AllocSite>) {
    if file.is_test_file && !settings.include_tests {
        return (Vec::new(), Vec::new());
    }
    let checks = checks::Checks::new(file.infallible_alloc_checked);
    let mut traversal =
        traverse::Traversal::new(&ctx.vocab, &ctx.fields, settings.include_tests, checks);
    traversal.visit_file(&file.syntax);
    let mut allows = suppress::parse_allows(&file.text);
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let finding = |rule: RuleId, span, message| Finding {
        rule,
        path: file.path.clone(),
        span,
        message,
        help: rule.doc().help.to_string(),
        level: rule.default_finding_level(),
        related: Vec::new(),
    };
    // The same call can be reached twice (a macro argument parsed from tokens); keep one.
    let mut raw = traversal.listener.findings.list;
    raw.retain(|f| seen.insert((f.rule, f.span)));
    for r in signature_group::suppress_and_group(raw, &mut allows) {
        let mut f = finding(r.raw.rule, r.raw.span, r.raw.message);
        f.related = r.related;
        if let Some(help) = r.help {
            f.help = help;
        }
        out.push(f);
    }
    for (span, message) in suppress::unused(&allows, &traversal.skipped) {
        out.push(finding(RuleId::UnusedAllow, span, message));
    }
    let sites = traversal
        .listener
        .sites
        .into_iter()
        .map(|s| AllocSite {
            path: file.path.clone(),
            line: s.span.start_line,
            column: s.span.start_column,
            function: s.function,
            callee: s.callee,
        })
        .collect();
    (out, sites)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::packs::ActivePacks;

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

    /// Every recognised allocation call is a site, however its failure is handled: pack
    /// methods and functions, and a wrapper discovered in the same file; infallible calls and
    /// test code are not.
    #[test]
    fn sites_are_every_recognised_allocation_call() {
        let text = "fn grow(v: &mut Vec<u8>) -> Result<(), std::collections::TryReserveError> {\n\
                    \x20   v.try_reserve(8)?;\n\
                    \x20   v.push(1);\n\
                    \x20   Ok(())\n\
                    }\n\
                    fn caller(v: &mut Vec<u8>) {\n\
                    \x20   let _ = grow(v);\n\
                    \x20   let _b = Box::try_new(1u8).unwrap();\n\
                    }\n\
                    #[cfg(test)]\n\
                    mod tests {\n\
                    \x20   fn t(v: &mut Vec<u8>) { v.try_reserve(1).unwrap(); }\n\
                    }\n"
        .to_string();
        let files: Vec<SourceFile> = file(text).into_iter().collect();
        let settings = Settings {
            packs: ActivePacks::named(&[]),
            ..Settings::default()
        };
        let summaries: Vec<FileSummary> = files.iter().map(|f| summarize(f, &settings)).collect();
        let ctx = Context::new(&settings, &summaries);
        let (_, sites) = analyze_file_with_sites(&files[0], &settings, &ctx);
        let got: Vec<(usize, usize, Option<&str>, &str)> = sites
            .iter()
            .map(|s| (s.line, s.column, s.function.as_deref(), s.callee.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (2, 7, Some("grow"), "try_reserve"),
                (7, 13, Some("caller"), "grow"),
                (8, 14, Some("caller"), "Box::try_new"),
            ]
        );
    }
}
