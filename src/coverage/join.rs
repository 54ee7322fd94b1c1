//! The join: the analyzer's allocation sites and lint findings against the records' failed
//! stacks. Plain data (it is also what `--format json` prints); deterministic for the same
//! records, whichever shards they came from.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use oomcheck_injector::{Frame, Outcome, Report};
use serde::Serialize;

use super::records::binary_name;
use super::source::Source;

/// The version of the joined data's schema (`--format json`).
pub const JOIN_VERSION: u32 = 1;

/// Sites, tests, dynamic findings and lint findings, cross-referenced by position in these
/// lists.
#[derive(Debug, Serialize)]
pub struct Joined {
    /// [`JOIN_VERSION`].
    pub version: u32,
    /// The totals the summary prints.
    pub totals: Totals,
    /// Every fallible allocation site, by path and place.
    pub sites: Vec<SiteCoverage>,
    /// Every swept test, by name.
    pub tests: Vec<TestCoverage>,
    /// Every dynamic finding, by test and index.
    pub findings: Vec<DynFinding>,
    /// Every lint finding, by path and place.
    pub lint: Vec<LintCoverage>,
}

/// Counts over the whole join.
#[derive(Debug, Serialize)]
pub struct Totals {
    /// Fallible allocation sites.
    pub sites: usize,
    /// Sites a sweep failed at least once.
    pub failed: usize,
    /// Swept indices over all tests.
    pub swept: u64,
    /// Lint findings.
    pub lint_findings: usize,
    /// Lint findings a dynamic finding's stack passed through.
    pub lint_confirmed: usize,
}

/// One fallible allocation site and what the sweeps did to it.
#[derive(Debug, Serialize)]
pub struct SiteCoverage {
    /// The file, relative to the workspace root.
    pub path: String,
    /// The line of the call.
    pub line: usize,
    /// Its column.
    pub column: usize,
    /// The enclosing function.
    pub function: Option<String>,
    /// The allocation called.
    pub callee: String,
    /// Swept indices whose failed allocation's stack passed through this line.
    pub count: u64,
    /// Those indices' outcomes.
    pub outcomes: BTreeMap<Outcome, u64>,
    /// The dynamic findings whose stack passes through this line (positions in
    /// [`Joined::findings`]).
    pub findings: Vec<usize>,
    /// Lint findings on this line (positions in [`Joined::lint`]).
    pub lint: Vec<usize>,
}

impl SiteCoverage {
    /// How the site fared: `finding`, `handled` or `never-failed`.
    pub fn state(&self) -> &'static str {
        if !self.findings.is_empty() {
            "finding"
        } else if self.count > 0 {
            "handled"
        } else {
            "never-failed"
        }
    }
}

/// One swept test.
#[derive(Debug, Serialize)]
pub struct TestCoverage {
    /// The test's name.
    pub test: String,
    /// The test binary's target name.
    pub binary: String,
    /// Where its check ended up (`swept`, `normal-failed`, …).
    pub status: String,
    /// Swept indices.
    pub swept: u64,
    /// Indices per outcome.
    pub outcomes: BTreeMap<Outcome, u64>,
    /// The check's notes (why it was not swept, or how many of its indices drifted and the
    /// fix), when it has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Its findings (positions in [`Joined::findings`]).
    pub findings: Vec<usize>,
}

/// A place in the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    /// The file, relative to the workspace root when under it.
    pub path: String,
    /// The line.
    pub line: u32,
    /// The function.
    pub function: String,
}

/// One finding of a sweep.
#[derive(Debug, Serialize)]
pub struct DynFinding {
    /// The test.
    pub test: String,
    /// The failed allocation's index.
    pub alloc: u64,
    /// What happened.
    pub outcome: Outcome,
    /// The failing site (innermost frame outside the machinery).
    pub site: Option<Place>,
    /// The error, panic message or crash reason.
    pub message: String,
    /// The diff of a `corrupted` result.
    pub diff: Option<String>,
    /// The tail of a crashed process's stderr.
    pub stderr: Option<String>,
    /// The command replaying it.
    pub repro: String,
    /// Why it is expected, when allowed.
    pub allowed: Option<String>,
    /// Lint findings its stack passes through (positions in [`Joined::lint`]): the static
    /// finding explaining it.
    pub explained_by: Vec<usize>,
}

/// One lint finding and whether a sweep confirmed it.
#[derive(Debug, Serialize)]
pub struct LintCoverage {
    /// The rule.
    pub rule: String,
    /// The file, relative to the workspace root.
    pub path: String,
    /// First line of the flagged call.
    pub line: usize,
    /// Its column.
    pub column: usize,
    /// Last line of the flagged call.
    pub end_line: usize,
    /// The lint's message.
    pub message: String,
    /// Dynamic findings whose stack passes through it (positions in [`Joined::findings`]).
    pub confirmed_by: Vec<usize>,
}

