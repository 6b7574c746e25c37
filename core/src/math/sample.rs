//! Sampling from a cryptographic RNG: uniform residues, ternary and sparse-ternary secrets,
//! and a bounded discrete Gaussian for errors.
//!
//! [`Csprng`] is ChaCha20 (`rand_chacha`, 20 rounds) seeded from the operating system
//! ([`Csprng::from_os`]). [`Csprng::from_seed`] exists only for reproducible tests and
//! known-answer vectors: a fixed seed makes every "secret" predictable.
//!
//! Samplers write into caller buffers and never allocate per coefficient. Buffers that end up
//! holding secrets are the CKKS layer's to zeroize; the generator zeroizes its own state on
//! drop (see [`Csprng`]).
//!
//! # Example
//! ```
//! use helrm_core::math::sample::Csprng;
//! use helrm_core::math::modarith::Modulus;
//! let mut rng = Csprng::from_os()?;
//! let q = Modulus::new(0x3fff_ffff_ffe8_0001)?;
//! let mut a = vec![0u64; 1024];
//! rng.uniform_mod(&q, &mut a);
//! assert!(a.iter().all(|&x| x < q.value()));
//! let mut s = vec![0i64; 1024];
//! rng.sparse_ternary(64, &mut s)?;
//! assert_eq!(s.iter().filter(|&&x| x != 0).count(), 64);
//! let mut e = vec![0i64; 1024];
//! rng.gaussian(3.2, 19, &mut e)?;
//! assert!(e.iter().all(|x| x.abs() <= 19));
//! # Ok::<(), helrm_core::Error>(())
//! ```

use super::modarith::Modulus;
use super::rns::RnsBasis;
use crate::error::{Error, Result};
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};

/// The standard deviation of RLWE errors in the HE standard (and in HE-LRM's parameters).
pub const DEFAULT_SIGMA: f64 = 3.2;
/// The default bound `⌊6σ⌋` on Gaussian samples.
pub const DEFAULT_BOUND: u32 = 19;
/// Largest accepted Gaussian bound (the cumulative table has `2·bound` entries).
pub const MAX_GAUSSIAN_BOUND: u32 = 1 << 12;

/// ChaCha20 CSPRNG.
///
/// On drop the ChaCha state (key, counter and buffered output block) is overwritten with the
/// state of an all-zero seed. `rand_chacha` 0.9 has no `zeroize` support of its own, so this is
/// done by assignment, kept from being optimised away with [`std::hint::black_box`]; it is a
/// best effort, not a guarantee against copies the compiler may have made while the generator
/// lived (the same caveat the `zeroize` crate states for moved values).
pub struct Csprng {
    rng: ChaCha20Rng,
}

impl std::fmt::Debug for Csprng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Csprng { .. }") // never print the state
    }
}

impl Drop for Csprng {
    fn drop(&mut self) {
        self.rng = ChaCha20Rng::from_seed([0u8; 32]);
        std::hint::black_box(&mut self.rng);
    }
}

impl RngCore for Csprng {
    fn next_u32(&mut self) -> u32 {
        self.rng.next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.rng.fill_bytes(dst);
    }
}

impl CryptoRng for Csprng {}

