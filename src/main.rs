//! `oomcheck`: lint and sweep Rust code for allocation-failure bugs.
use std::process::ExitCode;

fn main() -> ExitCode {
    oomcheck::main_with_args(std::env::args_os())
}
