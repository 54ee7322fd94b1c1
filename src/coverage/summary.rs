//! The summary: the share of sites failed, the sites never failed, and per rule the lint
//! findings a sweep confirmed. Also the last lines of `oomcheck run`.
use std::collections::BTreeMap;
use std::fmt::Write;

use super::join::Joined;

/// The summary's text.
pub fn render(j: &Joined) -> String {
    let mut out = String::new();
    let t = &j.totals;
    if t.sites == 0 {
        out.push_str("OOM paths: the analyzer found no fallible allocation site\n");
    } else {
        let _ = writeln!(
            out,
            "OOM paths: {} of {} fallible allocation sites failed by a sweep ({} %)",
            t.failed,
            t.sites,
            percent(t.failed, t.sites)
        );
    }
    let never: Vec<_> = j.sites.iter().filter(|s| s.count == 0).collect();
    if !never.is_empty() {
        out.push_str("never failed:\n");
        for s in never {
            let _ = writeln!(
                out,
                "  {}:{}  {} (`{}`)",
                s.path,
                s.line,
                s.function.as_deref().unwrap_or("<no function>"),
                s.callee
            );
        }
    }
    let mut per_rule: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for l in &j.lint {
        let e = per_rule.entry(&l.rule).or_default();
        e.1 += 1;
        if !l.confirmed_by.is_empty() {
            e.0 += 1;
        }
    }
    for (rule, (confirmed, all)) in per_rule {
        let _ = writeln!(
            out,
            "{rule}: {confirmed} of {all} lint findings confirmed by a sweep"
        );
    }
    // Each test's findings of one outcome explained by one lint finding, on one line.
    let mut explained: BTreeMap<(&str, &str, usize), Vec<String>> = BTreeMap::new();
    for f in &j.findings {
        for &l in &f.explained_by {
            explained
                .entry((&f.test, f.outcome.as_str(), l))
                .or_default()
                .push(format!("#{}", f.alloc));
        }
    }
    for ((test, outcome, l), allocs) in explained {
        let l = &j.lint[l];
        let _ = writeln!(
            out,
            "{test} {} {outcome}: explained by lint: {} at {}:{}",
            allocs.join(", "),
            l.rule,
            l.path,
            l.line
        );
    }
    out
}

/// `part` of `whole` in percent, rounded half up.
fn percent(part: usize, whole: usize) -> usize {
    (part * 200 + whole) / (2 * whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds_half_up() {
        assert_eq!(percent(37, 52), 71);
        assert_eq!(percent(1, 2), 50);
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(2, 3), 67);
        assert_eq!(percent(0, 5), 0);
        assert_eq!(percent(5, 5), 100);
    }
}