impl Csprng {
    /// A generator seeded with 32 bytes from the operating system (`getrandom`).
    ///
    /// # Errors
    /// [`Error::Entropy`] if the operating system cannot supply randomness.
    pub fn from_os() -> Result<Self> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| Error::Entropy(e.to_string()))?;
        let rng = Self::from_seed(seed);
        zeroize::Zeroize::zeroize(&mut seed);
        Ok(rng)
    }

    /// A generator from a fixed seed. **Only for tests and known-answer vectors**: anything
    /// sampled from it is as predictable as the seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            rng: ChaCha20Rng::from_seed(seed),
        }
    }

    /// A uniform integer in `[0, bound]` (rejection sampling on the smallest covering power of
    /// two: unbiased, expected fewer than two draws).
    pub fn uniform_inclusive(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        let mask = u64::MAX >> bound.leading_zeros();
        loop {
            let x = self.rng.next_u64() & mask;
            if x <= bound {
                return x;
            }
        }
    }

    /// Fills `out` with independent uniform residues in `[0, q)` (unbiased rejection
    /// sampling: draws of `bits(q)` bits at or above `q` are discarded, fewer than half).
    pub fn uniform_mod(&mut self, q: &Modulus, out: &mut [u64]) {
        let bound = q.value() - 1;
        for x in out.iter_mut() {
            *x = self.uniform_inclusive(bound);
        }
    }

    /// Fills `out` with independent uniform values in `{−1, 0, 1}`.
    ///
    /// Each byte below 255 (= 3·85) of a random word gives `byte mod 3 − 1`, exactly uniform;
    /// the byte 255 is discarded.
    pub fn ternary(&mut self, out: &mut [i64]) {
        let mut word = 0u64;
        let mut left = 0u32;
        for x in out.iter_mut() {
            loop {
                if left == 0 {
                    word = self.rng.next_u64();
                    left = 8;
                }
                let byte = (word & 0xff) as i64;
                word >>= 8;
                left -= 1;
                if byte < 255 {
                    *x = byte % 3 - 1;
                    break;
                }
            }
        }
    }

    /// Fills `out` with a sparse ternary vector of Hamming weight exactly `h`: the support is
    /// a uniformly random `h`-subset of the positions and each non-zero is `±1` independently
    /// and uniformly.
    ///
    /// The subset is drawn with Floyd's algorithm, which is what a partial Fisher–Yates
    /// shuffle of the positions yields (a uniform `h`-subset) but uses `out` itself as the
    /// membership table: no index array, `h` uniform draws.
    ///
    /// # Errors
    /// [`Error::InvalidSampler`] if `h > out.len()`.
    pub fn sparse_ternary(&mut self, h: usize, out: &mut [i64]) -> Result<()> {
        let n = out.len();
        if h > n {
            return Err(Error::InvalidSampler {
                param: "hamming_weight",
                value: h.to_string(),
                expected: "at most the ring degree",
            });
        }
        out.fill(0);
        let mut signs = 0u64;
        let mut signs_left = 0u32;
        for j in n - h..n {
            let t = self.uniform_inclusive(j as u64) as usize;
            let pos = if out[t] == 0 { t } else { j };
            if signs_left == 0 {
                signs = self.rng.next_u64();
                signs_left = 64;
            }
            out[pos] = if signs & 1 == 1 { 1 } else { -1 };
            signs >>= 1;
            signs_left -= 1;
        }
        Ok(())
    }

    /// Fills `out` with discrete Gaussian samples of parameter `sigma`, truncated to
    /// `[−bound, bound]` (see [`DiscreteGaussian`]). Builds the table each call (a few
    /// microseconds for the default bound); keep a [`DiscreteGaussian`] to reuse it.
    ///
    /// # Errors
    /// [`Error::InvalidSampler`] for `sigma` not finite and positive, or `bound` outside
    /// `[1, MAX_GAUSSIAN_BOUND]`.
    pub fn gaussian(&mut self, sigma: f64, bound: u32, out: &mut [i64]) -> Result<()> {
        DiscreteGaussian::new(sigma, bound)?.sample(self, out);
        Ok(())
    }
}

