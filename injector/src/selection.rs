//! Which indices a sweep runs ([`Selection`]: the whole range, or those chosen by site dedup or
//! sampling), how a list of them reaches the sweep children (a file), and each child's share of
//! the range ([`IndexSet`]).

use std::path::{Path, PathBuf};

/// The indices a sweep runs: a whole range, or a sorted list of some of its indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selection {
    /// Every index of `lo..=hi`.
    Range(u64, u64),
    /// These indices, sorted and distinct.
    List(Vec<u64>),
}

/// Why a sweep child cannot read the list of indices it was given.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SelectionError {
    /// The file cannot be read.
    #[error("cannot read the index selection {}: {source}", path.display())]
    Read {
        /// The list file.
        path: PathBuf,
        /// What reading it said.
        source: std::io::Error,
    },
    /// A line of the file is not an index.
    #[error("bad index {line:?} in the selection {}", path.display())]
    BadIndex {
        /// The list file.
        path: PathBuf,
        /// The line.
        line: String,
    },
}

impl Selection {
    /// Whether `index` is swept.
    pub(crate) fn contains(&self, index: u64) -> bool {
        match self {
            Selection::Range(lo, hi) => (*lo..=*hi).contains(&index),
            Selection::List(v) => v.binary_search(&index).is_ok(),
        }
    }

    /// Number of swept indices.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Selection::Range(lo, hi) => hi.saturating_sub(*lo) + 1,
            Selection::List(v) => v.len() as u64,
        }
    }

    /// The position of `index` among the swept indices, if it is one of them.
    pub(crate) fn position(&self, index: u64) -> Option<usize> {
        match self {
            Selection::Range(lo, hi) => (*lo..=*hi).contains(&index).then(|| (index - lo) as usize),
            Selection::List(v) => v.binary_search(&index).ok(),
        }
    }

    /// The swept indices in order.
    pub(crate) fn indices(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        match self {
            Selection::Range(lo, hi) => Box::new(*lo..=*hi),
            Selection::List(v) => Box::new(v.iter().copied()),
        }
    }

    /// Writes a list selection for sweep children (one index per line).
    pub(crate) fn write(list: &[u64], path: &Path) -> std::io::Result<()> {
        let mut text = String::with_capacity(list.len() * 7);
        for i in list {
            text.push_str(&i.to_string());
            text.push('\n');
        }
        std::fs::write(path, text)
    }

    /// Reads a list written by [`Selection::write`].
    pub(crate) fn read(path: &Path) -> Result<Selection, SelectionError> {
        let text = std::fs::read_to_string(path).map_err(|source| SelectionError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut v = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            v.push(
                line.trim()
                    .parse::<u64>()
                    .map_err(|_| SelectionError::BadIndex {
                        path: path.to_path_buf(),
                        line: line.to_string(),
                    })?,
            );
        }
        v.sort_unstable();
        v.dedup();
        Ok(Selection::List(v))
    }
}

/// A list selection written to a temporary file for the sweep children, removed on drop.
pub(crate) struct ListFile(PathBuf);

impl ListFile {
    /// Writes `list` to a fresh temporary file.
    pub(crate) fn write(list: &[u64]) -> std::io::Result<ListFile> {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let file = ListFile(std::env::temp_dir().join(format!(
            "oomcheck-select-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )));
        Selection::write(list, &file.0)?;
        Ok(file)
    }

    /// Where the list is.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ListFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A sweep child's share of the range, arithmetic: `start, start + step, …` up to `end`
/// inclusive (with `jobs` children, child *k* gets `lo + k, lo + k + jobs, …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexSet {
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) step: u64,
}

impl IndexSet {
    /// `start-end/step`, the form of `OOMCHECK_CHILD_SET`.
    pub(crate) fn encode(self) -> String {
        format!("{}-{}/{}", self.start, self.end, self.step)
    }

    /// Reads [`IndexSet::encode`]'s form.
    pub(crate) fn decode(s: &str) -> Option<IndexSet> {
        let (range, step) = s.split_once('/')?;
        let (a, b) = range.split_once('-')?;
        let set = IndexSet {
            start: a.parse().ok()?,
            end: b.parse().ok()?,
            step: step.parse().ok()?,
        };
        (set.step >= 1 && set.start >= 1).then_some(set)
    }

    /// The indices, in order.
    pub(crate) fn iter(self) -> impl Iterator<Item = u64> {
        (self.start..=self.end).step_by(self.step.max(1) as usize)
    }

    /// Whether the set has no index.
    pub(crate) fn is_empty(self) -> bool {
        self.start > self.end
    }

    /// The indices after `index`.
    pub(crate) fn after(self, index: u64) -> IndexSet {
        IndexSet {
            start: index + self.step,
            ..self
        }
    }

    /// The set as a selection (a range when its step is 1).
    pub(crate) fn to_selection(self) -> Selection {
        if self.step == 1 {
            Selection::Range(self.start, self.end)
        } else {
            Selection::List(self.iter().collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_answer_membership_and_round_trip_through_a_file() {
        let r = Selection::Range(3, 5);
        assert!(r.contains(3) && r.contains(5) && !r.contains(6));
        assert_eq!(r.len(), 3);
        assert_eq!(r.indices().collect::<Vec<_>>(), vec![3, 4, 5]);
        let file = ListFile::write(&[9, 2, 40]).unwrap();
        let path = file.path().to_path_buf();
        let l = Selection::read(&path).unwrap();
        assert_eq!(l, Selection::List(vec![2, 9, 40]));
        assert!(l.contains(9) && !l.contains(10));
        std::fs::write(&path, "1\nx\n").unwrap();
        assert!(Selection::read(&path)
            .unwrap_err()
            .to_string()
            .contains("bad index"));
        drop(file);
        assert!(!path.exists(), "the list file is removed on drop");
        assert!(matches!(
            Selection::read(&path),
            Err(SelectionError::Read { .. })
        ));
    }

    #[test]
    fn index_sets_round_trip_and_interleave() {
        let s = IndexSet {
            start: 2,
            end: 9,
            step: 3,
        };
        assert_eq!(IndexSet::decode(&s.encode()), Some(s));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![2, 5, 8]);
        assert_eq!(s.after(5).iter().collect::<Vec<_>>(), vec![8]);
        assert!(s.after(8).is_empty());
        assert_eq!(IndexSet::decode("1-5/0"), None);
        assert_eq!(IndexSet::decode("x"), None);
        assert_eq!(s.to_selection(), Selection::List(vec![2, 5, 8]));
        assert_eq!(
            IndexSet { step: 1, ..s }.to_selection(),
            Selection::Range(2, 9)
        );
    }
}
