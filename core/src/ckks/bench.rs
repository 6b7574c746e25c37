//! Timing of the scheme's basic operations at the top level (what `helrm bench ops` prints).
//!
//! Each operation runs `repetitions` times on the calling rayon pool and its median wall time
//! is reported; the set-up (keys, encryption of the operands) is not timed. Use a one-thread
//! pool (`RAYON_NUM_THREADS=1` or `--threads 1`) for single-thread figures.

use super::{CkksContext, Decryptor, Encryptor, Evaluator, KeyGenerator, Params};
use crate::error::Result;
use crate::ring::Backend;
use crate::trace::DataClass;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// The operations timed, in report order.
pub const OPS: &[&str] = &[
    "encode",
    "encrypt",
    "decrypt",
    "add",
    "mul_plain",
    "mul_relin",
    "rescale",
    "rotate",
    "rotate_hoisted_16",
];

/// Median wall time of one operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpTiming {
    /// Operation name (one of [`OPS`]).
    pub op: &'static str,
    /// The level it ran at (the top level).
    pub level: usize,
    /// Median wall time in nanoseconds.
    pub median_ns: u64,
}

fn median_ns(repetitions: usize, mut f: impl FnMut() -> Result<()>) -> Result<u64> {
    let mut times = Vec::with_capacity(repetitions);
    for _ in 0..repetitions.max(1) {
        let t = Instant::now();
        f()?;
        times.push(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }
    times.sort_unstable();
    Ok(times[times.len() / 2])
}

/// Times every operation of [`OPS`] on `params`, `repetitions` times each.
///
/// # Errors
/// Key generation or evaluation errors (none for valid parameters), [`crate::Error::Entropy`].
pub fn bench_ops(params: Arc<Params>, repetitions: usize) -> Result<Vec<OpTiming>> {
    let ctx = CkksContext::new(params, Backend::Real)?;
    let slots = ctx.params().slots();
    let rotations: Vec<i64> = (1..=16).collect();
    let mut keygen = KeyGenerator::new(ctx.clone())?;
    let keys = keygen.evaluation_keys(&rotations, slots, false)?;
    let mut enc = Encryptor::new(ctx.clone(), keygen.public_key()?)?;
    let eval = Evaluator::new(ctx.clone(), Arc::new(keys));
    let dec = Decryptor::new(ctx.clone(), keygen.secret_key());
    let top = ctx.max_level();
    let scale = ctx.params().default_scale();
    let values: Vec<f64> = (0..slots)
        .map(|i| ((i % 1000) as f64) / 1000.0 - 0.5)
        .collect();
    let pt = ctx.encode_real(&values, top, scale, slots, DataClass::PlaintextWeight)?;
    let a = enc.encrypt(&pt)?;
    let b = enc.encrypt(&pt)?;
    let prod = eval.mul_relin(&a, &b)?;
    let level = top.get();
    let mut out = Vec::with_capacity(OPS.len());
    for &op in OPS {
        let ns = match op {
            "encode" => median_ns(repetitions, || {
                ctx.encode_real(&values, top, scale, slots, DataClass::PlaintextWeight)
                    .map(drop)
            })?,
            "encrypt" => median_ns(repetitions, || enc.encrypt(&pt).map(drop))?,
            "decrypt" => median_ns(repetitions, || dec.decrypt(&a).map(drop))?,
            "add" => median_ns(repetitions, || eval.add(&a, &b).map(drop))?,
            "mul_plain" => median_ns(repetitions, || eval.mul_plain(&a, &pt).map(drop))?,
            "mul_relin" => median_ns(repetitions, || eval.mul_relin(&a, &b).map(drop))?,
            "rescale" => median_ns(repetitions, || eval.rescale(&prod).map(drop))?,
            "rotate" => median_ns(repetitions, || eval.rotate(&a, 1).map(drop))?,
            _ => median_ns(repetitions, || {
                eval.rotate_hoisted(&a, &rotations).map(drop)
            })?,
        };
        out.push(OpTiming {
            op,
            level,
            median_ns: ns,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_every_op_on_a_toy_set() {
        let params = Params::preset("toy-n10").unwrap();
        let t = bench_ops(params, 1).unwrap();
        let names: Vec<&str> = t.iter().map(|x| x.op).collect();
        assert_eq!(names, OPS);
        assert!(t.iter().all(|x| x.level == 3 && x.median_ns > 0));
    }
}
