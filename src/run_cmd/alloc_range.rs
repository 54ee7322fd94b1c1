//! The `--alloc` range: `17` or `7-10`, 1-based and inclusive, as libvirt's `VIR_TEST_OOM=1:7-10`.
use std::fmt;
use std::str::FromStr;

/// An inclusive, 1-based range of allocation indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocRange {
    /// First index (≥ 1).
    pub start: u64,
    /// Last index (≥ `start`).
    pub end: u64,
}

/// Why an `--alloc` value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocRangeError {
    /// The text is not `N` or `A-B`.
    #[error("expected an allocation index like `17` or a range like `7-10`, got `{0}`")]
    Syntax(String),
    /// An index of 0: indices count from 1.
    #[error("allocation indices start at 1, got `{0}`")]
    Zero(String),
    /// `A-B` with A > B.
    #[error("the range `{0}` is empty: its start is after its end")]
    Reversed(String),
}

impl FromStr for AllocRange {
    type Err = AllocRangeError;

    fn from_str(text: &str) -> Result<AllocRange, AllocRangeError> {
        let syntax = || AllocRangeError::Syntax(text.to_string());
        let number = |s: &str| -> Result<u64, AllocRangeError> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax());
            }
            s.parse().map_err(|_| syntax())
        };
        let (start, end) = match text.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let n = number(text)?;
                (n, n)
            }
        };
        if start == 0 || end == 0 {
            return Err(AllocRangeError::Zero(text.to_string()));
        }
        if start > end {
            return Err(AllocRangeError::Reversed(text.to_string()));
        }
        Ok(AllocRange { start, end })
    }
}

impl fmt::Display for AllocRange {
    /// The form `OOMCHECK_ALLOC` takes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_index_and_range() {
        assert_eq!("17".parse(), Ok(AllocRange { start: 17, end: 17 }));
        assert_eq!("7-10".parse(), Ok(AllocRange { start: 7, end: 10 }));
        assert_eq!(" 3 - 3 ".parse(), Ok(AllocRange { start: 3, end: 3 }));
        assert_eq!(AllocRange { start: 7, end: 10 }.to_string(), "7-10");
        assert_eq!(AllocRange { start: 4, end: 4 }.to_string(), "4");
    }

    #[test]
    fn rejects_bad_ranges_with_the_reason() {
        let err = |s: &str| s.parse::<AllocRange>().unwrap_err();
        assert_eq!(err("0"), AllocRangeError::Zero("0".into()));
        assert_eq!(err("0-4"), AllocRangeError::Zero("0-4".into()));
        assert_eq!(err("10-7"), AllocRangeError::Reversed("10-7".into()));
        for bad in [
            "",
            "x",
            "7-",
            "-7",
            "1-2-3",
            "+5",
            "1.5",
            "99999999999999999999999",
        ] {
            assert_eq!(err(bad), AllocRangeError::Syntax(bad.into()), "{bad:?}");
        }
    }
}
