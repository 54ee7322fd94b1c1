//! The lcov tracefile: per source file with sites, one `DA:<line>,<count>` per site line,
//! `count` the swept indices whose failed allocation's stack passed through it (0: never
//! failed). genhtml, Codecov and editors' coverage gutters read it as they read line coverage.
use std::collections::BTreeMap;
use std::fmt::Write;

use super::join::Joined;

/// The tracefile's text (files and lines in order; the same join gives the same bytes).
pub fn render(j: &Joined) -> String {
    let mut files: BTreeMap<&str, BTreeMap<usize, u64>> = BTreeMap::new();
    for s in &j.sites {
        let lines = files.entry(&s.path).or_default();
        // Sites sharing a line share its count.
        let count = lines.entry(s.line).or_insert(0);
        *count = (*count).max(s.count);
    }
    let mut out = String::new();
    for (path, lines) in files {
        let _ = writeln!(out, "TN:\nSF:{path}");
        for (line, count) in &lines {
            let _ = writeln!(out, "DA:{line},{count}");
        }
        let hit = lines.values().filter(|&&c| c > 0).count();
        let _ = writeln!(out, "LH:{hit}\nLF:{}\nend_of_record", lines.len());
    }
    out
}
