//! `helrm plan --config NAME [--params NAME] [--model FILE] [--json]`: what an encrypted run
//! needs before it runs — levels and bootstraps, rotation keys, encoded diagonals, input
//! ciphertexts and the peak memory. Without `--model` the plan is made on an untrained model
//! of the configuration (the plan depends only on the shapes); exact ReLUs are replaced by
//! the composite ReLU (calibrated bounds for a calibrated model, bound 1 otherwise).

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
        Some(p) => Dlrm::load(p).map_err(|e| CliError::Input(format!("--model: {e}")))?,
        None => {
            let cfg = DlrmConfig::named(&args.config)
                .map_err(|e| CliError::Input(format!("--config: {e}")))?;
            Dlrm::new(cfg, 1).map_err(|e| CliError::Run(e.to_string()))?
        }
    };
    let mut model = model;
    let composite = if model.calibration().is_some() {
        model.relu_to_core_composite()
    } else {
        model.relu_to_core_composite_unit()
    };
    composite.map_err(|e| CliError::Run(e.to_string()))?;
    let p = plan(&model, &params, &args.params).map_err(|e| CliError::Input(e.to_string()))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&p).map_err(|e| CliError::Run(e.to_string()))?
        );
        return Ok(());
    }
    println!(
        "{} on {}: {} slots (MLP period {}), {} levels needed, {} per segment (working top), \
         {} bootstrap(s) per query ({} packed: pre-activation + partial sign in one \
         complex-slot ciphertext)",
        p.config,
        p.params,
        p.slots,
        p.period,
        p.levels_needed,
        p.top_level,
        p.bootstraps,
        p.packed_bootstraps
    );
    if p.bootstraps > 0 && !p.bootstrappable {
        println!("  {} cannot bootstrap: this plan cannot run", p.params);
    }
    for s in &p.steps {
        println!(
            "  {:<18} {:>5}x{:<8} level {:>2} -> {:>2}  {:<10} cts {:>3}  diagonals {:>5}  \
             bsgs {}x{}  rotations {:>4}  bootstraps {}",
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
            s.bootstraps
        );
    }
    println!(
        "  evaluation keys: {} Galois elements, {:.1} MiB with the relinearisation key \
         ({:.1} MiB for bootstrapping only)",
        p.galois_elements.len(),
        mib(p.evaluation_key_bytes),
        mib(p.bootstrap_key_bytes)
    );
    if let Some(b) = &p.bootstrap {
        println!(
            "  bootstrapping: {} slots, {} levels, output level {}, {} Galois keys, {:.1} MiB \
             of pre-encoded transform diagonals",
            b.slots,
            b.depth,
            b.output_level,
            b.galois_elements.len(),
            mib(b.diagonal_bytes)
        );
    }
    println!(
        "  model diagonals: {:.1} MiB if pre-encoded, {:.1} MiB compact (encoded on the fly)",
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
