//! `helrm bench bootstrap --params helrm-n16-boot [--slots S] [--threads N] [--json]`: one
//! real bootstrap, timed.
//!
//! Builds the default bootstrapping circuit for the parameter set and slot count (`N/2` if
//! not given), generates exactly its keys, encrypts real values uniform in `[−1, 1]` at
//! level 0, bootstraps once, decrypts, and reports the wall time of the bootstrap, the
//! level of the result, the precision in bits (`−log2` of the mean and of the largest slot
//! error) and the bytes of the evaluation keys. `--json` prints
//! `{"seconds", "output_level", "precision_bits_mean", "precision_bits_min",
//! "eval_key_bytes", "slots", "threads"}`. At `helrm-n16-boot` and 32,768 slots the keys and
//! pre-encoded diagonals take about 13 GB and key generation about half a minute.

use clap::Args;
use helrm_core::circuits::bootstrap::bench::{measure, BootstrapRun};
use helrm_core::ckks::Params;
use helrm_core::Error;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::time::Duration;

use super::CliError;

/// The fixed seed of the input values, so that runs compare on the same data.
const INPUT_SEED: [u8; 32] = [0x5e; 32];

/// Arguments of `helrm bench bootstrap`.
#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// Parameter set with bootstrapping levels (see `helrm params list`).
    #[arg(long, default_value = "helrm-n16-boot")]
    pub params: String,
    /// Slots to bootstrap: a power of two, at most N/2 (default N/2).
    #[arg(long)]
    pub slots: Option<usize>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The JSON report of `helrm bench bootstrap`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BootstrapReport {
    /// Wall seconds of the bootstrap.
    pub seconds: f64,
    /// Level of the result.
    pub output_level: usize,
    /// `−log2` of the mean slot error.
    pub precision_bits_mean: f64,
    /// `−log2` of the largest slot error.
    pub precision_bits_min: f64,
    /// Bytes of the evaluation keys (relinearisation and every Galois key).
    pub eval_key_bytes: u64,
    /// Slots bootstrapped.
    pub slots: usize,
    /// Worker threads.
    pub threads: usize,
}

impl From<&BootstrapRun> for BootstrapReport {
    fn from(r: &BootstrapRun) -> Self {
        Self {
            seconds: r.seconds,
            output_level: r.output_level,
            precision_bits_mean: r.precision.mean_bits,
            precision_bits_min: r.precision.min_bits,
            eval_key_bytes: r.keys.bytes,
            slots: r.slots,
            threads: r.threads,
        }
    }
}

/// Runs one measured bootstrap on the preset `params` (`slots` defaults to `N/2`);
/// `progress` hears what starts.
///
/// # Errors
/// [`CliError::Input`] for an unknown preset, a set without room for bootstrapping or a bad
/// slot count; [`CliError::Run`] if the run itself fails.
pub fn run_measurement(
    params: &str,
    slots: Option<usize>,
    progress: &mut dyn FnMut(&str),
) -> Result<BootstrapRun, CliError> {
    let p = Params::preset(params).map_err(|e| CliError::Input(format!("--params: {e}")))?;
    let slots = slots.unwrap_or(p.slots());
    measure(p, slots, INPUT_SEED, progress).map_err(|e| match e {
        Error::InvalidSlots { .. } => CliError::Input(format!("--slots: {e}")),
        Error::BootstrapDepth { .. } | Error::BootstrapConfig { .. } => {
            CliError::Input(format!("--params {params}: {e}"))
        }
        other => CliError::Run(format!("bootstrap: {other}")),
    })
}

/// Runs `helrm bench bootstrap`.
///
/// # Errors
/// As [`run_measurement`]; [`CliError::Run`] if the JSON cannot be written.
pub fn run(args: BootstrapArgs) -> Result<(), CliError> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let run = run_measurement(&args.params, args.slots, &mut |s| {
        bar.set_message(s.to_string())
    });
    bar.finish_and_clear();
    let run = run?;
    let report = BootstrapReport::from(&run);
    if args.json {
        let s = serde_json::to_string(&report)
            .map_err(|e| CliError::Run(format!("cannot encode JSON: {e}")))?;
        println!("{s}");
        return Ok(());
    }
    println!(
        "bootstrapping at {}, {} slots, {} thread(s) (real encrypted run)",
        args.params, report.slots, report.threads
    );
    println!("  time               {:>10.2} s", report.seconds);
    println!(
        "  levels             {:>10} → {}",
        run.input_level, report.output_level
    );
    println!(
        "  precision (bits)   {:>10.2} mean, {:.2} min",
        report.precision_bits_mean, report.precision_bits_min
    );
    println!(
        "  evaluation keys    {:>10.2} GB ({} Galois keys + relinearisation)",
        report.eval_key_bytes as f64 / 1e9,
        run.keys.galois_keys
    );
    println!(
        "  set-up             {:>10.2} s circuit, {:.2} s keys",
        run.setup_seconds, run.keygen_seconds
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toy_report_has_the_documented_json_keys() {
        let run = run_measurement("toy-n12-boot", Some(16), &mut |_| {}).unwrap();
        let v = serde_json::to_value(BootstrapReport::from(&run)).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "eval_key_bytes",
                "output_level",
                "precision_bits_mean",
                "precision_bits_min",
                "seconds",
                "slots",
                "threads"
            ]
        );
        assert_eq!(v["slots"], 16);
        assert_eq!(v["output_level"], 10);
        assert!(v["precision_bits_mean"].as_f64().unwrap() > 18.0);
        assert!(v["eval_key_bytes"].as_u64().unwrap() > 0);
    }

    #[test]
    fn bad_inputs_are_input_errors() {
        for (params, slots) in [
            ("no-such-set", None),
            ("toy-n12", None),
            ("toy-n12-boot", Some(3)),
            ("toy-n12-boot", Some(1 << 20)),
        ] {
            assert!(
                matches!(
                    run_measurement(params, slots, &mut |_| {}),
                    Err(CliError::Input(_))
                ),
                "{params} {slots:?}"
            );
        }
    }
}