/// A discrete Gaussian `D_{Z,σ}` truncated to `[−B, B]`, sampled by inversion of a 64-bit
/// cumulative distribution table (CDT).
///
/// The weights `ρ(x) = exp(−x²/(2σ²))` are computed in double-double arithmetic (about 100
/// bits) and normalised over `[−B, B]`; the table holds `T_v = round(2^64 · P[X ≤ v])` for
/// `v = −B … B−1`. A sample draws one uniform 64-bit `r` and returns `−B + #{v : r ≥ T_v}`,
/// a full scan of the table with no data-dependent branch (constant time in the value). Each
/// value's probability is therefore within `2^-64` of the truncated Gaussian's, a statistical
/// distance of at most `(2B + 1)·2^-64` (≈ 2^-58.7 for `B = 19`). Weights below `e^-64`
/// relative to `ρ(0)` (only when `B > 11.3σ`) are taken as zero, far under that resolution.
///
/// # Example
/// ```
/// use helrm_core::math::sample::{Csprng, DiscreteGaussian};
/// let g = DiscreteGaussian::new(3.2, 19)?;
/// let mut rng = Csprng::from_seed([7; 32]); // a test seed
/// let mut e = [0i64; 8];
/// g.sample(&mut rng, &mut e);
/// assert!(e.iter().all(|x| x.abs() <= 19));
/// # Ok::<(), helrm_core::Error>(())
/// ```
///
/// # References
/// C. Peikert, "An efficient and parallel Gaussian sampler for lattices", CRYPTO 2010 (CDT
/// inversion); HE standard (homomorphicencryption.org, 2018) for σ = 3.2 and the 6σ bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscreteGaussian {
    bound: u32,
    /// T_v for v = −B … B−1.
    cdt: Vec<u64>,
}

impl DiscreteGaussian {
    /// Builds the table for parameter `sigma` and bound `bound`.
    ///
    /// # Errors
    /// [`Error::InvalidSampler`] for `sigma` not finite and positive, or `bound` outside
    /// `[1, MAX_GAUSSIAN_BOUND]`.
    pub fn new(sigma: f64, bound: u32) -> Result<Self> {
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(Error::InvalidSampler {
                param: "sigma",
                value: sigma.to_string(),
                expected: "a finite number above 0",
            });
        }
        if !(1..=MAX_GAUSSIAN_BOUND).contains(&bound) {
            return Err(Error::InvalidSampler {
                param: "bound",
                value: bound.to_string(),
                expected: "an integer in [1, 4096]",
            });
        }
        // ρ(|x|) for x = 0..=B in double-double.
        let two_s2 = Dd::from(sigma).mul(Dd::from(sigma)).mul(Dd::from(2.0));
        let weights: Vec<Dd> = (0..=bound)
            .map(|x| {
                let a = Dd::from(f64::from(x) * f64::from(x)).div(two_s2);
                if a.hi > 64.0 {
                    Dd::from(0.0)
                } else {
                    Dd::from(1.0).div(a.exp_small())
                }
            })
            .collect();
        let b = bound as usize;
        let mut total = weights[0];
        for w in &weights[1..] {
            total = total.add(w.mul(Dd::from(2.0)));
        }
        let mut cdt = Vec::with_capacity(2 * b);
        let mut cum = Dd::from(0.0);
        let two64 = Dd::from(18_446_744_073_709_551_616.0);
        for v in -(bound as i64)..bound as i64 {
            cum = cum.add(weights[v.unsigned_abs() as usize]);
            cdt.push(cum.div(total).mul(two64).round_to_u64());
        }
        Ok(Self { bound, cdt })
    }

    /// The bound `B`.
    pub fn bound(&self) -> u32 {
        self.bound
    }

    /// The cumulative table `T_v = round(2^64·P[X ≤ v])`, `v = −B … B−1` (for inspection).
    pub fn table(&self) -> &[u64] {
        &self.cdt
    }

    /// Fills `out` with independent samples.
    pub fn sample(&self, rng: &mut Csprng, out: &mut [i64]) {
        let b = i64::from(self.bound);
        for x in out.iter_mut() {
            let r = rng.next_u64();
            let count: i64 = self.cdt.iter().map(|&t| i64::from(r >= t)).sum();
            *x = count - b;
        }
    }
}

