//! `cargo oomcheck …`: cargo runs this binary as `cargo-oomcheck oomcheck …`; drop the
//! subcommand name cargo passes and behave exactly like `oomcheck …`.
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args: Vec<_> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "oomcheck") {
        args.remove(1);
    }
    oomcheck::main_with_args(args)
}
