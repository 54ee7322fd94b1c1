//! Choosing the indices of a sweep within its range: site dedup (`dedup.rs` counts the sites),
//! then sampling (`sample.rs`), of the dedup'd indices when both are on. The report records what
//! was chosen.

use crate::dedup;
use crate::env::Settings;
use crate::options::Dedup;
use crate::report::{DedupInfo, DedupSite, Report, SampleInfo};
use crate::sample;
use crate::selection::Selection;
use crate::sweep::Exec;

/// The indices to sweep in `lo..=hi` under `settings`. Fills the report's `dedup` and `sample`
/// parts; returns notes for the report's message.
pub(crate) fn choose(
    settings: &Settings,
    exec: &Exec<'_>,
    report: &mut Report,
    lo: u64,
    hi: u64,
) -> (Selection, Vec<String>) {
    let mut notes = Vec::new();
    let mut list: Option<Vec<u64>> = None;
    if settings.dedup == Some(Dedup::Site) {
        let depth = settings
            .dedup_depth
            .unwrap_or(crate::site_hash::DEFAULT_DEPTH);
        let (sites, count) = dedup::count_sites(exec, lo, hi, depth);
        if count != report.nalloc {
            notes.push(format!(
                "the site-counting run made {count} allocations instead of {}: the body is not \
                 deterministic, so dedup may pick the wrong indices",
                report.nalloc
            ));
        }
        let site_list: Vec<DedupSite> = sites
            .iter()
            .map(|s| {
                let (site, _) = crate::stack::locate(s.frames.as_slice(), 0);
                DedupSite {
                    alloc: s.first,
                    count: s.count,
                    function: site.as_ref().map(|f| f.function.clone()),
                    file: site.as_ref().and_then(|f| f.file.clone()),
                    line: site.as_ref().and_then(|f| f.line),
                }
            })
            .collect();
        report.dedup = Some(DedupInfo {
            depth,
            sites: sites.len() as u64,
            covered: (hi - lo + 1) - sites.len() as u64,
            site_list,
        });
        list = Some(sites.iter().map(|s| s.first).collect());
    }
    if let Some(n) = settings.sample {
        let seed = settings.seed.unwrap_or_else(sample::fresh_seed);
        let len = list.as_ref().map_or(hi - lo + 1, |l| l.len() as u64);
        let chosen: Vec<u64> = sample::choose(len, n, seed)
            .into_iter()
            .map(|p| list.as_ref().map_or(lo + p, |l| l[p as usize]))
            .collect();
        report.sample = Some(SampleInfo {
            n,
            seed,
            indices: chosen.clone(),
        });
        list = Some(chosen);
    }
    let selection = match list {
        Some(l) => Selection::List(l),
        None => Selection::Range(lo, hi),
    };
    (selection, notes)
}
