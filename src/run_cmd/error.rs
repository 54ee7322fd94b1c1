//! Why `oomcheck run` stopped with exit status 2, and how that reads.
use super::cargo::CargoError;
use super::report_dir::ReportDirError;

/// An error that ends `oomcheck run` (exit status 2). Each reads as one `error:` line, after
/// whatever cargo printed that explains it.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// `cargo metadata` failed: no `Cargo.toml`, a broken one, or no cargo.
    #[error("cannot read the crate's metadata (is there a Cargo.toml?)")]
    Metadata(#[source] CargoError),
    /// The report directory under the target directory could not be made.
    #[error(transparent)]
    ReportDir(#[from] ReportDirError),
    /// The crate's oomcheck configuration cannot be read.
    #[error("cannot read the crate's oomcheck configuration")]
    Config(#[source] super::crate_config::CrateConfigError),
    /// The job token files could not be written.
    #[error("cannot create the job tokens")]
    JobTokens(#[source] std::io::Error),
    /// Cargo could not be started or waited for.
    #[error(transparent)]
    Cargo(#[from] CargoError),
    /// The tests do not compile; the compiler's rendered errors are shown above.
    #[error("the tests do not build")]
    BuildFailed {
        /// The compiler's rendered errors.
        compiler_errors: Vec<String>,
    },
    /// A test executable could not list its tests (`--partition`).
    #[error("cannot list the tests to partition them")]
    ListTests(#[source] std::io::Error),
    /// The build produced no test executable.
    #[error("no test targets to run\n{}", how_to_add_checks())]
    NoTestTargets,
    /// `cargo test` failed without running a single test; its stderr is shown above.
    #[error("cargo test failed before running any test")]
    TestsDidNotStart {
        /// What cargo and the tests printed on stderr.
        stderr: String,
    },
    /// The test-name filters matched no test.
    #[error("no test matched {}", filters.join(" "))]
    NoTestMatched {
        /// The filters, as given after `--`.
        filters: Vec<String>,
    },
    /// Tests ran, but none called `oomcheck_injector::check`.
    #[error(
        "no OOM checks found{} ({tests_run} tests ran, none called oomcheck_injector::check)\n{}",
        among(filters),
        how_to_add_checks()
    )]
    NoChecks {
        /// How many tests ran.
        tests_run: u64,
        /// The filters, as given after `--` (none: every test ran).
        filters: Vec<String>,
    },
    /// A test binary has no `FailingAllocator` as its global allocator, so its checks could not
    /// fail any allocation.
    #[error("some checks ran without the failing global allocator\n{HOW_TO_ADD_ALLOCATOR}")]
    ChecksWithoutAllocator,
}

impl RunError {
    /// The text the user reads: what cargo printed that explains the error (cargo's own error,
    /// the compiler's errors, the tests' stderr), then `error: ` and the error with its causes.
    pub fn report(&self) -> String {
        match self {
            RunError::Metadata(cargo) => format!("{}\nerror: {self}\n", chain(cargo)),
            RunError::BuildFailed { compiler_errors } => {
                format!("{}error: {self}\n", compiler_errors.concat())
            }
            RunError::TestsDidNotStart { stderr } => format!("{stderr}error: {self}\n"),
            _ => format!("error: {}\n", chain(self)),
        }
    }
}

/// `error: cause: its cause`, as `anyhow` prints `{:#}`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// ` among the tests matching FILTERS`, or nothing without filters.
fn among(filters: &[String]) -> String {
    if filters.is_empty() {
        String::new()
    } else {
        format!(" among the tests matching {}", filters.join(" "))
    }
}

/// How to add the injector, shown when no check ran (the same text as `oomcheck init`).
fn how_to_add_checks() -> String {
    format!(
        "help: {}  (`oomcheck init` prints this too.)",
        crate::init_cmd::injector_instructions()
    )
}

const HOW_TO_ADD_ALLOCATOR: &str = "\
help: add the failing allocator to the test file (once per test binary):
       #[global_allocator]
       static ALLOC: oomcheck_injector::FailingAllocator = oomcheck_injector::FailingAllocator::system();";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_follow_the_error_and_cargo_text_precedes_it() {
        let spawn = RunError::Cargo(CargoError::Spawn(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        )));
        assert_eq!(spawn.report(), "error: cannot run cargo: no such file\n");
        let meta = RunError::Metadata(CargoError::MetadataFailed(
            "error: manifest path `x` does not exist".into(),
        ));
        assert_eq!(
            meta.report(),
            "error: manifest path `x` does not exist\n\
             error: cannot read the crate's metadata (is there a Cargo.toml?)\n"
        );
        let none = RunError::NoChecks {
            tests_run: 3,
            filters: vec!["a".into(), "b".into()],
        };
        assert!(none.report().starts_with(
            "error: no OOM checks found among the tests matching a b \
             (3 tests ran, none called oomcheck_injector::check)\nhelp: "
        ));
    }
}
