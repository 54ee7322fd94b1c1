//! Runs every fixture of `tests/lint/` (at the repository root) through `analyze` and compares
//! the findings with the `//~ rule-id` markers on the fixture lines, both ways. The fixture
//! format (directives, auxiliary files, markers) is described in `fixture/mod.rs`.
use std::collections::BTreeMap;
use std::path::PathBuf;

use oomcheck_analyzer::analysis::{
    analyze, analyze_file, summarize, Context, FileSummary, Settings, SourceFile,
};
use oomcheck_analyzer::{Finding, RuleId};

mod fixture;

use fixture::{expected, fixture_dir, fixture_paths, load};

/// The names that make a file relevant because of `files` (wrappers and receiver-typed fields
/// they define), as the driver computes them after its first round of parsing.
fn cross_file_needles(files: &[SourceFile], settings: &Settings) -> Vec<String> {
    Context::new(settings, &summaries(files, settings)).cross_file_needles()
}

/// Each file's summary, in order.
fn summaries(files: &[SourceFile], settings: &Settings) -> Vec<FileSummary> {
    files.iter().map(|f| summarize(f, settings)).collect()
}

/// The names of the aborting allocations the opt-in `infallible-alloc` rule flags (method
/// names, the last segment of paths, `name!` of macros).
fn infallible_names(settings: &Settings) -> Vec<String> {
    let mut names = Vec::new();
    for pack in &settings.packs.packs {
        names.extend(pack.infallible_methods.iter().cloned());
        names.extend(
            pack.infallible_paths
                .iter()
                .map(|p| p.rsplit("::").next().unwrap_or(p).to_string()),
        );
        names.extend(pack.infallible_macros.iter().map(|m| format!("{m}!")));
    }
    names
}

fn actual(findings: &[Finding]) -> BTreeMap<(String, usize, String), usize> {
    let mut out = BTreeMap::new();
    for f in findings {
        *out.entry((
            f.path.display().to_string(),
            f.span.start_line,
            f.rule.to_string(),
        ))
        .or_insert(0) += 1;
        for r in &f.related {
            *out.entry((
                f.path.display().to_string(),
                r.span.start_line,
                format!("related:{}", f.rule),
            ))
            .or_insert(0) += 1;
        }
    }
    out
}

fn check_wording(f: &Finding) -> Option<String> {
    let m = &f.message;
    let bad = m.is_empty()
        || m.chars().next().is_some_and(char::is_uppercase)
        || m.ends_with('.')
        || m.contains('\n')
        || f.help.is_empty()
        || f.help.contains('\n');
    bad.then(|| {
        format!(
            "{}:{}: badly worded {}: {m:?} / help {:?}",
            f.path.display(),
            f.span.start_line,
            f.rule,
            f.help
        )
    })
}

