//! Synthetic Criteo-shaped rows: 13 dense features and one index per table with the real Kaggle
//! cardinalities (or any given ones), for full-size shape and trace studies.
//!
//! The rows are shaped like Criteo, not statistically faithful to it:
//! - sparse: index `i` of a table of `K` rows is drawn from a bounded power law (Zipf-like) with
//!   exponent `s`: `x` has density ∝ `x^(−s)` on `[1, K + 1)` (inverse CDF, O(1) per draw, no
//!   per-table arrays, so 10-million-row tables cost nothing) and `i = ⌊x⌋ − 1`, so index 0 is
//!   the most popular value and popularity falls like a Zipf law; `s = 0` is uniform;
//! - dense: feature `j` is missing (→ 0) with the rate measured on the shipped 8,000 real rows
//!   ([`DENSE_MISSING_RATES`]); otherwise a log-normal count `⌊exp(1.5 + 1.5 z)⌋` goes through
//!   the real preprocessing `ln(1 + x)`;
//! - label: Bernoulli with logit `ln(p / (1 − p)) + 0.1 · Σ_t ±1`, the sign a fixed hash of
//!   (seed, table, index), so labels depend (weakly, learnably) on the sparse features and the
//!   positive rate is close to `p`.
//!
//! Rows are generated in chunks of [`CHUNK_ROWS`]; chunk `c` uses ChaCha8 seeded with `seed` on
//! stream `c`, so the output depends only on the seed and `n`, not on the thread count.

use rayon::prelude::*;

use super::criteo::{CRITEO_DENSE_NAMES, CRITEO_KAGGLE_CARDINALITIES, CRITEO_NUM_DENSE};
use super::rng;
use super::{check_cardinality, Dataset, SparseFeature};
use crate::error::{Error, Result};

/// Rows per independently seeded chunk.
pub const CHUNK_ROWS: usize = 4096;

/// Missing rate of I1–I13 in the shipped 8,000 real training rows
/// (3612, 0, 1620, 1627, 396, 2014, 398, 9, 398, 3612, 398, 6214, 1627 of 8000).
pub const DENSE_MISSING_RATES: [f64; CRITEO_NUM_DENSE] = [
    3612.0 / 8000.0,
    0.0,
    1620.0 / 8000.0,
    1627.0 / 8000.0,
    396.0 / 8000.0,
    2014.0 / 8000.0,
    398.0 / 8000.0,
    9.0 / 8000.0,
    398.0 / 8000.0,
    3612.0 / 8000.0,
    398.0 / 8000.0,
    6214.0 / 8000.0,
    1627.0 / 8000.0,
];

/// Weight of each table's ±1 contribution to the label logit.
const LABEL_WEIGHT: f64 = 0.1;

/// Settings of the synthetic Criteo-shaped generator.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticCriteo {
    /// Table size of each categorical feature (each in `[1, 2^32]`).
    pub cardinalities: Vec<u64>,
    /// Power-law exponent of the index distribution (finite, `≥ 0`; 0 is uniform).
    pub zipf_exponent: f64,
    /// Target fraction of positive labels, in `(0, 1)`.
    pub positive_rate: f64,
    /// Seed of every random draw.
    pub seed: u64,
}

impl SyntheticCriteo {
    /// The 26 real Kaggle cardinalities, exponent 1.05, positive rate 0.256 (the Kaggle train
    /// set's click rate), and the given seed.
    pub fn kaggle(seed: u64) -> Self {
        Self {
            cardinalities: CRITEO_KAGGLE_CARDINALITIES.to_vec(),
            zipf_exponent: 1.05,
            positive_rate: 0.256,
            seed,
        }
    }

