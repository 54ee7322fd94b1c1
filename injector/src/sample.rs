//! Sampling: `OOMCHECK_SAMPLE=N` sweeps N indices of the range chosen at random, reproducibly
//! from `OOMCHECK_SEED` (printed in the summary line and the record, so a sample can be replayed).

use std::collections::BTreeSet;

/// The splitmix64 generator (Steele, Lea and Flood): tiny, fast and well mixed, which is all a
/// reproducible choice of indices needs.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound > 0`), without modulo bias: Lemire's multiply-and-reject.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(bound);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

/// `n` distinct positions of `0..len`, sorted, chosen from `seed` (all of them when `n >= len`).
///
/// Floyd's algorithm: n draws, no shuffle of the whole range, so sampling 100 of 10⁶ is cheap.
pub(crate) fn choose(len: u64, n: u64, seed: u64) -> Vec<u64> {
    if n >= len {
        return (0..len).collect();
    }
    let mut rng = SplitMix64::new(seed);
    let mut chosen = BTreeSet::new();
    for j in len - n..len {
        let t = rng.below(j + 1);
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    chosen.into_iter().collect()
}

/// A seed for a run that names none: the clock and the process id, mixed.
pub(crate) fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut rng = SplitMix64::new(nanos ^ (u64::from(std::process::id()) << 32));
    // Keep seeds short enough to type: 10 decimal digits at most.
    rng.next_u64() % 10_000_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // The reference implementation's output for seed 1234567 (prng.di.unimi.it/splitmix64.c).
        let mut r = SplitMix64::new(1_234_567);
        assert_eq!(r.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(r.next_u64(), 3_203_168_211_198_807_973);
        assert_eq!(r.next_u64(), 9_817_491_932_198_370_423);
    }

    #[test]
    fn below_stays_in_bounds_and_covers_them() {
        let mut r = SplitMix64::new(7);
        let mut seen = [0u32; 5];
        for _ in 0..1000 {
            seen[r.below(5) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 150), "{seen:?}");
        assert_eq!(SplitMix64::new(1).below(1), 0);
    }

    #[test]
    fn choice_is_reproducible_distinct_sorted_and_in_range() {
        let a = choose(100_000, 50, 42);
        assert_eq!(a, choose(100_000, 50, 42));
        assert_ne!(a, choose(100_000, 50, 43));
        assert_eq!(a.len(), 50);
        assert!(a.windows(2).all(|w| w[0] < w[1]), "{a:?}");
        assert!(a.iter().all(|&i| i < 100_000));
        assert_eq!(choose(5, 9, 1), vec![0, 1, 2, 3, 4]);
        assert_eq!(choose(5, 0, 1), Vec::<u64>::new());
        let mut all = choose(10, 10, 3);
        all.dedup();
        assert_eq!(all.len(), 10);
    }

    #[test]
    fn every_position_can_be_chosen() {
        let mut hit = [false; 20];
        for seed in 0..200 {
            for p in choose(20, 3, seed) {
                hit[p as usize] = true;
            }
        }
        assert!(hit.iter().all(|&h| h), "{hit:?}");
    }
}
