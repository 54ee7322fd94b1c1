//! One finding per root cause at the signature: in a function returning `Option`, every
//! `alloc().ok()?` turns an allocation failure into `None`, and the place a maintainer fixes
//! them all is the return type (an `Option` cannot say "out of memory"). When several sites of
//! one function are swallowed that way (marked by the checks, `RawFinding::none_by_signature`),
//! they are reported as ONE finding at the first site, with the others as related places.
//! Other rules and other handlings stay one finding per site.
//!
//! Suppression comments still apply per site: an allow on the first site's line allows the
//! whole group; an allow on another site's line drops that site from the group. A group left
//! with one site is an ordinary finding again.
use std::collections::HashMap;

use super::checks::{RawFinding, SignatureSite};
use super::suppress::{self, Allow};
use crate::finding::{Related, Span};
use crate::rules::swallowed_alloc_failure;

/// A finding that survived suppression, with the places it stands for.
pub(crate) struct Reported {
    /// The finding (at its first site, for a group).
    pub raw: RawFinding,
    /// The other sites of its group.
    pub related: Vec<Related>,
    /// A help line of its own (a group's), instead of the rule's.
    pub help: Option<String>,
}

/// Apply the suppression comments `allows` to `list` (the file's findings, deduplicated, in
/// the order found) and fold each function's signature-caused `None`s into one finding.
pub(crate) fn suppress_and_group(list: Vec<RawFinding>, allows: &mut [Allow]) -> Vec<Reported> {
    let mut groups: HashMap<(String, Span), Vec<RawFinding>> = HashMap::new();
    let mut out = Vec::new();
    for f in list {
        match &f.none_by_signature {
            Some(site) => groups
                .entry((site.function.clone(), site.function_at))
                .or_default()
                .push(f),
            None => out.extend(single(f, allows)),
        }
    }
    let mut groups: Vec<Vec<RawFinding>> = groups.into_values().collect();
    // Deterministic use of the allow comments (the output is sorted by the caller).
    groups.sort_by_key(|g| g.iter().map(|f| f.span).min());
    for mut members in groups {
        members.sort_by_key(|f| f.span);
        if members.len() == 1 {
            out.extend(members.pop().and_then(|f| single(f, allows)));
            continue;
        }
        // Every member's allow is consulted (and so counts as used), the first one's for all.
        let allowed: Vec<bool> = members
            .iter()
            .map(|f| suppress::suppress(allows, f.rule, f.span.start_line, f.stmt_line))
            .collect();
        if allowed[0] {
            continue;
        }
        let mut kept: Vec<RawFinding> = members
            .into_iter()
            .zip(allowed)
            .filter(|(_, allowed)| !allowed)
            .map(|(f, _)| f)
            .collect();
        if kept.len() == 1 {
            out.extend(kept.pop().map(plain));
            continue;
        }
        out.push(group(kept));
    }
    out
}

/// A finding on its own, unless an allow comment suppresses it.
fn single(f: RawFinding, allows: &mut [Allow]) -> Option<Reported> {
    (!suppress::suppress(allows, f.rule, f.span.start_line, f.stmt_line)).then(|| plain(f))
}

fn plain(raw: RawFinding) -> Reported {
    Reported {
        raw,
        related: Vec::new(),
        help: None,
    }
}

/// The group's finding: the first site, reworded for the function, the others related.
fn group(mut kept: Vec<RawFinding>) -> Reported {
    let rest = kept.split_off(1);
    let mut raw = kept.remove(0);
    let related: Vec<Related> = rest
        .iter()
        .filter_map(|f| {
            let site: &SignatureSite = f.none_by_signature.as_ref()?;
            Some(Related {
                span: f.span,
                message: swallowed_alloc_failure::related_message(&site.call, &site.how),
            })
        })
        .collect();
    if let Some(site) = &raw.none_by_signature {
        raw.message = swallowed_alloc_failure::signature_message(
            &site.function,
            &site.call,
            &site.how,
            related.len() + 1,
        );
    }
    Reported {
        raw,
        related,
        help: Some(swallowed_alloc_failure::SIGNATURE_HELP.to_string()),
    }
}
