//! `--format html`: one self-contained page (no script, no network, no external asset): per
//! source file with sites, its code with each site line coloured (failed and handled, failed
//! with a finding, never failed), and under it the site's outcomes, its findings (error, diff,
//! repro command, the lint finding explaining it) and the lint findings on the line.
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use quick_xml::escape::escape;

use super::join::{Joined, SiteCoverage};

const STYLE: &str = "body{font:14px/1.4 sans-serif;margin:1.5em;color:#222;background:#fff}\
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}\
table.src{border-collapse:collapse;font:13px/1.35 monospace;width:100%}\
table.sites{border-collapse:collapse;margin:.5em 0 1em}\
table.sites td,table.sites th{padding:.15em .8em;text-align:left;border-bottom:1px solid #fff}\
td.n{color:#888;text-align:right;padding:0 .8em 0 .3em;user-select:none;width:3em}\
td.c{white-space:pre;padding:0 .4em}\
tr.handled td{background:#c8efc8}tr.finding td{background:#f6c2c2}\
tr.never-failed td{background:#f3e3a0}\
table.sites tr.handled td{background:#c8efc8}\
td.d{padding:.3em 1em .6em 4.5em;font:13px/1.4 sans-serif;background:#fafafa;border-bottom:1px solid #ddd}\
pre{background:#f0f0f0;padding:.4em;margin:.3em 0;white-space:pre-wrap}\
.k{display:inline-block;padding:0 .5em;margin-right:.6em;border-radius:3px}\
.k.handled{background:#c8efc8}.k.finding{background:#f6c2c2}.k.never-failed{background:#f3e3a0}";

/// The page, reading each file with sites from under the workspace `root`.
pub fn render(j: &Joined, root: &Path) -> String {
    let mut by_file: BTreeMap<&str, BTreeMap<usize, Vec<&SiteCoverage>>> = BTreeMap::new();
    for s in &j.sites {
        by_file
            .entry(&s.path)
            .or_default()
            .entry(s.line)
            .or_default()
            .push(s);
    }
    let t = &j.totals;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>oomcheck: OOM paths</title><style>{STYLE}</style></head><body>\n\
         <h1>OOM paths: {} of {} fallible allocation sites failed by a sweep</h1>\n\
         <p><span class=\"k handled\">failed and handled</span>\
         <span class=\"k finding\">failed with a finding</span>\
         <span class=\"k never-failed\">never failed</span> \
         {} indices swept over {} tests; {} of {} lint findings confirmed by a sweep.</p>\n",
        t.failed,
        t.sites,
        t.swept,
        j.tests.len(),
        t.lint_confirmed,
        t.lint_findings
    );
    out.push_str(&site_table(j));
    for (path, lines) in by_file {
        let text = std::fs::read_to_string(root.join(path)).unwrap_or_default();
        let _ = writeln!(
            out,
            "<h2 id=\"{}\">{}</h2>\n<table class=\"src\">",
            escape(path),
            escape(path)
        );
        for (i, code) in text.lines().enumerate() {
            let n = i + 1;
            let sites = lines.get(&n);
            let class = sites.map_or("", |s| worst(s));
            let _ = writeln!(
                out,
                "<tr class=\"{class}\" id=\"{}-{n}\"><td class=\"n\">{n}</td><td class=\"c\">{}</td></tr>",
                escape(path),
                escape(code)
            );
            if let Some(sites) = sites {
                let _ = writeln!(
                    out,
                    "<tr><td></td><td class=\"d\">{}</td></tr>",
                    details(j, sites)
                );
            }
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// Every site in one table: place, function, callee, how many indices failed it, outcomes.
fn site_table(j: &Joined) -> String {
    let mut t = String::from(
        "<table class=\"sites\"><tr><th>site</th><th>function</th><th>allocation</th>\
         <th>failed</th><th>outcomes</th></tr>\n",
    );
    for s in &j.sites {
        let outcomes: Vec<String> = s
            .outcomes
            .iter()
            .map(|(o, n)| format!("{} {n}", o.as_str()))
            .collect();
        let _ = writeln!(
            t,
            "<tr class=\"{}\"><td>{}:{}</td><td><code>{}</code></td><td><code>{}</code></td>\
             <td>{}</td><td>{}</td></tr>",
            s.state(),
            escape(&s.path),
            s.line,
            escape(s.function.as_deref().unwrap_or("-")),
            escape(&s.callee),
            s.count,
            outcomes.join(", ")
        );
    }
    t.push_str("</table>\n");
    t
}

/// The state shown for a line: a finding outweighs a handled failure, which outweighs none.
fn worst(sites: &[&SiteCoverage]) -> &'static str {
    let states: Vec<&str> = sites.iter().map(|s| s.state()).collect();
    ["finding", "handled", "never-failed"]
        .into_iter()
        .find(|s| states.contains(s))
        .unwrap_or("never-failed")
}

/// What the sweeps and the lint say about the sites of one line.
fn details(j: &Joined, sites: &[&SiteCoverage]) -> String {
    let mut d = String::new();
    for s in sites {
        let outcomes: Vec<String> = s
            .outcomes
            .iter()
            .map(|(o, n)| format!("{} {n}", o.as_str()))
            .collect();
        let _ = write!(
            d,
            "<div><b>{}</b> in <code>{}</code>: {}",
            escape(&s.callee),
            escape(s.function.as_deref().unwrap_or("-")),
            match s.count {
                0 => "never failed by a sweep".to_string(),
                n => format!("failed at {n} swept indices ({})", outcomes.join(", ")),
            }
        );
        for &f in &s.findings {
            let f = &j.findings[f];
            let _ = write!(
                d,
                "<div class=\"finding\"><b>{}</b> in {} at allocation #{}{}<pre>{}</pre>",
                escape(f.outcome.as_str()),
                escape(&f.test),
                f.alloc,
                f.allowed
                    .as_ref()
                    .map(|a| format!(" (allowed: {})", escape(a)))
                    .unwrap_or_default(),
                escape(&f.message)
            );
            if let Some(text) = f.diff.as_ref().or(f.stderr.as_ref()) {
                let _ = write!(d, "<pre>{}</pre>", escape(text));
            }
            for &l in &f.explained_by {
                let l = &j.lint[l];
                let _ = write!(
                    d,
                    "<div>explained by lint: <b>{}</b> at {}:{}</div>",
                    escape(&l.rule),
                    escape(&l.path),
                    l.line
                );
            }
            let _ = write!(
                d,
                "<div>reproduce with: <code>{}</code></div></div>",
                escape(&f.repro)
            );
        }
        for &l in &s.lint {
            let l = &j.lint[l];
            let _ = write!(
                d,
                "<div class=\"lint\">lint <b>{}</b>: {}{}</div>",
                escape(&l.rule),
                escape(&l.message),
                if l.confirmed_by.is_empty() {
                    ""
                } else {
                    " (confirmed by run)"
                }
            );
        }
        d.push_str("</div>");
    }
    d
}
