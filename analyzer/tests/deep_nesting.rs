//! Deeply nested code through the real driver ([`lint`]): `syn` and the analysis recurse with
//! nesting, so the driver parses, analyses and drops syntax trees on threads with large stacks.
//! Each shape at 5 000 and 20 000 levels must be linted (no stack overflow, which would abort
//! the test process) and the finding next to it must still be reported.
use oomcheck_analyzer::lint::{lint, LintOptions};
use oomcheck_analyzer::RuleId;

/// Lint `body` (placed on line 3 of a function whose line 2 has a known finding) in a
/// temporary crate; assert that finding and no errors.
fn lint_nested(shape: &str, depth: usize, body: String) {
    // Printed first: a stack overflow aborts the process without naming the test.
    eprintln!("{shape} x{depth}");
    let dir = tempfile::tempdir().expect("temp dir");
    let src =
        format!("fn deep(v: &mut Vec<u8>) {{\n    v.try_reserve(1).unwrap();\n    {body};\n}}\n");
    std::fs::write(dir.path().join("deep.rs"), src).expect("write");
    let report = lint(&LintOptions {
        paths: vec![dir.path().to_path_buf()],
        jobs: Some(2),
        ..LintOptions::default()
    });
    assert!(
        report.errors.is_empty(),
        "{shape} x{depth}: {:?}",
        report.errors
    );
    let first = report.findings.first();
    assert!(
        first.is_some_and(|f| f.rule == RuleId::PanicOnAllocFailure && f.span.start_line == 2),
        "{shape} x{depth}: {:?}",
        report.findings
    );
}

fn shapes(depth: usize) -> Vec<(&'static str, String)> {
    vec![
        (
            "parentheses",
            format!("let _x = {}1{}", "(".repeat(depth), ")".repeat(depth)),
        ),
        (
            "blocks",
            format!("let _x = {}1{}", "{ ".repeat(depth), " }".repeat(depth)),
        ),
        (
            "closures",
            format!("let _x = {}1", "|_a: u8| ".repeat(depth)),
        ),
        (
            "unsafe-blocks-with-allocations",
            format!(
                "{}v.try_reserve(2).ok(){}",
                "unsafe { ".repeat(depth),
                " }".repeat(depth)
            ),
        ),
        (
            "method-chain",
            format!("let _x = v.try_reserve(3){}", ".map(|x| x)".repeat(depth)),
        ),
        (
            "binary-operators",
            format!("let _x = 1{}", " + 1".repeat(depth)),
        ),
        (
            "if-else-chain",
            format!("let _x = {}{{ 0 }}", "if true { 1 } else ".repeat(depth)),
        ),
        (
            "arrays",
            format!("let _x = {}0{}", "[".repeat(depth), "]".repeat(depth)),
        ),
        (
            "references-and-types",
            format!(
                "let _x: {}u8{} = todo!()",
                "Option<".repeat(depth),
                ">".repeat(depth)
            ),
        ),
    ]
}

#[test]
fn five_thousand_levels() {
    for (shape, body) in shapes(5_000) {
        lint_nested(shape, 5_000, body);
    }
}

#[test]
fn twenty_thousand_levels() {
    for (shape, body) in shapes(20_000) {
        lint_nested(shape, 20_000, body);
    }
}