    /// Generates `n` rows (dataset name `"synthetic-criteo"`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a cardinality outside `[1, 2^32]`, a negative or non-finite
    /// exponent, or a positive rate outside `(0, 1)`.
    pub fn generate(&self, n: usize) -> Result<Dataset> {
        for &c in &self.cardinalities {
            check_cardinality(c)?;
        }
        let s = self.zipf_exponent;
        if !(s.is_finite() && s >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "zipf_exponent",
                value: s,
                expected: "a finite number >= 0",
            });
        }
        let p = self.positive_rate;
        if !(p > 0.0 && p < 1.0) {
            return Err(Error::InvalidParameter {
                name: "positive_rate",
                value: p,
                expected: "a number in (0, 1)",
            });
        }
        let samplers: Vec<PowerLaw> = self
            .cardinalities
            .iter()
            .map(|&k| PowerLaw::new(k, s))
            .collect();
        let base_logit = (p / (1.0 - p)).ln();
        let chunks: Vec<(Vec<f32>, Vec<u32>, Vec<u8>)> = (0..n.div_ceil(CHUNK_ROWS))
            .into_par_iter()
            .map(|c| {
                let rows = CHUNK_ROWS.min(n - c * CHUNK_ROWS);
                self.chunk(c as u64, rows, &samplers, base_logit)
            })
            .collect();
        let ns = self.cardinalities.len();
        let mut dense = Vec::with_capacity(n * CRITEO_NUM_DENSE);
        let mut sparse = Vec::with_capacity(n * ns);
        let mut labels = Vec::with_capacity(n);
        for (d, sp, l) in chunks {
            dense.extend(d);
            sparse.extend(sp);
            labels.extend(l);
        }
        Dataset::new(
            "synthetic-criteo",
            CRITEO_DENSE_NAMES.iter().map(|s| (*s).to_owned()).collect(),
            self.cardinalities
                .iter()
                .enumerate()
                .map(|(t, &c)| SparseFeature::new(format!("C{}", t + 1), c))
                .collect(),
            dense,
            sparse,
            labels,
        )
    }

    fn chunk(
        &self,
        chunk: u64,
        rows: usize,
        samplers: &[PowerLaw],
        base_logit: f64,
    ) -> (Vec<f32>, Vec<u32>, Vec<u8>) {
        let mut rng = rng::seeded_stream(self.seed, chunk);
        let mut dense = Vec::with_capacity(rows * CRITEO_NUM_DENSE);
        let mut sparse = Vec::with_capacity(rows * samplers.len());
        let mut labels = Vec::with_capacity(rows);
        for _ in 0..rows {
            for &rate in &DENSE_MISSING_RATES {
                let missing = rng::unit(&mut rng) < rate;
                let z = rng::normal(&mut rng);
                let v = if missing {
                    0.0
                } else {
                    (1.5 + 1.5 * z).exp().floor().ln_1p()
                };
                // ln(1 + x) of a finite f64 is below 710, so the cast is finite.
                dense.push(v as f32);
            }
            let mut logit = base_logit;
            for (t, sampler) in samplers.iter().enumerate() {
                let index = sampler.sample(rng::unit(&mut rng));
                let bit = splitmix64(self.seed ^ ((t as u64) << 40) ^ u64::from(index)) & 1;
                logit += if bit == 1 {
                    LABEL_WEIGHT
                } else {
                    -LABEL_WEIGHT
                };
                sparse.push(index);
            }
            let prob = 1.0 / (1.0 + (-logit).exp());
            labels.push(u8::from(rng::unit(&mut rng) < prob));
        }
        (dense, sparse, labels)
    }
}

/// Inverse-CDF sampler of `⌊x⌋ − 1` with `x` ∝ `x^(−s)` on `[1, k + 1)`.
#[derive(Debug, Clone, Copy)]
struct PowerLaw {
    k: u64,
    /// `1 − s`, or 0 for the `s = 1` (log-uniform) case.
    a: f64,
    /// `(k + 1)^(1 − s) − 1`, or `ln(k + 1)` when `s = 1`.
    span: f64,
}

impl PowerLaw {
    fn new(k: u64, s: f64) -> Self {
        let top = k as f64 + 1.0;
        let a = 1.0 - s;
        if a.abs() < 1e-9 {
            Self {
                k,
                a: 0.0,
                span: top.ln(),
            }
        } else {
            Self {
                k,
                a,
                span: top.powf(a) - 1.0,
            }
        }
    }

    /// The index for a uniform draw `u` in `[0, 1)`; always `< k`.
    fn sample(&self, u: f64) -> u32 {
        let x = if self.a == 0.0 {
            (u * self.span).exp()
        } else {
            (1.0 + u * self.span).powf(1.0 / self.a)
        };
        // x ≥ 1 up to rounding; clamp into [0, k − 1] (k ≤ 2^32, so it fits in u32).
        let i = (x.floor() - 1.0).max(0.0) as u64;
        i.min(self.k - 1) as u32
    }
}

/// SplitMix64 finaliser: a fixed, well-mixed hash of a 64-bit word.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_law_edges() {
        let p = PowerLaw::new(1, 1.05);
        assert_eq!(p.sample(0.0), 0);
        assert_eq!(p.sample(0.999_999), 0);
        let p = PowerLaw::new(1 << 32, 1.0);
        assert_eq!(p.sample(0.0), 0);
        assert_eq!(p.sample(1.0 - f64::EPSILON), u32::MAX);
        let uniform = PowerLaw::new(10, 0.0);
        assert_eq!(uniform.sample(0.0), 0);
        assert_eq!(uniform.sample(0.55), 5);
        assert_eq!(uniform.sample(0.999), 9);
    }

    #[test]
    fn power_law_is_zipf_like() {
        // s = 1.05 over 1000 rows: index 0 must be far more frequent than index 10, which is
        // more frequent than index 100 (density ratio about (2/12)^1.05 ≈ 0.15 per decade).
        let p = PowerLaw::new(1000, 1.05);
        let mut rng = rng::seeded(5);
        let mut counts = vec![0u32; 1000];
        for _ in 0..200_000 {
            counts[p.sample(rng::unit(&mut rng)) as usize] += 1;
        }
        assert!(
            counts[0] > 5 * counts[10],
            "{} vs {}",
            counts[0],
            counts[10]
        );
        assert!(
            counts[10] > 5 * counts[100],
            "{} vs {}",
            counts[10],
            counts[100]
        );
        assert!(counts[999] > 0);
    }
}
