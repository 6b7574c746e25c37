//! `helrm plan --config NAME [--params NAME] [--model FILE] [--json]`: what an encrypted run
//! needs before it runs — levels and bootstraps, rotation keys, encoded diagonals, input
//! ciphertexts and the peak memory. Without `--model` the plan is made on an untrained model
//! of the configuration (the plan depends only on the shapes).

use std::path::PathBuf;

use clap::Args;
use helrm_core::ckks::Params;
use helrm_workloads::dlrm::{Dlrm, DlrmConfig};
use helrm_workloads::plan::plan;

use super::CliError;

/// Arguments of `helrm plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Model configuration (`uci`, `criteo`, `criteo-44m`).
    #[arg(long, default_value = "uci")]
    pub config: String,
    /// CKKS parameter set.
    #[arg(long, default_value = "helrm-n16-l10")]
    pub params: String,
    /// A trained model file (default: an untrained model of `--config`).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn mib(b: u64) -> f64 {
    b as f64 / (1u64 << 20) as f64
}

/// Runs `helrm plan`.
///
/// # Errors
/// [`CliError::Input`] for an unknown configuration or parameter set or a model using the
/// exact ReLU; [`CliError::Run`] otherwise.
pub fn run(args: PlanArgs) -> Result<(), CliError> {
    let params =
        Params::preset(&args.params).map_err(|e| CliError::Input(format!("--params: {e}")))?;
    let model = match &args.model {
        Some(p) => {
            Dlrm::load(p).map_err(|e| CliError::Input(format!("--model {}: {e}", p.display())))?
        }
        None => {
            let cfg = DlrmConfig::named(&args.config)
                .map_err(|e| CliError::Input(format!("--config: {e}")))?;
            Dlrm::new(cfg, 1).map_err(|e| CliError::Run(e.to_string()))?
        }
    };
    let p = plan(&model, &params, &args.params).map_err(|e| CliError::Input(e.to_string()))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&p).map_err(|e| CliError::Run(e.to_string()))?
        );
        return Ok(());
    }
    println!(
        "{} on {}: {} slots (MLP period {}), {} levels needed of {}, {} bootstrap(s)",
        p.config, p.params, p.slots, p.period, p.levels_needed, p.top_level, p.bootstraps
    );
    for s in &p.steps {
        println!(
            "  {:<18} {:>5}x{:<8} level {:>2} -> {:>2}  {:<10} cts {:>3}  diagonals {:>5}  \
             bsgs {}x{}  rotations {:>4}{}",
            s.name,
            s.rows,
            s.cols,
            s.input_level,
            s.output_level,
            s.activation,
            s.input_ciphertexts,
            s.diagonals,
            s.bsgs.0,
            s.bsgs.1,
            s.rotations,
            if s.bootstrap_before {
                "  (bootstrap before)"
            } else {
                ""
            }
        );
    }
    println!(
        "  rotation keys: {} Galois elements, {:.1} MiB with the relinearisation key",
        p.galois_elements.len(),
        mib(p.evaluation_key_bytes)
    );
    println!(
        "  diagonals: {:.1} MiB pre-encoded, {:.1} MiB compact (on the fly)",
        mib(p.encoded_diagonal_bytes),
        mib(p.compact_diagonal_bytes)
    );
    println!(
        "  input ciphertexts: {} dense + {} sparse; peak memory ≈ {:.1} MiB",
        p.dense_ciphertexts,
        p.sparse_ciphertexts,
        mib(p.peak_memory_bytes)
    );
    Ok(())
}