#[test]
fn fixtures_produce_exactly_the_marked_findings() {
    let mut problems = Vec::new();
    let paths = fixture_paths();
    assert!(
        paths.len() >= 10,
        "fixtures missing under {}",
        fixture_dir().display()
    );
    let mut total = 0;
    for path in &paths {
        let fx = load(path);
        let findings = analyze(&fx.files, &fx.settings);
        total += findings.len();
        let want = expected(&fx.files);
        let got = actual(&findings);
        for (key, n) in &want {
            let have = got.get(key).copied().unwrap_or(0);
            if have < *n {
                problems.push(format!(
                    "{}:{}: missed {} ({} of {n} found) [{}]",
                    key.0, key.1, key.2, have, fx.name
                ));
            }
        }
        for (key, n) in &got {
            let wanted = want.get(key).copied().unwrap_or(0);
            if *n > wanted {
                let msgs: Vec<&str> = findings
                    .iter()
                    .filter(|f| f.span.start_line == key.1 && f.rule.to_string() == key.2)
                    .map(|f| f.message.as_str())
                    .collect();
                problems.push(format!(
                    "{}:{}: unexpected {} {msgs:?} [{}]",
                    key.0, key.1, key.2, fx.name
                ));
            }
        }
        problems.extend(findings.iter().filter_map(check_wording));
        if fx.name.starts_with("clean_") && !want.is_empty() {
            problems.push(format!(
                "{}: a clean fixture must not carry markers",
                fx.name
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "fixture mismatches:\n{}",
        problems.join("\n")
    );
    assert!(total > 100, "only {total} findings over all fixtures");
}

#[test]
fn every_rule_has_a_fixture_with_its_findings() {
    for rule in RuleId::ALL {
        let path = fixture_dir().join(format!("{}.rs", rule.as_str().replace('-', "_")));
        assert!(path.exists(), "missing fixture {}", path.display());
        let fx = load(&path);
        let want = expected(&fx.files);
        let n = want.keys().filter(|k| k.2 == rule.as_str()).count();
        assert!(n >= 2, "{} marks only {n} findings of {rule}", fx.name);
    }
}

#[test]
fn clean_fixtures_exist_and_are_finding_free() {
    let clean: Vec<PathBuf> = fixture_paths()
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .starts_with("clean_")
        })
        .collect();
    assert!(clean.len() >= 3, "expected several clean fixtures");
    for path in clean {
        let fx = load(&path);
        let findings = analyze(&fx.files, &fx.settings);
        assert!(findings.is_empty(), "{}: {findings:#?}", fx.name);
    }
}

#[test]
fn markers_are_valid_rule_ids() {
    for path in fixture_paths() {
        let fx = load(&path);
        for (file, line, rule) in expected(&fx.files).keys() {
            let rule = rule.strip_prefix("related:").unwrap_or(rule);
            assert!(
                RuleId::from_id(rule).is_some(),
                "{file}:{line}: unknown rule in marker: {rule}"
            );
        }
    }
}

#[test]
fn cross_file_needles_name_wrappers_defined_elsewhere() {
    let fx = load(&fixture_dir().join("wrappers_cross_file.rs"));
    let needles = cross_file_needles(&fx.files[1..], &fx.settings);
    assert!(needles.iter().any(|n| n == "grow_buffer"), "{needles:?}");
    assert!(needles.iter().any(|n| n == "reserve_twice"), "{needles:?}");
    assert!(!needles.iter().any(|n| n == "not_a_wrapper"), "{needles:?}");
    // The caller file has no pack needle of its own: only the wrapper names let it through.
    // (Comments are left out: the fixture's markers name rules, which contain "alloc".)
    let code: String = fx.files[0]
        .text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let pack_needles = fx.settings.packs.prefilter_needles(&[]);
    let hits: Vec<&String> = pack_needles
        .iter()
        .filter(|n| code.contains(n.as_str()))
        .collect();
    assert!(hits.is_empty(), "{hits:?}");
    assert!(needles.iter().any(|n| code.contains(n.as_str())));
}

#[test]
fn phased_api_matches_analyze() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Context>();
    send_sync::<FileSummary>();
    for path in fixture_paths() {
        let fx = load(&path);
        let summaries = summaries(&fx.files, &fx.settings);
        let ctx = Context::new(&fx.settings, &summaries);
        let phased: Vec<Finding> = fx
            .files
            .iter()
            .flat_map(|f| analyze_file(f, &fx.settings, &ctx))
            .collect();
        assert_eq!(phased, analyze(&fx.files, &fx.settings), "{}", fx.name);
    }
}

#[test]
fn cross_file_needles_name_receiver_typed_fields() {
    let fx = load(&fixture_dir().join("receiver_fields_cross_file.rs"));
    let needles = cross_file_needles(&fx.files[1..], &fx.settings);
    assert!(needles.iter().any(|n| n == "rows"), "{needles:?}");
    assert!(!needles.iter().any(|n| n == "names"), "{needles:?}");
}

#[test]
fn cross_file_needles_name_aliases_of_receiver_types() {
    let fx = load(&fixture_dir().join("receiver_aliases_cross_file.rs"));
    let needles = cross_file_needles(&fx.files[1..], &fx.settings);
    assert!(needles.iter().any(|n| n == "Rows"), "{needles:?}");
}

