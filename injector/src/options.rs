//! The named choices of a check, [`Mode`] and [`Dedup`] (and [`Strategy`](crate::Strategy), with
//! its planning rules in `strategy.rs`): their names, help, parsing and display, in one place for
//! the environment, the report and `oomcheck run`'s flags.

use std::fmt;
use std::str::FromStr;

/// A name that is not one of a choice's possible values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`: expected {}", expected(.names))]
pub struct UnknownName {
    /// What was being named (`mode`, `strategy`, `dedup`).
    pub what: &'static str,
    /// The text given.
    pub value: String,
    /// The possible values.
    pub names: &'static [&'static str],
}

/// "`a`, `b` or `c`".
fn expected(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// Parses `text` (trimmed, in any case) as one of `choices`' names or aliases.
pub(crate) fn parse_name<T: Copy>(
    what: &'static str,
    names: &'static [&'static str],
    choices: &[(&str, T)],
    text: &str,
) -> Result<T, UnknownName> {
    let key = text.trim().to_ascii_lowercase();
    choices
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, value)| *value)
        .ok_or_else(|| UnknownName {
            what,
            value: text.to_string(),
            names,
        })
}

/// Which allocations a sweep iteration fails (`OOMCHECK_MODE`, `--mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Fail only allocation *i*; later allocations succeed (a failure the code may recover from).
    #[default]
    Transient,
    /// Fail allocation *i* and every later one (memory stays exhausted).
    Persistent,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 2] = [Mode::Transient, Mode::Persistent];

    /// The names [`FromStr`] accepts, for a command line's possible values (clap's
    /// `PossibleValuesParser::new(Mode::NAMES)`).
    pub const NAMES: &'static [&'static str] = &["transient", "persistent"];

    /// The mode's name as used by `OOMCHECK_MODE`, the report and `--mode`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Transient => "transient",
            Mode::Persistent => "persistent",
        }
    }

    /// One line of help for a command line's list of possible values.
    pub fn help(self) -> &'static str {
        match self {
            Mode::Transient => "Fail one allocation, let the following ones succeed.",
            Mode::Persistent => "Fail one allocation and every later one.",
        }
    }
}

impl FromStr for Mode {
    type Err = UnknownName;

    /// `transient` or `persistent`, in any case.
    fn from_str(text: &str) -> Result<Mode, UnknownName> {
        parse_name(
            "mode",
            Mode::NAMES,
            &[
                ("transient", Mode::Transient),
                ("persistent", Mode::Persistent),
            ],
            text,
        )
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which indices of the range a sweep fails (`OOMCHECK_DEDUP`, `--dedup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dedup {
    /// Every index.
    #[default]
    None,
    /// Only the first allocation of each distinct call site, the site being a hash of the
    /// allocation's return addresses.
    Site,
}

impl Dedup {
    /// Both choices.
    pub const ALL: [Dedup; 2] = [Dedup::Site, Dedup::None];

    /// The canonical names [`FromStr`] accepts (it also takes `sites`, `off` and `0`).
    pub const NAMES: &'static [&'static str] = &["site", "none"];

    /// The choice's name as used by `OOMCHECK_DEDUP` and `--dedup`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dedup::Site => "site",
            Dedup::None => "none",
        }
    }

    /// One line of help for a command line's list of possible values.
    pub fn help(self) -> &'static str {
        match self {
            Dedup::Site => "One index per distinct call site.",
            Dedup::None => "Every index.",
        }
    }
}

impl FromStr for Dedup {
    type Err = UnknownName;

    /// `site` (or `sites`) and `none` (or `off`, `0`), in any case.
    fn from_str(text: &str) -> Result<Dedup, UnknownName> {
        parse_name(
            "dedup",
            Dedup::NAMES,
            &[
                ("site", Dedup::Site),
                ("sites", Dedup::Site),
                ("none", Dedup::None),
                ("off", Dedup::None),
                ("0", Dedup::None),
            ],
            text,
        )
    }
}

impl fmt::Display for Dedup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_and_others_are_refused() {
        for m in Mode::ALL {
            assert_eq!(m.to_string().parse::<Mode>(), Ok(m));
            assert!(Mode::NAMES.contains(&m.as_str()));
        }
        for d in Dedup::ALL {
            assert_eq!(d.to_string().parse::<Dedup>(), Ok(d));
            assert!(Dedup::NAMES.contains(&d.as_str()));
        }
        assert_eq!(" Persistent ".parse::<Mode>(), Ok(Mode::Persistent));
        assert_eq!("sites".parse::<Dedup>(), Ok(Dedup::Site));
        assert_eq!("off".parse::<Dedup>(), Ok(Dedup::None));
        let e = "sometimes".parse::<Mode>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown mode `sometimes`: expected `transient` or `persistent`"
        );
        assert!("stack".parse::<Dedup>().is_err());
    }
}
