//! The allocation range of a sweep (`OOMCHECK_ALLOC`, `oomcheck run --alloc`): one grammar, one
//! canonical form.

use std::fmt;
use std::ops::{Bound, RangeBounds};
use std::str::FromStr;

/// An inclusive, 1-based range of allocation indices, possibly open-ended ("up to the last
/// allocation").
///
/// Its text form (`FromStr`) is, with spaces allowed around each number:
///
/// | text    | indices                  |
/// |---------|--------------------------|
/// | `17`    | 17 only                  |
/// | `7-10`  | 7 to 10                  |
/// | `7-`    | 7 to the last one        |
/// | `-10`   | 1 to 10                  |
///
/// Indices are decimal digits (no sign), at least 1, and a range's start is not after its end.
/// [`Display`](fmt::Display) writes the canonical form, which parses back to the same range:
/// `17`, `7-10`, `7-` (and `1-10` for `-10`).
///
/// ```
/// use oomcheck_injector::AllocRange;
///
/// let r: AllocRange = " 7 - 10 ".parse().unwrap();
/// assert_eq!((r.start(), r.end()), (7, Some(10)));
/// assert_eq!(r.to_string(), "7-10");
/// assert_eq!("-3".parse::<AllocRange>().unwrap().to_string(), "1-3");
/// assert!("10-7".parse::<AllocRange>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocRange {
    start: u64,
    end: Option<u64>,
}

/// Why a range's text was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocRangeError {
    /// The text is not `N`, `A-B`, `A-` or `-B` with decimal numbers.
    #[error(
        "expected an allocation index like `17` or a range like `7-10`, `7-` or `-10`, got `{0}`"
    )]
    Syntax(String),
    /// An index of 0: indices count from 1.
    #[error("allocation indices start at 1, got `{0}`")]
    Zero(String),
    /// `A-B` with A > B.
    #[error("the range `{0}` is empty: its start is after its end")]
    Reversed(String),
}

impl AllocRange {
    /// Every allocation.
    pub const ALL: AllocRange = AllocRange {
        start: 1,
        end: None,
    };

    /// Indices `start..=end` (`end: None`: up to the last allocation).
    pub fn new(start: u64, end: Option<u64>) -> Result<AllocRange, AllocRangeError> {
        let range = AllocRange { start, end };
        if start == 0 || end == Some(0) {
            return Err(AllocRangeError::Zero(range.to_string()));
        }
        if end.is_some_and(|end| end < start) {
            return Err(AllocRangeError::Reversed(range.to_string()));
        }
        Ok(range)
    }

    /// Index `index` alone (`index` ≥ 1; 0 is taken as 1).
    pub fn single(index: u64) -> AllocRange {
        let index = index.max(1);
        AllocRange {
            start: index,
            end: Some(index),
        }
    }

    /// The indices of a Rust range, e.g. `7..=10` or `5..`; indices below 1 are dropped (an
    /// empty range such as `5..5` becomes the empty `5-4`, which [`AllocRange::clamp`] rejects).
    pub fn from_bounds(range: impl RangeBounds<u64>) -> AllocRange {
        let start = match range.start_bound() {
            Bound::Included(&n) => n.max(1),
            Bound::Excluded(&n) => n.saturating_add(1).max(1),
            Bound::Unbounded => 1,
        };
        let end = match range.end_bound() {
            Bound::Included(&n) => Some(n),
            Bound::Excluded(&n) => Some(n.saturating_sub(1)),
            Bound::Unbounded => None,
        };
        AllocRange { start, end }
    }

    /// First index (≥ 1).
    pub fn start(self) -> u64 {
        self.start
    }

    /// Last index, or `None` for "up to the last allocation".
    pub fn end(self) -> Option<u64> {
        self.end
    }

    /// The indices of this range that exist in a body making `nalloc` allocations, or `None` when
    /// none does.
    pub fn clamp(self, nalloc: u64) -> Option<(u64, u64)> {
        let hi = self.end.unwrap_or(nalloc).min(nalloc);
        (self.start <= hi).then_some((self.start, hi))
    }
}

impl FromStr for AllocRange {
    type Err = AllocRangeError;