/// The text prefilter is sound on the fixtures: a file with findings contains a needle (pack
/// needles and configured functions, the names `cross_file_needles` adds, and the names of
/// aborting allocations where `infallible-alloc` is on; the driver parses every file of an
/// OOM-safe scope anyway). Comments are left out, so rule ids in markers do not count.
#[test]
fn files_with_findings_contain_a_prefilter_needle() {
    for path in fixture_paths() {
        let fx = load(&path);
        let mut needles = fx
            .settings
            .packs
            .prefilter_needles(&fx.settings.extra_alloc_functions);
        needles.extend(cross_file_needles(&fx.files, &fx.settings));
        for file in &fx.files {
            let findings: Vec<Finding> = analyze(&fx.files, &fx.settings)
                .into_iter()
                .filter(|f| f.path == file.path && f.rule != RuleId::UnusedAllow)
                .collect();
            if findings.is_empty() {
                continue;
            }
            let code: String = file
                .text
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            let mut all = needles.clone();
            if file.infallible_alloc_checked {
                all.extend(infallible_names(&fx.settings));
            }
            assert!(
                all.iter().any(|n| code.contains(n.as_str())),
                "{}: {} findings but no needle",
                fx.name,
                findings.len()
            );
        }
    }
}

/// Files that summarize to something contain one of the summary needles (so a driver may skip
/// summarizing the others).
#[test]
fn non_empty_summaries_need_a_summary_needle() {
    for path in fixture_paths() {
        let fx = load(&path);
        let needles = fx.settings.packs.summary_needles();
        let summaries = summaries(&fx.files, &fx.settings);
        let ctx = Context::new(&fx.settings, &summaries);
        let wrappers = ctx.cross_file_needles();
        for (file, summary) in fx.files.iter().zip(&summaries) {
            if *summary == FileSummary::default() || wrappers.is_empty() {
                continue;
            }
            assert!(
                needles.iter().any(|n| file.text.contains(n.as_str())),
                "{}: a summary but no summary needle",
                fx.name
            );
        }
    }
}

/// What the driver relies on when it summarizes only the files with a summary needle: the
/// summaries of the others change neither the cross-file names nor any finding.
#[test]
fn files_without_a_summary_needle_need_no_summary() {
    let mut skipped_somewhere = false;
    for path in fixture_paths() {
        let fx = load(&path);
        let needles = fx.settings.packs.summary_needles();
        let all = summaries(&fx.files, &fx.settings);
        let kept: Vec<FileSummary> = fx
            .files
            .iter()
            .zip(&all)
            .filter(|(f, _)| needles.iter().any(|n| f.text.contains(n.as_str())))
            .map(|(_, s)| s.clone())
            .collect();
        skipped_somewhere |= kept.len() < all.len();
        let full = Context::new(&fx.settings, &all);
        let partial = Context::new(&fx.settings, &kept);
        assert_eq!(
            full.cross_file_needles(),
            partial.cross_file_needles(),
            "{}",
            fx.name
        );
        for f in &fx.files {
            assert_eq!(
                analyze_file(f, &fx.settings, &full),
                analyze_file(f, &fx.settings, &partial),
                "{}: {}",
                fx.name,
                f.path.display()
            );
        }
    }
    assert!(
        skipped_somewhere,
        "no fixture has a file without a summary needle"
    );
}

/// Spans: 1-based, character columns, end exclusive, starting at the method name.
#[test]
fn spans_point_at_the_call() {
    let fx = load(&fixture_dir().join("discarded_alloc_result.rs"));
    let findings = analyze(&fx.files, &fx.settings);
    let line = "    let _ = v.try_reserve(n); //~ discarded-alloc-result";
    let n = fx.files[0]
        .text
        .lines()
        .position(|l| l == line)
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("fixture line missing"));
    let f = findings
        .iter()
        .find(|f| f.span.start_line == n)
        .unwrap_or_else(|| panic!("no finding on line {n}"));
    let start = line.find("try_reserve").unwrap_or(0) + 1;
    assert_eq!(
        (f.span.start_column, f.span.end_line, f.span.end_column),
        (start, n, start + "try_reserve(n)".len())
    );
    // A path call spans the whole call.
    let line = "    let _ = Box::try_new(5u8); //~ discarded-alloc-result";
    let n = fx.files[0]
        .text
        .lines()
        .position(|l| l == line)
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("fixture line missing"));
    let f = findings
        .iter()
        .find(|f| f.span.start_line == n)
        .unwrap_or_else(|| panic!("no finding on line {n}"));
    let start = line.find("Box").unwrap_or(0) + 1;
    assert_eq!(
        (f.span.start_column, f.span.end_column),
        (start, start + "Box::try_new(5u8)".len())
    );
}
