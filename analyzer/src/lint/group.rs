//! Linting one group (one configuration, one Cargo workspace): read its files, activate the
//! rule packs from its dependencies and sources, then two prefilter-and-parse rounds on the
//! crew, the cross-file context between them, analysis, and the configured levels.
use std::sync::Arc;

use rayon::prelude::*;

use super::crew::Crew;
use super::plan::Group;
use super::prefilter::{take_matching, Prefilter};
use super::read::{read_file, Loaded};
use super::report::{LintError, LintReport};
use crate::analysis::{Context, Settings};
use crate::finding::FileError;
use crate::packs;

/// Lint the files of one configuration and workspace (wrapper discovery spans all of them).
pub(crate) fn lint_group(
    pool: &rayon::ThreadPool,
    group: Group,
    include_tests: bool,
) -> LintReport {
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
    report.sites.extend(outcome.sites);
    report
}
