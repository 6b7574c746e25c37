//! Command-line front end: argument types, dispatch and the error → exit-code mapping.

use clap::{Parser, Subcommand};

mod bench;
mod bench_bootstrap;
mod bench_lookup;
mod calibrate;
mod demo;
mod infer;
mod inspect;
mod params;
mod plan;
mod probe;
mod simulate;
mod study;
mod svg;
mod sweep;
mod trace;
mod train;

/// Top-level command line.
#[derive(Debug, Parser)]
#[command(
    name = "helrm",
    version,
    about = "Encrypted DLRM inference (RNS-CKKS, HE-LRM) and its simulated cost on hardware"
)]
pub struct Cli {
    /// Worker threads for parallel work (default: all cores; `RAYON_NUM_THREADS` also works).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// Most MiB of freed polynomial buffers kept for reuse (0: every result gets fresh memory
    /// from the system, paying page faults on first touch).
    #[arg(long, global = true, default_value_t = helrm_core::ring::pool::DEFAULT_CAPACITY_BYTES >> 20, value_name = "MIB")]
    pub buffer_pool_mib: usize,
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The main job: train, encrypt, infer, trace, simulate and report on the shipped UCI data.
    Demo(demo::DemoArgs),
    /// CKKS parameter sets: `helrm params list [--json]`.
    Params(params::ParamsArgs),
    /// Measured speed of core kernels on this machine: `helrm bench ntt [--quick] [--json]`.
    Bench(bench::BenchArgs),
    /// Summarise or compare operation traces.
    Trace(trace::TraceArgs),
    /// Train a plaintext DLRM on the shipped UCI or Criteo data and save it.
    Train(train::TrainCommand),
    /// Encrypted inference on held-out rows, compared with the plaintext model.
    Infer(infer::InferArgs),
    /// What an encrypted run of a model configuration needs, before anything runs.
    Plan(plan::PlanArgs),
    /// Replay a trace on a machine model: latency and off-chip traffic by data class.
    Simulate(simulate::SimulateArgs),
    /// Identify and validate any helrm file (CKKS object, trace, model, machine model,
    /// dataset) and summarise it.
    Inspect(inspect::InspectArgs),
    /// Trace studies across lookup methods, storage choices and machines (`study packing`).
    Study(study::StudyArgs),
    /// Fit the host CPU's machine model to measured runs on this machine (use `--threads 1`).
    Calibrate(calibrate::CalibrateArgs),
    /// Replay a trace over a cartesian product of machine-model and lowering settings.
    Sweep(sweep::SweepArgs),
}

/// Errors a subcommand reports; each maps to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input or usage (exit code 2).
    #[error("{0}")]
    Input(String),
    /// Failure while running (exit code 1).
    #[error("{0}")]
    Run(String),
}

impl CliError {
    /// The process exit code: 2 for bad input or usage, 1 for a failure while running.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => 2,
            CliError::Run(_) => 1,
        }
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    if let Some(t) = cli.threads {
        if t == 0 {
            return Err(CliError::Input("--threads: expected at least 1".into()));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .map_err(|e| CliError::Run(format!("cannot start {t} worker threads: {e}")))?;
    }
    helrm_core::ring::pool::set_capacity(cli.buffer_pool_mib.saturating_mul(1 << 20));
    match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Params(args) => params::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Trace(args) => trace::run(args),
        Command::Train(args) => train::run(args),
        Command::Infer(args) => infer::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Study(args) => study::run_cli(args),
        Command::Calibrate(args) => calibrate::run(args),
        Command::Sweep(args) => sweep::run(args),
    }
}
