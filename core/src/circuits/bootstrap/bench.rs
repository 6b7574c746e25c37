//! One measured bootstrap, as `helrm bench bootstrap` and the full-size test run it: build the
//! circuit and its keys, encrypt real values uniform in `[−1, 1]` at level 0, time one
//! bootstrap, decrypt, and report the time, the output level, the precision in bits and the
//! evaluation-key bytes.

use super::precision::{precision, PrecisionStats};
use super::{BootstrapConfig, Bootstrapper, KeyReport};
use crate::ckks::{CkksContext, Decryptor, Encryptor, Evaluator, KeyGenerator, Level, Params};
use crate::error::Result;
use crate::math::sample::Csprng;
use crate::ring::Backend;
use crate::trace::DataClass;
use num_complex::Complex64;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// What one measured bootstrap reports.
#[derive(Debug, Clone, Serialize)]
pub struct BootstrapRun {
    /// Slots bootstrapped.
    pub slots: usize,
    /// Worker threads of the global pool during the run.
    pub threads: usize,
    /// Seconds to build the circuit (factor the transforms, encode the diagonals).
    pub setup_seconds: f64,
    /// Seconds to generate the evaluation keys.
    pub keygen_seconds: f64,
    /// Seconds of the bootstrap itself.
    pub seconds: f64,
    /// Level of the input ciphertext (0).
    pub input_level: usize,
    /// Level of the result.
    pub output_level: usize,
    /// Precision of the result against the inputs.
    pub precision: PrecisionStats,
    /// The evaluation keys.
    pub keys: KeyReport,
}

/// Real values uniform in `[−1, 1]` from a seeded generator (53 random bits each).
pub fn uniform_inputs(count: usize, seed: [u8; 32]) -> Vec<f64> {
    let mut rng = Csprng::from_seed(seed);
    let top = 1u64 << 53;
    (0..count)
        .map(|_| rng.uniform_inclusive(top) as f64 / top as f64 * 2.0 - 1.0)
        .collect()
}

/// Builds the default circuit for `slots` slots on `params`, generates its keys (from OS
/// randomness), encrypts [`uniform_inputs`] of `seed` at level 0, bootstraps once and reports.
/// `progress` is told what starts (for long runs).
///
/// # Errors
/// Those of [`Bootstrapper::new`] (a set without room for bootstrapping, a bad slot count),
/// key generation, encryption and [`Bootstrapper::bootstrap`].
pub fn measure(
    params: Arc<Params>,
    slots: usize,
    seed: [u8; 32],
    progress: &mut dyn FnMut(&str),
) -> Result<BootstrapRun> {
    let ctx = CkksContext::new(params, Backend::Real)?;
    progress("factoring the transforms and encoding their diagonals");
    let t = Instant::now();
    let boot = Bootstrapper::new(Arc::clone(&ctx), BootstrapConfig::new(slots))?;
    let setup_seconds = t.elapsed().as_secs_f64();
    progress(&format!(
        "generating {} Galois keys and the relinearisation key",
        boot.galois_elements()?.len()
    ));
    let t = Instant::now();
    let mut keygen = KeyGenerator::new(Arc::clone(&ctx))?;
    let keys = boot.generate_keys(&mut keygen)?;
    let keygen_seconds = t.elapsed().as_secs_f64();
    let report = KeyReport::of(&keys);
    let eval = Evaluator::new(Arc::clone(&ctx), Arc::new(keys));
    let mut enc = Encryptor::new(Arc::clone(&ctx), keygen.public_key()?)?;
    let x: Vec<Complex64> = uniform_inputs(slots, seed)
        .into_iter()
        .map(|v| Complex64::new(v, 0.0))
        .collect();
    let pt = ctx.encode(
        &x,
        Level::new(0),
        ctx.params().default_scale(),
        slots,
        DataClass::Other,
    )?;
    let ct = enc.encrypt(&pt)?;
    progress("bootstrapping");
    let t = Instant::now();
    let out = boot.bootstrap(&eval, &ct)?;
    let seconds = t.elapsed().as_secs_f64();
    let got = Decryptor::new(Arc::clone(&ctx), keygen.secret_key()).decrypt(&out)?;
    Ok(BootstrapRun {
        slots,
        threads: rayon::current_num_threads(),
        setup_seconds,
        keygen_seconds,
        seconds,
        input_level: ct.level().get(),
        output_level: out.level().get(),
        precision: precision(&x, &got)?,
        keys: report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_uniform_in_the_unit_interval_and_seeded() {
        let a = uniform_inputs(4096, [1; 32]);
        assert_eq!(a, uniform_inputs(4096, [1; 32]));
        assert_ne!(a, uniform_inputs(4096, [2; 32]));
        assert!(a.iter().all(|&v| (-1.0..=1.0).contains(&v)));
        // Mean 0 and variance 1/3 within 5 standard errors (σ/√n = 0.009, 0.0047).
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        let var = a.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / a.len() as f64;
        assert!(mean.abs() < 0.045, "mean {mean}");
        assert!((var - 1.0 / 3.0).abs() < 0.024, "variance {var}");
    }

    #[test]
    fn a_toy_run_reports_its_precision_and_levels() {
        let params = Params::preset("toy-n12-boot").expect("preset");
        let mut seen = Vec::new();
        let run = measure(params, 8, [3; 32], &mut |s| seen.push(s.to_string())).expect("run");
        assert_eq!(run.slots, 8);
        assert_eq!(run.input_level, 0);
        assert_eq!(run.output_level, 10);
        assert!(run.precision.mean_bits > 18.0, "{:?}", run.precision);
        assert!(run.keys.relin_key && run.keys.galois_keys > 0 && run.keys.bytes > 0);
        assert_eq!(seen.len(), 3);
    }
}
