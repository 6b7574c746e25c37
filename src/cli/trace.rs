//! `helrm trace stats|diff`: summarise a trace file, or compare two.

use clap::{Args, Subcommand};
use helrm_core::trace::{diff, OpKind, TraceError, TraceEvent, TraceReader, TraceStats};
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::CliError;

/// Arguments of `helrm trace`: a subcommand, or `--dataset … --out FILE` to record a trace of
/// the encrypted pipeline (symbolic with `--symbolic`).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TraceArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: Option<TraceCommand>,
    /// Record a trace of encrypted inference on this dataset (`uci` or `criteo`).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Model configuration (default: the dataset's).
    #[arg(long)]
    pub config: Option<String>,
    /// A model saved by `helrm train` (default: the dataset's model trained with seed 1; an
    /// untrained one for symbolic runs of Criteo configurations).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// CKKS parameter set.
    #[arg(long, default_value = "helrm-n16-l10")]
    pub params: String,
    /// Run on shapes only (no arithmetic, no wall times).
    #[arg(long)]
    pub symbolic: bool,
    /// Held-out rows to run (default: all).
    #[arg(long)]
    pub samples: Option<usize>,
    /// The trace file to write (`.jsonl` or `.htrace`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `helrm trace --dataset …`: records the pipeline's trace; equal (by `helrm trace diff`) to
/// the trace `helrm infer --trace` writes for the same model, parameters and samples.
fn generate(args: &TraceArgs) -> Result<(), CliError> {
    let dataset = args.dataset.as_deref().unwrap_or("uci");
    let out = args
        .out
        .as_deref()
        .ok_or_else(|| CliError::Input("--out FILE is required with --dataset".into()))?;
    // A symbolic run depends on shapes only: without --model it uses an untrained model of
    // the configuration (no training, composite ReLUs of bound 1).
    let (model, test) = super::infer::dataset_model(
        dataset,
        args.config.as_deref(),
        args.model.as_deref(),
        args.symbolic,
    )?;
    let backend = if args.symbolic {
        helrm_core::ring::Backend::Symbolic
    } else {
        helrm_core::ring::Backend::Real
    };
    let r = super::infer::run_pipeline(
        &model,
        &test,
        &args.params,
        args.samples,
        backend,
        Some(out),
    )?;
    println!(
        "{}: trace of {} sample(s) of {dataset} at {}",
        out.display(),
        r.samples,
        r.params
    );
    Ok(())
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

/// Reads a whole trace into its summary, checking each event against the header.
///
/// # Errors
/// [`CliError::Input`] naming the file for an unreadable or malformed trace, or one whose
/// events do not fit its header's parameters.
pub fn stats(path: &Path) -> Result<TraceStats, CliError> {
    let mut reader = open(path)?;
    let bad = |e: TraceError| CliError::Input(format!("{}: {e}", path.display()));
    let mut stats = TraceStats::new();
    let mut event = TraceEvent::new(OpKind::Encode, 0, 0);
    while reader.read_event(&mut event).map_err(bad)? {
        reader.header().check_event(&event).map_err(bad)?;
        stats.add(&event);
    }
    Ok(stats)
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
    let Some(command) = args.command else {
        return generate(&args);
    };
    match command {
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
