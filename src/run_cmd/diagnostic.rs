//! Findings as miette diagnostics: one per failing allocation site, at the source line of the
//! site, with the outcome as code, the error text or diff, and the repro command as help.
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, LabeledSpan, NamedSource, Severity, SourceCode, SourceSpan};
use oomcheck_injector::{Finding, Frame, Outcome, Report};

/// Where relative source paths of a record are looked up, and what displayed paths are made
/// relative to.
#[derive(Debug, Clone, Default)]
pub struct SourceRoots {
    /// Directories a relative `file` may be relative to (workspace root, package roots).
    pub roots: Vec<PathBuf>,
    /// Displayed paths are made relative to this directory when they are below it.
    pub display_base: Option<PathBuf>,
}

impl SourceRoots {
    fn resolve(&self, file: &str) -> Option<PathBuf> {
        let p = Path::new(file);
        if p.is_absolute() {
            return p.is_file().then(|| p.to_path_buf());
        }
        self.roots.iter().map(|r| r.join(p)).find(|c| c.is_file())
    }

    fn display(&self, path: &Path) -> String {
        match self
            .display_base
            .as_deref()
            .and_then(|base| path.strip_prefix(base).ok())
        {
            Some(rel) => rel.display().to_string(),
            None => short_path(&path.display().to_string()),
        }
    }
}

/// A dependency's source path relative to its registry or git checkout
/// (`fallible_collections-0.4.9/src/vec.rs`); any other path as it is.
pub fn short_path(file: &str) -> String {
    for marker in ["/.cargo/registry/src/", "/.cargo/git/checkouts/"] {
        if let Some((_, rest)) = file.split_once(marker) {
            // Skip the index directory (`index.crates.io-…`) or the checkout's repository name.
            if let Some((_, path)) = rest.split_once('/') {
                return path.to_string();
            }
        }
    }
    file.to_string()
}

/// What the rendering shows beyond the defaults.
#[derive(Debug, Clone, Copy, Default)]
pub struct Detail {
    /// Show the filtered stack of each failed allocation.
    pub trace: bool,
    /// Show the captured stderr of each failing run.
    pub debug: bool,
}

/// The lint findings that explain sweep findings, by (test, allocation index): "explained by
/// lint: RULE at FILE:LINE" lines from the OOM-path coverage join of the run.
#[derive(Debug, Default)]
pub struct Explanations(BTreeMap<(String, u64), Vec<String>>);

impl Explanations {
    /// The explanations of every finding of `joined` whose stack crosses a lint finding.
    pub fn of(joined: &crate::coverage::join::Joined) -> Explanations {
        let mut map: BTreeMap<(String, u64), Vec<String>> = BTreeMap::new();
        for f in &joined.findings {
            for &i in &f.explained_by {
                let l = &joined.lint[i];
                map.entry((f.test.clone(), f.alloc))
                    .or_default()
                    .push(format!(
                        "explained by lint: {} at {}:{}",
                        l.rule, l.path, l.line
                    ));
            }
        }
        Explanations(map)
    }

    /// The distinct explanations of a group's findings, in order.
    fn of_group(&self, g: &Group<'_>) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (r, f) in &g.members {
            for line in self.0.get(&(r.test.clone(), f.alloc)).into_iter().flatten() {
                if !out.contains(&line.as_str()) {
                    out.push(line);
                }
            }
        }
        out
    }
}

/// Findings of one outcome at one allocation site, possibly from several tests.
#[derive(Debug)]
pub struct Group<'a> {
    /// The shared outcome.
    pub outcome: Outcome,
    /// The shared site (`None`: unknown, one group per test).
    pub site: Option<&'a Frame>,
    /// Each finding with the record it belongs to, in report order.
    pub members: Vec<(&'a Report, &'a Finding)>,
}

/// Group the findings of `records` by (site file, site line, outcome); findings without a site
/// are grouped per test and outcome. Groups come in the order their first finding appears.
pub fn group<'a>(records: &[&'a Report]) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for &r in records {
        for f in &r.findings {
            let key_site = f
                .site
                .as_ref()
                .filter(|s| s.file.is_some() && s.line.is_some());
            let existing = groups.iter_mut().find(|g| {
                g.outcome == f.outcome
                    && g.members[0].1.allowed.is_some() == f.allowed.is_some()
                    && match (g.site, key_site) {
                        (Some(a), Some(b)) => a.file == b.file && a.line == b.line,
                        (None, None) => g.members[0].0.test == r.test,
                        _ => false,
                    }
            });
            match existing {
                Some(g) => g.members.push((r, f)),
                None => groups.push(Group {
                    outcome: f.outcome,
                    site: key_site,
                    members: vec![(r, f)],
                }),
            }
        }
    }
    groups
}

