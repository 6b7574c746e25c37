//! `helrm trace stats|diff`: summarise a trace file, or compare two.

use clap::{Args, Subcommand};
use helrm_core::trace::{diff, TraceReader, TraceStats};
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::CliError;

/// Arguments of `helrm trace`.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: TraceCommand,
}

/// `helrm trace` subcommands.
#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Counts and bytes per operation and per data class.
    Stats {
        /// The trace (`.htrace.jsonl` or binary `.htrace`).
        file: PathBuf,
        /// Print JSON (keys `events`, `by_op`, `bytes_by_class`, `wall_ns`).
        #[arg(long)]
        json: bool,
    },
    /// Compares two traces apart from wall times: exit 0 if equal, else the first difference
    /// and exit 1.
    Diff {
        /// First trace.
        a: PathBuf,
        /// Second trace.
        b: PathBuf,
    },
}

fn open(path: &Path) -> Result<TraceReader<BufReader<std::fs::File>>, CliError> {
    TraceReader::open(path).map_err(|e| CliError::Input(format!("{}: {e}", path.display())))
}

/// Reads a whole trace into its summary.
///
/// # Errors
/// [`CliError::Input`] naming the file for an unreadable or malformed trace.
pub fn stats(path: &Path) -> Result<TraceStats, CliError> {
    let mut reader = open(path)?;
    TraceStats::from_reader(&mut reader)
        .map_err(|e| CliError::Input(format!("{}: {e}", path.display())))
}

fn print_stats(path: &Path, s: &TraceStats) {
    println!(
        "{}: {} events, {:.3} s measured wall time",
        path.display(),
        s.events,
        s.wall_ns as f64 / 1e9
    );
    println!(
        "{:<20} {:>10} {:>16} {:>16} {:>12}",
        "op", "count", "input bytes", "output bytes", "wall (ms)"
    );
    for (op, o) in &s.by_op {
        println!(
            "{:<20} {:>10} {:>16} {:>16} {:>12.3}",
            op.name(),
            o.count,
            o.input_bytes,
            o.output_bytes,
            o.wall_ns as f64 / 1e6
        );
    }
    println!(
        "{:<24} {:>16} {:>16}",
        "data class", "bytes read", "bytes written"
    );
    for (class, b) in &s.bytes_by_class {
        println!(
            "{:<24} {:>16} {:>16}",
            class.to_string(),
            b.input_bytes,
            b.output_bytes
        );
    }
}

/// Runs `helrm trace`.
pub fn run(args: TraceArgs) -> Result<(), CliError> {
    match args.command {
        TraceCommand::Stats { file, json } => {
            let s = stats(&file)?;
            if json {
                let text = serde_json::to_string(&s)
                    .map_err(|e| CliError::Run(format!("cannot encode JSON: {e}")))?;
                println!("{text}");
            } else {
                print_stats(&file, &s);
            }
            Ok(())
        }
        TraceCommand::Diff { a, b } => {
            let (ra, rb) = (open(&a)?, open(&b)?);
            match diff(ra, rb) {
                Ok(None) => {
                    println!(
                        "equal apart from wall times: {} and {}",
                        a.display(),
                        b.display()
                    );
                    Ok(())
                }
                Ok(Some(d)) => {
                    println!("{d}");
                    Err(CliError::Run(format!(
                        "{} and {} differ",
                        a.display(),
                        b.display()
                    )))
                }
                Err(e) => Err(CliError::Input(format!(
                    "{} / {}: {e}",
                    a.display(),
                    b.display()
                ))),
            }
        }
    }
}