/// Writes small signed coefficients into RNS limbs: `out[i][k] = coeffs[k] mod q_i`.
///
/// # Errors
/// [`Error::LengthMismatch`] unless `out` has one limb per prime of `basis`, each of
/// `coeffs.len()` entries.
pub fn lift_signed<O: AsMut<[u64]>>(coeffs: &[i64], basis: &RnsBasis, out: &mut [O]) -> Result<()> {
    if out.len() != basis.len() {
        return Err(Error::LengthMismatch {
            what: "output limbs",
            expected: basis.len(),
            got: out.len(),
        });
    }
    for (limb, q) in out.iter_mut().zip(basis.moduli()) {
        let limb = limb.as_mut();
        if limb.len() != coeffs.len() {
            return Err(Error::LengthMismatch {
                what: "limb length",
                expected: coeffs.len(),
                got: limb.len(),
            });
        }
        for (o, &c) in limb.iter_mut().zip(coeffs) {
            *o = q.reduce_i64(c);
        }
    }
    Ok(())
}

/// Double-double arithmetic (an unevaluated sum `hi + lo`, about 106 bits of precision), only
/// as much as the Gaussian table needs. Error-free transformations after Dekker and Knuth;
/// `mul_add` is a correctly rounded fused multiply-add.
#[derive(Debug, Clone, Copy)]
struct Dd {
    hi: f64,
    lo: f64,
}

impl From<f64> for Dd {
    fn from(hi: f64) -> Self {
        Self { hi, lo: 0.0 }
    }
}

impl Dd {
    fn two_sum(a: f64, b: f64) -> Self {
        let s = a + b;
        let bb = s - a;
        Self {
            hi: s,
            lo: (a - (s - bb)) + (b - bb),
        }
    }

    fn quick(hi: f64, lo: f64) -> Self {
        let s = hi + lo;
        Self {
            hi: s,
            lo: lo - (s - hi),
        }
    }

    fn add(self, o: Self) -> Self {
        let s = Self::two_sum(self.hi, o.hi);
        let t = Self::two_sum(self.lo, o.lo);
        let r = Self::quick(s.hi, s.lo + t.hi);
        Self::quick(r.hi, r.lo + t.lo)
    }

    fn mul(self, o: Self) -> Self {
        let p = self.hi * o.hi;
        let e = self.hi.mul_add(o.hi, -p);
        Self::quick(p, e + (self.hi * o.lo + self.lo * o.hi))
    }

    fn div(self, o: Self) -> Self {
        // Three rounds of long division by the leading part.
        let q1 = self.hi / o.hi;
        let r = self.add(o.mul(Self::from(-q1)));
        let q2 = r.hi / o.hi;
        let r = r.add(o.mul(Self::from(-q2)));
        let q3 = r.hi / o.hi;
        Self::quick(q1, q2).add(Self::from(q3))
    }

    /// `e^a` for `0 ≤ a ≤ 64` by its Taylor series (positive terms: no cancellation).
    fn exp_small(self) -> Self {
        let mut sum = Self::from(1.0);
        let mut term = Self::from(1.0);
        for k in 1..400 {
            term = term.mul(self).div(Self::from(f64::from(k)));
            sum = sum.add(term);
            if term.hi < sum.hi * 1e-34 {
                break;
            }
        }
        sum
    }

    /// The nearest integer in `[0, 2^64 − 1]` (values are in `[0, 2^64]`).
    fn round_to_u64(self) -> u64 {
        let h = self.hi.round();
        let rest = ((self.hi - h) + self.lo).round();
        let v = h as i128 + rest as i128;
        v.clamp(0, i128::from(u64::MAX)) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_double_exp_known_answers() {
        // e^1 and e^-10 to well beyond f64 precision.
        let e = Dd::from(1.0).exp_small();
        assert_eq!(e.hi, std::f64::consts::E);
        // e = 2.718281828459045 + 1.4456468917292502e-16 (the double-double of e).
        assert!((e.lo - 1.445_646_891_729_250_2e-16).abs() < 1e-30);
        let inv = Dd::from(1.0).div(Dd::from(10.0).exp_small());
        assert!((inv.hi - 4.539_992_976_248_485e-5).abs() < 1e-20);
        let third = Dd::from(1.0).div(Dd::from(3.0));
        let back = third.mul(Dd::from(3.0));
        assert!(((back.hi - 1.0) + back.lo).abs() < 1e-31);
    }
}
