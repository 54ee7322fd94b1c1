//! Running the tests with the injector armed: `cargo test` in a process group of its own, the
//! report directory polled while it runs, each record streamed as it lands (a progress line, or
//! the record itself on stdout with `--format json`), and an interrupt passed on to the tests.
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::args::RunArgs;
use super::cargo::{self, CargoError, TestOutput};
use super::child_env;
use super::crate_config::RunConfig;
use super::progress::Progress;
use super::record::{Loaded, RecordError};
use super::report_dir::Watcher;
use super::signals::{self, Shutdown};
use super::sweep_flags::Format;
use crate::ui::Ui;

/// How often the report directory is read while the tests run.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// What the tests left behind.
pub struct Swept {
    /// Every record, in the order it arrived.
    pub loaded: Vec<Loaded>,
    /// Record files that did not read, with why.
    pub unreadable: Vec<(PathBuf, RecordError)>,
    /// What `cargo test` printed, and its exit status.
    pub output: TestOutput,
    /// Whether the run was interrupted (Ctrl-C or SIGTERM) and the tests stopped.
    pub interrupted: bool,
}

/// Run the tests of `args`, their records going to `report_dir`, and stream each record.
/// The crate's configuration (`no-memory-names`, `[[run.allow]]`) reaches the checks.
pub fn run(
    args: &RunArgs,
    report_dir: &Path,
    config: &RunConfig,
    ui: &Ui,
) -> Result<Swept, CargoError> {
    let mut stream = Stream {
        json: args.sweep.format == Format::Json,
        debug: args.sweep.debug,
        progress: Progress::new(ui.progress, args.sweep.format == Format::Json),
        loaded: Vec::new(),
    };
    stream.progress.stage("sweeping");
    let env = child_env::injector_env(args, report_dir, config);
    signals::catch_interrupts();
    let run = cargo::TestRun::spawn(
        &args.cargo_opts(),
        &args.test_args,
        &env,
        &oomcheck_injector::env::VARIABLES,
    );
    let mut watcher = Watcher::new(report_dir);
    let mut shutdown = Shutdown::default();
    let output = run.and_then(|mut run| {
        loop {
            let done = run.is_done();
            stream.take(watcher.poll());
            if done {
                break;
            }
            if let Some(signal) = shutdown.poll() {
                run.signal_group(signal);
            }
            std::thread::sleep(POLL_INTERVAL);
        }
        if shutdown.interrupted() {
            // Whatever of the group outlived cargo (a test executable, a sweep child) goes too.
            run.signal_group(libc::SIGKILL);
        }
        run.finish()
    });
    if output.is_ok() {
        stream.take(watcher.poll());
    }
    stream.progress.finish();
    Ok(Swept {
        output: output?,
        loaded: stream.loaded,
        unreadable: watcher.into_unreadable(),
        interrupted: shutdown.interrupted(),
    })
}

/// Where records go as they arrive.
struct Stream {
    json: bool,
    debug: bool,
    progress: Progress,
    loaded: Vec<Loaded>,
}

impl Stream {
    fn take(&mut self, batch: Vec<Loaded>) {
        for l in batch {
            if self.json {
                // A closed pipe (`| head`) is not an error worth a panic: the sweep goes on.
                let _ = writeln!(std::io::stdout().lock(), "{}", l.raw);
            } else {
                self.progress.record(&l.record, self.debug);
            }
            self.loaded.push(l);
        }
    }
}
