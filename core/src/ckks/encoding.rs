//! The CKKS encoder: the canonical embedding of `R = Z[X]/(X^N + 1)`, computed with an FFT.
//!
//! # Slot order
//!
//! With `ζ = e^{iπ/N}` (a primitive `2N`-th root of unity), slot `j` (`0 ≤ j < N/2`) of a real
//! polynomial `m` is `m(ζ^{5^j mod 2N})`. The powers `±5^j` run over all odd residues mod `2N`,
//! and `m(ζ^{−k}) = conj(m(ζ^k))` for real `m`, so the `N/2` complex slots determine `m`.
//! With this order the automorphism `X → X^{5^k}` rotates the slots **left by `k`**
//! (slot `j` of the result is slot `j + k` of the input) and `X → X^{−1} = X^{2N−1}`
//! conjugates every slot; the tests prove both by applying the automorphisms to coefficient
//! vectors directly.
//!
//! # Sparse slots
//!
//! Any power of two `slots ≤ N/2` is supported. The message then lives in the subring
//! `Z[Y]/(Y^{N'} + 1)`, `Y = X^{gap}`, `N' = 2·slots`, `gap = N / N'`: only the coefficients
//! at multiples of `gap` are non-zero. Because `ζ^{gap}` is a primitive `2N'`-th root of unity
//! and `5` has order `N'/2 = slots` modulo `2N'`, the `N/2` full slots hold the `slots` values
//! repeated `gap` times, so the automorphism `X → X^{5^k}` still rotates the `slots` values
//! cyclically by `k`. Decoding reads the coefficients at multiples of `gap` (the projection onto
//! the subring, which equals the average of the `gap` copies of each slot).
//!
//! # Algorithm
//!
//! Write `c'_i = c_i ζ^i` (a twist). Then `m(ζ^{2t+1}) = Σ_i c'_i ω^{it}` with `ω = ζ²`, so
//! evaluating at every odd power is one length-`N'` DFT, and encoding is the inverse DFT of
//! the conjugate-symmetric vector of evaluations followed by the inverse twist. The plans for
//! every power-of-two length up to `N` (rustfft) and the twist factors are built once in
//! [`Encoder::new`]; calls take `&self`.
//!
//! # Example
//! ```
//! use helrm_core::ckks::encoding::Encoder;
//! use num_complex::Complex64;
//! let enc = Encoder::new(12)?;
//! let scale = 2f64.powi(40);
//! let values = [Complex64::new(0.5, -0.25), Complex64::new(-1.0, 0.125)];
//! let coeffs = enc.encode(&values, 2, scale)?; // 2 slots: sparse packing
//! assert_eq!(coeffs.len(), 4096);
//! let as_f64: Vec<f64> = coeffs.iter().map(|&c| c as f64).collect();
//! let back = enc.decode(&as_f64, 2, scale)?;
//! for (a, b) in values.iter().zip(&back) {
//!     assert!((a - b).norm() < 1e-9);
//! }
//! # Ok::<(), helrm_core::Error>(())
//! ```
//!
//! # References
//! - J. H. Cheon, A. Kim, M. Kim, Y. Song, "Homomorphic encryption for arithmetic of
//!   approximate numbers", ASIACRYPT 2017 (the canonical embedding and the rotation group).
//! - J. H. Cheon, K. Han, A. Kim, M. Kim, Y. Song, "Bootstrapping for approximate homomorphic
//!   encryption", EUROCRYPT 2018 (sparse slots in the subring `X^{N/(2·slots)}`).

use std::fmt;
use std::sync::Arc;

use num_complex::Complex64;
use rustfft::{Fft, FftPlanner};

use crate::error::{Error, Result};

/// Smallest supported `log2 N` for the encoder (`N = 2`, one slot).
pub const MIN_ENCODER_LOG_N: u32 = 1;
/// Largest supported `log2 N` for the encoder.
pub const MAX_ENCODER_LOG_N: u32 = 17;
/// Encoded coefficients must satisfy `|c| < 2^MAX_COEFF_BITS` (one bit of headroom in `i128`).
pub const MAX_COEFF_BITS: u32 = 126;

/// 2^63: rounded coefficients below it in magnitude convert through `i64`.
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

