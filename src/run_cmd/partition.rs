//! `--partition count:K/N | hash:K/N | slice:K/N`: which tests one shard of a CI matrix sweeps,
//! as cargo-nextest defines the three kinds. Deterministic: the same tests and the same
//! partition give the same shard on every machine.
//!
//! - `count`: round-robin within each test binary (the binary's first test in shard 1, its
//!   second in shard 2, …).
//! - `hash`: within each test binary, by the 64-bit xxHash (seed 0) of the test's name, modulo N.
//! - `slice`: round-robin across all binaries, in the order of their names.
//!
//! As in nextest, a test filter applies first: only the tests it selects are partitioned.
use std::path::Path;
use std::process::{Command, Stdio};
use std::str::FromStr;

/// How tests are assigned to shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Round-robin within each binary.
    Count,
    /// By the test name's hash.
    Hash,
    /// Round-robin across all binaries.
    Slice,
}

/// One shard of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// How tests are assigned.
    pub kind: Kind,
    /// This shard, from 1.
    pub shard: u64,
    /// The number of shards.
    pub total: u64,
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Partition, String> {
        let usage = || format!("`{s}`: expected count:K/N, hash:K/N or slice:K/N with 1 <= K <= N");
        let (kind, rest) = s.split_once(':').ok_or_else(usage)?;
        let kind = match kind {
            "count" => Kind::Count,
            "hash" => Kind::Hash,
            "slice" => Kind::Slice,
            _ => return Err(usage()),
        };
        let (k, n) = rest.split_once('/').ok_or_else(usage)?;
        let (shard, total): (u64, u64) = (
            k.parse().map_err(|_| usage())?,
            n.parse().map_err(|_| usage())?,
        );
        if shard == 0 || shard > total {
            return Err(usage());
        }
        Ok(Partition { kind, shard, total })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            Kind::Count => "count",
            Kind::Hash => "hash",
            Kind::Slice => "slice",
        };
        write!(f, "{kind}:{}/{}", self.shard, self.total)
    }
}

impl Partition {
    /// The tests of this shard, from each binary's tests in listing order (binaries in the order
    /// given: sorted by name).
    pub fn select(&self, binaries: &[Vec<String>]) -> Vec<String> {
        let mine = |position: u64| position % self.total == self.shard - 1;
        let mut out = Vec::new();
        let mut across = 0;
        for tests in binaries {
            for (i, test) in tests.iter().enumerate() {
                let chosen = match self.kind {
                    Kind::Count => mine(i as u64),
                    Kind::Hash => mine(xxhash_rust::xxh64::xxh64(test.as_bytes(), 0)),
                    Kind::Slice => mine(across),
                };
                across += 1;
                if chosen {
                    out.push(test.clone());
                }
            }
        }
        out
    }
}

/// The tests of a libtest executable that `selection` chooses (libtest's own filters, `--exact`,
/// `--skip`, `--ignored`: `--list --format terse SELECTION`), in its order.
pub fn list(executable: &Path, selection: &[String]) -> std::io::Result<Vec<String>> {
    let out = Command::new(executable)
        .args(["--list", "--format", "terse"])
        .args(selection)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!(
            "{} --list failed ({})",
            executable.display(),
            out.status
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn kinds_follow_nextest() {
        let binaries = [names(&["a1", "a2", "a3"]), names(&["b1", "b2"])];
        let p = |s: &str| s.parse::<Partition>().unwrap();
        assert_eq!(p("count:1/2").select(&binaries), ["a1", "a3", "b1"]);
        assert_eq!(p("count:2/2").select(&binaries), ["a2", "b2"]);
        assert_eq!(p("slice:1/2").select(&binaries), ["a1", "a3", "b2"]);
        assert_eq!(p("slice:2/2").select(&binaries), ["a2", "b1"]);
        // Hash: every test in exactly one shard, the same one every time.
        let all: Vec<String> = (1..=3)
            .flat_map(|k| p(&format!("hash:{k}/3")).select(&binaries))
            .collect();
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(sorted, ["a1", "a2", "a3", "b1", "b2"]);
        assert_eq!(
            p("hash:2/3").select(&binaries),
            p("hash:2/3").select(&binaries)
        );
        assert_eq!(p("hash:1/2").to_string(), "hash:1/2");
    }

    #[test]
    fn bad_partitions_say_what_is_expected() {
        for bad in [
            "count:0/2",
            "count:3/2",
            "count",
            "round:1/2",
            "slice:1",
            "hash:a/b",
        ] {
            let e = bad.parse::<Partition>().unwrap_err();
            assert!(e.contains("count:K/N, hash:K/N or slice:K/N"), "{e}");
        }
    }
}
