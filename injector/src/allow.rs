//! Expected outcomes: findings a check accepts with a reason ([`Check::allow`],
//! [`Check::allow_site`]). An allowed finding stays in the report, marked with its reason and
//! counted apart; it does not fail the check. Which finding an [`Allow`] accepts is
//! [`Finding`](crate::Finding)'s to say.
//!
//! [`Check::allow`]: crate::Check::allow
//! [`Check::allow_site`]: crate::Check::allow_site

use crate::outcome::Outcome;
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