/// What an outcome means, as the diagnostic's headline.
fn headline(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::WrongError => "allocation failure returns an error that is not NoMemory",
        Outcome::Corrupted => {
            "allocation failure is swallowed: the call succeeds with different output"
        }
        Outcome::Tolerated => "allocation failure is ignored: the call succeeds (strict mode)",
        Outcome::Panic => "allocation failure panics",
        Outcome::Abort => "allocation failure aborts the process",
        Outcome::Hang => "allocation failure makes the code hang",
        Outcome::Leak => "memory leaks when an allocation fails",
        Outcome::NotReached => {
            "the allocation to fail was never reached: the allocation count drifts between runs"
        }
        Outcome::Drifted => {
            "the allocation failed was made at another call site than in the counting run (site drift)"
        }
        // Never a finding; a record may still say so.
        Outcome::NoMemory => "allocation failure is mishandled",
    }
}

/// A group rendered as a miette diagnostic.
#[derive(Debug)]
pub struct FindingDiagnostic {
    message: String,
    code: String,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    /// The callers of the site, each with its own snippet (advice).
    related: Vec<FindingDiagnostic>,
}

impl fmt::Display for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FindingDiagnostic {}

impl Diagnostic for FindingDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.code.is_empty() {
            return None;
        }
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<Severity> {
        Some(if self.code.is_empty() {
            Severity::Advice
        } else if self.code.starts_with("allowed") {
            // Accepted with a reason: shown, but not as an error.
            Severity::Warning
        } else {
            Severity::Error
        })
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|d| d as &dyn Diagnostic)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// `#4, #17` for a list of indices.
fn indices(fs: &[&Finding]) -> String {
    let mut v: Vec<u64> = fs.iter().map(|f| f.alloc).collect();
    v.sort_unstable();
    v.dedup();
    v.iter()
        .map(|i| format!("#{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A frame's function, `?` when its record had none.
fn function(fr: &Frame) -> &str {
    if fr.function.is_empty() {
        "?"
    } else {
        &fr.function
    }
}

fn frame_text(fr: &Frame) -> String {
    let func = function(fr);
    match (&fr.file, fr.line) {
        (Some(file), Some(line)) => format!("{func} at {}:{line}", short_path(file)),
        (Some(file), None) => format!("{func} at {}", short_path(file)),
        _ => func.to_string(),
    }
}

/// Indent every line of `text` under a heading.
fn block(out: &mut String, heading: &str, text: &str) {
    out.push('\n');
    out.push_str(heading);
    for l in text.trim_end().lines() {
        out.push_str("\n    ");
        out.push_str(l);
    }
}

/// Build the diagnostic of one group.
pub fn diagnostic(
    g: &Group<'_>,
    roots: &SourceRoots,
    detail: Detail,
    explanations: &Explanations,
) -> FindingDiagnostic {
    // Which tests hit this site, with their indices, in report order.
    let mut per_test: Vec<(&str, Vec<&Finding>)> = Vec::new();
    for (r, f) in &g.members {
        match per_test.iter_mut().find(|(t, _)| *t == r.test) {
            Some((_, v)) => v.push(f),
            None => per_test.push((&r.test, vec![f])),
        }
    }
    let where_ = per_test
        .iter()
        .map(|(t, fs)| format!("{t} {}", indices(fs)))
        .collect::<Vec<_>>()
        .join("; ");
    let mut message = headline(g.outcome).to_string();
    if let Some(func) = g
        .site
        .map(|s| s.function.as_str())
        .filter(|f| !f.is_empty())
    {
        message.push_str(&format!("\nin {func}"));
    }
    message.push_str(&format!("\nfailed allocations: {where_}"));

    let first = g.members[0].1;
    if first.in_test_body {
        message.push_str(
            "\nin the test body, not the code under test: build inputs before calling `check` \
             so that only the code under test runs in the swept closure",
        );
    }
    if let Some(reason) = &first.allowed {
        message.push_str(&format!("\nallowed: {reason}"));
    }
    for line in explanations.of_group(g) {
        message.push_str(&format!("\n{line}"));
    }
    let m = &first.message;
    match g.outcome {
        Outcome::Corrupted | Outcome::Tolerated => match &first.diff {
            Some(diff) => block(&mut message, "output differs from the normal run:", diff),
            None => block(&mut message, "returned:", m),
        },
        Outcome::WrongError => block(&mut message, "returned:", m),
        Outcome::Panic => block(&mut message, "panicked:", m),
        _ => block(&mut message, "reason:", m),
    }
    // The callers of the site, up to the test (the whole stack with --trace).
    if !detail.trace && first.stack.len() > 1 {
        let chain: Vec<String> = first.stack[1..]
            .iter()
            .map(|fr| match (&fr.file, fr.line) {
                (Some(file), Some(line)) => {
                    let shown = roots
                        .resolve(file)
                        .map_or_else(|| short_path(file), |p| roots.display(&p));
                    format!("{} at {shown}:{line}", function(fr))
                }
                _ => frame_text(fr),
            })
            .collect();
        block(&mut message, "called from:", &chain.join("\n"));
    }
    if detail.trace && !first.stack.is_empty() {
        let stack: Vec<String> = first.stack.iter().map(frame_text).collect();
        block(
            &mut message,
            "stack of the failed allocation:",
            &stack.join("\n"),
        );
    }
    if detail.debug {
        if let Some(err) = first.stderr.as_deref().filter(|s| !s.trim().is_empty()) {
            block(&mut message, "stderr:", err);
        }
    }
    if g.site.is_none() {
        message.push_str("\n(the failing allocation's site is unknown)");
    }

    // The snippet: the site's line, read from disk. No snippet when the file is unreadable.
    let mut source = None;
    let mut labels = Vec::new();
    let mut related = Vec::new();
    if let Some(site) = g.site {
        if let (Some(file), Some(line)) = (site.file.as_deref(), site.line) {
            if let Some(path) = roots.resolve(file) {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    if let Some(span) = line_span(&text, line) {
                        let all: Vec<&Finding> = g.members.iter().map(|(_, f)| *f).collect();
                        let what = if all.len() == 1 {
                            format!("allocation {} fails here", indices(&all))
                        } else {
                            format!("allocations {} fail here", indices(&all))
                        };
                        labels.push(LabeledSpan::new_with_span(Some(what), span));
                        // When the site is a helper (an allocation wrapper), the mishandling is
                        // usually in its caller: show the callers in the same file too, each in
                        // its own snippet.
                        let name = roots.display(&path);
                        for (caller, func, fs) in callers(g, file, line) {
                            if let Some(span) = line_span(&text, caller) {
                                let what = format!("called from here ({})", indices(&fs));
                                related.push(FindingDiagnostic {
                                    message: format!("called from {func}"),
                                    code: String::new(),
                                    source: Some(NamedSource::new(name.clone(), text.clone())),
                                    labels: vec![LabeledSpan::new_with_span(Some(what), span)],
                                    help: None,
                                    related: Vec::new(),
                                });
                            }
                        }
                        source = Some(NamedSource::new(name, text));
                    }
                }
            }
            if source.is_none() {
                message.push_str(&format!("\nat {file}:{line}"));
            }
        }
    }

    let help = (!first.repro.is_empty()).then(|| format!("reproduce with: {}", first.repro));
    let code = match &first.allowed {
        Some(_) => format!("allowed {}", g.outcome.as_str()),
        None => g.outcome.as_str().to_string(),
    };
    FindingDiagnostic {
        message,
        code,
        source,
        labels,
        help,
        related,
    }
}

/// The distinct lines of `file` (other than `site_line`) from which the site was called (the
/// frame after the site in each finding's stack), with the findings through each.
fn callers<'a>(g: &Group<'a>, file: &str, site_line: u32) -> Vec<(u32, &'a str, Vec<&'a Finding>)> {
    let mut out: Vec<(u32, &'a str, Vec<&'a Finding>)> = Vec::new();
    for &(_, f) in &g.members {
        let Some(caller) = f.stack.get(1) else {
            continue;
        };
        let Some(line) = caller.line.filter(|&l| l != site_line) else {
            continue;
        };
        if caller.file.as_deref() != Some(file) {
            continue;
        }
        match out.iter_mut().find(|(l, _, _)| *l == line) {
            Some((_, _, v)) => v.push(f),
            None => out.push((line, function(caller), vec![f])),
        }
    }
    out
}

/// The span of line `line` (1-based) of `text`, without its indentation.
fn line_span(text: &str, line: u32) -> Option<SourceSpan> {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line as usize {
            let body = l.trim_end_matches(['\n', '\r']);
            let indent = body.len() - body.trim_start().len();
            let len = body.trim().len().max(1);
            return Some(SourceSpan::from((offset + indent, len)));
        }
        offset += l.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::record::parse;
    use super::*;
    use miette::{GraphicalReportHandler, GraphicalTheme};

    fn render(d: &FindingDiagnostic) -> String {
        let mut out = String::new();
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(120)
            .render_report(&mut out, d)
            .unwrap();
        out
    }

    fn record(test: &str, file: &str, findings: &str) -> Report {
        parse(&format!(
            r#"{{"test":"{test}","status":"swept","findings":[{findings}]}}"#
        ))
        .unwrap()
        .record
        .tap_file(file)
    }

    trait TapFile {
        fn tap_file(self, file: &str) -> Self;
    }
    impl TapFile for Report {
        fn tap_file(mut self, file: &str) -> Report {
            for f in &mut self.findings {
                if let Some(s) = &mut f.site {
                    s.file = Some(file.to_string());
                }
            }
            self
        }
    }

    #[test]
    fn groups_same_site_across_tests_and_renders_a_snippet() {
        let dir = std::env::temp_dir().join(format!("oomcheck-diag-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("lib.rs");
        std::fs::write(
            &src,
            "fn a() {}\nfn parse() {\n    let s = try_string(x).ok()?;\n}\n",
        )
        .unwrap();
        let file = src.to_string_lossy().into_owned();
        let f = |alloc: u32| {
            format!(
                r#"{{"alloc":{alloc},"outcome":"corrupted","site":{{"function":"demo::parse","file":"F","line":3}},
                   "diff":"-Some(\"none\")\n+None\n","repro":"OOMCHECK=1 OOMCHECK_ALLOC={alloc} cargo test -- t --exact"}}"#
            )
        };
        let a = record("disk_survives_oom", &file, &f(5));
        let b = record("domain_survives_oom", &file, &format!("{},{}", f(9), f(2)));
        let c = record(
            "other",
            &file,
            r#"{"alloc":1,"outcome":"abort","site":null,"message":"memory allocation of 8 bytes failed"}"#,
        );
        let groups = group(&[&a, &b, &c]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].members.len(), 3);
        let d = diagnostic(
            &groups[0],
            &SourceRoots::default(),
            Detail::default(),
            &Explanations::default(),
        );
        let text = render(&d);
        assert!(text.contains("corrupted"), "{text}");
        assert!(
            text.contains("disk_survives_oom #5; domain_survives_oom #2, #9"),
            "{text}"
        );
        assert!(text.contains("let s = try_string(x).ok()?;"), "{text}");
        assert!(text.contains("allocations #2, #5, #9 fail here"), "{text}");
        assert!(text.contains("+None"), "{text}");
        assert!(text.contains("OOMCHECK_ALLOC=5"), "{text}");
        assert!(
            text.contains(":3:5]"),
            "snippet at line 3, column 5: {text}"
        );

        let d = diagnostic(
            &groups[1],
            &SourceRoots::default(),
            Detail::default(),
            &Explanations::default(),
        );
        let text = render(&d);
        assert!(text.contains("aborts the process"), "{text}");
        assert!(text.contains("failed allocations: other #1"), "{text}");
        assert!(
            text.contains("memory allocation of 8 bytes failed"),
            "{text}"
        );
        assert!(text.contains("site is unknown"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unreadable_source_gives_no_snippet_but_names_the_place() {
        let r = record(
            "t",
            "/nonexistent/src/lib.rs",
            r#"{"alloc":3,"outcome":"panic","site":{"function":"f","file":"x","line":7},"message":"boom",
                "stack":[{"function":"f","file":"/nonexistent/src/lib.rs","line":7},{"function":"t::main"}]}"#,
        );
        let groups = group(&[&r]);
        let d = diagnostic(
            &groups[0],
            &SourceRoots::default(),
            Detail {
                trace: true,
                debug: false,
            },
            &Explanations::default(),
        );
        assert!(d.source.is_none());
        let text = render(&d);
        assert!(text.contains("at /nonexistent/src/lib.rs:7"), "{text}");
        assert!(text.contains("panicked:"), "{text}");
        assert!(text.contains("t::main"), "stack shown with trace: {text}");
    }

    #[test]
    fn line_spans_skip_indentation() {
        let text = "a\n  bc\n";
        assert_eq!(line_span(text, 2), Some(SourceSpan::from((4, 2))));
        assert_eq!(line_span(text, 3), None);
    }
}
