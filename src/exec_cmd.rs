//! `oomcheck exec -- PROGRAM [ARGS…]`: sweep any dynamically linked program, unmodified (a C
//! test as in libvirt's `VIR_TEST_OOM`, a CLI tool, a Rust binary). It runs once with its
//! allocations counted, then once per allocation index with that allocation failing, and each
//! run is judged from how it ended and what it printed; one record for the program.
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::preload::launch::Program;
use crate::preload::sweep::{self, Kind, Target};
use crate::preload::symbolize::Symbolizer;
use crate::preload::{elf, library, PreloadError};
use crate::run_cmd::diagnostic::Explanations;
use crate::run_cmd::preload::report::{program_roots, shell_quote, Reporter, NO_ALLOCATIONS};
use crate::run_cmd::sweep_flags::SweepFlags;
use crate::{ui::Ui, Status};

/// Arguments of `oomcheck exec`.
#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    #[command(flatten)]
    pub sweep: SweepFlags,
    /// The program and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "PROGRAM [ARGS]")]
    pub command: Vec<OsString>,
}

/// `name` as the shell finds it: a path when it has a `/`, else the first match on `PATH`.
fn resolve(name: &Path) -> Option<PathBuf> {
    if name.components().count() > 1 || name.is_absolute() {
        return name.is_file().then(|| name.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn error(msg: &str) -> Status {
    eprintln!("error: {msg}");
    Status::Error
}

/// Run `oomcheck exec`.
pub fn execute(args: &ExecArgs, ui: &Ui) -> Status {
    let Some((name, rest)) = args.command.split_first() else {
        return error("no program given (oomcheck exec -- PROGRAM [ARGS…])");
    };
    let Some(path) = resolve(Path::new(name)) else {
        return error(&format!(
            "cannot find the program {}",
            name.to_string_lossy()
        ));
    };
    match elf::check_program(&path) {
        Ok(Ok(())) => {}
        Ok(Err(why)) => {
            let e = PreloadError::Unsweepable { program: path, why };
            return error(&e.to_string());
        }
        Err(e) => return error(&e.to_string()),
    }
    let lib = match library::install() {
        Ok(l) => l,
        Err(e) => return error(&e.to_string()),
    };
    let words: Vec<String> = args
        .command
        .iter()
        .map(|w| shell_quote(&w.to_string_lossy()))
        .collect();
    let command_line = words.join(" ");
    let flags = args.sweep.repro_flags();
    let target = Target {
        name: command_line.clone(),
        program: Program {
            path: path.clone(),
            args: rest.to_vec(),
            env: Vec::new(),
            scope: None,
        },
        kind: Kind::Program,
        own: None,
        repro: Box::new(move |i| format!("oomcheck exec --alloc {i}{flags} -- {command_line}")),
    };
    let mut reporter = Reporter::new(ui, &args.sweep, "program");
    reporter.stage(&format!("sweeping {}", target.name));
    let settings = args.sweep.settings(true);
    let swept = match sweep::sweep(&target, &settings, &lib, &mut Symbolizer::new()) {
        Ok(s) => s,
        Err(e) => return error(&e.to_string()),
    };
    if swept.no_allocations {
        reporter.abandon();
        eprintln!(
            "error: {} made no allocation through malloc: nothing to sweep\n{NO_ALLOCATIONS}",
            target.name
        );
        return Status::Error;
    }
    reporter.add(swept);
    // A program has no crate source to lint: nothing explains its findings statically.
    reporter.finish(&program_roots(&path), &Explanations::default(), ui)
}
