//! `helrm`: encrypted recommendation inference and its cost on CPU, GPU and FHE accelerators.
//!
//! Each subcommand is a thin call into the workspace libraries; see `src/cli/`.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("helrm: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
