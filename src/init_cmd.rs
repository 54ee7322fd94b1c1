//! `oomcheck init`: write a commented `oomcheck.toml` with the defaults, and print the lines
//! that add the injector to a crate.
use std::path::PathBuf;

use clap::Args;
use oomcheck_analyzer::config::{CONFIG_FILE_NAME, DEFAULT_MAX_FILE_SIZE};
use oomcheck_analyzer::RuleId;

use crate::rules_cmd::level_name;
use crate::Status;

/// Arguments of `oomcheck init`.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// Directory to write `oomcheck.toml` into.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Replace an existing `oomcheck.toml`.
    #[arg(long)]
    pub force: bool,
}

/// The configuration template: every key with its default, and a comment saying what it does.
pub fn template() -> String {
    let mut rules = String::new();
    for rule in RuleId::ALL {
        let doc = rule.doc();
        match doc.default_level {
            Some(_) => rules.push_str(&format!(
                "# {}\n{} = \"{}\"\n",
                doc.summary,
                rule.as_str(),
                level_name(doc)
            )),
            // Opt-in rules stay off unless asked: reported only inside their scopes (none
            // below), at "warn" unless a level is set here.
            None => rules.push_str(&format!(
                "# {} (opt-in: off until [{rule}] lists scopes; \"warn\" there unless set here)\n\
                 # {rule} = \"error\"\n",
                doc.summary,
                rule = rule.as_str(),
            )),
        }
    }
    format!(
        r#"# oomcheck configuration, written by `oomcheck init` with every default spelled out.
# The same keys also work under [package.metadata.oomcheck] or [workspace.metadata.oomcheck]
# in Cargo.toml. The nearest configuration above a scanned file is used, whole.

# Functions of your own (or of a crate without a rule pack) whose Result reports an allocation
# failure. A bare name matches any call or method of that name; a path such as
# "arena::Arena::try_grow" matches calls whose path ends with the same segments.
alloc-functions = []

# Extra names (variants, types, constants) that mean "out of memory" in your error types,
# besides the built-in NoMemory, OutOfMemory, Oom, AllocError, TryReserveError, ...
no-memory-names = []

# Files to leave out, gitignore syntax, relative to this file. Applies to files named on the
# command line too (pre-commit passes file names).
exclude = []

# Files larger than this many bytes are skipped and reported.
max-file-size = {DEFAULT_MAX_FILE_SIZE}

# Level of each rule: "error", "warn" or "off".
[rules]
{rules}
# Code that must never abort on OOM: the opt-in `infallible-alloc` rule flags aborting
# allocations (push, Box::new, format!, vec![..], collect, ...) in these files.
[infallible-alloc]
# Modules of the crate, judged from paths under src/ (submodules included), e.g. ["net::parser"].
modules = []
# Path prefixes relative to this file, e.g. ["src/oom_safe/"].
paths = []
"#
    )
}

/// The dev-dependency line for the injector: a path to this source tree when it is still
/// where the binary was built from (a `cargo install --path .`), the registry version otherwise.
fn injector_dependency() -> String {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("injector");
    if here.join("Cargo.toml").is_file() {
        format!(
            "oomcheck-injector = {{ path = {:?} }}",
            here.display().to_string()
        )
    } else {
        format!("oomcheck-injector = \"{}\"", env!("CARGO_PKG_VERSION"))
    }
}

/// What to add to a crate to sweep its tests with `oomcheck run`.
pub fn injector_instructions() -> String {
    format!(
        r#"To sweep a crate's tests with `oomcheck run`, add the injector:

  # Cargo.toml
  [dev-dependencies]
  {}

  // in a test file (tests/oom.rs)
  #[global_allocator]
  static ALLOC: oomcheck_injector::FailingAllocator = oomcheck_injector::FailingAllocator::system();

  #[test]
  fn parse_survives_oom() {{
      oomcheck_injector::check(|| my_crate::parse(INPUT));
  }}
"#,
        injector_dependency()
    )
}

/// Run `oomcheck init`.
pub fn execute(args: &InitArgs) -> Status {
    let path = args.dir.join(CONFIG_FILE_NAME);
    if !args.dir.is_dir() {
        eprintln!("error: {} is not a directory", args.dir.display());
        return Status::Error;
    }
    if path.exists() && !args.force {
        eprintln!(
            "error: {} already exists; pass --force to replace it",
            path.display()
        );
        return Status::Error;
    }
    if let Err(e) = std::fs::write(&path, template()) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return Status::Error;
    }
    println!("wrote {}\n\n{}", path.display(), injector_instructions());
    Status::Clean
}