    fn from_str(text: &str) -> Result<AllocRange, AllocRangeError> {
        let syntax = || AllocRangeError::Syntax(text.to_string());
        // `None` for an empty side of `A-B`.
        let number = |s: &str| -> Result<Option<u64>, AllocRangeError> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            if !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax());
            }
            s.parse().map(Some).map_err(|_| syntax())
        };
        let (start, end) = match text.split_once('-') {
            None => {
                let n = number(text)?.ok_or_else(syntax)?;
                (n, Some(n))
            }
            Some((a, b)) => match (number(a)?, number(b)?) {
                (None, None) => return Err(syntax()),
                (a, b) => (a.unwrap_or(1), b),
            },
        };
        if start == 0 || end == Some(0) {
            return Err(AllocRangeError::Zero(text.to_string()));
        }
        if end.is_some_and(|end| end < start) {
            return Err(AllocRangeError::Reversed(text.to_string()));
        }
        Ok(AllocRange { start, end })
    }
}

impl fmt::Display for AllocRange {
    /// The canonical form: `17`, `7-10` or `7-`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.end {
            Some(end) if end == self.start => write!(f, "{end}"),
            Some(end) => write!(f, "{}-{end}", self.start),
            None => write!(f, "{}-", self.start),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: u64, end: Option<u64>) -> AllocRange {
        AllocRange::new(start, end).expect("a valid range")
    }

    #[test]
    fn parses_single_index_and_ranges() {
        assert_eq!("17".parse(), Ok(range(17, Some(17))));
        assert_eq!(" 7-10 ".parse(), Ok(range(7, Some(10))));
        assert_eq!("7-".parse(), Ok(range(7, None)));
        assert_eq!("-3".parse(), Ok(range(1, Some(3))));
        // The CLI's `--alloc` grammar: spaces around each number.
        assert_eq!(" 3 - 3 ".parse(), Ok(range(3, Some(3))));
        assert_eq!("7-10".parse(), Ok(range(7, Some(10))));
    }

    #[test]
    fn rejects_bad_ranges_with_the_reason() {
        let err = |s: &str| s.parse::<AllocRange>().unwrap_err();
        for bad in [
            "",
            "abc",
            "x",
            "1-2-3",
            "+4",
            "+5",
            "4.5",
            "1.5",
            "-",
            " - ",
            "1-x",
            "99999999999999999999999",
        ] {
            assert_eq!(err(bad), AllocRangeError::Syntax(bad.into()), "{bad:?}");
        }
        assert_eq!(err("0"), AllocRangeError::Zero("0".into()));
        assert_eq!(err("0-3"), AllocRangeError::Zero("0-3".into()));
        assert_eq!(err("0-4"), AllocRangeError::Zero("0-4".into()));
        assert_eq!(err("10-7"), AllocRangeError::Reversed("10-7".into()));
        assert_eq!(
            err("0").to_string(),
            "allocation indices start at 1, got `0`"
        );
    }

    #[test]
    fn displays_the_canonical_form_which_parses_back() {
        for (text, canonical) in [
            ("17", "17"),
            ("7-10", "7-10"),
            (" 4 - 4 ", "4"),
            ("7-", "7-"),
            ("-3", "1-3"),
        ] {
            let r: AllocRange = text.parse().unwrap();
            assert_eq!(r.to_string(), canonical, "{text:?}");
            assert_eq!(canonical.parse::<AllocRange>(), Ok(r), "{canonical:?}");
        }
        assert_eq!(AllocRange::ALL.to_string(), "1-");
        assert_eq!(AllocRange::single(5).to_string(), "5");
    }

    #[test]
    fn new_checks_what_the_grammar_checks() {
        assert_eq!(
            AllocRange::new(0, None),
            Err(AllocRangeError::Zero("0-".into()))
        );
        assert_eq!(
            AllocRange::new(5, Some(4)),
            Err(AllocRangeError::Reversed("5-4".into()))
        );
        assert_eq!(AllocRange::new(1, None), Ok(AllocRange::ALL));
    }

    #[test]
    fn converts_every_rust_range_form() {
        assert_eq!(AllocRange::from_bounds(7..=10), range(7, Some(10)));
        assert_eq!(AllocRange::from_bounds(2..5), range(2, Some(4)));
        assert_eq!(AllocRange::from_bounds(5..), range(5, None));
        assert_eq!(AllocRange::from_bounds(..=3), range(1, Some(3)));
        assert_eq!(AllocRange::from_bounds(0..=2), range(1, Some(2)));
        assert_eq!(AllocRange::from_bounds(..), AllocRange::ALL);
    }

    #[test]
    fn clamps_to_the_counted_allocations() {
        let r: AllocRange = "7-10".parse().unwrap();
        assert_eq!(r.clamp(42), Some((7, 10)));
        assert_eq!(r.clamp(8), Some((7, 8)));
        assert_eq!(r.clamp(6), None);
        assert_eq!(AllocRange::ALL.clamp(3), Some((1, 3)));
        assert_eq!(AllocRange::ALL.clamp(0), None);
    }
}
