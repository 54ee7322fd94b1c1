//! Which allocation indices a sweep fails: the range (`--alloc`), then the crate's own code
//! (indices reached from elsewhere are skipped), then one per call site (`--dedup site`), then a
//! reproducible sample (`--sample N --seed S`).
use std::collections::HashMap;

use oomcheck_injector::{AllocRange, DedupInfo, DedupSite, Frame, SampleInfo};

/// The indices to fail and why the others are not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The indices to fail, ascending.
    pub swept: Vec<u64>,
    /// Indices of the range not reached from the crate's own code, ascending.
    pub skipped: Vec<u64>,
    /// Site dedup, when asked for.
    pub dedup: Option<DedupInfo>,
    /// The sample, when asked for.
    pub sample: Option<SampleInfo>,
}

/// What the counting run knew about each allocation.
pub trait Allocations {
    /// Whether allocation `index` was reached from the crate's own code (always true when every
    /// allocation is swept).
    fn is_own(&self, index: u64) -> bool;
    /// Allocation `index`'s call-site key (a hash of its first return addresses) and site.
    fn site(&self, index: u64) -> (u64, Option<Frame>);
}

/// How to choose.
#[derive(Debug, Clone, Copy, Default)]
pub struct Choice {
    /// The indices to consider (`--alloc`), clipped to the count.
    pub range: Option<AllocRange>,
    /// Return addresses per site key, for site dedup.
    pub dedup_depth: Option<usize>,
    /// Indices to sample.
    pub sample: Option<u64>,
    /// The sample's seed.
    pub seed: u64,
}

/// The plan for `count` allocations.
pub fn plan(count: u64, choice: &Choice, allocs: &dyn Allocations) -> Plan {
    let (mut swept, skipped): (Vec<u64>, Vec<u64>) =
        match choice.range.unwrap_or(AllocRange::ALL).clamp(count) {
            Some((lo, hi)) => (lo..=hi).partition(|&i| allocs.is_own(i)),
            None => (Vec::new(), Vec::new()),
        };
    let mut out = Plan {
        skipped,
        ..Plan::default()
    };
    if let Some(depth) = choice.dedup_depth {
        let mut first: HashMap<u64, usize> = HashMap::new();
        let mut sites: Vec<DedupSite> = Vec::new();
        for &i in &swept {
            let (key, frame) = allocs.site(i);
            match first.get(&key) {
                Some(&k) => sites[k].count += 1,
                None => {
                    first.insert(key, sites.len());
                    let frame = frame.unwrap_or(Frame {
                        function: String::new(),
                        file: None,
                        line: None,
                    });
                    sites.push(DedupSite {
                        alloc: i,
                        count: 1,
                        function: (!frame.function.is_empty()).then_some(frame.function),
                        file: frame.file,
                        line: frame.line,
                    });
                }
            }
        }
        let covered = swept.len() as u64 - sites.len() as u64;
        swept = sites.iter().map(|s| s.alloc).collect();
        out.dedup = Some(DedupInfo {
            depth,
            sites: sites.len() as u64,
            covered,
            site_list: sites,
        });
    }
    if let Some(n) = choice.sample {
        if n < swept.len() as u64 {
            // The n indices whose mixed (seed, index) are smallest: a reproducible choice.
            let mut keyed: Vec<(u64, u64)> = swept
                .iter()
                .map(|&i| (mix(choice.seed ^ mix(i)), i))
                .collect();
            keyed.sort_unstable();
            swept = keyed.into_iter().take(n as usize).map(|(_, i)| i).collect();
            swept.sort_unstable();
        }
        out.sample = Some(SampleInfo {
            n,
            seed: choice.seed,
            indices: swept.clone(),
        });
    }
    out.swept = swept;
    out
}

/// The splitmix64 finalizer: a well-mixed 64-bit hash of a 64-bit number.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Even indices are own code; the site is `index % 3`.
    struct Fake;
    impl Allocations for Fake {
        fn is_own(&self, index: u64) -> bool {
            index % 2 == 0
        }
        fn site(&self, index: u64) -> (u64, Option<Frame>) {
            (index % 3, None)
        }
    }

    /// Every index is own code, each its own site.
    struct All;
    impl Allocations for All {
        fn is_own(&self, _: u64) -> bool {
            true
        }
        fn site(&self, index: u64) -> (u64, Option<Frame>) {
            (index, None)
        }
    }

    #[test]
    fn range_and_own_code_split_the_indices() {
        let p = plan(10, &Choice::default(), &Fake);
        assert_eq!(p.swept, [2, 4, 6, 8, 10]);
        assert_eq!(p.skipped, [1, 3, 5, 7, 9]);
        let range = Some(AllocRange::new(3, None).unwrap());
        let p = plan(
            10,
            &Choice {
                range,
                ..Choice::default()
            },
            &Fake,
        );
        assert_eq!(p.swept, [4, 6, 8, 10]);
        assert_eq!(p.skipped, [3, 5, 7, 9]);
    }

    #[test]
    fn dedup_keeps_each_sites_first_index() {
        let p = plan(
            10,
            &Choice {
                dedup_depth: Some(16),
                ..Choice::default()
            },
            &Fake,
        );
        assert_eq!(p.swept, [2, 4, 6]);
        let d = p.dedup.unwrap();
        assert_eq!((d.sites, d.covered), (3, 2));
        assert_eq!(d.site_list[0].count, 2, "2 and 8 share site 2");
    }

    #[test]
    fn samples_are_reproducible_from_their_seed() {
        let choice = Choice {
            sample: Some(5),
            seed: 42,
            ..Choice::default()
        };
        let a = plan(100, &choice, &All);
        assert_eq!(a.swept.len(), 5);
        assert_eq!(a.swept, plan(100, &choice, &All).swept);
        assert_ne!(
            a.swept,
            plan(100, &Choice { seed: 43, ..choice }, &All).swept
        );
        assert_eq!(a.sample.unwrap().indices, a.swept);
        assert_eq!(
            plan(3, &choice, &All).swept,
            [1, 2, 3],
            "a sample larger than the range"
        );
    }
}