/// Joins `reports` (their paths made relative to `root`) with the analyzer's `source`.
pub fn join(root: &Path, source: &Source, reports: &[Report]) -> Joined {
    let path_of = |p: &Path| p.to_string_lossy().replace('\\', "/");
    let mut lint: Vec<LintCoverage> = source
        .lint
        .iter()
        .map(|f| LintCoverage {
            rule: f.rule.as_str().to_string(),
            path: path_of(&f.path),
            line: f.span.start_line,
            column: f.span.start_column,
            end_line: f.span.end_line,
            message: f.message.clone(),
            confirmed_by: Vec::new(),
        })
        .collect();
    let mut sites: Vec<SiteCoverage> = source
        .sites
        .iter()
        .map(|s| SiteCoverage {
            path: path_of(&s.path),
            line: s.line,
            column: s.column,
            function: s.function.clone(),
            callee: s.callee.clone(),
            count: 0,
            outcomes: BTreeMap::new(),
            findings: Vec::new(),
            lint: lint
                .iter()
                .enumerate()
                .filter(|(_, l)| {
                    l.path == path_of(&s.path) && (l.line..=l.end_line).contains(&s.line)
                })
                .map(|(i, _)| i)
                .collect(),
        })
        .collect();
    let site_lines: BTreeSet<(String, usize)> =
        sites.iter().map(|s| (s.path.clone(), s.line)).collect();
    let place = |f: &Frame| -> Option<(String, usize)> {
        let file = f.file.as_deref()?;
        let rel = Path::new(file)
            .strip_prefix(root)
            .map_or_else(|_| file.to_string(), path_of);
        Some((rel, f.line? as usize))
    };

    let mut tests = Vec::new();
    let mut findings = Vec::new();
    let mut swept = 0;
    for r in reports {
        let outcome_of = index_outcomes(r);
        for covered in &r.coverage {
            let lines: BTreeSet<(String, usize)> = covered.stack.iter().filter_map(place).collect();
            for s in &mut sites {
                if lines.contains(&(s.path.clone(), s.line)) {
                    s.count += covered.indices.len() as u64;
                    for i in &covered.indices {
                        if let Some(o) = outcome_of.get(i) {
                            *s.outcomes.entry(*o).or_insert(0) += 1;
                        }
                    }
                }
            }
        }
        let mut own = Vec::new();
        for f in &r.findings {
            let at = findings.len();
            own.push(at);
            let lines: Vec<(String, usize)> = f.stack.iter().filter_map(place).collect();
            let crossed: BTreeSet<&(String, usize)> =
                lines.iter().filter(|l| site_lines.contains(*l)).collect();
            for s in sites
                .iter_mut()
                .filter(|s| crossed.contains(&(s.path.clone(), s.line)))
            {
                s.findings.push(at);
            }
            let mut explained_by = Vec::new();
            for (i, l) in lint.iter_mut().enumerate() {
                let crosses = lines
                    .iter()
                    .any(|(p, line)| *p == l.path && (l.line..=l.end_line).contains(line));
                if crosses {
                    explained_by.push(i);
                    l.confirmed_by.push(at);
                }
            }
            findings.push(DynFinding {
                test: r.test.clone(),
                alloc: f.alloc,
                outcome: f.outcome,
                site: f.site.as_ref().and_then(|s| {
                    let (path, line) = place(s)?;
                    Some(Place {
                        path,
                        line: line as u32,
                        function: s.function.clone(),
                    })
                }),
                message: f.message.clone(),
                diff: f.diff.clone(),
                stderr: f.stderr.clone(),
                repro: f.repro.clone(),
                allowed: f.allowed.clone(),
                explained_by,
            });
        }
        swept += r.swept();
        tests.push(TestCoverage {
            test: r.test.clone(),
            binary: binary_name(&r.binary).to_string(),
            status: r.status.as_str().to_string(),
            swept: r.swept(),
            outcomes: r.outcomes.clone(),
            message: r.message.clone(),
            findings: own,
        });
    }
    let totals = Totals {
        sites: sites.len(),
        failed: sites.iter().filter(|s| s.count > 0).count(),
        swept,
        lint_findings: lint.len(),
        lint_confirmed: lint.iter().filter(|l| !l.confirmed_by.is_empty()).count(),
    };
    Joined {
        version: JOIN_VERSION,
        totals,
        sites,
        tests,
        findings,
        lint,
    }
}

/// Each swept index of a record with its outcome (from the sequence, in the order of the
/// indices swept: the dedup sites', the sample's, or the range's).
fn index_outcomes(r: &Report) -> BTreeMap<u64, Outcome> {
    let indices: Vec<u64> = if let Some(d) = &r.dedup {
        d.site_list.iter().map(|s| s.alloc).collect()
    } else if let Some(s) = &r.sample {
        s.indices.clone()
    } else if let Some([lo, hi]) = r.range {
        (lo..=hi).collect()
    } else {
        Vec::new()
    };
    indices
        .into_iter()
        .zip(r.sequence.chars())
        .filter_map(|(i, c)| Some((i, Outcome::ALL.into_iter().find(|o| o.symbol() == c)?)))
        .collect()
}