/// An encoder's work space, one per thread (see [`Encoder::with_subring`]).
#[derive(Default)]
struct Scratch {
    /// The slot vector, transformed in place.
    buf: Vec<Complex64>,
    /// The FFT's scratch.
    fft: Vec<Complex64>,
    /// The rounded coefficients.
    coeffs: Vec<i128>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Precomputed canonical-embedding transforms for one ring degree.
pub struct Encoder {
    log_n: u32,
    /// `ζ^i = e^{iπ i/N}` for `i < N`.
    twist: Vec<Complex64>,
    /// `5^j mod 2N` for `j < N/2`.
    rot_group: Vec<usize>,
    /// Forward (negative exponent) plans; index `k` has length `2^k`.
    forward: Vec<Arc<dyn Fft<f64>>>,
    /// Inverse (positive exponent, unnormalised) plans; index `k` has length `2^k`.
    inverse: Vec<Arc<dyn Fft<f64>>>,
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder")
            .field("log_n", &self.log_n)
            .finish_non_exhaustive()
    }
}

impl Encoder {
    /// Builds the encoder for `N = 2^log_n`: twist factors, the rotation group and FFT plans
    /// for every power-of-two length up to `N`.
    ///
    /// # Errors
    /// [`Error::InvalidRingDegree`] for `log_n` outside `[1, 17]`.
    pub fn new(log_n: u32) -> Result<Self> {
        if !(MIN_ENCODER_LOG_N..=MAX_ENCODER_LOG_N).contains(&log_n) {
            return Err(Error::InvalidRingDegree {
                n: 1usize.checked_shl(log_n).unwrap_or(0),
                min: 1 << MIN_ENCODER_LOG_N,
                max: 1 << MAX_ENCODER_LOG_N,
            });
        }
        let n = 1usize << log_n;
        let two_n = 2 * n;
        let twist = (0..n)
            .map(|i| Complex64::from_polar(1.0, std::f64::consts::PI * i as f64 / n as f64))
            .collect();
        let mut rot_group = Vec::with_capacity(n / 2);
        let mut g = 1usize;
        for _ in 0..n / 2 {
            rot_group.push(g);
            g = g * 5 % two_n;
        }
        let mut planner = FftPlanner::new();
        let forward = (0..=log_n)
            .map(|k| planner.plan_fft_forward(1 << k))
            .collect();
        let inverse = (0..=log_n)
            .map(|k| planner.plan_fft_inverse(1 << k))
            .collect();
        Ok(Encoder {
            log_n,
            twist,
            rot_group,
            forward,
            inverse,
        })
    }

    /// `log2 N`.
    pub fn log_n(&self) -> u32 {
        self.log_n
    }

    /// The ring degree `N`.
    pub fn n(&self) -> usize {
        1 << self.log_n
    }

    /// The largest slot count, `N / 2`.
    pub fn max_slots(&self) -> usize {
        self.n() / 2
    }

    /// Checks `slots` and returns `log2(2·slots)`, the subring degree exponent.
    fn sub_log(&self, slots: usize) -> Result<u32> {
        if slots == 0 || !slots.is_power_of_two() || slots > self.max_slots() {
            return Err(Error::InvalidSlots {
                slots,
                max_slots: self.max_slots(),
            });
        }
        Ok(slots.trailing_zeros() + 1)
    }

