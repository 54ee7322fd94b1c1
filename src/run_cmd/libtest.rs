//! Reading libtest's human output (the stdout of `cargo test`) and its arguments: how many tests
//! ran, which failed and why, and which arguments are test-name filters.

/// What libtest's human output says about the tests it ran.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Tests that matched the filter, over all binaries (sum of `running N tests`).
    pub tests_run: u64,
    /// Names of the tests that failed.
    pub failed: Vec<String>,
}

/// Read libtest's stdout.
pub fn parse(stdout: &str) -> Summary {
    let mut summary = Summary::default();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("running ") {
            if let Some(n) = rest
                .strip_suffix(" tests")
                .or_else(|| rest.strip_suffix(" test"))
                .and_then(|n| n.parse::<u64>().ok())
            {
                summary.tests_run += n;
            }
        } else if let Some(rest) = line.strip_prefix("test ") {
            if let Some(name) = rest.strip_suffix(" ... FAILED") {
                summary.failed.push(name.to_string());
            }
        }
    }
    summary
}

/// The `---- NAME stdout ----` section libtest prints for a failed test.
pub fn failure_section<'a>(stdout: &'a str, test: &str) -> Option<&'a str> {
    let header = format!("---- {test} stdout ----\n");
    let start = stdout.find(&header)? + header.len();
    let rest = &stdout[start..];
    let end = [rest.find("\n---- "), rest.find("\nfailures:")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    Some(rest[..end].trim_end())
}

/// What a libtest argument (with its value, if it takes one) does to the choice of tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A test-name filter (a positional argument).
    Filter,
    /// Narrows what the filters match: `--exact`, `--skip NAME`.
    Narrows,
    /// Chooses ignored tests: `--ignored`, `--include-ignored` (listing and running alike).
    Ignored,
    /// Anything else: how tests run, not which.
    Other,
}

/// libtest arguments with what each does, an option's value grouped with it.
fn roles(libtest_args: &[String]) -> Vec<(Role, &[String])> {
    const WITH_VALUE: &[&str] = &[
        "--skip",
        "--test-threads",
        "--color",
        "--format",
        "--logfile",
        "-Z",
        "--report-time",
        "--shuffle-seed",
    ];
    let mut out = Vec::new();
    let mut i = 0;
    while i < libtest_args.len() {
        let a = libtest_args[i].as_str();
        let len = if WITH_VALUE.contains(&a) { 2 } else { 1 };
        let role = match a {
            "--exact" | "--skip" => Role::Narrows,
            _ if a.starts_with("--skip=") => Role::Narrows,
            "--ignored" | "--include-ignored" => Role::Ignored,
            _ if !a.starts_with('-') => Role::Filter,
            _ => Role::Other,
        };
        let end = (i + len).min(libtest_args.len());
        out.push((role, &libtest_args[i..end]));
        i = end;
    }
    out
}

/// The arguments among `libtest_args` whose role is one of `keep`, in their order.
fn with_roles(libtest_args: &[String], keep: &[Role]) -> Vec<String> {
    roles(libtest_args)
        .into_iter()
        .filter(|(role, _)| keep.contains(role))
        .flat_map(|(_, args)| args.iter().cloned())
        .collect()
}

/// The test-name filters among libtest arguments (positional arguments, skipping the values of
/// options that take one).
pub fn filters(libtest_args: &[String]) -> Vec<String> {
    with_roles(libtest_args, &[Role::Filter])
}

/// The arguments that choose which tests run (filters, `--exact`, `--skip NAME`, `--ignored`,
/// `--include-ignored`): given to `--list`, they list exactly the tests a run would.
pub fn selection(libtest_args: &[String]) -> Vec<String> {
    with_roles(libtest_args, &[Role::Filter, Role::Narrows, Role::Ignored])
}

/// The arguments without the filters and what narrows them (`--exact`, `--skip NAME`), for a run
/// that names its tests itself; `--ignored` and `--include-ignored` stay, so that an ignored
/// test named runs.
pub fn without_filters(libtest_args: &[String]) -> Vec<String> {
    with_roles(libtest_args, &[Role::Ignored, Role::Other])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_summary_counts_tests_and_failures() {
        let out = "\nrunning 2 tests\ntest a::b ... ok\ntest c ... FAILED\n\n\
                   test result: FAILED. 1 passed; 1 failed\n\nrunning 1 test\n\
                   test d ... ok\n\nrunning 0 tests\n";
        let s = parse(out);
        assert_eq!(s.tests_run, 3);
        assert_eq!(s.failed, ["c"]);
    }

    #[test]
    fn failure_sections_are_cut_from_libtest_output() {
        let out = "failures:\n\n---- a stdout ----\nboom\nmore\n\n---- b stdout ----\nx\n\nfailures:\n    a\n";
        assert_eq!(failure_section(out, "a"), Some("boom\nmore"));
        assert_eq!(failure_section(out, "b"), Some("x"));
        assert_eq!(failure_section(out, "c"), None);
    }

    #[test]
    fn filters_skip_option_values() {
        let args: Vec<String> = [
            "--skip",
            "slow",
            "disk",
            "--exact",
            "--test-threads",
            "2",
            "x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(filters(&args), ["disk", "x"]);
    }

    #[test]
    fn selection_and_the_rest_split_the_arguments() {
        let args: Vec<String> = [
            "--skip",
            "slow",
            "disk",
            "--nocapture",
            "--exact",
            "--test-threads",
            "2",
            "--include-ignored",
            "--skip=net",
            "x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            selection(&args),
            [
                "--skip",
                "slow",
                "disk",
                "--exact",
                "--include-ignored",
                "--skip=net",
                "x"
            ]
        );
        assert_eq!(
            without_filters(&args),
            ["--nocapture", "--test-threads", "2", "--include-ignored"]
        );
    }
}
