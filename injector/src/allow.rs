//! Expected outcomes: findings a check accepts with a reason ([`Check::allow`],
//! [`Check::allow_site`]). An allowed finding stays in the report, marked with its reason and
//! counted apart; it does not fail the check.
//!
//! [`Check::allow`]: crate::Check::allow
//! [`Check::allow_site`]: crate::Check::allow_site

use crate::outcome::Outcome;
use crate::report::Finding;
use serde::{Deserialize, Serialize};

/// One accepted result: an outcome (anywhere), or any finding at a site, or both. Built by
/// [`Check::allow`](crate::Check::allow) and [`Check::allow_site`](crate::Check::allow_site), or
/// read from `OOMCHECK_ALLOW` (JSON), where `oomcheck run` puts the crate's `[[run.allow]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allow {
    /// The outcome accepted, or any outcome.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// Part of a frame's function path or of its `file:line` (`Rc::from`, `src/io.rs:42`) in the
    /// failed allocation's stack, or any site.
    #[serde(default)]
    pub site: Option<String>,
    /// Why the result is expected.
    pub reason: String,
}

impl Allow {
    /// Whether this accepts `finding`.
    fn accepts(&self, finding: &Finding) -> bool {
        if self.outcome.is_some_and(|o| o != finding.outcome) {
            return false;
        }
        let Some(pattern) = &self.site else {
            return true;
        };
        finding.stack.iter().chain(finding.site.as_ref()).any(|f| {
            let place = format!(
                "{}:{}",
                f.file.as_deref().unwrap_or(""),
                f.line.map(|l| l.to_string()).unwrap_or_default()
            );
            f.function.contains(pattern.as_str()) || place.contains(pattern.as_str())
        })
    }
}

/// The reason of the first of `allows` that accepts `finding`.
pub(crate) fn reason(allows: &[Allow], finding: &Finding) -> Option<String> {
    allows
        .iter()
        .find(|a| a.accepts(finding))
        .map(|a| a.reason.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Frame;

    fn finding(outcome: Outcome, function: &str) -> Finding {
        let site = Frame {
            function: function.into(),
            file: Some("src/io.rs".into()),
            line: Some(42),
        };
        Finding {
            alloc: 3,
            outcome,
            site: Some(site.clone()),
            stack: vec![site],
            message: String::new(),
            diff: None,
            stderr: None,
            repro: String::new(),
            in_test_body: false,
            allowed: None,
        }
    }

    #[test]
    fn an_allow_matches_its_outcome_and_site() {
        let abort = Allow {
            outcome: Some(Outcome::Abort),
            site: None,
            reason: "documented".into(),
        };
        let at_io = Allow {
            outcome: None,
            site: Some("src/io.rs:42".into()),
            reason: "io".into(),
        };
        let f = finding(Outcome::Abort, "demo::read");
        assert_eq!(reason(&[abort.clone()], &f).as_deref(), Some("documented"));
        let w = finding(Outcome::WrongError, "demo::read");
        assert_eq!(reason(&[abort.clone()], &w), None);
        assert_eq!(reason(&[abort, at_io], &w).as_deref(), Some("io"));
        let by_name = Allow {
            outcome: None,
            site: Some("demo::write".into()),
            reason: "w".into(),
        };
        assert_eq!(reason(&[by_name], &w), None);
    }
}