    fn check_scale(scale: f64) -> Result<()> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::InvalidScale {
                scale: scale.to_string(),
            });
        }
        Ok(())
    }

    /// Index in the length-`m` evaluation vector (`m(ζ_m^{2t+1})` at index `t`) of slot `j`,
    /// and of its conjugate.
    #[inline]
    fn slot_positions(&self, j: usize, m: usize) -> (usize, usize) {
        let k = self.rot_group[j] & (2 * m - 1);
        ((k - 1) / 2, (2 * m - k - 1) / 2)
    }

    /// Encodes `values` (at most `slots`; missing slots are zero) at `scale` into the `N`
    /// integer coefficients `round(Δ·m)`, where `m` is the real polynomial whose slots are the
    /// values (see the module docs for the slot order and sparse packing).
    ///
    /// # Errors
    /// [`Error::InvalidSlots`] unless `slots` is a power of two in `[1, N/2]`;
    /// [`Error::TooManyValues`] for more values than slots; [`Error::NonFiniteValue`] for a NaN
    /// or infinite value; [`Error::InvalidScale`] unless `scale` is finite and positive;
    /// [`Error::EncodingOverflow`] when a coefficient reaches `2^126` in magnitude.
    pub fn encode(&self, values: &[Complex64], slots: usize, scale: f64) -> Result<Vec<i128>> {
        let (gap, sub) = self.encode_subring(values, slots, scale)?;
        let mut out = vec![0i128; self.n()];
        for (o, c) in out.iter_mut().step_by(gap).zip(sub) {
            *o = c;
        }
        Ok(out)
    }

    /// The non-zero part of [`Encoder::encode`]: `(gap, c)` with `c` the `2·slots`
    /// coefficients at multiples of `gap = N / (2·slots)` (every other coefficient is zero),
    /// so a sparse encoding never builds the `N`-coefficient vector.
    ///
    /// # Errors
    /// As [`Encoder::encode`].
    pub fn encode_subring(
        &self,
        values: &[Complex64],
        slots: usize,
        scale: f64,
    ) -> Result<(usize, Vec<i128>)> {
        self.with_subring(values, slots, scale, |gap, c| Ok((gap, c.to_vec())))
    }

    /// [`Encoder::encode_subring`] handing `(gap, coefficients)` to `f` in a buffer of this
    /// thread's that later encodes reuse (with the FFT's work space): at `N = 2^16` a dense
    /// encode otherwise maps 2 MiB of fresh memory, a page fault every 4 KiB.
    pub(crate) fn with_subring<R>(
        &self,
        values: &[Complex64],
        slots: usize,
        scale: f64,
        f: impl FnOnce(usize, &[i128]) -> Result<R>,
    ) -> Result<R> {
        let sub_log = self.sub_log(slots)?;
        Self::check_scale(scale)?;
        if values.len() > slots {
            return Err(Error::TooManyValues {
                got: values.len(),
                slots,
            });
        }
        if let Some(index) = values
            .iter()
            .position(|v| !(v.re.is_finite() && v.im.is_finite()))
        {
            return Err(Error::NonFiniteValue { index });
        }
        let m = 1usize << sub_log;
        let gap = self.n() / m;
        // Taken out of the thread's slot for the duration (a nested encode on this thread,
        // e.g. while `f` waits for parallel work, finds it empty and allocates).
        let mut scratch = SCRATCH.with(|c| std::mem::take(&mut *c.borrow_mut()));
        let result = self.subring_into(values, m, gap, scale, sub_log, &mut scratch);
        let result = result.and_then(|()| f(gap, &scratch.coeffs));
        // The buffers held the values: cleared before they are kept.
        scratch.buf.fill(Complex64::new(0.0, 0.0));
        scratch.fft.fill(Complex64::new(0.0, 0.0));
        scratch.coeffs.fill(0);
        SCRATCH.with(|c| *c.borrow_mut() = scratch);
        result
    }

    /// The FFT and rounding of [`Encoder::with_subring`] into `scratch.coeffs` (`m` entries).
    fn subring_into(
        &self,
        values: &[Complex64],
        m: usize,
        gap: usize,
        scale: f64,
        sub_log: u32,
        scratch: &mut Scratch,
    ) -> Result<()> {
        let buf = &mut scratch.buf;
        buf.clear();
        buf.resize(m, Complex64::new(0.0, 0.0));
        for (j, &v) in values.iter().enumerate() {
            let (pos, neg) = self.slot_positions(j, m);
            buf[pos] = v;
            buf[neg] = v.conj();
        }
        // c'_i = (1/m) Σ_t w_t ω^{-it}; c_i = c'_i ζ_m^{-i}.
        let fft = &self.forward[sub_log as usize];
        scratch
            .fft
            .resize(fft.get_inplace_scratch_len(), Complex64::new(0.0, 0.0));
        fft.process_with_scratch(buf, &mut scratch.fft);
        let factor = scale / m as f64;
        let bound = 2f64.powi(MAX_COEFF_BITS as i32);
        let out = &mut scratch.coeffs;
        out.clear();
        out.reserve(m);
        for (i, c) in buf.iter().enumerate() {
            let x = (c * self.twist[i * gap].conj()).re * factor;
            let r = x.round();
            if r.is_nan() || r.abs() >= bound {
                return Err(Error::EncodingOverflow {
                    index: i * gap,
                    log2_magnitude: if r.is_finite() {
                        r.abs().log2().floor() as u32
                    } else {
                        u32::MAX
                    },
                    max_bits: MAX_COEFF_BITS,
                });
            }
            // Through i64 when it fits: the direct float-to-i128 conversion is a slow
            // library call.
            out.push(if r.abs() < I64_BOUND {
                i128::from(r as i64)
            } else {
                r as i128
            });
        }
        Ok(())
    }

    /// Decodes `N` coefficients (centred representatives as `f64`) at `scale` into `slots`
    /// complex values: slot `j` is `m(ζ^{5^j})/Δ` evaluated on the subring part of `m`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless there are `N` coefficients; [`Error::InvalidSlots`],
    /// [`Error::InvalidScale`] as for [`Encoder::encode`]; [`Error::NonFiniteValue`] for a NaN
    /// or infinite coefficient.
    pub fn decode(&self, coeffs: &[f64], slots: usize, scale: f64) -> Result<Vec<Complex64>> {
        if coeffs.len() != self.n() {
            return Err(Error::LengthMismatch {
                what: "coefficients to decode",
                expected: self.n(),
                got: coeffs.len(),
            });
        }
        let sub_log = self.sub_log(slots)?;
        Self::check_scale(scale)?;
        let m = 1usize << sub_log;
        let gap = self.n() / m;
        let inv_scale = 1.0 / scale;
        let mut buf = Vec::with_capacity(m);
        for i in 0..m {
            let c = coeffs[i * gap];
            if !c.is_finite() {
                return Err(Error::NonFiniteValue { index: i * gap });
            }
            buf.push(self.twist[i * gap] * (c * inv_scale));
        }
        // evals[t] = Σ_i c'_i ω^{it} = m(ζ_m^{2t+1}).
        self.inverse[sub_log as usize].process(&mut buf);
        Ok((0..slots)
            .map(|j| buf[self.slot_positions(j, m).0])
            .collect())
    }

    /// [`Encoder::encode`] for real values (imaginary parts zero).
    ///
    /// # Errors
    /// As [`Encoder::encode`].
    pub fn encode_real(&self, values: &[f64], slots: usize, scale: f64) -> Result<Vec<i128>> {
        let complex: Vec<Complex64> = values.iter().map(|&x| Complex64::new(x, 0.0)).collect();
        self.encode(&complex, slots, scale)
    }

    /// [`Encoder::decode`], keeping the real parts.
    ///
    /// # Errors
    /// As [`Encoder::decode`].
    pub fn decode_real(&self, coeffs: &[f64], slots: usize, scale: f64) -> Result<Vec<f64>> {
        Ok(self
            .decode(coeffs, slots, scale)?
            .into_iter()
            .map(|z| z.re)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::{RngCore, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    const DELTA: f64 = 1_099_511_627_776.0; // 2^40

    fn uniform(rng: &mut ChaCha20Rng) -> f64 {
        // Uniform in [-1, 1].
        (rng.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    fn random_values(rng: &mut ChaCha20Rng, count: usize) -> Vec<Complex64> {
        (0..count)
            .map(|_| Complex64::new(uniform(rng), uniform(rng)))
            .collect()
    }

    fn to_f64(c: &[i128]) -> Vec<f64> {
        c.iter().map(|&x| x as f64).collect()
    }

    /// `X → X^g` on a negacyclic coefficient vector: `c_i X^i ↦ ±c_i X^{ig mod N}`.
    fn automorphism(coeffs: &[i128], g: usize) -> Vec<i128> {
        let n = coeffs.len();
        let mut out = vec![0i128; n];
        for (i, &c) in coeffs.iter().enumerate() {
            let e = i * g % (2 * n);
            if e < n {
                out[e] += c;
            } else {
                out[e - n] -= c;
            }
        }
        out
    }

    /// Galois element of a left rotation by `k` (any sign): `5^(k mod N/2) mod 2N`.
    fn galois_for_rotation(n: usize, k: i64) -> usize {
        let order = (n / 2) as i64;
        let e = k.rem_euclid(order) as u32;
        let mut g = 1usize;
        for _ in 0..e {
            g = g * 5 % (2 * n);
        }
        g
    }

    /// Naive O(N²) oracle: slot j = Σ_i c_i ζ^{i·5^j} / Δ, ζ = e^{iπ/N}.
    fn naive_decode(coeffs: &[f64], slots: usize, scale: f64) -> Vec<Complex64> {
        let n = coeffs.len();
        let mut g = 1usize;
        let mut out = Vec::with_capacity(slots);
        for _ in 0..slots {
            let mut acc = Complex64::new(0.0, 0.0);
            for (i, &c) in coeffs.iter().enumerate() {
                let e = (i * g) % (2 * n);
                let angle = std::f64::consts::PI * e as f64 / n as f64;
                acc += Complex64::from_polar(c, angle);
            }
            out.push(acc / scale);
            g = g * 5 % (2 * n);
        }
        out
    }

    fn max_err(a: &[Complex64], b: &[Complex64]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).norm())
            .fold(0.0, f64::max)
    }

    /// The per-thread work space is reused across sizes, after errors, and from many threads
    /// at once (a nested use finds it taken and allocates): every encode equals a fresh one.
    #[test]
    fn reused_work_space_gives_the_same_encodings() {
        use rayon::prelude::*;
        let enc = Encoder::new(10).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let cases: Vec<(usize, Vec<Complex64>)> = [512usize, 4, 512, 64, 1, 256]
            .iter()
            .map(|&s| (s, random_values(&mut rng, s)))
            .collect();
        let first: Vec<Vec<i128>> = cases
            .iter()
            .map(|(s, z)| enc.encode(z, *s, DELTA).unwrap())
            .collect();
        // An overflow in between leaves nothing behind.
        assert!(enc
            .encode(&[Complex64::new(1e30, 0.0)], 2, 2f64.powi(120))
            .is_err());
        for ((s, z), want) in cases.iter().zip(&first) {
            assert_eq!(&enc.encode(z, *s, DELTA).unwrap(), want);
            let (gap, sub) = enc.encode_subring(z, *s, DELTA).unwrap();
            assert_eq!(gap, enc.n() / (2 * s));
            assert!(want.iter().step_by(gap).eq(sub.iter()));
        }
        let parallel: Vec<Vec<i128>> = (0..48)
            .into_par_iter()
            .map(|i| {
                let (s, z) = &cases[i % cases.len()];
                enc.encode(z, *s, DELTA).unwrap()
            })
            .collect();
        for (i, got) in parallel.iter().enumerate() {
            assert_eq!(got, &first[i % cases.len()]);
        }
    }

    #[test]
    fn round_trip_precision_full_and_sparse() {
        // Threshold 2^-30 relative (to max|z|, values in the unit square). Derivation: rounding
        // adds e_i ∈ [-1/2, 1/2] (variance 1/12) to each of the N' = 2·slots coefficients; a
        // slot's error is Σ e_i·(unit root)/Δ with standard deviation sqrt(N'/12)/Δ, and the
        // largest of N'/2 slots is about 4.5 of those: at N' = 2^16, 4.5·74/2^40 ≈ 2^-31.6
        // absolute, ≈ 2^-32 relative. Measured: 2^-32.6 at N = 2^16 full, 2^-35.9 at N = 2^10
        // full, below 2^-39 for 8 slots.
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for log_n in [10u32, 12, 14, 16] {
            let enc = Encoder::new(log_n).expect("encoder");
            let full = enc.max_slots();
            for slots in [full, full / 4, 8, 1] {
                let z = random_values(&mut rng, slots);
                let coeffs = enc.encode(&z, slots, DELTA).expect("encode");
                let back = enc.decode(&to_f64(&coeffs), slots, DELTA).expect("decode");
                let zmax = z.iter().map(|v| v.norm()).fold(0.0, f64::max);
                let rel = max_err(&z, &back) / zmax;
                assert!(
                    rel < 2f64.powi(-30),
                    "log_n={log_n} slots={slots}: relative error 2^{:.1}",
                    rel.log2()
                );
            }
        }
    }

    #[test]
    fn sparse_encoding_lives_in_the_subring() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let enc = Encoder::new(10).expect("encoder");
        for slots in [1usize, 2, 16, 128, 512] {
            let gap = enc.n() / (2 * slots);
            let z = random_values(&mut rng, slots);
            let coeffs = enc.encode(&z, slots, DELTA).expect("encode");
            for (i, &c) in coeffs.iter().enumerate() {
                if i % gap != 0 {
                    assert_eq!(c, 0, "slots={slots}: coefficient {i} off the subring");
                }
            }
            // The full N/2 slots hold the sparse values repeated with period `slots`.
            let full = enc
                .decode(&to_f64(&coeffs), enc.max_slots(), DELTA)
                .expect("full");
            for (j, v) in full.iter().enumerate() {
                assert!((v - z[j % slots]).norm() < 1e-9, "slots={slots} j={j}");
            }
        }
    }

    #[test]
    fn known_answers_at_n8() {
        // N = 8, ζ = e^{iπ/8}; slot exponents 5^j mod 16 = 1, 5, 9, 13.
        let enc = Encoder::new(3).expect("encoder");
        let zeta = |e: f64| Complex64::from_polar(1.0, std::f64::consts::PI * e / 8.0);
        // m(X) = X decodes to (ζ, ζ^5, ζ^9, ζ^13).
        let x = [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let got = enc.decode(&x, 4, 1.0).expect("decode");
        let want = [zeta(1.0), zeta(5.0), zeta(9.0), zeta(13.0)];
        assert!(max_err(&got, &want) < 1e-12, "{got:?}");
        // m(X) = X^3 decodes to (ζ^3, ζ^15, ζ^27 = ζ^11, ζ^39 = ζ^7).
        let x3 = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let got = enc.decode(&x3, 4, 1.0).expect("decode");
        let want = [zeta(3.0), zeta(15.0), zeta(11.0), zeta(7.0)];
        assert!(max_err(&got, &want) < 1e-12, "{got:?}");
        // The all-ones vector is the constant polynomial Δ.
        let ones = [Complex64::new(1.0, 0.0); 4];
        assert_eq!(
            enc.encode(&ones, 4, 64.0).expect("encode"),
            [64, 0, 0, 0, 0, 0, 0, 0]
        );
        // X^4 evaluates to ζ^{4·5^j} = e^{iπ·5^j/2} = i in every slot (5^j ≡ 1 mod 4), so
        // (i, i, i, i) ↦ Δ·X^4.
        let is = [Complex64::new(0.0, 1.0); 4];
        assert_eq!(
            enc.encode(&is, 4, 64.0).expect("encode"),
            [0, 0, 0, 0, 64, 0, 0, 0]
        );
        // One slot at N = 8: the subring Z[X^4]/(X^8+1), a + bi ↦ Δ(a + b·X^4).
        let one = [Complex64::new(0.75, -0.5)];
        assert_eq!(
            enc.encode(&one, 1, 64.0).expect("encode"),
            [48, 0, 0, 0, -32, 0, 0, 0]
        );
    }

    #[test]
    fn fft_agrees_with_naive_oracle() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        for log_n in [3u32, 5, 8] {
            let enc = Encoder::new(log_n).expect("encoder");
            let n = enc.n();
            // Decode: random integer coefficients, FFT vs O(N²) evaluation.
            let coeffs: Vec<f64> = (0..n).map(|_| (uniform(&mut rng) * 1e6).round()).collect();
            let fast = enc.decode(&coeffs, n / 2, 1e3).expect("decode");
            let slow = naive_decode(&coeffs, n / 2, 1e3);
            assert!(max_err(&fast, &slow) < 1e-6, "log_n={log_n}");
            // Encode: the oracle's evaluation of the encoded polynomial gives the values back.
            let z = random_values(&mut rng, n / 2);
            let enc_coeffs = enc.encode(&z, n / 2, DELTA).expect("encode");
            let slow = naive_decode(&to_f64(&enc_coeffs), n / 2, DELTA);
            assert!(max_err(&z, &slow) < 1e-9, "log_n={log_n}");
        }
    }

    #[test]
    fn automorphism_5k_rotates_left_and_minus_one_conjugates() {
        let mut rng = ChaCha20Rng::seed_from_u64(10);
        for log_n in [4u32, 10, 12] {
            let enc = Encoder::new(log_n).expect("encoder");
            let n = enc.n();
            for slots in [n / 2, n / 8, 4, 2, 1].into_iter().filter(|&s| s >= 1) {
                let z = random_values(&mut rng, slots);
                let coeffs = enc.encode(&z, slots, DELTA).expect("encode");
                for k in [1i64, 3, -1, -5, slots as i64 + 2, 1000] {
                    let g = galois_for_rotation(n, k);
                    let rotated = automorphism(&coeffs, g);
                    let got = enc.decode(&to_f64(&rotated), slots, DELTA).expect("decode");
                    let s = slots as i64;
                    let want: Vec<Complex64> =
                        (0..s).map(|j| z[(j + k).rem_euclid(s) as usize]).collect();
                    assert!(
                        max_err(&got, &want) < 1e-9,
                        "log_n={log_n} slots={slots} k={k}"
                    );
                }
                let conj = automorphism(&coeffs, 2 * n - 1);
                let got = enc.decode(&to_f64(&conj), slots, DELTA).expect("decode");
                let want: Vec<Complex64> = z.iter().map(|v| v.conj()).collect();
                assert!(max_err(&got, &want) < 1e-9, "conjugation log_n={log_n}");
            }
        }
    }

    #[test]
    fn real_helpers_round_trip() {
        let enc = Encoder::new(11).expect("encoder");
        let x: Vec<f64> = (0..100).map(|i| (i as f64 / 50.0) - 1.0).collect();
        let coeffs = enc.encode_real(&x, 128, DELTA).expect("encode");
        let back = enc
            .decode_real(&to_f64(&coeffs), 128, DELTA)
            .expect("decode");
        assert_eq!(back.len(), 128);
        for (i, b) in back.iter().enumerate() {
            let want = x.get(i).copied().unwrap_or(0.0);
            assert!((b - want).abs() < 1e-9, "slot {i}");
        }
        // Real values give a polynomial invariant under conjugation X → X^{-1}.
        let conj = automorphism(&coeffs, 2 * enc.n() - 1);
        let again = enc.decode(&to_f64(&conj), 128, DELTA).expect("decode");
        assert!(again.iter().all(|v| v.im.abs() < 1e-9));
    }

    #[test]
    fn bad_inputs_give_their_variants() {
        let enc = Encoder::new(10).expect("encoder");
        let one = [Complex64::new(1.0, 0.0)];
        for slots in [0usize, 3, 1024, 513] {
            assert_eq!(
                enc.encode(&one, slots, DELTA),
                Err(Error::InvalidSlots {
                    slots,
                    max_slots: 512
                })
            );
            assert!(matches!(
                enc.decode(&[0.0; 1024], slots, DELTA),
                Err(Error::InvalidSlots { .. })
            ));
        }
        assert_eq!(
            enc.encode(&[one[0]; 5], 4, DELTA),
            Err(Error::TooManyValues { got: 5, slots: 4 })
        );
        let bad = [Complex64::new(0.0, 0.0), Complex64::new(f64::NAN, 0.0)];
        assert_eq!(
            enc.encode(&bad, 2, DELTA),
            Err(Error::NonFiniteValue { index: 1 })
        );
        let bad = [Complex64::new(0.0, f64::INFINITY)];
        assert_eq!(
            enc.encode(&bad, 2, DELTA),
            Err(Error::NonFiniteValue { index: 0 })
        );
        for scale in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                enc.encode(&one, 1, scale),
                Err(Error::InvalidScale { .. })
            ));
        }
        let huge = [Complex64::new(1e30, 0.0)];
        let e = enc.encode(&huge, 1, 2f64.powi(100)).unwrap_err();
        assert!(matches!(e, Error::EncodingOverflow { max_bits: 126, .. }));
        assert!(e.to_string().contains("is about 2^199,"), "{e}");
        // A product overflowing f64 is reported as such, not as a power of two.
        let e = enc.encode(&huge, 1, f64::MAX).unwrap_err();
        assert!(e.to_string().contains("infinite or NaN"), "{e}");
        assert_eq!(
            enc.decode(&[0.0; 7], 4, DELTA),
            Err(Error::LengthMismatch {
                what: "coefficients to decode",
                expected: 1024,
                got: 7
            })
        );
        let mut coeffs = vec![0.0; 1024];
        coeffs[0] = f64::NAN;
        assert_eq!(
            enc.decode(&coeffs, 512, DELTA),
            Err(Error::NonFiniteValue { index: 0 })
        );
        assert!(matches!(
            Encoder::new(0),
            Err(Error::InvalidRingDegree { .. })
        ));
        assert!(matches!(
            Encoder::new(18),
            Err(Error::InvalidRingDegree { .. })
        ));
    }
}
